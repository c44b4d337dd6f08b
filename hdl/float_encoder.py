"""Float encoder: round an exact (sign, magnitude, exponent) value into a FloatFormat code.

The hardware form of ``FloatFormat.round_exact`` followed by an accumulator's NaN rule
(:meth:`lowbit.golden.accumulators._Accumulator.reduce`: every NaN is the canonical NaN code):
normalization limited at the subnormal boundary (a sticky right shift when the value lies below
it), the shared :class:`~lowbit.hdl.rounder.Rounder`, then overflow per the format's policy
(IEEE 7.4 directions for ``inf``, ``saturate``, ``nan``).
"""

from amaranth.hdl import Cat, Const, Module, Mux, Signal, signed
from amaranth.lib.wiring import In, Out

from lowbit.errors import OperationError, check_choice
from lowbit.golden.rounding import check_rounding
from lowbit.hdl.component import Component
from lowbit.hdl.exact_term import signed_width
from lowbit.hdl.leading_zeros import LeadingZeroCount, check_width
from lowbit.hdl.rounder import DETERMINISTIC_MODES, Rounder, RoundingMode
from lowbit.hdl.sticky_shift import StickyShift


def check_result_format(unit: str, fmt):
    """Raise unless ``fmt`` is a float format the encoder produces: signed, with zero,
    subnormals, NaN and at least one mantissa bit (fp32, fp16, bf16, fp8, ...)."""
    if getattr(fmt, "kind", None) != "float":
        raise OperationError(f"{unit} result format must be a FloatFormat, not "
                             f"{getattr(fmt, 'name', fmt)!r}")
    missing = [what for what, ok in (("a sign bit", fmt.signed), ("zero", fmt.zero),
                                     ("subnormals", fmt.subnormals), ("NaN", fmt.nan),
                                     ("a mantissa bit", fmt.man_bits > 0)) if not ok]
    if missing:
        raise OperationError(f"{unit} result format {fmt.name} lacks {', '.join(missing)}; "
                             f"supported: signed float formats with zero, subnormals and NaN "
                             f"such as fp32, fp16, bf16, fp8_e4m3, fp8_e5m2")


class FloatEncoder(Component):
    """``code = fmt.round_exact((-1)**negative * sig * 2**exp, rounding, overflow)`` (combinational).

    A NaN result (NaN input, or overflow under the ``nan`` policy) is the canonical NaN code;
    an infinite input follows the overflow policy as in golden; a zero ``sig`` gives a zero of
    sign ``negative``.

    Parameters
    ----------
    fmt : FloatFormat
        Result format: signed, with zero, subnormals and NaN (see :func:`check_result_format`).
    sig_width : int
        Width of ``sig`` in bits (it may have any number of leading zeros), 1 to 4096.
    exp_min, exp_max : int
        Range of ``exp``, the weight of ``sig``'s LSB.
    rounding : str
        A deterministic golden rounding mode (``rne`` default).
    overflow : str, optional
        ``inf``, ``saturate`` or ``nan`` as the format allows; default the format's.

    Members
    -------
    negative : In(1), sig : In(sig_width), exp : In(signed(k))
        The exact value.
    nan, inf : In(1)
        The value is NaN (wins), or an infinity of sign ``negative``.
    code : Out(fmt.bits)
        The rounded code.
    """

    def __init__(self, fmt, *, sig_width, exp_min, exp_max, rounding="rne", overflow=None):
        check_result_format("FloatEncoder", fmt)
        check_width("FloatEncoder", "sig_width", sig_width)
        if exp_max < exp_min:
            raise OperationError(f"FloatEncoder exp_max {exp_max} is below exp_min {exp_min}")
        check_rounding(rounding)
        check_choice("FloatEncoder rounding", rounding, DETERMINISTIC_MODES, OperationError)
        overflow = fmt.default_overflow if overflow is None else overflow
        check_choice(f"overflow for {fmt.name}", overflow, fmt.overflow_policies, OperationError)
        self._fmt, self._rounding, self._overflow = fmt, rounding, overflow
        self._sig_width, self._exp_range = sig_width, (exp_min, exp_max)
        super().__init__({
            "negative": In(1), "sig": In(sig_width),
            "exp": In(signed(signed_width(exp_min, exp_max))),
            "nan": In(1), "inf": In(1),
            "code": Out(fmt.bits),
        })

    def describe(self) -> dict:
        """Parameters for the export sidecar and result rows."""
        return {"fmt": self._fmt.to_dict(), "sig_width": self._sig_width,
                "exp_min": self._exp_range[0], "exp_max": self._exp_range[1],
                "rounding": self._rounding, "overflow": self._overflow}

    def elaborate(self, platform):
        m = Module()
        fmt = self._fmt
        man = fmt.man_bits
        emin = 1 - fmt.bias
        exp_min, exp_max = self._exp_range
        # Work on at least man + 3 bits so a sticky right shift stays below the round bit.
        width = max(self._sig_width, man + 3)
        pad = width - self._sig_width
        sig = Signal(width)
        m.d.comb += sig.eq(Cat(Const(0, pad), self.sig) if pad else self.sig)
        top_lo, top_hi = exp_min - pad + width - 1, exp_max - pad + width - 1
        # t: exponent of bit width-1 relative to the smallest normal exponent.
        t = Signal(signed(signed_width(top_lo - emin, top_hi - emin)))
        m.d.comb += t.eq(self.exp + (width - 1 - pad - emin))

        m.submodules.lzc = lzc = LeadingZeroCount(width)
        m.d.comb += lzc.value.eq(sig)
        # Left shift by the leading-zero count, but not below the smallest normal exponent;
        # a value whose top bit already lies below it shifts right (sticky) instead.
        left = Signal(range(width + 1))
        m.d.comb += left.eq(Mux(t < lzc.count, Mux(t < 0, 0, t), lzc.count))
        right_max = max(emin - top_lo, 0)
        aligned = Signal(width)
        if right_max:
            m.submodules.down = down = StickyShift(width, max_amount=min(right_max, width + 1))
            amount = Mux(-t > width + 1, width + 1, -t)
            m.d.comb += [down.value.eq(sig), down.amount.eq(Mux(t < 0, amount, 0))]
            m.d.comb += aligned.eq(Mux(t < 0, down.shifted, (sig << left)[:width]))
        else:
            m.d.comb += aligned.eq((sig << left)[:width])

        m.submodules.rounder = rounder = Rounder(width, out_width=man + 1,
                                                 modes=(self._rounding,))
        m.d.comb += [
            rounder.magnitude.eq(aligned),
            rounder.negative.eq(self.negative),
            rounder.mode.eq(RoundingMode[self._rounding.upper()]),
        ]
        # Exponent field base: e_top - emin where e_top = exponent of the aligned top bit.
        field_hi = top_hi - emin + 1
        field = Signal(range(field_hi + 1))
        m.d.comb += field.eq(Mux(t < 0, 0, t - left))
        mag = Signal(range(((field_hi + 1) << man) + (1 << (man + 1)) + 1))
        m.d.comb += mag.eq((field << man) + rounder.rounded)

        max_code, mag_bits = fmt.max_code, fmt.bits - 1
        over = Signal()
        m.d.comb += over.eq((mag > max_code) & ~lzc.zero)
        overflowed = self._overflow_code(over)
        result = Signal(mag_bits)
        nan_out = Signal()
        m.d.comb += nan_out.eq(self.nan | (self._overflow == "nan") & (over | self.inf))
        inf_code = {"saturate": max_code, "nan": fmt.nan_code, "inf": fmt.inf_code}[self._overflow]
        with m.If(self.inf):
            m.d.comb += result.eq(inf_code)
        with m.Elif(lzc.zero):
            m.d.comb += result.eq(0)
        with m.Elif(over):
            m.d.comb += result.eq(overflowed)
        with m.Else():
            m.d.comb += result.eq(mag)
        m.d.comb += self.code.eq(Mux(nan_out, fmt.nan_code, Cat(result, self.negative)))
        return m

    def _overflow_code(self, over):
        """Magnitude code of an overflowed finite value under the overflow policy."""
        fmt = self._fmt
        if self._overflow == "saturate":
            return Const(fmt.max_code)
        if self._overflow == "nan":
            return Const(fmt.nan_code)
        to_max = {"rtz": 1, "rto": 1, "rdn": ~self.negative, "rup": self.negative}.get(
            self._rounding, 0)
        return Mux(to_max, fmt.max_code, fmt.inf_code)
