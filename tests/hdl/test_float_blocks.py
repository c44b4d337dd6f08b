"""Float building blocks against golden on Amaranth's Python simulator.

FloatDecoder: every code of every FP4..FP8 format, E8M0, UE4M3, an FTZ format and bf16's top
byte layout (as 16-bit samples). FloatEncoder: seeded random magnitudes of many widths at
exponents from below the subnormals to beyond the maximum, every mode and overflow policy,
against ``FloatFormat.round_exact``. ExactAdder + FloatEncoder: fp16 additions (random,
cancelling, subnormal and special pairs) against golden ``arith.add``. StickyShift: every value
and amount at 6 bits.
"""

import numpy as np
import pytest
from amaranth.hdl import Elaboratable, Module

from lowbit.errors import OperationError
from lowbit.golden import arith
from lowbit.golden import formats as F
from lowbit.golden.exact import Exact
from lowbit.golden.formats import FloatFormat
from lowbit.hdl.exact_adder import ExactAdder
from lowbit.hdl.exact_term import connect_terms
from lowbit.hdl.float_decoder import FloatDecoder
from lowbit.hdl.float_encoder import FloatEncoder
from lowbit.hdl.sticky_shift import StickyShift
from tests.expect import raises_exactly
from tests.hdl.test_building_blocks import assert_equal, simulate

DECODER_FORMATS = ["fp8_e4m3", "fp8_e5m2", "fp6_e3m2", "fp6_e2m3", "fp4_e2m1", "e8m0", "ue4m3"]
FTZ = FloatFormat(4, 3, subnormals=False, inf=False, name="e4m3_ftz")
MODES = ["rne", "rna", "rtz", "rup", "rdn", "rto"]


@pytest.mark.parametrize("fmt", [F.get(n) for n in DECODER_FORMATS] + [FTZ],
                         ids=DECODER_FORMATS + ["e4m3_ftz"])
def test_decoder_every_code(fmt):
    codes = np.arange(1 << fmt.bits, dtype=np.uint64)
    dut = FloatDecoder(fmt)
    got = simulate(dut, [{"code": c} for c in codes], ["negative", "sig", "exp", "zero", "nan",
                                                       "inf"])
    ex = fmt.to_exact(codes)
    names = [hex(c) for c in codes]
    assert_equal(got[:, 4], ex.nan, names, "nan")
    assert_equal(got[:, 5], ex.inf, names, "inf")
    finite = ~ex.nan & ~ex.inf
    # Values as integers in units of the smallest LSB either side uses.
    base = min(dut.exp_min, int(ex.exp[finite].min()))

    def scaled(neg, sig, exp):
        return [(-1 if n else 1) * (int(s) << (int(e) - base)) for n, s, e in zip(neg, sig, exp)]
    want = scaled(ex.negative[finite], ex.sig[finite], ex.exp[finite])
    have = scaled(got[finite, 0], got[finite, 1], got[finite, 2])
    assert_equal(have, want, [n for n, f in zip(names, finite) if f], "value")
    assert_equal(got[finite, 0], ex.negative[finite], names, "sign")
    assert_equal(got[finite, 3], ex.sig[finite] == 0, names, "zero")
    exps = got[:, 2].astype(np.int64)
    assert dut.exp_min <= exps.min() and exps.max() <= dut.exp_max


def _encoder_cases(fmt, sig_width, exp_min, exp_max, seed):
    rng = np.random.default_rng(seed)
    n = 600
    widths = rng.integers(1, sig_width + 1, n)
    sig = np.array([int(rng.integers(0, 1 << int(w))) for w in widths], dtype=object)
    sig[:20] = 0
    # Ties and near-ties: a (man+2)-bit pattern ending in 1, shifted up.
    for i in range(20, 120):
        k = fmt.man_bits + 2
        sig[i] = (int(rng.integers(1 << (k - 1), 1 << k)) | 1) << int(rng.integers(0, 4))
    exp = rng.integers(exp_min, exp_max + 1, n)
    negative = rng.random(n) < 0.5
    nan = np.zeros(n, bool)
    inf = np.zeros(n, bool)
    nan[-10:], inf[-20:-10] = True, True
    return negative, sig, exp, nan, inf


@pytest.mark.parametrize("overflow", [None, "saturate", "nan"])
@pytest.mark.parametrize("rounding", MODES)
@pytest.mark.parametrize("name, sig_width, exp_range", [
    ("fp16", 30, (-60, 20)),   # subnormals (below 2**-24), overflow (above 65504)
    ("bf16", 12, (-150, 125)),
    ("fp8_e4m3", 9, (-20, 8)),  # fn-style NaN: overflow rules without Inf
])
def test_encoder_matches_round_exact(name, sig_width, exp_range, rounding, overflow):
    fmt = F.get(name)
    if overflow not in (None, *fmt.overflow_policies):
        pytest.skip(f"{name} has no {overflow} policy")
    dut = FloatEncoder(fmt, sig_width=sig_width, exp_min=exp_range[0], exp_max=exp_range[1],
                       rounding=rounding, overflow=overflow)
    negative, sig, exp, nan, inf = _encoder_cases(fmt, sig_width, *exp_range, seed=sig_width)
    rows = [{"negative": n, "sig": s, "exp": e, "nan": a, "inf": i}
            for n, s, e, a, i in zip(negative, sig, exp, nan, inf)]
    got = simulate(dut, rows, ["code"])[:, 0]
    ex = Exact(negative, sig.astype(np.uint64), exp.astype(np.int64), nan, inf)
    want = fmt.round_exact(ex, rounding, overflow)
    want = np.where(np.isnan(fmt.decode(want)), fmt.nan_code, want)  # accumulators' NaN rule
    assert_equal(got, want, [f"{'-' if n else '+'}{s}*2**{e} nan={a} inf={i}" for n, s, e, a, i
                             in zip(negative, sig, exp, nan, inf)], "code")


class _AddThenRound(Elaboratable):
    """fp16 + fp16 through FloatDecoder x2 -> ExactAdder -> FloatEncoder (as the MAC does)."""

    def __init__(self, fmt, rounding):
        self.fmt, self.rounding = fmt, rounding
        self.da, self.db = FloatDecoder(fmt), FloatDecoder(fmt)
        self.add = ExactAdder(x_width=self.da.sig_width, x_exp=(self.da.exp_min, self.da.exp_max),
                              y_width=self.db.sig_width, y_exp=(self.db.exp_min, self.db.exp_max),
                              precision=fmt.man_bits + 1, negative_zero=rounding == "rdn")
        low, high = self.add.exp_range
        self.enc = FloatEncoder(fmt, sig_width=self.add.sig_width, exp_min=low, exp_max=high,
                                rounding=rounding)
        self.a, self.b, self.code = self.da.code, self.db.code, self.enc.code

    def elaborate(self, platform):
        m = Module()
        m.submodules += [self.da, self.db, self.add, self.enc]
        m.d.comb += [*connect_terms(self.add, self.da, "x_"),
                     *connect_terms(self.add, self.db, "y_"),
                     *connect_terms(self.enc, self.add)]
        return m


@pytest.mark.parametrize("rounding", MODES)
def test_adder_and_encoder_match_golden_fp16_add(rounding):
    fmt = F.get("fp16")
    rng = np.random.default_rng(7)
    a = rng.integers(0, 1 << 16, 1500, dtype=np.uint64)
    b = rng.integers(0, 1 << 16, 1500, dtype=np.uint64)
    b[:300] = a[:300] ^ np.uint64(0x8000)  # x + (-x)
    b[300:600] = (a[300:600] ^ np.uint64(0x8000)) + rng.integers(-3, 4, 300).astype(np.uint64)
    a[600:700] = rng.integers(0, 0x400, 100, dtype=np.uint64)  # subnormals
    b[600:700] = rng.integers(0, 0x400, 100, dtype=np.uint64) | np.uint64(0x8000)
    specials = np.array([0, 0x8000, 0x7C00, 0xFC00, 0x7E00, 0x7BFF, 0xFBFF, 1, 0x8001, 0x3C00],
                        dtype=np.uint64)
    sa, sb = np.meshgrid(specials, specials)
    a = np.concatenate([a, sa.ravel()]) & np.uint64(0xFFFF)
    b = np.concatenate([b, sb.ravel()]) & np.uint64(0xFFFF)
    got = simulate(_AddThenRound(fmt, rounding), [{"a": x, "b": y} for x, y in zip(a, b)],
                   ["code"])[:, 0]
    want = arith.add(a, b, fmt, rounding)
    want = np.where(np.isnan(fmt.decode(want)), fmt.nan_code, want)
    assert_equal(got, want, [f"{x:#06x}+{y:#06x}" for x, y in zip(a, b)], "sum")


def test_sticky_shift_every_value_and_amount():
    width = 6
    dut = StickyShift(width, max_amount=9)
    rows = [{"value": v, "amount": s} for v in range(1 << width) for s in range(10)]
    got = simulate(dut, rows, ["shifted"])[:, 0]
    want = [(r["value"] >> r["amount"]) | int(r["value"] & ((1 << r["amount"]) - 1) != 0)
            for r in rows]
    assert_equal(got, want, [f"{r['value']}>>{r['amount']}" for r in rows], "shifted")


@pytest.mark.parametrize("call, message", [
    (lambda: FloatDecoder(F.get("int8")), "FloatDecoder needs a FloatFormat, not 'int8'"),
    (lambda: FloatEncoder(F.get("fp4_e2m1"), sig_width=8, exp_min=0, exp_max=1),
     "FloatEncoder result format fp4_e2m1 lacks NaN; supported: signed float formats with zero, "
     "subnormals and NaN such as fp32, fp16, bf16, fp8_e4m3, fp8_e5m2"),
    (lambda: FloatEncoder(F.get("fp16"), sig_width=8, exp_min=3, exp_max=1),
     "FloatEncoder exp_max 1 is below exp_min 3"),
    (lambda: FloatEncoder(F.get("fp16"), sig_width=8, exp_min=0, exp_max=1, overflow="wrap"),
     "overflow for fp16 must be one of 'saturate', 'inf', 'nan', not 'wrap'"),
    (lambda: StickyShift(1, max_amount=3),
     "StickyShift width must be an integer from 2 to 4096, not 1"),
])
def test_bad_parameters(call, message):
    raises_exactly(call, OperationError, message)
