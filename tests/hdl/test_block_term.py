"""BlockTermGenerator against golden ``gemm._block_terms`` on Amaranth's Python simulator.

Every term is compared exactly: NaN and Inf flags, the sign (of zeros and infinities too) and
the value. Blocks come from the ``corners`` and ``random`` block vector sets (zeros, -0,
extremes, one large product among tiny ones, cancelling blocks, NaN/Inf elements, 0 * Inf,
extreme, zero and NaN scales). Configurations: every MX format and NVFP4 (fn-style NaN E4M3,
IEEE Inf/NaN E5M2, finite-only FP6/FP4, fixed-point MXINT8; E8M0 and UE4M3 scales), plus the
smallest and largest adder trees (block sizes 2 and 64), integer elements (bfp8_b16) and IEEE-style
E3M1 elements under UE4M3 scales (an infinite block sum times a zero scale).
"""

import numpy as np
import pytest
from amaranth.back import verilog
from amaranth.hdl import Fragment
from amaranth.sim import Simulator

from lowbit.errors import FormatParameterError, OperationError
from lowbit.golden import formats as F
from lowbit.golden import gemm
from lowbit.golden.accumulators import FloatAccumulator
from lowbit.golden.formats import BlockFormat
from lowbit.hdl.block_term import BlockTermGenerator
from lowbit.verify.block_vectors import block_array, block_stimulus
from tests.expect import raises_exactly

FORMATS = {name: F.get(name) for name in ("mxfp8_e4m3", "mxfp8_e5m2", "mxfp6_e3m2",
                                          "mxfp6_e2m3", "mxfp4", "mxint8", "nvfp4", "bfp8_b16")}
FORMATS["fp4_b2_e8m0"] = BlockFormat(F.get("fp4_e2m1"), 2, F.get("e8m0"))
FORMATS["fp8_e4m3_b64_e8m0"] = BlockFormat(F.get("fp8_e4m3"), 64, F.get("e8m0"))
# Inf elements under a scale that can be zero: Inf * 0 at the scale multiplication. (Not
# E5M2: golden's exact products stop at 64 bits, and a 62-bit E5M2 block sum times two 4-bit
# UE4M3 significands needs more.)
FORMATS["fp_e3m1_b16_ue4m3"] = BlockFormat(F.get("fp_e3m1"), 16, F.get("ue4m3"),
                                           scale_rule="nvfp4")

def simulate_terms(dut, a, a_scale, b, b_scale):
    """Drive each block pair into ``dut``; return ``(negative, sig, exp, nan, inf)`` rows."""
    rows = []

    async def bench(ctx):
        for i in range(len(a)):
            ctx.set(dut.a, [int(x) for x in a[i]])
            ctx.set(dut.b, [int(x) for x in b[i]])
            ctx.set(dut.a_scale, int(a_scale[i]))
            ctx.set(dut.b_scale, int(b_scale[i]))
            rows.append(tuple(ctx.get(port) for port in (
                dut.term_negative, dut.term_sig, dut.term_exp, dut.term_nan, dut.term_inf)))

    sim = Simulator(dut)
    sim.add_testbench(bench)
    sim.run()
    return rows


def _reduced(sig: int, exp: int):
    """``sig * 2**exp`` with trailing zero bits moved into ``exp`` (0 -> (0, 0))."""
    if sig == 0:
        return 0, 0
    while not sig & 1:
        sig, exp = sig >> 1, exp + 1
    return sig, exp


def _normalized(negative, sig, exp, nan, inf):
    """A term as a comparable tuple: flags, then the sign unless NaN, then the exact value
    unless NaN or Inf."""
    out = (bool(nan), bool(inf))
    if not nan:
        out += (bool(negative),)
        if not inf:
            out += _reduced(int(sig), int(exp))
    return out


def golden_terms(block_fmt, a, a_scale, b, b_scale):
    """Golden's terms of the block pairs (each the exact sum of its two parts), normalized."""
    terms, _ = gemm._block_terms(block_array(block_fmt, a, a_scale[:, None]),
                                 block_array(block_fmt, b, b_scale[:, None]),
                                 block_fmt, block_fmt, lambda x, y: (x, y))
    rows = []
    for i in range(len(a)):
        hi, lo = ([getattr(terms, f)[i, 0, part] for f in ("negative", "sig", "exp", "nan",
                                                            "inf")] for part in (0, 1))
        base = min(int(hi[2]), int(lo[2]))
        value = sum((-1 if neg else 1) * (int(sig) << (int(exp) - base))
                    for neg, sig, exp in (hi[:3], lo[:3]))
        negative = hi[0] if value == 0 else value < 0
        rows.append(_normalized(negative, abs(value), base, hi[3], hi[4]))
    return rows


def mismatches(got, want, a, a_scale, b, b_scale):
    """Describe the operations where simulated rows ``got`` differ from ``want``, in hex."""
    bad = []
    for i, (row, expected) in enumerate(zip(got, want, strict=True)):
        have = _normalized(*row)
        if have != expected:
            bad.append(f"op {i}: a={[hex(x) for x in a[i]]} a_scale={a_scale[i]:#x} "
                       f"b={[hex(x) for x in b[i]]} b_scale={b_scale[i]:#x}: "
                       f"(nan, inf, negative, sig, exp) {have}, golden {expected}")
    return bad


@pytest.mark.parametrize("kind", ["corners", "random"])
@pytest.mark.parametrize("name", FORMATS)
def test_block_term_matches_golden(name, kind):
    block_fmt = FORMATS[name]
    _, *ops = block_stimulus(kind, block_fmt, FloatAccumulator(F.get("fp32")), seed=7,
                             count=150)
    got = simulate_terms(BlockTermGenerator(block_fmt), *ops)
    bad = mismatches(got, golden_terms(block_fmt, *ops), *ops)
    assert not bad, f"{len(bad)} mismatches of {len(got)}:\n" + "\n".join(bad[:5])


def test_term_check_catches_a_wrong_term():
    """The comparison is not vacuous: against golden terms of blocks with one element LSB
    flipped, exactly the changed operations are reported."""
    block_fmt = FORMATS["mxfp8_e4m3"]
    _, a, a_scale, b, b_scale = block_stimulus("random", block_fmt,
                                               FloatAccumulator(F.get("fp32")), count=20)
    got = simulate_terms(BlockTermGenerator(block_fmt), a, a_scale, b, b_scale)
    finite = ~np.isnan(block_fmt.element.decode(a[:, 5] ^ 1)) & ~np.isnan(
        block_fmt.element.decode(a[:, 5]))
    changed = np.flatnonzero(finite & (block_fmt.element.decode(b[:, 5]) != 0))[:3]
    a_wrong = a.copy()
    a_wrong[changed, 5] ^= 1
    bad = mismatches(got, golden_terms(block_fmt, a_wrong, a_scale, b, b_scale),
                     a, a_scale, b, b_scale)
    assert [int(line.split(":")[0].split()[1]) for line in bad] == changed.tolist()
    assert changed.size == 3


@pytest.mark.parametrize("name, sig_width, exp_min, exp_max", [
    # Grid 2**-18 (E4M3's LSB 2**-9, squared); 32 * (448 * 2**9)**2 < 2**41; scales
    # 2**-127..2**127 each.
    ("mxfp8_e4m3", 41, -18 - 254, -18 + 254),
    # Grid 2**-32; 32 * (57344 * 2**16)**2 < 2**69.
    ("mxfp8_e5m2", 69, -32 - 254, -32 + 254),
    # Grid 2**-12; 32 * (-128)**2 = 2**19 (the unused -2.0 code squared).
    ("mxint8", 20, -12 - 254, -12 + 254),
    # Grid 2**-2; 16 * (6 * 2)**2 = 2304, times 15 * 15 (UE4M3 significands) < 2**19;
    # scales 2**-9 (the subnormals' LSB) .. 2**5 (LSB of 448 = 0b1110 * 2**5) each.
    ("nvfp4", 19, -2 - 18, -2 + 10),
])
def test_term_range(name, sig_width, exp_min, exp_max):
    dut = BlockTermGenerator(F.get(name))
    assert (dut.sig_width, dut.exp_min, dut.exp_max) == (sig_width, exp_min, exp_max)
    Fragment.get(dut, None)  # elaborates


def test_converts_to_verilog():
    text = verilog.convert(BlockTermGenerator(F.get("mxfp8_e5m2")), name="dut", emit_src=False)
    assert "endmodule" in text


@pytest.mark.parametrize("call, error, message", [
    (lambda: BlockTermGenerator(BlockFormat(F.get("fp8_e4m3"), 24, F.get("e8m0"))),
     OperationError, "BlockTermGenerator block_size must be a power of two from 2 to 64, not 24 "
     "(block_fp8_e4m3_b24_e8m0)"),
    (lambda: BlockTermGenerator(BlockFormat(F.get("fp8_e4m3"), 128, F.get("e8m0"))),
     OperationError, "BlockTermGenerator block_size must be a power of two from 2 to 64, not "
     "128 (block_fp8_e4m3_b128_e8m0)"),
    (lambda: BlockTermGenerator(F.get("fp8_e4m3")),
     OperationError, "BlockTermGenerator block_fmt must be a BlockFormat (MX, NVFP4 or BFP), "
     "not 'fp8_e4m3'"),
    (lambda: BlockTermGenerator(BlockFormat(F.get("fp16"), 32, F.get("e8m0"))),
     OperationError, "BlockTermGenerator elements must have at most 8 bits, not 16 (fp16)"),
    (lambda: BlockTermGenerator(BlockFormat(F.get("fp4_e2m1"), 16,
                                            F.FloatFormat(5, 2, inf=False, signed=False),
                                            scale_rule="nvfp4")),
     OperationError, "BlockTermGenerator scale must be one of e8m0, ue4m3, not "
     "'fp_e5m2_b15_fn_unsigned'"),
    # Posit elements are refused by the golden format itself, before any generator.
    (lambda: BlockTermGenerator(BlockFormat(F.get("posit8_0"), 32, F.get("e8m0"))),
     FormatParameterError, "element must be a FloatFormat, IntFormat or FixedFormat, not "
     "'posit8_0'"),
])
def test_rejects_bad_parameters(call, error, message):
    raises_exactly(call, error, message)
