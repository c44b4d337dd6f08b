"""Two's complement integers and fixed point: ``value = integer(code) * 2**-frac_bits``.

``IntFormat(bits, signed)`` is fixed point with no fraction bits. Codes of signed formats are
two's complement bit patterns. Encoding rounds with any mode of :mod:`lowbit.golden.rounding`
and then applies the overflow policy:

``saturate`` (default)   clamp to [min, max] (the full two's complement range)
``saturate_symmetric``   clamp to [-max, max] (the most negative code is never produced)
``wrap``                 keep the low ``bits`` bits (modular, as a register would)
"""

from dataclasses import dataclass, field

import numpy as np

from lowbit.errors import EncodeError, check_int
from lowbit.golden.binary import highest_bit
from lowbit.golden.exact import Exact
from lowbit.golden.formats.base import ScalarFormat
from lowbit.golden.rounding import shift_round

_U64 = np.uint64


class _ScaledInteger(ScalarFormat):
    """Shared encode/decode of :class:`IntFormat` and :class:`FixedFormat`."""

    overflow_policies = ("saturate", "saturate_symmetric", "wrap")
    default_overflow = "saturate"

    @property
    def _mask(self):
        return _U64((1 << self.bits) - 1) if self.bits < 64 else _U64(2**64 - 1)

    @property
    def max_int(self) -> int:
        """Largest integer ``code value`` (before the ``2**-frac_bits`` scaling)."""
        return (1 << (self.bits - 1)) - 1 if self.signed else (1 << self.bits) - 1

    @property
    def min_int(self) -> int:
        """Smallest integer ``code value`` (before the ``2**-frac_bits`` scaling)."""
        return -(1 << (self.bits - 1)) if self.signed else 0

    @property
    def max_code(self) -> int:
        return self.max_int

    @property
    def min_code(self) -> int:
        return (1 << (self.bits - 1)) if self.signed else 0

    @property
    def min_positive(self) -> float:
        """Smallest positive value (one LSB), ``2**-frac_bits``."""
        return 2.0 ** -self.frac_bits

    min_normal = min_positive
    min_subnormal = None

    def to_int(self, codes) -> np.ndarray:
        """Return the integer each code stands for (int64, or uint64 for unsigned 64-bit)."""
        from lowbit.golden.formats.base import as_codes
        from lowbit.golden.formats.codes import check_codes

        check_codes(codes, self)
        c = as_codes(codes, self.bits, self.name)
        if not self.signed:
            return c if self.bits == 64 else c.astype(np.int64)
        sign = _U64(1 << (self.bits - 1))
        return ((c ^ sign).astype(np.int64) - np.int64(1 << (self.bits - 1))
                if self.bits < 64 else c.astype(np.int64))

    def to_exact(self, codes):
        """Return the exact value of each code (any width) as a compact ``Exact``."""
        return Exact.from_int(self.to_int(codes), -self.frac_bits).compact()

    @property
    def significand_bits(self) -> int:
        """Bits of the largest magnitude, ``2**(bits-1)`` or ``2**bits - 1``: ``bits``."""
        return self.bits

    def _decode(self, c):
        return np.ldexp(self.to_int(c).astype(np.float64), -self.frac_bits)

    def _encode(self, x, rounding, overflow, on_nan):
        if x.dtype.kind in "iub":
            ex = Exact.from_int(x if x.dtype == np.uint64 else x.astype(np.int64))
        else:
            ex = Exact.from_float64(x)
        return self._round(ex, rounding, overflow, on_nan)

    def _round(self, ex, rounding, overflow, on_nan):
        self._nan_input(ex.nan, on_nan)
        if overflow == "wrap" and ex.inf.any():
            raise EncodeError(f"overflow 'wrap' cannot wrap an infinite value into {self.name}")
        sig = np.where(ex.nan | ex.inf, _U64(0), ex.sig)
        # The result's LSB has weight 2**-frac_bits; shift = how far sig's LSB lies below it.
        shift = -self.frac_bits - ex.exp
        left = np.clip(-shift, 0, 64)
        wide = np.where(left >= 64, _U64(0), sig << np.minimum(left, 63).astype(_U64))
        kept, _ = shift_round(sig, np.maximum(shift, 0), ex.negative, rounding)
        kept = np.where(shift >= 0, kept, wide)
        # "big": the magnitude needs more than 64 bits, so kept holds it modulo 2**64 (also
        # after a rounding carry out of bit 63).
        length = highest_bit(sig) + 1 - shift
        big = (sig != 0) & ((length > 64) | ((length == 64) & (kept == 0))) | ex.inf
        # A huge value may hold 0 modulo 2**64 but keeps its sign.
        return self._apply_overflow(kept, ex.negative & ((kept != 0) | big), big, overflow)

    def _apply_overflow(self, mag, negative, big, overflow):
        """Return codes for signed magnitudes (``mag`` modulo 2**64, ``big`` if >= 2**64)."""
        wrapped = np.where(negative, _U64(0) - mag, mag) & self._mask
        if overflow == "wrap":
            return wrapped
        top = _U64(self.max_int)
        bottom = _U64(-self.min_int) if overflow == "saturate" else _U64(-self.min_int - self.signed)
        pos = np.where(big | (mag > top), top, mag)
        neg = np.where(big | (mag > bottom), bottom, mag)
        out = np.where(negative, (_U64(0) - neg) & self._mask, pos)
        return out


@dataclass(frozen=True)
class IntFormat(_ScaledInteger):
    """A ``bits``-bit integer, two's complement if ``signed``.

    Parameters
    ----------
    bits : int
        Width in bits, 1..64.
    signed : bool
        Two's complement (range ``-2**(bits-1) .. 2**(bits-1)-1``) or unsigned (``0 .. 2**bits-1``).
    """

    bits: int
    signed: bool = True
    name: str = field(default="", compare=False)
    kind = "int"

    def __post_init__(self):
        check_int("bits", self.bits, 1, 64)
        if not isinstance(self.signed, bool):
            raise _param_error("signed", self.signed)
        if not self.name:
            object.__setattr__(self, "name", f"{'' if self.signed else 'u'}int{self.bits}")

    @property
    def frac_bits(self) -> int:
        """Integers have no fraction bits."""
        return 0


@dataclass(frozen=True)
class FixedFormat(_ScaledInteger):
    """Fixed point: ``int_bits + frac_bits`` bits, value ``integer(code) * 2**-frac_bits``.

    Parameters
    ----------
    int_bits : int
        Bits left of the binary point, the sign bit included for signed formats (may be
        negative for a binary point above the MSB: -64..64).
    frac_bits : int
        Bits right of the binary point (may be negative: -64..128).
    signed : bool
        Two's complement or unsigned.

    The total ``bits = int_bits + frac_bits`` must be 1..64 (APyFixed convention).
    """

    int_bits: int
    frac_bits: int
    signed: bool = True
    name: str = field(default="", compare=False)
    kind = "fixed"

    def __post_init__(self):
        check_int("int_bits", self.int_bits, -64, 64)
        check_int("frac_bits", self.frac_bits, -64, 128)
        check_int("int_bits + frac_bits", self.int_bits + self.frac_bits, 1, 64)
        if not isinstance(self.signed, bool):
            raise _param_error("signed", self.signed)
        if not self.name:
            s = "" if self.signed else "u"
            object.__setattr__(self, "name", f"{s}fixed{self.int_bits}_{self.frac_bits}")

    @property
    def bits(self) -> int:
        """Total width, ``int_bits + frac_bits``."""
        return self.int_bits + self.frac_bits


def _param_error(field_name, value):
    from lowbit.errors import FormatParameterError

    return FormatParameterError(f"{field_name} must be True or False, not {value!r}")
