"""LutTensorCore: constructor errors, the cycle formula by hand, golden against a direct integer
GEMM, the host-side beat/lane contract, and whole GEMMs on Amaranth's simulator.

Simulator configurations (the Verilator runs are the regression's, tests/verify): each one
covers what the regression entries do not: 3-bit weights and g = 3 with a symmetrized offset
table (plane port of 2 bits, odd correction scale); unsigned 4-bit activations with g = 1 (the
one-entry half table); a bipolar g = 8 table with tiles of one beat (``last`` held back by the
drain); a single-row tile (no drain registers) with an explicit offset 0 (no correction).
"""

import numpy as np
import pytest

from lowbit.errors import OperationError
from lowbit.golden import formats as F
from lowbit.golden.formats import IntFormat
from lowbit.hdl.lut_tensor_core import LutTensorCore
from lowbit.verify.pysim import simulate_gemm
from tests.expect import raises_exactly


# --- constructor errors --------------------------------------------------------------------------
@pytest.mark.parametrize("call, message", [
    (lambda: LutTensorCore(2, 9),
     "LutTensorCore group must be an integer from 1 to 8, not 9"),
    (lambda: LutTensorCore(0),
     "LutTensorCore weight_bits must be an integer from 1 to 4, not 0"),
    (lambda: LutTensorCore(5),
     "LutTensorCore weight_bits must be an integer from 1 to 4, not 5"),
    (lambda: LutTensorCore(2.0),
     "LutTensorCore weight_bits must be an integer from 1 to 4, not 2.0"),
    (lambda: LutTensorCore(2, 4, F.get("fp8_e4m3")),
     "LutTensorCore act_fmt must be None (int8) or an IntFormat of 1 to 8 bits, not "
     "'fp8_e4m3'"),
    (lambda: LutTensorCore(2, 4, F.get("int16")),
     "LutTensorCore act_fmt must be None (int8) or an IntFormat of 1 to 8 bits, not 'int16'"),
    (lambda: LutTensorCore(2, 4, "int8"),
     "LutTensorCore act_fmt must be None (int8) or an IntFormat of 1 to 8 bits, not "
     "str 'int8'"),
    (lambda: LutTensorCore(2, 4, None, (2, 16, 1)),
     "LutTensorCore tile must be a pair (rows, cols), not (2, 16, 1)"),
    (lambda: LutTensorCore(2, 4, None, 16),
     "LutTensorCore tile must be a pair (rows, cols), not 16"),
    (lambda: LutTensorCore(2, 4, None, (0, 16)),
     "LutTensorCore tile rows must be an integer from 1 to 64, not 0"),
    (lambda: LutTensorCore(2, 4, None, (2, 65)),
     "LutTensorCore tile cols must be an integer from 1 to 64, not 65"),
    (lambda: LutTensorCore(2, weight_encoding="sign"),
     "LutTensorCore weight_encoding must be one of 'offset', 'bipolar', not 'sign'"),
    (lambda: LutTensorCore(2, weight_encoding="bipolar", offset=1),
     "LutTensorCore offset applies only to weight_encoding 'offset', not 'bipolar' "
     "(got offset=1)"),
    (lambda: LutTensorCore(2, offset=4),
     "LutTensorCore offset must be an integer from 0 to 3, not 4"),
    (lambda: LutTensorCore(2, symmetric_table=1),
     "LutTensorCore symmetric_table must be True or False, not 1"),
    # 2 (2**4 - 1) 128 = 3840 needs 13 bits signed.
    (lambda: LutTensorCore(4, acc_bits=12),
     "LutTensorCore acc_bits must be an integer from 13 to 64, not 12"),
])
def test_rejects_bad_parameters(call, message):
    raises_exactly(call, OperationError, message)


def test_defaults_and_formats():
    core = LutTensorCore(2)
    assert core.a_fmt == IntFormat(8) and core.b_fmt == IntFormat(2, signed=False)
    assert core.tile == (2, 16) and core.natural_tile == (2, 4, 16)
    assert core.lanes_out == 16 and core.out_bits == 32 and core.accumulator is None
    assert core.config.offset == 2 and core.peak_macs_per_cycle == 2 * 16 * 4 / 2
    # (2**31 - 1) // (2 * 3 * 128)
    assert core.max_k == 2796202
    assert core.describe()["correction_scale"] == -2


# --- cycles by hand ------------------------------------------------------------------------------
@pytest.mark.parametrize("args, shape, cycles", [
    # One tile, K = 16: 4 groups x 2 planes = beats at edges 1..8; the last lookup at 9, the
    # copy registers row 0 at 10, row 1 at 11.
    (dict(weight_bits=2, group=4, tile=(2, 16)), (2, 16, 16), 11),
    # 2 x 2 tiles of 8 beats back to back: the last tile's last beat at 32, rows at 34, 35.
    (dict(weight_bits=2, group=4, tile=(2, 16)), (3, 13, 17), 35),
    # One beat per tile (K <= g, b = 1) but 4 rows to drain: last beats at 1, 5, 9, 13 (each
    # held until 4 edges after the previous), the last tile's rows at 15, 16, 17, 18.
    (dict(weight_bits=1, group=8, tile=(4, 8), weight_encoding="bipolar"), (5, 7, 9), 18),
    # TM = 1: 3 tiles of 2 groups x 4 planes, rows at 8 + 16 + 2 = 26.
    (dict(weight_bits=4, group=2, tile=(1, 5)), (1, 3, 15), 26),
])
def test_cycles_by_hand(args, shape, cycles):
    assert LutTensorCore(**args).cycles(*shape) == cycles


def test_cycles_rejects_bad_shapes():
    raises_exactly(lambda: LutTensorCore(2).cycles(0, 4, 4), OperationError,
                   "M must be an integer from 1 to 1099511627776, not 0")


# --- golden against a direct integer GEMM --------------------------------------------------------
def _act_values(codes, fmt):
    """Two's complement (or unsigned) values of ``fmt`` codes, without lowbit's decoder."""
    codes = np.asarray(codes, np.int64)
    if not fmt.signed:
        return codes
    return np.where(codes >> (fmt.bits - 1), codes - (1 << fmt.bits), codes)


def _weight_values(codes, core):
    cfg = core.config
    if cfg.weight_encoding == "bipolar":
        return 2 * codes - ((1 << cfg.weight_bits) - 1)
    return codes - cfg.offset


CORES = {
    "w2_g4_offset": dict(weight_bits=2, group=4, tile=(2, 16)),
    "w4_g4_offset_sym": dict(weight_bits=4, group=4, symmetric_table=True),
    "w1_g8_bipolar": dict(weight_bits=1, group=8, tile=(4, 8), weight_encoding="bipolar"),
    "w3_g3_offset_sym": dict(weight_bits=3, group=3, tile=(3, 4), symmetric_table=True),
    "w4_g1_sym_uint4": dict(weight_bits=4, group=1, tile=(2, 3), symmetric_table=True,
                            act_fmt=IntFormat(4, signed=False)),
    "w3_g5_bipolar_sym": dict(weight_bits=3, group=5, tile=(2, 4), weight_encoding="bipolar",
                              symmetric_table=True),
    "w2_g2_offset0_1xn": dict(weight_bits=2, group=2, tile=(1, 5), offset=0),
}


def _operands(core, M, K, N, rng):
    A = rng.integers(0, 1 << core.a_fmt.bits, (M, K))
    B = rng.integers(0, 1 << core.config.weight_bits, (K, N))
    return A, B


@pytest.mark.parametrize("name", CORES)
def test_golden_is_the_integer_product(name):
    core = LutTensorCore(**CORES[name])
    rng = np.random.default_rng(7)
    for M, K, N in [(3, 1, 2), (5, 29, 7), (2, 64, 33)]:
        A, B = _operands(core, M, K, N, rng)
        for k_end in (K, -(-K // 2)):
            want = _act_values(A[:, :k_end], core.a_fmt) @ _weight_values(B[:k_end], core)
            assert np.array_equal(core.golden(A, B, k_end), want), (M, K, N, k_end)


# --- the host-side contract ----------------------------------------------------------------------
@pytest.mark.parametrize("name", ["w2_g4_offset", "w3_g3_offset_sym", "w2_g2_offset0_1xn"])
@pytest.mark.parametrize("shape", [(1, 1, 1), (2, 16, 16), (5, 13, 17), (7, 3, 40)])
def test_beats_and_lanes_cover_every_output_once(name, shape):
    core = LutTensorCore(**CORES[name])
    M, K, N = shape
    TM, TN = core.tile
    b, g = core.config.weight_bits, core.config.group
    tiles_ = -(-M // TM) * -(-N // TN)
    A, B = _operands(core, M, K, N, np.random.default_rng(1))
    beats = core.input_beats(A, B)
    assert len(beats) == tiles_ * core.beats_per_tile(K) == tiles_ * -(-K // g) * b
    assert sum(x["first"] for x in beats) == sum(x["last"] for x in beats) == tiles_
    assert [x["plane"] for x in beats] == list(range(b)) * (len(beats) // b)
    lanes = core.output_map(M, K, N)
    assert len(lanes) == tiles_ * TM and all(len(row) == TN for row in lanes)
    seen = [spot for row in lanes for spot in row if spot is not None]
    assert sorted(seen) == [(m, n, K) for m in range(M) for n in range(N)]


def test_beats_pad_k_like_golden():
    """K = 5 with g = 4: the second group's padded positions hold activation 0 and code 2**b - 1
    (every plane bit set), as ``lut_gemm`` pads."""
    core = LutTensorCore(2, 4, None, (1, 1))
    beats = core.input_beats(np.full((1, 5), 0x81), np.zeros((5, 1), np.int64))
    assert [x["w"] for x in beats] == [0, 0, 0b1110, 0b1110]
    assert beats[2]["a"] == 0x81 and beats[3]["a"] == 0


def test_input_beats_reject_bad_codes():
    raises_exactly(lambda: LutTensorCore(2).input_beats(np.zeros((2, 3)), np.full((3, 2), 4)),
                   OperationError, "weight codes must lie in [0, 2**2) for weight_bits 2, got "
                   "[4, 4]")


# --- whole GEMMs on Amaranth's simulator ---------------------------------------------------------
def simulate_signed(core, A, B):
    """``(C, cycles)`` from :func:`simulate_gemm`, C's lanes read as signed integers."""
    C, cycles = simulate_gemm(core, A, B)
    w = core.out_bits
    C = C.astype(object)
    return np.array([[c - (1 << w) if c >> (w - 1) else c for c in row] for row in C],
                    dtype=np.int64), cycles


SIM_CORES = ["w3_g3_offset_sym", "w4_g1_sym_uint4", "w1_g8_bipolar", "w2_g2_offset0_1xn",
             "w3_g5_bipolar_sym"]


@pytest.mark.parametrize("name", SIM_CORES)
def test_simulated_gemms_match_golden_and_cycles(name):
    core = LutTensorCore(**CORES[name])
    rng = np.random.default_rng(3)
    tm, tk, tn = core.natural_tile
    for M, K, N in [(tm, 4 * tk, tn), (tm + 1, 3 * tk + 1, tn + 1), (1, 1, 1), (2 * tm, tk, 3)]:
        A, B = _operands(core, M, K, N, rng)
        C, cycles = simulate_signed(core, A, B)
        assert np.array_equal(C, core.golden(A, B, K)), (M, K, N)
        assert cycles == core.cycles(M, K, N), (M, K, N)


def test_simulated_growth_is_exact():
    """Every activation -128 and every code 2**b - 1 (weights +7 for int4): C = -128 * 7 K."""
    core = LutTensorCore(4, 4, None, (2, 3), symmetric_table=True)
    K = 203
    A, B = np.full((2, K), 0x80), np.full((K, 3), 15)
    C, _ = simulate_signed(core, A, B)
    assert (C == -128 * 7 * K).all()
