"""The single-register multiply-accumulate interface shared by IntMac, FloatMac and PositMac."""

from amaranth.hdl import Module
from amaranth.lib.wiring import In, Out

from lowbit.hdl.accumulate import AccumulatorStage
from lowbit.hdl.component import Component
from lowbit.hdl.exact_multiplier import ExactMultiplier


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
    """

    latency = 1

    #: The port holding the result (engines that read PEs generically ask for it).
    result_ports = ("acc",)

    def __init__(self, a_fmt, b_fmt, accumulator, acc_shape, *, chained=False):
        self._a_fmt, self._b_fmt, self._acc = a_fmt, b_fmt, accumulator
        self._chained = bool(chained)
        super().__init__({
            "valid": In(1), "clear": In(1),
            "a": In(a_fmt.bits), "b": In(b_fmt.bits),
            "out_valid": Out(1), "acc": Out(acc_shape),
            **({"acc_in": In(acc_shape)} if chained else {}),
        })

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
        return {**row, "chained": True} if self._chained else row


class ProductMac(MacUnit):
    """A :class:`MacUnit` built from parts: operand decoders, an exact multiplier, an
    accumulator stage (FloatMac, PositMac).

    ``decoders`` are two combinational decoders (``code`` in; ``negative``, ``sig``, ``exp``,
    ``zero`` and ``nan``/``inf`` or ``nar`` out); their exact product goes into an
    :class:`~lowbit.hdl.accumulate.AccumulatorStage` of ``acc`` (``terms``: its Kulisch size).
    """

    def __init__(self, a_fmt, b_fmt, acc, decoders, *, terms=None, chained=False):
        da, db = (self.part(d) for d in decoders)
        self._decoders = (da, db)
        self._multiply = self.part(ExactMultiplier(
            x_width=da.sig_width, x_exp=(da.exp_min, da.exp_max),
            y_width=db.sig_width, y_exp=(db.exp_min, db.exp_max)))
        self._stage = self.part(AccumulatorStage(
            acc, self._multiply.sig_width, *self._multiply.exp_range, terms=terms,
            chained=chained))
        super().__init__(a_fmt, b_fmt, acc, acc.out_fmt.bits, chained=chained)

    def describe(self) -> dict:
        """Operand formats and the accumulator stage's parameters."""
        return {**super().describe(), "acc": self._stage.describe()}

    def elaborate(self, platform):
        m = Module()
        da, db = self._decoders
        m.submodules.decode_a, m.submodules.decode_b = da, db
        m.submodules.multiply = mul = self._multiply
        m.submodules.accumulate = stage = self._stage
        m.d.comb += [
            da.code.eq(self.a), db.code.eq(self.b),
            *mul.connect("x", da), *mul.connect("y", db),
            stage.valid.eq(self.valid), stage.clear.eq(self.clear),
            *stage.connect_term(mul),
            self.acc.eq(stage.result),
        ]
        if self.chained:
            m.d.comb += stage.acc_in.eq(self.acc_in)
        m.d.sync += self.out_valid.eq(self.valid)
        return m
