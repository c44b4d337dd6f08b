"""The engine shape x bit-weight x format example sweep (examples/tensor_engines.py): every
point is an iso-throughput catalogue engine, the cycle model runs on the bit-weight and the
standard points, and (``--full``) the whole-engine Yosys metric fills its columns."""

from pathlib import Path

import pytest

from lowbit.explore.evaluate import evaluate
from lowbit.explore.hardware import engine_design
from lowbit.explore.sweep import load_sweep

EXAMPLE = Path(__file__).parents[2] / "examples" / "tensor_engines.py"


@pytest.fixture(scope="module")
def sweep():
    return load_sweep(EXAMPLE)


def _point(sweep, shape, variant, fmt):
    (point,) = [p for p in sweep.space if (p["shape"], p["mac_variant"], p["a_fmt"]) ==
                (shape, variant, fmt)]
    return point


def test_every_point_is_a_16_mac_engine_of_its_shape_and_variant(sweep):
    points = sweep.space.points()
    assert len(points) == 16  # 4 shapes x 2 variants x 2 formats
    names = set()
    for p in points:
        spec = engine_design(p)
        assert spec.peak_macs_per_cycle == 16
        assert (spec.pe.kind == "bwmac") == (p["mac_variant"] == "bitweight")
        assert spec.a_fmt.name == p["a_fmt"]
        names.add(spec.name)
    assert len(names) == 16
    assert "cube2x2x4_bwmac_int4xint4_int32" in names


def test_the_cycle_model_runs_both_variants(sweep):
    std = evaluate(_point(sweep, "matrix", "standard", "int8"), stages=("sim",))
    bw = evaluate(_point(sweep, "matrix", "bitweight", "int8"), stages=("sim",))
    # the same beats; the bit-weight PE's datapath is one edge, as the IntMac's
    assert bw["cycles"] == std["cycles"] and bw["utilization"] == std["utilization"]
    assert std["energy_pj"] > 0
    assert bw["energy_pj"] > 0  # the bit-weight PE, measured on demand


@pytest.mark.full
def test_the_engine_area_metric(sweep):
    point = _point(sweep, "cube", "bitweight", "int4")
    row = evaluate(point, stages=("sim",), metrics=sweep.metrics)
    assert row["engine_design"] == "cube2x2x4_bwmac_int4xint4_int32"
    assert row["engine_area_ge"] > 0 and row["engine_fmax_mhz"] > 0
    assert row["area_eff_gops_per_kge"] == pytest.approx(
        2 * 16 * row["engine_fmax_mhz"] * 1e6 / row["engine_area_ge"] / 1e6)
    assert row["tops_at_fmax"] == pytest.approx(row["tops"] * row["engine_fmax_mhz"] / 1000)
