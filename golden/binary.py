"""Exact binary views of float64 arrays: sign, 53-bit integer significand and exponent.

Every encoder starts here, so that rounding is done on integers and never by float arithmetic.
"""

import numpy as np


def split_float64(x):
    """Split finite float64 values into ``negative, sig, exp`` with ``|x| = sig * 2**exp``.

    Parameters
    ----------
    x : array_like of float64
        Values; non-finite entries give ``sig = 0``.

    Returns
    -------
    negative : ndarray of bool
        Sign bit of each value (``-0.0`` is negative).
    sig : ndarray of uint64
        Integer significand; for nonzero finite values its top bit is bit 52 (also for float64
        subnormals, which are normalized), for zeros it is 0.
    exp : ndarray of int64
        Exponent of the significand's LSB, so the leading one has weight ``2**(exp + 52)``.
    """
    x = np.asarray(x, dtype=np.float64)
    negative = np.signbit(x)
    a = np.abs(x)
    finite = np.isfinite(a)
    m, e = np.frexp(np.where(finite, a, 0.0))
    sig = np.ldexp(m, 53).astype(np.uint64)
    return negative, sig, e.astype(np.int64) - 53


def floor_log2(a):
    """Return ``floor(log2(a))`` exactly (int64) for positive finite float64 ``a``.

    Taken from the exponent bits via ``frexp``: a float log2 rounds ``2**k * (1 - 2**-53)`` up
    to ``k``. Entries that are zero or non-finite give an unspecified value.
    """
    _, e = np.frexp(np.asarray(a, dtype=np.float64))
    return e.astype(np.int64) - 1


def highest_bit(v):
    """Return the index of the highest set bit of each uint64 ``v`` (``-1`` where ``v == 0``).

    Exact for every 64-bit value: the value is split in two 32-bit halves, each exactly
    representable in float64.
    """
    v = np.asarray(v, dtype=np.uint64)
    hi = (v >> np.uint64(32)).astype(np.float64)
    lo = (v & np.uint64(0xFFFFFFFF)).astype(np.float64)
    _, ehi = np.frexp(hi)
    _, elo = np.frexp(lo)
    return np.where(hi > 0, ehi.astype(np.int64) + 31, elo.astype(np.int64) - 1)
