"""SystolicArray: parameter errors, the closed-form cycle counts, the host-side stream layout,
and the chained MAC mode its weight-stationary PEs use (Amaranth simulator against golden).

The arrays' GEMMs run on Verilator in the regression (tests/verify/test_systolic_array.py and
``lowbit regress``); here only what needs no simulator, plus the chained PE it is built from.
"""

import numpy as np
import pytest

from lowbit.errors import OperationError
from lowbit.golden import formats as F
from lowbit.golden import gemm
from lowbit.golden.accumulators import (ExactAccumulator, FixedAccumulator, FloatAccumulator,
                                        Quire)
from lowbit.golden.formats import BlockArray
from lowbit.hdl.component import Component
from lowbit.hdl.float_mac import FloatMac
from lowbit.hdl.gemm_engine import Feedback
from lowbit.hdl.int_mac import IntMac
from lowbit.hdl.mx_dot import MxDotUnit
from lowbit.hdl.posit_mac import PositMac
from lowbit.hdl.simd_mac import SimdMac, SimdMode
from lowbit.hdl.systolic_array import SystolicArray
from lowbit.verify.gemm_vectors import gemm_cases, operands
from lowbit.verify.pysim import simulate_gemm, simulate_mac
from lowbit.verify.vectors import MacVectors
from tests.expect import raises_exactly

INT8, FP8, FP32 = F.get("int8"), F.get("fp8_e4m3"), F.get("fp32")


def int_pe(overflow="wrap"):
    return IntMac(INT8, INT8, acc=FixedAccumulator(20, 0, overflow))


def fp8_pe(acc=None):
    return FloatMac(FP8, FP8, acc=acc or FloatAccumulator(FP32))


# --- parameter errors ---------------------------------------------------------------------------
@pytest.mark.parametrize("make, message", [
    (lambda: SystolicArray(0, 4, int_pe(), "os"),
     "SystolicArray rows must be an integer from 1 to 64, not 0"),
    (lambda: SystolicArray(4, 65, int_pe(), "ws"),
     "SystolicArray cols must be an integer from 1 to 64, not 65"),
    (lambda: SystolicArray(4, 4, int_pe(), "is"),
     "SystolicArray dataflow must be one of 'os', 'ws', not 'is'"),
    (lambda: SystolicArray(4, 4, "int8", "os"),
     "SystolicArray pe must be an IntMac, FloatMac, PositMac, MxDotUnit, SimdMac or "
     "CarrySaveDot, not str"),
    (lambda: SystolicArray(2, 2, SimdMac([SimdMode.preset(s, acc=FixedAccumulator(16, 0))
                                          for s in ("4x4", "8x8")]), "os"),
     "SystolicArray runs a SimdMac pe in one mode; build it with one SimdMode, not 2"),
    (lambda: SystolicArray(2, 2, SimdMac([SimdMode.preset("4x4", acc=FixedAccumulator(16, 0))]),
                           "ws"),
     "SystolicArray dataflow 'ws' cannot carry SimdMac PEs: their 2 lane registers sit inside "
     "the PE and cannot be chained; use dataflow 'os'"),
    (lambda: SystolicArray(4, 4, fp8_pe(ExactAccumulator(FP32)), "ws"),
     "SystolicArray dataflow 'ws' cannot carry a ExactAccumulator: partial sums flow between "
     "PEs as fp32 codes, but it sums in a wide register rounded only at the end; use dataflow "
     "'os'"),
    (lambda: SystolicArray(4, 4, PositMac(F.get("posit8_0"), quire=Quire(F.get("posit8_0"))),
                           "ws"),
     "SystolicArray dataflow 'ws' cannot carry a Quire: partial sums flow between PEs as "
     "posit8_0 codes, but it sums in a wide register rounded only at the end; use dataflow "
     "'os'"),
    (lambda: SystolicArray(2, 2, MxDotUnit(F.get("mxfp4"), acc=FloatAccumulator(FP32)), "ws"),
     "SystolicArray dataflow 'ws' cannot carry mxfp4 PEs: partial sums flow between PEs as "
     "accumulator codes, but a block's scale pair meets its sum inside the PE; use dataflow "
     "'os'"),
    (lambda: SystolicArray(2, 2, IntMac(INT8, INT8, acc=FixedAccumulator(20, 0), chained=True),
                           "os"),
     "SystolicArray pe must be an unchained unit; the array chains its weight-stationary PEs "
     "itself"),
])
def test_invalid_parameters_raise_one_clear_error(make, message):
    raises_exactly(make, OperationError, message)


def test_operands_of_the_wrong_shape_are_refused():
    array = SystolicArray(2, 2, int_pe(), "ws")
    raises_exactly(lambda: array.input_beats(np.zeros((3, 4), np.int64),
                                             np.zeros((5, 2), np.int64)),
                   OperationError, "A is 3 x 4 but B is 5 x 2: their K must match")
    mx = SystolicArray(2, 2, MxDotUnit(F.get("mxfp4"), acc=FloatAccumulator(FP32)), "os")
    raises_exactly(lambda: mx.input_beats(np.zeros((2, 32), np.int64),
                                          np.zeros((32, 2), np.int64)),
                   OperationError, "A must be a BlockArray of mxfp4")


# --- closed-form cycles, counted by hand ----------------------------------------------------------
def test_cycles_of_a_single_pe_counted_by_hand():
    # os 1x1, one MAC: beat accepted at edge 1, the PE registers its sum at that edge, the
    # copy D = R + C - 2 + L = 1 edge later (edge 2) is also the one output beat: 2 edges.
    assert SystolicArray(1, 1, int_pe(), "os").cycles(1, 1, 1) == 2
    # ws 1x1: preload at edge 1, the row beat at edge 2 registers the result: 2 edges; each
    # further tile adds R + M + C - 1 = 2 (no bubble with one column).
    ws = SystolicArray(1, 1, int_pe(), "ws")
    assert ws.cycles(1, 1, 1) == 2 and ws.cycles(1, 3, 1) == 6 and ws.cycles(4, 1, 1) == 5


def test_os_cycles_formula():
    # 4x4, M=5, K=9, N=6: 2 x 2 output tiles of 9 beats + a bubble of 6, then the last copy
    # (R + C - 2 + L = 7 edges after the last beat) and 4 drain beats.
    array = SystolicArray(4, 4, int_pe(), "os")
    last_beat = 3 * (9 + 6) + 9          # edge of the last beat, counting the first as 1
    assert array.cycles(5, 9, 6) == last_beat + 7 + 3 == 4 * (9 + 4 + 4 - 2) + 4 + 1 - 1
    mx = SystolicArray(2, 3, MxDotUnit(F.get("mxfp4"), acc=FloatAccumulator(FP32)), "os")
    # K = 70 elements is 3 blocks of 32; MxDotUnit latency 2
    assert mx.cycles(2, 70, 3) == 1 * (3 + 2 + 3 - 2) + 2 + 2 - 1
    assert mx.peak_macs_per_cycle == 2 * 3 * 32


def test_simd_pe_widens_the_output_tile():
    # a 2-lane int4 SIMD PE: each PE column computes two output columns, so a 4x4 array has
    # 4x8 output tiles and 8 result lanes.
    pe = SimdMac([SimdMode.preset("4x4", acc=FixedAccumulator(16, 0))])
    array = SystolicArray(4, 4, pe, "os")
    assert array.lanes_out == 8 and array.peak_macs_per_cycle == 32
    assert array.cycles(4, 10, 8) == 1 * (10 + 4 + 4 - 2) + 4 + 1 - 1
    assert array.cycles(4, 10, 9) == 2 * (10 + 4 + 4 - 2) + 4 + 1 - 1
    assert array.a_fmt == F.IntFormat(4) and array.accumulator == FixedAccumulator(16, 0)
    A = np.array([[3, 5]])          # int4 codes, K = 2
    B = np.array([[1, 2], [7, 9]])  # K x N = 2 x 2
    beats = array.input_beats(A, B)
    assert beats[0]["a"] & 0xFFFF == 0x33                # the activation in both lane fields
    assert beats[1]["b"] & 0xFF == 0x97 and beats[1]["last"] == 1


def test_one_lane_simd_pe_gemm_matches_golden():
    # the 8x8 SIMD mode has one lane: its b lane still holds a group of (one) weight
    array = SystolicArray(2, 2, SimdMac([SimdMode.preset("8x8", acc=FixedAccumulator(24, 0))]),
                          "os")
    rng = np.random.default_rng(8)
    A, B = rng.integers(0, 256, (3, 5)), rng.integers(0, 256, (5, 3))
    C, cycles = simulate_gemm(array, A, B)
    np.testing.assert_array_equal(C, array.golden(A, B, 5).astype(np.uint64) & 0xFFFFFF)
    assert cycles == array.cycles(3, 5, 3)


def test_ws_cycles_formula():
    # 4x4, M=5, K=9, N=6: 3 K tiles x 2 N tiles, each 4 preload + 5 row beats + bubble 3,
    # the last row leaving R + C - 2 = 6 edges after its beat.
    array = SystolicArray(4, 4, int_pe(), "ws")
    last_beat = 5 * (4 + 5 + 3) + 4 + 5
    assert array.cycles(5, 9, 6) == last_beat + 6 == 6 * (4 + 5 + 4 - 1) + 4 - 1


@pytest.mark.parametrize("dataflow", ["os", "ws"])
def test_cycles_refuse_an_empty_shape(dataflow):
    raises_exactly(lambda: SystolicArray(2, 2, int_pe(), dataflow).cycles(3, 0, 3),
                   OperationError, "K must be an integer from 1 to 1099511627776, not 0")


# --- host-side stream layout ----------------------------------------------------------------------
@pytest.mark.parametrize("dataflow", ["os", "ws"])
@pytest.mark.parametrize("shape", [(1, 1, 1), (5, 9, 6), (3, 2, 7), (8, 4, 4)])
def test_every_output_appears_once_with_all_of_k(dataflow, shape):
    M, K, N = shape
    array = SystolicArray(4, 3, int_pe(), dataflow)
    lanes = [spot for beat in array.output_map(M, K, N) for spot in beat if spot is not None]
    final = sorted((m, n) for m, n, k_end in lanes if k_end == K)
    assert final == [(m, n) for m in range(M) for n in range(N)]
    A = np.arange(M * K).reshape(M, K) % 100
    B = np.arange(K * N).reshape(K, N) % 100
    beats = array.input_beats(A, B)
    stream = [b for b in beats if not b.get("load")]
    assert len(array.output_map(M, K, N)) == (len(stream) if dataflow == "ws"
                                              else len(stream) // K * 4)


def test_ws_partial_sums_come_back_from_the_previous_k_tile():
    M, K, N = 3, 9, 2
    array = SystolicArray(4, 2, int_pe(), "ws")
    outputs = array.output_map(M, K, N)
    rows = [b for b in array.input_beats(np.ones((M, K), np.int64), np.ones((K, N), np.int64))
            if not b["load"]]
    for i, beat in enumerate(rows):
        if isinstance(beat["c_in"], Feedback):
            (m, n, k_end), (m2, n2, k_prev) = outputs[i][0], outputs[beat["c_in"].beat][0]
            assert (m, n) == (m2, n2) and k_prev % 4 == 0 and 0 < k_end - k_prev <= 4
        else:
            assert beat["c_in"] == 0 and outputs[i][0][2] <= 4


def test_golden_is_gemm_with_the_pe_accumulator():
    array = SystolicArray(2, 2, fp8_pe(), "ws")
    rng = np.random.default_rng(3)
    A, B = operands(array, gemm_cases("gemm_quick", array)[1], rng)
    np.testing.assert_array_equal(array.golden(A, B, 5),
                                  gemm.gemm(A[:, :5], B[:5], FP8, FP8, FloatAccumulator(FP32)))


def test_block_operands_are_block_arrays_blocked_along_k():
    array = SystolicArray(2, 2, MxDotUnit(F.get("mxfp4"), acc=FloatAccumulator(FP32)), "os")
    A, B = operands(array, gemm_cases("gemm_quick", array)[1], np.random.default_rng(0))
    assert isinstance(A, BlockArray) and A.shape == (3, 3 * 64 + 1) and A.axis == 1
    assert isinstance(B, BlockArray) and B.shape == (3 * 64 + 1, 3) and B.axis == 0
    assert array.golden(A, B, A.shape[1]).shape == (3, 3)


# --- whole GEMMs on Amaranth's simulator (Verilator runs are in tests/verify) -----------------------
@pytest.mark.parametrize("dataflow, shape", [("ws", (3, 7, 4)), ("os", (3, 7, 4)),
                                             ("ws", (1, 2, 1)), ("os", (5, 1, 2))])
def test_small_array_gemms_match_golden_and_cycles(dataflow, shape):
    # a 2x3 array with a saturating register: ragged tiles, K tiles fed back (ws)
    array = SystolicArray(2, 3, IntMac(INT8, INT8, acc=FixedAccumulator(16, 0, "saturate")),
                          dataflow)
    M, K, N = shape
    rng = np.random.default_rng(5)
    A, B = rng.integers(0, 256, (M, K)), rng.integers(0, 256, (K, N))
    C, cycles = simulate_gemm(array, A, B)
    np.testing.assert_array_equal(C, array.golden(A, B, K).astype(np.uint64) & 0xFFFF)
    assert cycles == array.cycles(M, K, N)


# --- the chained PE ---------------------------------------------------------------------------------
@pytest.mark.parametrize("pe, bits", [
    (IntMac(INT8, INT8, acc=FixedAccumulator(18, 0, "saturate"), chained=True), 18),
    (FloatMac(FP8, FP8, acc=FloatAccumulator(FP32), chained=True), 32),
    (FloatMac(F.get("fp8_e5m2"), FP8, acc=FloatAccumulator(F.get("fp16"), "rdn"),
              chained=True), 16),
], ids=["int8_sat18", "fp8_fp32", "e5m2_fp16_rdn"])
def test_chained_pe_adds_to_the_incoming_partial_sum(pe, bits):
    # A weight-stationary column in time: operation k adds a_k * b_k to the golden sum of
    # the first k products (its code), so acc must be the golden sum of k + 1 products.
    rng = np.random.default_rng(7)
    k = 120
    a = rng.integers(0, 1 << pe.a_fmt.bits, k)
    b = rng.integers(0, 1 << pe.b_fmt.bits, k)
    if pe.a_fmt.kind == "float":  # mostly finite operands, large ones included
        a = np.where(np.isfinite(pe.a_fmt.decode(a)), a, 0x38)
        b = np.where(np.isfinite(pe.b_fmt.decode(b)), b, 0x38)
    sums = [int(gemm.dot(a[:i + 1], b[:i + 1], pe.a_fmt, pe.b_fmt, pe.accumulator))
            for i in range(k)]
    mask = (1 << bits) - 1
    incoming = [0] + [s & mask for s in sums[:-1]]
    got = simulate_mac(pe, MacVectors("chained", np.zeros(k, bool), a, b, None), incoming)
    assert [g & mask for g in got] == [s & mask for s in sums]


def test_replica_rebuilds_a_unit_with_changed_keywords():
    pe = Component.part(int_pe("saturate"))
    twin = Component.part(pe.replica(chained=True))  # neither is elaborated here
    assert type(twin) is IntMac and twin.chained and not pe.chained
    assert twin.accumulator == pe.accumulator and twin.a_fmt == pe.a_fmt
