"""An exact :class:`fractions.Fraction` oracle for number formats, written independently of
lowbit's golden code (it imports no lowbit module): the golden oracle tests compare lowbit's
bit patterns with what this module computes from the format definitions.

* Exact values :class:`V` with IEEE special rules: NaN, +-Inf, signed zeros; products
  (:func:`vmul`: the sign is the XOR of the operand signs, also for a zero product, ``0 * Inf``
  is NaN), two-operand sums (:func:`vadd`: an exact zero sum is +0 unless both are -0, or of
  opposite signs under ``rdn``, IEEE 754 6.3) and Kulisch sums (:func:`vsum_exact`: -0 only if
  every term is -0).
* Integer arithmetic on Fractions: :func:`floor_log2`, :func:`ceil_log2`, :func:`pow2`,
  :func:`round_int` (every rounding mode), :func:`locate` (a Fraction in a sorted value table).
* Formats by name (:data:`MINIFLOATS`, :data:`INTS`, :data:`POSITS`, fixed point, E8M0 and
  UE4M3 scales): :func:`decode` from the bit fields (posits from the bit string),
  :func:`round_to` (IEEE-style formats: exact rounding on the format's grid in every mode with
  IEEE 754 7.4 overflow; posits: nearest-even over the posit value set, the tie between
  adjacent patterns ``p`` and ``p+1`` taken as the value of the (n+1)-bit pattern ``2p+1``,
  never to 0 or NaR) and :func:`encode`.
"""

import re
from bisect import bisect_right
from dataclasses import dataclass
from fractions import Fraction as Q
from functools import lru_cache

# ==========================================================================================
# Exact values
# ==========================================================================================


@dataclass(frozen=True)
class V:
    """An exact value: kind 'fin' (Fraction q, sign ``neg`` meaningful for zero), 'inf', 'nan'."""

    kind: str
    q: Q = Q(0)
    neg: bool = False

    def __str__(self):
        if self.kind == "nan":
            return "NaN"
        if self.kind == "inf":
            return "-Inf" if self.neg else "+Inf"
        if self.q == 0:
            return "-0" if self.neg else "+0"
        return f"{float(self.q)!r}" if abs(self.q) < 2**1000 else str(self.q)


NAN = V("nan")
PZERO = V("fin", Q(0), False)


def fin(q, neg=None):
    """The finite value ``q``; ``neg`` gives a zero's sign (default: the sign of ``q``)."""
    q = Q(q)
    return V("fin", q, (q < 0) if neg is None else neg)


def inf(neg):
    """-Inf if ``neg``, else +Inf."""
    return V("inf", Q(0), neg)


def vneg(a: V) -> V:
    """``-a``: the sign flipped, zeros and infinities included (a NaN stays the NaN)."""
    return a if a.kind == "nan" else V(a.kind, -a.q, not a.neg)


def vmul(a: V, b: V) -> V:
    """Exact product, IEEE specials."""
    if a.kind == "nan" or b.kind == "nan":
        return NAN
    neg = a.neg != b.neg
    if a.kind == "inf" or b.kind == "inf":
        if (a.kind == "fin" and a.q == 0) or (b.kind == "fin" and b.q == 0):
            return NAN
        return inf(neg)
    return V("fin", a.q * b.q, neg)


def vadd(a: V, b: V, mode="rne") -> V:
    """Exact sum of two values (before any rounding), IEEE 754 6.3 zero signs."""
    if a.kind == "nan" or b.kind == "nan":
        return NAN
    if a.kind == "inf" and b.kind == "inf":
        return inf(a.neg) if a.neg == b.neg else NAN
    if a.kind == "inf":
        return a
    if b.kind == "inf":
        return b
    s = a.q + b.q
    if s != 0:
        return fin(s)
    return V("fin", Q(0), (a.neg and b.neg) or (a.neg != b.neg and mode == "rdn"))


def vsum_exact(terms) -> V:
    """Kulisch sum: NaN if any NaN or +Inf meets -Inf; -0 only if every term is -0."""
    terms = list(terms)
    if any(t.kind == "nan" for t in terms):
        return NAN
    infs = {t.neg for t in terms if t.kind == "inf"}
    if len(infs) == 2:
        return NAN
    if infs:
        return inf(infs.pop())
    s = sum((t.q for t in terms), Q(0))
    if s != 0:
        return fin(s)
    all_negative_zero = bool(terms) and all(t.q == 0 and t.neg for t in terms)
    return V("fin", Q(0), all_negative_zero)


# ==========================================================================================
# Integer arithmetic on Fractions
# ==========================================================================================


def floor_log2(q: Q) -> int:
    """floor(log2(q)) for a positive Fraction, with integer arithmetic only."""
    n, d = q.numerator, q.denominator
    assert n > 0 and d > 0
    e = n.bit_length() - d.bit_length()  # floor is e or e - 1
    if (n < (d << e)) if e >= 0 else ((n << -e) < d):
        e -= 1
    assert (n >= (d << e)) if e >= 0 else ((n << -e) >= d)
    return e


def ceil_log2(q: Q) -> int:
    """ceil(log2(q)) = -floor(log2(1/q))."""
    return -floor_log2(1 / q)


def pow2(e: int) -> Q:
    """``2**e`` as a Fraction, for any integer ``e``."""
    return Q(1 << e) if e >= 0 else Q(1, 1 << -e)


def round_int(x: Q, mode: str) -> int:
    """Round a Fraction to an integer: rne, rna, rtz, rup, rdn, rto."""
    fl = x.numerator // x.denominator
    rem = x - fl
    if rem == 0:
        return fl
    if mode == "rdn":
        return fl
    if mode == "rup":
        return fl + 1
    if mode == "rtz":
        return fl if x > 0 else fl + 1
    if mode == "rto":
        t = fl if x > 0 else fl + 1
        return t if t % 2 else (t + 1 if x > 0 else t - 1)
    if rem > Q(1, 2):
        return fl + 1
    if rem < Q(1, 2):
        return fl
    if mode == "rne":
        return fl if fl % 2 == 0 else fl + 1
    if mode == "rna":
        return fl + 1 if x > 0 else fl
    raise AssertionError(mode)


def locate(grid, x):
    """(lo, exact, side) for the Fraction magnitude x in the ascending table ``grid``:
    ``grid[lo] <= x < grid[lo + 1]``, whether x == grid[lo], and the sign of
    (x - grid[lo]) - (grid[lo + 1] - x) (-1: nearer lo, 0: a tie, 1: nearer the upper
    neighbour)."""
    i = bisect_right(grid, x) - 1
    assert 0 <= i < len(grid) - 1, "grid too short"
    if grid[i] == x:
        return i, True, 0
    d = (x - grid[i]) - (grid[i + 1] - x)
    return i, False, (d > 0) - (d < 0)


# ==========================================================================================
# Formats by name, and their decoders
# ==========================================================================================

# name: (exp_bits, man_bits, bias, specials) ; specials: "ieee" (Inf + NaNs), "fn" (only the
# all-ones magnitude is NaN), "none"
MINIFLOATS = {
    "fp64": (11, 52, 1023, "ieee"), "fp32": (8, 23, 127, "ieee"), "fp16": (5, 10, 15, "ieee"),
    "bf16": (8, 7, 127, "ieee"), "fp8_e4m3": (4, 3, 7, "fn"), "fp8_e5m2": (5, 2, 15, "ieee"),
    "fp4_e2m1": (2, 1, 1, "none"),
}
INTS = {"int8": 8, "int4": 4}
POSITS = {"posit8_0": (8, 0), "posit16_1": (16, 1)}


def _fixed(name):
    """``(bits, frac_bits)`` of a ``fixed<int>_<frac>`` name, or None."""
    mt = re.fullmatch(r"fixed(\d+)_(\d+)", name)
    return (int(mt[1]) + int(mt[2]), int(mt[2])) if mt else None


def bits_of(name):
    """Code width of format ``name``."""
    if name in MINIFLOATS:
        e, m, _, _ = MINIFLOATS[name]
        return 1 + e + m
    if name in INTS:
        return INTS[name]
    if name in POSITS:
        return POSITS[name][0]
    if name in ("int8_q6", "e8m0"):
        return 8
    if name == "ue4m3":
        return 7
    if _fixed(name):
        return _fixed(name)[0]
    raise KeyError(name)


def decode_float(c: int, e: int, m: int, bias: int, specials: str, signed=True) -> V:
    """The value of code ``c`` of a sign-magnitude float with ``e`` exponent and ``m``
    mantissa bits (``specials`` as in :data:`MINIFLOATS`)."""
    bits = e + m + (1 if signed else 0)
    neg = bool(signed and (c >> (bits - 1)) & 1)
    mag = c & ((1 << (e + m)) - 1)
    ef, f = mag >> m, mag & ((1 << m) - 1)
    if specials == "ieee" and ef == (1 << e) - 1:
        return inf(neg) if f == 0 else NAN
    if specials == "fn" and mag == (1 << (e + m)) - 1:
        return NAN
    if ef == 0:
        q = f * pow2(1 - bias - m)
    else:
        q = ((1 << m) + f) * pow2(ef - bias - m)
    return V("fin", -q if neg else q, neg)


def decode_twos(c: int, bits: int, frac: int = 0) -> V:
    """The value of two's complement code ``c`` with ``frac`` fraction bits."""
    i = c - (1 << bits) if c >> (bits - 1) else c
    return fin(Q(i, 1 << frac))


def encode_twos(q: Q, bits: int, frac: int = 0) -> int:
    """The two's complement code of the representable value ``q`` with ``frac`` fraction
    bits."""
    i = q * (1 << frac)
    assert i.denominator == 1
    return int(i) & ((1 << bits) - 1)


def decode_posit(c: int, n: int, es: int) -> V:
    """The value of posit(n, es) code ``c``, read from the bit string (NaR: NaN)."""
    mask = (1 << n) - 1
    c &= mask
    if c == 0:
        return PZERO
    if c == 1 << (n - 1):
        return NAN
    neg = bool(c >> (n - 1))
    if neg:
        c = (-c) & mask
    body = format(c & ((1 << (n - 1)) - 1), f"0{n - 1}b")
    first = body[0]
    run = len(body) - len(body.lstrip(first))
    k = run - 1 if first == "1" else -run
    tail = body[run + 1:]
    ebits = tail[:es]
    ex = int(ebits.ljust(es, "0"), 2) if es else 0  # cut-off exponent bits read as zero
    fbits = tail[es:]
    frac = Q(int(fbits, 2), 1 << len(fbits)) if fbits else Q(0)
    q = pow2(k * (1 << es) + ex) * (1 + frac)
    return fin(-q if neg else q)


def decode(name: str, c: int) -> V:
    """The value of code ``c`` of format ``name``."""
    c = int(c)
    if name in MINIFLOATS:
        return decode_float(c, *MINIFLOATS[name])
    if name in INTS:
        return decode_twos(c, INTS[name])
    if name == "int8_q6":
        return decode_twos(c, 8, 6)
    if name in POSITS:
        return decode_posit(c, *POSITS[name])
    if name == "e8m0":
        return NAN if c == 0xFF else fin(pow2(c - 127))
    if name == "ue4m3":
        return decode_float(c, 4, 3, 7, "fn", signed=False)
    if _fixed(name):
        return decode_twos(c, *_fixed(name))
    raise KeyError(name)


def products(a_name, b_name, a_row, b_row):
    """Exact products of the codes ``a_row`` of format ``a_name`` and ``b_row`` of ``b_name``."""
    return [vmul(decode(a_name, x), decode(b_name, y)) for x, y in zip(a_row, b_row)]


@lru_cache(maxsize=None)
def value_table(name):
    """Every code's value, indexed by code (formats up to 16 bits)."""
    return tuple(decode(name, c) for c in range(1 << bits_of(name)))


@lru_cache(maxsize=None)
def posit_positive_values(name):
    """The positive values of posit ``name`` in code order (ascending)."""
    n, es = POSITS[name]
    vals = [decode_posit(c, n, es).q for c in range(1, 1 << (n - 1))]
    assert all(x < y for x, y in zip(vals, vals[1:]))
    return vals


# ==========================================================================================
# Rounding into target formats, and encoding
# ==========================================================================================


def ieee_max(name):
    """The largest finite value of IEEE-style format ``name``."""
    e, m, bias, _ = MINIFLOATS[name]
    return ((1 << (m + 1)) - 1) * pow2((1 << e) - 2 - bias - m)


def round_ieee(v: V, name: str, mode="rne", overflow="inf") -> V:
    """Round an exact value into an IEEE-style format (fp64/fp32/fp16/bf16)."""
    if v.kind != "fin":
        return v
    if v.q == 0:
        return v
    e, m, bias, _ = MINIFLOATS[name]
    emin = 1 - bias
    ex = max(floor_log2(abs(v.q)), emin)
    quantum = pow2(ex - m)
    r = round_int(v.q / quantum, mode) * quantum
    big = ieee_max(name)
    if abs(r) > big:
        negative = v.q < 0
        if overflow == "saturate":
            to_max = True
        elif mode in ("rtz", "rto"):
            to_max = True
        elif mode == "rdn":
            to_max = not negative
        elif mode == "rup":
            to_max = negative
        else:
            to_max = False
        return fin(-big if negative else big) if to_max else inf(negative)
    return V("fin", r, v.q < 0)  # a nonzero value rounded to 0 keeps its sign


def encode_ieee(v: V, name: str):
    """Code of an already representable value; None stands for "any NaN"."""
    e, m, bias, _ = MINIFLOATS[name]
    bits = 1 + e + m
    sign = int(v.neg) << (bits - 1)
    if v.kind == "nan":
        return None
    if v.kind == "inf":
        return sign | (((1 << e) - 1) << m)
    mag = abs(v.q)
    if mag == 0:
        return sign
    emin = 1 - bias
    ex = floor_log2(mag)
    if ex < emin:
        n = mag / pow2(emin - m)
        assert n.denominator == 1 and n < (1 << m)
        return sign | int(n)
    n = mag / pow2(ex - m)
    assert n.denominator == 1
    return sign | ((ex - emin + 1) << m) | (int(n) - (1 << m))


def round_posit(v: V, name: str) -> V:
    """Nearest-even over the posit value set (bit-string ties), never to 0 or NaR."""
    if v.kind != "fin":
        return NAN
    if v.q == 0:
        return PZERO
    n, es = POSITS[name]
    vals = posit_positive_values(name)
    mag = abs(v.q)
    if mag >= vals[-1]:
        r = vals[-1]
    elif mag <= vals[0]:
        r = vals[0]
    else:
        i, exact, _ = locate(vals, mag)  # vals[i] <= mag < vals[i + 1]; code of vals[i] = i+1
        p = i + 1
        if exact:
            r = mag
        else:
            tie = decode_posit(2 * p + 1, n + 1, es).q
            if mag < tie or (mag == tie and p % 2 == 0):
                r = vals[i]
            else:
                r = vals[i + 1]
    return fin(-r if v.q < 0 else r)


def encode_posit(v: V, name: str) -> int:
    """Code of a value of posit ``name`` (NaN: NaR)."""
    n, _ = POSITS[name]
    if v.kind == "nan":
        return 1 << (n - 1)
    if v.q == 0:
        return 0
    p = posit_positive_values(name).index(abs(v.q)) + 1
    return (-p) & ((1 << n) - 1) if v.q < 0 else p


def round_to(v: V, name: str, mode="rne", overflow="inf") -> V:
    """Round an exact value into format ``name`` (a posit or an IEEE-style float)."""
    if name in POSITS:
        return round_posit(v, name)
    return round_ieee(v, name, mode, overflow)


def encode(v: V, name: str):
    """Code of a value representable in format ``name`` (None: any NaN of a float)."""
    if name in POSITS:
        return encode_posit(v, name)
    if _fixed(name):
        return encode_twos(v.q, *_fixed(name))
    return encode_ieee(v, name)
