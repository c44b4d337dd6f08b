"""Acceptance: over the combinations the sweep axes accept (formats x accumulators x engines x
stages), every point either evaluates to finite metrics (or n/a with a reason in ``notes``)
or fails with a LowbitError naming a field of the point; never another exception, never a
NaN or an infinity.

What runs for real: the sweep's validation, the golden quality stage (``gemm``, small
tensors; ``mlp`` in the ``full`` version only: it shares ``gemm``'s quantized matmul and
takes a second per point), the cycle model (``sim``), the mapping of a point to its MAC
design and engine, and the catalogue building the Amaranth component. Stubbed, because this
test is about the mapping and validation logic, not the tools: Yosys in ``area``
(:func:`lowbit.reports.synthesis.synth` returns a fixed area per design) and the Verilator
run in ``rtl`` (:func:`lowbit.verify.faults.mutation.replay_many`); both have tests of their own.
"""

import math

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from lowbit.errors import LowbitError
from lowbit.explore import Space, Sweep, evaluate

FORMATS = ["int2", "int4", "int8", "int16", "uint8", "fixed4_4", "fp32", "fp16", "bf16",
           "fp8_e4m3", "fp8_e5m2", "fp6_e3m2", "fp6_e2m3", "fp4_e2m1", "fp_e5m6", "e8m0",
           "ue4m3", "posit8_0", "posit8_2", "posit16_1", "mxfp8_e4m3", "mxfp6_e3m2", "mxfp4",
           "mxint8", "nvfp4", "bfp8_b16", "fp64"]
ACCUMULATORS = [None, "exact_fp32", "quire", "int12", "int16", "int24", "int32", "fp32", "fp16",
                "bf16", "fp_e8m10", "fp8_e4m3"]
ENGINES = [None, "systolic", "adder_tree", "lut"]
FAST_STAGES = ("gemm", "area", "sim", "rtl")
QUALITY = {"k": 64, "tokens": 4, "n": 4}  # small: the mapping is the same at any size
# The rtl stage builds the unit but the stubbed run never elaborates it.
pytestmark = pytest.mark.filterwarnings("ignore:.*created but never used")


def _stub_tools(mp):
    """Yosys and Verilator out; everything before them (mapping, catalogue) stays real."""
    mp.setattr("lowbit.reports.synthesis.synth",
               lambda design, targets, **kw: [{"area_ge": 100.0 + len(design.name)}])
    mp.setattr("lowbit.verify.faults.mutation.replay_many", lambda *a, **kw: {0: None})


def _point(a_fmt, b_fmt, accumulator, engine, stages):
    """The point, with the axes the stages read (a sweep refuses an axis no stage reads)."""
    point = {"a_fmt": a_fmt, **(QUALITY if "gemm" in stages else {})}
    if engine is not None and {"area", "sim"} & set(stages):
        point["engine"] = engine
    for name, value in (("b_fmt", b_fmt), ("accumulator", accumulator)):
        if value is not None:
            point[name] = value
    return point


def check_point(point, stages):
    """The acceptance property for one point and stage list."""
    try:
        sweep = Sweep("combo", Space(point), stages)
    except LowbitError as err:  # refused before any work: must name an axis of the point
        assert any(name in str(err) for name in point), err
        return
    try:
        out = evaluate(point, sweep.stages, sweep.metrics)
    except LowbitError as err:  # b_fmt and accumulator may be defaults the point omits
        names = [*point, "b_fmt", "accumulator"]
        assert any(name in str(err) for name in names), f"{point} {stages}: {err}"
        return
    notes = out.pop("notes", "")
    for metric, value in out.items():
        if value is None:
            assert metric in notes, (point, metric, notes)
        else:
            assert isinstance(value, (int, float, str, bool)), (point, metric, value)
            assert not isinstance(value, float) or math.isfinite(value), (point, metric, value)
    assert set(out) == set(sweep.metric_names())


def strategies(stages) -> dict:
    """Points over the axes' accepted values (and some they refuse), and stage lists."""
    return {"a_fmt": st.sampled_from(FORMATS),
            "b_fmt": st.one_of(st.none(), st.sampled_from(FORMATS + ["lut2"])),
            "accumulator": st.sampled_from(ACCUMULATORS), "engine": st.sampled_from(ENGINES),
            "stages": st.lists(st.sampled_from(stages), min_size=1, max_size=len(stages),
                               unique=True)}


def run_case(a_fmt, b_fmt, accumulator, engine, stages):
    with pytest.MonkeyPatch.context() as mp:
        _stub_tools(mp)
        check_point(_point(a_fmt, b_fmt, accumulator, engine, stages), tuple(stages))


# Pinned: bf16/fp32 (infinite products before), an int accumulator with float operands
# (AttributeError before), NVFP4 without an energy entry (NaN before), a LUT point, a fp16
# accumulator overflowing, a posit quire on every fast stage.
@example(a_fmt="bf16", b_fmt=None, accumulator="fp32", engine=None, stages=["gemm", "sim"])
@example(a_fmt="fp32", b_fmt=None, accumulator="exact_fp32", engine=None, stages=["gemm"])
@example(a_fmt="fp8_e4m3", b_fmt=None, accumulator="int32", engine=None, stages=["gemm"])
@example(a_fmt="nvfp4", b_fmt=None, accumulator=None, engine=None, stages=["sim", "area"])
@example(a_fmt="int8", b_fmt="lut2", accumulator=None, engine="lut", stages=list(FAST_STAGES))
@example(a_fmt="nvfp4", b_fmt=None, accumulator="fp16", engine=None, stages=["gemm"])
@example(a_fmt="posit8_0", b_fmt=None, accumulator="quire", engine="adder_tree",
         stages=["rtl", "area", "sim", "gemm"])
@given(**strategies(FAST_STAGES))
@settings(max_examples=30, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow])
def test_every_point_evaluates_or_fails_naming_a_field(a_fmt, b_fmt, accumulator, engine,
                                                       stages):
    run_case(a_fmt, b_fmt, accumulator, engine, stages)


@pytest.mark.full
@given(**strategies(FAST_STAGES + ("mlp",)))
@settings(max_examples=600, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow])
def test_every_point_evaluates_or_fails_naming_a_field_full(a_fmt, b_fmt, accumulator, engine,
                                                            stages):
    run_case(a_fmt, b_fmt, accumulator, engine, stages)
