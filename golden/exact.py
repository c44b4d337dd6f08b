"""Exact binary values, vectorized: ``(-1)**negative * sig * 2**exp``, or NaN, or +-Inf.

The currency of the golden arithmetic: every format decodes codes into an :class:`Exact` array
and rounds an :class:`Exact` array into codes (``fmt.to_exact`` / ``fmt.round_exact``), so a
product, a sum or a float64 input are all rounded by the same code. Significands are uint64;
a value that needs more bits than that is carried with a *jammed* (sticky) least significant
bit, which rounds exactly like the full value as long as the target keeps at least two bits
fewer than the window (true for every format lowbit rounds into: at most 53 significant bits).
"""

from dataclasses import dataclass

import numpy as np

from lowbit.golden.binary import highest_bit, split_float64

_U64 = np.uint64
WINDOW_TOP = 61  # aligned operands keep their leading one here: 2 bits of headroom for carries


@dataclass(frozen=True)
class Exact:
    """Arrays (one shape) describing exact values.

    Attributes
    ----------
    negative : ndarray of bool
        Sign (meaningful for zeros and infinities too).
    sig : ndarray of uint64
        Integer significand (0 for zero); any width up to 64 bits.
    exp : ndarray of int64
        Weight of the significand's LSB: the value is ``sig * 2**exp``.
    nan, inf : ndarray of bool
        NaN (NaR for posits) and infinities; ``sig`` is 0 there.
    """

    negative: np.ndarray
    sig: np.ndarray
    exp: np.ndarray
    nan: np.ndarray
    inf: np.ndarray

    @property
    def shape(self):
        return self.sig.shape

    @classmethod
    def from_float64(cls, x) -> "Exact":
        """The exact value of each float64."""
        x = np.asarray(x, dtype=np.float64)
        nan = np.isnan(x)
        negative, sig, exp = split_float64(np.where(nan, 0.0, x))
        return cls(np.where(nan, np.signbit(x), negative), sig, exp, nan, np.isinf(x))

    @classmethod
    def from_int(cls, v, exp=0) -> "Exact":
        """The exact value of each integer of an int64 or uint64 array, times ``2**exp``."""
        v = np.asarray(v)
        if v.dtype == np.uint64:
            negative, mag = np.zeros(v.shape, bool), v
        else:
            v = v.astype(np.int64)
            negative = v < 0
            with np.errstate(over="ignore"):
                mag = np.where(negative, _U64(0) - v.astype(_U64), v.astype(_U64))
        zeros = np.zeros(v.shape, bool)
        return cls(negative, mag, np.broadcast_to(np.int64(exp), v.shape).astype(np.int64),
                   zeros, zeros.copy())

    def to_float64(self) -> np.ndarray:
        """Float64 values (exact where the value fits a float64 significand and range)."""
        v = np.ldexp(self.sig.astype(np.float64), self.exp)
        v = np.where(self.inf, np.inf, v)
        v = np.where(self.negative, -v, v)
        return np.where(self.nan, np.nan, v)

    def compact(self) -> "Exact":
        """The same values with trailing zero bits of ``sig`` moved into ``exp``."""
        sig = self.sig
        with np.errstate(over="ignore"):  # two's complement of uint64 wraps by design
            lowest = sig & (_U64(0) - sig)
        tz = np.where(sig == 0, 0, highest_bit(lowest))
        return Exact(self.negative, sig >> tz.astype(_U64), self.exp + tz, self.nan, self.inf)

    def normalized(self, top=WINDOW_TOP) -> "Exact":
        """The same values with the leading one at bit ``top`` (jamming bits shifted out)."""
        hb = highest_bit(self.sig)
        up = np.where(self.sig == 0, 0, top - hb)
        sig = shift_jam(self.sig, up)
        return Exact(self.negative, sig, self.exp - up, self.nan, self.inf)

    def __getitem__(self, key) -> "Exact":
        return Exact(self.negative[key], self.sig[key], self.exp[key], self.nan[key],
                     self.inf[key])


def shift_jam(sig, left):
    """Shift uint64 ``sig`` left by ``left`` (right if negative), ORing lost bits into the LSB."""
    left = np.asarray(left, dtype=np.int64)
    up = np.clip(left, 0, 63).astype(_U64)
    down = np.clip(-left, 0, 64)
    lost_mask = np.where(down >= 64, ~_U64(0), (_U64(1) << np.minimum(down, 63).astype(_U64)) - _U64(1))
    shifted_down = np.where(down >= 64, _U64(0), sig >> np.minimum(down, 63).astype(_U64))
    jam = ((sig & lost_mask) != 0).astype(_U64)
    return np.where(left >= 0, sig << up, shifted_down | jam)


def stack(parts, axis=-1) -> Exact:
    """Stack Exact arrays along a new axis."""
    return Exact(*(np.stack([getattr(p, f) for p in parts], axis=axis)
                   for f in ("negative", "sig", "exp", "nan", "inf")))


_LIMB = 32
_LIMB_MASK = (1 << _LIMB) - 1


def exact_sum(x: Exact, axis=-1) -> Exact:
    """The exact sum along ``axis`` (a Kulisch accumulator), as Exact with a jammed sticky bit.

    Vectorized with 32-bit limbs: every finite term is cut into limbs of its integer multiple of
    the smallest term weight, limbs are summed in int64 (exact for fewer than 2**31 terms), then
    carries are propagated. NaN if any term is NaN or +Inf meets -Inf; +-Inf if any term is.
    """
    x = Exact(*(np.moveaxis(getattr(x, f), axis, -1)
                for f in ("negative", "sig", "exp", "nan", "inf")))
    pos_inf = (x.inf & ~x.negative).any(-1)
    neg_inf = (x.inf & x.negative).any(-1)
    live = (x.sig != 0) & ~x.nan & ~x.inf
    # An exact zero sum is -0 only when every term is -0 (an empty sum is +0).
    all_negative_zero = (~live).all(-1) & x.negative.all(-1) & (x.sig.shape[-1] > 0)
    flags = (x.nan.any(-1), pos_inf, neg_inf, all_negative_zero)
    if not live.any():
        nan = flags[0] | (pos_inf & neg_inf)
        inf = (pos_inf | neg_inf) & ~nan
        zeros = np.zeros(nan.shape, _U64)
        return Exact(np.where(inf, neg_inf, all_negative_zero), zeros,
                     np.zeros(nan.shape, np.int64), nan, inf)
    base = int(x.exp[live].min())
    top = int((x.exp + highest_bit(x.sig))[live].max()) + 1
    n_limbs = (top - base) // _LIMB + 2  # one spare limb for carries and the sign
    limbs = [np.sum(part, axis=-1) for part in _term_limbs(x, live, base, n_limbs)]
    return _from_limbs(limbs, base, *flags)


class PrefixSum:
    """Exact running sum of a stream of terms: :meth:`extend` returns every prefix sum.

    ``base`` is the weight of the smallest term LSB the stream may hold and ``top`` one above
    the highest bit a sum may reach, so the 32-bit limbs of the running sum are fixed; their
    raw int64 totals are carried from chunk to chunk, exact for fewer than 2**31 terms. A run of
    ``L`` terms costs O(L) time and O(chunk) memory, where prefixes of :func:`exact_sum` would
    cost O(L**2).
    """

    def __init__(self, base: int, top: int):
        self.base = base
        self.n_limbs = (top - base) // _LIMB + 2  # one spare limb for carries and the sign
        self._limbs = np.zeros(self.n_limbs, np.int64)
        self._flags = np.array([False, False, False, True])  # nan, +inf, -inf, all -0 so far
        self.terms = 0

    def extend(self, x: Exact) -> Exact:
        """Sums of the stream up to and including each term of 1-D ``x``."""
        if x.sig.ndim != 1:
            raise ValueError(f"PrefixSum.extend takes a 1-D run of terms, not shape {x.shape}")
        live = (x.sig != 0) & ~x.nan & ~x.inf
        if live.any():
            lo = int(x.exp[live].min())
            hi = int((x.exp + highest_bit(x.sig))[live].max()) + 1
            if lo < self.base or hi + int(np.log2(self.terms + x.shape[0] + 1)) + 1 > \
                    self.base + _LIMB * (self.n_limbs - 1):
                raise ValueError(f"PrefixSum terms span 2**{lo}..2**{hi}, outside its limbs "
                                 f"2**{self.base}.. for {self.n_limbs} limbs")
        parts = _term_limbs(x, live, self.base, self.n_limbs)
        limbs = [np.cumsum(p) + self._limbs[j] for j, p in enumerate(parts)]
        nan, pos_inf, neg_inf, all_neg_zero = self._flags
        flags = (np.logical_or.accumulate(x.nan) | nan,
                 np.logical_or.accumulate(x.inf & ~x.negative) | pos_inf,
                 np.logical_or.accumulate(x.inf & x.negative) | neg_inf,
                 np.logical_and.accumulate(~live & x.negative) & all_neg_zero)
        if x.shape[0]:
            self._limbs = np.array([limb[-1] for limb in limbs], np.int64)
            self._flags = np.array([f[-1] for f in flags])
            self.terms += x.shape[0]
        return _from_limbs(limbs, self.base, *flags)


def _term_limbs(x: Exact, live, base: int, n_limbs: int) -> list:
    """Per term, its signed 32-bit limbs ``j`` of ``sig * 2**(exp - base)`` (0 unless live)."""
    shift = np.where(live, x.exp - base, 0)
    sign = np.where(x.negative, -1, 1)
    limbs = []
    for j in range(n_limbs):
        t = shift - _LIMB * j
        up = np.where(t >= 64, _U64(0), x.sig << np.clip(t, 0, 63).astype(_U64))
        down = np.where(-t >= 64, _U64(0), x.sig >> np.clip(-t, 0, 63).astype(_U64))
        part = (np.where(t >= 0, up, down) & _U64(_LIMB_MASK)).astype(np.int64)
        limbs.append(np.where(live, part * sign, 0))
    return limbs


def _from_limbs(limbs, base, nan, pos_inf, neg_inf, all_negative_zero) -> Exact:
    """The Exact value of raw int64 limb totals (limb ``j`` weighs ``2**(base + 32 j)``), with
    a jammed sticky bit; NaN, +-Inf and the sign of a zero sum from the flags: any NaN term,
    any +Inf term, any -Inf term, every term -0."""
    nan = nan | (pos_inf & neg_inf)
    inf = (pos_inf | neg_inf) & ~nan
    n_limbs = len(limbs)
    limbs = list(limbs)
    carry = np.zeros(nan.shape, np.int64)
    for j in range(n_limbs):
        total = limbs[j] + carry
        carry = total >> _LIMB  # floor: two's complement across limbs
        limbs[j] = total & _LIMB_MASK
    negative = carry < 0
    # Negative totals: take the two's complement of the limb string to get the magnitude.
    borrow = negative.astype(np.int64)
    for j in range(n_limbs):
        flipped = np.where(negative, (~limbs[j]) & _LIMB_MASK, limbs[j]) + borrow
        borrow = np.where(negative, flipped >> _LIMB, 0)
        limbs[j] = flipped & _LIMB_MASK
    # Two zero limbs below, so the three limbs read around the top one always exist.
    zeros = np.zeros(nan.shape, np.int64)
    stacked = np.stack([zeros, zeros] + limbs).astype(_U64)
    n = stacked.shape[0]
    nonzero = stacked != 0
    h = np.maximum(n - 1 - np.argmax(nonzero[::-1], axis=0), 2)  # top nonzero limb
    at = lambda i: np.take_along_axis(stacked, i[None], 0)[0]  # noqa: E731
    hi, mid, lo = at(h), at(h - 1), at(h - 2)
    # 64-bit window with its leading one at bit 63: hi:mid shifted up, topped up from lo.
    window = (hi << _U64(_LIMB)) | mid
    up = np.where(window == 0, 0, 63 - highest_bit(window))
    up = np.minimum(up, _LIMB)  # all-zero sums: anything valid
    window = (window << up.astype(_U64)) | (lo >> (_LIMB - up).astype(_U64))
    below = np.arange(n).reshape((-1,) + (1,) * h.ndim) < (h - 2)[None]
    lost = (lo & ((_U64(1) << (_LIMB - up).astype(_U64)) - _U64(1))) != 0
    jam = (lost | (nonzero & below).any(0)).astype(_U64)
    sig = shift_jam(window, np.full(h.shape, -2)) | jam  # 62 bits, sticky below
    exp = (base - 2 * _LIMB) + _LIMB * (h - 1) - up + 2
    zero = sig == 0
    negative = np.where(zero, all_negative_zero, negative)
    negative = np.where(inf, neg_inf, negative)
    sig = np.where(nan | inf, _U64(0), sig)
    return Exact(negative, sig, exp.astype(np.int64), nan, inf)


def exact_sum_split(x: Exact, axis=-1) -> Exact:
    """The exact sum along ``axis`` as two parts on a new last axis, ``hi + lo == sum``.

    :func:`exact_sum` keeps 62 bits and jams the rest into a sticky bit, which is exact for one
    rounding but not as an input to further sums (a later cancellation would expose the sticky
    bit). Here ``hi`` is the sum truncated toward zero to 61 significant bits and ``lo`` the
    exact remainder (same sign, below 2 units of ``hi``'s last bit), so sums spanning up to
    about 120 bits (block sums of 8-bit elements need at most 69) stay exact. Specials are
    carried by ``hi``; a zero ``lo`` has ``hi``'s sign, so the -0 rule of exact sums holds.
    """
    total = exact_sum(x, axis)
    special = total.nan | total.inf
    hi = Exact(total.negative, total.sig & ~_U64(1), total.exp, total.nan, total.inf)
    terms = Exact(*(np.moveaxis(getattr(x, f), axis, -1)
                    for f in ("negative", "sig", "exp", "nan", "inf")))
    minus_hi = Exact(~hi.negative, np.where(special, _U64(0), hi.sig), hi.exp,
                     np.zeros_like(special), np.zeros_like(special))
    terms = stack([terms[..., k] for k in range(terms.shape[-1])] + [minus_hi])
    live = Exact(terms.negative, np.where(special[..., None], _U64(0), terms.sig), terms.exp,
                 np.zeros(terms.shape, bool), np.zeros(terms.shape, bool))
    lo = exact_sum(live)
    lo = Exact(np.where(lo.sig == 0, hi.negative, lo.negative), lo.sig, lo.exp, lo.nan, lo.inf)
    return stack([hi, lo])
