"""Adder-tree dot-product datapath: ``lanes`` multipliers, a pipelined adder tree, one register.

Each beat carries ``lanes`` elements of a row of ``A`` and ``lanes`` of a column of ``B`` (one K
chunk of one output); the ``lanes`` products are summed by a balanced binary tree and the tree's
sum is added into the register. The :class:`~lowbit.hdl.adder_tree_engine.AdderTreeEngine` is
one of these behind the GEMM handshake; the :class:`~lowbit.hdl.cube_engine.CubeEngine` has one
per output of its tile.

The tree adds products in a different order than a MAC's register does, so the datapath is
exact only where golden is order-independent, or implements golden's tree order. By the
``pe``'s accumulator:

``FixedAccumulator(..., overflow="wrap")`` (IntMac)
    Exact integer tree of the products, then ``acc = (acc + tree) mod 2**bits``; wrapping is
    associative, so this is golden's sequential sum. ``saturate`` clamps after every addition
    in K order, which no tree reproduces: refused.
``ExactAccumulator`` (FloatMac), ``Quire`` (PositMac)
    The exact products are placed on one fixed-point grid (weight: the product of the two
    operands' smallest LSBs) and summed exactly by an integer tree; the sum is one exact term of
    the pe's Kulisch register (:class:`~lowbit.hdl.accumulate.AccumulatorStage`). Exact sums
    are order-independent: the result is golden's.
``FloatAccumulator(fmt, rounding, "sequential", overflow)`` (FloatMac)
    Golden ``FloatAccumulator(fmt, rounding, tree(lanes), overflow)`` (exposed as
    :attr:`DotTree.accumulator`): every product rounded into ``fmt`` (the tree leaves), every
    tree node ``round(x + y)`` into ``fmt``, each group sum added into the ``fmt`` register
    with one rounding, starting from +0 at a ``clear`` beat.

Padding: when ``K`` is not a multiple of ``lanes`` the last chunk's trailing lanes carry a pair
of operand codes whose product changes no sum (:attr:`DotTree.padding_codes`): ``+0`` (codes 0,
0: golden's tree order pads its last group with +0), or, for an ExactAccumulator, a ``-0``
product (an exact sum is -0 only when every product is -0, so a +0 would turn such a sum into
+0; -0 is the exact sum's identity).
"""

from fractions import Fraction

import numpy as np
from amaranth.hdl import Cat, Module, Mux, Signal, Value, signed
from amaranth.lib.wiring import In, Out

from lowbit.errors import OperationError
from lowbit.golden import arith
from lowbit.golden.accumulators import (ExactAccumulator, FixedAccumulator, FloatAccumulator,
                                        Interleaved, Quire, tree)
from lowbit.hdl.accumulate import AccumulatorStage, add_rounded
from lowbit.hdl.component import Component
from lowbit.hdl.exact_multiplier import ExactMultiplier
from lowbit.hdl.exact_term import connect_terms, signed_width, sum_flags
from lowbit.hdl.float_decoder import FloatDecoder
from lowbit.hdl.float_encoder import FloatEncoder
from lowbit.hdl.float_mac import FloatMac
from lowbit.hdl.gemm_engine import port_width, tiles
from lowbit.hdl.int_mac import IntMac
from lowbit.hdl.mx_dot import MxDotUnit
from lowbit.hdl.posit_decoder import PositDecoder
from lowbit.hdl.posit_mac import PositMac
from lowbit.hdl.simd_mac import SimdMac

ROUNDED_LEVELS_PER_STAGE = 1
"""Tree levels between pipeline registers when every node rounds (FloatAccumulator)."""

EXACT_LEVELS_PER_STAGE = 2
"""Tree levels between pipeline registers when nodes are integer adders."""


class DotTree(Component):
    """``lanes`` products of ``pe``'s formats per beat, summed by a pipelined adder tree into
    one register with ``pe``'s accumulator; see the module docstring.

    Parameters
    ----------
    lanes : int
        Multipliers (products per beat, the tree's fan-in): a power of two from 1 to 64 (the
        engine using it says which it allows).
    pe : IntMac, FloatMac or PositMac
        The MAC unit whose operand formats and accumulator the datapath implements (with the
        tree order for a FloatAccumulator, see :attr:`accumulator`); a template, never
        elaborated. IntMac needs ``overflow="wrap"``; a chained unit, an MxDotUnit or a SimdMac
        is refused.
    unit : str
        The engine's name, which starts the error messages.

    Members
    -------
    valid : In(1)
        A beat this cycle.
    clear : In(1)
        The beat is the first K chunk of an output: the register restarts from zero.
    last : In(1)
        The beat is the last K chunk of an output.
    a : In(lanes * wa), b : In(lanes * wb)
        Lane ``i`` (``wa = a_fmt.bits``, ``wb = b_fmt.bits``): one element of ``A`` and ``B``.
    done : Out(1)
        High in the cycle after the register added a beat marked ``last``: ``result`` then
        holds that output (:attr:`pipeline_depth` edges after the beat was taken).
    result : Out(wc)
        The register as a code of ``accumulator.out_fmt`` (``wc`` bits, the pe's ``acc``
        width).
    """

    def __init__(self, lanes, pe, *, unit="DotTree"):
        self._unit = unit
        if isinstance(pe, Component):
            self.part(pe)  # a template, never elaborated: even when the datapath is refused
        if isinstance(pe, MxDotUnit):
            raise OperationError(
                f"{unit} pe cannot be an MxDotUnit: it is already a block dot-product "
                f"tree ({pe.block_fmt.name}); use it alone or as a SystolicArray PE")
        if isinstance(pe, SimdMac):
            raise OperationError(
                f"{unit} pe cannot be a SimdMac: its lanes and formats change with the "
                f"mode; use an IntMac of one mode's formats")
        if not isinstance(pe, (IntMac, FloatMac, PositMac)):
            raise OperationError(f"{unit} pe must be an IntMac, FloatMac, PositMac or "
                                 f"CarrySaveDot, not {type(pe).__name__}")
        if pe.chained:
            raise OperationError(f"{unit} pe must be an unchained unit; the engine has "
                                 f"one register of its own")
        acc = pe.accumulator
        if isinstance(getattr(acc, "order", None), Interleaved):
            raise OperationError(
                f"{unit} pe accumulator {acc.name} cannot be interleaved: the engine adds one "
                f"tree sum per output beat into its register in the tree({lanes}) order; use a "
                f"sequential FloatAccumulator")
        if isinstance(acc, FixedAccumulator) and acc.overflow != "wrap":
            raise OperationError(
                f"{unit} cannot implement FixedAccumulator overflow {acc.overflow!r}: "
                f"golden saturates after every addition in K order, which an adder tree "
                f"reorders; use overflow='wrap' (exact in any order) or a SystolicArray")
        if isinstance(acc, FloatAccumulator) and lanes < 2:
            raise OperationError(f"{unit} sums a FloatAccumulator pe's products in golden's "
                                 f"tree order, which needs 2 or more lanes, not {lanes}")
        self._lanes, self._levels = lanes, lanes.bit_length() - 1
        self._pe = pe  # the template: its formats and accumulator only
        self._a_fmt, self._b_fmt = pe.a_fmt, pe.b_fmt
        self._wa, self._wb = pe.a_fmt.bits, pe.b_fmt.bits
        self._wc = port_width(pe, "acc")
        if isinstance(acc, FixedAccumulator):
            self._kind, self._accumulator = "int", acc
        elif isinstance(acc, FloatAccumulator):
            self._kind = "rounded"
            self._accumulator = FloatAccumulator(acc.fmt, acc.rounding, tree(lanes),
                                                 acc.overflow)
        else:
            self._kind, self._accumulator = "exact", acc
            self._grid()
        self._pad = self._padding_codes()
        super().__init__({
            "valid": In(1), "clear": In(1), "last": In(1),
            "a": In(lanes * self._wa), "b": In(lanes * self._wb),
            "done": Out(1), "result": Out(self._wc),
        })

    # --- parameters ----------------------------------------------------------------------------
    @property
    def lanes(self) -> int:
        """Multipliers, products per beat: the tree's fan-in."""
        return self._lanes

    @property
    def accumulator(self):
        """The golden accumulator every output implements: the pe's, with order
        ``tree(lanes)`` for a FloatAccumulator."""
        return self._accumulator

    @property
    def a_fmt(self):
        """Format of the ``a`` lanes."""
        return self._a_fmt

    @property
    def b_fmt(self):
        """Format of the ``b`` lanes."""
        return self._b_fmt

    @property
    def levels_per_stage(self) -> int:
        """Tree levels between pipeline registers: 1 when the nodes round (FloatAccumulator),
        2 when they are integer adders."""
        if self._kind == "rounded":
            return ROUNDED_LEVELS_PER_STAGE
        return EXACT_LEVELS_PER_STAGE

    @property
    def pipeline_depth(self) -> int:
        """Registers from the input ports to the output register, that included:
        ``ceil(log2(lanes) / levels_per_stage) + 1`` (the products, each tree stage, the last
        of which ends at the root), plus 1 for a pipelined PE with a ``result`` cut (a
        Kulisch register's or quire's rounded output registered, :mod:`lowbit.hdl.pipeline`;
        its cuts before the loop add nothing: the tree registers its products on its own). A
        beat taken at edge ``t`` is in the register at edge ``t + pipeline_depth``."""
        return tiles(self._levels, self.levels_per_stage) + 1 + self._result_cut

    @property
    def _result_cut(self) -> int:
        """1 when the PE registers its rounded result (a ``result`` cut), else 0."""
        return int(self._pe.pipeline.has("result"))

    @property
    def latency(self) -> int:
        """Edges from taking a beat to the register holding it, that one included:
        ``pipeline_depth + 1``."""
        return self.pipeline_depth + 1

    @property
    def padding_codes(self) -> tuple:
        """``(a, b)``: the codes of the lanes past ``K`` in the last chunk (see the module
        docstring)."""
        return self._pad

    @property
    def result_ports(self) -> tuple:
        """The port holding the result: ``("result",)``."""
        return ("result",)

    def describe(self) -> dict:
        """Parameters for the export sidecar and result rows."""
        acc = self._accumulator
        row = {"kind": acc.kind, "out_fmt": acc.out_fmt.to_dict()}
        if isinstance(acc, FixedAccumulator):
            row.update(int_bits=acc.int_bits, frac_bits=acc.frac_bits, overflow=acc.overflow)
        elif isinstance(acc, FloatAccumulator):
            row.update(rounding=acc.rounding, order=str(acc.order), overflow=acc.overflow)
        elif isinstance(acc, Quire):
            row.update(standard=acc.standard)
        else:
            row.update(rounding=acc.rounding)
        return {"accumulator": row, "levels_per_stage": self.levels_per_stage,
                "pipeline_depth": self.pipeline_depth, "padding_codes": list(self._pad)}

    def _padding_codes(self) -> tuple:
        """Operand codes whose exact product is +0, or -0 for an ExactAccumulator when some
        product of the formats can be -0 (else +0 is the identity)."""
        want_negative = isinstance(self._accumulator, ExactAccumulator)
        found = None
        for negative in ((True, False) if want_negative else (False,)):
            found = _zero_product(self._a_fmt, self._b_fmt, negative)
            if found is not None:
                break
        if found is None:  # zero-less operand formats (E8M0 x E8M0)
            raise OperationError(f"{self._unit} pads K with zero products, but "
                                 f"{self._a_fmt.name} x {self._b_fmt.name} has none")
        return found

    # --- hardware ------------------------------------------------------------------------------
    def _decoder(self, fmt):
        return PositDecoder(fmt) if isinstance(self._pe, PositMac) else FloatDecoder(fmt)

    def _grid(self):
        """Exact trees: the grid weight ``2**g`` (``g``: smallest product LSB exponent) and the
        largest grid magnitude of one product; check a Quire holds a tree sum."""
        da, db = (self.part(self._decoder(fmt)) for fmt in (self._a_fmt, self._b_fmt))
        self._grid_exp = da.exp_min + db.exp_min
        top = Fraction(self._a_fmt.max_value) * Fraction(self._b_fmt.max_value)
        self._grid_max = int(top / Fraction(2) ** self._grid_exp)
        self._sum_width = (self._grid_max * self._lanes).bit_length()
        self._term_exp = (self._grid_exp, self._grid_exp)  # the sum's weight is always 2**g
        acc = self._pe.accumulator
        if isinstance(acc, Quire):
            need = self._term_exp[1] + self._sum_width - acc.lsb_exponent + 1
            if acc.width_bits < need:
                raise OperationError(
                    f"{self._unit} pe quire Quire({acc.posit_fmt.name}, {acc.standard!r}) "
                    f"has {acc.width_bits} bits; a sum of {self._lanes} {acc.posit_fmt.name} "
                    f"products needs {need}")

    def elaborate(self, platform):
        m = Module()
        side = [self.valid, self.clear, self.last]
        if self._kind == "int":
            leaves, low, high = self._int_leaves(m)
        elif self._kind == "exact":
            leaves, flags = self._grid_leaves(m)
            low, high = -self._grid_max, self._grid_max
            side += flags
        else:
            leaves = self._rounded_leaves(m)
        side = Cat(*side)
        # Pipeline: the leaves, then every `levels_per_stage` levels and the root.
        level = [_register(m, leaf, f"leaf{i}") for i, leaf in enumerate(leaves)]
        side = _register(m, side, "side0")
        stages = 0
        for depth in range(1, self._levels + 1):
            nodes = []
            for j in range(len(level) // 2):
                x, y = level[2 * j], level[2 * j + 1]
                if self._kind == "rounded":
                    nodes.append(self._rounded_node(m, x, y, f"node{depth}_{j}"))
                else:
                    node = Signal(signed(signed_width(low << depth, high << depth)),
                                  name=f"sum{depth}_{j}")
                    m.d.comb += node.eq(x + y)
                    nodes.append(node)
            level = nodes
            if depth % self.levels_per_stage == 0 or depth == self._levels:
                stages += 1
                level = [_register(m, node, f"level{depth}_{j}") for j, node in
                         enumerate(level)]
                side = _register(m, side, f"side{stages}")
        root = level[0]
        valid, first, last = side[0], side[1], side[2]
        if self._kind == "int":
            acc = Signal(signed(self._wc))
            with m.If(valid):
                m.d.sync += acc.eq(Mux(first, 0, acc) + root)  # truncated: wraps
            m.d.comb += self.result.eq(acc)
        elif self._kind == "exact":
            m.submodules.accumulate = stage = self._exact_stage()
            self._drive_exact_term(m, stage, root, side[3:])
            m.d.comb += [stage.valid.eq(valid), stage.clear.eq(first)]
            result = stage.result
            if self._result_cut:  # the PE's result cut: the rounded code registered
                ready = Signal(name="result_ready")
                m.d.sync += ready.eq(valid & last)
                (result,) = self._pe.pipeline.hold(m, "result", ready, [stage.result])
                valid, last = ready, 1
            m.d.comb += self.result.eq(result)
        else:
            m.submodules.root_decoder = decode = FloatDecoder(self._accumulator.fmt)
            m.submodules.accumulate = stage = AccumulatorStage(
                self._pe.accumulator, decode.sig_width, decode.exp_min, decode.exp_max)
            m.d.comb += [decode.code.eq(root), *stage.connect_term(decode),
                         stage.valid.eq(valid), stage.clear.eq(first),
                         self.result.eq(stage.result)]
        m.d.sync += self.done.eq(valid & last)
        return m

    def _lane(self, port, i, width):
        return port[i * width:(i + 1) * width]

    def _int_leaves(self, m):
        """Integer products (fixed-point: on the product grid), and their range."""
        fa, fb = self._a_fmt, self._b_fmt
        ends = [x * y for x in (fa.min_int, fa.max_int) for y in (fb.min_int, fb.max_int)]
        low, high = min(ends), max(ends)
        leaves = []
        for i in range(self._lanes):
            a = Value.cast(self._lane(self.a, i, self._wa))
            b = Value.cast(self._lane(self.b, i, self._wb))
            a = a.as_signed() if fa.signed else a
            b = b.as_signed() if fb.signed else b
            product = Signal(signed(signed_width(low, high)), name=f"product{i}")
            m.d.comb += product.eq(a * b)
            leaves.append(product)
        return leaves, low, high

    def _multiplier(self, m, i):
        """Lane ``i``'s decoders and exact multiplier; return ``(multiplier, (da, db))``."""
        da, db = self._decoder(self._a_fmt), self._decoder(self._b_fmt)
        m.submodules[f"a{i}_decoder"], m.submodules[f"b{i}_decoder"] = da, db
        mul = ExactMultiplier(x_width=da.sig_width, x_exp=(da.exp_min, da.exp_max),
                              y_width=db.sig_width, y_exp=(db.exp_min, db.exp_max))
        m.submodules[f"multiply{i}"] = mul
        m.d.comb += [da.code.eq(self._lane(self.a, i, self._wa)),
                     db.code.eq(self._lane(self.b, i, self._wb)),
                     *mul.connect("x", da), *mul.connect("y", db)]
        return mul, (da, db)

    def _rounded_leaves(self, m):
        """Each exact product rounded into the accumulator format (golden's tree leaves)."""
        acc = self._accumulator
        leaves = []
        for i in range(self._lanes):
            mul, _ = self._multiplier(m, i)
            low, high = mul.exp_range
            encode = FloatEncoder(acc.fmt, sig_width=mul.sig_width, exp_min=low, exp_max=high,
                                  rounding=acc.rounding, overflow=acc.overflow)
            m.submodules[f"round{i}"] = encode
            m.d.comb += connect_terms(encode, mul)
            leaves.append(encode.code)
        return leaves

    def _rounded_node(self, m, x, y, name):
        """``round(x + y)`` of two codes of the accumulator format (one tree node)."""
        node = Module()
        m.submodules[name] = node
        node.submodules.decode_y = decode = FloatDecoder(self._accumulator.fmt)
        node.d.comb += decode.code.eq(y)
        total = add_rounded(node, self._accumulator, x, decode,
                            (decode.sig_width, decode.exp_min, decode.exp_max))
        out = Signal(self._accumulator.fmt.bits, name=f"{name}_sum")
        node.d.comb += out.eq(total)
        return out

    def _grid_leaves(self, m):
        """Exact products as signed integers on the grid ``2**g`` (0 for NaN and infinite
        products), and the chunk's flags ``(all -0, NaN, infinite, -Inf seen)`` as golden
        ``exact_sum`` derives them."""
        width = self._grid_max.bit_length()
        leaves, products = [], []
        for i in range(self._lanes):
            mul, (da, db) = self._multiplier(m, i)
            shift = Signal(range(max(mul.exp_range[1] - self._grid_exp + 1, 2)),
                           name=f"shift{i}")  # never 0 bits: Verilator rejects `[-1:0]`
            magnitude = Signal(width, name=f"magnitude{i}")
            product = Signal(signed(width + 1), name=f"product{i}")
            m.d.comb += [
                shift.eq(mul.exp - self._grid_exp),
                magnitude.eq(mul.sig << shift),
                product.eq(Mux(mul.nan | mul.inf, 0,
                               Mux(mul.negative, -magnitude, magnitude))),
            ]
            leaves.append(product)
            products.append((mul, da.zero | db.zero))
        return leaves, sum_flags(m, products)

    def _exact_stage(self):
        acc = self._pe.accumulator
        terms = None
        if isinstance(acc, ExactAccumulator):  # the pe's products, now `lanes` per term
            terms = tiles(self._pe.describe()["acc"]["terms"], self._lanes)
        return AccumulatorStage(acc, self._sum_width, *self._term_exp, terms=terms)

    def _drive_exact_term(self, m, stage, total, flags):
        """The tree's sum as one exact term: sign (of a zero: all products -0), magnitude on
        the grid, or a NaN / infinity."""
        all_neg_zero, nan, inf, inf_negative = flags[0], flags[1], flags[2], flags[3]
        magnitude = Signal(self._sum_width)
        m.d.comb += [
            magnitude.eq(Mux(total < 0, -total, total)),
            stage.term_nan.eq(nan),
            stage.term_inf.eq(inf),
            stage.term_negative.eq(Mux(inf, inf_negative,
                                       Mux(total == 0, all_neg_zero, total < 0))),
            stage.term_sig.eq(Mux(nan | inf, 0, magnitude)),
            stage.term_exp.eq(self._grid_exp),
        ]


def _register(m, value, name):
    """``value`` through one register named ``name``."""
    reg = Signal(Value.cast(value).shape(), name=name)
    m.d.sync += reg.eq(value)
    return reg


def _zero_product(a_fmt, b_fmt, negative: bool):
    """Codes ``(a, b)`` whose golden exact product is a zero of sign ``negative``, or None:
    ``(0, 0)`` when it is one, else the first a zero of either format times a code of the
    other gives."""
    def hit(xa, xb):
        p = arith.exact_mul(xa, xb, a_fmt, b_fmt)
        found = (p.sig == 0) & ~p.nan & ~p.inf & (p.negative == negative)
        return (int(xa[np.argmax(found)]), int(xb[np.argmax(found)])) if found.any() else None

    origin = np.zeros(1, np.uint64)
    if (pair := hit(origin, origin)) is not None:
        return pair
    codes_a = np.arange(1 << a_fmt.bits, dtype=np.uint64)
    codes_b = np.arange(1 << b_fmt.bits, dtype=np.uint64)
    zeros_a = codes_a[_zeros(a_fmt, codes_a)]
    zeros_b = codes_b[_zeros(b_fmt, codes_b)]
    return hit(np.concatenate([np.repeat(zeros_a, len(codes_b)), np.tile(codes_a, len(zeros_b))]),
               np.concatenate([np.tile(codes_b, len(zeros_a)), np.repeat(zeros_b, len(codes_a))]))


def _zeros(fmt, codes) -> np.ndarray:
    """Which of ``codes`` are zeros of ``fmt`` (of either sign)."""
    x = fmt.to_exact(codes)
    return (x.sig == 0) & ~x.nan & ~x.inf
