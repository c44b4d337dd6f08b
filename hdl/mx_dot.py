"""Block-scaled dot-product unit (MX, NVFP4): one block pair per cycle into an accumulator."""

from amaranth.hdl import Module, Signal
from amaranth.lib.wiring import In, Out

from lowbit.hdl.accumulate import AccumulatorStage, check_accumulator
from lowbit.hdl.block_term import BlockTermGenerator, check_block_format
from lowbit.hdl.component import Component
from lowbit.hdl.exact_term import TERM_PORTS
from lowbit.hdl.pipeline import Pipeline


class MxDotUnit(Component):
    """``acc <= (clear ? +0 : acc) (+) X_A * X_B * sum_i a_i * b_i`` for one block pair per cycle
    with ``valid``.

    Golden: :func:`lowbit.golden.gemm.dot` of block formats (``_block_terms``): the element
    products of a block pair are exact and summed exactly, the sum times the exact product of
    the two block scales is one accumulator term. A
    :class:`~lowbit.hdl.block_term.BlockTermGenerator` forms the term, a pipeline register
    holds it, and an :class:`~lowbit.hdl.accumulate.AccumulatorStage` adds it with the golden
    accumulator's semantics.

    NVFP4's FP32 per-tensor scales (the GEMM epilogue ``alpha = fp32(s_dec_A * s_dec_B)``) are
    outside the unit: ``acc`` is the accumulator before that epilogue, i.e. golden's result for
    BlockArrays with ``tensor_scale=None``.

    Parameters
    ----------
    block_fmt : BlockFormat
        Format of both operands: mxfp8_e4m3, mxfp8_e5m2, mxfp6_e3m2, mxfp6_e2m3, mxfp4, mxint8,
        nvfp4, or another block format with a power-of-two block size from 2 to 64, elements
        of at most 8 bits (float, integer or fixed point) and an E8M0 or UE4M3 scale.
    acc : FloatAccumulator or ExactAccumulator
        Result format fp32, fp16, bf16 (or another signed float format with subnormals and
        NaN); FloatAccumulator order ``sequential``; any deterministic rounding mode.
    terms : int, optional
        ExactAccumulator only: block terms the Kulisch register sums exactly (default 2**16).
    stages : int
        Register stages (:mod:`lowbit.hdl.pipeline`), latency ``stages + 1`` (the block-term
        register is always there). Cut points in order: ``products`` (the element products
        before the block's adder tree), ``tree`` (the tree's nodes halfway up), then for a
        Kulisch register ``result`` (its rounded output code): 1 to 3 stages into a
        FloatAccumulator, 1 to 4 into a Kulisch register.
    fault : str, optional
        A deliberate pipeline bug (:data:`lowbit.hdl.pipeline.FAULTS`), proof tests only.

    Members
    -------
    valid, clear : In(1)
        A block pair this cycle; with ``valid``, start a new sum with its term.
    a, b : In(ArrayLayout(element bits, block_size))
        Element codes; as a flat vector (Verilog), element ``i`` is bits ``[i * w, (i + 1) * w)``.
    a_scale, b_scale : In(scale bits)
        The blocks' scale codes.
    out_valid : Out(1)
        ``acc`` holds the result of the operation issued :attr:`latency` cycles earlier.
    acc : Out(acc.out_fmt.bits)
        Code of the accumulated sum in ``acc.out_fmt`` (NaN results are the canonical NaN).
    """

    def __init__(self, block_fmt, *, acc, terms=None, stages=1, fault=None):
        check_block_format("MxDotUnit", block_fmt)
        check_accumulator("MxDotUnit", acc, terms)
        acc.check_operands(block_fmt.element, block_fmt.element)  # as golden dot does
        self._fmt, self._acc = block_fmt, acc
        cuts = BlockTermGenerator.CUTS + (("result",) if acc.kind != "float" else ())
        self._pipeline = Pipeline("MxDotUnit", stages, cuts, fault)
        self._term = term = self.part(BlockTermGenerator(block_fmt, pipeline=self._pipeline))
        self._stage = self.part(AccumulatorStage(acc, term.sig_width, term.exp_min,
                                                 term.exp_max, terms=terms))
        super().__init__({
            "valid": In(1), "clear": In(1),
            "a": In(term.a.shape()), "a_scale": In(block_fmt.scale.bits),
            "b": In(term.b.shape()), "b_scale": In(block_fmt.scale.bits),
            "out_valid": Out(1), "acc": Out(acc.out_fmt.bits),
        })

    @property
    def latency(self) -> int:
        """Cycles from ``valid`` to ``out_valid``: ``stages + 1`` (the block term is
        registered, then accumulated; each further stage adds one)."""
        return self._pipeline.stages + 1

    @property
    def stages(self) -> int:
        """Register stages (:mod:`lowbit.hdl.pipeline`)."""
        return self._pipeline.stages

    @property
    def pipeline(self):
        """The :class:`~lowbit.hdl.pipeline.Pipeline`: the cut points with registers."""
        return self._pipeline

    @property
    def block_fmt(self):
        """Block format of both operands."""
        return self._fmt

    @property
    def accumulator(self):
        """The golden accumulator the ``acc`` output implements."""
        return self._acc

    def describe(self) -> dict:
        """Parameters for the export sidecar and result rows."""
        row = {"block_fmt": self._fmt.to_dict(), "term": self._term.describe(),
               "acc": self._stage.describe()}
        if self._pipeline.stages > 1:
            row["pipeline"] = self._pipeline.describe()
        return row

    def elaborate(self, platform):
        m = Module()
        m.submodules.term = term = self._term
        m.submodules.accumulate = stage = self._stage
        m.d.comb += [term.a.eq(self.a), term.a_scale.eq(self.a_scale),
                     term.b.eq(self.b), term.b_scale.eq(self.b_scale)]
        pipe = self._pipeline
        valid_in, clear_in = self.valid, self.clear
        if term.registers:  # clear travels beside the term through the generator's cuts
            m.d.comb += term.valid.eq(self.valid)
            valid_in = term.term_valid
            for t in range(term.registers):
                held = Signal(name=f"clear_d{t + 1}")
                m.d.sync += held.eq(clear_in)
                clear_in = held
        # Pipeline register between the block term (products, adder tree, scales) and the
        # accumulator's add-and-round.
        valid, clear = Signal(name="term_valid"), Signal(name="term_clear")
        m.d.sync += [valid.eq(valid_in), clear.eq(clear_in)]
        for name in TERM_PORTS:
            port = getattr(term, f"term_{name}")
            held = Signal.like(port, name=f"held_{name}")
            m.d.sync += held.eq(port)
            m.d.comb += getattr(stage, f"term_{name}").eq(held)
        m.d.comb += [stage.valid.eq(valid), stage.clear.eq(clear)]
        result = stage.result
        if pipe.has("result"):
            done = Signal(name="result_ready")  # the loop took a term last edge
            m.d.sync += done.eq(valid)
            (result,) = pipe.hold(m, "result", done, [stage.result])
            valid = done
        m.d.comb += self.acc.eq(result)
        pipe.out_valid(m, valid, self.out_valid)
        return m
