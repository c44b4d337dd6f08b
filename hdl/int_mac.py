"""Integer / fixed-point multiply-accumulate unit with a FixedAccumulator register."""

from amaranth.hdl import Module, Mux, Signal, signed

from lowbit.errors import OperationError
from lowbit.golden.accumulators import FixedAccumulator
from lowbit.hdl.mac_unit import MacUnit
from lowbit.hdl.pipeline import Pipeline


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
    stages : int
        Register stages (:mod:`lowbit.hdl.pipeline`), 1 to 3, latency ``stages``. Cut points
        in order: ``product`` (the product registered before the add into the register),
        ``partial_products`` (the multiplier split in two: ``a = a_hi 2**k + a_lo`` with
        ``k = a_fmt.bits // 2``, the products ``a_hi b`` and ``a_lo b`` registered, summed in
        the next stage).
    fault : str, optional
        A deliberate pipeline bug (:data:`lowbit.hdl.pipeline.FAULTS`), proof tests only.

    Members
    -------
    The :class:`~lowbit.hdl.mac_unit.MacUnit` ports (latency ``stages``); ``acc`` is
    ``Out(signed(int_bits + frac_bits))``, the register, a code of ``acc.out_fmt``.
    """

    CUTS = ("product", "partial_products")
    """Cut points in order of use (:mod:`lowbit.hdl.pipeline`)."""

    def __init__(self, a_fmt, b_fmt, *, acc, chained=False, stages=1, fault=None):
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
        pipeline = Pipeline("IntMac", stages, self.CUTS, fault)
        super().__init__(a_fmt, b_fmt, acc, signed(self._width), chained=chained,
                         pipeline=pipeline)

    def describe(self) -> dict:
        """Parameters for the export sidecar and result rows."""
        return {**super().describe(),
                "acc": {"kind": "fixed", "int_bits": self._acc.int_bits,
                        "frac_bits": self._acc.frac_bits, "overflow": self._acc.overflow}}

    def elaborate(self, platform):
        m = Module()
        pipe = self._pipeline
        a = self.a.as_signed() if self._a_fmt.signed else self.a
        b = self.b.as_signed() if self._b_fmt.signed else self.b
        valid, clear = self.valid, self.clear
        width = self._width
        product = Signal(signed(self._a_fmt.bits + self._b_fmt.bits + 1))
        if pipe.has("partial_products"):
            k = self._a_fmt.bits // 2
            a_low = self.a[:k]  # unsigned
            a_high = self.a[k:].as_signed() if self._a_fmt.signed else self.a[k:]
            valid, (clear, low, high) = pipe.register(m, "partial_products", valid,
                                                      [clear, a_low * b, a_high * b])
            m.d.comb += product.eq((high << k) + low)
        else:
            m.d.comb += product.eq(a * b)
        if pipe.has("product"):
            valid, (clear, product) = pipe.register(m, "product", valid, [clear, product])
        total = Signal(signed(width + 2))
        start = self.acc_in if self.chained else self.acc
        m.d.comb += total.eq(Mux(clear, 0, start) + product)
        if self._acc.overflow == "wrap":
            result = total[:width].as_signed()
        else:
            top, bottom = (1 << (width - 1)) - 1, -(1 << (width - 1))
            result = Mux(total > top, top, Mux(total < bottom, bottom, total))
        with m.If(valid):
            m.d.sync += self.acc.eq(result)
        pipe.out_valid(m, valid, self.out_valid)
        return m

