"""Sweeps end to end: evaluate stages, honest rows (finite or n/a with a reason, failures
naming the field), failures recorded per point, resume after a kill, an edited sweep never
reporting stale rows, the Dask backend, malformed files, and the report (its browser
rendering: test_explore_browser; dying workers, Ctrl-C and concurrent runs:
test_explore_processes)."""

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from lowbit.explore import Space, Sweep, evaluate, left_out, load_sweep, run_sweep, write_report
from lowbit.explore.hardware import HardwareMapError, arch_dict, mac_design
from lowbit.explore.metric import NOTES
from lowbit.explore.quality import QualityError, accumulator, gemm_quality, mlp_accuracy
from lowbit.explore.sweep import SweepError
from lowbit.golden import formats, tensors

HANG_GUARD_S = 600  # a subprocess that takes this long is hung (not a speed check)

TOY = '''
import time
from lowbit.explore import Space, Sweep

def slow(point, metrics):
    time.sleep({sleep})
    return {{"sqnr_x2": 2 * metrics["sqnr_db"]}}

sweep = Sweep(
    name="toy",
    space=Space({{"a_fmt": ["int8", "fp8_e4m3", "mxfp4"], "b_fmt": ["int8", "fp8_e4m3", "mxfp4"],
                 "k": 64, "tokens": 4, "n": 4}},
                where=lambda p: p["b_fmt"] != "fp8_e4m3" or p["a_fmt"] != "mxfp4"),
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
    q = {f: gemm_quality(f, f, "exact_fp32" if f != "int8" else "int32", k=256, tokens=8, n=8)
         for f in ("int8", "fp8_e4m3", "mxfp4")}
    assert q["fp8_e4m3"]["sqnr_db"] > q["mxfp4"]["sqnr_db"] > 0
    assert gemm_quality("mxfp4", "mxfp4", "exact_fp32", k=256, tokens=8, n=8) == q["mxfp4"]
    lut = gemm_quality("int8", "lut2", "int32", k=256, tokens=8, n=8)
    assert 0 < lut["sqnr_db"] < q["int8"]["sqnr_db"]


def test_mlp_accuracy_on_digits():
    int8 = mlp_accuracy("int8", "int8", "int32")
    assert int8["mlp_accuracy_fp64"] > 0.9
    assert int8["mlp_accuracy"] >= int8["mlp_accuracy_fp64"] - 0.03
    assert mlp_accuracy("mxfp4", "mxfp4", "fp32")["mlp_accuracy"] > 0.5


def test_accumulators_and_hardware_mapping():
    e4, mxint8 = formats.get("fp8_e4m3"), formats.get("mxint8")
    assert accumulator("fp_e8m10", e4, e4).fmt.name == "fp_e8m10"
    with pytest.raises(QualityError, match="unknown accumulator 'int8x'"):
        accumulator("int8x", e4, e4)
    with pytest.raises(QualityError) as info:
        accumulator("int32", mxint8, mxint8)
    assert str(info.value) == ("accumulator int32 has LSB 2**-0, but products of a_fmt mxint8 x "
                               "b_fmt mxint8 have LSB 2**-12; a 32-bit register keeping every "
                               "product bit is fixed20_12")
    assert mac_design({"a_fmt": "int8"}).name == "intmac_int8xint8_int32"
    mx = mac_design({"a_fmt": "mxfp4"})
    assert (mx.unit, mx.peak_macs_per_cycle) == ("MxDotUnit", 32)
    assert mac_design({"a_fmt": "int8", "b_fmt": "lut2"}).unit == "LutTensorCore"
    with pytest.raises(HardwareMapError, match="no MAC design multiplies mxfp4 by mxint8"):
        mac_design({"a_fmt": "mxfp4", "b_fmt": "mxint8"})
    assert arch_dict({"a_fmt": "fp8_e4m3", "rows": 8})["engine"]["rows"] == 8


def test_failing_point_is_recorded_and_the_sweep_finishes(tmp_path):
    run = run_sweep(_toy(tmp_path), out=tmp_path, workers=2, progress=False)
    rows = run.rows
    assert len(rows) == 8 and run.evaluated == 8
    bad = [r for r in rows if r["status"] == "error"]
    assert {(r["a_fmt"], r["b_fmt"]) for r in bad} == {
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
    assert _stable(resumed.rows) == _stable(reference.rows)


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
    assert _stable(via_dask.rows) == _stable(via_pool.rows)


BAD_FILES = [
    ("bad.toml", "[sweep]\nname='x'\nstage=['gemm']\n[axes]\na_fmt='int8'\n",
     "unknown key 'stage'"),
    ("bad.toml", "[sweep]\nname='x'\nstages=['gemm', 'power']\n[axes]\na_fmt='int8'\n",
     "stage must be one of gemm, mlp, area, energy, sim, rtl, not 'power'"),
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


def test_a_sweep_from_python_writes_its_report_into_str_or_path_folders(tmp_path):
    """run_sweep and SweepRun.write_report take str paths; rows is a list, as in sim.Results;
    the report goes next to the database unless told otherwise."""
    run = run_sweep(_toy(tmp_path), out=str(tmp_path / "db"), workers=2, progress=False)
    assert run.database == tmp_path / "db" / f"{run.sweep.name}.sqlite"
    assert isinstance(run.rows, list) and len(run.rows) == len(run.sweep.space)
    beside = run.write_report()
    assert beside["html"] == tmp_path / "db" / f"{run.sweep.name}.html"
    elsewhere = run.write_report(str(tmp_path / "report"))
    assert elsewhere["csv"].read_text() == beside["csv"].read_text()
    assert elsewhere["html"].parent == tmp_path / "report"


def test_report_has_csv_pareto_plots_and_one_html_file(tmp_path):
    run = run_sweep(_toy(tmp_path), out=tmp_path, workers=2, progress=False)
    paths = write_report(run.sweep, run.rows, tmp_path)
    assert paths["csv"].read_text().splitlines()[0].startswith("a_fmt,b_fmt,k,tokens,n,")
    assert len(paths["pareto_csv"].read_text().splitlines()) >= 2
    assert paths["plot0"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert paths["pareto_png"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    page = paths["html"].read_text()
    assert page.count("<table ") == 3 and page.count("<figure class='plot'") == 2
    assert "<h2>Fixed settings</h2><p class='fixed'><span>k = 64</span><span>tokens = 4</span>" \
        "<span>n = 4</span></p>" in page
    assert "Pareto front over sqnr_db (max), max_abs_error (min)" in page
    assert "Left out of the Pareto front: 3 points" in page  # the three failed points
    assert "a_fmt=mxfp4, b_fmt=int8, k=64, tokens=4, n=4" in page
    assert "(3 of 8 points not plotted: failed or n/a)" in page


def test_evaluate_runs_user_metrics_after_stages():
    point = {"a_fmt": "fp8_e4m3", "k": 64, "tokens": 4, "n": 4}
    out = evaluate(point, ("gemm",), (lambda p, m: {"twice": 2 * m["sqnr_db"]},))
    assert out["twice"] == 2 * out["sqnr_db"] and np.isfinite(out["sqnr_db"])
    with pytest.raises(Exception, match="must return a dict"):
        evaluate(point, ("gemm",), (lambda p, m: 3,))


def test_space_derive_adds_fields_to_every_point():
    space = Space({"format": ["int8", "mxfp4"]},
                  derive=lambda p: {"a_fmt": p["format"], "b_fmt": p["format"]})
    assert space.points()[1] == {"format": "mxfp4", "a_fmt": "mxfp4", "b_fmt": "mxfp4"}
    assert Sweep("s", space, ("gemm",), extra_axes=("format",)).name == "s"


@pytest.mark.xdist_group("rtl")
def test_rtl_stage_checks_the_mac_on_verilator():
    """int4 x int4 into int32: golden's random set through the Verilated MAC, bit for bit."""
    out = evaluate({"a_fmt": "int4"}, ("rtl",))
    assert out == {"rtl_check": "pass", "rtl_operations": 2048}
    assert evaluate({"a_fmt": "mxfp4"}, ("rtl",)) == {
        "rtl_check": None, "rtl_operations": None,
        "notes": "rtl_check, rtl_operations n/a: MxDotUnit is not a scalar MAC; the rtl stage "
                 "checks IntMac, FloatMac, PositMac (its own regression covers mxdot_mxfp4_fp32)"}


def test_array_area_counts_the_engine_macs_the_cycle_model_counts(monkeypatch):
    """A systolic array has rows x cols PEs of the MAC design, each doing the design's MACs
    per cycle (an MX dot unit: a 32-element block), as ``lowbit.sim`` peaks count them (Yosys
    stubbed: this is about the counting)."""
    from lowbit.explore.evaluate import area_stage
    monkeypatch.setattr("lowbit.reports.synthesis.synth",
                        lambda design, targets, **kw: [{"area_ge": 3200.0}])
    out = area_stage({"a_fmt": "mxfp4", "rows": 2, "cols": 3})
    assert out["mac_design"] == "mxdot_mxfp4_fp32"
    assert out["area_per_mac_ge"] == 100.0 and out["array_area_ge"] == 3200.0 * 6


def test_bf16_and_fp32_points_give_finite_sqnr_matching_an_independent_oracle():
    """Scaling bf16 or fp32 tensors to the format's max made every product infinite (SQNR
    -inf, "ok"). With the accumulator's headroom each tensor's absmax maps to
    t = sqrt(fp32 max / K), so K products of the largest values fit the fp32 result. Oracle:
    the same scaled tensors rounded by ml_dtypes / NumPy (from float32 for bf16, whose double
    rounding is rare and moves the SQNR by far less than the tolerance), exact products summed
    in float64 and rounded once to float32, as the exact accumulator does."""
    ml_dtypes = pytest.importorskip("ml_dtypes")
    k, tokens, n = 256, 8, 8
    x = tensors.synthetic("outlier_channels", (tokens, k), 0).astype(np.float64)
    w = np.random.default_rng([0, 7]).standard_normal((k, n)) / np.sqrt(k)
    ref = x @ w
    t = np.sqrt(float(np.finfo(np.float32).max) / k)
    sa, sw = np.max(np.abs(x)) / t, np.max(np.abs(w)) / t
    for name, dtype in (("bf16", ml_dtypes.bfloat16), ("fp32", np.float32)):
        qx = (x / sa).astype(np.float32).astype(dtype).astype(np.float64)
        qw = (w / sw).astype(np.float32).astype(dtype).astype(np.float64)
        q = (qx @ qw).astype(np.float32).astype(np.float64) * (sa * sw)
        oracle = 10 * np.log10(np.sum(ref ** 2) / np.sum((ref - q) ** 2))
        exact = evaluate({"a_fmt": name, "accumulator": "exact_fp32", "k": k, "tokens": tokens,
                          "n": n}, ("gemm",))
        assert abs(exact["sqnr_db"] - oracle) < 0.05, (name, exact, oracle)
        rounded = evaluate({"a_fmt": name, "accumulator": "fp32", "k": k, "tokens": tokens,
                            "n": n}, ("gemm",))  # every addition rounded to fp32: lower
        # fp32 operands: the K roundings of the sum dominate (2**-24 each, a random walk of
        # 256 steps: about 130 dB); bf16 operands: their own rounding still dominates.
        floor = oracle - 3 if name == "bf16" else 120
        assert floor < rounded["sqnr_db"] <= exact["sqnr_db"] + 0.05
        assert np.isfinite(rounded["max_abs_error"])


@pytest.mark.parametrize("point, message", [
    ({"a_fmt": "fp8_e4m3", "accumulator": "int32"},
     "accumulator int32 sums integer or fixed-point products, not a_fmt fp8_e4m3 x b_fmt "
     "fp8_e4m3; use exact_fp32 or a float format"),
    ({"a_fmt": "nvfp4", "accumulator": "fp16"},
     "accumulator fp16 overflows: 16 of 16 outputs of a_fmt nvfp4 x b_fmt nvfp4 (K = 64) are "
     "not finite"),
    ({"a_fmt": "int8", "accumulator": "quire"},
     "accumulator 'quire' sums products of one posit format, not int8 x int8"),
    ({"a_fmt": "fp64"},
     "a_fmt fp64 x b_fmt fp64 into accumulator fp32: product of fp64 and fp64 needs 106 "
     "significand bits; exact products are supported up to 62"),
])
def test_a_bad_combination_fails_with_an_error_naming_the_field(point, message):
    with pytest.raises(QualityError) as err:
        evaluate({**point, "k": 64, "tokens": 4, "n": 4}, ("gemm",))
    assert str(err.value) == message


def test_missing_energy_is_na_with_the_reason_and_left_out_of_the_front(tmp_path,
                                                                          monkeypatch):
    """A design whose energy cannot be measured (here: an energy source that has no entry
    for NVFP4's dot unit, as for a unit no stimulus protocol drives) has its energy metrics
    n/a with the cycle model's note, is listed as left out of the Pareto front, and the CSV
    says n/a. The forked workers inherit the patched source."""
    from lowbit.reports import power
    from lowbit.sim.mac_energy import table_source

    def without_nvfp4():
        table = table_source()

        def lookup(design, stream):
            return None if design == "mxdot_nvfp4_fp32" else table(design, stream)
        lookup.describe = "the table without NVFP4"
        return lookup
    monkeypatch.setattr(power, "mac_energy_source", without_nvfp4)
    sweep = Sweep("energy", Space({"a_fmt": ["int8", "nvfp4"], "k": 64, "tokens": 4, "n": 4,
                                   "attention": False}), ("gemm", "sim"),
                  objectives={"energy_per_token_uj": "min", "sqnr_db": "max"},
                  plots=[("energy_per_token_uj", "sqnr_db", "a_fmt")])
    run = run_sweep(sweep, out=tmp_path, workers=2, progress=False)
    rows = {r["a_fmt"]: r for r in run.rows}
    # the note names the source the sweep asked (its own), not the default table
    reason = ("energy_pj, energy_per_token_uj, tops_per_w n/a: no measured MAC energy for "
              "'mxdot_nvfp4_fp32' on stream 'gaussian' from the mac_energy source (the table "
              "without NVFP4): compute energy is nan")
    assert rows["nvfp4"]["status"] == "ok" and rows["nvfp4"]["notes"] == reason
    assert rows["nvfp4"]["energy_per_token_uj"] is None and rows["nvfp4"]["cycles"] > 0
    assert "notes" not in rows["int8"] and rows["int8"]["energy_per_token_uj"] > 0
    assert [(r["a_fmt"], why) for r, why in left_out(run.rows, sweep.objectives)] == [
        ("nvfp4", f"energy_per_token_uj n/a ({reason})")]
    paths = write_report(sweep, run.rows, tmp_path)
    csv_rows = paths["csv"].read_text().splitlines()
    nv = next(line for line in csv_rows if line.startswith("nvfp4,"))
    assert ",n/a," in nv and "no measured MAC energy" in nv
    page = paths["html"].read_text()
    assert "Left out of the Pareto front: 1 points" in page
    assert "(1 of 2 points not plotted: failed or n/a)" in page


EDITED = """
from lowbit.explore import Space, Sweep
sweep = Sweep(name="edited", space=Space({{"a_fmt": {formats}, "k": 64, "tokens": 4, "n": 4}}),
              stages={stages}, objectives={objectives})
"""


def test_an_edited_sweep_never_reports_stale_rows(tmp_path):
    """Remove an axis value, add a stage, change an objective: each rerun reports exactly the
    current definition's points with the current stages' metrics; stale rows stay in the
    file (a restored value needs no work) but never reach rows, CSV or Pareto front."""
    path = tmp_path / "edited.py"

    def run(formats, stages=("gemm",), objectives=None):
        path.write_text(EDITED.format(formats=list(formats), stages=stages, objectives=objectives
                                      or {"sqnr_db": "max", "max_abs_error": "min"}))
        lines = []
        result = run_sweep(path, out=tmp_path, workers=2, progress=False, log=lines.append)
        write_report(result.sweep, result.rows, tmp_path)
        return result, lines

    first, lines = run(["int8", "fp8_e4m3", "mxfp4"])
    assert first.evaluated == 3 and lines == []
    fewer, lines = run(["int8", "fp8_e4m3"])
    assert (fewer.evaluated, fewer.skipped, fewer.stale) == (0, 2, 1)
    assert lines == ['sweep edited changed since edited.sqlite was written (axis a_fmt lost '
                     '"mxfp4"): 0 points to evaluate, 1 stored rows of other definitions left '
                     'out of the reports (--fresh deletes them)']
    assert sorted(r["a_fmt"] for r in fewer.rows) == ["fp8_e4m3", "int8"]
    assert len((tmp_path / "edited.csv").read_text().splitlines()) == 3
    assert "mxfp4" not in (tmp_path / "edited_pareto.csv").read_text()
    assert "mxfp4" not in (tmp_path / "edited.html").read_text()
    more, lines = run(["int8", "fp8_e4m3"], stages=("gemm", "sim"))
    assert (more.evaluated, more.skipped) == (2, 0)
    assert lines == ['sweep edited changed since edited.sqlite was written (stages gained sim): '
                     '2 points to evaluate, 3 stored rows of other definitions left out of the '
                     'reports (--fresh deletes them)']
    assert all(r["cycles"] > 0 and r["sqnr_db"] > 0 for r in more.rows)
    goal, lines = run(["int8", "fp8_e4m3"], stages=("gemm", "sim"),
                      objectives={"sqnr_db": "max", "cycles": "min"})
    assert (goal.evaluated, goal.skipped) == (0, 2) and lines[0].endswith(
        "(objectives changed): 0 points to evaluate, 1 stored rows of other definitions left "
        "out of the reports (--fresh deletes them)")
    assert (tmp_path / "edited_pareto.csv").read_text().splitlines()[0].startswith(
        "a_fmt,k,tokens,n,sqnr_db,max_abs_error,cycles,")
    back, _ = run(["int8", "fp8_e4m3", "mxfp4"])  # the first definition again: mxfp4's row
    assert (back.evaluated, back.skipped) == (2, 1) and len(back.rows) == 3  # is current
    fresh = run_sweep(path, out=tmp_path, workers=2, progress=False, fresh=True)
    assert (fresh.evaluated, fresh.skipped, fresh.stale) == (3, 0, 0)


def _cli(*args, **kw):
    return subprocess.run([sys.executable, "-m", "lowbit.cli", "sweep", *map(str, args)],
                          capture_output=True, text=True, timeout=HANG_GUARD_S, **kw)


def test_cli_refuses_bad_output_folders_and_files_before_any_work(tmp_path):
    sweep_file = _toy(tmp_path)
    taken = tmp_path / "taken"
    taken.write_text("a file, not a folder")
    r = _cli(sweep_file, "--out", taken)
    assert (r.returncode, r.stderr) == (2, f"lowbit: error: sweep output folder {taken} is a "
                                           f"file; pass a folder as --out\n")
    damaged = tmp_path / "damaged"
    damaged.mkdir()
    (damaged / "toy.sqlite").write_bytes(b"SQLite format 3\x00" + b"\xff" * 4000)
    r = _cli(sweep_file, "--out", damaged)
    assert r.returncode == 2 and r.stderr.count("\n") == 1, r.stderr
    assert r.stderr.startswith(f"lowbit: error: results file {damaged / 'toy.sqlite'} ")
    assert r.stderr.endswith("; move it away and run again, or use --out elsewhere\n")
    typo = tmp_path / "typo.toml"
    typo.write_text("[sweep]\nname='typo'\nstages=['area']\n[axes]\nrow=[8, 16]\n")
    r = _cli(typo, "--out", tmp_path)
    assert (r.returncode, r.stderr) == (2, "lowbit: error: typo.toml: axis 'row' is read by no "
                                           "stage; did you mean 'rows'? (an axis that derive "
                                           "or a user metric reads goes in extra_axes or "
                                           "@metric(reads=...))\n")
    assert not (tmp_path / "typo.sqlite").exists()


def test_cli_full_disk_mid_sweep_is_one_line_and_keeps_finished_points(tmp_path, monkeypatch,
                                                                       capsys):
    """SQLite's 'database or disk is full' on the commit of the third point: exit 2 with one
    line, the workers gone, the two points stored before kept (a rerun resumes)."""
    from lowbit import cli
    from tests.lowbit.test_explore_core import failing_sqlite
    # Commits: the open, the definition, then a claim and a record per point (one worker):
    # the eighth, the third point's record, fails.
    failing_sqlite(monkeypatch, "COMMIT",
                   sqlite3.OperationalError("database or disk is full"), after=7)
    sweep_file = _toy(tmp_path)
    assert cli.main(["sweep", str(sweep_file), "--out", str(tmp_path), "--jobs", "1"]) == 2
    db = tmp_path / "toy.sqlite"
    assert capsys.readouterr().err == (
        f"lowbit: error: results file {db} cannot grow (database or disk is full); free disk "
        f"space and run the same command to resume (finished points are kept)\n")
    monkeypatch.undo()
    with sqlite3.connect(db) as con:
        assert con.execute("SELECT COUNT(*) FROM points").fetchone() == (2,)
    resumed = run_sweep(sweep_file, out=tmp_path, workers=1, progress=False)
    assert (resumed.skipped, resumed.evaluated) == (2, 6)


PRICED_SWEEP = """
from lowbit.explore import Space, Sweep, metric, na


@metric("pj_per_token", reads=("a_fmt",))
def priced(point, metrics):
    if point["a_fmt"] == "nvfp4":
        return {"pj_per_token": na("no price for nvfp4 in this sweep")}
    return {"pj_per_token": 1.0}


sweep = Sweep(name="energy", space=Space({"a_fmt": ["int8", "nvfp4"], "k": 64, "tokens": 4,
                                          "n": 4}), stages=("gemm",), metrics=(priced,),
              objectives={"pj_per_token": "min", "sqnr_db": "max"})
"""


def test_cli_jobs_fresh_and_left_out_points(tmp_path):
    """--jobs (--workers is the old hidden spelling), --fresh, and the line per point the
    Pareto front leaves out."""
    toml = tmp_path / "energy.py"  # a user metric n/a for one point (every MAC has energy)
    toml.write_text(PRICED_SWEEP)
    r = _cli(toml, "--out", tmp_path, "--jobs", "2")
    assert r.returncode == 0, r.stderr
    assert "2 points evaluated now, 0 already done, 0 failed" in r.stdout
    assert ("left out of the Pareto front: a_fmt=nvfp4, k=64, tokens=4, n=4: pj_per_token n/a "
            "(pj_per_token n/a: no price for nvfp4 in this sweep)\n") in r.stdout
    r = _cli(toml, "--out", tmp_path, "--workers", "1", "--fresh")
    assert r.returncode == 0 and "2 points evaluated now, 0 already done" in r.stdout
    r = _cli("--help")
    assert "--jobs" in r.stdout and "--workers" not in r.stdout


def test_area_and_cycles_take_any_float_accumulator(monkeypatch):
    """The accumulator-width example: a FloatMac accumulating in fp_e8m10 has an area and
    cycles; the energy table has no entry for it, so with no measurement on demand its energy
    is n/a with the reason (Yosys stubbed: this is about which settings the stages accept)."""
    from lowbit.sim.mac_energy import table_source

    monkeypatch.setattr("lowbit.reports.synthesis.synth",
                        lambda design, targets, **kw: [{"area_ge": 1000.0}])
    monkeypatch.setattr("lowbit.reports.power.mac_energy_source", table_source)
    out = evaluate({"a_fmt": "fp8_e4m3", "accumulator": "fp_e8m10"}, ("area",))
    assert out["mac_area_ge"] == 1000.0 and out["array_area_ge"] == 256000.0
    sim = evaluate({"a_fmt": "fp8_e4m3", "accumulator": "fp_e8m10"}, ("sim",))
    assert sim["cycles"] > 0 and sim["energy_pj"] is None  # no energy data for the design
    assert "floatmac_fp8_e4m3xfp8_e4m3_fp_e8m10" in sim[NOTES]
