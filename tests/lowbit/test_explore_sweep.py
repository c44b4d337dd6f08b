"""Sweeps end to end: evaluate stages, failures recorded per point, resume after a kill, the
Dask backend, malformed files, and the report (its browser rendering: test_explore_browser)."""

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from lowbit.explore import Space, Sweep, evaluate, load_sweep, run_sweep, write_report
from lowbit.explore.hardware import HardwareMapError, arch_dict, mac_design
from lowbit.explore.quality import QualityError, accumulator, gemm_quality, mlp_accuracy
from lowbit.explore.sweep import SweepError
from lowbit.golden import formats

HANG_GUARD_S = 600  # a subprocess that takes this long is hung (not a speed check)

TOY = '''
import time
from lowbit.explore import Space, Sweep

def slow(point, metrics):
    time.sleep({sleep})
    return {{"sqnr_x2": 2 * metrics["sqnr_db"]}}

sweep = Sweep(
    name="toy",
    space=Space({{"a_fmt": ["int8", "fp8_e4m3", "mxfp4"], "w_fmt": ["int8", "fp8_e4m3", "mxfp4"],
                 "k": 64, "tokens": 4, "n": 4}},
                where=lambda p: p["w_fmt"] != "fp8_e4m3" or p["a_fmt"] != "mxfp4"),
    stages=("gemm",),
    metrics=(slow,),
    objectives={{"sqnr_db": "max", "max_abs_error": "min"}},
    plots=[("max_abs_error", "sqnr_db", "a_fmt")],
)
'''


def _toy(folder, sleep=0.0) -> Path:
    path = Path(folder) / "toy.py"
    path.write_text(TOY.format(sleep=sleep))
    return path


def _stable(rows):
    """Rows without wall times, for comparing runs."""
    return [{k: v for k, v in r.items() if k != "seconds"} for r in rows]


def test_gemm_quality_ranks_formats_and_is_reproducible():
    q = {f: gemm_quality(f, f, "exact" if f != "int8" else "int32", k=256, tokens=8, n=8)
         for f in ("int8", "fp8_e4m3", "mxfp4")}
    assert q["fp8_e4m3"]["sqnr_db"] > q["mxfp4"]["sqnr_db"] > 0
    assert gemm_quality("mxfp4", "mxfp4", "exact", k=256, tokens=8, n=8) == q["mxfp4"]
    lut = gemm_quality("int8", "lut2", "int32", k=256, tokens=8, n=8)
    assert 0 < lut["sqnr_db"] < q["int8"]["sqnr_db"]


def test_mlp_accuracy_on_digits():
    int8 = mlp_accuracy("int8", "int8", "int32")
    assert int8["mlp_accuracy_fp64"] > 0.9
    assert int8["mlp_accuracy"] >= int8["mlp_accuracy_fp64"] - 0.03
    assert mlp_accuracy("mxfp4", "mxfp4", "fp32")["mlp_accuracy"] > 0.5


def test_accumulators_and_hardware_mapping():
    e4 = formats.get("fp8_e4m3")
    assert accumulator("fp_e8m10", e4, e4).fmt.name == "fp_e8m10"
    with pytest.raises(QualityError, match="accumulator must be one of"):
        accumulator("int8x", e4, e4)
    assert mac_design({"a_fmt": "int8"}) == ("IntMac", {"a": "int8", "b": "int8",
                                                        "acc_bits": "32"}, 1)
    assert mac_design({"a_fmt": "mxfp4"})[0::2] == ("MxDotUnit", 32)
    assert mac_design({"a_fmt": "int8", "w_fmt": "lut2"})[0] == "LutTensorCore"
    with pytest.raises(HardwareMapError, match="a_fmt == w_fmt"):
        mac_design({"a_fmt": "mxfp4", "w_fmt": "mxint8"})
    assert arch_dict({"a_fmt": "fp8_e4m3", "rows": 8})["engine"]["rows"] == 8


def test_failing_point_is_recorded_and_the_sweep_finishes(tmp_path):
    run = run_sweep(_toy(tmp_path), out=tmp_path, workers=2, progress=False)
    rows = run.rows()
    assert len(rows) == 8 and run.evaluated == 8
    bad = [r for r in rows if r["status"] == "error"]
    assert {(r["a_fmt"], r["w_fmt"]) for r in bad} == {
        ("int8", "mxfp4"), ("fp8_e4m3", "mxfp4"), ("mxfp4", "int8")}
    assert all("must both be block formats or both scalar" in r["error"] for r in bad), bad[0]["error"]
    ok = [r for r in rows if r["status"] == "ok"]
    assert all(r["sqnr_x2"] == 2 * r["sqnr_db"] for r in ok)
    again = run_sweep(_toy(tmp_path), out=tmp_path, workers=2, progress=False)
    assert again.evaluated == 0 and again.skipped == 8


def test_killed_sweep_resumes_with_identical_rows(tmp_path):
    """The CLI killed (SIGKILL) after a few points are stored, rerun: only the missing points
    run, and the rows equal those of an uninterrupted run."""
    killed, clean = tmp_path / "killed", tmp_path / "clean"
    killed.mkdir()
    sweep_file = _toy(killed, sleep=0.7)
    cmd = [sys.executable, "-m", "lowbit.cli", "sweep", str(sweep_file), "--out", str(killed),
           "--workers", "1"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    db = killed / "toy.sqlite"
    deadline = time.monotonic() + HANG_GUARD_S
    stored = 0
    while stored < 3 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.2)
        if db.exists():
            with sqlite3.connect(db) as con:
                try:
                    stored = con.execute("SELECT COUNT(*) FROM points").fetchone()[0]
                except sqlite3.OperationalError:
                    stored = 0
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert 3 <= stored < 8, f"{stored} points stored when the sweep was killed"
    resumed = run_sweep(sweep_file, out=killed, workers=2, progress=False)
    with sqlite3.connect(db) as con:
        assert con.execute("SELECT COUNT(*) FROM points").fetchone()[0] == 8
    assert resumed.skipped >= stored and resumed.evaluated == 8 - resumed.skipped
    clean.mkdir()
    reference = run_sweep(_toy(clean, sleep=0.0), out=clean, workers=2, progress=False)
    assert _stable(resumed.rows()) == _stable(reference.rows())


def test_dask_local_cluster_gives_the_rows_of_the_local_pool(tmp_path):
    distributed = pytest.importorskip("distributed")
    local, remote = tmp_path / "local", tmp_path / "dask"
    for d in (local, remote):
        d.mkdir()
    sweep_file = _toy(tmp_path)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address=None) as cluster:
        via_dask = run_sweep(sweep_file, out=remote, scheduler=cluster.scheduler_address,
                             progress=False)
    via_pool = run_sweep(sweep_file, out=local, workers=2, progress=False)
    assert via_dask.evaluated == 8
    assert _stable(via_dask.rows()) == _stable(via_pool.rows())


BAD_FILES = [
    ("bad.toml", "[sweep]\nname='x'\nstage=['gemm']\n[axes]\na_fmt='int8'\n",
     "unknown key 'stage'"),
    ("bad.toml", "[sweep]\nname='x'\nstages=['gemm', 'power']\n[axes]\na_fmt='int8'\n",
     "stage must be one of gemm, mlp, area, sim, rtl, not 'power'"),
    ("bad.toml", "[sweep]\nname='x'\n", "needs an [axes] table"),
    ("bad.toml", "[sweep]\nname='x'\n[axes]\nrows=[]\n", "axis rows must have at least one"),
    ("bad.toml", "[sweep\n", "is not valid TOML"),
    ("bad.toml", "[sweep]\n[axes]\na=1\n[objectives]\nsqnr_db='biggest'\narea='min'\n",
     "objective sqnr_db: must be 'min' or 'max'"),
    ("bad.py", "x = 1\n", "must define sweep = lowbit.explore.Sweep"),
    ("bad.py", "import nonexistent_module_xyz\n", "failed to load: ModuleNotFoundError"),
    ("bad.txt", "", "must be .py or .toml"),
]


@pytest.mark.parametrize("name, text, message", BAD_FILES, ids=[m for *_, m in BAD_FILES])
def test_malformed_sweep_file_fails_before_any_work(tmp_path, name, text, message):
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(SweepError, match=message.replace("[", r"\[").replace("(", r"\(")):
        load_sweep(path)


def test_cli_malformed_file_exits_2_with_one_line(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text("[sweep]\nname='x'\nstages=['power']\n[axes]\na_fmt='int8'\n")
    r = subprocess.run([sys.executable, "-m", "lowbit.cli", "sweep", str(path), "--out",
                        str(tmp_path)], capture_output=True, text=True, timeout=HANG_GUARD_S)
    assert r.returncode == 2
    assert r.stderr.count("\n") == 1 and "stage must be one of" in r.stderr
    assert not (tmp_path / "x.sqlite").exists()


def test_report_has_csv_pareto_plots_and_one_html_file(tmp_path):
    run = run_sweep(_toy(tmp_path), out=tmp_path, workers=2, progress=False)
    paths = write_report(run.sweep, run.rows(), tmp_path)
    assert paths["csv"].read_text().splitlines()[0].startswith("a_fmt,w_fmt,k,tokens,n,")
    assert len(paths["pareto_csv"].read_text().splitlines()) >= 2
    assert paths["plot0"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    page = paths["html"].read_text()
    assert page.count("<table>") == 2 and page.count("data:image/png;base64,") == 1
    assert "Pareto front over sqnr_db (max), max_abs_error (min)" in page


def test_evaluate_runs_user_metrics_after_stages():
    point = {"a_fmt": "fp8_e4m3", "k": 64, "tokens": 4, "n": 4}
    out = evaluate(point, ("gemm",), (lambda p, m: {"twice": 2 * m["sqnr_db"]},))
    assert out["twice"] == 2 * out["sqnr_db"] and np.isfinite(out["sqnr_db"])
    with pytest.raises(Exception, match="must return a dict"):
        evaluate(point, ("gemm",), (lambda p, m: 3,))


def test_space_derive_adds_fields_to_every_point():
    space = Space({"format": ["int8", "mxfp4"]},
                  derive=lambda p: {"a_fmt": p["format"], "w_fmt": p["format"]})
    assert space.points()[1] == {"format": "mxfp4", "a_fmt": "mxfp4", "w_fmt": "mxfp4"}
    assert Sweep("s", space, ("gemm",)).name == "s"


@pytest.mark.xdist_group("rtl")
def test_rtl_stage_checks_the_mac_on_verilator():
    """int4 x int4 into int32: golden's random set through the Verilated MAC, bit for bit."""
    out = evaluate({"a_fmt": "int4"}, ("rtl",))
    assert out == {"rtl_check": "pass", "rtl_operations": 2048}
    assert evaluate({"a_fmt": "mxfp4"}, ("rtl",)) == {"rtl_check": "n/a"}


def test_array_area_counts_the_engine_macs_the_cycle_model_counts(monkeypatch):
    """A systolic array has rows x cols PEs of the MAC design, each doing the design's MACs
    per cycle (an MX dot unit: a 32-element block), as ``lowbit.sim`` peaks count them; the
    design here is a small IntMac standing in for a 32-MAC block unit."""
    from lowbit.explore import hardware
    from lowbit.explore.evaluate import area_stage
    monkeypatch.setattr(hardware, "mac_design", lambda point: (
        "IntMac", {"a": "int4", "b": "int4", "acc_bits": "32"}, 32))
    out = area_stage({"a_fmt": "int4", "rows": 2, "cols": 3})
    assert out["array_area_ge"] == round(out["mac_area_ge"] * 6, 1)
    assert out["area_per_mac_ge"] == round(out["mac_area_ge"] / 32, 3)
