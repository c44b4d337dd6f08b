"""Fast float32 -> narrow float encoding through a table derived from the exact encoder.

For a target (float or posit) whose values have at most 6 fraction bits, the rounding of a float32 word depends only on its
top 16 bits (sign, exponent, 7 mantissa bits) and on whether any of its low 16 bits is set
(sticky): the guard bit of the result is never below bit 16. So a table of 2**17 codes, filled
by the exact encoder from one representative float32 per entry, encodes any float32 array with
a few integer passes and one gather, for every deterministic rounding mode and overflow policy.
"""

import functools

import numpy as np

_CHUNK = 1 << 16  # elements per pass: keeps the temporaries in cache


def applies(fmt, x, rounding) -> bool:
    """True if the table path gives exactly the exact encoder's codes for this call."""
    return (x.dtype == np.float32 and isinstance(rounding, str) and fmt.max_fraction_bits <= 6
            and fmt.signed and fmt.min_positive >= 2.0 ** -132 and x.size >= _CHUNK)


@functools.lru_cache(maxsize=64)
def _table(fmt, rounding, overflow):
    words = np.arange(1 << 17, dtype=np.uint32)
    representatives = ((words >> 1) << 16) | (words & 1)
    with np.errstate(invalid="ignore"):  # signalling-NaN words stay NaN
        values = representatives.view(np.float32).astype(np.float64)  # exact; not this path
    return fmt.encode(values, rounding=rounding, overflow=overflow, on_nan="zero")


def encode(fmt, x, rounding, overflow):
    """Encode a float32 array with ``fmt`` through the table (see :func:`applies`)."""
    table = _table(fmt, rounding, overflow)
    words = np.ascontiguousarray(x).reshape(-1).view(np.uint32)
    out = np.empty(words.shape, dtype=table.dtype)
    index = np.empty(min(words.size, _CHUNK), dtype=np.uint32)
    for start in range(0, words.size, _CHUNK):
        w = words[start:start + _CHUNK]
        ix = index[: w.size]
        np.bitwise_and(w, 0xFFFF, out=ix)
        np.add(ix, 0xFFFF, out=ix)          # bit 16 set iff any low bit is set
        np.right_shift(ix, 16, out=ix)
        np.bitwise_or(ix, (w >> 16) << 1, out=ix)
        np.take(table, ix, out=out[start:start + _CHUNK])
    return out.reshape(x.shape)
