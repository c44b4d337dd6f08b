"""The retry policy of external tool runs (lowbit.tool_runs): what counts as killed, what is
retried, what is kept and said."""

import logging
import subprocess
import sys

import pytest

from lowbit.errors import LowbitError
from lowbit.tool_runs import ToolCrashed, killed_by, run_with_retries, signal_in_log


@pytest.mark.parametrize("code, name", [(-7, "SIGBUS"), (-11, "SIGSEGV"), (-9, "SIGKILL"),
                                        (135, "SIGBUS"), (137, "SIGKILL"), (0, None),
                                        (1, None), (2, None), (128, None), (255, None),
                                        (None, None)])
def test_killed_by_reads_negative_and_128_plus_n_statuses(code, name):
    assert killed_by(code) == name


def test_a_real_child_killed_by_sigbus_is_named():
    r = subprocess.run([sys.executable, "-c", "import os, signal; signal.signal(signal.SIGBUS, "
                        "signal.SIG_DFL); os.kill(os.getpid(), signal.SIGBUS)"])
    assert killed_by(r.returncode) == "SIGBUS"


@pytest.mark.parametrize("text, name", [
    ("make: *** [Vtop.mk:52: Vtop__ALL.o] Killed\n", "SIGKILL"),
    ("make[1]: *** [verilated.mk:2: x.o] Segmentation fault (core dumped)\n", "SIGSEGV"),
    ("make: *** [Vtop.mk:52: Vtop__ALL.o] Error 135\n", "SIGBUS"),
    ("g++: fatal error: Killed signal terminated program cc1plus\n", "SIGKILL"),
    ("c++: internal compiler error: Segmentation fault signal terminated program cc1plus\n",
     "SIGSEGV"),
    ("make: *** [Vtop.mk:52: Vtop__ALL.o] Error 1\n", None),
    ("%Error: x.v:3:1: syntax error\nmake: *** [Vtop.mk:52: all] Error 2\n", None),
    ("", None),
])
def test_signal_in_log_finds_recipes_and_compilers_ended_by_a_signal(text, name):
    assert signal_in_log(text) == name


class _Run:
    """A fake tool: returns the given exit statuses in turn, writing ``tool.log`` each time."""

    def __init__(self, log, *codes):
        self.log, self.codes, self.calls = log, list(codes), 0

    def __call__(self, attempt):
        self.calls += 1
        assert attempt == self.calls
        self.log.write_text(f"attempt {attempt}\n")
        return subprocess.CompletedProcess([], self.codes.pop(0))


def test_a_killed_run_is_retried_logged_and_its_log_kept(tmp_path, caplog):
    run = _Run(tmp_path / "tool.log", -7, 0)
    with caplog.at_level(logging.WARNING, "lowbit.tool_runs"):
        r = run_with_retries(run, tool="yosys", what="m.ys", logs=[tmp_path / "tool.log"])
    assert r.returncode == 0 and run.calls == 2
    assert [rec.getMessage() for rec in caplog.records] == [
        "yosys killed by SIGBUS on m.ys (attempt 1 of 3); retrying"]
    assert (tmp_path / "tool.attempt1.log").read_text() == "attempt 1\n"
    assert (tmp_path / "tool.log").read_text() == "attempt 2\n"


def test_a_run_that_fails_normally_is_not_retried(tmp_path, caplog):
    run = _Run(tmp_path / "tool.log", 1, 0)
    r = run_with_retries(run, tool="yosys", what="m.ys", logs=[tmp_path / "tool.log"])
    assert r.returncode == 1 and run.calls == 1 and not caplog.records
    assert not (tmp_path / "tool.attempt1.log").exists()


def test_killed_on_every_attempt_is_one_error_with_the_reason(tmp_path):
    run = _Run(tmp_path / "tool.log", -7, -11, -7)
    with pytest.raises(ToolCrashed) as info:
        run_with_retries(run, tool="yosys", what="m.ys", logs=[tmp_path / "tool.log"])
    err = info.value
    assert isinstance(err, LowbitError) and run.calls == 3
    assert err.reason == "yosys killed by SIGBUS 3 times"
    logs = [tmp_path / f"tool.attempt{k}.log" for k in (1, 2, 3)]
    assert str(err) == (f"yosys killed by SIGBUS 3 times on m.ys (logs: {logs[0]}, {logs[1]}, "
                        f"{logs[2]})")
    assert err.logs == tuple(logs) and all(p.exists() for p in logs)


def test_a_first_result_made_elsewhere_counts_as_attempt_one(tmp_path):
    run = _Run(tmp_path / "tool.log", 0)
    first = subprocess.CompletedProcess([], -9)
    r = run_with_retries(lambda k: run(k - 1), tool="sim", what="shard 0", first=first,
                         attempts=2)
    assert r.returncode == 0 and run.calls == 1
    with pytest.raises(ToolCrashed, match="^sim killed by SIGKILL 1 time on shard 0$"):
        run_with_retries(run, tool="sim", what="shard 0", first=first, attempts=1)


def test_attempts_must_be_positive():
    with pytest.raises(ValueError, match="^attempts must be a positive integer, not 0$"):
        run_with_retries(lambda k: None, tool="t", what="w", attempts=0)
