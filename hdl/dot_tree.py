"""Adder-tree dot-product datapath: ``lanes`` multipliers, a pipelined adder tree, one register.

Each beat carries ``lanes`` elements of a row of ``A`` and ``lanes`` of a column of ``B`` (one K
chunk of one output); the ``lanes`` products are summed by a balanced binary tree and the tree's
sum is added into the register. The :class:`~lowbit.hdl.adder_tree_engine.AdderTreeEngine` is
one of these behind the GEMM handshake; the :class:`~lowbit.hdl.cube_engine.CubeEngine` has one
per output of its tile.

The tree adds products in a different order than a MAC's register does, so the datapath is
exact only where golden is order-independent, or implements golden's tree order. The tree is
chosen by the ``pe``'s accumulator (:mod:`lowbit.hdl.adder_trees`, whose classes state each
tree's semantics):

``FixedAccumulator(..., overflow="wrap")`` (IntMac)
    :class:`~lowbit.hdl.adder_trees.IntTree`: an exact integer tree into a wrapping register,
    golden's sequential sum (``saturate`` is refused).
``ExactAccumulator`` (FloatMac), ``Quire`` (PositMac)
    :class:`~lowbit.hdl.adder_trees.ExactTree`, :class:`~lowbit.hdl.adder_trees.QuireTree`:
    exact products on one fixed-point grid, an exact integer tree, one term of the pe's Kulisch
    register; golden's exact sum.
``FloatAccumulator(fmt, rounding, "sequential", overflow)`` (FloatMac)
    :class:`~lowbit.hdl.adder_trees.RoundedTree`: golden ``FloatAccumulator(fmt, rounding,
    tree(lanes), overflow)`` (exposed as :attr:`DotTree.accumulator`), the leaves and every node
    rounded into ``fmt``; 2 or more lanes.

Pipelined PEs (``stages`` above 1, :mod:`lowbit.hdl.pipeline`): the datapath registers every
lane's products and its tree on its own, so a PE's cuts before the accumulator loop add no
register here; its ``result`` cut (a Kulisch register's or quire's rounded output) registers
the datapath's rounded ``result``, one edge more in :attr:`~DotTree.pipeline_depth`.

Padding: when ``K`` is not a multiple of ``lanes`` the last chunk's trailing lanes carry a pair
of operand codes whose product changes no sum (:attr:`DotTree.padding_codes`): ``+0`` (codes 0,
0: golden's tree order pads its last group with +0), or, for an ExactAccumulator, a ``-0``
product (an exact sum is -0 only when every product is -0, so a +0 would turn such a sum into
+0; -0 is the exact sum's identity).
"""

import numpy as np
from amaranth.hdl import Cat, Module, Signal, Value
from amaranth.lib.wiring import In, Out

from lowbit.errors import OperationError
from lowbit.golden import arith
from lowbit.hdl.adder_trees import tree_for
from lowbit.hdl.component import Component
from lowbit.hdl.float_mac import FloatMac
from lowbit.hdl.gemm_engine import port_width, tiles
from lowbit.hdl.int_mac import IntMac
from lowbit.hdl.mx_dot import MxDotUnit
from lowbit.hdl.posit_mac import PositMac
from lowbit.hdl.simd_mac import SimdMac


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
        self._lanes, self._levels = lanes, lanes.bit_length() - 1
        self._a_fmt, self._b_fmt = pe.a_fmt, pe.b_fmt
        self._wa, self._wb = pe.a_fmt.bits, pe.b_fmt.bits
        self._wc = port_width(pe, "acc")
        self._tree = tree_for(lanes, pe, unit)
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
    def tree(self):
        """The :class:`~lowbit.hdl.adder_trees.AdderTree` of the datapath (by the pe's
        accumulator)."""
        return self._tree

    @property
    def accumulator(self):
        """The golden accumulator every output implements: the pe's, with order
        ``tree(lanes)`` for a FloatAccumulator."""
        return self._tree.accumulator

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
        return self._tree.levels_per_stage

    @property
    def pipeline_depth(self) -> int:
        """Registers from the input ports to the output register, that included:
        ``ceil(log2(lanes) / levels_per_stage) + 1`` (the products, each tree stage, the last
        of which ends at the root), plus 1 for a pipelined PE with a ``result`` cut (a
        Kulisch register's or quire's rounded output registered, :mod:`lowbit.hdl.pipeline`;
        its cuts before the loop add nothing: the tree registers its products on its own). A
        beat taken at edge ``t`` is in the register at edge ``t + pipeline_depth``."""
        return tiles(self._levels, self.levels_per_stage) + 1 + self._tree.result_cut

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
        acc = self.accumulator
        row = {"kind": acc.kind, "out_fmt": acc.out_fmt.to_dict(),
               **self._tree.accumulator_fields()}
        return {"accumulator": row, "levels_per_stage": self.levels_per_stage,
                "pipeline_depth": self.pipeline_depth, "padding_codes": list(self._pad)}

    def _padding_codes(self) -> tuple:
        """Operand codes whose exact product is +0, or -0 when the tree prefers it and some
        product of the formats can be -0 (else +0 is the identity)."""
        found = None
        for negative in ((True, False) if self._tree.pads_with_negative_zero else (False,)):
            found = _zero_product(self._a_fmt, self._b_fmt, negative)
            if found is not None:
                break
        if found is None:  # zero-less operand formats (E8M0 x E8M0)
            raise OperationError(f"{self._unit} pads K with zero products, but "
                                 f"{self._a_fmt.name} x {self._b_fmt.name} has none")
        return found

    # --- hardware ------------------------------------------------------------------------------
    def elaborate(self, platform):
        m = Module()
        a = [self.a[i * self._wa:(i + 1) * self._wa] for i in range(self._lanes)]
        b = [self.b[i * self._wb:(i + 1) * self._wb] for i in range(self._lanes)]
        leaves, flags = self._tree.leaves(m, a, b)
        side = Cat(self.valid, self.clear, self.last, *flags)
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
        valid, last = self._tree.accumulate(m, level[0], valid, first, last, side[3:],
                                            self.result)
        m.d.sync += self.done.eq(valid & last)
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
