"""Posit multiply-accumulate unit: exact products summed in a quire, rounded once to a posit."""

from lowbit.errors import OperationError
from lowbit.golden.accumulators import Quire
from lowbit.hdl.mac_unit import ProductMac
from lowbit.hdl.posit_decoder import PositDecoder, check_posit_format, posit_exp_range


class PositMac(ProductMac):
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
    stages : int
        Register stages (:mod:`lowbit.hdl.pipeline`), 1 to 4, latency ``stages``: cuts
        ``product`` (before the quire), ``result`` (the rounded posit), ``decoded`` (see
        :class:`~lowbit.hdl.mac_unit.ProductMac`).
    fault : str, optional
        A deliberate pipeline bug (:data:`lowbit.hdl.pipeline.FAULTS`), proof tests only.

    Members
    -------
    The :class:`~lowbit.hdl.mac_unit.MacUnit` ports (latency ``stages``); ``acc`` is
    ``Out(n)``, the quire rounded to a code of ``fmt`` (an unsigned port: the posit code).
    """

    def __init__(self, fmt, *, quire, stages=1, fault=None):
        check_posit_format("PositMac", fmt)
        if not isinstance(quire, Quire):
            raise OperationError(f"PositMac quire must be a Quire, not {quire!r}")
        if quire.posit_fmt != fmt:
            raise OperationError(f"PositMac quire must be a Quire of {fmt.name}, not of "
                                 f"{quire.posit_fmt.name}")
        exp_min, exp_max = posit_exp_range(fmt)
        sig_width, term_exp_min, term_exp_max = (2 * fmt.significand_bits, 2 * exp_min,
                                                 2 * exp_max)
        lsb, width = quire.lsb_exponent, quire.width_bits
        # Products lie below 2**top (maxpos**2 = 2**(top - 2) is the largest; the quire
        # register sizes for any significand at term_exp_max, as KulischAccumulator checks).
        top = term_exp_max + sig_width
        if term_exp_min < lsb or width < top - lsb + 1:
            raise OperationError(
                f"PositMac quire Quire({fmt.name}, {quire.standard!r}) has {width} bits; its "
                f"{fmt.name} products need {top - lsb + 1} (from 2**{lsb} to below 2**{top}, "
                f"plus a sign bit)")
        self._fmt, self._quire, self._term_bits = fmt, quire, top - lsb
        super().__init__(fmt, fmt, quire, (PositDecoder(fmt), PositDecoder(fmt)),
                         stages=stages, fault=fault)

    @property
    def fmt(self):
        """Format of the operands and of ``acc``."""
        return self._fmt

    @property
    def quire(self):
        """The golden Quire the register implements."""
        return self._quire

    @property
    def quire_term_bits(self):
        """Every product's magnitude is below ``2**quire_term_bits`` quire LSBs, so ``n``
        operations since a clear keep the quire within ``n * 2**quire_term_bits``."""
        return self._term_bits
