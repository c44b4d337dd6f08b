"""Normalizer: shift a magnitude left until its leading one is at the MSB."""

from amaranth.hdl import Module
from amaranth.lib.wiring import In, Out

from lowbit.hdl.component import Component
from lowbit.hdl.leading_zeros import LeadingZeroCount, check_width


class Normalizer(Component):
    """Shift ``value`` left by its leading-zero count (combinational).

    The count comes from a :class:`~lowbit.hdl.leading_zeros.LeadingZeroCount` submodule; the
    shift is a barrel shifter of ``width.bit_length()`` stages. A zero input gives
    ``normalized == 0`` and ``shift == width``.

    Parameters
    ----------
    width : int
        Input and output width in bits, 1 to 4096.

    Members
    -------
    value : In(width)
        The unsigned magnitude.
    normalized : Out(width)
        ``(value << shift) mod 2**width``: bit ``width - 1`` is 1 unless ``value == 0``.
    shift : Out(width.bit_length())
        The left shift applied, the leading-zero count of ``value`` (``width`` for 0).
    zero : Out(1)
        ``value == 0``.
    """

    def __init__(self, width):
        self._width = check_width("Normalizer", "width", width)
        super().__init__({
            "value": In(width),
            "normalized": Out(width),
            "shift": Out(width.bit_length()),
            "zero": Out(1),
        })

    @property
    def width(self) -> int:
        """Input and output width in bits."""
        return self._width

    def describe(self) -> dict:
        """Parameters for the export sidecar and result rows."""
        return {"width": self._width}

    def elaborate(self, platform):
        m = Module()
        m.submodules.lzc = lzc = LeadingZeroCount(self._width)
        m.d.comb += [
            lzc.value.eq(self.value),
            self.shift.eq(lzc.count),
            self.zero.eq(lzc.zero),
            # The shifted value is wider than width; keep its low width bits explicitly.
            self.normalized.eq((self.value << lzc.count)[:self._width]),
        ]
        return m
