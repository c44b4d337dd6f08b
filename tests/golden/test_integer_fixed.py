"""Oracle tests for two's complement integers and fixed point (``IntFormat``, ``FixedFormat``).

Oracles
-------
* apytypes (``APyFixedArray.cast``) for every rounding x {wrap, saturate}. Inputs are fed to
  apytypes exactly: ``from_float`` into a 2102-bit format (1026 integer bits, 1076 fraction
  bits) holds every finite float64 exactly (checked by ``test_apytypes_input_is_exact``), and
  the single ``cast`` under test does the rounding and the overflow.

  ====  =================  ==========================================================
  rne   RND_CONV           nearest, ties to even
  rna   RND_INF            nearest, ties away from zero
  rtz   TRN_ZERO           toward zero
  rup   TRN_INF            toward +inf
  rdn   TRN                toward -inf (plain two's complement truncation)
  rto   JAM_UNBIASED       LSB forced to 1 when inexact (= round to odd)
  ====  =================  ==========================================================

  apytypes has no unsigned fixed point. Unsigned ``wrap`` is the n-bit signed cast with WRAP
  (the low n bits are the same pattern); unsigned ``saturate`` is the (n+1)-bit signed cast with
  SAT followed by clamping negatives to 0.
* An exact Python-int reference (``ref_codes``) for ``saturate_symmetric``, for stochastic
  rounding and for integer-dtype inputs; the reference is itself checked against apytypes for
  wrap and saturate (``test_reference_agrees_with_apytypes``).
"""

import functools
import math
import random
import zlib
from fractions import Fraction

import numpy as np
import pytest

from lowbit.errors import EncodeError, RoundingError
from lowbit.golden import formats
from lowbit.golden.formats import FixedFormat, IntFormat
from lowbit.golden.rounding import Stochastic

apytypes = pytest.importorskip("apytypes")
from apytypes import APyFixedArray, OverflowMode, QuantizationMode  # noqa: E402

ROUNDINGS = ("rne", "rna", "rtz", "rup", "rdn", "rto")
APY_QUANT = {
    "rne": QuantizationMode.RND_CONV,
    "rna": QuantizationMode.RND_INF,
    "rtz": QuantizationMode.TRN_ZERO,
    "rup": QuantizationMode.TRN_INF,
    "rdn": QuantizationMode.TRN,
    "rto": QuantizationMode.JAM_UNBIASED,
}
APY_OVERFLOW = {"wrap": OverflowMode.WRAP, "saturate": OverflowMode.SAT}
OVERFLOWS = ("saturate", "saturate_symmetric", "wrap")

# Every finite float64 is k * 2**-1074 with |k| < 2**1024 * 2**1074: 1026 integer bits (sign
# included) and 1076 fraction bits hold them all exactly.
WIDE_INT_BITS, WIDE_FRAC_BITS = 1026, 1076

FORMATS = [
    IntFormat(1),
    IntFormat(2),
    IntFormat(4),
    IntFormat(8),
    IntFormat(16),
    IntFormat(32),
    IntFormat(64),
    IntFormat(1, signed=False),
    IntFormat(4, signed=False),
    IntFormat(8, signed=False),
    IntFormat(16, signed=False),
    IntFormat(64, signed=False),
    FixedFormat(4, 4),
    FixedFormat(2, 6),                 # MXINT8 element
    FixedFormat(8, 8),
    FixedFormat(3, 5, signed=False),
    FixedFormat(1, 7),
    FixedFormat(32, 32),               # 64-bit fixed point
    FixedFormat(10, -2),               # negative frac_bits: LSB weight 4
    FixedFormat(64, -60),              # LSB weight 2**60, range +-2**63
    FixedFormat(-2, 6),                # negative int_bits: binary point above the MSB
    FixedFormat(-64, 72),              # LSB weight 2**-72 (int_bits at its minimum)
    FixedFormat(0, 8, signed=False),
]
FORMAT_IDS = [f.name for f in FORMATS]


def int_bits(fmt) -> int:
    return fmt.bits - fmt.frac_bits


# --------------------------------------------------------------------------------------------
# Exact Python-int reference
# --------------------------------------------------------------------------------------------
def _units(x: float, frac_bits: int):
    """Return ``(num, den)`` with ``x * 2**frac_bits == num / den`` exactly, den > 0."""
    num, den = float(x).as_integer_ratio()
    if frac_bits >= 0:
        num <<= frac_bits
    else:
        den <<= -frac_bits
    return num, den


def ref_round(x: float, frac_bits: int, rounding: str) -> int:
    """Round ``x * 2**frac_bits`` to an integer with ``rounding`` (exact integer arithmetic)."""
    num, den = _units(x, frac_bits)
    fl = num // den                      # floor
    rem = num - fl * den                 # 0 <= rem < den
    if rem == 0:
        return fl
    positive = num > 0
    if rounding == "rdn":
        return fl
    if rounding == "rup":
        return fl + 1
    if rounding == "rtz":
        return fl if positive else fl + 1
    if rounding == "rto":
        return fl if fl % 2 else fl + 1
    twice = 2 * rem
    if twice < den:
        return fl
    if twice > den:
        return fl + 1
    if rounding == "rna":
        return fl + 1 if positive else fl
    if rounding == "rne":
        return fl if fl % 2 == 0 else fl + 1
    raise AssertionError(rounding)


def ref_overflow(n: int, fmt, overflow: str) -> int:
    """Return the code of the rounded integer ``n`` after the overflow policy."""
    if overflow == "wrap":
        return n % (1 << fmt.bits)
    lo = fmt.min_int if overflow == "saturate" else (-fmt.max_int if fmt.signed else 0)
    n = min(max(n, lo), fmt.max_int)
    return n % (1 << fmt.bits)


def ref_stochastic(x: float, frac_bits: int, bits: int, r: int) -> int:
    """Stochastic rounding of ``x * 2**frac_bits`` with R=``bits`` random bits ``r``.

    The R discarded bits just below the kept LSB form ``t``; the magnitude is truncated and
    incremented by ``(t + r) >> R``; lower discarded bits are ignored; the sign is applied last.
    """
    num, den = _units(x, frac_bits)
    mag = abs(num)
    trunc = mag // den
    rem = mag - trunc * den
    t = (rem << bits) // den
    out = trunc + ((t + r) >> bits)
    return -out if num < 0 else out


def ref_codes(fmt, x, rounding, overflow) -> np.ndarray:
    """Reference codes (uint64) for float64 inputs ``x``; ``rounding`` a mode name."""
    rounded = _ref_rounded(fmt, rounding, x)
    return np.array([ref_overflow(n, fmt, overflow) for n in rounded], dtype=np.uint64)


def _ref_rounded(fmt, rounding, x):
    return [ref_round(float(v), fmt.frac_bits, rounding) for v in np.asarray(x).ravel()]


# --------------------------------------------------------------------------------------------
# apytypes oracle
# --------------------------------------------------------------------------------------------
def _wide(x) -> "APyFixedArray":
    return APyFixedArray.from_float(np.asarray(x, dtype=np.float64),
                                    int_bits=WIDE_INT_BITS, frac_bits=WIDE_FRAC_BITS)


def _signed_bits_to_int(b: int, n: int) -> int:
    return b - (1 << n) if b >> (n - 1) else b


def apy_codes(fmt, x, rounding, overflow) -> np.ndarray:
    """apytypes' codes (uint64) for ``x`` under ``rounding`` and ``overflow`` (wrap/saturate)."""
    wide = _wide(x)
    q = APY_QUANT[rounding]
    ib, fb, n = int_bits(fmt), fmt.frac_bits, fmt.bits
    if fmt.signed or overflow == "wrap":
        c = wide.cast(int_bits=ib, frac_bits=fb, quantization=q, overflow=APY_OVERFLOW[overflow])
        codes = [b & ((1 << n) - 1) for b in c.to_bits()]
    else:
        # Unsigned saturate: one more (sign) bit so nothing wraps, then clamp negatives to 0.
        c = wide.cast(int_bits=ib + 1, frac_bits=fb, quantization=q, overflow=OverflowMode.SAT)
        codes = [max(_signed_bits_to_int(b, n + 1), 0) for b in c.to_bits()]
    return np.array(codes, dtype=np.uint64)


# --------------------------------------------------------------------------------------------
# Stratified inputs
# --------------------------------------------------------------------------------------------
def _to_float(v) -> float:
    """Nearest float64 to the rational ``v`` (ints and Fractions convert correctly rounded)."""
    return float(Fraction(v))


@functools.lru_cache(maxsize=None)
def stratified_inputs(fmt) -> np.ndarray:
    """float64 test inputs for ``fmt``: ties, ties +- 1 ulp, codes, boundaries, far, tiny, random."""
    seed = zlib.crc32(repr(fmt).encode())
    prng = random.Random(seed)
    rng = np.random.default_rng(seed)
    F, n = fmt.frac_bits, fmt.bits
    lo, hi = fmt.min_int, fmt.max_int
    lsb = Fraction(2) ** -F

    def val(units):                      # a value given in LSB units
        return _to_float(Fraction(units) * lsb)

    out = []
    # Integers (in LSB units) spread over the code range.
    ks = set()
    if n <= 10:
        ks.update(range(lo, hi + 1))
    ks.update(range(lo, min(lo + 6, hi) + 1))
    ks.update(range(max(hi - 6, lo), hi + 1))
    ks.update(range(max(lo, -6), min(hi, 6) + 1))
    for j in range(n + 1):
        for k in (1 << j, (1 << j) - 1, (1 << j) + 1):
            for s in (k, -k):
                if lo <= s <= hi:
                    ks.add(s)
    ks.update(prng.randint(lo, hi) for _ in range(64))
    for k in sorted(ks):
        out.append(val(k))                                    # representable
        for frac in (Fraction(1, 4), Fraction(1, 2), Fraction(3, 4)):
            out.append(val(k + frac))                         # quarter points, exact ties
        tie = val(k + Fraction(1, 2))
        out += [np.nextafter(tie, np.inf), np.nextafter(tie, -np.inf)]   # ties +- 1 ulp
    # Overflow boundaries and their float64 neighbours.
    for b, d in ((hi, 1), (lo, -1)):
        for off in (0, Fraction(1, 2), 1, Fraction(3, 2), 2, 3):
            v = val(b + d * off)
            out += [v, np.nextafter(v, np.inf), np.nextafter(v, -np.inf)]
    # Far out of range, and values a whole number of wraps away from in-range values.
    far = [1e6, 2.0**70, 2.0**63, 2.0**64, 2.0**64 + 4096, 2.0**63 + 2048, 2.0**65 + 8192,
           1e300, 2.0**1023, np.finfo(np.float64).max, 1e20, 3.0 * 2.0**80]
    out += far + [-v for v in far]
    for m in (1, 2, 3, 7, 1025, (1 << 40) + 3):
        for j in (0, 1, -1, Fraction(1, 2), Fraction(-1, 2), Fraction(3, 2), hi, lo,
                  hi + Fraction(1, 2), lo - Fraction(1, 2)):
            out += [val(m * (1 << n) + j), val(-m * (1 << n) + j)]
    # Tiny values and zeros.
    tiny = [0.0, 1e-300, 5e-324, 2.2250738585072014e-308, 2.0**-1022 * 3]
    for e in (1, 2, 3, 11, 52, 53, 54, 63, 64, 65, 66, 100, 200):
        tiny += [val(Fraction(1, 1 << e)), val(Fraction(3, 1 << e)), val(1 - Fraction(1, 1 << e))]
    out += tiny + [-v for v in tiny]
    # Random values uniform over ~4x the range.
    width = float((hi - lo + 1) * lsb)
    low, high = float(lo * lsb) - 1.5 * width, float((hi + 1) * lsb) + 1.5 * width
    out += list(rng.uniform(low, high, 600))
    # Random integers: integer-valued floats, integer LSB counts over 4x the code range, and
    # random dyadic fractions of an LSB (partial discarded bits).
    out += [float(v) for v in rng.integers(-1000, 1000, 50)]
    for _ in range(200):
        out.append(val(prng.randint(lo - (1 << n), hi + (1 << n))))
    for _ in range(300):
        s = prng.randint(1, 70)
        k = prng.randint(lo - (1 << n), hi + (1 << n))
        out.append(val(k + Fraction(prng.randrange(1 << s), 1 << s)))
    # Random magnitudes over many binades (every shift from far below the LSB to past the MSB).
    e = rng.integers(-F - 80, -F + n + 6, 400)
    sign = rng.choice([-1.0, 1.0], 400)
    out += list(sign * np.ldexp(rng.uniform(1.0, 2.0, 400), e))

    x = np.array(out, dtype=np.float64)
    assert np.isfinite(x).all()
    # Deduplicate by bit pattern (keeps -0.0 and 0.0 apart).
    x = np.unique(x.view(np.uint64)).view(np.float64)
    x.setflags(write=False)
    return x


@functools.lru_cache(maxsize=None)
def cached_ref_rounded(fmt, rounding):
    return tuple(_ref_rounded(fmt, rounding, stratified_inputs(fmt)))


def cached_ref_codes(fmt, rounding, overflow):
    return np.array([ref_overflow(n, fmt, overflow) for n in cached_ref_rounded(fmt, rounding)],
                    dtype=np.uint64)


# --------------------------------------------------------------------------------------------
# Reporting
# --------------------------------------------------------------------------------------------
def _hex(code, bits):
    return f"0x{int(code):0{(bits + 3) // 4}x}"


def assert_codes_equal(fmt, x, got, want, what, extra=None, limit=25):
    got = np.asarray(got, dtype=np.uint64).ravel()
    want = np.asarray(want, dtype=np.uint64).ravel()
    x = np.asarray(x).ravel()
    assert got.shape == want.shape, (got.shape, want.shape)
    bad = np.flatnonzero(got != want)
    if bad.size == 0:
        return
    lines = [f"{fmt.name}: {what}: {bad.size} of {got.size} codes differ"]
    for i in bad[:limit]:
        xi = x[i]
        xs = f"{float(xi)!r} ({float(xi).hex()})" if x.dtype.kind == "f" else repr(int(xi))
        e = f" {extra[i]}" if extra is not None else ""
        lines.append(f"  x={xs}{e}: lowbit {_hex(got[i], fmt.bits)} expected "
                     f"{_hex(want[i], fmt.bits)}")
    pytest.fail("\n".join(lines), pytrace=False)


# --------------------------------------------------------------------------------------------
# 0. The oracle feeding and the catalog names
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("fmt", FORMATS, ids=FORMAT_IDS)
def test_apytypes_input_is_exact(fmt):
    """from_float into the wide format does not round any test input."""
    x = stratified_inputs(fmt)
    bits = _wide(x).to_bits()
    n = WIDE_INT_BITS + WIDE_FRAC_BITS
    for v, b in zip(x, bits):
        assert Fraction(_signed_bits_to_int(b, n), 1 << WIDE_FRAC_BITS) == Fraction(float(v)), v


@pytest.mark.parametrize("name,expected", [
    ("int8", IntFormat(8)),
    ("uint4", IntFormat(4, signed=False)),
    ("int64", IntFormat(64)),
    ("fixed4_4", FixedFormat(4, 4)),
    ("ufixed2_6", FixedFormat(2, 6, signed=False)),
    ("fixed10_-2", FixedFormat(10, -2)),
    ("fixed-2_6", FixedFormat(-2, 6)),
], ids=["int8", "uint4", "int64", "fixed4_4", "ufixed2_6", "fixed10_-2", "fixed-2_6"])
def test_catalog_names(name, expected):
    f = formats.get(name)
    assert f == expected
    assert f.bits == expected.bits and f.frac_bits == expected.frac_bits
    assert f.signed == expected.signed


@pytest.mark.parametrize("fmt", FORMATS, ids=FORMAT_IDS)
def test_limits_and_decode(fmt):
    """min/max, to_int and decode agree with integer arithmetic on sampled codes."""
    n, F = fmt.bits, fmt.frac_bits
    assert fmt.max_int == ((1 << (n - 1)) - 1 if fmt.signed else (1 << n) - 1)
    assert fmt.min_int == (-(1 << (n - 1)) if fmt.signed else 0)
    prng = random.Random(n * 1000 + F)
    codes = sorted({0, 1, (1 << n) - 1, (1 << (n - 1)), (1 << (n - 1)) - 1}
                   | {prng.randrange(1 << n) for _ in range(200)})
    c = np.array(codes, dtype=np.uint64)
    ints = [_signed_bits_to_int(k, n) if fmt.signed else k for k in codes]
    assert [int(v) for v in fmt.to_int(c)] == ints
    want = np.array([_to_float(Fraction(i) * Fraction(2) ** -F) for i in ints])
    np.testing.assert_array_equal(fmt.decode(c), want)
    assert fmt.max_value == _to_float(Fraction(fmt.max_int) * Fraction(2) ** -F)
    assert fmt.min_value == _to_float(Fraction(fmt.min_int) * Fraction(2) ** -F)


@pytest.mark.parametrize("fmt", [f for f in FORMATS if f.bits <= 16],
                         ids=[f.name for f in FORMATS if f.bits <= 16])
@pytest.mark.parametrize("rounding", ROUNDINGS)
def test_every_code_round_trips(fmt, rounding):
    """encode(decode(c)) == c for every code of formats up to 16 bits, in every mode."""
    c = np.arange(1 << fmt.bits, dtype=np.uint64)
    for overflow in ("saturate", "wrap"):
        got = fmt.encode(fmt.decode(c), rounding=rounding, overflow=overflow)
        assert got.dtype == fmt.code_dtype
        assert_codes_equal(fmt, fmt.decode(c), got, c, f"round trip {rounding}/{overflow}")


# --------------------------------------------------------------------------------------------
# 1. Every rounding x overflow against apytypes (wrap, saturate) and the exact reference
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("overflow", ("wrap", "saturate"))
@pytest.mark.parametrize("rounding", ROUNDINGS)
@pytest.mark.parametrize("fmt", FORMATS, ids=FORMAT_IDS)
def test_reference_agrees_with_apytypes(fmt, rounding, overflow):
    """The test's own integer reference matches apytypes (so it can stand in where apytypes
    has no mode)."""
    x = stratified_inputs(fmt)
    want = apy_codes(fmt, x, rounding, overflow)
    ref = cached_ref_codes(fmt, rounding, overflow)
    if not np.array_equal(ref, want):
        bad = np.flatnonzero(ref != want)[:10]
        pytest.fail(f"test reference disagrees with apytypes for {fmt.name} {rounding}/"
                    f"{overflow} at x={[float(x[i]).hex() for i in bad]}: reference "
                    f"{[_hex(ref[i], fmt.bits) for i in bad]} apytypes "
                    f"{[_hex(want[i], fmt.bits) for i in bad]}", pytrace=False)


@pytest.mark.parametrize("overflow", ("wrap", "saturate"))
@pytest.mark.parametrize("rounding", ROUNDINGS)
@pytest.mark.parametrize("fmt", FORMATS, ids=FORMAT_IDS)
def test_encode_matches_apytypes(fmt, rounding, overflow):
    x = stratified_inputs(fmt)
    got = fmt.encode(x, rounding=rounding, overflow=overflow)
    assert got.dtype == fmt.code_dtype and got.shape == x.shape
    want = apy_codes(fmt, x, rounding, overflow)
    assert_codes_equal(fmt, x, got, want, f"{rounding}/{overflow} vs apytypes "
                       f"{APY_QUANT[rounding].name}/{APY_OVERFLOW[overflow].name}")


@pytest.mark.parametrize("rounding", ROUNDINGS)
@pytest.mark.parametrize("fmt", FORMATS, ids=FORMAT_IDS)
def test_encode_saturate_symmetric_matches_reference(fmt, rounding):
    x = stratified_inputs(fmt)
    got = fmt.encode(x, rounding=rounding, overflow="saturate_symmetric")
    want = cached_ref_codes(fmt, rounding, "saturate_symmetric")
    assert_codes_equal(fmt, x, got, want, f"{rounding}/saturate_symmetric vs reference")
    if fmt.signed:   # the most negative code never occurs
        assert not np.any(got.astype(np.uint64) == np.uint64(fmt.min_code))


def test_encode_shapes_and_scalars():
    f = FixedFormat(4, 4)
    x = np.array([[0.3, -1.7, 2.25], [7.96875, -8.5, 0.03125]])
    got = f.encode(x, rounding="rne")
    assert got.shape == x.shape and got.dtype == np.uint8
    assert_codes_equal(f, x, got, ref_codes(f, x, "rne", "saturate").reshape(x.shape),
                       "2-D input")
    assert f.encode(0.3).shape == ()
    assert int(f.encode(0.3)) == ref_overflow(ref_round(0.3, 4, "rne"), f, "saturate")
    assert f.encode(np.float32(0.3)) == f.encode(float(np.float32(0.3)))
    assert f.encode(np.float16(-1.3), rounding="rtz") == f.encode(float(np.float16(-1.3)),
                                                                    rounding="rtz")


# --------------------------------------------------------------------------------------------
# 2. Integer-dtype inputs are exact
# --------------------------------------------------------------------------------------------
_I64 = np.iinfo(np.int64)
INT64_INPUTS = np.array(
    [_I64.min, _I64.min + 1, _I64.min + 2, -(1 << 62), -(1 << 53) - 1, -(1 << 53) + 1,
     -(1 << 32) - 1, -(1 << 31) - 1, -(1 << 31), -32769, -32768, -257, -256, -129, -128, -127,
     -3, -2, -1, 0, 1, 2, 3, 127, 128, 255, 256, 32767, 32768, 65535, 65536, (1 << 31) - 1,
     1 << 31, (1 << 32) + 1, (1 << 53) + 1, (1 << 62) + 1, _I64.max - 1, _I64.max]
    + list(np.random.default_rng(7).integers(_I64.min, _I64.max, 300, endpoint=True)),
    dtype=np.int64)
UINT64_INPUTS = np.array(
    [0, 1, 2, 127, 128, 255, 256, 65535, 65536, (1 << 53) + 1, (1 << 63) - 1, 1 << 63,
     (1 << 63) + 1, (1 << 64) - 2, (1 << 64) - 1]
    + list(np.random.default_rng(8).integers(0, 2**64 - 1, 300, dtype=np.uint64,
                                            endpoint=True)),
    dtype=np.uint64)
INT_FORMATS = [IntFormat(64), IntFormat(64, signed=False), IntFormat(8), IntFormat(8, False),
               IntFormat(32), IntFormat(1), IntFormat(1, False), FixedFormat(64, 0),
               FixedFormat(12, 0, signed=False)]


@pytest.mark.parametrize("overflow", OVERFLOWS)
@pytest.mark.parametrize("dtype", ["int64", "uint64"])
@pytest.mark.parametrize("fmt", INT_FORMATS, ids=[f.name for f in INT_FORMATS])
def test_integer_dtype_inputs_are_exact(fmt, dtype, overflow):
    x = INT64_INPUTS if dtype == "int64" else UINT64_INPUTS
    want = np.array([ref_overflow(int(v), fmt, overflow) for v in x], dtype=np.uint64)
    for rounding in ("rne", "rdn", "rto"):
        got = fmt.encode(x, rounding=rounding, overflow=overflow)
        assert got.dtype == fmt.code_dtype
        assert_codes_equal(fmt, x, got, want, f"{dtype} input, {rounding}/{overflow}")
    if fmt.bits == 64 and overflow == "wrap":
        # Wrap into 64 bits is the identity on bit patterns; to_int recovers the value.
        assert np.array_equal(fmt.encode(x, overflow="wrap"), x.view(np.uint64))
        back = fmt.to_int(fmt.encode(x, overflow="wrap"))
        want_int = [int(v) % (1 << 64) for v in x]
        if fmt.signed:
            want_int = [_signed_bits_to_int(v, 64) for v in want_int]
        assert [int(v) for v in back] == want_int


@pytest.mark.parametrize("dtype", ["int8", "uint8", "int16", "uint16", "int32", "uint32", "bool"])
@pytest.mark.parametrize("overflow", OVERFLOWS)
def test_small_integer_dtypes(dtype, overflow):
    info = np.iinfo(dtype) if dtype != "bool" else None
    if info is None:
        x = np.array([False, True, True, False])
    else:
        x = np.unique(np.concatenate([
            np.array([info.min, info.min + 1, -1 if info.min < 0 else 0, 0, 1, info.max - 1,
                      info.max], dtype=dtype),
            np.random.default_rng(3).integers(info.min, info.max, 200, endpoint=True,
                                              dtype=dtype)]))
    for fmt in (IntFormat(4), IntFormat(4, False), IntFormat(8), IntFormat(16, False),
                IntFormat(64)):
        want = np.array([ref_overflow(int(v), fmt, overflow) for v in x], dtype=np.uint64)
        got = fmt.encode(x, overflow=overflow)
        assert_codes_equal(fmt, x, got, want, f"{dtype} input, {overflow}")


@pytest.mark.parametrize("rounding", ROUNDINGS)
@pytest.mark.parametrize("fmt", [FixedFormat(4, 4), FixedFormat(10, -2), FixedFormat(32, 32),
                                 FixedFormat(3, 5, signed=False)],
                         ids=["fixed4_4", "fixed10_-2", "fixed32_32", "ufixed3_5"])
def test_integer_dtype_into_fixed_point(fmt, rounding):
    """Integers below 2**53 into fixed point: exact, rounded like the equal float64."""
    rng = np.random.default_rng(11)
    x = np.concatenate([np.arange(-40, 41), rng.integers(-(1 << 40), 1 << 40, 200),
                        [(1 << 53) - 1, -(1 << 53) + 1, 1 << 31, -(1 << 31)]]).astype(np.int64)
    for overflow in OVERFLOWS:
        want = np.array([ref_overflow(ref_round(float(v), fmt.frac_bits, rounding), fmt,
                                      overflow) for v in x], dtype=np.uint64)
        got = fmt.encode(x, rounding=rounding, overflow=overflow)
        assert_codes_equal(fmt, x, got, want, f"int64 input, {rounding}/{overflow}")


# --------------------------------------------------------------------------------------------
# 3. NaN and infinities
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("overflow", OVERFLOWS)
@pytest.mark.parametrize("fmt", FORMATS, ids=FORMAT_IDS)
def test_nan_raises_unless_on_nan_zero(fmt, overflow):
    x = np.array([1.0, np.nan, -0.5])
    for rounding in ROUNDINGS + (Stochastic(bits=4, random=np.array([3, 5, 7])),):
        with pytest.raises(EncodeError):
            fmt.encode(x, rounding=rounding, overflow=overflow)
        with pytest.raises(EncodeError):
            fmt.encode(np.nan, rounding=rounding, overflow=overflow, on_nan="raise")
    for rounding in ROUNDINGS:
        got = fmt.encode(x, rounding=rounding, overflow=overflow, on_nan="zero")
        want = [ref_overflow(ref_round(v, fmt.frac_bits, rounding), fmt, overflow)
                if not math.isnan(v) else 0 for v in x]
        assert_codes_equal(fmt, x, got, want, f"on_nan='zero' {rounding}/{overflow}")
    with pytest.raises(EncodeError):
        fmt.encode(x, on_nan="ignore")


@pytest.mark.parametrize("fmt", FORMATS, ids=FORMAT_IDS)
def test_infinities(fmt):
    x = np.array([np.inf, -np.inf, 0.25, -np.inf, np.inf])
    n = fmt.bits
    for rounding in ROUNDINGS:
        for overflow in ("saturate", "saturate_symmetric"):
            lo = fmt.min_int if overflow == "saturate" else (-fmt.max_int if fmt.signed else 0)
            got = fmt.encode(x, rounding=rounding, overflow=overflow)
            want = [fmt.max_int % (1 << n), lo % (1 << n),
                    ref_overflow(ref_round(0.25, fmt.frac_bits, rounding), fmt, overflow),
                    lo % (1 << n), fmt.max_int % (1 << n)]
            assert_codes_equal(fmt, x, got, want, f"+-inf under {rounding}/{overflow}")
        with pytest.raises(EncodeError):
            fmt.encode(x, rounding=rounding, overflow="wrap")
        for inf in (np.inf, -np.inf):
            with pytest.raises(EncodeError):
                fmt.encode([inf], rounding=rounding, overflow="wrap")


def test_bad_arguments_raise():
    f = FixedFormat(4, 4)
    with pytest.raises(EncodeError):
        f.encode([1.0], overflow="clamp")
    with pytest.raises(RoundingError):
        f.encode([1.0], rounding="nearest")
    with pytest.raises(RoundingError):
        f.encode([1.0], rounding="stochastic")
    with pytest.raises(EncodeError):
        f.encode(["1.0"])
    with pytest.raises(EncodeError):
        f.decode([256])
    with pytest.raises(EncodeError):
        f.decode([-1])


# --------------------------------------------------------------------------------------------
# 4. Stochastic rounding
# --------------------------------------------------------------------------------------------
STOCH_FORMATS = [FixedFormat(4, 4), FixedFormat(2, 6), FixedFormat(8, 8),
                 FixedFormat(3, 5, signed=False), FixedFormat(1, 7), FixedFormat(32, 32),
                 FixedFormat(10, -2), IntFormat(8), IntFormat(64), IntFormat(16, signed=False)]


def _stochastic_inputs(fmt, rng, count=1500):
    F, n = fmt.frac_bits, fmt.bits
    lo, hi = fmt.min_int, fmt.max_int
    lsb = Fraction(2) ** -F
    prng = random.Random(int(rng.integers(1 << 30)))
    out = []
    for _ in range(count):
        kind = prng.randrange(4)
        if kind == 0:      # few discarded bits (fewer than R for most R)
            s = prng.randint(0, 6)
            u = Fraction(prng.randint(lo, hi)) + Fraction(prng.randrange(1 << s), 1 << s)
        elif kind == 1:    # many discarded bits
            s = prng.randint(20, 52)
            u = Fraction(prng.randint(lo, hi)) + Fraction(prng.randrange(1 << s), 1 << s)
        elif kind == 2:    # out of range
            u = Fraction(prng.randint(lo - (1 << n), hi + (1 << n))) + Fraction(
                prng.randrange(1 << 10), 1 << 10)
        else:              # any binade
            e = prng.randint(-70, n + 2)
            u = Fraction(prng.randrange(1 << 52, 1 << 53)) * Fraction(2) ** (e - 52)
            u = -u if prng.random() < 0.5 else u
        out.append(float(u * lsb))
    out += [0.0, -0.0, 1e-300, -1e-300, 5e-324, -5e-324, 2.0**70, -2.0**70]
    return np.array(out, dtype=np.float64)


@pytest.mark.parametrize("overflow", OVERFLOWS)
@pytest.mark.parametrize("R", [1, 2, 3, 8, 16, 32])
@pytest.mark.parametrize("fmt", STOCH_FORMATS, ids=[f.name for f in STOCH_FORMATS])
def test_stochastic_matches_reference(fmt, R, overflow):
    rng = np.random.default_rng(zlib.crc32(f"{fmt!r}{R}{overflow}".encode()))
    x = _stochastic_inputs(fmt, rng)
    r = rng.integers(0, 1 << R, x.shape, dtype=np.uint64)
    got = fmt.encode(x, rounding=Stochastic(bits=R, random=r), overflow=overflow)
    want = np.array([ref_overflow(ref_stochastic(float(v), fmt.frac_bits, R, int(ri)), fmt,
                                  overflow) for v, ri in zip(x, r)], dtype=np.uint64)
    assert_codes_equal(fmt, x, got, want, f"Stochastic(bits={R})/{overflow}",
                       extra=[f"r={int(ri):#x}" for ri in r])


@pytest.mark.parametrize("R", [1, 4, 8])
def test_stochastic_extreme_random_values(R):
    """r = 0 is truncation of the magnitude; r = 2**R - 1 rounds up whenever the R bits
    below the LSB are nonzero."""
    f = FixedFormat(8, 8)
    rng = np.random.default_rng(R)
    x = _stochastic_inputs(f, rng, 500)
    x = x[np.abs(x) < 100]
    zero = f.encode(x, rounding=Stochastic(bits=R, random=np.zeros(1, dtype=np.int64)))
    assert_codes_equal(f, x, zero, f.encode(x, rounding="rtz"), f"Stochastic({R}) r=0 vs rtz")
    top = f.encode(x, rounding=Stochastic(bits=R, random=np.array((1 << R) - 1)))
    want = [ref_overflow(ref_stochastic(float(v), 8, R, (1 << R) - 1), f, "saturate")
            for v in x]
    assert_codes_equal(f, x, top, want, f"Stochastic({R}) r=2**R-1")


def test_stochastic_random_argument_checks():
    f = FixedFormat(4, 4)
    with pytest.raises(RoundingError):
        f.encode([0.3, 0.4], rounding=Stochastic(bits=4, random=np.array([16, 0])))
    with pytest.raises(RoundingError):
        f.encode([0.3, 0.4], rounding=Stochastic(bits=4, random=np.array([-1, 0])))
    with pytest.raises(RoundingError):
        f.encode([0.3, 0.4, 0.5], rounding=Stochastic(bits=4, random=np.array([1, 2])))
    with pytest.raises(RoundingError):
        Stochastic(bits=4)
    with pytest.raises(RoundingError):
        Stochastic(bits=4, rng=np.random.default_rng(0), random=np.array([1]))
    with pytest.raises(RoundingError):
        Stochastic(bits=0, rng=np.random.default_rng(0))
    with pytest.raises(RoundingError):
        Stochastic(bits=33, rng=np.random.default_rng(0))


@pytest.mark.parametrize("fmt,value,R", [
    (FixedFormat(4, 4), 0.3, 16),            # 4.8 LSB
    (FixedFormat(4, 4), -0.3, 16),
    (FixedFormat(2, 6), 0.7071067811865476, 20),
    (FixedFormat(8, 8), -3.14159265358979, 12),
    (FixedFormat(8, 8), 1.0 / 3.0, 2),       # R smaller than the discarded bits: biased by < 2**-R
    (FixedFormat(3, 5, signed=False), 2.40625 + 2.0**-9, 8),
    (IntFormat(8), 2.5, 1),                  # one discarded bit, R=1: exactly unbiased
    (IntFormat(16), -1234.5678, 24),
], ids=lambda v: repr(v) if isinstance(v, float) else (v.name if hasattr(v, "name") else None))
def test_stochastic_is_unbiased(fmt, value, R):
    N = 200_000
    got = fmt.encode(np.full(N, value),
                     rounding=Stochastic(bits=R, rng=np.random.default_rng(2024)))
    mean_units = fmt.to_int(got).astype(np.float64).mean()
    num, den = _units(value, fmt.frac_bits)
    true = Fraction(num, den)
    mag = abs(true)
    trunc = math.floor(mag)
    p_exact = Fraction(math.floor((mag - trunc) * (1 << R)), 1 << R)   # P(round up) exactly
    expected = (trunc + p_exact) * (1 if true >= 0 else -1)
    sigma = math.sqrt(float(p_exact * (1 - p_exact)) / N)
    # The mean matches the hardware's exact expectation...
    assert abs(mean_units - float(expected)) <= 5 * sigma + 1e-12, (mean_units, expected, sigma)
    # ...which is within 2**-R LSB of the true value (exact when R covers the discarded bits).
    assert abs(expected - true) < Fraction(1, 1 << R)
    assert abs(mean_units - float(true)) <= 5 * sigma + 2.0**-R
    # Only the two neighbours occur, with both present unless p is 0 or 1.
    vals = set(int(v) for v in np.unique(fmt.to_int(got)))
    sign = 1 if true >= 0 else -1
    assert vals <= {sign * trunc, sign * (trunc + 1)}


def test_stochastic_same_seed_same_codes():
    f = FixedFormat(8, 8)
    x = np.random.default_rng(5).uniform(-100, 100, (64, 33))
    a = f.encode(x, rounding=Stochastic(bits=8, rng=np.random.default_rng(99)))
    b = f.encode(x, rounding=Stochastic(bits=8, rng=np.random.default_rng(99)))
    c = f.encode(x, rounding=Stochastic(bits=8, rng=np.random.default_rng(100)))
    assert a.shape == x.shape
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    # The seeded generator is equivalent to drawing the same numbers and passing them in.
    r = np.random.default_rng(99).integers(0, 1 << 8, size=x.shape, dtype=np.uint64)
    np.testing.assert_array_equal(a, f.encode(x, rounding=Stochastic(bits=8, random=r)))
    # Every code is one of the two neighbours (rdn, rup).
    lo, hi = f.encode(x, rounding="rdn"), f.encode(x, rounding="rup")
    assert np.all((a == lo) | (a == hi))


# --------------------------------------------------------------------------------------------
# Focused regression: huge negative values must saturate to the minimum
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("fmt,value", [
    pytest.param(IntFormat(8), -np.inf, id="int8--inf"),
    pytest.param(IntFormat(8), -(2.0**64), id="int8--2**64"),
    pytest.param(IntFormat(8), -(2.0**70), id="int8--2**70"),
    pytest.param(IntFormat(8), -1e300, id="int8--1e300"),
    pytest.param(IntFormat(64), -(2.0**64), id="int64--2**64"),
    pytest.param(IntFormat(8, signed=False), -np.inf, id="uint8--inf"),
    pytest.param(FixedFormat(32, 32), -(2.0**63), id="fixed32_32--2**63"),   # 2**95 LSB
    pytest.param(FixedFormat(-64, 72), -0.5, id="fixed-64_72--0.5"),        # 2**71 LSB
])
@pytest.mark.parametrize("overflow", ("saturate", "saturate_symmetric"))
def test_huge_negative_saturates_to_minimum(fmt, value, overflow):
    """A negative value whose magnitude in LSB units is >= 2**64 and a multiple of 2**64
    (its low 64 bits are zero; -inf too) must clamp to the bottom of the range, not the top."""
    lo = fmt.min_int if overflow == "saturate" else (-fmt.max_int if fmt.signed else 0)
    got = fmt.encode(np.array([value]), overflow=overflow)
    want = [lo % (1 << fmt.bits)]
    assert_codes_equal(fmt, [value], got, want, f"{overflow} of a huge negative value")
