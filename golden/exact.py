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
        tz = np.where(sig == 0, 0, highest_bit(sig & (_U64(0) - sig)))
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
