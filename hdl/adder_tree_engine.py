"""Adder-tree dot-product engine: ``lanes`` multipliers, a pipelined adder tree, one register.

Each input beat carries ``lanes`` elements of a row of ``A`` and ``lanes`` of a column of ``B``
(one K chunk); the ``lanes`` products are summed by a balanced binary tree and the tree's sum
is added into the output register. One dot product ``C[m, n]`` is computed at a time, K chunks
in order, outputs in row-major ``(m, n)`` order. The handshake is
:mod:`lowbit.hdl.gemm_engine`'s; ``in_ready`` is always high.

The tree adds products in a different order than a MAC's register does, so the engine is exact
only where golden is order-independent, or implements golden's tree order. The tree is chosen
by the ``pe``'s accumulator (:mod:`lowbit.hdl.adder_trees`, whose classes state each tree's
semantics):

``FixedAccumulator(..., overflow="wrap")`` (IntMac)
    :class:`~lowbit.hdl.adder_trees.IntTree`: an exact integer tree into a wrapping register,
    golden's sequential sum (``saturate`` is refused).
``ExactAccumulator`` (FloatMac), ``Quire`` (PositMac)
    :class:`~lowbit.hdl.adder_trees.ExactTree`, :class:`~lowbit.hdl.adder_trees.QuireTree`:
    exact products on one fixed-point grid, an exact integer tree, one term of the pe's Kulisch
    register; golden's exact sum.
``FloatAccumulator(fmt, rounding, "sequential", overflow)`` (FloatMac)
    :class:`~lowbit.hdl.adder_trees.RoundedTree`: golden ``FloatAccumulator(fmt, rounding,
    tree(lanes), overflow)`` (exposed as :attr:`AdderTreeEngine.accumulator`), the leaves and
    every node rounded into ``fmt``.

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

import numpy as np
from amaranth.hdl import Cat, Module, Signal, Value
from amaranth.lib.wiring import In, Out

from lowbit.errors import OperationError
from lowbit.golden import arith, gemm
from lowbit.hdl.adder_trees import tree_for
from lowbit.hdl.component import Component
from lowbit.hdl.float_mac import FloatMac
from lowbit.hdl.gemm_engine import (MAX_ARRAY_SIDE, GemmEngine, check_shape, pack, port_width,
                                    tiles)
from lowbit.hdl.int_mac import IntMac
from lowbit.hdl.mx_dot import MxDotUnit
from lowbit.hdl.posit_mac import PositMac
from lowbit.hdl.simd_mac import SimdMac


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
        self._lanes, self._levels = lanes, lanes.bit_length() - 1
        self._pe = pe  # the template: its formats and accumulator only
        self._a_fmt, self._b_fmt = pe.a_fmt, pe.b_fmt
        self._wa, self._wb = pe.a_fmt.bits, pe.b_fmt.bits
        self._wc = port_width(pe, "acc")
        self._tree = tree_for(lanes, pe)
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
    def tree(self):
        """The :class:`~lowbit.hdl.adder_trees.AdderTree` behind the engine (by the pe's
        accumulator)."""
        return self._tree

    @property
    def accumulator(self):
        """The golden accumulator every output implements: the pe's, with order
        ``tree(lanes)`` for a FloatAccumulator."""
        return self._tree.accumulator

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
        return self._tree.levels_per_stage

    @property
    def pipeline_depth(self) -> int:
        """Registers from the input ports to the output register, that included:
        ``ceil(log2(lanes) / levels_per_stage) + 1`` (the products, each tree stage, the last
        of which ends at the root), plus 1 for a PE with a ``result`` cut (module docstring).
        A beat accepted at edge ``t`` is in the output register at edge
        ``t + pipeline_depth``."""
        return tiles(self._levels, self.levels_per_stage) + 1 + self._tree.result_cut

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
        acc = self.accumulator
        row = {"kind": acc.kind, "out_fmt": acc.out_fmt.to_dict(),
               **self._tree.accumulator_fields()}
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
                         self.accumulator)

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
        """Operand codes whose exact product is +0, or -0 when the tree prefers it and some
        product of the formats can be -0 (else +0 is the identity)."""
        found = None
        for negative in ((True, False) if self._tree.pads_with_negative_zero else (False,)):
            found = _zero_product(self._a_fmt, self._b_fmt, negative)
            if found is not None:
                break
        if found is None:  # zero-less operand formats (E8M0 x E8M0)
            raise OperationError(f"AdderTreeEngine pads K with zero products, but "
                                 f"{self._a_fmt.name} x {self._b_fmt.name} has none")
        return found

    # --- hardware ------------------------------------------------------------------------------
    def elaborate(self, platform):
        m = Module()
        m.d.comb += self.in_ready.eq(1)
        a = [self.a[i * self._wa:(i + 1) * self._wa] for i in range(self._lanes)]
        b = [self.b[i * self._wb:(i + 1) * self._wb] for i in range(self._lanes)]
        leaves, flags = self._tree.leaves(m, a, b)
        side = Cat(self.in_valid, self.first, self.last, *flags)
        # Pipeline: the leaves, then every `levels_per_stage` levels and the root.
        level = [_register(m, leaf, f"leaf{i}") for i, leaf in enumerate(leaves)]
        side = _register(m, side, "side0")
        stages = 0
        for depth in range(1, self._levels + 1):
            level = [self._tree.node(m, level[2 * j], level[2 * j + 1], depth, j)
                     for j in range(len(level) // 2)]
            if depth % self.levels_per_stage == 0 or depth == self._levels:
                stages += 1
                level = [_register(m, node, f"level{depth}_{j}") for j, node in
                         enumerate(level)]
                side = _register(m, side, f"side{stages}")
        valid, first, last = side[0], side[1], side[2]
        valid, last = self._tree.accumulate(m, level[0], valid, first, last, side[3:], self.c)
        m.d.sync += self.out_valid.eq(valid & last)
        return m


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
