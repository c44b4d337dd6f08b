"""Adder-tree dot-product engine: ``lanes`` multipliers, a pipelined adder tree, one register.

Each input beat carries ``lanes`` elements of a row of ``A`` and ``lanes`` of a column of ``B``
(one K chunk); the ``lanes`` products are summed by a balanced binary tree and the tree's sum
is added into the output register. One dot product ``C[m, n]`` is computed at a time, K chunks
in order, outputs in row-major ``(m, n)`` order. The handshake is
:mod:`lowbit.hdl.gemm_engine`'s; ``in_ready`` is always high.

The tree adds products in a different order than a MAC's register does, so the engine is exact
only where golden is order-independent, or implements golden's tree order. By the ``pe``'s
accumulator:

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
    :attr:`AdderTreeEngine.accumulator`): every product rounded into ``fmt`` (the tree leaves),
    every tree node ``round(x + y)`` into ``fmt``, each group sum added into the ``fmt``
    register with one rounding, starting from +0 at a ``first`` beat.

Pipelined PEs (``stages`` above 1, :mod:`lowbit.hdl.pipeline`): the engine registers every
lane's products and its tree on its own, so a PE's cuts before the accumulator loop
(``product``, ``decoded``, ``partial_products``) add no register here; its ``result`` cut (a
Kulisch register's or quire's rounded output) registers the engine's rounded output ``c``,
one edge more in :attr:`~AdderTreeEngine.pipeline_depth`.

Padding: when ``K`` is not a multiple of ``lanes`` the last chunk's trailing lanes carry a pair
of operand codes whose product changes no sum: ``+0`` (codes 0, 0: golden's tree order pads its
last group with +0), or, for an ExactAccumulator, a ``-0`` product (an exact sum is -0 only
when every product is -0, so a +0 would turn such a sum into +0; -0 is the exact sum's
identity).
"""

from fractions import Fraction

import numpy as np
from amaranth.hdl import Cat, Module, Mux, Signal, Value, signed
from amaranth.lib.wiring import In, Out

from lowbit.errors import OperationError
from lowbit.golden import arith, gemm
from lowbit.golden.accumulators import (ExactAccumulator, FixedAccumulator, FloatAccumulator,
                                        Interleaved, Quire, tree)
from lowbit.hdl.accumulate import AccumulatorStage, add_rounded
from lowbit.hdl.component import Component
from lowbit.hdl.exact_multiplier import ExactMultiplier
from lowbit.hdl.exact_term import connect_terms, signed_width, sum_flags
from lowbit.hdl.float_decoder import FloatDecoder
from lowbit.hdl.float_encoder import FloatEncoder
from lowbit.hdl.float_mac import FloatMac
from lowbit.hdl.gemm_engine import (MAX_ARRAY_SIDE, GemmEngine, check_shape, pack, port_width,
                                    tiles)
from lowbit.hdl.int_mac import IntMac
from lowbit.hdl.mx_dot import MxDotUnit
from lowbit.hdl.posit_decoder import PositDecoder
from lowbit.hdl.posit_mac import PositMac
from lowbit.hdl.simd_mac import SimdMac

ROUNDED_LEVELS_PER_STAGE = 1
"""Tree levels between pipeline registers when every node rounds (FloatAccumulator)."""

EXACT_LEVELS_PER_STAGE = 2
"""Tree levels between pipeline registers when nodes are integer adders."""


class AdderTreeEngine(GemmEngine):
    """A ``lanes``-multiplier adder-tree dot-product engine with ``pe``'s formats and
    accumulator; see the module docstring.

    Parameters
    ----------
    lanes : int
        Multipliers (products per beat, the tree's fan-in): a power of two from 2 to 64.
    pe : IntMac, FloatMac or PositMac
        The MAC unit whose operand formats and accumulator the engine implements (with the
        tree order for a FloatAccumulator, see :attr:`accumulator`); it is a template, never
        elaborated. IntMac needs ``overflow="wrap"``; a chained unit, an MxDotUnit or a SimdMac
        is refused.

    Members
    -------
    in_valid : In(1), in_ready : Out(1)
        Input handshake; ``in_ready`` is always high.
    a : In(lanes * wa)
        Lane ``i`` (bits ``[i wa, (i + 1) wa)``, ``wa = a_fmt.bits``): ``A[m, k0 + i]``.
    b : In(lanes * wb)
        Lane ``i`` (``wb = b_fmt.bits``): ``B[k0 + i, n]``.
    first : In(1)
        The beat is the first K chunk of an output: the register restarts from zero.
    last : In(1)
        The beat is the last K chunk of an output: the result leaves :attr:`pipeline_depth`
        edges later.
    out_valid : Out(1), c : Out(wc)
        Output handshake; one result per beat, a code of ``accumulator.out_fmt`` (``wc`` bits,
        the pe's ``acc`` width).
    """

    def __init__(self, lanes, pe):
        if isinstance(pe, Component):
            self.part(pe)  # a template, never elaborated: even when the engine is refused
        if (isinstance(lanes, bool) or not isinstance(lanes, int)
                or not 2 <= lanes <= MAX_ARRAY_SIDE or lanes & (lanes - 1)):
            raise OperationError(f"AdderTreeEngine lanes must be a power of two from 2 to "
                                 f"{MAX_ARRAY_SIDE}, not {lanes!r}")
        if isinstance(pe, MxDotUnit):
            raise OperationError(
                f"AdderTreeEngine pe cannot be an MxDotUnit: it is already a block dot-product "
                f"tree ({pe.block_fmt.name}); use it alone or as a SystolicArray PE")
        if isinstance(pe, SimdMac):
            raise OperationError(
                "AdderTreeEngine pe cannot be a SimdMac: its lanes and formats change with the "
                "mode; use an IntMac of one mode's formats")
        if not isinstance(pe, (IntMac, FloatMac, PositMac)):
            raise OperationError(f"AdderTreeEngine pe must be an IntMac, FloatMac or PositMac, "
                                 f"not {type(pe).__name__}")
        if pe.chained:
            raise OperationError("AdderTreeEngine pe must be an unchained unit; the engine has "
                                 "one register of its own")
        acc = pe.accumulator
        if isinstance(getattr(acc, "order", None), Interleaved):
            raise OperationError(
                f"AdderTreeEngine pe accumulator {acc.name} cannot be interleaved: the engine "
                f"adds one tree sum per output beat into its register in the tree({lanes}) "
                f"order; use a sequential FloatAccumulator")
        if isinstance(acc, FixedAccumulator) and acc.overflow != "wrap":
            raise OperationError(
                f"AdderTreeEngine cannot implement FixedAccumulator overflow {acc.overflow!r}: "
                f"golden saturates after every addition in K order, which an adder tree "
                f"reorders; use overflow='wrap' (exact in any order) or a SystolicArray")
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
            "in_valid": In(1), "in_ready": Out(1),
            "a": In(lanes * self._wa), "b": In(lanes * self._wb),
            "first": In(1), "last": In(1),
            "out_valid": Out(1), "c": Out(self._wc),
        })

    # --- parameters ----------------------------------------------------------------------------
    @property
    def lanes(self) -> int:
        """Multipliers, products per beat: the tree's fan-in."""
        return self._lanes

    @property
    def pe(self):
        """The MAC unit whose formats and accumulator the engine implements."""
        return self._pe

    @property
    def accumulator(self):
        """The golden accumulator every output implements: the pe's, with order
        ``tree(lanes)`` for a FloatAccumulator."""
        return self._accumulator

    @property
    def a_fmt(self):
        """Format of ``A``."""
        return self._a_fmt

    @property
    def b_fmt(self):
        """Format of ``B``."""
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
        of which ends at the root), plus 1 for a PE with a ``result`` cut (module docstring).
        A beat accepted at edge ``t`` is in the output register at edge
        ``t + pipeline_depth``."""
        return tiles(self._levels, self.levels_per_stage) + 1 + self._result_cut

    @property
    def _result_cut(self) -> int:
        """1 when the PE registers its rounded result (a ``result`` cut), else 0."""
        return int(self._pe.pipeline.has("result"))

    @property
    def padding_codes(self) -> tuple:
        """``(a, b)``: the codes of the lanes past ``K`` in the last chunk (see the module
        docstring)."""
        return self._pad

    @property
    def natural_tile(self) -> tuple:
        """``(1, lanes, 1)``: one output, one beat."""
        return 1, self._lanes, 1

    @property
    def lanes_out(self) -> int:
        return 1

    @property
    def out_bits(self) -> int:
        return self._wc

    @property
    def peak_macs_per_cycle(self) -> int:
        """``lanes`` products per cycle."""
        return self._lanes

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
        return {"lanes": self._lanes, "pe": {"unit": type(self._pe).__name__,
                                             **self._pe.describe()},
                "accumulator": row, "levels_per_stage": self.levels_per_stage,
                "pipeline_depth": self.pipeline_depth,
                "padding_codes": list(self._pad)}

    # --- cycle count ---------------------------------------------------------------------------
    def cycles(self, M, K, N) -> int:
        """Cycles of an ``M x K`` by ``K x N`` GEMM, first input beat to last output beat.

        ``M N ceil(K / lanes) + D`` with ``D`` = :attr:`pipeline_depth` ``=
        ceil(log2(lanes) / levels_per_stage) + 1``: one beat per K chunk of every output, back
        to back (``in_ready`` never drops), and the last beat reaches the output register ``D``
        edges after the edge accepting it. For example 8 lanes of rounding nodes: ``D = 4``
        (products, three tree levels), so one output with ``K = 8`` takes 5 cycles.
        """
        check_shape(M, K, N)
        return M * N * tiles(K, self._lanes) + self.pipeline_depth

    # --- host side -----------------------------------------------------------------------------
    def input_beats(self, A, B) -> list:
        """The input beats of ``C = A @ B``: for each ``(m, n)`` row-major, ``ceil(K / lanes)``
        chunks, the last padded with :attr:`padding_codes`."""
        A, B = np.asarray(A), np.asarray(B)
        M, K, N = self._shape_of(A, B)
        L = self._lanes
        chunks = tiles(K, L)
        pad_a, pad_b = self._pad
        A = np.concatenate([A, np.full((M, chunks * L - K), pad_a, A.dtype)], axis=1)
        B = np.concatenate([B, np.full((chunks * L - K, N), pad_b, B.dtype)], axis=0)
        a_words = [[pack(A[m, c * L:(c + 1) * L], self._wa) for c in range(chunks)]
                   for m in range(M)]
        b_words = [[pack(B[c * L:(c + 1) * L, n], self._wb) for c in range(chunks)]
                   for n in range(N)]
        return [{"a": a_words[m][c], "b": b_words[n][c], "first": int(c == 0),
                 "last": int(c == chunks - 1)}
                for m in range(M) for n in range(N) for c in range(chunks)]

    def output_map(self, M, K, N) -> list:
        """``[(m, n, K)]`` for every output beat, row-major."""
        check_shape(M, K, N)
        return [[(m, n, K)] for m in range(M) for n in range(N)]

    def golden(self, A, B, k_end) -> np.ndarray:
        """Golden codes of ``A[:, :k_end] @ B[:k_end, :]`` with :attr:`accumulator`."""
        A, B = np.asarray(A), np.asarray(B)
        return gemm.gemm(A[:, :k_end], B[:k_end, :], self._a_fmt, self._b_fmt,
                         self._accumulator)

    def _shape_of(self, A, B):
        if A.ndim != 2 or B.ndim != 2:
            raise OperationError(f"A and B must be matrices of codes, not of shapes {A.shape} "
                                 f"and {B.shape}")
        (M, K), (K2, N) = A.shape, B.shape
        if K != K2:
            raise OperationError(f"A is {M} x {K} but B is {K2} x {N}: their K must match")
        check_shape(M, K, N)
        return M, K, N

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
            raise OperationError(f"AdderTreeEngine pads K with zero products, but "
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
                    f"AdderTreeEngine pe quire Quire({acc.posit_fmt.name}, {acc.standard!r}) "
                    f"has {acc.width_bits} bits; a sum of {self._lanes} {acc.posit_fmt.name} "
                    f"products needs {need}")

    def elaborate(self, platform):
        m = Module()
        m.d.comb += self.in_ready.eq(1)
        side = [self.in_valid, self.first, self.last]
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
            m.d.comb += self.c.eq(acc)
        elif self._kind == "exact":
            m.submodules.accumulate = stage = self._exact_stage()
            self._drive_exact_term(m, stage, root, side[3:])
            m.d.comb += [stage.valid.eq(valid), stage.clear.eq(first)]
            result = stage.result
            if self._result_cut:  # the PE's result cut: the rounded code registered
                done = Signal(name="result_ready")
                m.d.sync += done.eq(valid & last)
                (result,) = self._pe.pipeline.hold(m, "result", done, [stage.result])
                valid, last = done, 1
            m.d.comb += self.c.eq(result)
        else:
            m.submodules.root_decoder = decode = FloatDecoder(self._accumulator.fmt)
            m.submodules.accumulate = stage = AccumulatorStage(
                self._pe.accumulator, decode.sig_width, decode.exp_min, decode.exp_max)
            m.d.comb += [decode.code.eq(root), *stage.connect_term(decode),
                         stage.valid.eq(valid), stage.clear.eq(first), self.c.eq(stage.result)]
        m.d.sync += self.out_valid.eq(valid & last)
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
