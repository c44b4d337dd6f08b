"""Fast float32 -> <=16-bit float or posit encoding (RNE) through a per-binade table.

Within one float32 binade ``[2**E, 2**(E+1))`` the representable values of an IEEE-style float
and of a posit whose exponent bits are all present are evenly spaced, their ties are the
arithmetic midpoints, and their codes are consecutive (rising for floats of either sign and
positive posits, falling for negative posits). So the code of a float32 word there is
``base + direction * rne(mantissa >> shift)``, with ``base``, ``direction`` and ``shift``
looked up by the word's top 9 bits (sign and exponent). The tables are derived from the exact
encoder, and every binade is checked against it at its first and last rounding boundaries;
binades where the model does not hold (too few codes, overflow, zero and float32 subnormals,
posit regions with cut-off exponent bits) go through the exact encoder.
"""

import functools

import numpy as np

_CHUNK = 1 << 14
_U32 = np.uint32


def applies(fmt, x, rounding) -> bool:
    """True for large float32 arrays, RNE, signed formats of at most 16 bits."""
    return (x.dtype == np.float32 and rounding == "rne" and fmt.bits <= 16 and fmt.signed
            and x.size >= (1 << 16))


def _exact(fmt, words, overflow):
    with np.errstate(invalid="ignore"):
        values = np.asarray(words, dtype=_U32).view(np.float32).astype(np.float64)
    return fmt.encode(values, overflow=overflow, on_nan="zero").astype(np.int64)


def _rne(mantissa, sh, bias):
    """Round ``mantissa / 2**sh`` to nearest even; ``bias = 2**(sh-1) - 1`` (0 if sh is 0)."""
    return (mantissa + bias + ((mantissa >> sh) & 1)) >> sh


@functools.lru_cache(maxsize=32)
def _tables(fmt, overflow):
    """Tables indexed by a word's top 9 bits: base, direction, shift, RNE bias, exact-path flag."""
    mod = 1 << fmt.bits
    top = np.arange(512, dtype=np.int64)
    start = (top << 23).astype(_U32)
    last = start + _U32((1 << 23) - 1)
    base = _exact(fmt, start, overflow)
    c_last = fmt.encode(last.view(np.float32).astype(np.float64), rounding="rtz",
                        overflow="saturate", on_nan="zero").astype(np.int64)
    direction = np.where((c_last - base) % mod < mod // 2, 1, -1)
    count = ((c_last - base) * direction) % mod + 1
    log2n = np.round(np.log2(count)).astype(np.int64)
    field = top & 0xFF
    usable = (count >= 2) & (count == (1 << log2n)) & (log2n <= 23) & (field > 0) & (field < 255)
    shift = np.where(usable, 23 - log2n, 23)
    bias = np.where(shift > 0, (1 << np.maximum(shift - 1, 0)) - 1, 0)
    # Check the model at the first and last two rounding boundaries of every binade.
    quanta = 1 << (23 - shift)
    steps = np.stack([0 * quanta, 0 * quanta + 1, quanta - 2, quanta - 1], axis=1)
    within = np.stack([0 * bias, bias, bias + 1, bias + 2], axis=1)
    offsets = np.clip((steps[:, :, None] << shift[:, None, None]) + within[:, None, :],
                      0, (1 << 23) - 1)
    model = (base[:, None, None] + direction[:, None, None]
             * _rne(offsets, shift[:, None, None], bias[:, None, None])) % mod
    words = (top[:, None, None] << 23) + offsets
    exact = _exact(fmt, words.reshape(-1), overflow).reshape(words.shape)
    usable &= (exact == model).all(axis=(1, 2))
    return (base.astype(_U32), (direction % (1 << 32)).astype(_U32), shift.astype(_U32),
            bias.astype(_U32), ~usable)


def encode(fmt, x, rounding, overflow):
    """Encode a float32 array (see :func:`applies`)."""
    base, direction, shift, bias, exact_path = _tables(fmt, overflow)
    words = np.ascontiguousarray(x).reshape(-1).view(_U32)
    out = np.empty(words.shape, dtype=fmt.code_dtype)
    n = min(words.size, _CHUNK)
    top, sh, t, u = (np.empty(n, _U32) for _ in range(4))
    mask = _U32((1 << fmt.bits) - 1)
    for start in range(0, words.size, _CHUNK):
        w = words[start:start + _CHUNK]
        k = w.size
        top_, sh_, t_, u_ = top[:k], sh[:k], t[:k], u[:k]
        np.right_shift(w, 23, out=top_)
        np.take(shift, top_, out=sh_)
        np.bitwise_and(w, 0x7FFFFF, out=u_)           # mantissa
        np.right_shift(u_, sh_, out=t_)
        np.bitwise_and(t_, 1, out=t_)
        t_ += np.take(bias, top_)
        t_ += u_
        np.right_shift(t_, sh_, out=t_)
        t_ *= np.take(direction, top_)
        t_ += np.take(base, top_)
        t_ &= mask
        out[start:start + k] = t_
        slow = np.take(exact_path, top_)
        if slow.any():
            idx = np.flatnonzero(slow)
            out[start + idx] = fmt.encode(w[idx].view(np.float32), overflow=overflow,
                                          on_nan="zero")
    return out.reshape(x.shape)
