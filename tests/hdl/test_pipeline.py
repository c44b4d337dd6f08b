"""Pipelined units (lowbit.hdl.pipeline): latency per stage count, results equal to golden on
Amaranth's simulator, engines of pipelined PEs, catalogue names, and every bad input.

Verilator runs of the same configurations are tests/verify/test_pipelined_units.py; the proofs
that each pipeline equals its one-cycle unit are tests/verify/test_pipeline_proof.py.
Configurations: each MAC kind at every stage count it takes (corners; sequences at the deepest),
Kulisch and quire registers for the ``result`` cut, unsigned ``a`` for IntMac's split multiplier,
the interleaved(2) ring with round-to-nearest and round-down (signed zeros).
"""

import numpy as np
import pytest

from lowbit.errors import LowbitError, OperationError
from lowbit.golden import accumulators as A
from lowbit.golden import formats as F
from lowbit.golden.accumulators import ExactAccumulator, FixedAccumulator, FloatAccumulator, Quire
from lowbit.hdl import designs
from lowbit.hdl.adder_tree_engine import AdderTreeEngine
from lowbit.hdl.component import Component
from lowbit.hdl.float_mac import FloatMac
from lowbit.hdl.int_mac import IntMac
from lowbit.hdl.mx_dot import MxDotUnit
from lowbit.hdl.posit_mac import PositMac
from lowbit.hdl.systolic_array import SystolicArray
from lowbit.verify.pysim import simulate_gemm, simulate_mac
from lowbit.verify.vectors import mac_formats, mac_vectors
from tests.expect import raises_exactly

INT8, UINT4, FP8, FP32 = F.get("int8"), F.get("uint4"), F.get("fp8_e4m3"), F.get("fp32")
P8 = F.get("posit8_0")

UNITS = {  # name: (factory of stages, stage counts, latency at stages 1, cut points)
    "intmac_int8": (lambda s: IntMac(INT8, INT8, acc=FixedAccumulator(20, 0), stages=s), 3, 1,
                    ("product", "partial_products")),
    "intmac_uint4xint8_sat": (lambda s: IntMac(UINT4, INT8, acc=FixedAccumulator(
        16, 0, "saturate"), stages=s), 3, 1, ("product", "partial_products")),
    "floatmac_fp32": (lambda s: FloatMac(FP8, FP8, acc=FloatAccumulator(FP32), stages=s), 3, 1,
                      ("product", "decoded")),
    "floatmac_exact": (lambda s: FloatMac(FP8, FP8, acc=ExactAccumulator(FP32), stages=s), 4,
                       1, ("product", "result", "decoded")),
    "floatmac_il2": (lambda s: FloatMac(FP8, FP8, acc=A.get("il2_fp32"), stages=s), 3, 4,
                     ("product", "decoded")),
    "floatmac_il2_rdn": (lambda s: FloatMac(FP8, FP8, acc=A.get("il2_fp16_rdn"), stages=s), 3,
                         4, ("product", "decoded")),
    "positmac": (lambda s: PositMac(P8, quire=Quire(P8), stages=s), 4, 1,
                 ("product", "result", "decoded")),
}


@pytest.mark.parametrize("name", UNITS)
def test_latency_and_cut_points_per_stage_count(name):
    make, top, base, cuts = UNITS[name]
    for stages in range(1, top + 1):
        unit = Component.part(make(stages))  # never elaborated: no warning
        assert unit.latency == base + stages - 1
        assert unit.pipeline.cuts == cuts and unit.pipeline.used == cuts[:stages - 1]


def test_mx_dot_latency_per_stage_count():
    for acc, top in ((FloatAccumulator(FP32), 3), (ExactAccumulator(FP32), 4)):
        for stages in range(1, top + 1):
            unit = Component.part(MxDotUnit(F.get("mxfp8_e4m3"), acc=acc, stages=stages))
            assert unit.latency == stages + 1
            assert unit.pipeline.used == ("products", "tree", "result")[:stages - 1]


@pytest.mark.parametrize("name", UNITS)
def test_pipelined_units_match_golden_on_every_operation(name):
    make, top, _, _ = UNITS[name]
    for stages in range(1, top + 1):
        unit = make(stages)
        for kind in ("corners", "sequences") if stages == top else ("corners",):
            v = mac_vectors(kind, *mac_formats(unit))
            got = simulate_mac(unit, v)
            assert got.size == len(v)  # one out_valid per operation
            bad = np.flatnonzero(got != v.expected)
            assert bad.size == 0, (stages, kind, [(int(v.a[i]), int(v.b[i]), int(got[i]),
                                                   int(v.expected[i])) for i in bad[:4]])


def test_interleaved_unit_is_not_sequential():
    """The il2 vectors differ from sequential ones, so the test above is not vacuous."""
    v = mac_vectors("sequences", FP8, FP8, A.get("il2_fp32"))
    sequential = mac_vectors("sequences", FP8, FP8, FloatAccumulator(FP32))
    assert (v.expected != sequential.expected).sum() > 20  # 43 of 1500


@pytest.mark.parametrize("name, shape", [
    ("systolic2x2_os_floatmac_fp8_e4m3xfp8_e4m3_fp32_s3", (3, 5, 3)),
    ("systolic2x3_os_positmac_posit8_0_quire_s4", (3, 4, 4)),
    ("addertree4_floatmac_fp8_e4m3xfp8_e4m3_exact_fp32_s3", (2, 9, 3)),
    ("addertree4_intmac_int8xint8_int24_s3", (2, 9, 3)),
])
def test_engines_of_pipelined_pes_match_golden_and_closed_form(name, shape):
    spec = designs.get(name)
    engine = spec.build()
    rng = np.random.default_rng(5)
    M, K, N = shape
    A_ = rng.integers(0, 1 << engine.a_fmt.bits, (M, K))
    B_ = rng.integers(0, 1 << engine.b_fmt.bits, (K, N))
    C, cycles = simulate_gemm(engine, A_, B_)
    want = engine.golden(A_, B_, K).astype(np.int64) & ((1 << engine.out_bits) - 1)
    assert np.array_equal(C.astype(np.int64), want)
    assert cycles == spec.cycles(M, K, N) == engine.cycles(M, K, N)


def test_adder_tree_depth_counts_a_result_cut_only():
    def tree(stages):
        return Component.part(AdderTreeEngine(8, PositMac(P8, quire=Quire(P8), stages=stages)))
    depths = [tree(s).pipeline_depth for s in (1, 2, 3, 4)]
    assert depths == [3, 3, 4, 4]  # product and decoded: the engine registers those itself


def test_systolic_os_cycles_include_the_pe_latency():
    one = designs.get("systolic4x4_os_intmac_int8xint8_int32")
    three = designs.get("systolic4x4_os_intmac_int8xint8_int32_s3")
    assert three.latency == 3
    assert three.cycles(8, 16, 8) == one.cycles(8, 16, 8) + 2


@pytest.mark.parametrize("name, stages", [
    ("intmac_int8xint8_int32", 1), ("intmac_int8xint8_int32_s3", 3),
    ("floatmac_fp8_e4m3xfp8_e4m3_exact_fp32_t1024_s4", 4), ("positmac_posit8_0_quire_s2", 2),
    ("mxdot_mxfp8_e4m3_fp32_s3", 3), ("floatmac_fp8_e4m3xfp8_e4m3_il2_fp32_s2", 2),
])
def test_design_names_carry_the_stages(name, stages):
    spec = designs.get(name)
    assert spec.name == name and spec.stages == stages
    assert designs.from_dict(spec.to_dict()) == spec
    assert spec.to_dict()["stages"] == stages


def _fp8(acc, **kw):
    return lambda: FloatMac(FP8, FP8, acc=A.get(acc), **kw)


@pytest.mark.parametrize("call, message", [
    (lambda: IntMac(INT8, INT8, acc=FixedAccumulator(20, 0), stages=-1),
     "IntMac stages must be an integer from 1 to 3 (cut points in order: product, "
     "partial_products), not -1"),
    (lambda: IntMac(INT8, INT8, acc=FixedAccumulator(20, 0), stages=4),
     "IntMac stages must be an integer from 1 to 3 (cut points in order: product, "
     "partial_products), not 4"),
    (lambda: IntMac(INT8, INT8, acc=FixedAccumulator(20, 0), stages=True),
     "IntMac stages must be an integer from 1 to 3 (cut points in order: product, "
     "partial_products), not True"),
    (_fp8("fp32", stages=4),
     "FloatMac stages must be an integer from 1 to 3 (cut points in order: product, decoded), "
     "not 4"),
    (_fp8("exact_fp32", stages=5),
     "FloatMac stages must be an integer from 1 to 4 (cut points in order: product, result, "
     "decoded), not 5"),
    (lambda: PositMac(P8, quire=Quire(P8), stages=0),
     "PositMac stages must be an integer from 1 to 4 (cut points in order: product, result, "
     "decoded), not 0"),
    (lambda: MxDotUnit(F.get("mxfp8_e4m3"), acc=FloatAccumulator(FP32), stages=4),
     "MxDotUnit stages must be an integer from 1 to 3 (cut points in order: products, tree), "
     "not 4"),
    (lambda: IntMac(INT8, INT8, acc=FixedAccumulator(20, 0), stages=2, fault="late"),
     "IntMac fault must be one of drop_enable, early_valid, not 'late'"),
    (lambda: IntMac(INT8, INT8, acc=FixedAccumulator(20, 0), fault="drop_enable"),
     "IntMac fault 'drop_enable' breaks a pipeline register; it needs stages 2 or more, not 1"),
    (lambda: IntMac(INT8, INT8, acc=FixedAccumulator(20, 0), stages=2, chained=True),
     "IntMac chained=True needs stages 1, not 2: a chained unit adds acc_in in the cycle of its "
     "operation, so a pipelined chain would add a partial sum that is not ready"),
    (lambda: SystolicArray(2, 2, IntMac(INT8, INT8, acc=FixedAccumulator(20, 0), stages=2),
                           "ws"),
     "SystolicArray dataflow 'ws' cannot carry a pipelined PE (IntMac stages 2): partial sums "
     "pass from PE to PE every cycle, so a PE must add its product in the cycle of its "
     "operation; use dataflow 'os' or stages 1"),
    (_fp8("il4_fp32"),
     "FloatMac implements FloatAccumulator order 'sequential' or interleaved(2), not "
     "interleaved(4) (the ring has two registers)"),
    (_fp8("il2_fp32", chained=True),
     "FloatMac implements FloatAccumulator order 'sequential', not interleaved(2) (interleaved "
     "partials: an unchained FloatMac builds interleaved(2))"),
    (lambda: MxDotUnit(F.get("mxfp8_e4m3"), acc=A.get("il2_fp32")),
     "MxDotUnit implements FloatAccumulator order 'sequential', not interleaved(2) "
     "(interleaved partials: an unchained FloatMac builds interleaved(2))"),
    (lambda: SystolicArray(2, 2, FloatMac(FP8, FP8, acc=A.get("il2_fp32")), "os"),
     "SystolicArray pe accumulator il2_fp32 cannot be interleaved: a PE's partial sums follow "
     "the cycles of its operations, and the array's input stream may pause inside a tile; use "
     "a sequential FloatAccumulator"),
    (lambda: AdderTreeEngine(8, FloatMac(FP8, FP8, acc=A.get("il2_fp32"))),
     "AdderTreeEngine pe accumulator il2_fp32 cannot be interleaved: the engine adds one tree "
     "sum per output beat into its register in the tree(8) order; use a sequential "
     "FloatAccumulator"),
])
def test_bad_pipelines_raise_one_clear_error(call, message):
    raises_exactly(call, OperationError, message)


@pytest.mark.parametrize("call, message", [
    (lambda: designs.of_kind("IntMac", stages=-1),
     "IntMac stages must be an integer from 1 to 3 (cut points in order: product, "
     "partial_products), not -1"),
    (lambda: designs.get("positmac_posit8_0_quire_s5"),
     "design 'positmac_posit8_0_quire_s5': PositMac stages must be an integer from 1 to 4 (cut "
     "points in order: product, result, decoded), not 5"),
    (lambda: designs.get("mxdot_mxfp8_e4m3_il2_fp32"),
     "design 'mxdot_mxfp8_e4m3_il2_fp32': MxDotUnit implements FloatAccumulator order "
     "'sequential', not interleaved(2) (interleaved partials: an unchained FloatMac builds "
     "interleaved(2))"),
])
def test_bad_pipelined_designs_name_the_field(call, message):
    raises_exactly(call, designs.DesignError, message)
    assert issubclass(designs.DesignError, LowbitError)


def test_stages_for_picks_the_fewest_stages_meeting_the_clock():
    from lowbit.hdl.pipeline import stages_for

    def make(stages):
        return designs.get(f"positmac_posit8_0_quire{'_s%d' % stages if stages > 1 else ''}")

    delays = {1: 900.0, 2: 700.0, 3: 450.0, 4: 440.0}  # a stand-in timing model, in ps

    def delay(spec):
        return delays[spec.stages]

    assert stages_for(make, 1000, delay) == 1
    assert stages_for(make, 1500, delay) == 3  # 667 ps: 450 ps fits, 700 does not
    raises_exactly(lambda: stages_for(make, 3000, delay), OperationError,
                   "clock_mhz 3000 (period 333 ps) is out of reach: the fastest of 1 to 4 "
                   "stages has a critical path of 440 ps (at most 2273 MHz); the accumulator "
                   "loop bounds the clock whatever the stages")
    raises_exactly(lambda: stages_for(make, 0, delay), OperationError,
                   "clock_mhz must be a positive number of MHz, not 0")
