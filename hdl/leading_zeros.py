"""Leading-zero count: a log-depth tree shared by the normalizer and every MAC unit."""

from amaranth.hdl import Cat, Const, Module, Mux, Signal
from amaranth.lib.wiring import In, Out

from lowbit.errors import OperationError, check_int
from lowbit.hdl.component import Component

MAX_WIDTH = 4096
"""Widest input any building block accepts (a posit(64, 2) quire is 1,024 bits)."""


def check_width(component: str, field: str, value, low: int = 1, high: int = MAX_WIDTH) -> int:
    """Return the bit width ``value`` if it is an integer in ``[low, high]``; raise otherwise.

    The message names the component and the argument, e.g. ``"LeadingZeroCount width must be
    an integer from 1 to 4096, not 0"``.
    """
    return check_int(f"{component} {field}", value, low, high, OperationError)


def _count_tree(m, bits, name):
    """Count the leading zeros of ``bits`` (a power-of-two number of bits); log-depth tree.

    Return ``(count, zero)``: ``zero`` is 1 when every bit is 0, and ``count`` has
    ``log2(len(bits))`` bits; it is exact when ``zero`` is 0 and equals ``len(bits) - 1``
    otherwise.
    """
    n = len(bits)
    if n == 1:
        return Const(0, 0), ~bits[0]
    half = n // 2
    count_hi, zero_hi = _count_tree(m, bits[half:], f"{name}h")
    count_lo, zero_lo = _count_tree(m, bits[:half], f"{name}l")
    # Two children of log2(half) bits each give log2(n) bits: the upper half's count if it
    # holds a one, else half plus the lower half's count (the new MSB is the "upper is zero"
    # flag). One 2:1 mux per count bit per level, so the depth is log2(n) muxes.
    count = Signal(n.bit_length() - 1, name=f"{name}_count")
    zero = Signal(name=f"{name}_zero")
    m.d.comb += [
        count.eq(Mux(zero_hi, Cat(count_lo, Const(1, 1)), Cat(count_hi, Const(0, 1)))),
        zero.eq(zero_hi & zero_lo),
    ]
    return count, zero


class LeadingZeroCount(Component):
    """Count the zeros above the most significant one of ``value`` (combinational).

    The input is padded with zeros below its LSB to a power of two ``P`` and counted by a
    binary tree: each node merges the (count, all-zero) pairs of its two halves with one
    2:1 mux per count bit, so the logic depth is ``log2(P)`` muxes (not a chain of ``width``
    priority muxes). An all-zero input gives ``count == width``.

    Parameters
    ----------
    width : int
        Input width in bits, 1 to 4096.

    Members
    -------
    value : In(width)
        The unsigned bit pattern to count.
    count : Out(width.bit_length())
        Number of leading zeros, ``width - 1 - highest_bit(value)``; ``width`` when
        ``value == 0``.
    zero : Out(1)
        ``value == 0``.
    """

    def __init__(self, width):
        self._width = check_width("LeadingZeroCount", "width", width)
        super().__init__({
            "value": In(width),
            "count": Out(width.bit_length()),
            "zero": Out(1),
        })

    @property
    def width(self) -> int:
        """Input width in bits."""
        return self._width

    def describe(self) -> dict:
        """Parameters for the export sidecar and result rows."""
        return {"width": self._width}

    def elaborate(self, platform):
        m = Module()
        width = self._width
        padded_width = 1 << (width - 1).bit_length()
        # Zeros below the LSB do not move the leading one, so a nonzero value keeps its count.
        padded = Cat(Const(0, padded_width - width), self.value)
        count, zero = _count_tree(m, padded, "lzc")
        # An all-zero padded word counts padded_width - 1; report width instead.
        m.d.comb += [
            self.count.eq(Mux(zero, width, count)),
            self.zero.eq(zero),
        ]
        return m
