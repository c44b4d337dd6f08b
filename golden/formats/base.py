"""What every scalar number format offers: codes, values, limits, encode/decode, dict form.

Codes are unsigned integer arrays holding bit patterns (uint8/16/32/64, the smallest that fits
``bits``); bit patterns are the currency between lowbit's layers.
"""

import dataclasses
import functools

import numpy as np

from lowbit.errors import EncodeError, check_choice
from lowbit.golden.exact import Exact
from lowbit.golden.formats import binade_table, float32_table
from lowbit.golden.formats.codes import check_codes, tag
from lowbit.golden.rounding import check_rounding

_TABLE_MIN = 1 << 12  # decode through a value table from this many codes on (<= 16 bits)

NAN_POLICIES = ("raise", "zero")
"""What ``encode(..., on_nan=...)`` does with NaN for a format without NaN codes."""


@functools.lru_cache(maxsize=64)
def _value_table(fmt) -> np.ndarray:
    """Every code's value, decoded once by the exact decoder (formats of at most 16 bits)."""
    table = fmt._decode(np.arange(1 << fmt.bits, dtype=np.uint64))
    table.flags.writeable = False
    return table


def code_dtype(bits: int):
    """Return the smallest unsigned NumPy dtype holding ``bits``-bit codes."""
    for dt in (np.uint8, np.uint16, np.uint32, np.uint64):
        if bits <= np.iinfo(dt).bits:
            return dt
    raise AssertionError(bits)


def as_codes(codes, bits: int, name: str) -> np.ndarray:
    """Return ``codes`` as uint64, raising if any is negative or needs more than ``bits`` bits."""
    c = np.asarray(codes)
    if c.dtype.kind not in "iu":
        raise EncodeError(f"codes for {name} must be an integer array, not {c.dtype}")
    if c.size and (c.min() < 0 or (bits < 64 and int(c.max()) >= (1 << bits))):
        raise EncodeError(
            f"codes for {name} must lie in [0, 2**{bits}), got [{c.min()}, {c.max()}]"
        )
    return c.astype(np.uint64)


class ScalarFormat:
    """Mixin of the shared API of scalar formats (int, fixed, float, posit).

    Subclasses are frozen dataclasses defining ``bits``, ``name``, ``kind``, ``signed``,
    ``_encode(x, rounding, overflow, on_nan) -> uint64`` and ``_decode(uint64) -> float64``.
    """

    kind = ""

    @property
    def code_dtype(self):
        """The NumPy dtype of this format's codes."""
        return code_dtype(self.bits)

    def encode(self, x, rounding="rne", overflow=None, on_nan="raise") -> np.ndarray:
        """Round values to this format and return their codes.

        Parameters
        ----------
        x : array_like
            Values; converted to float64 (exact for float16/32/64 and integers below 2**53).
        rounding : str or Stochastic
            One of ``rne rna rtz rup rdn rto`` or a :class:`~lowbit.golden.rounding.Stochastic`.
        overflow : str, optional
            Overflow policy; ``None`` uses :attr:`default_overflow`. See the format's docs.
        on_nan : {"raise", "zero"}
            For formats without NaN codes: raise :class:`~lowbit.errors.EncodeError` on NaN
            input (default), or encode NaN as +0. Ignored where the format has NaN.

        Returns
        -------
        Codes of :attr:`code_dtype`
            Bit patterns, same shape as ``x``: an ndarray carrying this format
            (:class:`~lowbit.golden.formats.codes.Codes`).
        """
        overflow = self._check_policies(rounding, overflow, on_nan)
        x = np.asarray(x)
        if x.dtype.kind not in "iufb":
            raise EncodeError(f"values to encode must be numeric, not {x.dtype}")
        with np.errstate(invalid="ignore"):  # float32 signalling NaNs widen quietly
            codes = self._encode(x, rounding, overflow, on_nan)
        return tag(codes.astype(self.code_dtype), self)

    def decode(self, codes) -> np.ndarray:
        """Return the exact float64 value of each code (NaN codes give NaN)."""
        check_codes(codes, self)
        c = np.asarray(codes)
        if self.bits <= 16 and c.size >= _TABLE_MIN:
            if not (c.dtype.kind == "u" and c.dtype.itemsize * 8 <= self.bits):
                c = as_codes(c, self.bits, self.name)  # checked; narrow unsigned codes fit
            return _value_table(self)[c]
        return self._decode(as_codes(c, self.bits, self.name))

    def _encode(self, x, rounding, overflow, on_nan):
        """Float and posit encoding: a table-driven float32 path, else the exact rounder."""
        fast = self._fast_float32_encode(x, rounding, overflow, on_nan)
        if fast is not None:
            return fast
        return self._round(Exact.from_float64(x), rounding, overflow, on_nan)

    def _fast_float32_encode(self, x, rounding, overflow, on_nan):
        """Encode float32 arrays through a table derived from the exact encoder, or None."""
        for table in (float32_table, binade_table):
            if table.applies(self, x, rounding):
                if not self.has_nan:
                    self._nan_input(np.isnan(x), on_nan)
                return table.encode(self, x, rounding, overflow)
        return None

    def round_exact(self, ex, rounding="rne", overflow=None, on_nan="raise") -> np.ndarray:
        """Round exact values (:class:`~lowbit.golden.exact.Exact`) to codes of this format.

        The same rounding as :meth:`encode`; the arithmetic layer rounds its exact products and
        sums through here.
        """
        overflow = self._check_policies(rounding, overflow, on_nan)
        return tag(self._round(ex, rounding, overflow, on_nan).astype(self.code_dtype), self)

    def _check_policies(self, rounding, overflow, on_nan) -> str:
        """Validate the rounding, overflow and NaN policies; return the overflow policy."""
        check_rounding(rounding)
        overflow = self.default_overflow if overflow is None else overflow
        check_choice("overflow", overflow, self.overflow_policies, EncodeError)
        check_choice("on_nan", on_nan, NAN_POLICIES, EncodeError)
        return overflow

    def to_exact(self, codes):
        """Return the exact value of each code as a compact :class:`~lowbit.golden.exact.Exact`."""
        return Exact.from_float64(self.decode(codes)).compact()

    def values(self) -> np.ndarray:
        """Return the value of every code, indexed by code (formats of at most 16 bits)."""
        if self.bits > 16:
            raise EncodeError(
                f"values() lists every code, so needs at most 16 bits; {self.name} has {self.bits}"
            )
        return self.decode(np.arange(1 << self.bits, dtype=np.uint64))

    def _nan_input(self, nan_mask, on_nan):
        """Raise for NaN input into a NaN-less format unless ``on_nan`` says otherwise."""
        if on_nan == "raise" and nan_mask.any():
            raise EncodeError(
                f"{self.name} has no NaN: got NaN input; pass on_nan='zero' to encode it as 0"
            )

    # --- limits, derived from the codes -------------------------------------------------------
    @property
    def max_value(self) -> float:
        """Largest finite value."""
        return float(self.decode(np.array([self.max_code], dtype=np.uint64))[0])

    @property
    def min_value(self) -> float:
        """Smallest (most negative) finite value."""
        return float(self.decode(np.array([self.min_code], dtype=np.uint64))[0])

    @property
    def has_inf(self) -> bool:
        """True if the format has infinity codes."""
        return False

    @property
    def has_nan(self) -> bool:
        """True if the format has NaN codes."""
        return False

    def to_dict(self) -> dict:
        """Return a JSON-ready dict from which :func:`~lowbit.golden.formats.from_dict` rebuilds
        this format."""
        d = {"kind": self.kind}
        for f in dataclasses.fields(self):
            d[f.name] = getattr(self, f.name)
        return d

    def __str__(self):
        return self.name
