"""Oracle tests for ``lowbit.golden.arith`` (add, sub, mul, fma, neg, abs, compare, mul_exact).

Every lowbit result is compared as a bit pattern with an oracle that does not use lowbit's
decoders, rounders or arithmetic:

1. Minifloats, all operand pairs: ``ml_dtypes`` computing in float32 from the values it decodes
   itself, then one cast (``astype``) to the format. One float32 rounding followed by one
   rounding to a format of p <= 4 significand bits is correct for + - * because
   24 >= 2p + 2 (numerics.md, "Double rounding"); fp8 products are even exact in float32.
   Overflow policies matched to ml_dtypes (e4m3fn: nan, e5m2: inf, fp6/fp4: saturate).
   fp8_e4m3 and fp8_e5m2 also run every rounding mode (rne rna rtz rup rdn rto) and every
   overflow policy against an exact ``Fraction`` reference: the exact sum/product (values of
   :mod:`tests.golden.fraction_oracle`, decoded by ml_dtypes), located with ``bisect`` in the
   sorted value table (continued past max with the top binade's spacing, so
   overflow is decided after rounding, as IEEE 754 7.4 says).
2. fp16 and fp32: a TestFloat-style level-1 generator (22 exponent classes = 11 exponent fields
   x 2 signs, times 4 significand patterns = 88 operands; the 7,744-pair cross product plus
   weighted random cases = 46,464 cases per op per mode; fma: two Latin squares over the
   classes, tiny products next to every class, then random triples with addends near -a*b),
   against Berkeley SoftFloat (``softfloatpy``) in rne rtz rup rdn rna. SoftFloat has no
   round-to-odd here, so rto (and bf16 in every mode) is checked against the exact
   ``Fraction`` oracle with its own decoder and encoder (:mod:`tests.golden.fraction_oracle`).
3. Posits: SoftPosit (``softposit``), all pairs of posit(8,0) and posit(8,2), and 100k random
   triples of posit(16,1) add/mul/fma (plus 20k fma triples whose addend only reaches the
   sticky bit of a product that is an exact rounding tie).
4. neg/abs/compare against ml_dtypes/numpy sign operations, SoftPosit conversions, Python
   integers and IEEE/posit ordering computed from independently decoded values.
5. mul_exact/product_format: decoded products equal the exact products.

NaN codes are compared as one class where an oracle's NaN payload or sign may differ. A
mismatch prints the operands, lowbit's and the oracle's codes in hex and their values.
"""

import functools
from fractions import Fraction

import ml_dtypes
import numpy as np
import pytest
import softfloatpy as sf
import softposit as sp

from lowbit.golden import arith, formats
from tests.golden.fraction_oracle import (MINIFLOATS, NAN, decode, encode_ieee, fin, floor_log2,
                                          inf, locate, round_ieee, vadd, vmul, vneg)

MODES = ("rne", "rna", "rtz", "rup", "rdn", "rto")
SOFTFLOAT_MODES = {
    "rne": sf.RoundingMode.NEAR_EVEN,
    "rna": sf.RoundingMode.NEAR_MAX_MAG,
    "rtz": sf.RoundingMode.MIN_MAG,
    "rup": sf.RoundingMode.MAX,
    "rdn": sf.RoundingMode.MIN,
}
OPS2 = ("add", "sub", "mul")


def _rng(*key):
    """A generator seeded from a readable key: each test's stimulus is reproducible."""
    return np.random.default_rng([sum(map(ord, str(k))) for k in key] + [7])


# --- reporting ------------------------------------------------------------------------------


def _hex(bits, c):
    return f"0x{int(c):0{(bits + 3) // 4}X}"


def _val(fmt, c):
    return repr(float(fmt.decode(np.array([c], dtype=np.uint64))[0]))


def assert_codes(fmt, got, want, operands, what, nan_class=True, want_nan=None):
    """Assert equal code arrays. ``operands``: tuple of code arrays (same length).

    NaN codes form one class when ``nan_class`` (lowbit's decoder classifies ``got``; the oracle
    says which of ``want`` are NaN through ``want_nan``, default: decode ``want`` too).
    """
    got = np.asarray(got).astype(np.uint64).ravel()
    want = np.asarray(want).astype(np.uint64).ravel()
    operands = [np.broadcast_to(np.asarray(o).astype(np.uint64).ravel(), got.shape)
                for o in operands]
    assert got.shape == want.shape
    same = got == want
    if nan_class and fmt.has_nan:
        wn = np.isnan(fmt.decode(want)) if want_nan is None else np.asarray(want_nan).ravel()
        same |= np.isnan(fmt.decode(got)) & wn
    bad = np.flatnonzero(~same)
    if bad.size:
        lines = [f"{what}: {bad.size} mismatch(es) in {got.size} cases, first "
                 f"{min(bad.size, 12)}:"]
        for i in bad[:12]:
            ops = ", ".join(f"{_hex(fmt.bits, o[i])} ({_val(fmt, o[i])})" for o in operands)
            lines.append(f"  ({ops}): lowbit {_hex(fmt.bits, got[i])} = {_val(fmt, got[i])}, "
                         f"expected {_hex(fmt.bits, want[i])} = {_val(fmt, want[i])}")
        pytest.fail("\n".join(lines), pytrace=False)


def _all_pairs(bits):
    codes = np.arange(1 << bits, dtype=np.uint64)
    return np.repeat(codes, codes.size), np.tile(codes, codes.size)


# =============================================================================================
# 1. Minifloats: every operand pair against ml_dtypes (float32 + one cast)
# =============================================================================================

ML = {  # lowbit name: (ml_dtypes type, the lowbit overflow policy equal to its cast)
    "fp8_e4m3": (ml_dtypes.float8_e4m3fn, "nan"),
    "fp8_e5m2": (ml_dtypes.float8_e5m2, "inf"),
    "fp6_e3m2": (ml_dtypes.float6_e3m2fn, "saturate"),
    "fp6_e2m3": (ml_dtypes.float6_e2m3fn, "saturate"),
    "fp4_e2m1": (ml_dtypes.float4_e2m1fn, "saturate"),
}


def _ml_values(name):
    """float64 value of every code, decoded by ml_dtypes (not by lowbit)."""
    dt = ML[name][0]
    bits = formats.get(name).bits
    return np.arange(1 << bits, dtype=np.uint8).view(dt).astype(np.float64)


@pytest.mark.parametrize("op", OPS2)
@pytest.mark.parametrize("name", list(ML))
def test_all_pairs_match_ml_dtypes(name, op):
    fmt = formats.get(name)
    dt, overflow = ML[name]
    a, b = _all_pairs(fmt.bits)
    vals32 = _ml_values(name).astype(np.float32)  # exact: every minifloat is a float32
    fn = {"add": np.add, "sub": np.subtract, "mul": np.multiply}[op]
    with np.errstate(all="ignore"):
        want = fn(vals32[a], vals32[b]).astype(dt)
    want_nan = np.isnan(want.astype(np.float32))
    want = want.view(np.uint8)
    got = getattr(arith, op)(a, b, fmt, overflow=overflow)
    assert got.dtype == fmt.code_dtype
    assert_codes(fmt, got, want, (a, b), f"{name} {op} (overflow={overflow}) vs ml_dtypes",
                 want_nan=want_nan)


# --- exact Fraction reference with a sorted value table (fp8) -----------------------------------

FP8_MAN = {"fp8_e4m3": 3, "fp8_e5m2": 2}
FP8_POLICIES = {"fp8_e4m3": (None, "saturate", "nan"), "fp8_e5m2": (None, "inf", "saturate", "nan")}


@functools.lru_cache(maxsize=None)
def _fp8_table(name):
    """(grid, max, code_of): the sorted magnitudes of the format, continued past max with the
    spacing of an unbounded exponent range, as Fractions; ``code_of[(negative, value)]``."""
    vals = _ml_values(name)
    finite = vals[np.isfinite(vals)]
    mags = sorted({Fraction(float(v)) for v in finite if v >= 0})
    vmax = mags[-1]
    grid = list(mags)
    man = FP8_MAN[name]
    e = floor_log2(vmax)
    ulp = Fraction(2) ** (e - man)
    limit = vmax * vmax * 4
    v = vmax
    while v <= limit:  # the unbounded format: same precision, larger binades
        v += ulp
        if v >= Fraction(2) ** (e + 1):
            e, ulp = e + 1, ulp * 2
        grid.append(v)
    code_of = {}
    for c, x in enumerate(vals):
        if np.isfinite(x):
            code_of[(bool(np.signbit(x)), Fraction(float(abs(x))))] = c
    return grid, vmax, code_of


def _choose(lo, exact, side, negative, mode):
    """Grid index of the rounded magnitude (vectorized over located values). Index parity is
    code parity (consecutive magnitudes have consecutive codes)."""
    odd = lo % 2 == 1
    up = {
        "rtz": np.zeros_like(exact),
        "rup": ~negative,
        "rdn": negative,
        "rto": ~odd,
        "rna": side >= 0,
        "rne": (side > 0) | ((side == 0) & odd),
    }[mode]
    return lo + (up & ~exact)


def _split(name, codes):
    """The oracle's value of each code, from the ml_dtypes values."""
    out = []
    for v in _ml_values(name)[codes]:
        if np.isnan(v):
            out.append(NAN)
        else:
            out.append(inf(bool(np.signbit(v))) if np.isinf(v)
                       else fin(Fraction(float(v)), bool(np.signbit(v))))
    return out


def _exact_op(op, x, y, mode):
    """Exact IEEE result of x op y (values of the oracle)."""
    if op == "mul":
        return vmul(x, y)
    return vadd(x, vneg(y) if op == "sub" else y, mode)


@functools.lru_cache(maxsize=None)
def _fp8_exact(name, op, rdn):
    """Exact results of every pair, located in the grid: arrays over the distinct results
    (kind 0 finite / 1 inf / 2 nan, negative, lo, exact, side) and each pair's result index.
    The sign of an exact zero sum depends only on whether the mode is rdn."""
    fmt = formats.get(name)
    grid = _fp8_table(name)[0]
    ops = _split(name, np.arange(1 << fmt.bits))
    mode = "rdn" if rdn else "rne"
    index = {}
    inv = np.fromiter((index.setdefault(_exact_op(op, x, y, mode), len(index))
                       for x in ops for y in ops), dtype=np.int64, count=len(ops) ** 2)
    rows = []
    for v in index:
        loc = locate(grid, abs(v.q)) if v.kind == "fin" else (0, True, 0)
        rows.append(({"fin": 0, "inf": 1, "nan": 2}[v.kind], v.neg) + loc)
    kind, neg, lo, exact, side = (np.array(col) for col in zip(*rows))
    return kind, neg.astype(bool), lo, exact.astype(bool), side, inv


@functools.lru_cache(maxsize=None)
def _fp8_codes_of_grid(name):
    """Codes of +grid[i] and -grid[i] for the grid indices inside the format (ml_dtypes)."""
    grid, vmax, code_of = _fp8_table(name)
    top = grid.index(vmax)
    pos = np.array([code_of[(False, g)] for g in grid[: top + 1]], dtype=np.int64)
    neg = np.array([code_of[(True, g)] for g in grid[: top + 1]], dtype=np.int64)
    return pos, neg, top


@functools.lru_cache(maxsize=None)
def _fp8_oracle(name, op, mode, policy):
    """Codes of every pair of ``name`` for ``op`` (-1 = NaN)."""
    fmt = formats.get(name)
    kind, neg, lo, exact, side, inv = _fp8_exact(name, op, mode == "rdn")
    pos_code, neg_code, top = _fp8_codes_of_grid(name)
    idx = _choose(lo, exact, side, neg, mode)
    over = (kind == 0) & (idx > top)
    inside = np.minimum(idx, top)
    out = np.where(neg, neg_code[inside], pos_code[inside])
    sign = np.where(neg, 0x80, 0)
    if policy == "nan":
        spill = np.full(out.shape, -1)
    elif policy == "saturate":
        spill = sign | fmt.max_code
    else:  # IEEE 754 7.4
        to_max = ((mode in ("rtz", "rto")) | ((mode == "rdn") & ~neg) | ((mode == "rup") & neg))
        spill = sign | np.where(to_max, fmt.max_code, fmt.inf_code)
    out = np.where(over, spill, out)
    # An exact infinity (Inf operand) stays Inf under "inf", else follows the policy.
    exact_inf = {"inf": sign | (fmt.inf_code or 0), "saturate": sign | fmt.max_code,
                 "nan": np.full(out.shape, -1)}[policy]
    out = np.where(kind == 1, exact_inf, out)
    out = np.where(kind == 2, -1, out)
    return out[inv]


def _policy_id(p):
    return "default" if p is None else p


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("op", OPS2)
@pytest.mark.parametrize("name,policy", [(n, p) for n, ps in FP8_POLICIES.items() for p in ps],
                         ids=[f"{n}-{_policy_id(p)}" for n, ps in FP8_POLICIES.items() for p in ps])
def test_fp8_all_pairs_all_modes_match_fraction(name, policy, op, mode):
    fmt = formats.get(name)
    effective = fmt.default_overflow if policy is None else policy
    if policy is None:  # the documented defaults: saturate without Inf, IEEE "inf" with it
        assert effective == {"fp8_e4m3": "saturate", "fp8_e5m2": "inf"}[name]
    a, b = _all_pairs(fmt.bits)
    want = _fp8_oracle(name, op, mode, effective)
    got = getattr(arith, op)(a, b, fmt, rounding=mode, overflow=policy)
    assert_codes(fmt, got, np.where(want < 0, 0, want), (a, b),
                 f"{name} {op} {mode} overflow={_policy_id(policy)} vs Fraction",
                 want_nan=want < 0)


def test_fp8_oracle_sees_ties_inexact_and_overflow():
    """The exhaustive stimulus reaches every distinction the modes and policies make, so the
    sweeps above could fail: ties (rne != rna), inexact results (rtz != rup), round-to-odd,
    overflow (policies differ) and signed zeros (rdn)."""
    for name in FP8_POLICIES:
        add = {m: _fp8_oracle(name, "add", m, "saturate") for m in MODES}
        mul = {m: _fp8_oracle(name, "mul", m, "saturate") for m in MODES}
        for r in (add, mul):
            assert (r["rne"] != r["rna"]).sum() > 100
            assert (r["rtz"] != r["rup"]).sum() > 1000
            assert (r["rto"] != r["rtz"]).sum() > 1000
        assert ((add["rne"] == 0x00) & (add["rdn"] == 0x80)).sum() > 100  # x + (-x)
        for op in OPS2:
            assert (_fp8_oracle(name, op, "rne", "saturate")
                    != _fp8_oracle(name, op, "rne", "nan")).sum() > 100


def test_fp8_signed_zero_and_overflow_spot_checks():
    """A few hand-written IEEE cases, readable on their own (the sweeps above cover all)."""
    e4, e5 = formats.get("fp8_e4m3"), formats.get("fp8_e5m2")
    one, mone, pz, nz = 0x38, 0xB8, 0x00, 0x80  # e4m3: 1.0, -1.0, +0, -0
    cases = [
        (arith.add(one, mone, e4), 0x00),                   # x + (-x) = +0
        (arith.add(one, mone, e4, rounding="rdn"), 0x80),   # ... = -0 under rdn
        (arith.add(nz, nz, e4), 0x80),                      # -0 + -0 = -0
        (arith.add(pz, nz, e4), 0x00),                      # +0 + -0 = +0
        (arith.add(pz, nz, e4, rounding="rdn"), 0x80),      # ... = -0 under rdn
        (arith.sub(nz, pz, e4), 0x80),                      # -0 - +0 = -0
        (arith.mul(nz, one, e4), 0x80),                     # -0 * 1 = -0
        (arith.mul(0x01, 0x81, e4), 0x80),                  # 2^-9 * -2^-9 underflows to -0
        (arith.mul(0x01, 0x81, e4, rounding="rdn"), 0x81),  # ... to -min_subnormal under rdn
        (arith.add(0x7E, 0x7E, e4), 0x7E),                  # 448 + 448 saturates (default)
        (arith.add(0x7E, 0x7E, e4, overflow="nan"), 0x7F),  # ... or NaN
        (arith.add(0x7B, 0x7B, e5), 0x7C),                  # 57344 + 57344 = Inf (default)
        (arith.add(0x7B, 0x7B, e5, rounding="rtz"), 0x7B),  # rtz: max finite (IEEE 7.4)
        (arith.add(0xFB, 0xFB, e5, rounding="rup"), 0xFB),  # rup: -max for negative overflow
        (arith.add(0xFB, 0xFB, e5, rounding="rdn"), 0xFC),  # rdn: -Inf
        (arith.add(0x7B, 0x7B, e5, overflow="saturate"), 0x7B),
    ]
    for k, (got, want) in enumerate(cases):
        assert int(got) == want, f"case {k}: lowbit 0x{int(got):02X}, expected 0x{want:02X}"


# =============================================================================================
# 2. fp16 / fp32: TestFloat-style level 1 against SoftFloat; bf16 and rto against Fraction
# =============================================================================================

LEVEL1 = 46_464  # TestFloat level 1, two operands
NP_CAST = {"fp16": np.float16, "fp32": np.float32, "bf16": ml_dtypes.bfloat16}
UINT = {16: np.uint16, 32: np.uint32}


def _geometry(name):
    e, m, bias, _ = MINIFLOATS[name]
    return e, m, bias, 1 + e + m


def _fields(name):
    """11 exponent fields: zero/subnormal, min normal, small normals, around 1 (exp -1, 0, 1),
    large normals, the two largest finite exponents, Inf/NaN. With both signs: 22 classes."""
    e, _, bias, _ = _geometry(name)
    top = (1 << e) - 1
    return [0, 1, 2, bias // 2, bias - 1, bias, bias + 1, bias + bias // 2, top - 2, top - 1, top]


def _patterns(name):
    """4 significand patterns: all zeros, all ones, only the LSB, only the MSB."""
    m = _geometry(name)[1]
    return [0, (1 << m) - 1, 1, 1 << (m - 1)]


def _make(name, sign, field, sig):
    e, m, _, _ = _geometry(name)
    return (np.asarray(sign, np.uint64) << np.uint64(e + m)) | (
        np.asarray(field, np.uint64) << np.uint64(m)) | np.asarray(sig, np.uint64)


@functools.lru_cache(maxsize=None)
def _class_operands(name):
    """The 88 level-1 operands: 22 exponent classes x 4 significand patterns."""
    return np.array([int(_make(name, s, f, g)) for s in (0, 1) for f in _fields(name)
                     for g in _patterns(name)], dtype=np.uint64)


def _weighted(rng, name, n):
    """Random operands: half a class exponent with a random significand, a quarter uniform
    bit patterns, a quarter the class operands themselves."""
    _, m, _, bits = _geometry(name)
    kind = rng.integers(0, 4, n)
    fields = np.array(_fields(name), np.uint64)[rng.integers(0, 11, n)]
    classed = _make(name, rng.integers(0, 2, n), fields, rng.integers(0, 1 << m, n))
    uniform = rng.integers(0, 1 << bits, n, dtype=np.uint64)
    listed = _class_operands(name)[rng.integers(0, 88, n)]
    return np.where(kind < 2, classed, np.where(kind == 2, uniform, listed))


def _parts(name, c):
    e, m, _, bits = _geometry(name)
    c = c.astype(np.int64)
    return c >> (bits - 1), (c >> m) & ((1 << e) - 1), c & ((1 << m) - 1)


def _partners(rng, name, a):
    """Second operands chosen around ``a``: independent, uniform, close exponent (alignment),
    near -a (cancellation), or an exponent taking a product near overflow or underflow."""
    e, m, bias, bits = _geometry(name)
    n = a.size
    top = (1 << e) - 1
    sa, fa, ga = _parts(name, a)
    kind = rng.integers(0, 5, n)
    indep = _weighted(rng, name, n)
    uniform = rng.integers(0, 1 << bits, n, dtype=np.uint64)
    delta = rng.choice(np.array([-m - 3, -m - 2, -m - 1, -3, -2, -1, 0, 1, 2, 3, m + 1, m + 2]), n)
    near_exp = _make(name, rng.integers(0, 2, n), np.clip(fa + delta, 0, top - 1),
                     rng.integers(0, 1 << m, n))
    mag = np.clip((a.astype(np.int64) & ((1 << (bits - 1)) - 1)) + rng.integers(-4, 5, n), 0,
                  (top << m) - 1)
    cancel = ((1 - sa).astype(np.uint64) << np.uint64(bits - 1)) | mag.astype(np.uint64)
    # Product exponent (fa - bias) + (fb - bias) near emax or near the subnormal range.
    want = np.where(rng.integers(0, 2, n) == 1, top - 1 + bias - fa, bias + 1 - fa - m // 2)
    edge = _make(name, rng.integers(0, 2, n), np.clip(want + rng.integers(-2, 3, n), 0, top - 1),
                 rng.integers(0, 1 << m, n))
    return np.select([kind == 0, kind == 1, kind == 2, kind == 3], [indep, uniform, near_exp,
                                                                    cancel], edge)


def _to_codes(name, v):
    """Codes of float64 values cast by numpy/ml_dtypes (stimulus only)."""
    with np.errstate(all="ignore"):
        return np.asarray(v).astype(NP_CAST[name]).view(UINT[_geometry(name)[3]]).astype(np.uint64)


def _from_codes(name, c):
    return c.astype(UINT[_geometry(name)[3]]).view(NP_CAST[name]).astype(np.float64)


def _addends(rng, name, a, b):
    """Third fma operands: independent, uniform, near -(a*b) (cancellation), or a*b's
    magnitude with a shifted exponent (alignment)."""
    e, m, bias, bits = _geometry(name)
    n = a.size
    with np.errstate(all="ignore"):
        prod = _from_codes(name, a) * _from_codes(name, b)  # exact in float64
    pc = _to_codes(name, -prod)
    sign = np.uint64(1 << (bits - 1))
    mag = (pc & ~sign).astype(np.int64)
    finite_max = (((1 << e) - 1) << m) - 1
    near = (pc & sign) | np.clip(mag + rng.integers(-3, 4, n), 0, finite_max).astype(np.uint64)
    shifted = (pc & sign) ^ (sign * rng.integers(0, 2, n).astype(np.uint64)) | np.clip(
        mag + (rng.integers(-m - 3, m + 4, n) << m), 0, finite_max).astype(np.uint64)
    kind = rng.integers(0, 4, n)
    return np.select([kind == 0, kind == 1, kind == 2],
                     [_weighted(rng, name, n), rng.integers(0, 1 << bits, n, dtype=np.uint64),
                      near], shifted)


@functools.lru_cache(maxsize=None)
def level1_pairs(name, total=LEVEL1):
    """The 88 x 88 cross product, then weighted random pairs up to ``total``."""
    c = _class_operands(name)
    a, b = np.repeat(c, c.size), np.tile(c, c.size)
    rng = _rng("pairs", name)
    ra = _weighted(rng, name, total - a.size)
    rb = _partners(rng, name, ra)
    swap = rng.integers(0, 2, ra.size) == 1
    ra, rb = np.where(swap, rb, ra), np.where(swap, ra, rb)
    return np.concatenate([a, ra]), np.concatenate([b, rb])


@functools.lru_cache(maxsize=None)
def level1_triples(name, total=LEVEL1):
    """Two Latin squares over the 88 classes (every (a, b), (a, c) and (b, c) class pair
    occurs), tiny products with every class as addend, then weighted random triples up to
    ``total``."""
    c = _class_operands(name)
    i, j = np.repeat(np.arange(88), 88), np.tile(np.arange(88), 88)
    a = np.concatenate([c[i], c[i]])
    b = np.concatenate([c[j], c[j]])
    cc = np.concatenate([c[(i + j) % 88], c[(i + 3 * j + 7) % 88]])
    # Products of the three smallest subnormals (both signs) with every class as addend: the
    # product is below the addend's rounding position, often far enough to leave only a sticky
    # bit (fp16: 2**-48 next to 2**15).
    bits = _geometry(name)[3]
    smallest = np.array([s << (bits - 1) | k for s in (0, 1) for k in (1, 2, 3)], np.uint64)
    st = np.repeat(smallest, 6 * 88), np.tile(np.repeat(smallest, 88), 6), np.tile(c, 36)
    a, b, cc = (np.concatenate([x, y]) for x, y in zip((a, b, cc), st))
    rng = _rng("triples", name)
    ra = _weighted(rng, name, total - a.size)
    rb = _partners(rng, name, ra)
    rc = _addends(rng, name, ra, rb)
    # One random triple in eight: a product of two tiny operands (exponent fields 0..2, short
    # significands) next to an independent addend, usually so far above it that the product
    # only sets the sticky bit.
    tiny = rng.integers(0, 8, ra.size) == 0
    m = _geometry(name)[1]
    k = int(tiny.sum())
    for x in (ra, rb):
        x[tiny] = _make(name, rng.integers(0, 2, k), rng.integers(0, 3, k),
                        rng.integers(0, 1 << m, k) >> rng.integers(0, m + 1, k))
    return np.concatenate([a, ra]), np.concatenate([b, rb]), np.concatenate([cc, rc])


SF = {
    "fp16": (sf.Float16, 2, {"add": sf.f16_add, "mul": sf.f16_mul, "fma": sf.f16_mul_add}),
    "fp32": (sf.Float32, 4, {"add": sf.f32_add, "mul": sf.f32_mul, "fma": sf.f32_mul_add}),
}


@functools.lru_cache(maxsize=None)
def _sf_operands(name, kind):
    cls, nbytes, _ = SF[name]
    cols = level1_triples(name) if kind == "fma" else level1_pairs(name)
    return tuple([cls.from_bytes(int(x).to_bytes(nbytes, "big")) for x in col.tolist()]
                 for col in cols)


def softfloat(name, op, mode, *operands_objs):
    _, _, fns = SF[name]
    fn = fns[op]
    sf.set_rounding_mode(SOFTFLOAT_MODES[mode])
    try:
        return np.fromiter((int.from_bytes(fn(*args).to_bytes(), "big")
                            for args in zip(*operands_objs)), dtype=np.uint64,
                           count=len(operands_objs[0]))
    finally:
        sf.set_rounding_mode(sf.RoundingMode.NEAR_EVEN)


def test_level1_stimulus_shape():
    for name in ("fp16", "fp32"):
        assert _class_operands(name).size == 88 and np.unique(_class_operands(name)).size == 88
        a, b = level1_pairs(name)
        assert a.size == b.size == LEVEL1 == 6 * 88 * 88
        assert all(x.size == LEVEL1 for x in level1_triples(name))


@pytest.mark.parametrize("mode", list(SOFTFLOAT_MODES))
@pytest.mark.parametrize("op", ["add", "mul", "fma"])
@pytest.mark.parametrize("name", ["fp16", "fp32"])
def test_level1_matches_softfloat(name, op, mode):
    fmt = formats.get(name)
    codes = level1_triples(name) if op == "fma" else level1_pairs(name)
    want = softfloat(name, op, mode, *_sf_operands(name, "fma" if op == "fma" else "pairs"))
    got = getattr(arith, op)(*codes, fmt, rounding=mode)
    assert_codes(fmt, got, want, codes, f"{name} {op} {mode} vs SoftFloat ({want.size} cases)")


# --- exact Fraction reference for IEEE-style formats (bf16, and rto for fp16/fp32) -------------


def fraction_oracle(name, op, mode, *codes):
    """Codes (and NaN mask) of ``op`` on code arrays, exactly rounded with Fractions."""
    dec = functools.lru_cache(maxsize=None)(functools.partial(decode, name))
    e, m, _, _ = _geometry(name)
    quiet_nan = (((1 << e) - 1) << m) | (1 << (m - 1))
    out, nan = [], []
    for args in zip(*(c.tolist() for c in codes)):
        xs = [dec(c) for c in args]
        if op == "fma":
            r = vadd(vmul(xs[0], xs[1]), xs[2], mode)
        else:
            r = _exact_op(op, *xs, mode)
        c = encode_ieee(round_ieee(r, name, mode), name)
        out.append(quiet_nan if c is None else c)
        nan.append(c is None)
    return np.array(out, dtype=np.uint64), np.array(nan)


@functools.lru_cache(maxsize=None)
def bf16_stimulus(kind, total=10_000):
    """bf16: the 88-class cross product (or a Latin square for fma) plus weighted random."""
    c = _class_operands("bf16")
    i, j = np.repeat(np.arange(88), 88), np.tile(np.arange(88), 88)
    rng = _rng("bf16", kind)
    ra = _weighted(rng, "bf16", total - i.size)
    rb = _partners(rng, "bf16", ra)
    a, b = np.concatenate([c[i], ra]), np.concatenate([c[j], rb])
    if kind != "fma":
        return a, b
    return a, b, np.concatenate([c[(i + j) % 88], _addends(rng, "bf16", ra, rb)])


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("op", ["add", "mul", "fma"])
def test_bf16_matches_fraction(op, mode):
    fmt = formats.get("bf16")
    codes = bf16_stimulus("fma" if op == "fma" else "pairs")
    want, want_nan = fraction_oracle("bf16", op, mode, *codes)
    got = getattr(arith, op)(*codes, fmt, rounding=mode)
    assert_codes(fmt, got, want, codes, f"bf16 {op} {mode} vs Fraction", want_nan=want_nan)


@pytest.mark.parametrize("op", ["add", "mul", "fma"])
@pytest.mark.parametrize("name", ["fp16", "fp32"])
def test_level1_round_to_odd_matches_fraction(name, op):
    """SoftFloat here has no round-to-odd: rto on the same level-1 cases against the Fraction
    reference."""
    fmt = formats.get(name)
    codes = level1_triples(name) if op == "fma" else level1_pairs(name)
    want, want_nan = fraction_oracle(name, op, "rto", *codes)
    got = getattr(arith, op)(*codes, fmt, rounding="rto")
    assert_codes(fmt, got, want, codes, f"{name} {op} rto vs Fraction", want_nan=want_nan)


def test_fraction_oracle_agrees_with_softfloat_sample():
    """The Fraction reference is itself checked against SoftFloat on fp16 fma (all 5 modes)."""
    a, b, c = (x[::23] for x in level1_triples("fp16"))
    objs = [[sf.Float16.from_bytes(int(v).to_bytes(2, "big")) for v in col.tolist()]
            for col in (a, b, c)]
    fmt = formats.get("fp16")
    for mode in SOFTFLOAT_MODES:
        want, want_nan = fraction_oracle("fp16", "fma", mode, a, b, c)
        ref = softfloat("fp16", "fma", mode, *objs)
        assert_codes(fmt, want, ref, (a, b, c), f"Fraction oracle vs SoftFloat fp16 fma {mode}")


# =============================================================================================
# 3. Posits against SoftPosit
# =============================================================================================


def _p8(c):
    t = sp.posit8_t()
    t.v = c
    return t


def _px2(c):
    t = sp.posit_2_t()
    t.v = c << 24  # SoftPosit's posit_2 keeps an n-bit posit left-aligned in 32 bits
    return t


@functools.lru_cache(maxsize=None)
def _softposit8(name, op):
    if name == "posit8_0":
        objs = [_p8(c) for c in range(256)]
        fn = {"add": sp.p8_add, "sub": sp.p8_sub, "mul": sp.p8_mul}[op]
        res = [fn(x, y).v for x in objs for y in objs]
    else:
        objs = [_px2(c) for c in range(256)]
        fn = {"add": sp.pX2_add, "sub": sp.pX2_sub, "mul": sp.pX2_mul}[op]
        res = [fn(x, y, 8).v >> 24 for x in objs for y in objs]
    return np.array(res, dtype=np.uint64)


@pytest.mark.parametrize("op", OPS2)
@pytest.mark.parametrize("name", ["posit8_0", "posit8_2"])
def test_posit8_all_pairs_match_softposit(name, op):
    fmt = formats.get(name)
    a, b = _all_pairs(8)
    want = _softposit8(name, op)
    got = getattr(arith, op)(a, b, fmt)
    assert_codes(fmt, got, want, (a, b), f"{name} {op} vs SoftPosit", nan_class=False)


@functools.lru_cache(maxsize=None)
def _posit16_objs():
    out = []
    for c in range(1 << 16):
        t = sp.posit16_t()
        t.v = c
        out.append(t)
    return out


@functools.lru_cache(maxsize=None)
def _posit16_triples(n=100_000):
    rng = _rng("posit16_1")
    a, b, c = (rng.integers(0, 1 << 16, n, dtype=np.uint64) for _ in range(3))
    # Specials and extremes: 0, NaR, +-1, +-minpos, +-maxpos in the first cases.
    sp_codes = np.array([0, 0x8000, 0x4000, 0xC000, 0x0001, 0xFFFF, 0x7FFF, 0x8001],
                        dtype=np.uint64)
    k = sp_codes.size
    a[: k * k], b[: k * k] = np.repeat(sp_codes, k), np.tile(sp_codes, k)
    c[: k * k] = np.tile(sp_codes, k)[::-1]
    return a, b, c


def _p16_code(x):
    return sp.convertDoubleToP16(float(x)).v


@functools.lru_cache(maxsize=None)
def _posit16_targeted(n=20_000):
    """Extra fma triples where the addend only reaches the sticky bit: half with a product
    that is exactly a rounding tie (a odd near 1, b = +-1.5 * 2**k) plus an extreme c, half with
    random a, b next to an extreme c (near +-minpos or +-maxpos)."""
    rng = _rng("posit16_1", "targeted")
    neg = lambda x, s: np.where(s == 1, (0x10000 - x) & 0xFFFF, x)  # noqa: E731
    a = neg((rng.integers(0x3000, 0x5000, n) | 1), rng.integers(0, 2, n))
    ks = rng.integers(-12, 13, n)
    b = neg(np.array([_p16_code(1.5 * 2.0 ** int(k)) for k in ks]), rng.integers(0, 2, n))
    extreme = np.concatenate([np.arange(1, 17), np.arange(0x7FF0, 0x8000)])
    c = neg(rng.choice(extreme, n), rng.integers(0, 2, n))
    half = np.arange(n) >= n // 2
    a = np.where(half, rng.integers(0, 1 << 16, n), a)
    b = np.where(half, rng.integers(0, 1 << 16, n), b)
    return tuple(x.astype(np.uint64) for x in (a, b, c))


@pytest.mark.parametrize("op", ["add", "mul", "fma"])
def test_posit16_1_random_triples_match_softposit(op):
    fmt = formats.get("posit16_1")
    a, b, c = (np.concatenate(x) for x in zip(_posit16_triples(), _posit16_targeted()))
    P = _posit16_objs()
    if op == "fma":  # p16_mulAdd(a, b, c) = a * b + c, one rounding
        want = np.fromiter((sp.p16_mulAdd(P[x], P[y], P[z]).v for x, y, z in
                            zip(a.tolist(), b.tolist(), c.tolist())), np.uint64, a.size)
        got, codes = arith.fma(a, b, c, fmt), (a, b, c)
    else:
        fn = {"add": sp.p16_add, "mul": sp.p16_mul}[op]
        want = np.fromiter((fn(P[x], P[y]).v for x, y in zip(a.tolist(), b.tolist())),
                           np.uint64, a.size)
        got, codes = getattr(arith, op)(a, b, fmt), (a, b)
    assert_codes(fmt, got, want, codes, f"posit16_1 {op} vs SoftPosit", nan_class=False)


# =============================================================================================
# 4. neg / abs / compare
# =============================================================================================

UNARY_FORMATS = ("fp8_e4m3", "fp16", "posit8_0")


def _unary_reference(name, op):
    """Codes of -x / |x| for every code, from ml_dtypes/numpy sign operations (bit flips that
    keep NaN payloads) or SoftPosit conversions through float64 (exact for posit8)."""
    if name in ("fp8_e4m3", "fp16"):
        dt, u = (ml_dtypes.float8_e4m3fn, np.uint8) if name == "fp8_e4m3" else (np.float16,
                                                                                  np.uint16)
        x = np.arange(1 << (8 * np.dtype(u).itemsize), dtype=u).view(dt)
        return (np.negative(x) if op == "neg" else np.abs(x)).view(u).astype(np.uint64)
    out = []
    for c in range(256):
        v = sp.convertP8ToDouble(_p8(c))
        if np.isinf(v) or np.isnan(v):  # SoftPosit decodes NaR as inf
            out.append(0x80)
        else:
            out.append(sp.convertDoubleToP8(-v if op == "neg" else abs(v)).v)
    return np.array(out, dtype=np.uint64)


@pytest.mark.parametrize("op", ["neg", "abs"])
@pytest.mark.parametrize("name", UNARY_FORMATS)
def test_neg_abs_all_codes(name, op):
    fmt = formats.get(name)
    codes = np.arange(1 << fmt.bits, dtype=np.uint64)
    want = _unary_reference(name, op)
    got = getattr(arith, op)(codes, fmt)
    # NaN: a class, but the sign must still be the flipped (neg) or cleared (abs) one.
    assert_codes(fmt, got, want, (codes,), f"{name} {op} vs reference")
    if fmt.kind == "float":
        sign = np.uint64(1 << (fmt.bits - 1))
        nan = np.isnan(fmt.decode(codes))
        bad = np.flatnonzero(nan & ((got.astype(np.uint64) & sign) != (want & sign)))
        assert bad.size == 0, (f"{name} {op}: NaN sign wrong for "
                               f"{[_hex(fmt.bits, codes[i]) for i in bad[:8]]}")


INT8_POLICIES = (None, "saturate", "wrap", "saturate_symmetric")


def _int8_ref(v, policy):
    if policy == "wrap":
        return (v + 128) % 256 - 128
    lo = -127 if policy == "saturate_symmetric" else -128
    return min(max(v, lo), 127)


@pytest.mark.parametrize("policy", INT8_POLICIES, ids=_policy_id)
@pytest.mark.parametrize("op", ["neg", "abs"])
def test_int8_neg_abs_all_codes(op, policy):
    fmt = formats.get("int8")
    codes = np.arange(256, dtype=np.uint64)
    ints = [c - 256 if c >= 128 else c for c in range(256)]
    want = np.array([_int8_ref(-v if op == "neg" else abs(v), policy or "saturate") & 0xFF
                     for v in ints], dtype=np.uint64)
    got = getattr(arith, op)(codes, fmt, overflow=policy)
    assert_codes(fmt, got, want, (codes,), f"int8 {op} overflow={_policy_id(policy)}")
    # The headline cases: -(-128) saturates to 127 by default and wraps to -128.
    expected_min = {None: 0x7F, "saturate": 0x7F, "wrap": 0x80, "saturate_symmetric": 0x7F}
    assert int(got[0x80]) == expected_min[policy]


def _float_compare_ref(va, vb):
    """IEEE: -0 == +0, NaN unordered (2) with everything, itself included."""
    out = (va > vb).astype(np.int8) - (va < vb).astype(np.int8)
    return np.where(np.isnan(va) | np.isnan(vb), np.int8(2), out)


def _compare_cases(name):
    """(a, b, reference) code pairs and the reference result."""
    if name == "fp8_e4m3":
        a, b = _all_pairs(8)
        v = _ml_values(name)
        return a, b, _float_compare_ref(v[a], v[b])
    if name == "fp16":
        # Every code against 256 partners: the 88 level-1 class operands, +-0, NaNs, and
        # random codes (all 2**32 pairs would take minutes).
        rng = _rng("compare", name)
        extra = np.array([0x0000, 0x8000, 0x7C00, 0xFC00, 0x7E00, 0xFE00, 0x7C01, 0xFFFF],
                         dtype=np.uint64)
        partners = np.unique(np.concatenate([_class_operands("fp16"), extra,
                                             rng.integers(0, 1 << 16, 160, dtype=np.uint64)]))
        a = np.repeat(np.arange(1 << 16, dtype=np.uint16), partners.size)
        b = np.tile(partners.astype(np.uint16), 1 << 16)
        v = np.arange(1 << 16, dtype=np.uint16).view(np.float16)
        with np.errstate(invalid="ignore"):
            return a, b, _float_compare_ref(v[a], v[b])
    if name == "posit8_0":
        # Posits order like two's complement integers; NaR (-128) is below every real and
        # equal to itself.
        a, b = _all_pairs(8)
        ia, ib = a.astype(np.uint8).view(np.int8), b.astype(np.uint8).view(np.int8)
        return a, b, np.sign(ia.astype(np.int16) - ib).astype(np.int8)
    a, b = _all_pairs(8)  # int8: plain signed integers
    ia, ib = ([c - 256 if c >= 128 else c for c in x.tolist()] for x in (a, b))
    return a, b, np.array([(x > y) - (x < y) for x, y in zip(ia, ib)], dtype=np.int8)


@pytest.mark.parametrize("name", ["fp8_e4m3", "fp16", "posit8_0", "int8"])
def test_compare(name):
    fmt = formats.get(name)
    a, b, want = _compare_cases(name)
    got = arith.compare(a, b, fmt)
    assert got.dtype == np.int8
    bad = np.flatnonzero(got != want)
    assert bad.size == 0, (
        f"{name} compare: {bad.size} mismatches in {a.size}, first: " + ", ".join(
            f"({_hex(fmt.bits, a[i])}, {_hex(fmt.bits, b[i])}): lowbit {int(got[i])} "
            f"expected {int(want[i])}" for i in bad[:10]))


def test_posit_softposit_ordering_agrees():
    """The two's complement order used above agrees with SoftPosit's p8_lt/p8_eq on reals."""
    objs = [_p8(c) for c in range(256)]
    for x in range(256):
        for y in range(0, 256, 7):
            if 0x80 in (x, y):
                continue
            ix, iy = (x ^ 0x80) - 0x80, (y ^ 0x80) - 0x80
            assert bool(sp.p8_lt(objs[x], objs[y])) == (ix < iy)
            assert bool(sp.p8_eq(objs[x], objs[y])) == (ix == iy)


# =============================================================================================
# 5. mul_exact / product_format
# =============================================================================================


def test_mul_exact_int4_int8_is_int12():
    a_fmt, b_fmt = formats.get("int4"), formats.get("int8")
    pf = arith.product_format(a_fmt, b_fmt)
    assert (pf.kind, pf.bits, pf.signed, pf.frac_bits) == ("int", 12, True, 0), pf
    ca, cb = np.repeat(np.arange(16, dtype=np.uint64), 256), np.tile(np.arange(256,
                                                                               dtype=np.uint64), 16)
    codes, out = arith.mul_exact(ca, cb, a_fmt, b_fmt)
    assert out == pf
    ia = (ca.astype(np.int64) ^ 8) - 8
    ib = (cb.astype(np.int64) ^ 128) - 128
    want = ((ia * ib) & 0xFFF).astype(np.uint64)  # int12 two's complement bit patterns
    assert_codes(pf, codes, want, (ca, cb), "int4 x int8 mul_exact")


def _f64_bits(v):
    return np.asarray(v, dtype=np.float64).view(np.uint64)


def _assert_exact_products(out, codes, want, ca, cb, what, a_fmt, b_fmt):
    got = out.decode(codes)
    same = (_f64_bits(got) == _f64_bits(want)) | (np.isnan(got) & np.isnan(want))
    bad = np.flatnonzero(~same)
    assert bad.size == 0, f"{what} into {out.name}: " + ", ".join(
        f"{_hex(a_fmt.bits, ca[i])} x {_hex(b_fmt.bits, cb[i])}: got "
        f"{_hex(out.bits, codes[i])} = {got[i]!r}, exact {want[i]!r}" for i in bad[:10])


def test_mul_exact_fp4_fp8_is_exact():
    a_fmt, b_fmt = formats.get("fp4_e2m1"), formats.get("fp8_e4m3")
    pf = arith.product_format(a_fmt, b_fmt)
    assert pf.kind == "float"
    ca, cb = np.repeat(np.arange(16, dtype=np.uint64), 256), np.tile(np.arange(256,
                                                                               dtype=np.uint64), 16)
    codes, out = arith.mul_exact(ca, cb, a_fmt, b_fmt)
    assert out == pf
    va, vb = _ml_values("fp4_e2m1"), _ml_values("fp8_e4m3")
    want = va[ca] * vb[cb]  # <= 2 x 4 significand bits: exact in float64, sign of 0 included
    _assert_exact_products(out, codes, want, ca, cb, "fp4_e2m1 x fp8_e4m3", a_fmt, b_fmt)


def test_mul_exact_posit8_is_exact():
    fmt = formats.get("posit8_0")
    pf = arith.product_format(fmt, fmt)
    assert pf.kind == "posit"
    a, b = _all_pairs(8)
    codes, out = arith.mul_exact(a, b, fmt, fmt)
    assert out == pf
    v = np.array([np.nan if c == 0x80 else sp.convertP8ToDouble(_p8(c)) for c in range(256)])
    want = v[a] * v[b]  # 6-bit significands: exact in float64; NaR x anything = NaR
    want = np.where(want == 0, 0.0, want)  # posits have one zero: float64's -0 is +0 here
    _assert_exact_products(out, codes, want, a, b, "posit8_0 x posit8_0", fmt, fmt)
