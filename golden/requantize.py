"""Dyadic requantization, as in integer-only pipelines (HAWQ-V3, I-ViT, gemmlowp/TFLite).

An integer accumulator ``acc`` (e.g. the int32 sum of int8 x int8 products) is rescaled by a
float factor ``scale`` (e.g. ``s_in * s_w / s_out``) without floats or division: the scale is
replaced once by a dyadic number ``m / 2**s`` (:func:`dyadic_scale`), and every element is

    y = clamp(round(acc * m / 2**s) + zero_point)

computed with one integer multiply into a product register and one rounding right shift
(:func:`requantize`). Everything is exact integer arithmetic (int64); the result is the codes
of an output :class:`~lowbit.golden.formats.IntFormat` (e.g. int8), so hardware can be
compared bit for bit.

Rounding of the right shift by ``s`` (``p = acc * m``; ties are ``p mod 2**s == 2**(s-1)``)

======  ======================================  =============================================
``rdn``  floor                                 ``p >> s``: the arithmetic shift of Python,
                                                NumPy and Verilog ``>>>`` on signed values
``rtz``  toward zero                           Verilog/C ``/ 2**s`` on signed values
``rup``  ceiling
``rne``  nearest, ties to even
``rna``  nearest, ties away from zero          gemmlowp ``RoundingDivideByPOT``, TVM TONEAREST
``rnu``  nearest, ties toward +infinity        ``(p + 2**(s-1)) >> s``: the cheapest rounding
                                                in hardware, TVM UPWARD
``rto``  to odd (inexact -> LSB 1)
======  ======================================  =============================================

``rne rna rtz rup rdn rto`` mean what they mean in :mod:`lowbit.golden.rounding`; ``rnu``
exists only here. Note Python's and NumPy's ``>>`` on negative integers is floor, not
truncation: ``-3 >> 1 == -2``.
"""

from dataclasses import dataclass

import numpy as np

from lowbit.errors import (AccumulatorOverflowError, QuantizerError, RoundingError, check_choice,
                           check_int)
from lowbit.golden import formats
from lowbit.golden.formats import IntFormat

SHIFT_ROUNDINGS = ("rne", "rna", "rnu", "rtz", "rup", "rdn", "rto")
"""Rounding modes of the requantization right shift (module docstring)."""

MAX_SHIFT = 63
"""Largest right shift: a shift of an int64 product by 63 bits keeps only its sign."""

MAX_M_BITS = 32
"""Widest multiplier: an int32 accumulator times a 32-bit multiplier always fits int64."""

_U64 = np.uint64


@dataclass(frozen=True, eq=False)
class DyadicScale:
    """A dyadic scale ``multiplier / 2**shift`` (scalar, or one per channel).

    Parameters
    ----------
    multiplier : array_like of int
        Unsigned multipliers ``m``, ``0 <= m < 2**m_bits``; stored as a read-only int64 array.
    shift : array_like of int
        Right shifts ``s``, ``0 <= s <= 63``; stored as a read-only int64 array broadcasting
        against ``multiplier``.
    m_bits : int
        Width of the unsigned multiplier register, 1..32 (for a signed 32-bit register whose
        multiplier is positive, as in gemmlowp/TFLite, use 31).
    """

    multiplier: np.ndarray
    shift: np.ndarray
    m_bits: int

    def __post_init__(self):
        check_int("m_bits", self.m_bits, 1, MAX_M_BITS, QuantizerError)
        m = _int_array("multiplier", self.multiplier)
        s = _int_array("shift", self.shift)
        if m.size and (m.min() < 0 or m.max() >= 1 << self.m_bits):
            raise QuantizerError(f"multiplier must lie in [0, 2**{self.m_bits}), "
                                 f"got [{m.min()}, {m.max()}]")
        if s.size and (s.min() < 0 or s.max() > MAX_SHIFT):
            raise QuantizerError(f"shift must lie in [0, {MAX_SHIFT}], got [{s.min()}, {s.max()}]")
        try:
            np.broadcast_shapes(m.shape, s.shape)
        except ValueError:
            raise QuantizerError(f"multiplier shape {m.shape} and shift shape {s.shape} do not "
                                 "broadcast together") from None
        for name, a in (("multiplier", m), ("shift", s)):
            a = a.astype(np.int64)
            a.flags.writeable = False
            object.__setattr__(self, name, a)

    @property
    def value(self) -> np.ndarray:
        """The exact float64 value ``multiplier * 2**-shift`` of each scale."""
        return np.ldexp(self.multiplier.astype(np.float64), -self.shift)


def dyadic_scale(scale, m_bits: int = 32) -> DyadicScale:
    """Return the dyadic scale ``m / 2**s`` nearest to ``scale`` with an ``m_bits``-bit ``m``.

    The shift is the largest that keeps ``m`` within ``m_bits`` bits, so ``m`` is normalized,
    ``2**(m_bits-1) <= m < 2**m_bits``, and ``m = round(scale * 2**s)`` (nearest, ties to
    even). Error bound, for every element:

        |m / 2**s - scale| <= 2**-(s+1)    and    |m / 2**s - scale| <= scale * 2**-m_bits

    Parameters
    ----------
    scale : float or array_like of float
        Positive finite scales (one per channel for per-channel requantization).
    m_bits : int
        Width of the unsigned multiplier, 1..32.

    Raises
    ------
    QuantizerError
        If ``m_bits`` is out of range, a scale is not positive and finite, a scale is too
        large (``scale >= 2**m_bits - 0.5`` would need a left shift) or too small (it would
        need a right shift beyond 63 bits).
    """
    check_int("m_bits", m_bits, 1, MAX_M_BITS, QuantizerError)
    sc = np.asarray(scale)
    if sc.dtype.kind not in "iuf":
        raise QuantizerError(f"scale must be a real number or array, not {sc.dtype}")
    sc = sc.astype(np.float64)
    bad = ~(np.isfinite(sc) & (sc > 0))
    if bad.any():
        raise QuantizerError(f"scale must be positive and finite, not {float(sc[bad].flat[0])}")
    frac, exp = np.frexp(sc)  # sc = frac * 2**exp, 0.5 <= frac < 1
    m = np.rint(np.ldexp(frac, m_bits))  # exact product, then round to nearest even
    carry = m == 2.0**m_bits
    m = np.where(carry, 2.0 ** (m_bits - 1), m)
    s = m_bits - exp.astype(np.int64) - carry
    if (s < 0).any():
        raise QuantizerError(
            f"scale {float(sc[s < 0].flat[0])} is too large for a {m_bits}-bit multiplier: "
            f"m / 2**s with s >= 0 needs scale < 2**{m_bits} - 0.5"
        )
    if (s > MAX_SHIFT).any():
        raise QuantizerError(
            f"scale {float(sc[s > MAX_SHIFT].flat[0])} is too small for a {m_bits}-bit "
            f"multiplier: it needs a right shift of {int(s.max())} bits, more than {MAX_SHIFT}"
        )
    return DyadicScale(m.astype(np.int64), s, m_bits)


def requantize(acc, dyadic: DyadicScale, out="int8", *, rounding="rne", overflow="saturate",
               zero_point=0, product_bits: int = 64) -> np.ndarray:
    """Rescale integer accumulators by a dyadic scale and return codes of ``out``.

    Computes ``clamp(round(acc * m / 2**s) + zero_point)`` in integers: the product ``acc * m``
    (checked to fit a signed ``product_bits``-bit register), a right shift by ``s`` rounded
    with ``rounding``, the integer zero point, then ``out.encode(..., overflow=overflow)``.

    Parameters
    ----------
    acc : array_like of int
        Accumulators (any integer dtype whose values fit int64; typically int32).
    dyadic : DyadicScale
        The scale; its ``multiplier`` and ``shift`` broadcast against ``acc`` (per-channel
        requantization: one entry per channel of the last axis, or shaped to broadcast).
    out : IntFormat or str
        Output format of at most 32 bits, e.g. ``"int8"`` or ``"uint8"``.
    rounding : str
        Rounding of the right shift, one of :data:`SHIFT_ROUNDINGS`.
    overflow : {"saturate", "saturate_symmetric", "wrap"}
        Overflow policy of ``out``: saturate to the full range, to ``[-max, max]``, or keep
        the low ``out.bits`` bits.
    zero_point : int or array_like of int
        Output zero point added after rounding, within ``out``'s integer range; broadcasts.
    product_bits : int
        Width of the signed product register ``acc * m``, 2..64 (64: int64).

    Returns
    -------
    ndarray of ``out.code_dtype``
        Bit patterns of ``out``; shape of ``acc`` broadcast with the scale's arrays.

    Raises
    ------
    AccumulatorOverflowError
        If some ``acc * m`` does not fit ``product_bits`` bits (the message shows the first).
    QuantizerError, RoundingError
        On bad parameters.
    """
    out = _out_format(out)
    check_choice("rounding", rounding, SHIFT_ROUNDINGS, RoundingError)
    check_int("product_bits", product_bits, 2, 64, QuantizerError)
    if not isinstance(dyadic, DyadicScale):
        raise QuantizerError(f"dyadic must be a DyadicScale, not {type(dyadic).__name__}")
    acc = _int_array("acc", acc)
    if acc.dtype == np.uint64 and acc.size and acc.max() > np.iinfo(np.int64).max:
        raise AccumulatorOverflowError(f"acc must fit in int64, got {acc.max()}")
    acc = acc.astype(np.int64)
    zp = _int_array("zero_point", zero_point)
    if zp.size and (zp.min() < out.min_int or zp.max() > out.max_int):
        raise QuantizerError(f"zero_point must lie in [{out.min_int}, {out.max_int}] "
                             f"({out.name}), got [{zp.min()}, {zp.max()}]")
    m, s = dyadic.multiplier, dyadic.shift
    try:
        shape = np.broadcast_shapes(acc.shape, m.shape, s.shape, zp.shape)
    except ValueError:
        raise QuantizerError(
            f"acc shape {acc.shape}, scale shape {np.broadcast_shapes(m.shape, s.shape)} and "
            f"zero_point shape {zp.shape} do not broadcast together"
        ) from None
    acc, m, s, zp = (np.broadcast_to(a, shape) for a in (acc, m, s, zp.astype(np.int64)))
    _check_product(acc, m, product_bits)
    y = shift_round(acc * m, s, rounding)
    if overflow != "wrap":
        # |zero_point| < 2**32, so clipping far outside out's range changes no saturated result
        # and keeps the sum inside int64.
        y = np.clip(y, -(1 << 62), 1 << 62)
    with np.errstate(over="ignore"):
        total = y + zp  # wrap: int64 wrap-around keeps the low out.bits bits exact
    return out.encode(total, overflow=overflow)


def shift_round(p, s, rounding) -> np.ndarray:
    """Return ``round(p / 2**s)`` for int64 ``p`` and shifts ``0 <= s <= 63`` (exact, int64).

    ``rounding`` is one of :data:`SHIFT_ROUNDINGS`.
    """
    check_choice("rounding", rounding, SHIFT_ROUNDINGS, RoundingError)
    p = np.asarray(p, dtype=np.int64)
    s = np.asarray(s, dtype=np.int64)
    q = p >> s  # floor
    su = s.astype(_U64)
    rem = p.astype(_U64) & ((_U64(1) << su) - _U64(1))  # p mod 2**s, in [0, 2**s)
    half = _U64(1) << (np.maximum(s, 1) - 1).astype(_U64)  # 2**(s-1); rem < half when s == 0
    inexact = rem != 0
    odd = (q & 1) == 1
    negative = p < 0
    inc = {
        "rdn": lambda: np.zeros(q.shape, dtype=bool),
        "rup": lambda: inexact,
        "rtz": lambda: inexact & negative,
        "rto": lambda: inexact & ~odd,
        "rnu": lambda: rem >= half,
        "rna": lambda: (rem > half) | ((rem == half) & ~negative),
        "rne": lambda: (rem > half) | ((rem == half) & odd),
    }[rounding]()
    return q + inc.astype(np.int64)  # q < 2**62 whenever inc can be 1 (s >= 1)


def _check_product(acc, m, bits):
    """Raise AccumulatorOverflowError if some ``acc * m`` needs more than ``bits`` bits."""
    top = (1 << (bits - 1)) - 1  # acc * m <= top  <=>  acc <= top // m           (m > 0)
    m_pos = np.maximum(m, 1)
    hi = np.int64(top) // m_pos
    # acc * m >= -2**(bits-1)  <=>  acc >= -(2**(bits-1) // m); negated modulo 2**64
    with np.errstate(over="ignore"):
        lo = (_U64(0) - _U64(top + 1) // m_pos.astype(_U64)).astype(np.int64)
    bad = (m != 0) & ((acc > hi) | (acc < lo))
    if bad.any():
        first = int(np.argmax(bad))
        a, mm = int(acc.flat[first]), int(m.flat[first])
        raise AccumulatorOverflowError(
            f"acc * multiplier must fit in int{bits}: {a} * {mm} = {a * mm} does not"
        )


def _out_format(out) -> IntFormat:
    if isinstance(out, str):
        out = formats.get(out)
    if not isinstance(out, IntFormat) or out.bits > 32:
        raise QuantizerError(f"out must be an IntFormat of at most 32 bits (or its name, such as "
                             f"'int8'), not {getattr(out, 'name', out)!r}")
    return out


def _int_array(name, a) -> np.ndarray:
    a = np.asarray(a)
    if a.dtype.kind not in "iu":
        raise QuantizerError(f"{name} must be an integer or integer array, not {a.dtype}")
    return a
