"""Exact multiplier: the product of two decoded operands as an exact term, never rounded."""

from amaranth.hdl import Module

from lowbit.errors import OperationError
from lowbit.hdl.component import Component
from lowbit.hdl.exact_term import term_members

OPERAND_PORTS = ("negative", "sig", "exp", "zero", "nan", "inf")


class ExactMultiplier(Component):
    """``(-1)**negative * sig * 2**exp = x * y`` exactly, with IEEE special rules (combinational).

    NaN when either operand is NaN (a posit NaR drives ``*_nan``) or for 0 x Inf; Inf when an
    operand is infinite otherwise. Signs xor, significands multiply (``x_width + y_width``
    bits), LSB exponents add.

    Parameters
    ----------
    x_width, y_width : int
        Operand significand widths in bits.
    x_exp, y_exp : (int, int)
        Ranges ``(min, max)`` of the operand LSB exponents.

    Members
    -------
    x_negative, x_sig, x_exp, x_zero, x_nan, x_inf ; y_... : In
        The decoded operands (as :class:`~lowbit.hdl.float_decoder.FloatDecoder` outputs).
    negative : Out(1), sig : Out(x_width + y_width), exp : Out(signed(k))
        The product; ``exp`` from ``exp_range[0]`` to ``exp_range[1]``.
    nan, inf : Out(1)
        The product is NaN, or infinite (of sign ``negative``).
    """

    def __init__(self, *, x_width, x_exp, y_width, y_exp):
        for name, (low, high) in (("x_exp", x_exp), ("y_exp", y_exp)):
            if high < low:
                raise OperationError(f"ExactMultiplier {name} range ({low}, {high}) is empty")
        self._widths = (x_width, y_width)
        self._exps = (tuple(x_exp), tuple(y_exp))
        members = {}
        for op, width, (low, high) in zip("xy", self._widths, self._exps):
            members.update(term_members("in", width, low, high, prefix=f"{op}_", zero=True))
        members.update(term_members("out", self.sig_width, *self.exp_range))
        super().__init__(members)

    @property
    def sig_width(self) -> int:
        """Width of the product significand in bits."""
        return sum(self._widths)

    @property
    def exp_range(self) -> tuple:
        """``(min, max)`` of the product's LSB exponent."""
        (xl, xh), (yl, yh) = self._exps
        return xl + yl, xh + yh

    def describe(self) -> dict:
        """Parameters for the export sidecar and result rows."""
        return {"x_width": self._widths[0], "x_exp": list(self._exps[0]),
                "y_width": self._widths[1], "y_exp": list(self._exps[1])}

    def elaborate(self, platform):
        m = Module()
        nan = (self.x_nan | self.y_nan | (self.x_inf & self.y_zero)
               | (self.x_zero & self.y_inf))
        m.d.comb += [
            self.negative.eq(self.x_negative ^ self.y_negative),
            self.sig.eq(self.x_sig * self.y_sig),
            self.exp.eq(self.x_exp + self.y_exp),
            self.nan.eq(nan),
            self.inf.eq((self.x_inf | self.y_inf) & ~nan),
        ]
        return m

    def connect(self, op: str, decoder) -> list:
        """Statements driving operand ``op`` ("x" or "y") from a float or posit decoder."""
        nan = decoder.nan if hasattr(decoder, "nan") else decoder.nar  # posits: NaR
        inf = decoder.inf if hasattr(decoder, "inf") else 0  # posits have no infinity
        sources = {"negative": decoder.negative, "sig": decoder.sig, "exp": decoder.exp,
                   "zero": decoder.zero, "nan": nan, "inf": inf}
        return [getattr(self, f"{op}_{name}").eq(sources[name]) for name in OPERAND_PORTS]
