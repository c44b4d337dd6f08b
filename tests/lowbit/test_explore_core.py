"""The sweep core: spaces of named axes, the SQLite store that resumes (claims, recipes,
damaged and unwritable files), Pareto fronts and the points they leave out, metric values
(n/a, never NaN), sweep validation before any work, definition fingerprints."""

import math
import os
import sqlite3
import time

import pytest

from lowbit.golden.accumulators import GRAMMAR

from lowbit.explore import Space, Store, Sweep, left_out, metric, na, pareto_front, point_key
from lowbit.explore.evaluate import evaluate
from lowbit.explore.metric import MetricError, collect
from lowbit.explore.pareto import ParetoError
from lowbit.explore.space import SpaceError
from lowbit.explore.store import StoreError
from lowbit.explore.sweep import SweepError, describe_changes


def test_space_is_the_filtered_cartesian_product_in_axis_order():
    s = Space({"fmt": ["int8", "fp8"], "rows": [16, 32], "acc": "fp32"},
              where=lambda p: not (p["fmt"] == "int8" and p["rows"] == 32))
    assert s.points() == [{"fmt": "int8", "rows": 16, "acc": "fp32"},
                          {"fmt": "fp8", "rows": 16, "acc": "fp32"},
                          {"fmt": "fp8", "rows": 32, "acc": "fp32"}]
    assert len(s) == 3


def test_point_keys_ignore_axis_order_and_tell_values_apart():
    assert point_key({"a": 1, "b": "x"}) == point_key({"b": "x", "a": 1})
    assert point_key({"a": 1}) != point_key({"a": 1.5}) != point_key({"a": "1"})
    assert len(point_key({"a": 1})) == 16


@pytest.mark.parametrize("axes, message", [
    ({}, "axes must be a non-empty mapping"),
    ({"rows": []}, "axis rows must have at least one value"),
    ({"rows": [1, 1]}, "axis rows repeats a value"),
    ({"bad name": [1]}, "axis names must be identifiers"),
    ({"x": [object()]}, "axis x: values must be numbers, strings"),
    ({"x": [(1, 2)]}, "does not survive JSON unchanged"),
    ({"x": [math.nan]}, "values must be finite numbers"),
])
def test_malformed_spaces_are_named(axes, message):
    with pytest.raises(SpaceError, match=message):
        Space(axes)


def test_store_commits_each_point_and_a_new_connection_sees_it(tmp_path):
    path = tmp_path / "s.sqlite"
    with Store(path, "demo") as st:
        st.record({"fmt": "int8"}, {"sqnr_db": 40.5, "area_ge": 100, "maxerr": None,
                                    "notes": "maxerr n/a: why"}, seconds=1.5)
        st.record({"fmt": "fp4"}, error="ValueError: no such engine")
        with Store(path, "demo") as other:  # as if the first process had been killed here
            assert other.finished() == {point_key({"fmt": "int8"}), point_key({"fmt": "fp4"})}
            assert other.finished(include_errors=False) == {point_key({"fmt": "int8"})}
            rows = {r["fmt"]: r for r in other.rows()}
    assert rows["int8"]["sqnr_db"] == 40.5 and rows["int8"]["maxerr"] is None
    assert rows["int8"]["notes"] == "maxerr n/a: why"
    assert rows["fp4"]["status"] == "error" and "no such engine" in rows["fp4"]["error"]
    with Store(path, "other") as st:
        assert st.finished() == set()


def test_store_never_stores_a_non_finite_number(tmp_path):
    with Store(tmp_path / "s.sqlite", "s") as st, pytest.raises(StoreError) as err:
        st.record({"a": 1}, {"sqnr_db": -math.inf})
    assert str(err.value) == ("metric sqnr_db is -inf: a stored result is a finite number or "
                              "n/a (None, with the reason in notes)")


def test_store_refuses_a_file_that_is_not_a_database(tmp_path):
    bad = tmp_path / "x.sqlite"
    bad.write_text("hello, not sqlite" * 100)
    with pytest.raises(StoreError) as err:
        Store(bad, "s")
    assert str(err.value) == (f"results file {bad} is not a SQLite database (file is not a "
                              f"database); move it away and run again, or use --out elsewhere")


def test_store_refuses_a_foreign_database_and_an_older_lowbit_file(tmp_path):
    foreign = tmp_path / "f.sqlite"
    with sqlite3.connect(foreign) as con:
        con.execute("CREATE TABLE customers (name TEXT)")
    with pytest.raises(StoreError) as err:
        Store(foreign, "s")
    assert str(err.value) == (f"results file {foreign} is not a lowbit sweep database (tables "
                              f"customers); move it away and run again, or use --out elsewhere")
    old = tmp_path / "old.sqlite"
    with sqlite3.connect(old) as con:  # the schema before definitions and claims
        con.execute("CREATE TABLE points (sweep TEXT, key TEXT, point TEXT, status TEXT, "
                    "metrics TEXT, error TEXT, seconds REAL, finished_utc TEXT)")
    with pytest.raises(StoreError) as err:
        Store(old, "s")
    assert str(err.value) == (f"results file {old} was written by an older lowbit (no sweep "
                              f"fingerprints); move it away and run again, or use --out "
                              f"elsewhere")


def test_store_refuses_a_damaged_file_and_leaves_it_alone(tmp_path):
    path = tmp_path / "s.sqlite"
    with Store(path, "s", "r1") as st:
        for i in range(300):
            st.record({"i": i, "pad": "x" * 200}, {"m": i})
    data = bytearray(path.read_bytes())
    data[5 * 4096:5 * 4096 + 8] = b"\x0d" + b"\xff" * 7  # a b-tree page header overwritten
    path.write_bytes(bytes(data))
    with pytest.raises(StoreError) as err:
        Store(path, "s", "r1")
    assert str(err.value) == (f"results file {path} is damaged (database disk image is "
                              f"malformed); move it away and run again, or use --out elsewhere")
    assert path.read_bytes() == bytes(data)


def test_store_output_folder_that_is_a_file_or_not_writable(tmp_path, monkeypatch):
    taken = tmp_path / "out"
    taken.write_text("a file")
    with pytest.raises(StoreError) as err:
        Store(taken / "s.sqlite", "s")
    assert str(err.value) == f"sweep output folder {taken} is a file; pass a folder as --out"
    locked = tmp_path / "locked"
    locked.mkdir()
    if os.geteuid() == 0:  # root writes anywhere: make the probe file fail as it would
        def refuse(self, data):
            raise PermissionError(13, "Permission denied", str(self))
        monkeypatch.setattr("pathlib.Path.write_bytes", refuse)
    else:
        locked.chmod(0o555)
    try:
        with pytest.raises(StoreError) as err:
            Store(locked / "s.sqlite", "s")
    finally:
        locked.chmod(0o755)
    assert str(err.value) == (f"sweep output folder {locked} is not writable (Permission "
                              f"denied); pass a writable folder as --out")
    assert not (locked / "s.sqlite").exists()


class _FailingConnection:
    """A sqlite3 connection whose ``fail_on`` statement raises ``error`` after ``after``
    successful ones (a full disk on commit, a read-only file on the first write)."""

    def __init__(self, con, fail_on, error, after=0):
        self._con, self._fail_on, self._error, self._left = con, fail_on, error, after

    def execute(self, sql, *args):
        if sql == self._fail_on:
            if self._left == 0:
                raise self._error
            self._left -= 1
        return self._con.execute(sql, *args)

    def __getattr__(self, name):
        return getattr(self._con, name)


def failing_sqlite(monkeypatch, fail_on, error, after=0):
    """Make lowbit.explore.store's connections fail (see :class:`_FailingConnection`)."""
    real = sqlite3.connect
    monkeypatch.setattr("lowbit.explore.store.sqlite3.connect", lambda *a, **k:
                        _FailingConnection(real(*a, **k), fail_on, error, after))


def test_store_full_disk_and_read_only_file_are_one_line(tmp_path, monkeypatch):
    path = tmp_path / "s.sqlite"
    with Store(path, "s", "r") as st:
        st.record({"i": 0}, {"m": 0})
    failing_sqlite(monkeypatch, "COMMIT", sqlite3.OperationalError("database or disk is full"),
                   after=1)  # the open commits once
    with Store(path, "s", "r") as st, pytest.raises(StoreError) as err:
        st.record({"i": 1}, {"m": 1})
    assert str(err.value) == (f"results file {path} cannot grow (database or disk is full); "
                              f"free disk space and run the same command to resume (finished "
                              f"points are kept)")
    failing_sqlite(monkeypatch, "BEGIN IMMEDIATE",
                   sqlite3.OperationalError("attempt to write a readonly database"))
    with pytest.raises(StoreError) as err:
        Store(path, "s", "r")
    assert str(err.value) == (f"results file {path} is read-only (attempt to write a readonly "
                              f"database); make it writable or use --out elsewhere")
    monkeypatch.undo()
    with Store(path, "s", "r") as st:  # the point stored before the full disk is intact
        assert [r["i"] for r in st.rows()] == [0]


def test_store_refuses_metrics_that_are_not_plain_values(tmp_path):
    with Store(tmp_path / "s.sqlite", "s") as st, pytest.raises(StoreError, match="set"):
        st.record({"a": 1}, {"x": {1, 2}})
    con = sqlite3.connect(tmp_path / "s.sqlite")
    assert con.execute("SELECT COUNT(*) FROM points").fetchone() == (0,)


def test_an_ok_row_is_never_replaced_by_an_error_of_the_same_recipe(tmp_path):
    path = tmp_path / "s.sqlite"
    with Store(path, "s", "r1") as st:
        assert st.record({"i": 1}, {"m": 1})
        assert not st.record({"i": 1}, error="RuntimeError: late duplicate")
        assert st.rows() == [{"i": 1, "m": 1, "status": "ok", "error": "", "seconds": 0.0}]
        assert st.record({"i": 2}, error="ValueError: first try")
        assert st.record({"i": 2}, {"m": 2})  # an error is replaced by a later success
    with Store(path, "s", "r2") as st:  # another recipe: the old rows are stale
        assert st.rows() == [] and st.finished() == set()
        assert st.stale([point_key({"i": 1}), point_key({"i": 2})]) == 2
        assert st.record({"i": 1}, error="ValueError: new stage failed")
        assert [r["status"] for r in st.rows()] == ["error"]
    with Store(path, "s", "r1") as st:
        assert [r["i"] for r in st.rows()] == [2]
        assert st.stale([point_key({"i": 2})]) == 1


def test_claims_make_concurrent_runs_evaluate_each_point_once(tmp_path):
    """Two runs on one file; run-a's claims are made to look like another live process's
    (this process's own leftover claims are free: a run of it ended without releasing)."""
    path = tmp_path / "s.sqlite"
    key, other = point_key({"i": 1}), point_key({"i": 2})

    def held_by(pid):
        with sqlite3.connect(path) as con:
            con.execute("UPDATE claims SET pid = ?", (pid,))

    with Store(path, "s", "r") as a, Store(path, "s", "r") as b:
        assert a.claim(key, "run-a", 60) == "claimed"
        assert b.claim(key, "run-b", 60) == "claimed"  # this process's own claim: free
        assert a.claim(key, "run-a", 60) == "claimed"
        held_by(os.getppid())  # a live process of this host
        assert b.claim(key, "run-b", 60) == "busy"
        a.record({"i": 1}, {"m": 1}, owner="run-a")
        assert b.claim(key, "run-b", 60) == "done"
        assert a.claim(other, "run-a", 0.05) == "claimed"
        held_by(os.getppid())
        time.sleep(0.1)  # run-a's lease ran out (it hangs, say): the point is free
        assert b.claim(other, "run-b", 60) == "claimed"
        b.release("run-b")
        assert a.claim(other, "run-a", 60) == "claimed"
        held_by(2147483646)  # a process of this host that is gone
        assert b.claim(other, "run-b", 60) == "claimed"
        b.record({"i": 2}, error="ValueError: x", owner="run-b")
        assert b.claim(other, "run-b", 60) == "done"
        assert b.claim(other, "run-b", 60, since=time.time() + 1) == "claimed"  # --retry-errors
        with sqlite3.connect(path) as con:
            assert con.execute("SELECT owner FROM claims").fetchall() == [("run-b",)]


def test_pareto_front_two_and_three_metrics():
    rows = [{"n": "a", "area": 10, "sqnr": 30}, {"n": "b", "area": 20, "sqnr": 40},
            {"n": "c", "area": 15, "sqnr": 25}, {"n": "d", "area": 20, "sqnr": 40},
            {"n": "e", "area": 5, "sqnr": math.nan}, {"n": "f", "sqnr": 99}]
    front = pareto_front(rows, {"area": "min", "sqnr": "max"})
    assert [r["n"] for r in front] == ["a", "b", "d"]  # c is dominated by a; e, f take no part
    rows3 = [{"n": "a", "x": 1, "y": 1, "z": 5}, {"n": "b", "x": 1, "y": 1, "z": 4},
             {"n": "c", "x": 0, "y": 2, "z": 9}]
    assert [r["n"] for r in pareto_front(rows3, {"x": "min", "y": "min", "z": "min"})] == \
        ["c", "b"]


@pytest.mark.parametrize("objectives, message", [
    ({"a": "min"}, "objectives must map 2 or 3 metrics"),
    ({"a": "min", "b": "up"}, "objective b must be 'min' or 'max', not 'up'"),
])
def test_bad_objectives_are_named(objectives, message):
    with pytest.raises(ParetoError, match=message):
        pareto_front([], objectives)


def test_left_out_says_which_rows_miss_an_objective_and_why():
    rows = [{"n": "a", "area": 10, "sqnr": 30}, {"n": "b", "area": None, "sqnr": 40,
                                                 "notes": "area n/a: no energy entry"},
            {"n": "c", "sqnr": 20}, {"n": "d", "area": "big", "sqnr": 1}]
    objectives = {"area": "min", "sqnr": "max"}
    assert [r["n"] for r in pareto_front(rows, objectives)] == ["a"]
    assert [(r["n"], why) for r, why in left_out(rows, objectives)] == [
        ("b", "area n/a (area n/a: no energy entry)"), ("c", "area missing"),
        ("d", "area is not a finite number: 'big'")]


def test_metric_values_are_finite_or_na_with_a_reason():
    out, notes = {}, []
    collect(out, notes, {"a": 1.5, "b": na("no   entry"), "c": na("no entry"), "d": "pass"},
            "stage x", ("a", "b", "c", "d"))
    assert out == {"a": 1.5, "b": None, "c": None, "d": "pass"}
    assert notes == ["b, c n/a: no entry"]
    cases = [
        ({"a": math.nan}, "stage sim", ("a",), "stage sim: a is nan, not a finite number"),
        ({"a": -math.inf}, "metric f", None, "metric f: a is -inf, not a finite number; "
                                            "return lowbit.explore.na('why') for a value it "
                                            "cannot compute"),
        ({"a": 1}, "metric f", ("a", "b"), "metric f declares a, b but did not return b"),
        ({"a": 1, "z": 2}, "metric f", ("a",), "metric f declares a but returned z, which it "
                                               "did not declare"),
        ({"notes": "x"}, "metric f", None, "metric f: 'notes' is the row's column of n/a "
                                           "reasons, not a metric name"),
        (3, "metric f", None, "metric f must return a dict of metric name to value, not int"),
    ]
    for values, where, declared, message in cases:
        with pytest.raises(MetricError) as err:
            collect({}, [], values, where, declared)
        assert str(err.value) == message
    out, notes = {}, []
    collect(out, notes, {"a": None}, "metric f")
    assert out == {"a": None} and notes == ["a n/a: f returned None"]


def test_evaluate_fills_notes_from_user_metrics():
    @metric("half")
    def half(point, metrics):
        return {"half": na("odd") if point["x"] % 2 else point["x"] / 2}
    assert evaluate({"x": 3}, (), (half,)) == {"half": None, "notes": "half n/a: odd"}
    assert evaluate({"x": 4}, (), (half,)) == {"half": 2.0}


GEMM = {"a_fmt": "int8", "k": 64, "tokens": 4, "n": 4}
BAD_SWEEPS = [  # (axes, keyword arguments, the one-line message)
    ({**GEMM, "row": [8, 16]}, {"stages": ("gemm", "area")},
     "axis 'row' is read by no stage; did you mean 'rows'? (an axis that derive or a user "
     "metric reads goes in extra_axes or @metric(reads=...))"),
    ({**GEMM, "rows": [8, 16]}, {"stages": ("gemm",)},
     "axis 'rows' is read by stages area, sim, not by this sweep's stages gemm; add the stage "
     "or remove the axis"),
    ({**GEMM, "workload": "resnet50"}, {"stages": ("gemm",)},
     "axis 'workload' is read by stage sim, not by this sweep's stages gemm; add the stage or "
     "remove the axis"),
    ({**GEMM, "a_fmt": ["int8", "fp8_e4m2"]}, {"stages": ("gemm",)},
     "axis a_fmt must be a format name (lowbit formats lists them), not 'fp8_e4m2'; did you "
     "mean 'fp8_e4m3' or 'fp8_e5m2'?"),
    ({**GEMM, "b_fmt": ["lut3"]}, {"stages": ("gemm",)},
     "axis b_fmt must be a format name (lowbit formats lists them) or lut2, not 'lut3'; did you "
     "mean 'lut2'?"),
    ({**GEMM, "a_fmt": ["int0"]}, {"stages": ("gemm",)},
     "axis a_fmt: format 'int0': bits must be an integer from 1 to 64, not 0"),
    ({"a_fmt": "int8", "rows": [0, 16]}, {"stages": ("area",)},
     "axis rows: engine rows must be an integer from 1 to 4096, not 0"),
    ({"a_fmt": "int8", "dataflow": "xs"}, {"stages": ("sim",)},
     "axis dataflow: engine dataflow must be one of 'ws', 'os', 'is', not 'xs'"),
    ({**GEMM, "accumulator": ["fp32", "int99"]}, {"stages": ("gemm",)},
     "axis accumulator: unknown accumulator 'int99' (accumulator int_bits + frac_bits must be "
     f"an integer from 2 to 62, not 99); accumulator names are {', '.join(GRAMMAR)}"),
    ({**GEMM, "k": [64, 0]}, {"stages": ("gemm",)},
     "axis k must be an integer from 1 to 65536, not 0"),
    ({"a_fmt": "int8", "workload": "llama2-7b-decod"}, {"stages": ("sim",)},
     "axis workload must be one of llama2-7b-decode, llama2-7b-prefill, resnet50, vit-b16, not "
     "'llama2-7b-decod'; did you mean 'llama2-7b-decode'?"),
    ({"a_fmt": "int8", "attention": "no"}, {"stages": ("sim",)},
     "axis attention must be true or false, not 'no'"),
    (GEMM, {"stages": ("gemm",), "objectives": {"sqnr_d": "max", "max_abs_error": "min"}},
     "objective 'sqnr_d' is not an axis, a metric of stages gemm or a metric a user metric "
     "declares (@metric); did you mean 'sqnr_db'?"),
    (GEMM, {"stages": ("gemm",), "objectives": {"sqnr_db": "max", "energy_pj": "min"}},
     "objective 'energy_pj' comes from stage sim, which this sweep does not run (stages gemm)"),
    (GEMM, {"stages": ("gemm",), "plots": [("sqnr_db", "max_abs_eror", "a_fmt")]},
     "plot 1 y 'max_abs_eror' is not an axis, a metric of stages gemm or a metric a user metric "
     "declares (@metric); did you mean 'max_abs_error'?"),
    (GEMM, {"stages": ("gemm",), "plots": [("sqnr_db", "max_abs_error", "colour")]},
     "plot 1 color 'colour' is not an axis, a metric of stages gemm or a metric a user metric "
     "declares (@metric)"),
    (GEMM, {"stages": ("gemm", "gemm")}, "sweep stages: stages repeat a stage: gemm, gemm"),
    (GEMM, {"stages": ("gem",)}, "sweep stages: stage must be one of gemm, mlp, area, sim, rtl, "
                                 "not 'gem'; did you mean 'gemm'?"),
]


@pytest.mark.parametrize("axes, kwargs, message", BAD_SWEEPS, ids=[m[:40] for *_, m in BAD_SWEEPS])
def test_sweep_is_checked_whole_before_any_work(axes, kwargs, message):
    with pytest.raises(SweepError) as err:
        Sweep("s", Space(axes), **kwargs)
    assert str(err.value) == message


def test_axes_declared_by_extra_axes_or_a_metric_are_accepted():
    @metric("weight_bits", reads=("format",))
    def bits(point, metrics):
        return {"weight_bits": 8}
    space = Space({"format": ["int8"], "label": "x", "k": 64},
                  derive=lambda p: {"a_fmt": p["format"]})
    sweep = Sweep("s", space, ("gemm",), metrics=(bits,), extra_axes=("label",),
                  objectives={"weight_bits": "min", "sqnr_db": "max"},
                  plots=[("weight_bits", "sqnr_db", "label")])
    assert sweep.metric_names() == ["sqnr_db", "max_abs_error", "weight_bits"]
    with pytest.raises(SweepError, match="axis 'label' is read by no stage"):
        Sweep("s", space, ("gemm",), metrics=(bits,))

    @metric("k")
    def shadow(point, metrics):
        return {"k": 1}
    with pytest.raises(SweepError) as err:
        Sweep("s", space, ("gemm",), metrics=(bits, shadow), extra_axes=("label",))
    assert str(err.value) == ("metric test_axes_declared_by_extra_axes_or_a_metric_are_accepted."
                              "<locals>.shadow declares 'k', which is already an axis; give it "
                              "another name")


def test_fingerprint_and_recipe_follow_the_definition():
    def sweep(**changes):
        base = {"axes": {"a_fmt": ["int8", "fp8_e4m3"], "k": 64}, "stages": ("gemm",),
                "objectives": {"sqnr_db": "max", "max_abs_error": "min"}} | changes
        return Sweep("s", Space(base["axes"]), base["stages"], objectives=base["objectives"])
    a = sweep()
    assert a.fingerprint() == sweep().fingerprint() and len(a.fingerprint()) == 16
    fewer = sweep(axes={"a_fmt": ["int8"], "k": 64})
    more = sweep(stages=("gemm", "mlp"))
    goal = sweep(objectives={"sqnr_db": "max", "k": "min"})
    assert len({a.fingerprint(), fewer.fingerprint(), more.fingerprint(),
                goal.fingerprint()}) == 4
    assert a.recipe() == fewer.recipe() == goal.recipe() != more.recipe()
    assert describe_changes(a.definition(), fewer.definition()) == ["axis a_fmt lost \"fp8_e4m3\""]
    assert describe_changes(a.definition(), more.definition()) == ["stages gained mlp"]
    assert describe_changes(a.definition(), goal.definition()) == ["objectives changed"]
    assert describe_changes(a.definition(), sweep(axes={"a_fmt": ["int8", "fp8_e4m3"],
                                                        "k": 128}).definition()) == \
        ["axis k lost 64", "axis k gained 128"]
