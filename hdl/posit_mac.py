"""Posit multiply-accumulate unit: exact products summed in a quire, rounded once to a posit."""

from amaranth.hdl import Module, Mux, Signal
from amaranth.lib.wiring import In, Out

from lowbit.errors import OperationError
from lowbit.golden.accumulators import Quire
from lowbit.hdl.component import Component
from lowbit.hdl.kulisch import KulischAccumulator
from lowbit.hdl.posit_decoder import PositDecoder, check_posit_format, posit_exp_range
from lowbit.hdl.posit_encoder import PositEncoder


class PositMac(Component):
    """``quire <= (clear ? 0 : quire) + a * b`` on every cycle with ``valid``; one op per cycle.

    Both operands go through a :class:`~lowbit.hdl.posit_decoder.PositDecoder`; their exact
    product (sign xor, significand product, exponent sum) is added without rounding into the
    quire, a :class:`~lowbit.hdl.kulisch.KulischAccumulator` of ``quire.width_bits`` bits with
    LSB ``minpos**2``. A NaR operand makes the sum NaR until the next clear. ``acc`` is the
    quire's magnitude rounded by a :class:`~lowbit.hdl.posit_encoder.PositEncoder`
    (combinational from the register), which is golden ``quire.reduce`` of the products since
    the last clear: ``fmt.round_exact(exact_sum(products))``. Like golden's quire, which raises
    rather than wrap, the register holds sums of magnitude below ``2**(width_bits - 1)`` LSBs;
    beyond that it wraps.

    Parameters
    ----------
    fmt : PositFormat
        Format of both operands and of ``acc``: any posit ``(n, es)`` with 2 to 32 bits.
    quire : Quire
        The quire of ``fmt`` (standard ``"2022"``, 16n bits, or ``"draft"``, n*n/2 bits); it
        must hold one product exactly (``minpos**2`` up to ``maxpos**2``, plus a sign bit).
        The 2022 quire does for every es <= 2; the draft one for SoftPosit's (8, 0), (16, 1)
        and (32, 2), but not for posit(8, 2) or any n < 7.

    Members
    -------
    valid : In(1)
        An operation this cycle.
    clear : In(1)
        With ``valid``: start a new sum (the quire takes the product alone).
    a, b : In(n)
        Operand codes.
    out_valid : Out(1)
        ``acc`` holds the result of the operation issued :attr:`latency` cycles earlier.
    acc : Out(n)
        The quire rounded to a code of ``fmt`` (an unsigned port: the posit code).
    """

    latency = 1

    def __init__(self, fmt, *, quire):
        check_posit_format("PositMac", fmt)
        if not isinstance(quire, Quire):
            raise OperationError(f"PositMac quire must be a Quire, not {quire!r}")
        if quire.posit_fmt != fmt:
            raise OperationError(f"PositMac quire must be a Quire of {fmt.name}, not of "
                                 f"{quire.posit_fmt.name}")
        exp_min, exp_max = posit_exp_range(fmt)
        self._term = (2 * fmt.significand_bits, 2 * exp_min, 2 * exp_max)
        sig_width, term_exp_min, term_exp_max = self._term
        lsb, width = quire.lsb_exponent, quire.width_bits
        # Products lie below 2**top (maxpos**2 = 2**(top - 2) is the largest; the quire
        # register sizes for any significand at term_exp_max, as KulischAccumulator checks).
        top = term_exp_max + sig_width
        if term_exp_min < lsb or width < top - lsb + 1:
            raise OperationError(
                f"PositMac quire Quire({fmt.name}, {quire.standard!r}) has {width} bits; its "
                f"{fmt.name} products need {top - lsb + 1} (from 2**{lsb} to below 2**{top}, "
                f"plus a sign bit)")
        self._fmt, self._quire = fmt, quire
        super().__init__({
            "valid": In(1), "clear": In(1),
            "a": In(fmt.n), "b": In(fmt.n),
            "out_valid": Out(1), "acc": Out(fmt.n),
        })

    @property
    def fmt(self):
        """Format of the operands and of ``acc``."""
        return self._fmt

    @property
    def quire(self):
        """The golden Quire the register implements."""
        return self._quire

    def describe(self) -> dict:
        """Parameters for the export sidecar and result rows."""
        q = self._quire
        return {"fmt": self._fmt.to_dict(),
                "quire": {"kind": "quire", "standard": q.standard, "width_bits": q.width_bits,
                          "lsb_exponent": q.lsb_exponent}}

    def elaborate(self, platform):
        m = Module()
        fmt, quire = self._fmt, self._quire
        m.submodules.decode_a = da = PositDecoder(fmt)
        m.submodules.decode_b = db = PositDecoder(fmt)
        sig_width, term_exp_min, term_exp_max = self._term
        m.submodules.quire = q = KulischAccumulator(
            sig_width, term_exp_min, term_exp_max, width=quire.width_bits,
            lsb_exp=quire.lsb_exponent)
        m.d.comb += [
            da.code.eq(self.a), db.code.eq(self.b),
            q.valid.eq(self.valid), q.clear.eq(self.clear),
            q.term_negative.eq(da.negative ^ db.negative),
            q.term_sig.eq(da.sig * db.sig),
            q.term_exp.eq(da.exp + db.exp),
            q.term_nan.eq(da.nar | db.nar),
            q.term_inf.eq(0),
        ]
        # |quire| fits width bits unsigned, -2**(width - 1) included.
        negative = Signal()
        magnitude = Signal(quire.width_bits)
        m.d.comb += [
            negative.eq(q.value < 0),
            magnitude.eq(Mux(negative, -q.value, q.value)),
        ]
        m.submodules.encode = enc = PositEncoder(
            fmt, sig_width=quire.width_bits, exp_min=quire.lsb_exponent,
            exp_max=quire.lsb_exponent)
        m.d.comb += [
            enc.negative.eq(negative), enc.sig.eq(magnitude),
            enc.exp.eq(quire.lsb_exponent), enc.nar.eq(q.nan),
            self.acc.eq(enc.code),
        ]
        m.d.sync += self.out_valid.eq(self.valid)
        return m
