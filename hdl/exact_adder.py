"""Exact adder: the sum of two exact values, exact up to one jammed sticky bit.

The hardware form of :func:`lowbit.golden.arith.add_exact_values`, sized so that a following
:class:`~lowbit.hdl.float_encoder.FloatEncoder` of precision ``p`` rounds it correctly: both
operands are normalized (shared :class:`~lowbit.hdl.normalizer.Normalizer`), the one with the
higher leading one is placed at the top of a ``W``-bit window and the other shifted right into
it with a :class:`~lowbit.hdl.sticky_shift.StickyShift`. With ``W >= p + 3`` and ``W`` one bit
wider than either operand, bits are only jammed when the operands' leading ones are at least
two apart, so the sum keeps its leading one within one bit of the window top and the sticky bit
stays below the round bit: the rounding is exact.
"""

from amaranth.hdl import Cat, Const, Module, Mux, Signal, signed

from lowbit.errors import OperationError
from lowbit.hdl.component import Component
from lowbit.hdl.exact_term import signed_width, term_members
from lowbit.hdl.leading_zeros import check_width
from lowbit.hdl.normalizer import Normalizer
from lowbit.hdl.sticky_shift import StickyShift


class ExactAdder(Component):
    """``sum = x + y`` for exact operands ``(-1)**negative * sig * 2**exp`` (combinational).

    Parameters
    ----------
    x_width, y_width : int
        Significand widths of the operands in bits.
    x_exp, y_exp : (int, int)
        Ranges ``(min, max)`` of the operands' LSB exponents.
    precision : int
        Significand bits of the format the sum will be rounded into (sets the window).
    negative_zero : bool
        An exact zero sum of operands of opposite signs is -0 (rounding toward -infinity)
        instead of +0.

    Members
    -------
    x_negative, x_sig, x_exp, x_nan, x_inf ; y_... : In
        The operands (``*_inf``: an infinity of sign ``*_negative``; NaN wins).
    negative : Out(1), sig : Out(sig_width), exp : Out(signed(k))
        The sum (sign of the infinity when ``inf``); ``exp`` is the weight of ``sig``'s LSB.
    nan, inf : Out(1)
        NaN (a NaN operand, or +Inf plus -Inf), or infinite.
    """

    def __init__(self, *, x_width, x_exp, y_width, y_exp, precision, negative_zero=False):
        for name, width in (("x_width", x_width), ("y_width", y_width), ("precision", precision)):
            check_width("ExactAdder", name, width)
        for name, (low, high) in (("x_exp", x_exp), ("y_exp", y_exp)):
            if high < low:
                raise OperationError(f"ExactAdder {name} range ({low}, {high}) is empty")
        self._widths = (x_width, y_width)
        self._exps = (tuple(x_exp), tuple(y_exp))
        self._precision, self._negative_zero = precision, bool(negative_zero)
        self._window = max(precision + 3, x_width + 1, y_width + 1)
        # Leading-one exponents, a zero operand counting one below its LSB.
        leads = [(low - 1, high + w - 1) for w, (low, high) in zip(self._widths, self._exps)]
        self._lead_range = (min(lo for lo, _ in leads), max(hi for _, hi in leads))
        members = {}
        for op, width, (low, high) in zip("xy", self._widths, self._exps):
            members.update(term_members("in", width, low, high, prefix=f"{op}_"))
        members.update(term_members("out", self.sig_width, *self.exp_range))
        super().__init__(members)

    @property
    def sig_width(self) -> int:
        """Width of the sum's ``sig``: the window plus a carry bit."""
        return self._window + 1

    @property
    def exp_range(self) -> tuple:
        """``(min, max)`` of the sum's LSB exponent."""
        low, high = self._lead_range
        return low - self._window + 1, high - self._window + 1

    def describe(self) -> dict:
        """Parameters for the export sidecar and result rows."""
        return {"x_width": self._widths[0], "x_exp": list(self._exps[0]),
                "y_width": self._widths[1], "y_exp": list(self._exps[1]),
                "precision": self._precision, "negative_zero": self._negative_zero}

    def elaborate(self, platform):
        m = Module()
        window = self._window
        low, high = self._lead_range
        lead_shape = signed(signed_width(min(low, low - high), max(high, high - low)))
        ops = {}
        for op, width in zip("xy", self._widths):
            norm = Normalizer(width)
            m.submodules[f"norm_{op}"] = norm
            lead = Signal(lead_shape, name=f"{op}_lead")
            placed = Signal(window, name=f"{op}_placed")
            m.d.comb += [
                norm.value.eq(getattr(self, f"{op}_sig")),
                lead.eq(getattr(self, f"{op}_exp") + (width - 1) - norm.shift),
                placed.eq(Cat(Const(0, window - width), norm.normalized)),
            ]
            ops[op] = (norm.zero, lead, placed, getattr(self, f"{op}_negative"))
        (x_zero, x_lead, x_placed, x_neg), (y_zero, y_lead, y_placed, y_neg) = ops["x"], ops["y"]

        x_big = Signal()
        m.d.comb += x_big.eq(y_zero | (~x_zero & (x_lead >= y_lead)))
        big_lead = Mux(x_big, x_lead, y_lead)
        distance = Signal(lead_shape)
        small_zero = Mux(x_big, y_zero, x_zero)
        m.d.comb += distance.eq(Mux(small_zero, 0, Mux(x_big, x_lead - y_lead, y_lead - x_lead)))
        m.submodules.align = align = StickyShift(window, max_amount=window + 1)
        m.d.comb += [
            align.value.eq(Mux(x_big, y_placed, x_placed)),
            align.amount.eq(Mux(distance > window + 1, window + 1, distance)),
        ]
        big = Mux(x_big, x_placed, y_placed)
        big_neg, small_neg = Mux(x_big, x_neg, y_neg), Mux(x_big, y_neg, x_neg)
        same = Signal()
        m.d.comb += same.eq(x_neg == y_neg)
        total = Signal(signed(window + 2))
        m.d.comb += total.eq(Mux(same, big + align.shifted, big - align.shifted))
        # A negative difference only happens with equal leading ones (nothing jammed): exact.
        flipped = Signal()
        m.d.comb += flipped.eq(total < 0)
        zero_sum = Signal()
        m.d.comb += zero_sum.eq(total == 0)
        sum_negative = Mux(zero_sum,
                           (x_zero & y_zero & x_neg & y_neg) | (self._negative_zero & ~same),
                           Mux(flipped, small_neg, big_neg))

        nan = Signal()
        inf = Signal()
        m.d.comb += [
            nan.eq(self.x_nan | self.y_nan | (self.x_inf & self.y_inf & ~same)),
            inf.eq((self.x_inf | self.y_inf) & ~nan),
        ]
        m.d.comb += [
            self.sig.eq(Mux(flipped, -total, total)),
            self.exp.eq(big_lead - (window - 1)),
            self.negative.eq(Mux(self.x_inf | self.y_inf, Mux(self.x_inf, x_neg, y_neg),
                                 sum_negative)),
            self.nan.eq(nan),
            self.inf.eq(inf),
        ]
        return m
