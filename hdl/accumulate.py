"""Accumulator stage: the register of a MAC or dot unit, built from a golden accumulator object.

Every float-producing unit (FloatMac, MxDotUnit) feeds one exact term per cycle into an
:class:`AccumulatorStage`; the stage implements the accumulator's golden semantics:

``FloatAccumulator(fmt, rounding, "sequential")``
    a ``fmt`` register; ``acc = round(acc + term)`` each cycle, starting from +0 after a clear
    (:class:`~lowbit.hdl.float_decoder.FloatDecoder` -> :class:`~lowbit.hdl.exact_adder.ExactAdder`
    -> :class:`~lowbit.hdl.float_encoder.FloatEncoder`).
``FloatAccumulator(fmt, rounding, interleaved(2))``
    two partial sums in a two-register ring: the add is cut in two, ``decode + ExactAdder``
    then a register, ``FloatEncoder`` then a register, so each half has a cycle and the loop
    is two cycles long; the partial leaving the ring in cycle ``t`` is the one the operation
    of cycle ``t`` adds to, so partial ``j`` takes the operations of cycles ``t0 + j``, ``t0 +
    j + 2``, ... after a clearing operation at ``t0``. An idle cycle adds a neutral product
    (-0; +0 rounding down) to its partial. The result is ``round(p0 + p1)`` of the two newest
    partials (the other one +0 until it has an operation of the run), through the same two
    halves: :attr:`AccumulatorStage.latency` 4. With operations on consecutive cycles this is
    golden's ``interleaved(2)`` order; an idle cycle inside a run is golden's with a neutral
    product there.
``ExactAccumulator(out_fmt, rounding)``
    a :class:`~lowbit.hdl.kulisch.KulischAccumulator` sized for ``terms`` terms; the result is
    the register rounded into ``out_fmt`` (combinational, every cycle).
``Quire(posit_fmt, standard)``
    a Kulisch register of ``quire.width_bits`` bits with LSB ``minpos**2``, rounded by a
    :class:`~lowbit.hdl.posit_encoder.PositEncoder` (bit-string RNE).
"""

from amaranth.hdl import Module, Mux, Signal
from amaranth.lib.wiring import In, Out

from lowbit.errors import OperationError, check_int
from types import SimpleNamespace

from lowbit.golden.accumulators import (ExactAccumulator, FloatAccumulator, Interleaved,
                                        Quire, interleaved)
from lowbit.hdl.component import Component
from lowbit.hdl.exact_adder import ExactAdder
from lowbit.hdl.exact_term import TERM_PORTS, connect_terms, term_members
from lowbit.hdl.float_decoder import FloatDecoder
from lowbit.hdl.float_encoder import FloatEncoder, check_result_format
from lowbit.hdl.kulisch import KulischAccumulator, kulisch_width
from lowbit.hdl.posit_encoder import PositEncoder
from lowbit.hdl.rounder import DETERMINISTIC_MODES

DEFAULT_TERMS = 1 << 16
"""Terms an exact (Kulisch) stage sums without overflow unless told otherwise."""


#: The interleaved orders an :class:`AccumulatorStage` builds.
INTERLEAVED_ORDERS = (interleaved(2),)


def check_accumulator(unit: str, acc, terms=None, interleave=False):
    """Raise unless ``acc`` is an accumulator an :class:`AccumulatorStage` implements (and
    ``terms``, the Kulisch size, is given only for an ExactAccumulator). ``interleave``:
    the unit also builds the orders of :data:`INTERLEAVED_ORDERS`."""
    if terms is not None and not isinstance(acc, ExactAccumulator):
        raise OperationError(f"{unit} terms= sizes an ExactAccumulator's Kulisch register; "
                             f"a {type(acc).__name__} has no such parameter")
    if isinstance(acc, FloatAccumulator):
        orders = INTERLEAVED_ORDERS if interleave else ()
        if acc.order != "sequential" and acc.order not in orders:
            allowed = "".join(f" or {o}" for o in orders)
            why = ("adder-tree order is golden-only" if not isinstance(acc.order, Interleaved)
                   else "interleaved partials: an unchained FloatMac builds interleaved(2)"
                   if not interleave else "the ring has two registers")
            raise OperationError(f"{unit} implements FloatAccumulator order 'sequential'"
                                 f"{allowed}, not {acc.order} ({why})")
        check_result_format(unit, acc.fmt)
    elif isinstance(acc, ExactAccumulator):
        check_result_format(unit, acc.out_fmt)
    elif isinstance(acc, Quire):
        return
    else:
        raise OperationError(f"{unit} acc must be a float register or an exact (Kulisch) "
                             f"accumulator (fp32, fp16, bf16, exact_fp32, ...), not "
                             f"{getattr(acc, 'name', acc)!r}")
    if acc.rounding not in DETERMINISTIC_MODES:
        raise OperationError(f"{unit} acc rounding must be one of "
                             f"{', '.join(DETERMINISTIC_MODES)}, not {acc.rounding!r}")


def add_rounded(m, acc, code, term, term_shape, term_prefix="", cut=None):
    """Add to ``m`` the adder of FloatAccumulator ``acc``: ``round(decode(code) + term)``, the
    golden ``acc.fmt.round_exact(add_exact_values(x, y), acc.rounding, acc.overflow)``
    (combinational); return the rounded code.

    Submodules ``decode`` (a FloatDecoder of ``code``), ``add`` (an ExactAdder) and ``encode``
    (a FloatEncoder with ``acc``'s rounding and overflow). ``term`` drives the other operand
    from its exact-term outputs ``<term_prefix>negative``, ``sig``, ``exp``, ``nan`` and
    ``inf``, of ``term_shape = (sig_width, exp_min, exp_max)``. Only the format, rounding and
    overflow of ``acc`` matter, not its order: an accumulator register and an adder-tree node
    are both this adder. ``cut(add)``, if given, returns registers holding the adder's
    outputs (an object with the term fields), which the encoder then rounds.
    """
    fmt = acc.fmt
    sig_width, exp_min, exp_max = term_shape
    m.submodules.decode = decode = FloatDecoder(fmt)
    m.d.comb += decode.code.eq(code)
    m.submodules.add = add = ExactAdder(
        x_width=decode.sig_width, x_exp=(decode.exp_min, decode.exp_max),
        y_width=sig_width, y_exp=(exp_min, exp_max), precision=fmt.man_bits + 1,
        negative_zero=acc.rounding == "rdn")
    m.d.comb += [*connect_terms(add, decode, "x_"),
                 *connect_terms(add, term, "y_", term_prefix)]
    low, high = add.exp_range
    m.submodules.encode = encode = FloatEncoder(
        fmt, sig_width=add.sig_width, exp_min=low, exp_max=high, rounding=acc.rounding,
        overflow=acc.overflow)
    m.d.comb += connect_terms(encode, add if cut is None else cut(add))
    return encode.code


class AccumulatorStage(Component):
    """Sum one exact term per cycle into ``acc``'s register; ``result`` is its code.

    Parameters
    ----------
    acc : FloatAccumulator, ExactAccumulator or Quire
        The golden accumulator (see the module docstring); result format ``acc.out_fmt``.
    term_sig_width : int
        Width of ``term_sig`` in bits.
    term_exp_min, term_exp_max : int
        Range of ``term_exp``, the weight of ``term_sig``'s LSB.
    terms : int
        ExactAccumulator only: terms the Kulisch register sums exactly (default 2**16); its
        width is derived from this and the term range.
    chained : bool
        FloatAccumulator only: add each term to ``acc_in`` instead of the stage's own register
        (``result`` is then the registered sum ``round(acc_in + term)``).

    Members
    -------
    valid, clear : In(1)
        Add the term this cycle; with ``valid``, start a new sum (from +0) with it.
    term_negative, term_sig, term_exp, term_nan, term_inf : In
        The exact term ``(-1)**term_negative * term_sig * 2**term_exp`` or a special.
    result : Out(acc.out_fmt.bits)
        Code of the sum of the terms since the last clear, the cycle after the last one.
    acc_in : In(acc.out_fmt.bits)
        Chained stages only: the code the term is added to (``clear`` still starts from +0).
    """

    def __init__(self, acc, term_sig_width, term_exp_min, term_exp_max, *, terms=None,
                 chained=False):
        check_accumulator("AccumulatorStage", acc, terms, interleave=not chained)
        if chained and not isinstance(acc, FloatAccumulator):
            raise OperationError(
                f"a chained unit passes its sum on as {acc.out_fmt.name} codes, but a "
                f"{type(acc).__name__} sums in a wide register rounded only at the end; only a "
                f"FloatAccumulator (or a FixedAccumulator of an IntMac) can be chained")
        self._chained = bool(chained)
        self._terms = check_int("AccumulatorStage terms", DEFAULT_TERMS if terms is None
                                else terms, 1, 1 << 40, OperationError)
        self._acc = acc
        self._term = (term_sig_width, term_exp_min, term_exp_max)
        super().__init__({
            "valid": In(1), "clear": In(1),
            **term_members("in", term_sig_width, term_exp_min, term_exp_max, prefix="term_"),
            "result": Out(acc.out_fmt.bits),
            **({"acc_in": In(acc.out_fmt.bits)} if chained else {}),
        })

    @property
    def latency(self) -> int:
        """Edges from a term's ``valid`` to ``result`` holding its sum: 1, or 4 for the
        ``interleaved(2)`` ring (two ring halves, two reduction halves)."""
        return 4 if self._interleaved else 1

    @property
    def _interleaved(self) -> bool:
        return isinstance(getattr(self._acc, "order", None), Interleaved)

    @property
    def register_bits(self) -> int:
        """Width of the state register: the float code, or the Kulisch register."""
        if isinstance(self._acc, FloatAccumulator):
            return self._acc.fmt.bits
        if isinstance(self._acc, Quire):
            return self._acc.width_bits
        return kulisch_width(*self._term, self._terms)

    def describe(self) -> dict:
        """Parameters for the export sidecar and result rows."""
        acc = self._acc
        row = {"kind": acc.kind, "out_fmt": acc.out_fmt.to_dict(),
               "rounding": getattr(acc, "rounding", "rne"), "register_bits": self.register_bits}
        if isinstance(acc, FloatAccumulator):
            row.update(order=str(acc.order), overflow=acc.overflow)
        elif isinstance(acc, Quire):
            row.update(standard=acc.standard, lsb_exponent=acc.lsb_exponent)
        else:
            row.update(terms=self._terms)
        return row

    def connect_term(self, source, prefix="") -> list:
        """Statements driving the term inputs from ``source``'s ``<prefix>negative``, ``sig``,
        ``exp``, ``nan`` and ``inf`` outputs."""
        return connect_terms(self, source, "term_", prefix)

    def elaborate(self, platform):
        m = Module()
        if self._interleaved:
            self._float_ring(m)
        elif isinstance(self._acc, FloatAccumulator):
            self._float_register(m)
        else:
            self._kulisch_register(m)
        return m

    def _float_register(self, m):
        acc, fmt = self._acc, self._acc.fmt
        code = Signal(fmt.bits)  # reset value 0 is +0
        total = add_rounded(m, acc, Mux(self.clear, 0, self.acc_in if self._chained else code),
                            self, self._term, "term_")
        with m.If(self.valid):
            m.d.sync += code.eq(total)
        m.d.comb += self.result.eq(code)

    def _float_ring(self, m):
        """``interleaved(2)``: the two-register ring and the two-cycle reduction (module
        docstring)."""
        acc, fmt = self._acc, self._acc.fmt

        def halves(add, name):  # the register between the adder and the encoder
            held = {}
            for port in TERM_PORTS:
                reg = Signal.like(getattr(add, port), name=f"{name}_{port}")
                m.d.sync += reg.eq(getattr(add, port))
                held[port] = reg
            return SimpleNamespace(**held)

        partial = Signal(fmt.bits, name="partial")  # the ring's code register; 0 is +0
        older = Signal(fmt.bits, name="older")  # the other partial (written one edge earlier)
        starts = Signal(name="starts")  # the previous cycle had a clearing operation
        start_now = self.valid & self.clear
        m.d.sync += starts.eq(start_now)
        # An idle cycle adds the neutral product: -0 (+0 when rounding down).
        neutral = SimpleNamespace(negative=int(acc.rounding != "rdn"), sig=0, exp=self._term[1],
                                  nan=0, inf=0)
        term = SimpleNamespace(**{p: Mux(self.valid, getattr(self, f"term_{p}"),
                                         getattr(neutral, p)) for p in TERM_PORTS})
        m.submodules.ring = ring = Module()
        code = add_rounded(ring, acc, Mux(start_now | starts, 0, partial), term, self._term,
                           cut=lambda add: halves(add, "ring"))
        # A run's first partial has no other partial yet: +0 in the reduction.
        first, first_mid = Signal(name="first"), Signal(name="first_mid")
        m.d.sync += [first_mid.eq(start_now), first.eq(first_mid),
                     partial.eq(code), older.eq(partial)]
        m.submodules.reduce = reduce = Module()
        reduce.submodules.decode_older = other = FloatDecoder(fmt)
        reduce.d.comb += other.code.eq(Mux(first, 0, older))
        total = add_rounded(reduce, acc, partial, other,
                            (other.sig_width, other.exp_min, other.exp_max),
                            cut=lambda add: halves(add, "reduce"))
        result = Signal(fmt.bits, name="result_code")
        m.d.sync += result.eq(total)
        m.d.comb += self.result.eq(result)

    def _kulisch_register(self, m):
        acc = self._acc
        sig_width, exp_min, exp_max = self._term
        lsb = acc.lsb_exponent if isinstance(acc, Quire) else None
        m.submodules.kulisch = kulisch = KulischAccumulator(
            sig_width, exp_min, exp_max, width=self.register_bits, lsb_exp=lsb)
        m.d.comb += [kulisch.valid.eq(self.valid), kulisch.clear.eq(self.clear),
                     *connect_terms(kulisch, self, "term_", "term_")]
        lsb = kulisch.lsb_exp
        value = kulisch.value
        below_zero = value < 0
        magnitude = Mux(below_zero, -value, value)  # fits width bits, -2**(width-1) included
        if isinstance(acc, Quire):
            m.submodules.encode = encode = PositEncoder(
                acc.posit_fmt, sig_width=kulisch.width, exp_min=lsb, exp_max=lsb)
            m.d.comb += [encode.negative.eq(below_zero), encode.nar.eq(kulisch.nan)]
        else:
            m.submodules.encode = encode = FloatEncoder(
                acc.out_fmt, sig_width=kulisch.width, exp_min=lsb, exp_max=lsb,
                rounding=acc.rounding)
            m.d.comb += [
                encode.negative.eq(Mux(kulisch.inf, kulisch.inf_negative,
                                       below_zero | ((value == 0) & kulisch.negative_zero))),
                encode.nan.eq(kulisch.nan),
                encode.inf.eq(kulisch.inf),
            ]
        m.d.comb += [encode.sig.eq(magnitude), encode.exp.eq(lsb), self.result.eq(encode.code)]
