"""Adder-tree dot-product engine: ``lanes`` multipliers feeding one output register.

Each input beat carries ``lanes`` elements of a row of ``A`` and ``lanes`` of a column of ``B``
(one K chunk); the ``lanes`` products are summed and added into the output register. One dot
product ``C[m, n]`` is computed at a time, K chunks in order, outputs in row-major ``(m, n)``
order. The handshake is :mod:`lowbit.hdl.gemm_engine`'s; ``in_ready`` is always high.

The datapath depends on the ``pe``:

IntMac, FloatMac or PositMac
    A :class:`~lowbit.hdl.dot_tree.DotTree`: the products, a pipelined binary adder tree, the
    pe's accumulator (its module docstring says which accumulators are exact in tree order and
    how K is padded).
CarrySaveDot (the bit-weight rewrite)
    The ``lanes`` products' partial products compressed together with a carry-save
    accumulator in one cycle (:class:`~lowbit.hdl.carry_save_dot.CarrySaveDot`, built with
    ``lanes`` lanes from the template); one carry-propagate adder resolves the output.
"""

import numpy as np
from amaranth.hdl import Module
from amaranth.lib.wiring import In, Out

from lowbit.errors import OperationError
from lowbit.golden import gemm
from lowbit.hdl.carry_save_dot import CarrySaveDot
from lowbit.hdl.component import Component
from lowbit.hdl.dot_tree import DotTree
from lowbit.hdl.gemm_engine import (MAX_ARRAY_SIDE, GemmEngine, check_shape, pack, port_width,
                                    tiles)
from lowbit.hdl.gemm_stream import matrix_dims

UNIT = "AdderTreeEngine"


def dot_datapath(unit: str, lanes: int, pe):
    """The datapath summing ``lanes`` products of ``pe`` into one output: a
    :class:`~lowbit.hdl.dot_tree.DotTree` of a MAC template, or a ``lanes``-lane replica of a
    CarrySaveDot template (errors start with ``unit``)."""
    if isinstance(pe, CarrySaveDot):
        return Component.part(pe.replica(lanes=lanes))
    return Component.part(DotTree(lanes, pe, unit=unit))


class AdderTreeEngine(GemmEngine):
    """A ``lanes``-multiplier adder-tree dot-product engine with ``pe``'s formats and
    accumulator; see the module docstring.

    Parameters
    ----------
    lanes : int
        Multipliers (products per beat, the tree's fan-in): a power of two from 2 to 64.
    pe : IntMac, FloatMac, PositMac or CarrySaveDot
        The MAC unit whose operand formats and accumulator the engine implements (with the
        tree order for a FloatAccumulator, see :attr:`accumulator`); it is a template, never
        elaborated. IntMac needs ``overflow="wrap"``; a chained unit, an MxDotUnit or a SimdMac
        is refused. A CarrySaveDot (any lane count) makes the bit-weight engine.

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
        self._lanes, self._pe = lanes, pe
        self._dot = dot_datapath(UNIT, lanes, pe)
        self._wc = max(port_width(self._dot, name) for name in self._dot.result_ports)
        super().__init__({
            "in_valid": In(1), "in_ready": Out(1),
            "a": In(lanes * self._dot.a_fmt.bits), "b": In(lanes * self._dot.b_fmt.bits),
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
    def datapath(self):
        """The DotTree or CarrySaveDot the engine elaborates."""
        return self._dot

    @property
    def accumulator(self):
        """The golden accumulator every output implements: the pe's, with order
        ``tree(lanes)`` for a FloatAccumulator."""
        return self._dot.accumulator

    @property
    def a_fmt(self):
        """Format of ``A``."""
        return self._dot.a_fmt

    @property
    def b_fmt(self):
        """Format of ``B``."""
        return self._dot.b_fmt

    @property
    def pipeline_depth(self) -> int:
        """Edges from the one accepting a beat to the one registering it in the output
        register (:attr:`DotTree.pipeline_depth`; 0 for a CarrySaveDot)."""
        return self._dot.pipeline_depth

    @property
    def padding_codes(self) -> tuple:
        """``(a, b)``: the codes of the lanes past ``K`` in the last chunk."""
        return self._dot.padding_codes

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
        return {"lanes": self._lanes, "pe": {"unit": type(self._pe).__name__,
                                             **self._pe.describe()},
                "datapath": type(self._dot).__name__, **self._dot.describe()}

    # --- cycle count ---------------------------------------------------------------------------
    def cycles(self, M, K, N) -> int:
        """Cycles of an ``M x K`` by ``K x N`` GEMM, first input beat to last output beat.

        ``M N ceil(K / lanes) + D`` with ``D`` = :attr:`pipeline_depth` (a
        :class:`~lowbit.hdl.dot_tree.DotTree`: ``ceil(log2(lanes) / levels_per_stage) + 1``; a
        CarrySaveDot: 0): one beat per K chunk of every output, back to back (``in_ready``
        never drops), and the last beat reaches the output register ``D`` edges after the edge
        accepting it. For example 8 lanes of rounding nodes: ``D = 4``
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
        pad_a, pad_b = self.padding_codes
        A = np.concatenate([A, np.full((M, chunks * L - K), pad_a, A.dtype)], axis=1)
        B = np.concatenate([B, np.full((chunks * L - K, N), pad_b, B.dtype)], axis=0)
        a_words = [[pack(A[m, c * L:(c + 1) * L], self._dot.a_fmt.bits) for c in range(chunks)]
                   for m in range(M)]
        b_words = [[pack(B[c * L:(c + 1) * L, n], self._dot.b_fmt.bits) for c in range(chunks)]
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
        return gemm.gemm(A[:, :k_end], B[:k_end, :], self.a_fmt, self.b_fmt,
                         self.accumulator)

    def _shape_of(self, A, B):
        return matrix_dims(A, B)

    # --- hardware ------------------------------------------------------------------------------
    def elaborate(self, platform):
        m = Module()
        m.submodules.dot = dot = self._dot
        m.d.comb += [self.in_ready.eq(1), dot.valid.eq(self.in_valid), dot.clear.eq(self.first),
                     dot.last.eq(self.last), dot.a.eq(self.a), dot.b.eq(self.b)]
        values = tuple(getattr(dot, name) for name in dot.result_ports)
        result = values[0] if len(values) == 1 else dot.resolve(m, values, "result")
        m.d.comb += [self.out_valid.eq(dot.done), self.c.eq(result)]
        return m
