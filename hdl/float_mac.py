"""Minifloat multiply-accumulate unit: exact products into a float or Kulisch accumulator."""

from amaranth.hdl import Module
from amaranth.lib.wiring import In, Out

from lowbit.errors import OperationError
from lowbit.golden.accumulators import ExactAccumulator
from lowbit.hdl.accumulate import AccumulatorStage, check_accumulator
from lowbit.hdl.component import Component
from lowbit.hdl.float_decoder import FloatDecoder

MAX_OPERAND_BITS = 16


class FloatMac(Component):
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
        NaN); FloatAccumulator order ``sequential``; any deterministic rounding mode.
    terms : int, optional
        ExactAccumulator only: products the Kulisch register sums exactly (default 2**16).

    Members
    -------
    valid, clear : In(1)
        An operation this cycle; with ``valid``, start a new sum with this product.
    a : In(a_fmt.bits), b : In(b_fmt.bits)
        Operand codes.
    out_valid : Out(1)
        ``acc`` holds the result of the operation issued :attr:`latency` cycles earlier.
    acc : Out(acc.out_fmt.bits)
        Code of the accumulated sum in ``acc.out_fmt`` (NaN results are the canonical NaN).
    """

    latency = 1

    def __init__(self, a_fmt, b_fmt, *, acc, terms=None):
        for fmt, what in ((a_fmt, "a_fmt"), (b_fmt, "b_fmt")):
            if getattr(fmt, "kind", None) != "float":
                raise OperationError(f"FloatMac {what} must be a FloatFormat (fp8_e4m3, fp8_e5m2, "
                                     f"fp6_e3m2, fp6_e2m3, fp4_e2m1, ...), not "
                                     f"{getattr(fmt, 'name', fmt)!r}")
            if fmt.bits > MAX_OPERAND_BITS:
                raise OperationError(f"FloatMac {what} must have at most {MAX_OPERAND_BITS} "
                                     f"bits, not {fmt.bits} ({fmt.name})")
        check_accumulator("FloatMac", acc)
        if terms is not None and not isinstance(acc, ExactAccumulator):
            raise OperationError("FloatMac terms= sizes an ExactAccumulator's Kulisch register; "
                                 "a FloatAccumulator has no such parameter")
        self._a_fmt, self._b_fmt, self._acc = a_fmt, b_fmt, acc
        self._decoders = (self.part(FloatDecoder(a_fmt)), self.part(FloatDecoder(b_fmt)))
        da, db = self._decoders
        self._stage = self.part(AccumulatorStage(
            acc, da.sig_width + db.sig_width, da.exp_min + db.exp_min, da.exp_max + db.exp_max,
            terms=terms))
        super().__init__({
            "valid": In(1), "clear": In(1),
            "a": In(a_fmt.bits), "b": In(b_fmt.bits),
            "out_valid": Out(1), "acc": Out(acc.out_fmt.bits),
        })

    @property
    def a_fmt(self):
        """Format of operand ``a``."""
        return self._a_fmt

    @property
    def b_fmt(self):
        """Format of operand ``b``."""
        return self._b_fmt

    @property
    def accumulator(self):
        """The golden accumulator the ``acc`` output implements."""
        return self._acc

    def describe(self) -> dict:
        """Parameters for the export sidecar and result rows."""
        return {"a_fmt": self._a_fmt.to_dict(), "b_fmt": self._b_fmt.to_dict(),
                "acc": self._stage.describe()}

    def elaborate(self, platform):
        m = Module()
        da, db = self._decoders
        m.submodules.decode_a, m.submodules.decode_b = da, db
        m.submodules.accumulate = stage = self._stage
        m.d.comb += [da.code.eq(self.a), db.code.eq(self.b)]
        nan = (da.nan | db.nan | (da.inf & db.zero) | (da.zero & db.inf))
        m.d.comb += [
            stage.valid.eq(self.valid), stage.clear.eq(self.clear),
            stage.term_negative.eq(da.negative ^ db.negative),
            stage.term_sig.eq(da.sig * db.sig),
            stage.term_exp.eq(da.exp + db.exp),
            stage.term_nan.eq(nan),
            stage.term_inf.eq((da.inf | db.inf) & ~nan),
            self.acc.eq(stage.result),
        ]
        m.d.sync += self.out_valid.eq(self.valid)
        return m
