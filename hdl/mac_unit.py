"""The single-register multiply-accumulate interface shared by IntMac, FloatMac and PositMac."""

from amaranth.hdl import Module, Signal
from amaranth.lib.wiring import In, Out

from types import SimpleNamespace

from lowbit.errors import OperationError
from lowbit.hdl.accumulate import AccumulatorStage
from lowbit.hdl.component import Component
from lowbit.hdl.exact_multiplier import ExactMultiplier
from lowbit.hdl.exact_term import TERM_PORTS
from lowbit.hdl.pipeline import Pipeline


class MacUnit(Component):
    """Base of MAC units with one register: ``acc <= (clear ? 0 : acc) (+) a * b`` per ``valid``.

    A *chained* unit (``chained=True``, the processing element of a weight-stationary array)
    adds to a sum from outside instead of its own register: ``acc <= (clear ? 0 : acc_in) (+)
    a * b``, where ``acc_in`` is a code of the same format as ``acc`` (the partial sum the PE
    above passed down). Only accumulators whose state is their output code can be chained:
    ``FixedAccumulator`` and ``FloatAccumulator``.

    Subclasses validate their golden arguments, then call ``super().__init__`` with the operand
    formats, the golden accumulator and the shape of the ``acc`` port. Every such unit has the
    same ports, so one testbench, one Python-simulator driver and one mutation harness serve
    them all.

    Members
    -------
    valid : In(1)
        An operation this cycle.
    clear : In(1)
        With ``valid``: start a new sum with this product.
    a : In(a_fmt.bits), b : In(b_fmt.bits)
        Operand codes.
    out_valid : Out(1)
        ``acc`` holds the result of the operation issued :attr:`latency` cycles earlier.
    acc : Out(acc_shape)
        The accumulated result as a code of ``accumulator.out_fmt``.
    acc_in : In(acc_shape)
        Chained units only: the sum this operation adds to.

    A pipelined unit (``pipeline``: a :class:`~lowbit.hdl.pipeline.Pipeline` with ``stages``
    above 1) has the same ports and results, :attr:`latency` ``= stages`` cycles later.
    """

    def __init__(self, a_fmt, b_fmt, accumulator, acc_shape, *, chained=False, pipeline=None):
        self._a_fmt, self._b_fmt, self._acc = a_fmt, b_fmt, accumulator
        self._chained = bool(chained)
        self._pipeline = pipeline or Pipeline(type(self).__name__, 1, ())
        if self._chained and self._pipeline.stages > 1:
            raise OperationError(
                f"{type(self).__name__} chained=True needs stages 1, not "
                f"{self._pipeline.stages}: a chained unit adds acc_in in the cycle of its "
                f"operation, so a pipelined chain would add a partial sum that is not ready")
        super().__init__({
            "valid": In(1), "clear": In(1),
            "a": In(a_fmt.bits), "b": In(b_fmt.bits),
            "out_valid": Out(1), "acc": Out(acc_shape),
            **({"acc_in": In(acc_shape)} if chained else {}),
        })

    #: Edges the accumulator loop adds beyond one (an interleaved ring and its reduction).
    _loop_extra = 0

    @property
    def latency(self) -> int:
        """Cycles from ``valid`` to ``out_valid``: the pipeline's ``stages`` (1 unpipelined),
        plus 3 for an ``interleaved(2)`` FloatAccumulator."""
        return self._pipeline.stages + self._loop_extra

    @property
    def stages(self) -> int:
        """Register stages (``stages`` of :mod:`lowbit.hdl.pipeline`)."""
        return self._pipeline.stages

    @property
    def pipeline(self):
        """The :class:`~lowbit.hdl.pipeline.Pipeline`: the cut points with registers."""
        return self._pipeline

    @property
    def chained(self) -> bool:
        """Whether each operation adds to ``acc_in`` instead of the unit's own register."""
        return self._chained

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
        """Operand formats; subclasses add their accumulator's parameters."""
        row = {"a_fmt": self._a_fmt.to_dict(), "b_fmt": self._b_fmt.to_dict()}
        if self._pipeline.stages > 1:
            row["pipeline"] = self._pipeline.describe()
        return {**row, "chained": True} if self._chained else row


class ProductMac(MacUnit):
    """A :class:`MacUnit` built from parts: operand decoders, an exact multiplier, an
    accumulator stage (FloatMac, PositMac).

    ``decoders`` are two combinational decoders (``code`` in; ``negative``, ``sig``, ``exp``,
    ``zero`` and ``nan``/``inf`` or ``nar`` out); their exact product goes into an
    :class:`~lowbit.hdl.accumulate.AccumulatorStage` of ``acc`` (``terms``: its Kulisch size).

    Cut points (:mod:`lowbit.hdl.pipeline`), in order of use: ``product`` (the exact product
    term, before the accumulator loop), then for a Kulisch register or a quire ``result``
    (the rounded output code: the wide register's negate, normalize and round leave the
    cycle of the add), then ``decoded`` (the decoded operands, before the multiplier). A
    FloatAccumulator's result is its register, so it has no ``result`` cut.
    """

    def __init__(self, a_fmt, b_fmt, acc, decoders, *, terms=None, chained=False, stages=1,
                 fault=None):
        da, db = (self.part(d) for d in decoders)
        self._decoders = (da, db)
        self._multiply = self.part(ExactMultiplier(
            x_width=da.sig_width, x_exp=(da.exp_min, da.exp_max),
            y_width=db.sig_width, y_exp=(db.exp_min, db.exp_max)))
        self._stage = self.part(AccumulatorStage(
            acc, self._multiply.sig_width, *self._multiply.exp_range, terms=terms,
            chained=chained))
        self._loop_extra = self._stage.latency - 1
        cuts = ("product", "decoded") if acc.kind == "float" else \
            ("product", "result", "decoded")
        pipeline = Pipeline(type(self).__name__, stages, cuts, fault)
        super().__init__(a_fmt, b_fmt, acc, acc.out_fmt.bits, chained=chained,
                         pipeline=pipeline)

    def describe(self) -> dict:
        """Operand formats and the accumulator stage's parameters."""
        return {**super().describe(), "acc": self._stage.describe()}

    def elaborate(self, platform):
        m = Module()
        pipe = self._pipeline
        da, db = self._decoders
        m.submodules.decode_a, m.submodules.decode_b = da, db
        m.submodules.multiply = mul = self._multiply
        m.submodules.accumulate = stage = self._stage
        m.d.comb += [da.code.eq(self.a), db.code.eq(self.b)]
        valid, clear, x, y = self.valid, self.clear, da, db
        if pipe.has("decoded"):
            names = [n for n in da.signature.members if n != "code"]
            valid, held = pipe.register(
                m, "decoded", valid,
                [clear, *(getattr(da, n) for n in names), *(getattr(db, n) for n in names)])
            clear = held[0]
            x = SimpleNamespace(**dict(zip(names, held[1:1 + len(names)])))
            y = SimpleNamespace(**dict(zip(names, held[1 + len(names):])))
        m.d.comb += [*mul.connect("x", x), *mul.connect("y", y)]
        term = mul
        if pipe.has("product"):
            valid, held = pipe.register(m, "product", valid,
                                        [clear, *(getattr(mul, n) for n in TERM_PORTS)])
            clear, term = held[0], SimpleNamespace(**dict(zip(TERM_PORTS, held[1:])))
        m.d.comb += [stage.valid.eq(valid), stage.clear.eq(clear), *stage.connect_term(term)]
        for t in range(self._loop_extra):  # an interleaved ring's reduction
            later = Signal(name=f"loop_valid_d{t + 1}")
            m.d.sync += later.eq(valid)
            valid = later
        result = stage.result
        if pipe.has("result"):
            done = Signal(name="result_ready")  # the loop took an operation last edge
            m.d.sync += done.eq(valid)
            (result,) = pipe.hold(m, "result", done, [stage.result])
            valid = done
        m.d.comb += self.acc.eq(result)
        if self.chained:
            m.d.comb += stage.acc_in.eq(self.acc_in)
        pipe.out_valid(m, valid, self.out_valid)
        return m
