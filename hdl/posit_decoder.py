"""Posit decoder: a posit code as an exact term (sign, significand, LSB exponent) plus flags.

Mirrors ``PositFormat._decode``: the sign is the code's MSB and the magnitude is the two's
complement of the whole word; the regime is the run of identical bits at the top of the body,
measured by a leading-zero count of the body (or of its complement when the run is of ones);
exponent bits cut off by the regime read as zero. Every posit unit (PositMac's operands)
decodes through it.
"""

import numpy as np
from amaranth.hdl import Cat, Const, Module, Mux, Signal, signed
from amaranth.lib.wiring import In, Out

from lowbit.errors import OperationError
from lowbit.golden.formats import PositFormat
from lowbit.hdl.component import Component
from lowbit.hdl.exact_term import signed_width
from lowbit.hdl.leading_zeros import LeadingZeroCount

MIN_BITS, MAX_BITS = 2, 32
"""The posit widths ``n`` the posit units support: every width golden's PositFormat allows."""


def check_posit_format(component: str, fmt) -> PositFormat:
    """Return ``fmt`` if it is a PositFormat the posit units support; raise OperationError.

    The message names the component, e.g. ``"PositDecoder fmt must be a PositFormat, not
    'int8'"``.
    """
    if not isinstance(fmt, PositFormat):
        raise OperationError(f"{component} fmt must be a PositFormat, not "
                             f"{getattr(fmt, 'name', fmt)!r}")
    if not MIN_BITS <= fmt.n <= MAX_BITS:
        raise OperationError(f"{component} supports posits of {MIN_BITS} to {MAX_BITS} bits, "
                             f"not {fmt.name} with n = {fmt.n}")
    return fmt


def posit_exp_range(fmt: PositFormat) -> tuple:
    """Return ``(exp_min, exp_max)``, the range of :class:`PositDecoder`'s ``exp`` for ``fmt``.

    ``exp_min = log2(minpos)`` and ``exp_max = log2(maxpos) - max_fraction_bits``; both are
    read from golden's decoding of the minpos and maxpos codes (powers of two).
    """
    ends = fmt.to_exact(np.array([1, fmt.max_code], dtype=np.uint64))  # compact: sig == 1
    return int(ends.exp[0]), int(ends.exp[1]) - fmt.max_fraction_bits


class PositDecoder(Component):
    """Decode a code of ``fmt`` into ``(-1)**negative * sig * 2**exp`` plus zero and NaR flags.

    Combinational. ``sig`` has ``fmt.significand_bits`` bits (``max_fraction_bits`` fraction
    bits below the hidden one) and ``exp`` is the weight of its LSB. The hidden bit is ``sig``'s
    MSB, except for values less than ``2**max_fraction_bits`` times minpos: there ``sig`` is
    shifted right (dropping fraction bits that are zero in every such posit) so that ``exp``
    never goes below ``log2(minpos)``. A product of two decoded terms is then a whole multiple
    of the quire's LSB ``minpos**2``, and its exponent range is exactly what the quire holds.

    Parameters
    ----------
    fmt : PositFormat
        Any golden posit ``(n, es)`` with 2 to 32 bits.

    Members
    -------
    code : In(n)
        The posit code.
    negative : Out(1)
        Sign: the code's MSB (1 for NaR too).
    sig : Out(significand_bits)
        Significand with its hidden bit; 0 for zero and NaR.
    exp : Out(signed(k))
        Weight of ``sig``'s LSB as a power of two, from :attr:`exp_min` to :attr:`exp_max`.
    zero, nar : Out(1)
        The code is 0; the code is NaR (``100...0``).
    """

    def __init__(self, fmt):
        self._fmt = check_posit_format("PositDecoder", fmt)
        self._exp_min, self._exp_max = posit_exp_range(fmt)
        super().__init__({
            "code": In(fmt.n),
            "negative": Out(1),
            "sig": Out(fmt.significand_bits),
            "exp": Out(signed(signed_width(self._exp_min, self._exp_max))),
            "zero": Out(1), "nar": Out(1),
        })

    @property
    def fmt(self):
        """The decoded format."""
        return self._fmt

    @property
    def sig_width(self) -> int:
        """Width of ``sig`` in bits: ``fmt.significand_bits``."""
        return self._fmt.significand_bits

    @property
    def exp_min(self) -> int:
        """Smallest ``exp``: ``log2(minpos)``."""
        return self._exp_min

    @property
    def exp_max(self) -> int:
        """Largest ``exp``: that of maxpos, ``log2(maxpos) - max_fraction_bits``."""
        return self._exp_max

    def describe(self) -> dict:
        """Parameters for the export sidecar and result rows."""
        return {"fmt": self._fmt.to_dict()}

    def elaborate(self, platform):
        m = Module()
        fmt = self._fmt
        n, es, frac_bits = fmt.n, fmt.es, fmt.max_fraction_bits
        body_bits = n - 1
        magnitude = Signal(n)
        m.d.comb += magnitude.eq(Mux(self.code[-1], -self.code, self.code))  # mod 2**n
        body = magnitude[:body_bits]
        ones = body[-1]  # a regime of ones: k >= 0
        # The run length is the leading-zero count of the body, or of its complement for a run
        # of ones; a run filling the whole body counts body_bits.
        m.submodules.regime = lzc = LeadingZeroCount(body_bits)
        m.d.comb += lzc.value.eq(Mux(ones, ~body, body))
        run = lzc.count
        k = Signal(signed(signed_width(-body_bits, body_bits - 1)))
        m.d.comb += k.eq(Mux(ones, run - 1, -run))
        # The bits after the regime's terminator, left-aligned; zeros fill what the regime cut
        # off (and, for a wide es, exponent bits the word never had).
        tail = Signal(body_bits)
        m.d.comb += tail.eq((body << (run + 1))[:body_bits])
        pad = max(es + frac_bits - body_bits, 0)
        field = Cat(Const(0, pad), tail)
        top = len(field) - es
        scale = Signal(signed(len(k) + es))  # log2 of the hidden bit's weight
        m.d.comb += scale.eq(Cat(field[top:], k).as_signed() if es else k)
        hidden_sig = Cat(field[top - frac_bits:top], Const(1, 1))
        # Below 2**frac_bits * minpos the posit has fewer fraction bits than frac_bits; the
        # missing ones are zero, so shifting them out is exact and keeps exp >= log2(minpos).
        lsb = Signal(signed(len(scale) + 1))
        m.d.comb += lsb.eq(scale - frac_bits)
        below = Signal()
        drop = Signal(range(fmt.useed_log2 + frac_bits + 1))  # the zero code reaches the top
        m.d.comb += [
            below.eq(lsb < self._exp_min),
            drop.eq(Mux(below, self._exp_min - lsb, 0)),
        ]
        special = Signal()
        m.d.comb += [
            special.eq(self.zero | self.nar),
            self.zero.eq(self.code == 0),
            self.nar.eq(self.code == fmt.nar_code),
            self.negative.eq(self.code[-1]),
            self.sig.eq(Mux(special, 0, hidden_sig >> drop)),
            self.exp.eq(Mux(below, self._exp_min, lsb)),
        ]
        return m
