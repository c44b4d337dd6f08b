"""Rounding modes: one rule, shared by every format, for shifting a magnitude right.

Every encoder in :mod:`lowbit.golden.formats` reduces rounding to the same step: an unsigned
integer magnitude ``mag`` (uint64) is shifted right by ``shift`` bits, and the discarded bits
decide whether the kept part is incremented. The sign is passed separately, so directed modes
act on the signed value (``rdn`` rounds a negative magnitude away from zero).

Modes
-----
``rne``  nearest, ties to even (IEEE default)       ``rna``  nearest, ties away from zero
``rtz``  toward zero (truncate the magnitude)        ``rup``  toward +infinity
``rdn``  toward -infinity                           ``rto``  to odd ("jamming"): inexact -> LSB 1
``Stochastic(bits=R, ...)``  add R random bits below the kept LSB, then truncate. The random
bits come from a seeded ``numpy.random.Generator`` or from a caller-given array, so an RTL
model fed the same bits produces the same codes.
"""

from dataclasses import dataclass, field

import numpy as np

from lowbit.errors import RoundingError, check_int, did_you_mean

ROUNDING_MODES = ("rne", "rna", "rtz", "rup", "rdn", "rto", "stochastic")
"""Names accepted by every ``encode(..., rounding=...)``; ``stochastic`` needs :class:`Stochastic`."""

_U64 = np.uint64


@dataclass(frozen=True)
class Stochastic:
    """Stochastic rounding with ``bits`` random bits below the kept LSB.

    Parameters
    ----------
    bits : int
        Number of random bits R (1..32). The R bits of the discarded part just below the kept
        LSB are added to an R-bit random number; a carry out increments the result. Discarded
        bits below those R are ignored, exactly as a hardware adder of R bits would.
    rng : numpy.random.Generator, optional
        Source of random numbers (seed it for reproducibility).
    random : array of int, optional
        Caller-given random numbers in ``[0, 2**bits)``, broadcastable to the input shape.
        Exactly one of ``rng`` and ``random`` must be given.
    """

    bits: int
    rng: np.random.Generator | None = field(default=None, compare=False)
    random: np.ndarray | None = field(default=None, compare=False)

    def __post_init__(self):
        check_int("Stochastic bits", self.bits, 1, 32, RoundingError)
        if (self.rng is None) == (self.random is None):
            raise RoundingError(
                "Stochastic rounding needs exactly one random source: rng=Generator or "
                "random=array of integers"
            )

    def draw(self, shape) -> np.ndarray:
        """Return uint64 random numbers in ``[0, 2**bits)`` with the given shape."""
        if self.rng is not None:
            return self.rng.integers(0, 1 << self.bits, size=shape, dtype=np.uint64)
        r = np.asarray(self.random)
        if r.dtype.kind not in "iu":
            raise RoundingError(f"Stochastic random must be an integer array, not {r.dtype}")
        if r.size and (r.min() < 0 or r.max() >= (1 << self.bits)):
            raise RoundingError(
                f"Stochastic random values must lie in [0, 2**{self.bits}), "
                f"got [{r.min()}, {r.max()}]"
            )
        try:
            return np.broadcast_to(r.astype(np.uint64), shape)
        except ValueError:
            raise RoundingError(
                f"Stochastic random has shape {r.shape}, which does not broadcast to {shape}"
            ) from None


def check_rounding(rounding):
    """Return ``rounding`` if it is a known mode or a :class:`Stochastic`; raise otherwise."""
    if isinstance(rounding, Stochastic):
        return rounding
    if rounding == "stochastic":
        raise RoundingError(
            "rounding 'stochastic' needs its random source: pass "
            "rounding=Stochastic(bits=R, rng=numpy.random.default_rng(seed)) or random=array"
        )
    if rounding not in ROUNDING_MODES:
        raise RoundingError(
            f"rounding must be one of {', '.join(ROUNDING_MODES)}, not {rounding!r}"
            f"{did_you_mean(rounding, ROUNDING_MODES)}"
        )
    return rounding


def _bits_below(mag, n):
    """Return ``mag mod 2**n`` for per-element ``n >= 0`` (n may exceed 63)."""
    n = np.asarray(n, dtype=np.int64)
    small = np.clip(n, 0, 63).astype(_U64)
    low = mag & ((_U64(1) << small) - _U64(1))
    return np.where(n >= 64, mag, low)


def _shr(mag, n):
    """Return ``mag >> n`` for per-element ``n >= 0`` (0 where n >= 64)."""
    n = np.asarray(n, dtype=np.int64)
    return np.where(n >= 64, _U64(0), mag >> np.clip(n, 0, 63).astype(_U64))


def shift_round(mag, shift, negative, rounding, parity_offset=None):
    """Shift unsigned magnitudes right and round.

    Parameters
    ----------
    mag : ndarray of uint64
        Magnitudes (bit patterns of the exact value in units of ``2**-shift`` of the result).
    shift : ndarray of int
        Right shift per element, ``>= 0``; any size (a shift past bit 63 keeps nothing).
    negative : ndarray of bool
        Sign of each value, used by the directed modes.
    rounding : str or Stochastic
        A mode from :data:`ROUNDING_MODES` (checked with :func:`check_rounding`).
    parity_offset : ndarray of uint64, optional
        Added to ``kept`` to decide evenness for ``rne`` and ``rto``: "even" means the *code*
        is even, which for formats without mantissa bits is the exponent field's parity.

    Returns
    -------
    kept : ndarray of uint64
        The rounded magnitude ``round(mag / 2**shift)``; may be one larger than the truncated
        value (the caller handles a carry into the next binade or past the format's range).
    inexact : ndarray of bool
        True where any discarded bit was 1.
    """
    mag = np.asarray(mag, dtype=_U64)
    shift = np.asarray(shift, dtype=np.int64)
    negative = np.asarray(negative, dtype=bool)
    kept = _shr(mag, shift)
    rem = _bits_below(mag, shift)
    inexact = rem != 0
    odd = ((kept if parity_offset is None else kept + parity_offset) & _U64(1)) == 1
    if isinstance(rounding, Stochastic):
        r = rounding.bits
        # The R discarded bits just below the kept LSB, as an R-bit integer.
        down = shift - r
        top = np.where(down >= 0, _shr(rem, np.maximum(down, 0)),
                       rem << np.clip(-down, 0, 63).astype(_U64))
        rand = rounding.draw(np.broadcast_shapes(mag.shape, shift.shape))
        inc = (top + rand) >> _U64(r)
    elif rounding == "rtz":
        inc = np.zeros(kept.shape, dtype=_U64)
    elif rounding == "rup":
        inc = (inexact & ~negative).astype(_U64)
    elif rounding == "rdn":
        inc = (inexact & negative).astype(_U64)
    elif rounding == "rto":
        inc = (inexact & ~odd).astype(_U64)
    else:
        guard = (shift >= 1) & ((_shr(rem, np.maximum(shift - 1, 0)) & _U64(1)) == 1)
        if rounding == "rna":
            inc = guard.astype(_U64)
        elif rounding == "rne":
            sticky = _bits_below(rem, np.maximum(shift - 1, 0)) != 0
            inc = (guard & (sticky | odd)).astype(_U64)
        else:
            check_rounding(rounding)
            raise AssertionError(rounding)
    return kept + inc, inexact
