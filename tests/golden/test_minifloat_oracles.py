"""Minifloat encode/decode against independent oracles, compared on bit patterns.

Oracles (test-only dependencies, see pyproject.toml):

* ``ml_dtypes``: decode of every code, and float32 -> format casts (RNE). ml_dtypes casts from
  float64 go through float32 and double-round (numerics.md, "Double rounding"), so it is only
  ever fed float32 here; float64 inputs are checked against gfloat and an exact
  ``fractions.Fraction`` reference written below instead.
* ``numpy.float16``: float32 -> fp16 and float64 -> fp16 (numpy converts float64 directly).
* ``gfloat``: every rounding mode, with and without saturation, and stochastic rounding, from
  float64 inputs.

float32 arrays of at least 2**16 values go through lowbit's table-driven float32 encoders, smaller
ones and float64 through the exact encoder: the float32 tests run both (large arrays, and the
same values in small chunks or as float64).

Every comparison is on codes (bit patterns) or on float64 bit patterns, so -0 is checked; all
NaN codes of a format are one class. A mismatch prints the inputs, both codes in hex and their
decoded values.
"""

import bisect
import functools
from fractions import Fraction

import gfloat
import gfloat.formats as gff
import ml_dtypes
import numpy as np
import pytest
from gfloat import RoundMode

from lowbit.errors import EncodeError
from lowbit.golden import formats
from lowbit.golden.rounding import Stochastic

# --- oracle tables ------------------------------------------------------------------------------

ML_DTYPES = {
    "fp8_e4m3": ml_dtypes.float8_e4m3fn,
    "fp8_e5m2": ml_dtypes.float8_e5m2,
    "fp6_e3m2": ml_dtypes.float6_e3m2fn,
    "fp6_e2m3": ml_dtypes.float6_e2m3fn,
    "fp4_e2m1": ml_dtypes.float4_e2m1fn,
    "e8m0": ml_dtypes.float8_e8m0fnu,
    "bf16": ml_dtypes.bfloat16,
    "fp16": np.float16,
}

# The lowbit overflow policy equal to what ml_dtypes (numpy for fp16) does on a float32 cast.
ML_OVERFLOW = {
    "fp8_e4m3": "nan",       # float8_e4m3fn: overflow -> NaN
    "fp8_e5m2": "inf",
    "fp6_e3m2": "saturate",  # the sub-byte MX types saturate
    "fp6_e2m3": "saturate",
    "fp4_e2m1": "saturate",
    "bf16": "inf",
    "fp16": "inf",
}

GFLOAT = {
    "fp8_e4m3": gff.format_info_ocp_e4m3,
    "fp8_e5m2": gff.format_info_ocp_e5m2,
    "fp6_e3m2": gff.format_info_ocp_e3m2,
    "fp6_e2m3": gff.format_info_ocp_e2m3,
    "fp4_e2m1": gff.format_info_ocp_e2m1,
    "fp16": gff.format_info_binary16,
    "bf16": gff.format_info_bfloat16,
}

GFLOAT_MODES = {
    "rne": RoundMode.TiesToEven,
    "rna": RoundMode.TiesToAway,
    "rtz": RoundMode.TowardZero,
    "rup": RoundMode.TowardPositive,
    "rdn": RoundMode.TowardNegative,
}

MINIFLOATS = ("fp8_e4m3", "fp8_e5m2", "fp6_e3m2", "fp6_e2m3", "fp4_e2m1", "fp16", "bf16")
NO_NAN = ("fp6_e3m2", "fp6_e2m3", "fp4_e2m1")


def _rng(*key):
    """A generator seeded from a readable key, so each test's stimulus is reproducible."""
    return np.random.default_rng([sum(map(ord, str(k))) for k in key] + [2024])


# --- assert helpers ---------------------------------------------------------------------------


def _hex(fmt, c):
    return f"0x{int(c):0{(fmt.bits + 3) // 4}X}"


def _fmt_input(v):
    v = float(v)
    return f"{v!r} ({v.hex()})"


def _report(fmt, what, idx, x, got, want, extra=None):
    got_v = fmt.decode(got[idx])
    want_v = fmt.decode(want[idx])
    lines = [f"{what}: {idx.size} mismatch(es) in {got.size} cases, first {min(idx.size, 12)}:"]
    for k, i in enumerate(idx[:12]):
        tail = f"  [{extra[i]}]" if extra is not None else ""
        lines.append(
            f"  x={_fmt_input(x[i])}: lowbit {_hex(fmt, got[i])} = {float(got_v[k])!r}, "
            f"expected {_hex(fmt, want[i])} = {float(want_v[k])!r}{tail}"
        )
    return "\n".join(lines)


def assert_same_codes(fmt, got, want, x, what, extra=None):
    """Assert code arrays are equal, NaN codes forming one class."""
    got = np.asarray(got).astype(np.uint64).ravel()
    want = np.asarray(want).astype(np.uint64).ravel()
    x = np.asarray(x).ravel()
    assert got.shape == want.shape == x.shape
    same = got == want
    if fmt.has_nan:
        same |= np.isnan(fmt.decode(got)) & np.isnan(fmt.decode(want))
    bad = np.flatnonzero(~same)
    assert bad.size == 0, _report(fmt, what, bad, x, got, want, extra)


def _f64_key(v):
    return np.ascontiguousarray(np.asarray(v, dtype=np.float64)).view(np.int64)


def codes_of_values(fmt, vals):
    """Map oracle float64 values to ``fmt`` codes by exact bit pattern (sign of zero included).

    The table comes from decoding every code (checked against ml_dtypes in
    ``test_decode_matches_ml_dtypes``); NaN maps to the canonical NaN code. A value that is not
    exactly a value of the format fails the test: the oracle returned an unrepresentable value.
    """
    vals = np.asarray(vals, dtype=np.float64).ravel()
    table = fmt.values()
    ok = ~np.isnan(table)
    keys = _f64_key(table[ok])
    codes = np.arange(table.size, dtype=np.uint64)[ok]
    order = np.argsort(keys)
    keys, codes = keys[order], codes[order]
    nan = np.isnan(vals)
    k = _f64_key(np.where(nan, 0.0, vals))
    pos = np.clip(np.searchsorted(keys, k), 0, keys.size - 1)
    found = (keys[pos] == k) | nan
    assert found.all(), (
        f"oracle value(s) not representable in {fmt.name}: {vals[~found][:8].tolist()}"
    )
    out = codes[pos]
    if nan.any():
        assert fmt.has_nan, f"oracle returned NaN for {fmt.name}, which has no NaN"
        out = np.where(nan, np.uint64(fmt.nan_code), out)
    return out


# --- stimulus ------------------------------------------------------------------------------------


def _positive_values(fmt):
    """Sorted distinct finite values >= 0 (float64)."""
    v = fmt.values()
    v = v[np.isfinite(v) & (v >= 0)]
    return np.unique(v)


def _top_ulp(fmt):
    """Spacing just below max, i.e. distance from max to the next value of the unbounded format."""
    return 2.0 ** (fmt.emax - fmt.man_bits)


def _f32_neighbours(a):
    a = np.asarray(a, dtype=np.float32)
    return np.concatenate([a, np.nextafter(a, np.float32(np.inf)),
                           np.nextafter(a, np.float32(-np.inf))])


def _as_f32_exact(v):
    f = np.asarray(v, dtype=np.float64).astype(np.float32)
    assert np.array_equal(f.astype(np.float64), v), "stimulus point not exact in float32"
    return f


def _f32_bit_offsets(a, rng, max_points=4000):
    """float32 words of ``a`` (>= 0) plus and minus 2**k for every k in 0..22: every single
    bit below a value's or midpoint's LSB set or borrowed, so that each position of the guard
    and sticky logic (and of the inexact flag of the directed modes) is hit."""
    a = np.asarray(a, dtype=np.float32)
    if a.size > max_points:  # fp16/bf16: both ends and a sample of the middle
        a = np.concatenate([a[:500], a[-500:], rng.choice(a[500:-500], max_points - 1000,
                                                           replace=False)])
    w = a.view(np.uint32).astype(np.int64)[:, None]
    step = (np.int64(1) << np.arange(23, dtype=np.int64))[None, :]
    out = np.concatenate([(w + step).ravel(), (w - step).ravel()])
    out = out[(out >= 0) & (out < 0x7F800000)].astype(np.uint32)
    return out.view(np.float32)


def f32_stimulus(fmt, with_nan=True):
    """float32 stimulus: values, midpoints (+-1 ulp, and +-2**k ulp), overflow band, subnormal
    band, specials.

    Both signs of everything, plus +-0, +-inf and (if ``with_nan``) NaN.
    """
    pos = _positive_values(fmt)
    mids = (pos[:-1] + pos[1:]) / 2
    mx, u = fmt.max_value, _top_ulp(fmt)
    boundary = mx + u / 2  # RNE rounding boundary between max and the would-be next value
    ms = fmt.min_subnormal
    exact = np.concatenate([pos, mids, [boundary, mx + u], [ms / 2, ms / 4, 3 * ms / 4]])
    exact = exact[exact <= np.finfo(np.float32).max]  # bf16's max + ulp is 2**128
    with np.errstate(over="ignore"):
        # Overflow band max .. beyond 2*max (inf where it passes float32's range, for bf16).
        band = (mx * (1 + np.arange(1, 160) / 64)).astype(np.float32)
        far = np.array([4 * mx, 1e4 * mx, np.finfo(np.float32).max], np.float64).astype(
            np.float32)
    tiny = np.array([ms / 1024, 2.0**-149, np.finfo(np.float32).tiny], np.float32)
    a = np.concatenate([_f32_neighbours(_as_f32_exact(exact)), band, far, tiny,
                        _f32_bit_offsets(_as_f32_exact(exact), _rng("bits", fmt.name))])
    a = a[np.isfinite(a)]
    a = np.concatenate([a, -a, np.array([0.0, -0.0, np.inf, -np.inf], np.float32)])
    if with_nan:
        a = np.concatenate([a, np.array([np.nan, -np.nan], np.float32)])
    return a


def random_f64(fmt, n, rng):
    """Random float64 with full 53-bit significands, spanning tiny..beyond max, both signs."""
    lo = int(np.floor(np.log2(fmt.min_subnormal))) - 3
    hi = fmt.emax + 3
    e = rng.integers(lo, hi, size=n)
    sig = (np.uint64(1) << np.uint64(52)) | rng.integers(0, 1 << 52, size=n, dtype=np.uint64)
    x = np.ldexp(sig.astype(np.float64), e - 52)  # exact: sig < 2**53
    return np.where(rng.random(n) < 0.5, -x, x)


def f64_stimulus(fmt, with_nan=True, n=20000):
    """float32 stimulus cast up to float64, plus random full-precision float64 values."""
    a = f32_stimulus(fmt, with_nan).astype(np.float64)
    return np.concatenate([a, random_f64(fmt, n, _rng("f64", fmt.name))])


FAST_PATH_MIN = 1 << 16  # lowbit encodes float32 arrays this large through derived tables


def f32_big_stimulus(fmt, with_nan=True, n=1 << 17):
    """The float32 stimulus padded with random float32 words over the format's range (and
    random NaN payloads, signalling ones included) to ``n`` values, so that lowbit's
    table-driven float32 encoders are used; encoding it in small chunks uses the exact
    encoder, so both paths see the same inputs."""
    base = f32_stimulus(fmt, with_nan)
    rng = _rng("f32big", fmt.name)
    m = max(n - base.size, 1 << 13)
    lo = max(int(np.floor(np.log2(fmt.min_subnormal))) - 3, -149)
    e = rng.integers(lo, min(fmt.emax + 3, 128), size=m)
    mant = rng.integers(0, 1 << 23, size=m, dtype=np.uint32)
    with np.errstate(over="ignore"):
        r = np.ldexp(1.0 + mant / 2.0**23, e).astype(np.float32)  # exact: 24-bit significand
    r = np.where(rng.random(m) < 0.5, -r, r)
    if with_nan:
        k = m // 64
        words = (np.uint32(0x7F800000) | rng.integers(1, 1 << 23, size=k, dtype=np.uint32)
                 | (rng.integers(0, 2, size=k, dtype=np.uint32) << np.uint32(31)))
        r[:k] = words.view(np.float32)
    out = np.concatenate([base, r.astype(np.float32)])
    assert out.size >= FAST_PATH_MIN
    return out


def encode_in_chunks(fmt, x, chunk=4096, **kw):
    """Encode in chunks below the fast-path size (the exact encoder)."""
    return np.concatenate([fmt.encode(x[i:i + chunk], **kw) for i in range(0, x.size, chunk)])


# --- exact reference ---------------------------------------------------------------------------


@functools.lru_cache(maxsize=None)
def exact_nearest_even(name):
    """The (cached) exact reference of catalog format ``name``."""
    return ExactNearestEven(formats.get(name))


class ExactNearestEven:
    """Round-to-nearest-even by exact ``Fraction`` distances over the format's value list.

    Ties go to the even code. Beyond max sits the would-be next value of the format with an
    unbounded exponent (max + top ulp, code max_code + 1, whose parity is its mantissa's: for
    E4M3 that is 480 = 1.111b * 2**8, odd, so the tie 464 rounds down to 448). Rounding to it is
    overflow, handled by ``overflow`` (IEEE 754 7.4 for "inf" under RNE: to Inf).
    """

    def __init__(self, fmt):
        assert fmt.kind == "float" and fmt.man_bits > 0
        self.fmt = fmt
        v = fmt.values()
        codes = np.flatnonzero(np.isfinite(v) & ~np.signbit(v))
        pairs = sorted((Fraction(float(v[c])), int(c)) for c in codes)
        self.vals = [p[0] for p in pairs]
        self.codes = [p[1] for p in pairs]
        assert len(set(self.vals)) == len(self.vals)
        assert self.codes[-1] == fmt.max_code
        self.vals.append(self.vals[-1] + Fraction(_top_ulp(fmt)))
        self.codes.append(fmt.max_code + 1)
        self.sign = 1 << (fmt.bits - 1) if fmt.signed else 0

    def _overflow(self, overflow):
        f = self.fmt
        return {"saturate": f.max_code, "inf": f.inf_code, "nan": f.nan_code}[overflow]

    def code(self, x, overflow):
        x = float(x)
        if np.isnan(x):
            return self.fmt.nan_code
        sign = self.sign if np.signbit(x) else 0
        if np.isinf(x):
            return self._overflow(overflow) | sign
        a = Fraction(abs(x))
        i = bisect.bisect_left(self.vals, a)
        if i == len(self.vals):
            c = self.codes[-1]
        elif self.vals[i] == a:
            c = self.codes[i]
        else:
            dlo, dhi = a - self.vals[i - 1], self.vals[i] - a
            if dlo != dhi:
                c = self.codes[i - 1] if dlo < dhi else self.codes[i]
            else:
                c = self.codes[i - 1] if self.codes[i - 1] % 2 == 0 else self.codes[i]
        if c > self.fmt.max_code:
            c = self._overflow(overflow)
        return c | sign

    def __call__(self, xs, overflow):
        return np.array([self.code(x, overflow) for x in np.ravel(xs)], dtype=np.uint64)


# ================================================================================================
# 1. Decode of every code, and encode(decode(c)) == c
# ================================================================================================

DECODE_FORMATS = ("fp8_e4m3", "fp8_e5m2", "fp6_e3m2", "fp6_e2m3", "fp4_e2m1", "e8m0", "bf16",
                  "fp16")


@pytest.mark.parametrize("name", DECODE_FORMATS)
def test_decode_matches_ml_dtypes(name):
    """Every code decodes to ml_dtypes' value, sign bit included (-0); NaN codes agree."""
    fmt = formats.get(name)
    n = 1 << fmt.bits
    store = np.uint8 if fmt.bits <= 8 else np.uint16
    # ml_dtypes' sub-byte types are stored one per byte in the low bits: viewing a uint8 array
    # of codes as the dtype works for 4- and 6-bit types too.
    codes = np.arange(n, dtype=store)
    with np.errstate(invalid="ignore"):
        want = codes.view(ML_DTYPES[name]).astype(np.float64)
    got = fmt.values()
    assert got.dtype == np.float64 and got.shape == (n,)
    nan_got, nan_want = np.isnan(got), np.isnan(want)
    same_bits = _f64_key(np.where(nan_got, 0, got)) == _f64_key(np.where(nan_want, 0, want))
    same = (nan_got & nan_want) | (same_bits & ~nan_got & ~nan_want)
    bad = np.flatnonzero(~same)
    assert bad.size == 0, "\n".join(
        f"code {_hex(fmt, c)}: lowbit {got[c]!r}, ml_dtypes {want[c]!r}" for c in bad[:12])
    # Sanity of the limits against the same table.
    finite = want[np.isfinite(want)]
    assert fmt.max_value == finite.max()
    assert fmt.decode([fmt.max_code])[0] == finite.max()
    if fmt.has_nan:
        assert np.isnan(want[fmt.nan_code])
    if fmt.has_inf:
        assert want[fmt.inf_code] == np.inf


# Independent of lowbit's geometry: max finite and the would-be next value of the unbounded
# format (the reference's overflow point; the RNE overflow boundary is their midpoint).
KNOWN_LIMITS = {
    "fp8_e4m3": (448.0, 480.0), "fp8_e5m2": (57344.0, 65536.0), "fp6_e3m2": (28.0, 32.0),
    "fp6_e2m3": (7.5, 8.0), "fp4_e2m1": (6.0, 8.0), "fp16": (65504.0, 65536.0),
    "bf16": ((2 - 2.0**-7) * 2.0**127, 2.0**128),
}


@pytest.mark.parametrize("name", MINIFLOATS)
def test_limits_used_by_the_references(name):
    fmt = formats.get(name)
    mx, nxt = KNOWN_LIMITS[name]
    assert fmt.max_value == mx == GFLOAT[name].max
    assert fmt.max_value + _top_ulp(fmt) == nxt


ROUNDTRIP_FORMATS = [f.name for f in formats.catalog() if f.kind != "block" and f.bits <= 16]


def test_roundtrip_catalog_is_what_we_expect():
    assert set(ROUNDTRIP_FORMATS) >= {"fp8_e4m3", "fp8_e5m2", "fp6_e3m2", "fp6_e2m3",
                                      "fp4_e2m1", "e8m0", "ue4m3", "fp16", "bf16", "int8",
                                      "uint8", "posit8_0", "posit16_1"}


@pytest.mark.parametrize("name", ROUNDTRIP_FORMATS)
def test_encode_decode_roundtrip(name):
    """encode(decode(c)) == c for every non-NaN code, under every deterministic rounding mode."""
    fmt = formats.get(name)
    codes = np.arange(1 << fmt.bits, dtype=np.uint64)
    v = fmt.decode(codes)
    keep = ~np.isnan(v)
    codes, v = codes[keep], v[keep]
    assert codes.size > 0
    for mode in ("rne", "rna", "rtz", "rup", "rdn", "rto"):
        got = fmt.encode(v, rounding=mode)
        assert got.dtype == fmt.code_dtype
        assert_same_codes(fmt, got, codes, v, f"{name} encode(decode(c)) rounding={mode}")


# ================================================================================================
# 2a. float32 -> minifloat, RNE, against ml_dtypes / numpy.float16 casts
# ================================================================================================


@pytest.mark.parametrize("name", MINIFLOATS)
def test_f32_rne_matches_ml_dtypes(name):
    fmt = formats.get(name)
    x = f32_big_stimulus(fmt, with_nan=name not in NO_NAN)
    store = np.uint8 if fmt.bits <= 8 else np.uint16
    with np.errstate(over="ignore", invalid="ignore"):
        want = x.astype(ML_DTYPES[name]).view(store)
    ov = ML_OVERFLOW[name]
    got = fmt.encode(x, rounding="rne", overflow=ov)  # float32 table path
    assert_same_codes(fmt, got, want, x, f"{name} float32 RNE (large array) vs ml_dtypes")
    got = encode_in_chunks(fmt, x, rounding="rne", overflow=ov)  # exact path
    assert_same_codes(fmt, got, want, x, f"{name} float32 RNE (small arrays) vs ml_dtypes")


def test_f32_to_fp16_matches_numpy_f32_and_f64_casts():
    """fp16 also against numpy's own float16 casts from float32 and (direct, single rounding)
    from float64, on float32 stimulus and random full-precision float64."""
    fmt = formats.get("fp16")
    x32 = f32_stimulus(fmt)
    with np.errstate(over="ignore"):
        want = x32.astype(np.float16).view(np.uint16)
    assert_same_codes(fmt, fmt.encode(x32), want, x32, "fp16 vs numpy float32->float16")
    x64 = f64_stimulus(fmt)
    with np.errstate(over="ignore"):
        want = x64.astype(np.float16).view(np.uint16)
    assert_same_codes(fmt, fmt.encode(x64), want, x64, "fp16 vs numpy float64->float16")


@pytest.mark.parametrize("name", NO_NAN)
def test_nan_into_nanless_format(name):
    """NaN has no code in FP6/FP4: lowbit raises unless on_nan is given; on_nan="zero" gives +0
    (ml_dtypes gives -0 here, a different undocumented choice: not compared)."""
    fmt = formats.get(name)
    x = np.array([1.0, np.nan, -np.nan], np.float32)
    for mode in ("rne", "rtz"):
        with pytest.raises(EncodeError, match="NaN"):
            fmt.encode(x, rounding=mode)
    got = fmt.encode(x, on_nan="zero")
    assert_same_codes(fmt, got, [fmt.encode([1.0])[0], 0, 0], x, f"{name} on_nan=zero")


# ================================================================================================
# 2b. Every rounding mode, with and without saturation, against gfloat (float64 inputs)
# ================================================================================================


def _gfloat_case(fmt, x, mode, sat):
    """Return (kept inputs mask, expected codes of x[keep]) of gfloat, for lowbit's matching
    overflow policy (see :func:`_lowbit_overflow`)."""
    fi = GFLOAT[fmt.name]
    keep = np.ones(x.shape, bool)
    if not sat and fmt.name in NO_NAN:
        # gfloat raises when a format without Inf/NaN overflows with sat=False: only inputs
        # that cannot overflow under any mode.
        keep = np.isfinite(x) & (np.abs(x) <= fmt.max_value)
    x = x[keep]
    want_v = gfloat.round_ndarray(fi, x, GFLOAT_MODES[mode], sat)
    want = codes_of_values(fmt, want_v)
    if not sat and fmt.name == "fp8_e4m3" and mode in ("rtz", "rup", "rdn"):
        # Policy difference, not a bug: when the unbounded result is beyond max (|x| >= 480
        # truncated), gfloat applies IEEE 7.4's "to max" directions even though E4M3 has no
        # Inf; lowbit's overflow="nan" (documented: ml_dtypes' e4m3fn behaviour) gives NaN for
        # every overflow. Expect lowbit's documented NaN there.
        toward_zero = {"rtz": np.ones(x.shape, bool), "rdn": x > 0, "rup": x < 0}[mode]
        over = np.isfinite(x) & (np.abs(x) >= fmt.max_value + _top_ulp(fmt)) & toward_zero
        assert np.array_equal(np.abs(want_v[over]), np.full(over.sum(), fmt.max_value))
        want = np.where(over, np.uint64(fmt.nan_code), want)
    return keep, want


def _lowbit_overflow(fmt, sat):
    if sat:
        return "saturate"
    return "inf" if fmt.has_inf else ("nan" if fmt.has_nan else "saturate")


GFLOAT_CASES = [(n, m, s) for n in MINIFLOATS for m in GFLOAT_MODES for s in (True, False)]


@pytest.mark.parametrize(
    "name,mode,sat", GFLOAT_CASES,
    ids=[f"{n}-{m}-{'sat' if s else 'nosat'}" for n, m, s in GFLOAT_CASES])
def test_rounding_matches_gfloat(name, mode, sat):
    fmt = formats.get(name)
    x = f64_stimulus(fmt, with_nan=name not in NO_NAN)
    keep, want = _gfloat_case(fmt, x, mode, sat)
    x = x[keep]
    got = fmt.encode(x, rounding=mode, overflow=_lowbit_overflow(fmt, sat))
    assert_same_codes(fmt, got, want, x,
                      f"{name} rounding={mode} sat={sat} vs gfloat.round_ndarray")


F32_MODES = ("rne", "rna", "rtz", "rup", "rdn")
F32_CASES = [(n, m, s) for n in MINIFLOATS for m in F32_MODES for s in (True, False)]


@pytest.mark.parametrize(
    "name,mode,sat", F32_CASES,
    ids=[f"{n}-{m}-{'sat' if s else 'nosat'}" for n, m, s in F32_CASES])
def test_float32_input_matches_gfloat(name, mode, sat):
    """float32 arrays large enough for lowbit's table-driven float32 encoders, every mode,
    against gfloat fed the same values as float64 (float32 -> float64 is exact)."""
    fmt = formats.get(name)
    x32 = f32_big_stimulus(fmt, with_nan=name not in NO_NAN, n=(1 << 17) + 4096)
    with np.errstate(invalid="ignore"):  # signalling NaNs widen quietly
        x64 = x32.astype(np.float64)
    keep, want = _gfloat_case(fmt, x64, mode, sat)
    x32, x64 = x32[keep], x64[keep]  # the kept subset, still float32 (NaN payloads intact)
    assert x32.size >= FAST_PATH_MIN
    got = fmt.encode(x32, rounding=mode, overflow=_lowbit_overflow(fmt, sat))
    assert_same_codes(fmt, got, want, x64,
                      f"{name} float32 input rounding={mode} sat={sat} vs gfloat")


@pytest.mark.parametrize("name", MINIFLOATS)
def test_float32_rto_fast_path_matches_exact_path(name):
    """Round-to-odd has no external oracle here: the float32 fast path must equal the exact
    float64 encoder on the same values (every mode is also checked this way)."""
    fmt = formats.get(name)
    x32 = f32_big_stimulus(fmt, with_nan=name not in NO_NAN)
    for mode in ("rto", "rne", "rtz"):
        for ov in fmt.overflow_policies:
            got = fmt.encode(x32, rounding=mode, overflow=ov, on_nan="zero")
            with np.errstate(invalid="ignore"):  # signalling NaNs widen quietly
                x64 = x32.astype(np.float64)
            want = fmt.encode(x64, rounding=mode, overflow=ov, on_nan="zero")
            assert_same_codes(fmt, got, want, x32,
                              f"{name} float32 vs float64 input rounding={mode} overflow={ov}")


# IEEE 7.4 directions under overflow="inf", spelled out on the boundary cases (also covered by
# the gfloat comparison above; kept explicit because it is the numerics.md rule).
@pytest.mark.parametrize("name", ("fp8_e5m2", "fp16", "bf16"))
def test_ieee_overflow_directions(name):
    fmt = formats.get(name)
    big = fmt.max_value * 2
    if not np.isfinite(big):
        big = fmt.max_value + _top_ulp(fmt)
    x = np.array([big, -big])
    mx, inf, s = fmt.max_code, fmt.inf_code, 1 << (fmt.bits - 1)
    expect = {"rne": [inf, inf | s], "rna": [inf, inf | s], "rtz": [mx, mx | s],
              "rup": [inf, mx | s], "rdn": [mx, inf | s]}
    for mode, want in expect.items():
        assert_same_codes(fmt, fmt.encode(x, rounding=mode, overflow="inf"), want, x,
                          f"{name} IEEE 7.4 overflow rounding={mode}")


# ================================================================================================
# 2c. Stochastic rounding against gfloat StochasticFastest
# ================================================================================================

SR_CASES = [(n, r, s) for n in ("fp8_e4m3", "fp8_e5m2", "fp6_e2m3", "fp4_e2m1", "bf16", "fp16")
            for r in (1, 3, 8, 13) for s in (True, False)]


@pytest.mark.parametrize(
    "name,R,sat", SR_CASES,
    ids=[f"{n}-R{r}-{'sat' if s else 'nosat'}" for n, r, s in SR_CASES])
def test_stochastic_matches_gfloat(name, R, sat):
    """lowbit Stochastic(bits=R, random=r) == gfloat StochasticFastest(srbits=r, srnumbits=R).

    gfloat: round away iff delta + r * 2**-R >= 1 in float64 (delta = the discarded fraction);
    lowbit: carry out of (top R discarded bits) + r. Exactly, these are the same predicate: the
    discarded bits below the top R add less than 2**-R and cannot complete a carry. (gfloat's
    float64 sum could only round up to 1.0 when delta has bits below 2**-53, i.e. inputs below
    half the minimum subnormal whose discarded bits just under the top R are all ones; the
    random inputs here do not hit that.)
    """
    fmt = formats.get(name)
    rng = _rng("sr", name, R, sat)
    x = np.concatenate([random_f64(fmt, 20000, rng),
                        f32_stimulus(fmt, with_nan=False).astype(np.float64)])
    if not sat and name in NO_NAN:
        x = x[np.isfinite(x) & (np.abs(x) <= fmt.max_value)]
    r = rng.integers(0, 1 << R, size=x.shape, dtype=np.int64)
    want = codes_of_values(fmt, gfloat.round_ndarray(
        GFLOAT[name], x, RoundMode.StochasticFastest, sat, srbits=r, srnumbits=R))
    got = fmt.encode(x, rounding=Stochastic(bits=R, random=r),
                     overflow=_lowbit_overflow(fmt, sat))
    assert_same_codes(fmt, got, want, x, f"{name} Stochastic(bits={R}) sat={sat} vs gfloat",
                      extra=[f"r={v}" for v in r])


# ================================================================================================
# 2d. Double rounding: float64 inputs just off float32 midpoints
# ================================================================================================


def test_double_rounding_known_case():
    """-431.99999999999994 (= -(432 - 2**-44)) to E4M3 under RNE is -416: 432 is the midpoint
    of 416 and 448, and the input is below it. A float32 detour (ml_dtypes' float64 cast does
    this and gives -448) first rounds it onto the midpoint, then ties-to-even picks 448."""
    fmt = formats.get("fp8_e4m3")
    x = np.array([-431.99999999999994])
    assert x[0] == -(432 - 2.0**-44)
    assert np.float32(x[0]) == -432.0  # the float32 detour lands on the tie
    want = fmt.encode([-416.0])  # 0xFD = 1.1111.101b
    assert int(want[0]) == 0xFD
    got = fmt.encode(x)
    assert_same_codes(fmt, got, want, x, "lowbit E4M3 RNE")
    ref = exact_nearest_even("fp8_e4m3")(x, "saturate")
    assert_same_codes(fmt, ref, want, x, "Fraction reference")
    g = gfloat.round_ndarray(GFLOAT["fp8_e4m3"], x, RoundMode.TiesToEven, True)
    assert_same_codes(fmt, codes_of_values(fmt, g), want, x, "gfloat")
    # The float32 route is exactly what must NOT happen (ml_dtypes oracle is wrong here).
    assert_same_codes(fmt, fmt.encode(x.astype(np.float32)), fmt.encode([-448.0]), x,
                      "float32 detour")


def near_f32_midpoints(fmt, rng, max_mids=3000):
    """float64 values off the format's midpoints by less than half a float32 ulp, so that a
    float64 -> float32 rounding lands exactly on the midpoint (asserted)."""
    pos = _positive_values(fmt)
    mids = (pos[:-1] + pos[1:]) / 2
    mids = np.append(mids, fmt.max_value + _top_ulp(fmt) / 2)  # the overflow boundary
    if mids.size > max_mids:  # fp16/bf16: keep both ends, sample the middle
        mids = np.concatenate([mids[:200], mids[-200:],
                               rng.choice(mids[200:-200], max_mids - 400, replace=False)])
    m32 = _as_f32_exact(mids)
    up32 = np.nextafter(m32, np.float32(np.inf)).astype(np.float64) - mids
    dn32 = mids - np.nextafter(m32, np.float32(0)).astype(np.float64)
    xs = []
    for k in (1, 2, 3):  # k float64 ulps either side
        up, dn = mids, mids
        for _ in range(k):
            up, dn = np.nextafter(up, np.inf), np.nextafter(dn, 0)
        xs += [up, dn]
    for _ in range(2):  # random offsets inside half a float32 ulp
        xs += [mids + rng.uniform(0.001, 0.499, mids.size) * up32,
               mids - rng.uniform(0.001, 0.499, mids.size) * dn32]
    x = np.concatenate(xs)
    x = np.concatenate([x, -x])
    assert np.array_equal(np.abs(x.astype(np.float32)).astype(np.float64),
                          np.tile(mids, 2 * len(xs))), "stimulus does not round onto midpoints"
    assert not np.isin(np.abs(x), mids).any()
    return x


DR_CASES = [(n, ov) for n in MINIFLOATS
            for ov in ("saturate", formats.get(n).default_overflow, "nan")
            if ov in formats.get(n).overflow_policies]
DR_CASES = list(dict.fromkeys(DR_CASES))


@pytest.mark.parametrize("name,overflow", DR_CASES, ids=[f"{n}-{o}" for n, o in DR_CASES])
def test_double_rounding_off_midpoints(name, overflow):
    """lowbit RNE from float64 == exact Fraction nearest-even == gfloat, on values where the
    float32 detour would double-round (and the detour is shown to differ, so the stimulus bites)."""
    fmt = formats.get(name)
    x = near_f32_midpoints(fmt, _rng("dr", name))
    want = exact_nearest_even(name)(x, overflow)
    got = fmt.encode(x, rounding="rne", overflow=overflow)
    assert_same_codes(fmt, got, want, x, f"{name} RNE overflow={overflow} vs exact reference")

    sat = overflow == "saturate"
    # gfloat's sat=False is lowbit's "inf" where the format has Inf, else "nan".
    if sat or overflow == _lowbit_overflow(fmt, False):
        g = codes_of_values(fmt, gfloat.round_ndarray(GFLOAT[name], x, RoundMode.TiesToEven, sat))
        assert_same_codes(fmt, want, g, x, f"{name} exact reference vs gfloat sat={sat}")
    if name == "fp16" and overflow == "inf":
        with np.errstate(over="ignore"):
            n16 = x.astype(np.float16).view(np.uint16)  # numpy converts float64 directly
        assert_same_codes(fmt, want, n16, x, "fp16 exact reference vs numpy float64->float16")

    detour = fmt.encode(x.astype(np.float32), rounding="rne", overflow=overflow)
    differs = np.count_nonzero(detour != want)
    assert differs > x.size // 8, f"only {differs} of {x.size} stimuli exercise double rounding"
