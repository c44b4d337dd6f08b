"""Sticky right shift: align a magnitude to the right, ORing lost bits into its LSB ("jamming").

The hardware form of :func:`lowbit.golden.exact.shift_jam` for right shifts; the float adder and
the float encoder use it wherever bits fall below a rounding position.
"""

from amaranth.hdl import Const, Module, Mux, Signal
from amaranth.lib.wiring import In, Out

from lowbit.hdl.component import Component
from lowbit.hdl.leading_zeros import check_width


class StickyShift(Component):
    """``shifted = (value >> amount) | (bits shifted out != 0)`` (combinational).

    Parameters
    ----------
    width : int
        Width of ``value`` and ``shifted`` in bits, 2 to 4096.
    max_amount : int
        Largest ``amount`` the port holds; amounts of ``width`` and more leave only the sticky
        bit.

    Members
    -------
    value : In(width)
        The unsigned magnitude.
    amount : In(range(max_amount + 1))
        Right shift in bits.
    shifted : Out(width)
        The shifted magnitude with the sticky bit ORed into bit 0.
    """

    def __init__(self, width, *, max_amount):
        self._width = check_width("StickyShift", "width", width, low=2)
        self._max_amount = check_width("StickyShift", "max_amount", max_amount)
        super().__init__({
            "value": In(width),
            "amount": In(range(max_amount + 1)),
            "shifted": Out(width),
        })

    def describe(self) -> dict:
        """Parameters for the export sidecar and result rows."""
        return {"width": self._width, "max_amount": self._max_amount}

    def elaborate(self, platform):
        m = Module()
        width = self._width
        lost_mask = Signal(width)
        in_range = Signal()
        short = Signal(range(width))  # the amount when in range: keeps the shifters narrow
        m.d.comb += [in_range.eq(self.amount < width), short.eq(self.amount)]
        # Low `amount` bits set; every bit when the whole value is shifted out.
        m.d.comb += lost_mask.eq(Mux(in_range, (Const(1, width + 1) << short) - 1,
                                     (1 << width) - 1))
        sticky = (self.value & lost_mask).any()
        m.d.comb += self.shifted.eq(Mux(in_range, self.value >> short, 0) | sticky)
        return m
