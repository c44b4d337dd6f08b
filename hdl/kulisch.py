"""Kulisch accumulator: a wide two's complement register summing exact terms without rounding.

Used for FloatMac with an :class:`~lowbit.golden.accumulators.ExactAccumulator`, for the posit
quire (:class:`~lowbit.golden.accumulators.Quire`) and for MX block sums. It mirrors
:func:`lowbit.golden.exact.exact_sum`: NaN if any term is NaN or +Inf meets -Inf, +-Inf if any
term is infinite, and an exact zero sum is -0 only when every term was -0.
"""

from amaranth.hdl import Module, Mux, Signal, signed
from amaranth.lib.wiring import In, Out

from lowbit.errors import OperationError, check_int
from lowbit.hdl.component import Component
from lowbit.hdl.exact_term import term_members
from lowbit.hdl.leading_zeros import MAX_WIDTH


def kulisch_width(term_sig_width: int, term_exp_min: int, term_exp_max: int,
                  terms: int) -> int:
    """Register bits that sum ``terms`` terms exactly: term span, carries and a sign bit."""
    span = term_exp_max + term_sig_width - term_exp_min
    return span + max(terms - 1, 1).bit_length() + 1


class KulischAccumulator(Component):
    """``value <= (clear ? 0 : value) + (-1)**term_negative * term_sig * 2**(term_exp - lsb_exp)``.

    One term per cycle with ``valid``; the register wraps modulo ``2**width`` (size it with
    :func:`kulisch_width` for the number of terms to be exact).

    Parameters
    ----------
    term_sig_width : int
        Width of ``term_sig`` in bits.
    term_exp_min, term_exp_max : int
        Range of ``term_exp``, the weight of ``term_sig``'s LSB.
    width : int
        Register width in bits (two's complement), at most 4096.
    lsb_exp : int, optional
        Weight of the register's LSB; default ``term_exp_min`` (the finest term), never above it.

    Members
    -------
    valid, clear : In(1)
        Add the term this cycle; with ``valid``, start a new sum with it.
    term_negative : In(1), term_sig : In(term_sig_width), term_exp : In(signed(k))
        The exact term.
    term_nan, term_inf : In(1)
        The term is NaN, or an infinity of sign ``term_negative``.
    value : Out(signed(width))
        The register: the sum in units of ``2**lsb_exp``.
    nan, inf, inf_negative : Out(1)
        The sum is NaN; is infinite, with sign ``inf_negative``.
    negative_zero : Out(1)
        Every term since the clear was -0 (an exact zero sum is then -0).
    """

    def __init__(self, term_sig_width, term_exp_min, term_exp_max, *, width, lsb_exp=None):
        check_int("KulischAccumulator term_sig_width", term_sig_width, 1, MAX_WIDTH,
                  OperationError)
        if term_exp_max < term_exp_min:
            raise OperationError(f"KulischAccumulator term_exp_max {term_exp_max} is below "
                                 f"term_exp_min {term_exp_min}")
        lsb_exp = term_exp_min if lsb_exp is None else lsb_exp
        if lsb_exp > term_exp_min:
            raise OperationError(f"KulischAccumulator lsb_exp {lsb_exp} is above the finest "
                                 f"term weight {term_exp_min}: terms would be rounded")
        need = term_exp_max + term_sig_width - lsb_exp + 1
        check_int("KulischAccumulator width", width, need, MAX_WIDTH, OperationError)
        self._term = (term_sig_width, term_exp_min, term_exp_max)
        self._width, self._lsb_exp = width, lsb_exp
        super().__init__({
            "valid": In(1), "clear": In(1),
            **term_members("in", term_sig_width, term_exp_min, term_exp_max, prefix="term_"),
            "value": Out(signed(width)),
            "nan": Out(1), "inf": Out(1), "inf_negative": Out(1), "negative_zero": Out(1),
        })

    @property
    def width(self) -> int:
        """Register width in bits."""
        return self._width

    @property
    def lsb_exp(self) -> int:
        """Weight of the register's LSB (``value`` is in units of ``2**lsb_exp``)."""
        return self._lsb_exp

    def describe(self) -> dict:
        """Parameters for the export sidecar and result rows."""
        sig_width, exp_min, exp_max = self._term
        return {"term_sig_width": sig_width, "term_exp_min": exp_min, "term_exp_max": exp_max,
                "width": self._width, "lsb_exp": self._lsb_exp}

    def elaborate(self, platform):
        m = Module()
        _, exp_min, exp_max = self._term
        width = self._width
        # Variable part of the alignment: 0 .. exp_max - exp_min; the rest is a fixed shift.
        # (None for a single term exponent: a 0-bit signal becomes an invalid `wire [-1:0]`.)
        aligned = Signal(width)
        if exp_max > exp_min:
            offset = Signal(range(exp_max - exp_min + 1))
            m.d.comb += [offset.eq(self.term_exp - exp_min),
                         aligned.eq((self.term_sig << offset) << (exp_min - self._lsb_exp))]
        else:
            m.d.comb += aligned.eq(self.term_sig << (exp_min - self._lsb_exp))
        live = Signal()
        m.d.comb += live.eq(~self.term_nan & ~self.term_inf)
        addend = Signal(signed(width))
        m.d.comb += addend.eq(Mux(live, Mux(self.term_negative, -aligned, aligned), 0))
        base = Mux(self.clear, 0, self.value)
        pos_inf = Signal()
        neg_inf = Signal()
        was_nan = Signal()
        was_neg_zero = Signal()
        m.d.comb += [
            pos_inf.eq(~self.clear & self.inf & ~self.inf_negative),
            neg_inf.eq(~self.clear & self.inf & self.inf_negative),
            was_nan.eq(~self.clear & self.nan),
            was_neg_zero.eq(self.clear | self.negative_zero),
        ]
        term_pos_inf = self.term_inf & ~self.term_negative & ~self.term_nan
        term_neg_inf = self.term_inf & self.term_negative & ~self.term_nan
        any_pos = pos_inf | term_pos_inf
        any_neg = neg_inf | term_neg_inf
        term_neg_zero = self.term_negative & (self.term_sig == 0) & live
        nan = Signal()
        m.d.comb += nan.eq(was_nan | self.term_nan | (any_pos & any_neg))
        with m.If(self.valid):
            m.d.sync += [
                self.value.eq(base + addend),
                self.nan.eq(nan),
                self.inf.eq((any_pos | any_neg) & ~nan),
                self.inf_negative.eq(any_neg),
                self.negative_zero.eq(was_neg_zero & term_neg_zero),
            ]
        return m
