"""The sweep core: spaces of named axes, the SQLite store that resumes, Pareto fronts."""

import math
import sqlite3

import pytest

from lowbit.explore import Space, Store, pareto_front, point_key
from lowbit.explore.pareto import ParetoError
from lowbit.explore.space import SpaceError
from lowbit.explore.store import StoreError


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
        st.record({"fmt": "int8"}, {"sqnr_db": 40.5, "area_ge": 100, "maxerr": math.inf},
                  seconds=1.5)
        st.record({"fmt": "fp4"}, error="ValueError: no such engine")
        with Store(path, "demo") as other:  # as if the first process had been killed here
            assert other.finished() == {point_key({"fmt": "int8"}), point_key({"fmt": "fp4"})}
            assert other.finished(include_errors=False) == {point_key({"fmt": "int8"})}
            rows = {r["fmt"]: r for r in other.rows()}
    assert rows["int8"]["sqnr_db"] == 40.5 and rows["int8"]["maxerr"] == math.inf
    assert rows["fp4"]["status"] == "error" and "no such engine" in rows["fp4"]["error"]
    with Store(path, "other") as st:
        assert st.finished() == set()


def test_store_refuses_a_file_that_is_not_a_database(tmp_path):
    bad = tmp_path / "x.sqlite"
    bad.write_text("hello, not sqlite" * 100)
    with pytest.raises(StoreError, match="is not a lowbit sweep database"):
        Store(bad, "s")


def test_store_refuses_metrics_that_are_not_plain_values(tmp_path):
    with Store(tmp_path / "s.sqlite", "s") as st, pytest.raises(StoreError, match="set"):
        st.record({"a": 1}, {"x": {1, 2}})
    con = sqlite3.connect(tmp_path / "s.sqlite")
    assert con.execute("SELECT COUNT(*) FROM points").fetchone() == (0,)


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
