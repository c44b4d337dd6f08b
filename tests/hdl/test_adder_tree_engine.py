"""AdderTreeEngine: constructor errors, closed-form cycles, host-side contract, and whole GEMMs
on Amaranth's Python simulator against golden ``gemm``.

Simulated configurations (short GEMMs; the Verilator runs are the regression's): one per way the
engine sums, each with K one past a multiple of the lanes (padding) and with NaN/Inf codes
where the format has them: int8 into a wrapping 24-bit register (integer tree), fp8_e4m3 into
fp32 (rounding tree, golden tree order), fp8_e5m2 x fp8_e4m3 into fp16 rounding down with
saturation (the -0 and overflow rules at every node), fp8_e4m3 into an exact fp32 accumulator
(grid tree into a Kulisch register, with an all -0 dot product whose padding must stay -0)
and posit8_0 into its quire. The shared float adder ``add_rounded`` is checked on its own
against golden fp16 additions.
"""

import numpy as np
import pytest
from amaranth.hdl import Elaboratable, Module, Signal

from lowbit.errors import OperationError
from lowbit.golden import arith
from lowbit.golden import formats as F
from lowbit.golden.accumulators import (ExactAccumulator, FixedAccumulator, FloatAccumulator,
                                        Quire, tree)
from lowbit.golden.formats import FloatFormat
from lowbit.hdl.accumulate import add_rounded
from lowbit.hdl.adder_tree_engine import AdderTreeEngine
from lowbit.hdl.adder_trees import TREES, ExactTree, IntTree, QuireTree, RoundedTree
from lowbit.hdl.float_decoder import FloatDecoder
from lowbit.hdl.float_mac import FloatMac
from lowbit.hdl.gemm_engine import unpack
from lowbit.hdl.int_mac import IntMac
from lowbit.hdl.mx_dot import MxDotUnit
from lowbit.hdl.posit_mac import PositMac
from lowbit.hdl.simd_mac import SimdMac, SimdMode
from lowbit.hdl.systolic_array import SystolicArray
from lowbit.verify.gemm_vectors import GemmCase, operands
from lowbit.verify.pysim import simulate_gemm
from tests.expect import raises_exactly
from tests.hdl.test_building_blocks import assert_equal, simulate

INT8, E4M3, E5M2 = F.get("int8"), F.get("fp8_e4m3"), F.get("fp8_e5m2")
FP32, FP16 = F.get("fp32"), F.get("fp16")
POSIT8 = F.get("posit8_0")


def int_mac(overflow="wrap"):
    return IntMac(INT8, INT8, acc=FixedAccumulator(24, 0, overflow))


def float_mac(acc=None, a_fmt=E4M3, b_fmt=E4M3):
    return FloatMac(a_fmt, b_fmt, acc=acc or FloatAccumulator(FP32))


def exact_mac():
    return float_mac(ExactAccumulator(FP32))


def posit_mac(standard="2022"):
    return PositMac(POSIT8, quire=Quire(POSIT8, standard))


# --- constructor errors ------------------------------------------------------------------------
@pytest.mark.parametrize("call, message", [
    (lambda: AdderTreeEngine(0, int_mac()),
     "AdderTreeEngine lanes must be a power of two from 2 to 64, not 0"),
    (lambda: AdderTreeEngine(1, int_mac()),
     "AdderTreeEngine lanes must be a power of two from 2 to 64, not 1"),
    (lambda: AdderTreeEngine(12, int_mac()),
     "AdderTreeEngine lanes must be a power of two from 2 to 64, not 12"),
    (lambda: AdderTreeEngine(128, int_mac()),
     "AdderTreeEngine lanes must be a power of two from 2 to 64, not 128"),
    (lambda: AdderTreeEngine("8", int_mac()),
     "AdderTreeEngine lanes must be a power of two from 2 to 64, not '8'"),
    (lambda: AdderTreeEngine(8, int_mac("saturate")),
     "AdderTreeEngine cannot implement FixedAccumulator overflow 'saturate': golden saturates "
     "after every addition in K order, which an adder tree reorders; use overflow='wrap' "
     "(exact in any order) or a SystolicArray"),
    (lambda: AdderTreeEngine(8, MxDotUnit(F.get("mxfp8_e4m3"), acc=FloatAccumulator(FP32))),
     "AdderTreeEngine pe cannot be an MxDotUnit: it is already a block dot-product tree "
     "(mxfp8_e4m3); use it alone or as a SystolicArray PE"),
    (lambda: AdderTreeEngine(8, SimdMac([SimdMode.preset("8x8", acc=FixedAccumulator(24, 0))])),
     "AdderTreeEngine pe cannot be a SimdMac: its lanes and formats change with the mode; use "
     "an IntMac of one mode's formats"),
    (lambda: AdderTreeEngine(8, SystolicArray(2, 2, int_mac(), "os")),
     "AdderTreeEngine pe must be an IntMac, FloatMac, PositMac or CarrySaveDot, not "
     "SystolicArray"),
    (lambda: AdderTreeEngine(8, IntMac(INT8, INT8, acc=FixedAccumulator(24, 0), chained=True)),
     "AdderTreeEngine pe must be an unchained unit; the engine has one register of its own"),
    (lambda: AdderTreeEngine(4, float_mac(FloatAccumulator(FP32), F.get("e8m0"), F.get("e8m0"))),
     "AdderTreeEngine pads K with zero products, but e8m0 x e8m0 has none"),
])
def test_rejects_bad_parameters(call, message):
    raises_exactly(call, OperationError, message)


def test_largest_draft_quire_tree_is_accepted():
    # 64 products of maxpos**2 = 2**12 reach 2**18, 2**30 in units of minpos**2 = 2**-12:
    # 31 bits and the sign fill the 32-bit draft quire exactly.
    assert AdderTreeEngine(64, posit_mac("draft")).accumulator == Quire(POSIT8, "draft")


# --- accumulator, cycles, host-side contract ---------------------------------------------------
def test_float_accumulator_becomes_tree_order():
    acc = FloatAccumulator(FP16, "rdn", overflow="saturate")
    engine = AdderTreeEngine(16, float_mac(acc))
    assert engine.accumulator == FloatAccumulator(FP16, "rdn", tree(16), "saturate")
    assert engine.pe.accumulator.order == "sequential"
    assert engine.describe()["accumulator"]["order"] == "tree(16)"


@pytest.mark.parametrize("make, kind", [(int_mac, IntTree), (exact_mac, ExactTree),
                                        (posit_mac, QuireTree), (float_mac, RoundedTree)])
def test_the_pe_s_accumulator_chooses_the_tree(make, kind):
    assert type(AdderTreeEngine(4, make()).datapath.tree) is kind
    golden_kinds = {acc.kind for acc in (FixedAccumulator, ExactAccumulator, Quire,
                                         FloatAccumulator)}
    assert set(TREES) == golden_kinds


@pytest.mark.parametrize("make", [int_mac, exact_mac, posit_mac])
def test_other_accumulators_are_the_pe_s(make):
    pe = make()
    assert AdderTreeEngine(4, pe).accumulator == pe.accumulator


@pytest.mark.parametrize("lanes, make, depth", [
    # Rounding nodes: a register after the products and after each of log2(lanes) levels.
    (2, float_mac, 2), (8, float_mac, 4), (64, float_mac, 7),
    # Integer nodes: after the products, then every second level and the root.
    (2, int_mac, 2), (4, int_mac, 2), (8, int_mac, 3), (16, exact_mac, 3), (64, posit_mac, 4),
])
def test_pipeline_depth(lanes, make, depth):
    assert AdderTreeEngine(lanes, make()).pipeline_depth == depth


def test_cycles_hand_count():
    engine = AdderTreeEngine(8, float_mac())  # depth 4: products, three tree levels
    # One output, one chunk: accepted at edge 1, products 1, levels 2-4, register at edge 5.
    assert engine.cycles(1, 8, 1) == 5
    assert engine.cycles(1, 9, 1) == 6  # two chunks back to back
    # 2 x 3 outputs of ceil(17 / 8) = 3 chunks each: 18 beats, the last registered 4 later.
    assert engine.cycles(2, 17, 3) == 18 + 4
    assert AdderTreeEngine(16, int_mac()).cycles(3, 100, 5) == 3 * 5 * 7 + 3
    raises_exactly(lambda: engine.cycles(0, 8, 1), OperationError,
                   "M must be an integer from 1 to 1099511627776, not 0")


@pytest.mark.parametrize("make", [int_mac, float_mac, exact_mac])
def test_beats_cover_every_output_once(make):
    engine = AdderTreeEngine(4, make())
    M, K, N = 3, 10, 2
    rng = np.random.default_rng(3)
    A = rng.integers(0, 256, (M, K))
    B = rng.integers(0, 256, (K, N))
    beats = engine.input_beats(A, B)
    outputs = engine.output_map(M, K, N)
    assert len(beats) == M * N * 3 and len(outputs) == M * N
    assert sorted(spot for row in outputs for spot in row) == [
        (m, n, K) for m in range(M) for n in range(N)]
    pad_a, pad_b = engine.padding_codes
    for j, [(m, n, k_end)] in enumerate(outputs):  # row-major, three chunks per output
        chunk = beats[3 * j:3 * j + 3]
        assert [(b["first"], b["last"]) for b in chunk] == [(1, 0), (0, 0), (0, 1)]
        a = sum((unpack(b["a"], 8, 4) for b in chunk), [])
        b = sum((unpack(b["b"], 8, 4) for b in chunk), [])
        assert a == list(A[m]) + [pad_a] * 2 and b == list(B[:, n]) + [pad_b] * 2


def test_padding_codes():
    # +0 products (golden tree order pads with +0; integers and posits have one zero) ...
    assert AdderTreeEngine(4, float_mac()).padding_codes == (0, 0)
    assert AdderTreeEngine(4, int_mac()).padding_codes == (0, 0)
    assert AdderTreeEngine(4, posit_mac()).padding_codes == (0, 0)
    # ... but -0 into an exact sum, whose zero is -0 only when every product is -0 ...
    assert AdderTreeEngine(4, exact_mac()).padding_codes == (0, 0x80)
    # ... unless no product can be negative.
    unsigned = FloatFormat(4, 3, signed=False, inf=False, name="ue4m3_test")
    engine = AdderTreeEngine(4, float_mac(ExactAccumulator(FP32), unsigned, unsigned))
    assert engine.padding_codes == (0, 0)


# --- whole GEMMs on the Python simulator -------------------------------------------------------
CONFIGS = {
    "int8_wrap24": (8, int_mac),
    "fp8_e4m3_fp32": (4, float_mac),
    "e5m2xe4m3_fp16_rdn_sat": (4, lambda: float_mac(
        FloatAccumulator(FP16, "rdn", overflow="saturate"), E5M2, E4M3)),
    "fp8_e4m3_exact_fp32": (8, exact_mac),
    "posit8_0_quire": (8, posit_mac),
}


@pytest.mark.parametrize("name", CONFIGS)
def test_gemm_matches_golden(name):
    lanes, make = CONFIGS[name]
    engine = AdderTreeEngine(lanes, make())
    rng = np.random.default_rng(11)
    for case in (GemmCase("ragged", 2, 2 * lanes + 1, 2, "specials"),
                 GemmCase("growth", 1, 3 * lanes, 1, "growth")):
        A, B = operands(engine, case, rng)
        if name == "fp8_e4m3_exact_fp32":  # C[0, 0] sums only -0 products: it must be -0
            A[0], B[:, 0] = 0x80, rng.integers(0, 0x7F, case.K)
        got, cycles = simulate_gemm(engine, A, B)
        got = got.reshape(-1)
        want = engine.golden(A, B, case.K).reshape(-1).astype(np.uint64)
        assert_equal(got, want, [f"{case.label} C[{j // case.N}, {j % case.N}]"
                                 for j in range(len(want))], name)
        assert cycles == engine.cycles(case.M, case.K, case.N)


# --- the shared float adder ----------------------------------------------------------------------
class _RoundedAdd(Elaboratable):
    """``round(a + b)`` of two codes through :func:`add_rounded` (as a tree node uses it)."""

    def __init__(self, acc):
        self.acc = acc
        self.decode_b = FloatDecoder(acc.fmt)
        self.a, self.b = Signal(acc.fmt.bits), self.decode_b.code
        self.code = Signal(acc.fmt.bits)

    def elaborate(self, platform):
        m = Module()
        m.submodules.decode_b = d = self.decode_b
        total = add_rounded(m, self.acc, self.a, d, (d.sig_width, d.exp_min, d.exp_max))
        m.d.comb += self.code.eq(total)
        return m


@pytest.mark.parametrize("rounding, overflow", [("rne", None), ("rdn", None), ("rtz", None),
                                                ("rup", "saturate")])
def test_add_rounded_matches_golden_fp16_add(rounding, overflow):
    fmt = FP16
    acc = FloatAccumulator(fmt, rounding, overflow=overflow)
    rng = np.random.default_rng(5)
    a = rng.integers(0, 1 << 16, 400, dtype=np.uint64)
    b = rng.integers(0, 1 << 16, 400, dtype=np.uint64)
    b[:100] = a[:100] ^ np.uint64(0x8000)  # x + (-x): +0, or -0 rounding down
    b[100:150] = a[100:150]  # doubling: overflow near the top
    specials = np.array([0, 0x8000, 0x7C00, 0xFC00, 0x7E00, 0x7BFF, 0xFBFF, 1, 0x8001],
                        dtype=np.uint64)
    sa, sb = np.meshgrid(specials, specials)
    a, b = np.concatenate([a, sa.ravel()]), np.concatenate([b, sb.ravel()])
    got = simulate(_RoundedAdd(acc), [{"a": x, "b": y} for x, y in zip(a, b)], ["code"])[:, 0]
    x, y = fmt.to_exact(a), fmt.to_exact(b)
    want = fmt.round_exact(arith.add_exact_values(x, y, rounding == "rdn"), rounding, overflow)
    want = np.where(np.isnan(fmt.decode(want)), fmt.nan_code, want)
    assert_equal(got, want, [f"{p:#06x}+{q:#06x}" for p, q in zip(a, b)], "sum")
