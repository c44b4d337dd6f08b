"""Oracle tests for lowbit's posits (``golden/formats/posit.py``).

Two oracles, both independent of lowbit's code:

* SoftPosit (the ``softposit`` package): posit8 = (8, 0), posit16 = (16, 1), posit32 = (32, 2),
  and ``posit_2`` = (n, 2) for any n in 2..32, which SoftPosit stores left-aligned in a 32-bit
  word. Its double -> posit conversions take a float64 and round it directly (not via
  float32): the tie and nudge tests below would fail otherwise, and
  ``test_softposit_rounds_from_double`` pins that. Quirk: SoftPosit's posit8/posit16/posit_2
  decode NaR as ``inf`` and its posit32 as ``nan``, so NaR is compared as a class (non-finite).
* An exact reference written here with ``fractions.Fraction``: its own decoder (bit strings,
  no floating point) and a nearest-value search over every value of a small posit, where the
  decision point between adjacent patterns ``p`` and ``p + 1`` is the value of the
  ``(n + 1)``-bit pattern ``2p + 1`` (numerics.md, "Posits"; Posit Standard 2022). Where the
  ``(n + 1)``-th bit is a fraction bit that point is the arithmetic midpoint, so the reference
  is plain nearest-by-exact-distance there; where it is a regime or exponent bit it is the
  geometric midpoint (posit(8, 2): 2**23 rounds to maxpos 2**24, the tie 2**22 to 2**20).

Results are compared as bit patterns: posit codes as integers, decoded values as float64 bit
patterns (so -0.0 versus 0.0 would also be caught), never with a tolerance.
"""

import bisect
import functools
import math
from fractions import Fraction

import numpy as np
import pytest
import softposit as sp

from lowbit.golden import formats
from lowbit.golden.formats import binade_table, float32_table

MODES = ("rne", "rtz", "rup", "rdn", "rna")
ALL_MODES = MODES + ("rto",)
F64_MAX = float(np.finfo(np.float64).max)


# --- SoftPosit adapter ----------------------------------------------------------------------
def sp_supports(n, es):
    """True if SoftPosit implements posit(n, es)."""
    return (n, es) in ((8, 0), (16, 1), (32, 2)) or (es == 2 and 3 <= n <= 32)


def sp_encode(n, es, x):
    """SoftPosit's conversion of the float64 ``x`` to a posit(n, es) code (an int)."""
    x = float(x)
    if (n, es) == (8, 0):
        return sp.convertDoubleToP8(x).v
    if (n, es) == (16, 1):
        return sp.convertDoubleToP16(x).v
    if (n, es) == (32, 2):
        return sp.convertDoubleToP32(x).v
    if es == 2:
        word = sp.convertDoubleToPX2(x, n).v
        assert word & ((1 << (32 - n)) - 1) == 0, f"posit_2 word {word:#010x} not left-aligned"
        return word >> (32 - n)
    raise ValueError(f"SoftPosit has no posit({n}, {es})")


def sp_decode(n, es, code):
    """SoftPosit's float64 value of the posit(n, es) ``code`` (NaR: inf or nan, see above)."""
    code = int(code)
    if (n, es) == (8, 0):
        t = sp.posit8_t()
        t.v = code
        return sp.convertP8ToDouble(t)
    if (n, es) == (16, 1):
        t = sp.posit16_t()
        t.v = code
        return sp.convertP16ToDouble(t)
    if (n, es) == (32, 2):
        t = sp.posit32_t()
        t.v = code
        return sp.convertP32ToDouble(t)
    if es == 2:
        t = sp.posit_2_t()
        t.v = code << (32 - n)
        return sp.convertPX2ToDouble(t)
    raise ValueError(f"SoftPosit has no posit({n}, {es})")


def sp_encode_all(n, es, xs):
    return np.array([sp_encode(n, es, x) for x in np.asarray(xs, dtype=np.float64).ravel()],
                    dtype=np.int64)


def sp_decode_all(n, es, codes):
    return np.array([sp_decode(n, es, c) for c in np.asarray(codes).ravel()], dtype=np.float64)


# --- exact Fraction reference ---------------------------------------------------------------
def ref_decode(n, es, code):
    """Exact value of the posit(n, es) ``code`` as a Fraction; ``None`` for NaR.

    Written from the definition on the bit string: two's complement for negatives, a regime
    run, up to ``es`` exponent bits (missing ones read as 0), then the fraction.
    """
    code = int(code) & ((1 << n) - 1)
    if code == 0:
        return Fraction(0)
    if code == 1 << (n - 1):
        return None
    negative = code >> (n - 1) == 1
    if negative:
        code = (1 << n) - code
    body = format(code, f"0{n}b")[1:]
    run = len(body) - len(body.lstrip(body[0]))
    k = run - 1 if body[0] == "1" else -run
    rest = body[run + 1:]
    e = int(rest[:es].ljust(es, "0"), 2) if es else 0
    fbits = rest[es:]
    frac = Fraction(int(fbits, 2), 1 << len(fbits)) if fbits else Fraction(0)
    value = (1 + frac) * Fraction(2) ** (k * (1 << es) + e)
    return -value if negative else value


def to_code(n, s):
    """The n-bit code of the signed integer ``s``."""
    return s & ((1 << n) - 1)


def ref_tie(n, es, p):
    """Decision point between the signed n-bit patterns ``p`` and ``p + 1``: the value of
    the (n + 1)-bit pattern ``2p + 1``."""
    return ref_decode(n + 1, es, to_code(n + 1, 2 * p + 1))


class RefPosit:
    """Exact rounding of float64 values to a small posit(n, es) by searching all its values."""

    def __init__(self, n, es):
        self.n, self.es = n, es
        half = 1 << (n - 1)
        self.signed = list(range(-half + 1, half))  # -maxpos .. maxpos, increasing in value
        self.values = [ref_decode(n, es, to_code(n, s)) for s in self.signed]
        assert all(a < b for a, b in zip(self.values, self.values[1:]))

    def encode(self, x, mode="rne"):
        n = self.n
        x = float(x)
        if math.isnan(x) or math.isinf(x):
            return 1 << (n - 1)
        if x == 0:
            return 0
        xf = Fraction(x)
        negative = xf < 0
        i = bisect.bisect_left(self.values, xf)
        if i < len(self.values) and self.values[i] == xf:
            return to_code(n, self.signed[i])
        lo = self.signed[i - 1] if i > 0 else None  # largest posit below x
        hi = self.signed[i] if i < len(self.values) else None  # smallest posit above x
        if lo is None or hi is None:  # beyond +-maxpos: saturate in every mode
            q = hi if lo is None else lo
        elif mode in ("rne", "rna"):
            t = ref_tie(n, self.es, lo)
            assert self.values[i - 1] < t < self.values[i]
            if xf != t:
                q = lo if xf < t else hi
            elif mode == "rne":
                q = lo if lo % 2 == 0 else hi
            else:
                q = lo if negative else hi
        elif mode == "rtz":
            q = hi if negative else lo
        elif mode == "rup":
            q = hi
        elif mode == "rdn":
            q = lo
        elif mode == "rto":  # truncate the magnitude, then force the LSB to 1
            q = hi if negative else lo
            if q % 2 == 0:
                q = q - 1 if negative else q + 1
        else:
            raise ValueError(mode)
        if q == 0:  # a nonzero never rounds to 0
            q = -1 if negative else 1
        return to_code(n, q)

    def encode_all(self, xs, mode="rne"):
        return np.array([self.encode(x, mode) for x in np.asarray(xs).ravel()], dtype=np.int64)


# --- helpers --------------------------------------------------------------------------------
def fmt(n, es):
    f = formats.get(f"posit{n}_{es}")
    assert (f.n, f.es) == (n, es)
    return f


def f64_bits(v):
    return np.asarray(v, dtype=np.float64).view(np.uint64)


def assert_codes(n, xs, got, want, what, limit=20):
    """Assert equal code arrays; on mismatch list inputs and codes in hex."""
    xs = np.asarray(xs, dtype=np.float64).ravel()
    got = np.asarray(got).astype(np.int64).ravel()
    want = np.asarray(want).astype(np.int64).ravel()
    bad = np.nonzero(got != want)[0]
    if bad.size:
        w = (n + 3) // 4
        lines = [f"{what}: {bad.size} of {xs.size} codes differ"]
        for i in bad[:limit]:
            lines.append(f"  x={float(xs[i])!r} ({float(xs[i]).hex()}): "
                         f"lowbit={int(got[i]):#0{w + 2}x} expected={int(want[i]):#0{w + 2}x}")
        pytest.fail("\n".join(lines))


def assert_values(n, codes, got, want, what, limit=20):
    """Assert equal float64 bit patterns for non-NaR codes; on mismatch list hex codes."""
    codes = np.asarray(codes, dtype=np.uint64).ravel()
    bad = np.nonzero(f64_bits(got) != f64_bits(want))[0]
    if bad.size:
        w = (n + 3) // 4
        lines = [f"{what}: {bad.size} of {codes.size} values differ"]
        for i in bad[:limit]:
            lines.append(f"  code={int(codes[i]):#0{w + 2}x}: lowbit={float(got[i])!r} "
                         f"expected={float(want[i])!r}")
        pytest.fail("\n".join(lines))


def signed_pairs(n):
    """Every signed n-bit p with p and p + 1 both real posits: -maxpos <= p < maxpos."""
    half = 1 << (n - 1)
    return np.arange(-half + 1, half - 1, dtype=np.int64)


# --- 1. decoding every code -----------------------------------------------------------------
EXACT_DECODE_FORMATS = [(4, 1), (6, 1), (8, 0), (8, 2), (10, 3), (12, 4), (16, 1)]


@pytest.mark.parametrize("n,es", [(8, 0), (8, 2), (16, 1), (16, 2)],
                         ids=["posit8_0", "posit8_2", "posit16_1", "posit16_2"])
def test_decode_every_code_matches_softposit(n, es):
    f = fmt(n, es)
    codes = np.arange(1 << n, dtype=np.uint64)
    got = f.decode(codes)
    want = sp_decode_all(n, es, codes)
    nar = codes == f.nar_code
    assert f.nar_code == 1 << (n - 1)
    # NaR as a class: lowbit gives nan; SoftPosit gives inf (p8/p16/pX2) or nan (p32).
    assert np.isnan(got[nar]).all(), "lowbit must decode NaR as nan"
    assert (~np.isfinite(want[nar])).all()
    assert np.isfinite(got[~nar]).all() and np.isfinite(want[~nar]).all()
    assert_values(n, codes[~nar], got[~nar], want[~nar], f"posit({n},{es}) decode vs SoftPosit")


@pytest.mark.parametrize("n,es", EXACT_DECODE_FORMATS,
                         ids=[f"posit{n}_{es}" for n, es in EXACT_DECODE_FORMATS])
def test_decode_every_code_matches_exact_reference(n, es):
    f = fmt(n, es)
    codes = np.arange(1 << n, dtype=np.uint64)
    got = f.decode(codes)
    ref = [ref_decode(n, es, c) for c in range(1 << n)]
    assert np.isnan(got[f.nar_code]) and ref[f.nar_code] is None
    mask = codes != f.nar_code
    want = np.array([float(v) if v is not None else np.nan for v in ref])
    # float64 holds every value of these posits exactly; check that before comparing.
    assert all(Fraction(w) == v for w, v in zip(want, ref) if v is not None)
    assert_values(n, codes[mask], got[mask], want[mask], f"posit({n},{es}) decode vs Fraction")


def test_decode_random_posit32_codes_match_softposit():
    f = fmt(32, 2)
    rng = np.random.default_rng(20240132)
    codes = np.concatenate([
        rng.integers(0, 1 << 32, 100_000, dtype=np.uint64),
        np.array([0, 1, 2, 0x40000000, 0x7FFFFFFF, 0x7FFFFFFE, 0x80000001, 0xFFFFFFFF,
                  0xC0000000], dtype=np.uint64),
    ])
    got = f.decode(codes)
    want = sp_decode_all(32, 2, codes)
    nar = codes == f.nar_code
    assert np.isnan(got[nar]).all() and (~np.isfinite(want[nar])).all()
    nar_got = f.decode(np.array([0x80000000], dtype=np.uint64))
    assert np.isnan(nar_got).all() and not np.isfinite(sp_decode(32, 2, 0x80000000))
    assert_values(32, codes[~nar], got[~nar], want[~nar], "posit(32,2) decode vs SoftPosit")


@pytest.mark.parametrize("n,es", [(8, 0), (8, 2), (16, 1), (16, 2)],
                         ids=["posit8_0", "posit8_2", "posit16_1", "posit16_2"])
def test_decode_paths_agree_with_softposit(n, es):
    """Decoding goes through a value table for large arrays of <= 16-bit codes and through the
    bit-level decoder for small ones; both paths and every code dtype give SoftPosit's values."""
    f = fmt(n, es)
    want_all = sp_decode_all(n, es, np.arange(1 << n))
    rng = np.random.default_rng(n + es)
    big = rng.integers(0, 1 << n, 20_000)
    big[:3] = [0, f.nar_code, f.max_code]
    dtypes = [np.uint16, np.uint32, np.uint64, np.int64] + ([np.uint8] if n == 8 else [])
    for dt in dtypes:
        for codes in (big.astype(dt), big[:1000].astype(dt), big[:1].astype(dt)):
            got = f.decode(codes)
            want = want_all[codes.astype(np.int64)]
            nar = codes.astype(np.int64) == f.nar_code
            assert np.isnan(got[nar]).all() and (~np.isfinite(want[nar])).all()
            assert_values(n, codes[~nar], got[~nar], want[~nar],
                          f"posit({n},{es}) decode of {codes.size} {np.dtype(dt).name} codes")


# --- 2. every tie point ---------------------------------------------------------------------
def _tie_cases(n, es):
    return tuple(a.copy() for a in _tie_cases_cached(n, es))


@functools.lru_cache(maxsize=None)
def _tie_cases_cached(n, es):
    """Tie values of every adjacent pair p, p + 1 and their one-ulp float64 nudges, with the
    code the tie rule demands for each."""
    g = fmt(n + 1, es)  # lowbit's own (n + 1)-bit posit gives the tie values, as asked
    ps = signed_pairs(n)
    tie_codes = ((2 * ps + 1) & ((1 << (n + 1)) - 1)).astype(np.uint64)
    ties = g.decode(tie_codes)
    # Cross-check those tie values against the independent Fraction decoder.
    ref_ties = [ref_decode(n + 1, es, int(c)) for c in tie_codes]
    assert all(Fraction(t) == r for t, r in zip(ties, ref_ties)), "tie values wrong"
    up = np.nextafter(ties, np.inf)
    down = np.nextafter(ties, -np.inf)
    even = np.where(ps % 2 == 0, ps, ps + 1)
    # A nonzero never rounds to 0: around 0 the pairs (-minpos, 0) and (0, minpos) give the
    # nonzero side for the tie and both nudges.
    toward_nonzero = np.where(ps == -1, -1, 1)
    near_zero = (ps == -1) | (ps == 0)
    want_tie = np.where(near_zero, toward_nonzero, even)
    want_up = np.where(near_zero, toward_nonzero, ps + 1)
    want_down = np.where(near_zero, toward_nonzero, ps)
    xs = np.concatenate([ties, up, down])
    want = np.concatenate([want_tie, want_up, want_down]) & ((1 << n) - 1)
    return ps, ties, xs, want


TIE_FORMATS = [(8, 0), (8, 2), (16, 1), (16, 2)]


@pytest.mark.parametrize("n,es", TIE_FORMATS, ids=[f"posit{n}_{es}" for n, es in TIE_FORMATS])
def test_every_tie_point_matches_softposit_and_tie_rule(n, es):
    f = fmt(n, es)
    ps, ties, xs, want = _tie_cases(n, es)
    assert len(ps) == (1 << n) - 2  # 2**n - 1 real codes
    got = f.encode(xs, rounding="rne").astype(np.int64)
    theirs = sp_encode_all(n, es, xs)
    # SoftPosit agrees with the tie rule everywhere (so it is used as is, no exclusions) ...
    assert_codes(n, xs, theirs, want, f"SoftPosit posit({n},{es}) vs tie rule (oracle check)")
    # ... and lowbit agrees with both.
    assert_codes(n, xs, got, theirs, f"posit({n},{es}) tie points vs SoftPosit")
    assert_codes(n, xs, got, want, f"posit({n},{es}) tie points vs tie rule")
    # Ties go to the even code (LSB 0), except the two pairs next to 0.
    exact_ties = got[:len(ps)]
    away = (ps != -1) & (ps != 0)
    assert (exact_ties[away] & 1 == 0).all()


def test_posit32_sampled_tie_points_match_softposit_and_tie_rule():
    """posit(32, 2): ties of 20k random adjacent pairs plus the pairs at both ends and around
    0 and +-1; tie values from the exact 33-bit decoder (lowbit stops at 32 bits)."""
    n, es = 32, 2
    half = 1 << 31
    rng = np.random.default_rng(32)
    edges = np.concatenate([np.arange(-half + 1, -half + 65), np.arange(-65, 65),
                            np.arange(half - 65, half - 1),
                            np.arange(0x40000000 - 32, 0x40000000 + 32),
                            np.arange(-0x40000000 - 32, -0x40000000 + 32)])
    ps = np.unique(np.concatenate([rng.integers(-half + 1, half - 1, 20_000), edges]))
    ties = np.array([float(ref_tie(n, es, int(p))) for p in ps])
    assert all(Fraction(t) == ref_tie(n, es, int(p)) for t, p in zip(ties[:2000], ps[:2000]))
    even = np.where(ps % 2 == 0, ps, ps + 1)
    nz = (ps == -1) | (ps == 0)
    toward = np.where(ps == -1, -1, 1)
    xs = np.concatenate([ties, np.nextafter(ties, np.inf), np.nextafter(ties, -np.inf)])
    want = np.concatenate([np.where(nz, toward, even), np.where(nz, toward, ps + 1),
                           np.where(nz, toward, ps)]) & 0xFFFFFFFF
    got = fmt(n, es).encode(xs).astype(np.int64)
    theirs = sp_encode_all(n, es, xs)
    assert_codes(n, xs, theirs, want, "SoftPosit posit(32,2) vs tie rule (oracle check)")
    assert_codes(n, xs, got, want, "posit(32,2) tie points vs tie rule")


def test_softposit_rounds_from_double():
    """SoftPosit's conversions take the whole float64: a one-ulp nudge off a tie decides it.
    Through float32 both nudges would collapse onto the tie."""
    for n, es, x in [(16, 1, 1.0 + 2.0 ** -13), (32, 2, 1.0 + 2.0 ** -28),
                     (8, 0, 1.0 + 2.0 ** -6), (16, 2, 1.0 + 2.0 ** -12)]:
        f = fmt(n, es)
        lo = sp_encode(n, es, x)
        assert lo % 2 == 0 and f.encode([x])[0] == lo  # exact tie goes to even (1.0)
        up = sp_encode(n, es, float(np.nextafter(x, 2.0)))
        down = sp_encode(n, es, float(np.nextafter(x, 0.0)))
        assert (up, down) == (lo + 1, lo), (n, es, hex(up), hex(down))
        assert f.encode([np.nextafter(x, 2.0), np.nextafter(x, 0.0)]).tolist() == [lo + 1, lo]


def test_geometric_midpoint_posit8_2():
    """posit(8, 2): between 2**20 (0x7E) and maxpos 2**24 (0x7F) the tie is 2**22, the value
    of the 9-bit pattern 0_11111101, not the arithmetic midpoint 2**23 + 2**19."""
    n, es = 8, 2
    f = fmt(n, es)
    assert ref_decode(8, 2, 0x7E) == 2 ** 20 and ref_decode(8, 2, 0x7F) == 2 ** 24
    assert ref_tie(8, 2, 0x7E) == 2 ** 22
    xs = np.array([2.0 ** 23, -(2.0 ** 23), 2.0 ** 22, -(2.0 ** 22), np.nextafter(2.0 ** 22, 0),
                   np.nextafter(2.0 ** 22, np.inf), 2.0 ** 23 + 2.0 ** 19])
    want = [0x7F, 0x81, 0x7E, 0x82, 0x7E, 0x7F, 0x7F]
    assert_codes(n, xs, f.encode(xs), want, "geometric midpoint vs standard")
    assert_codes(n, xs, sp_encode_all(n, es, xs), want, "geometric midpoint, SoftPosit")
    assert_codes(n, xs, RefPosit(n, es).encode_all(xs), want, "geometric midpoint, Fraction")
    assert f.decode([0x7F])[0] == 2.0 ** 24 == f.max_value


# --- 3. posit32_2 on random values ----------------------------------------------------------
def _random_float64(rng, count):
    """Both signs, mixed: log-uniform over the posit32 range and somewhat beyond, log-uniform
    over all of float64 (subnormals included), full 53-bit significands in the posit32 range,
    and random finite float64 bit patterns."""
    q = count // 4
    a = np.exp2(rng.uniform(-135.0, 135.0, q))  # posit32_2: minpos 2**-120, maxpos 2**120
    b = np.exp2(rng.uniform(-1074.0, 1023.9, q))
    sig = rng.integers(1 << 52, 1 << 53, q, dtype=np.int64).astype(np.float64)
    c = np.ldexp(sig, rng.integers(-125 - 52, 125 - 52, q))
    bits = rng.integers(0, 1 << 63, count - 3 * q, dtype=np.uint64).view(np.float64)
    d = bits[np.isfinite(bits)]
    x = np.concatenate([a, b, c, d])
    return x * rng.choice([-1.0, 1.0], x.size)


def test_posit32_random_encode_matches_softposit():
    rng = np.random.default_rng(20240133)
    xs = _random_float64(rng, 100_000)
    assert xs.size > 99_000
    got = fmt(32, 2).encode(xs).astype(np.int64)
    assert_codes(32, xs, got, sp_encode_all(32, 2, xs), "posit(32,2) encode vs SoftPosit")


@pytest.mark.parametrize("n", [10, 12, 20, 24, 28], ids=lambda n: f"posit{n}_2")
def test_posit_n_2_random_encode_matches_softposit(n):
    """SoftPosit's posit_2 covers (n, 2) for any n; a smaller random set per width."""
    rng = np.random.default_rng(n)
    xs = _random_float64(rng, 8_000)
    m = 4 * (n - 2)
    xs = np.concatenate([xs, np.exp2(rng.uniform(-m - 4, m + 4, 8_000))
                         * rng.choice([-1.0, 1.0], 8_000)])
    got = fmt(n, 2).encode(xs).astype(np.int64)
    assert_codes(n, xs, got, sp_encode_all(n, 2, xs), f"posit({n},2) encode vs SoftPosit")


# --- float32 inputs: the table-driven encode paths ------------------------------------------
def _float32_words(n, es, rng):
    """float32 test words: every top-16-bit pattern with low halves 0, 0x7FFF, 0x8000, 0x8001
    and a random one; random words (NaN and Inf included); every tie of posit(n, es) as
    float32 with its one-ulp float32 nudges."""
    top = np.arange(1 << 16, dtype=np.uint32) << np.uint32(16)
    low = rng.integers(1, 1 << 16, top.size, dtype=np.uint32)
    words = [top, top | low, top | 0x7FFF, top | 0x8000, top | 0x8001,
             rng.integers(0, 1 << 32, 1 << 16, dtype=np.uint64).astype(np.uint32)]
    _, ties, _, _ = _tie_cases(n, es)
    t32 = ties.astype(np.float32)
    assert (t32.astype(np.float64) == ties).all()  # float32 holds these ties exactly
    for t in (t32, np.nextafter(t32, np.float32(np.inf)), np.nextafter(t32, np.float32(-np.inf))):
        words.append(t.view(np.uint32))
    return np.concatenate(words).view(np.float32)


F32_FORMATS = [(8, 0), (8, 2), (16, 1), (16, 2)]


@pytest.mark.parametrize("n,es", F32_FORMATS, ids=[f"posit{n}_{es}" for n, es in F32_FORMATS])
def test_float32_input_rne_matches_softposit(n, es):
    """Large float32 arrays are encoded through tables (float32_table / binade_table); the
    codes must be SoftPosit's conversion of the (exactly widened) float64 values."""
    f = fmt(n, es)
    x32 = _float32_words(n, es, np.random.default_rng(32 + n + es))
    assert float32_table.applies(f, x32, "rne") or binade_table.applies(f, x32, "rne")
    got = f.encode(x32).astype(np.int64)
    with np.errstate(invalid="ignore"):
        x64 = x32.astype(np.float64)
    assert_codes(n, x64, got, sp_encode_all(n, es, x64), f"posit({n},{es}) float32 input")


@pytest.mark.parametrize("mode", ALL_MODES)
@pytest.mark.parametrize("n,es", [(8, 0), (8, 2), (6, 1), (4, 1)],
                         ids=["posit8_0", "posit8_2", "posit6_1", "posit4_1"])
def test_float32_input_all_modes_match_exact_reference(n, es, mode):
    """The float32 table path in every deterministic mode equals the float64 path on the
    widened values (the float64 path is checked against the oracles above) and, on a sample,
    the Fraction reference."""
    f = fmt(n, es)
    x32 = _float32_words(n, es, np.random.default_rng(64 + n + es))
    assert float32_table.applies(f, x32, mode)
    with np.errstate(invalid="ignore"):
        x64 = x32.astype(np.float64)
    got = f.encode(x32, rounding=mode).astype(np.int64)
    assert_codes(n, x64, got, f.encode(x64, rounding=mode), f"posit({n},{es}) {mode} f32 path")
    sample = np.random.default_rng(ALL_MODES.index(mode)).choice(x64.size, 2_000, replace=False)
    assert_codes(n, x64[sample], got[sample], RefPosit(n, es).encode_all(x64[sample], mode),
                 f"posit({n},{es}) {mode} float32 input vs Fraction reference")


# --- 4. never to 0 nor to NaR ---------------------------------------------------------------
SAT_FORMATS = [(4, 1), (8, 0), (8, 2), (16, 1), (16, 2), (32, 2)]


def _extremes(f):
    n, es = f.n, f.es
    minpos = 2.0 ** (-(1 << es) * (n - 2))
    maxpos = 2.0 ** ((1 << es) * (n - 2))
    tiny = np.array([5e-324, 2.2250738585072014e-308, 1e-300, 1e-100, minpos / 2 ** 40,
                     minpos / 2, minpos * 0.75, float(np.nextafter(minpos, 0.0))])
    big = np.array([F64_MAX, 1e300, 1e100, maxpos * 2 ** 40, maxpos * 2, maxpos * 1.5,
                    float(np.nextafter(maxpos, np.inf))])
    tiny = tiny[(tiny > 0) & (tiny < minpos)]
    big = big[np.isfinite(big) & (big > maxpos)]
    return minpos, maxpos, tiny, big


@pytest.mark.parametrize("mode", ALL_MODES)
@pytest.mark.parametrize("n,es", SAT_FORMATS, ids=[f"posit{n}_{es}" for n, es in SAT_FORMATS])
def test_never_rounds_to_zero_or_nar(n, es, mode):
    f = fmt(n, es)
    minpos, maxpos, tiny, big = _extremes(f)
    assert f.min_positive == minpos and f.max_value == maxpos
    assert f.decode([1, (1 << n) - 1, (1 << (n - 1)) - 1, (1 << (n - 1)) + 1]).tolist() == [
        minpos, -minpos, maxpos, -maxpos]
    assert (f.max_code, f.min_code, f.nar_code) == ((1 << (n - 1)) - 1, (1 << (n - 1)) + 1,
                                                    1 << (n - 1))
    xs = np.concatenate([tiny, -tiny, big, -big])
    want = np.concatenate([np.full(tiny.size, 1), np.full(tiny.size, (1 << n) - 1),
                           np.full(big.size, (1 << (n - 1)) - 1),
                           np.full(big.size, (1 << (n - 1)) + 1)])
    assert tiny.size >= 5 and big.size >= 5
    got = f.encode(xs, rounding=mode)
    assert got.dtype == f.code_dtype
    assert_codes(n, xs, got, want, f"posit({n},{es}) {mode} saturation")
    specials = np.array([0.0, -0.0, np.nan, np.inf, -np.inf, -np.nan])
    assert_codes(n, specials, f.encode(specials, rounding=mode),
                 [0, 0] + [1 << (n - 1)] * 4, f"posit({n},{es}) {mode} zeros/NaN/Inf")
    if mode == "rne" and sp_supports(n, es):
        all_x = np.concatenate([xs, specials])
        assert_codes(n, all_x, f.encode(all_x), sp_encode_all(n, es, all_x),
                     f"posit({n},{es}) extremes vs SoftPosit")


# --- 5. exact Fraction reference on random float64 inputs -----------------------------------
def _near_grid(f, rng, count):
    """Random float64 values around the whole range of a small posit: log-uniform, full
    53-bit significands, every (n + 1)-bit value (ties and exact values) and small nudges."""
    n, es = f.n, f.es
    m = (1 << es) * (n - 2)
    a = np.exp2(rng.uniform(-m - 6, m + 6, count))
    sig = rng.integers(1 << 52, 1 << 53, count, dtype=np.int64).astype(np.float64)
    b = np.ldexp(sig, rng.integers(-m - 6 - 52, m + 6 - 52, count))
    grid = fmt(n + 1, es).decode(np.arange(1 << (n + 1), dtype=np.uint64))
    grid = grid[np.isfinite(grid)]
    k = rng.integers(1, 1 << 20, grid.size)
    c = np.concatenate([grid, grid * (1 + k * 2.0 ** -52), grid * (1 - k * 2.0 ** -52),
                        np.nextafter(grid, np.inf), np.nextafter(grid, -np.inf)])
    x = np.concatenate([a, b])
    return np.concatenate([x * rng.choice([-1.0, 1.0], x.size), c])


REF_FORMATS = [(8, 2), (6, 1), (4, 1), (8, 0), (10, 3)]


@pytest.mark.parametrize("n,es", REF_FORMATS, ids=[f"posit{n}_{es}" for n, es in REF_FORMATS])
def test_rne_matches_exact_reference(n, es):
    f = fmt(n, es)
    ref = RefPosit(n, es)
    rng = np.random.default_rng(1000 * n + es)
    xs = _near_grid(f, rng, 10_000)
    assert_codes(n, xs, f.encode(xs, rounding="rne"), ref.encode_all(xs, "rne"),
                 f"posit({n},{es}) rne vs Fraction reference")


@pytest.mark.parametrize("mode", ("rtz", "rup", "rdn", "rna", "rto"))
@pytest.mark.parametrize("n,es", [(8, 2), (6, 1)], ids=["posit8_2", "posit6_1"])
def test_other_modes_match_exact_reference(n, es, mode):
    """The directed modes and rna follow the same rules (saturate, never 0); rna ties away
    from zero at the same (n + 1)-bit tie points, rto truncates the magnitude and sets the LSB
    when inexact."""
    f = fmt(n, es)
    ref = RefPosit(n, es)
    rng = np.random.default_rng(7 * n + es)
    xs = _near_grid(f, rng, 3_000)
    assert_codes(n, xs, f.encode(xs, rounding=mode), ref.encode_all(xs, mode),
                 f"posit({n},{es}) {mode} vs Fraction reference")


# --- round trip -----------------------------------------------------------------------------
RT_FORMATS = [(4, 1), (8, 0), (8, 2), (16, 1), (16, 2)]


@pytest.mark.parametrize("n,es", RT_FORMATS, ids=[f"posit{n}_{es}" for n, es in RT_FORMATS])
def test_round_trip_every_code(n, es):
    f = fmt(n, es)
    codes = np.arange(1 << n, dtype=np.uint64)
    codes = codes[codes != f.nar_code]
    values = f.decode(codes)
    for mode in ALL_MODES:  # exact values are unaffected by the rounding mode
        back = f.encode(values, rounding=mode)
        assert back.dtype == f.code_dtype
        assert_codes(n, values, back, codes, f"posit({n},{es}) round trip ({mode})")
    nar = f.encode(f.decode([f.nar_code]))
    assert nar.tolist() == [f.nar_code]
