"""Binary floating point of any exponent and mantissa width: FP4 to FP64, OCP, IEEE, scales.

Code layout (MSB first): ``[sign] exponent[exp_bits] mantissa[man_bits]``.

Special values are set by two flags:

``inf=True, nan=True``   IEEE 754: the all-ones exponent holds +-Inf (mantissa 0) and NaNs.
``inf=False, nan=True``  OCP "fn" style (E4M3, E8M0): only the all-ones code (per sign) is NaN;
                         the rest of the top binade holds normal numbers.
``inf=False, nan=False`` every code is finite (FP6, FP4).

``subnormals=False`` flushes: the exponent-0 binade encodes only zero, and values round to the
set ``{0, +-min_normal, ...}`` (a nonzero mantissa with exponent 0 decodes as 0); under ``rne``
the tie at ``min_normal / 2`` goes to zero. Without mantissa bits (E8M0) "even" is the code's,
so ``rne`` ties go to the even exponent field (as gfloat; ml_dtypes rounds such ties up).
``zero=False`` (E8M0) makes exponent field 0 a normal binade: the format has no zero, and values
below the smallest (zero included) encode as the smallest.

Overflow policies (``encode(..., overflow=...)``):

``inf``       IEEE 754 section 7.4: to Inf, except that rtz/rto give +-max, rdn gives +max for
              positive and rup gives -max for negative overflow. Default where the format has Inf.
``saturate``  to +-max finite; Inf input too. Default for formats without Inf (as the OCP MX
              spec does for its elements; hardware usually wants this).
``nan``       to NaN (ml_dtypes' behaviour for float8_e4m3fn); Inf input too.
"""

from dataclasses import dataclass, field

import numpy as np

from lowbit.errors import EncodeError, FormatParameterError, check_int
from lowbit.golden.exact import WINDOW_TOP
from lowbit.golden.formats.base import ScalarFormat
from lowbit.golden.rounding import shift_round

_U64 = np.uint64


@dataclass(frozen=True)
class FloatFormat(ScalarFormat):
    """A binary floating-point format.

    Parameters
    ----------
    exp_bits : int
        Exponent width, 1..11.
    man_bits : int
        Stored mantissa (fraction) width, 0..52.
    bias : int, optional
        Exponent bias; default ``2**(exp_bits-1) - 1``. Every value must be a float64 (checked).
    inf : bool
        IEEE infinities (requires ``nan=True``: they share the reserved exponent).
    nan : bool
        NaN codes (see the module docstring for where they live).
    subnormals : bool
        Gradual underflow (True) or flush to zero (False).
    signed : bool
        Sign bit present; unsigned formats (``ue4m3``, ``e8m0``) encode only values >= 0.
    zero : bool
        Exponent field 0 holds zero/subnormals (True) or a normal binade (False, E8M0).
    """

    exp_bits: int
    man_bits: int
    bias: int | None = None
    inf: bool = True
    nan: bool = True
    subnormals: bool = True
    signed: bool = True
    zero: bool = True
    name: str = field(default="", compare=False)
    kind = "float"

    def __post_init__(self):
        check_int("exp_bits", self.exp_bits, 1, 11)
        check_int("man_bits", self.man_bits, 0, 52)
        for flag in ("inf", "nan", "subnormals", "signed", "zero"):
            if not isinstance(getattr(self, flag), bool):
                raise FormatParameterError(
                    f"{flag} must be True or False, not {getattr(self, flag)!r}"
                )
        if self.bias is None:
            object.__setattr__(self, "bias", (1 << (self.exp_bits - 1)) - 1)
        check_int("bias", self.bias, -1100, 1100)
        if self.inf and not self.nan:
            raise FormatParameterError(
                "inf=True needs nan=True: IEEE infinities and NaNs share the all-ones exponent"
            )
        if self.inf and self.exp_bits < 2:
            raise FormatParameterError(
                f"exp_bits must be at least 2 for IEEE inf/nan (all-ones exponent reserved), "
                f"not {self.exp_bits}"
            )
        if not self.zero and self.subnormals:
            raise FormatParameterError(
                "zero=False (exponent field 0 is a normal binade) needs subnormals=False"
            )
        if self.nan and not self.inf and self.bits == 1:
            raise FormatParameterError("nan=True needs at least 2 bits so one code stays finite")
        top = self._emax + 1  # value < 2**top
        low = self._emin - self.man_bits
        if top > 1024 or low < -1074:
            raise FormatParameterError(
                f"bias {self.bias} with exp_bits {self.exp_bits}, man_bits {self.man_bits} gives "
                f"values from 2**{low} to 2**{top}; lowbit needs them inside float64 "
                f"(2**-1074 .. 2**1024)"
            )
        if not self.name:
            object.__setattr__(self, "name", self._default_name())

    def _default_name(self):
        ieee_like = (self.inf and self.nan and self.subnormals and self.signed and self.zero
                     and self.bias == (1 << (self.exp_bits - 1)) - 1)
        base = f"fp_e{self.exp_bits}m{self.man_bits}"
        if ieee_like:
            return base
        tags = [f"b{self.bias}"]
        tags.append("ieee" if self.inf else ("fn" if self.nan else "finite"))
        if not self.subnormals:
            tags.append("ftz")
        if not self.signed:
            tags.append("unsigned")
        if not self.zero:
            tags.append("nozero")
        return base + "_" + "_".join(tags)

    # --- geometry -----------------------------------------------------------------------------
    @property
    def bits(self) -> int:
        """Total width: sign (if signed) + exp_bits + man_bits."""
        return int(self.signed) + self.exp_bits + self.man_bits

    @property
    def _emin(self) -> int:
        """Exponent of the smallest normal binade."""
        return (1 if self.zero else 0) - self.bias

    @property
    def _top_field(self) -> int:
        """Largest exponent field holding finite values."""
        all_ones = (1 << self.exp_bits) - 1
        return all_ones - 1 if self.inf else all_ones

    @property
    def _emax(self) -> int:
        return self._top_field - self.bias

    @property
    def _mag_mask(self) -> int:
        return (1 << (self.exp_bits + self.man_bits)) - 1

    @property
    def max_code(self) -> int:
        """Code of the largest finite value."""
        m = (self._top_field << self.man_bits) | ((1 << self.man_bits) - 1)
        if self.nan and not self.inf:
            m -= 1  # the all-ones code is NaN
        return m

    @property
    def min_code(self) -> int:
        """Code of the most negative finite value (the smallest value if unsigned)."""
        return (1 << (self.bits - 1)) | self.max_code if self.signed else 0

    @property
    def nan_code(self) -> int | None:
        """The canonical (positive, quiet) NaN code, or None."""
        if not self.nan:
            return None
        if self.inf:
            return (self._mag_mask >> self.man_bits << self.man_bits) | (
                1 << (self.man_bits - 1) if self.man_bits else 0)
        return self._mag_mask

    @property
    def inf_code(self) -> int | None:
        """The +Inf code, or None."""
        return ((1 << self.exp_bits) - 1) << self.man_bits if self.inf else None

    @property
    def has_inf(self) -> bool:
        return self.inf

    @property
    def has_nan(self) -> bool:
        return self.nan

    @property
    def min_normal(self) -> float:
        """Smallest positive normal value, ``2**emin``."""
        return 2.0 ** self._emin

    @property
    def min_subnormal(self) -> float | None:
        """Smallest positive subnormal, or None for formats without subnormals."""
        return 2.0 ** (self._emin - self.man_bits) if self.subnormals and self.man_bits else None

    @property
    def min_positive(self) -> float:
        """Smallest positive value."""
        return self.min_subnormal or self.min_normal

    @property
    def emax(self) -> int:
        """Exponent of the largest finite value: ``floor(log2(max_value))``."""
        return (self.max_code >> self.man_bits) - self.bias

    @property
    def max_fraction_bits(self) -> int:
        """Most fraction bits any value has: ``man_bits``."""
        return self.man_bits

    @property
    def significand_bits(self) -> int:
        """Precision p: ``man_bits + 1`` (implicit bit included)."""
        return self.man_bits + 1

    @property
    def overflow_policies(self):
        return ("saturate",) + (("inf",) if self.inf else ()) + (("nan",) if self.nan else ())

    @property
    def default_overflow(self) -> str:
        """``inf`` for IEEE-style formats, ``saturate`` for the rest."""
        return "inf" if self.inf else "saturate"

    # --- decode -------------------------------------------------------------------------------
    def _decode(self, c):
        man = self.man_bits
        mag = c & _U64(self._mag_mask)
        ef = (mag >> _U64(man)).astype(np.int64)
        f = mag & _U64((1 << man) - 1)
        low_binade = (ef == 0) & self.zero
        sig = np.where(low_binade, f, f | _U64(1 << man))
        e = np.where(low_binade, 1, ef) - self.bias - man
        if self.zero and not self.subnormals:
            sig = np.where(low_binade, _U64(0), sig)
        with np.errstate(over="ignore"):  # the Inf/NaN binade of fp64; replaced below
            v = np.ldexp(sig.astype(np.float64), e)
        if self.inf:
            top = ef == (1 << self.exp_bits) - 1
            v = np.where(top, np.where(f == 0, np.inf, np.nan), v)
        elif self.nan:
            v = np.where(mag == _U64(self._mag_mask), np.nan, v)
        if self.signed:
            v = np.where((c >> _U64(self.bits - 1)) == 1, -v, v)
        return v

    # --- encode -------------------------------------------------------------------------------
    def _round(self, ex, rounding, overflow, on_nan):
        nan, inf = ex.nan, ex.inf
        if not self.nan:
            self._nan_input(nan, on_nan)
        if not self.signed:
            bad = ex.negative & ((ex.sig != 0) | inf) & ~nan
            if bad.any():
                value = float(ex[bad].to_float64()[0])
                raise EncodeError(f"{self.name} is unsigned: cannot encode negative value {value!r}")
        ex = ex.normalized()
        negative, sig, exp = ex.negative & self.signed, ex.sig, ex.exp
        nonzero = sig != 0
        man = self.man_bits
        emin = self._emin
        e_lead = exp + WINDOW_TOP  # exponent of the leading one
        below = e_lead < emin
        # Flush to zero: below 2**emin the only neighbours are 0 and 2**emin, so round in
        # units of the whole min normal there.
        flush = below & (self.zero and not self.subnormals)
        q = np.where(flush, emin, np.maximum(e_lead, emin) - man)
        # Without mantissa bits a code's parity is its exponent field's.
        parity = (None if man else
                  (np.maximum(e_lead - emin, 0) - (0 if self.zero else 1)).astype(_U64))
        kept, _ = shift_round(sig, q - exp, negative, rounding, parity)
        kept = np.where(flush, kept << _U64(man), kept)
        mag = (np.maximum(e_lead - emin, 0).astype(_U64) << _U64(man)) + kept
        if not self.zero:
            # Field 0 is the lowest normal binade here (one below the zero-format layout), and
            # everything below 2**emin, zero included, encodes as that smallest value.
            mag = np.where(below, _U64(0), mag - _U64(1 << man))
        mag = np.where(nonzero, mag, _U64(0))
        mag = self._overflow(mag, (mag > _U64(self.max_code)) & ~inf, negative, rounding, overflow)
        # An infinite input is exact: Inf where the format has it, else per the policy.
        inf_code = {"saturate": self.max_code, "nan": self.nan_code, "inf": self.inf_code}
        mag = np.where(inf, _U64(inf_code[overflow]), mag)
        if self.nan:  # quiet NaN, keeping the input's sign bit (as ml_dtypes and IEEE hardware)
            mag = np.where(nan, _U64(self.nan_code), mag)
            negative = np.where(nan, ex.negative & self.signed, negative)
        else:
            mag = np.where(nan, _U64(0), mag)
            negative = negative & ~nan
        if self.signed:
            mag = mag | (negative.astype(_U64) << _U64(self.bits - 1))
        return mag

    def _overflow(self, mag, over, negative, rounding, policy):
        """Replace overflowed magnitudes per ``policy`` (IEEE 7.4 directions under ``inf``)."""
        maxf = _U64(self.max_code)
        if policy == "saturate":
            return np.where(over, maxf, mag)
        if policy == "nan":
            return np.where(over, _U64(self.nan_code), mag)
        if rounding in ("rtz", "rto"):
            to_max = np.ones(mag.shape, bool)
        elif rounding == "rdn":
            to_max = ~negative
        elif rounding == "rup":
            to_max = negative
        else:
            to_max = np.zeros(mag.shape, bool)
        return np.where(over, np.where(to_max, maxf, _U64(self.inf_code)), mag)
