"""Codes that carry their format: :class:`Codes`, what ``encode`` and the arithmetic return.

A :class:`Codes` array is an ordinary unsigned integer ndarray of bit patterns with one more
attribute, ``fmt``, the format whose codes they are. Every layer that reads codes as a format's
(``decode``, ``to_exact``, :mod:`lowbit.golden.arith`, :mod:`lowbit.golden.gemm`) calls
:func:`check_codes` first, so the codes of one format given to another format's operation
raise :class:`~lowbit.errors.CodeFormatError` instead of being read silently as other bit
patterns. Plain arrays (``np.asarray(codes)``, codes from a file or a testbench) carry no
format and are read as the format they are given to: that is how to reinterpret bits on
purpose.

Slices, views, copies and ``astype`` keep the format; arithmetic on codes (``codes ^ 0x80``)
gives a plain array, since its result need not be codes of the format any more.
"""

import numpy as np

from lowbit.errors import CodeFormatError


class Codes(np.ndarray):
    """Bit patterns of :attr:`fmt` (an ndarray subclass; see the module docstring)."""

    fmt = None

    def __array_finalize__(self, obj):
        self.fmt = getattr(obj, "fmt", None)

    def __array_wrap__(self, arr, context=None, return_scalar=False):
        out = np.asarray(arr).view(np.ndarray)
        return out[()] if return_scalar else out

    def __reduce__(self):  # pickles (process pools, Dask) keep the format
        constructor, args, state = super().__reduce__()
        return constructor, args, (state, self.fmt)

    def __setstate__(self, state):
        array_state, self.fmt = state
        super().__setstate__(array_state)

    def __repr__(self):
        name = getattr(self.fmt, "name", None)
        text = repr(self.view(np.ndarray))      # array([...], dtype=uint8)
        return "Codes" + text[len("array"):-1] + f", fmt={name})"


def tag(codes, fmt) -> Codes:
    """``codes`` (an ndarray) as :class:`Codes` of ``fmt``, without copying."""
    out = np.asarray(codes).view(Codes)
    out.fmt = fmt
    return out


def check_codes(codes, fmt, what: str = "codes"):
    """Raise :class:`~lowbit.errors.CodeFormatError` if ``codes`` carry a format other than
    ``fmt``; plain arrays and lists pass. ``what`` names the argument in the message."""
    own = getattr(codes, "fmt", None) if isinstance(codes, Codes) else None
    if own is not None and own != fmt:
        raise CodeFormatError(
            f"{what}: codes of {own.name} cannot be read as codes of {fmt.name}; decode and "
            f"encode them into {fmt.name}, or pass np.asarray(codes) to reinterpret the bit "
            f"patterns")
