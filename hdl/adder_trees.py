"""The adder trees behind a :class:`~lowbit.hdl.dot_tree.DotTree`, one class per kind of
accumulator.

A tree sums the ``lanes`` products of one beat and accumulates the sum into the datapath's
register: its leaves (the products, in the tree's number system), its node adder (a balanced
binary tree of them), how many levels fit between two pipeline registers, its root's
accumulation into the register (with a pipelined pe's ``result`` cut), its construction checks,
which zero product pads K, and its sidecar fields. The DotTree owns the ports, the pipeline
registers and the padding codes; :func:`tree_for` picks the tree from the pe's accumulator
(:data:`TREES`).

The tree adds products in a different order than a MAC's register does, so each tree is exact
only where golden is order-independent, or implements golden's tree order (see each class).
"""

from fractions import Fraction

from amaranth.hdl import Module, Mux, Signal, Value, signed

from lowbit.errors import OperationError
from lowbit.golden.accumulators import FloatAccumulator, Interleaved, tree
from lowbit.hdl.accumulate import AccumulatorStage, add_rounded
from lowbit.hdl.component import Component
from lowbit.hdl.exact_multiplier import ExactMultiplier
from lowbit.hdl.exact_term import connect_terms, signed_width, sum_flags
from lowbit.hdl.float_decoder import FloatDecoder
from lowbit.hdl.float_encoder import FloatEncoder
from lowbit.hdl.gemm_stream import tiles
from lowbit.hdl.posit_decoder import PositDecoder


class AdderTree:
    """The tree of ``lanes`` products of ``pe``'s formats into ``pe``'s accumulator.

    Parameters
    ----------
    lanes : int
        Leaves, products per beat: a power of two (the engine using it checks the range; 2 or
        more for a :class:`RoundedTree`).
    pe : IntMac, FloatMac or PositMac
        The datapath's template unit: its operand formats and accumulator.
    unit : str
        The engine's name, which starts the error messages.
    """

    #: Tree levels between pipeline registers.
    levels_per_stage: int
    #: K padding wants a ``-0`` product where the operand formats have one (the identity of a
    #: sum with signed zeros); else ``+0``.
    pads_with_negative_zero = False

    def __init__(self, lanes, pe, unit):
        self.lanes, self.pe, self.unit = lanes, pe, unit
        self.a_fmt, self.b_fmt = pe.a_fmt, pe.b_fmt

    @property
    def accumulator(self):
        """The golden accumulator every output implements: the pe's."""
        return self.pe.accumulator

    @property
    def result_cut(self) -> int:
        """1 when the pe registers its rounded result (a ``result`` cut,
        :mod:`lowbit.hdl.pipeline`), which the root's output register then has too; else 0."""
        return int(self.pe.pipeline.has("result"))

    def accumulator_fields(self) -> dict:
        """The accumulator's parameters beyond ``kind`` and ``out_fmt`` (the sidecar's)."""
        raise NotImplementedError

    def leaves(self, m, a, b) -> tuple:
        """Add to ``m`` the leaves of one beat from the lanes' operand codes ``a`` and ``b``
        (one value each per lane); return ``(leaves, flags)``, ``flags`` the 1-bit signals the
        root needs besides the sum (piped beside the tree)."""
        raise NotImplementedError

    def node(self, m, x, y, depth, j) -> Signal:
        """Add to ``m`` node ``j`` of level ``depth`` (1 above the leaves), adding ``x`` and
        ``y``; return its sum."""
        raise NotImplementedError

    def accumulate(self, m, root, valid, first, last, flags, out):
        """Add to ``m`` the output register: the root sum ``root`` added when ``valid``,
        starting over at ``first``; drive ``out`` (the register's code) from it. Return
        ``(valid, last)`` as they stand when ``out`` holds the result (later by
        :attr:`result_cut`)."""
        raise NotImplementedError

    def _decoder(self, fmt):
        """A decoder of operand format ``fmt`` into an exact ``(sig, exp)`` pair."""
        return FloatDecoder(fmt)

    def _multiplier(self, m, i, a, b):
        """Lane ``i``'s decoders and exact multiplier of codes ``a`` and ``b``; return
        ``(multiplier, (da, db))``."""
        da, db = self._decoder(self.a_fmt), self._decoder(self.b_fmt)
        m.submodules[f"a{i}_decoder"], m.submodules[f"b{i}_decoder"] = da, db
        mul = ExactMultiplier(x_width=da.sig_width, x_exp=(da.exp_min, da.exp_max),
                              y_width=db.sig_width, y_exp=(db.exp_min, db.exp_max))
        m.submodules[f"multiply{i}"] = mul
        m.d.comb += [da.code.eq(a), db.code.eq(b), *mul.connect("x", da), *mul.connect("y", db)]
        return mul, (da, db)


class IntegerTree(AdderTree):
    """A tree of exact integer adders over leaves in ``[low, high]`` (attributes the subclasses
    set): no node rounds, so two levels share a pipeline stage."""

    levels_per_stage = 2

    def node(self, m, x, y, depth, j):
        node = Signal(signed(signed_width(self.low << depth, self.high << depth)),
                      name=f"sum{depth}_{j}")
        m.d.comb += node.eq(x + y)
        return node


class IntTree(IntegerTree):
    """``FixedAccumulator(..., overflow="wrap")`` (IntMac): an exact integer tree of the
    products (fixed-point: on the product grid), then ``acc = (acc + tree) mod 2**bits``;
    wrapping is associative, so this is golden's sequential sum. ``saturate`` clamps after
    every addition in K order, which no tree reproduces: refused."""

    def __init__(self, lanes, pe, unit):
        acc = pe.accumulator
        if acc.overflow != "wrap":
            raise OperationError(
                f"{unit} cannot implement FixedAccumulator overflow {acc.overflow!r}: "
                f"golden saturates after every addition in K order, which an adder tree "
                f"reorders; use overflow='wrap' (exact in any order) or a SystolicArray")
        super().__init__(lanes, pe, unit)
        fa, fb = self.a_fmt, self.b_fmt
        ends = [x * y for x in (fa.min_int, fa.max_int) for y in (fb.min_int, fb.max_int)]
        self.low, self.high = min(ends), max(ends)

    def accumulator_fields(self):
        acc = self.accumulator
        return {"int_bits": acc.int_bits, "frac_bits": acc.frac_bits, "overflow": acc.overflow}

    def leaves(self, m, a, b):
        fa, fb = self.a_fmt, self.b_fmt
        leaves = []
        for i in range(self.lanes):
            x, y = Value.cast(a[i]), Value.cast(b[i])
            x = x.as_signed() if fa.signed else x
            y = y.as_signed() if fb.signed else y
            product = Signal(signed(signed_width(self.low, self.high)), name=f"product{i}")
            m.d.comb += product.eq(x * y)
            leaves.append(product)
        return leaves, []

    def accumulate(self, m, root, valid, first, last, flags, out):
        acc = Signal(signed(len(out)))
        with m.If(valid):
            m.d.sync += acc.eq(Mux(first, 0, acc) + root)  # truncated: wraps
        m.d.comb += out.eq(acc)
        return valid, last


class ExactTree(IntegerTree):
    """``ExactAccumulator`` (FloatMac): the exact products are placed on one fixed-point grid
    (weight ``2**g``: the product of the two operands' smallest LSBs) and summed exactly by an
    integer tree; the sum is one exact term of the pe's Kulisch register
    (:class:`~lowbit.hdl.accumulate.AccumulatorStage`). Exact sums are order-independent: the
    result is golden's. An exact sum is -0 only when every product is -0, so a +0 would turn
    such a sum into +0: K is padded with a -0 product."""

    pads_with_negative_zero = True

    def __init__(self, lanes, pe, unit):
        super().__init__(lanes, pe, unit)
        da, db = (Component.part(self._decoder(fmt)) for fmt in (self.a_fmt, self.b_fmt))
        self.grid_exp = da.exp_min + db.exp_min
        top = Fraction(self.a_fmt.max_value) * Fraction(self.b_fmt.max_value)
        self.grid_max = int(top / Fraction(2) ** self.grid_exp)
        self.low, self.high = -self.grid_max, self.grid_max
        self.sum_width = (self.grid_max * lanes).bit_length()  # the sum's weight is 2**g
        self._check_register()

    def _check_register(self):
        """Raise if the pe's register cannot take a tree sum as one term."""

    def accumulator_fields(self):
        return {"rounding": self.accumulator.rounding}

    def _stage_terms(self):
        """Terms the Kulisch register sums: the pe's products, now ``lanes`` per term."""
        return tiles(self.pe.describe()["acc"]["terms"], self.lanes)

    def leaves(self, m, a, b):
        """Exact products as signed integers on the grid ``2**g`` (0 for NaN and infinite
        products), and the beat's flags ``(all -0, NaN, infinite, -Inf seen)`` as golden
        ``exact_sum`` derives them."""
        width = self.grid_max.bit_length()
        leaves, products = [], []
        for i in range(self.lanes):
            mul, (da, db) = self._multiplier(m, i, a[i], b[i])
            shift = Signal(range(max(mul.exp_range[1] - self.grid_exp + 1, 2)),
                           name=f"shift{i}")  # never 0 bits: Verilator rejects `[-1:0]`
            magnitude = Signal(width, name=f"magnitude{i}")
            product = Signal(signed(width + 1), name=f"product{i}")
            m.d.comb += [
                shift.eq(mul.exp - self.grid_exp),
                magnitude.eq(mul.sig << shift),
                product.eq(Mux(mul.nan | mul.inf, 0,
                               Mux(mul.negative, -magnitude, magnitude))),
            ]
            leaves.append(product)
            products.append((mul, da.zero | db.zero))
        return leaves, sum_flags(m, products)

    def accumulate(self, m, root, valid, first, last, flags, out):
        """The tree's sum as one exact term: sign (of a zero: all products -0), magnitude on
        the grid, or a NaN / infinity; the rounded result registered by the pe's ``result``
        cut, if it has one."""
        m.submodules.accumulate = stage = AccumulatorStage(
            self.accumulator, self.sum_width, self.grid_exp, self.grid_exp,
            terms=self._stage_terms())
        all_neg_zero, nan, inf, inf_negative = flags[0], flags[1], flags[2], flags[3]
        magnitude = Signal(self.sum_width)
        m.d.comb += [
            magnitude.eq(Mux(root < 0, -root, root)),
            stage.term_nan.eq(nan),
            stage.term_inf.eq(inf),
            stage.term_negative.eq(Mux(inf, inf_negative,
                                       Mux(root == 0, all_neg_zero, root < 0))),
            stage.term_sig.eq(Mux(nan | inf, 0, magnitude)),
            stage.term_exp.eq(self.grid_exp),
        ]
        m.d.comb += [stage.valid.eq(valid), stage.clear.eq(first)]
        result = stage.result
        if self.result_cut:  # the pe's result cut: the rounded code registered
            done = Signal(name="result_ready")
            m.d.sync += done.eq(valid & last)
            (result,) = self.pe.pipeline.hold(m, "result", done, [stage.result])
            valid, last = done, 1
        m.d.comb += out.eq(result)
        return valid, last


class QuireTree(ExactTree):
    """``Quire`` (PositMac): :class:`ExactTree` into the pe's quire, which must hold a tree
    sum; posits have one zero, so K is padded with +0."""

    pads_with_negative_zero = False

    def _decoder(self, fmt):
        return PositDecoder(fmt)

    def _check_register(self):
        acc = self.accumulator
        need = self.grid_exp + self.sum_width - acc.lsb_exponent + 1
        if acc.width_bits < need:
            raise OperationError(
                f"{self.unit} pe quire Quire({acc.posit_fmt.name}, {acc.standard!r}) "
                f"has {acc.width_bits} bits; a sum of {self.lanes} {acc.posit_fmt.name} "
                f"products needs {need}")

    def accumulator_fields(self):
        return {"standard": self.accumulator.standard}

    def _stage_terms(self):
        return None  # the quire's width is the standard's


class RoundedTree(AdderTree):
    """``FloatAccumulator(fmt, rounding, "sequential", overflow)`` (FloatMac): golden
    ``FloatAccumulator(fmt, rounding, tree(lanes), overflow)`` (:attr:`accumulator`): every
    product rounded into ``fmt`` (the tree leaves), every tree node ``round(x + y)`` into
    ``fmt``, each group sum added into the ``fmt`` register with one rounding, starting from
    +0 at a ``first`` beat. Golden's tree order pads its last group with +0."""

    levels_per_stage = 1

    def __init__(self, lanes, pe, unit):
        acc = pe.accumulator
        if isinstance(acc.order, Interleaved):
            raise OperationError(
                f"{unit} pe accumulator {acc.name} cannot be interleaved: the engine adds one "
                f"tree sum per output beat into its register in the tree({lanes}) order; use a "
                f"sequential FloatAccumulator")
        if lanes < 2:
            raise OperationError(f"{unit} sums a FloatAccumulator pe's products in golden's "
                                 f"tree order, which needs 2 or more lanes, not {lanes}")
        super().__init__(lanes, pe, unit)
        self._accumulator = FloatAccumulator(acc.fmt, acc.rounding, tree(lanes), acc.overflow)

    @property
    def accumulator(self):
        """The pe's FloatAccumulator in order ``tree(lanes)``."""
        return self._accumulator

    def accumulator_fields(self):
        acc = self._accumulator
        return {"rounding": acc.rounding, "order": str(acc.order), "overflow": acc.overflow}

    def leaves(self, m, a, b):
        """Each exact product rounded into the accumulator format (golden's tree leaves)."""
        acc = self._accumulator
        leaves = []
        for i in range(self.lanes):
            mul, _ = self._multiplier(m, i, a[i], b[i])
            low, high = mul.exp_range
            encode = FloatEncoder(acc.fmt, sig_width=mul.sig_width, exp_min=low, exp_max=high,
                                  rounding=acc.rounding, overflow=acc.overflow)
            m.submodules[f"round{i}"] = encode
            m.d.comb += connect_terms(encode, mul)
            leaves.append(encode.code)
        return leaves, []

    def node(self, m, x, y, depth, j):
        """``round(x + y)`` of two codes of the accumulator format."""
        name = f"node{depth}_{j}"
        node = Module()
        m.submodules[name] = node
        node.submodules.decode_y = decode = FloatDecoder(self._accumulator.fmt)
        node.d.comb += decode.code.eq(y)
        total = add_rounded(node, self._accumulator, x, decode,
                            (decode.sig_width, decode.exp_min, decode.exp_max))
        out = Signal(self._accumulator.fmt.bits, name=f"{name}_sum")
        node.d.comb += out.eq(total)
        return out

    def accumulate(self, m, root, valid, first, last, flags, out):
        """The root, decoded, added into the pe's sequential register."""
        m.submodules.root_decoder = decode = FloatDecoder(self._accumulator.fmt)
        m.submodules.accumulate = stage = AccumulatorStage(
            self.pe.accumulator, decode.sig_width, decode.exp_min, decode.exp_max)
        m.d.comb += [decode.code.eq(root), *stage.connect_term(decode),
                     stage.valid.eq(valid), stage.clear.eq(first), out.eq(stage.result)]
        return valid, last


TREES = {"fixed": IntTree, "exact": ExactTree, "quire": QuireTree, "float": RoundedTree}
"""The tree for each accumulator ``kind`` (:attr:`FixedAccumulator.kind` ...)."""


def tree_for(lanes, pe, unit) -> AdderTree:
    """The tree summing ``lanes`` products of ``pe`` into its accumulator (:data:`TREES`);
    its errors start with ``unit``."""
    return TREES[pe.accumulator.kind](lanes, pe, unit)
