"""MixPE arrays as sweep points (issue 24): engine ``mixpe`` with its ``group_size`` and
``k_step`` axes and ``ternary`` weights, through the quality and cycle-model stages."""

import math

import pytest

from lowbit.explore import axes, hardware
from lowbit.explore.evaluate import evaluate

POINT = {"a_fmt": "int8", "b_fmt": "int4", "engine": "mixpe", "rows": 1, "cols": 16,
         "group_size": 8, "attention": False}


def test_a_mixpe_point_is_the_catalogue_s_mixpe_array_with_a_float_accumulator():
    assert hardware.formats_of(POINT) == ("int8", "int4", "fp32")
    assert hardware.engine_design(POINT).name == "mixpearray1x16_mixpe_int8xint4_g8_fp32"
    assert hardware.mac_design({**POINT, "b_fmt": "ternary", "k_step": 8}).name == \
        "mixpe_int8xternary_g8_fp32_k8"


def test_mixpe_points_run_the_quality_and_sim_stages():
    """Group-wise weights quantize better than one scale per tensor (the same int4 codes and
    fp32 accumulation on a systolic array); the decode GEMVs keep the array busy."""
    grouped = evaluate(POINT, ("gemm",))
    per_tensor = evaluate({"a_fmt": "int8", "b_fmt": "int4", "accumulator": "fp32"}, ("gemm",))
    assert grouped["sqnr_db"] > per_tensor["sqnr_db"] + 0.5
    ternary = evaluate({**POINT, "b_fmt": "ternary"}, ("gemm",))
    assert ternary["sqnr_db"] < grouped["sqnr_db"]
    run = evaluate(POINT, ("sim",))
    assert run["bound"] == "compute" and run["utilization"] > 0.99
    assert math.isfinite(run["energy_pj"]) and run["energy_pj"] > 0


@pytest.mark.parametrize("name, value, message", [
    ("group_size", 0, "axis group_size: engine group_size must be an integer from 1 to 65536, "
                      "not 0"),
    ("k_step", 100, "axis k_step: engine k_step must be an integer from 1 to 64, not 100"),
    ("engine", "mixpee", "axis engine: engine kind must be one of 'systolic', 'adder_tree', "
                         "'lut', 'matrix', 'cube', 'mixpe', not 'mixpee'; did you mean "
                         "'mixpe'?"),
])
def test_bad_mixpe_axis_values_are_one_line(name, value, message):
    with pytest.raises(axes.AxisError) as err:
        axes.check_value(name, value)
    assert str(err.value) == message


def test_a_group_that_splits_a_beat_fails_the_point_naming_the_axes():
    with pytest.raises(hardware.HardwareMapError) as err:
        hardware.engine_design({**POINT, "group_size": 6})
    assert str(err.value) == ("a_fmt int8 x b_fmt int4 into accumulator fp32: group_size 6 is "
                              "not a multiple of k_step 4: a quantization group must end on a "
                              "beat boundary")
