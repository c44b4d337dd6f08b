"""Integer / fixed-point multiply-accumulate unit with a FixedAccumulator register."""

from amaranth.hdl import Module, Mux, Signal, signed

from lowbit.errors import OperationError
from lowbit.golden.accumulators import FixedAccumulator
from lowbit.hdl.mac_unit import MacUnit


class IntMac(MacUnit):
    """``acc <= (clear ? 0 : acc) + a * b`` on every cycle with ``valid``; one op per cycle.

    Parameters
    ----------
    a_fmt, b_fmt : IntFormat or FixedFormat
        Operand formats, 2..16 bits, signed or unsigned.
    acc : FixedAccumulator
        The register: ``int_bits + frac_bits`` bits, two's complement, ``frac_bits`` equal to
        the product's (``a_fmt.frac_bits + b_fmt.frac_bits``: products are never rounded), wide
        enough for one product; ``wrap`` keeps the low bits, ``saturate`` clamps every sum.
    chained : bool
        Add to ``acc_in`` instead of the register (see :class:`~lowbit.hdl.mac_unit.MacUnit`).

    Members
    -------
    The :class:`~lowbit.hdl.mac_unit.MacUnit` ports (latency 1); ``acc`` is
    ``Out(signed(int_bits + frac_bits))``, the register, a code of ``acc.out_fmt``.
    """

    def __init__(self, a_fmt, b_fmt, *, acc, chained=False):
        for fmt, what in ((a_fmt, "a_fmt"), (b_fmt, "b_fmt")):
            if getattr(fmt, "kind", None) not in ("int", "fixed"):
                raise OperationError(f"IntMac {what} must be an IntFormat or FixedFormat, not "
                                     f"{getattr(fmt, 'name', fmt)!r}")
            if not 2 <= fmt.bits <= 16:
                raise OperationError(f"IntMac {what} must have 2 to 16 bits, not {fmt.bits}")
        if not isinstance(acc, FixedAccumulator):
            raise OperationError(f"IntMac acc must be an integer or fixed-point register (int32, "
                                 f"fixed28_4, ...), not {getattr(acc, 'name', acc)!r}")
        product_frac = a_fmt.frac_bits + b_fmt.frac_bits
        if acc.frac_bits != product_frac:
            raise OperationError(f"IntMac acc frac_bits must equal the product's {product_frac} "
                                 f"(products are not rounded), not {acc.frac_bits}")
        acc.check_operands(a_fmt, b_fmt)
        self._width = acc.int_bits + acc.frac_bits
        super().__init__(a_fmt, b_fmt, acc, signed(self._width), chained=chained)

    def describe(self) -> dict:
        """Parameters for the export sidecar and result rows."""
        return {**super().describe(),
                "acc": {"kind": "fixed", "int_bits": self._acc.int_bits,
                        "frac_bits": self._acc.frac_bits, "overflow": self._acc.overflow}}

    def elaborate(self, platform):
        m = Module()
        a = self.a.as_signed() if self._a_fmt.signed else self.a
        b = self.b.as_signed() if self._b_fmt.signed else self.b
        width = self._width
        product = Signal(signed(self._a_fmt.bits + self._b_fmt.bits + 1))
        m.d.comb += product.eq(a * b)
        total = Signal(signed(width + 2))
        start = self.acc_in if self.chained else self.acc
        m.d.comb += total.eq(Mux(self.clear, 0, start) + product)
        if self._acc.overflow == "wrap":
            result = total[:width].as_signed()
        else:
            top, bottom = (1 << (width - 1)) - 1, -(1 << (width - 1))
            result = Mux(total > top, top, Mux(total < bottom, bottom, total))
        with m.If(self.valid):
            m.d.sync += self.acc.eq(result)
        m.d.sync += self.out_valid.eq(self.valid)
        return m

