"""Minifloat multiply-accumulate unit: exact products into a float or Kulisch accumulator."""

from lowbit.errors import OperationError
from lowbit.hdl.accumulate import check_accumulator
from lowbit.hdl.float_decoder import FloatDecoder
from lowbit.hdl.mac_unit import ProductMac

MAX_OPERAND_BITS = 16


class FloatMac(ProductMac):
    """``acc <= (clear ? +0 : acc) (+) a * b`` on every cycle with ``valid``; one op per cycle.

    The product of the two codes is exact (sign, ``p_a + p_b``-bit significand, summed
    exponents; NaN for NaN operands and 0 x Inf, Inf for Inf operands); the accumulator stage
    (:class:`~lowbit.hdl.accumulate.AccumulatorStage`) adds it with golden semantics:
    ``FloatAccumulator`` rounds every sum into its format (an FMA per cycle), ``ExactAccumulator``
    sums exactly in a Kulisch register whose width follows from the operand formats and
    ``terms``, rounding only the output.

    Parameters
    ----------
    a_fmt, b_fmt : FloatFormat
        Operand formats of at most 16 bits: fp8_e4m3, fp8_e5m2, fp6_e3m2, fp6_e2m3, fp4_e2m1
        or any other golden FloatFormat (OCP "fn" and IEEE specials, unsigned, FTZ).
    acc : FloatAccumulator or ExactAccumulator
        Result format fp32, fp16, bf16 (or another signed float format with subnormals and
        NaN); FloatAccumulator order ``sequential``, or ``interleaved(2)`` (``il2_fp32``: two
        partial sums in a two-cycle ring, 3 cycles more latency; see
        :mod:`lowbit.hdl.accumulate`); any deterministic rounding mode.
    terms : int, optional
        ExactAccumulator only: products the Kulisch register sums exactly (default 2**16).
    chained : bool
        FloatAccumulator only: add to ``acc_in`` instead of the register (see
        :class:`~lowbit.hdl.mac_unit.MacUnit`).
    stages : int
        Register stages (:mod:`lowbit.hdl.pipeline`), latency ``stages``: 1 to 3 for a
        FloatAccumulator (cuts ``product``, ``decoded``), 1 to 4 for a Kulisch register (cuts
        ``product``, ``result``, ``decoded``; see :class:`~lowbit.hdl.mac_unit.ProductMac`).
    fault : str, optional
        A deliberate pipeline bug (:data:`lowbit.hdl.pipeline.FAULTS`), proof tests only.

    Members
    -------
    The :class:`~lowbit.hdl.mac_unit.MacUnit` ports (latency ``stages``, ``stages + 3`` for
    ``interleaved(2)``); ``acc`` is
    ``Out(acc.out_fmt.bits)``, the code of the accumulated sum (NaN results are the canonical
    NaN).
    """

    def __init__(self, a_fmt, b_fmt, *, acc, terms=None, chained=False, stages=1, fault=None):
        for fmt, what in ((a_fmt, "a_fmt"), (b_fmt, "b_fmt")):
            if getattr(fmt, "kind", None) != "float":
                raise OperationError(f"FloatMac {what} must be a FloatFormat (fp8_e4m3, fp8_e5m2, "
                                     f"fp6_e3m2, fp6_e2m3, fp4_e2m1, ...), not "
                                     f"{getattr(fmt, 'name', fmt)!r}")
            if fmt.bits > MAX_OPERAND_BITS:
                raise OperationError(f"FloatMac {what} must have at most {MAX_OPERAND_BITS} "
                                     f"bits, not {fmt.bits} ({fmt.name})")
        check_accumulator("FloatMac", acc, terms, interleave=not chained)
        acc.check_operands(a_fmt, b_fmt)  # as golden dot does (a Quire takes posits only)
        super().__init__(a_fmt, b_fmt, acc, (FloatDecoder(a_fmt), FloatDecoder(b_fmt)),
                         terms=terms, chained=chained, stages=stages, fault=fault)
