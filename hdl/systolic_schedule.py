"""The host-side schedule of systolic arrays: input beats, output map, cycle counts and peak
rates, no hardware (this module does not import Amaranth).

The :class:`~lowbit.hdl.systolic_array.SystolicArray` RTL delegates its host side to a
:class:`SystolicSchedule`, and the cycle model and testbenches use the same schedule and
formulas, so the count a testbench measures and the count the model uses are one formula. The
dataflows, the tile order and the padding are described in :mod:`lowbit.hdl.systolic_array`.
Arrays of any size: the cycle model goes beyond the largest RTL array.
"""

from dataclasses import dataclass

import numpy as np

from lowbit.errors import OperationError, check_choice
from lowbit.golden.formats import BlockArray
from lowbit.hdl.gemm_stream import (Feedback, check_dimension, check_shape, pack, tiles,
                                    tile_output_map)

DATAFLOWS = ("os", "ws")
"""The dataflows of the RTL (``is`` exists in the cycle model only: :func:`systolic_cycles`)."""


def systolic_peak_macs(rows: int, cols: int, pe_peak: int) -> int:
    """Multiply-accumulates per cycle of ``rows x cols`` PEs doing ``pe_peak`` each (one
    for a scalar MAC, a block for an MX dot unit, the lanes of a SIMD mode)."""
    return rows * cols * pe_peak


def systolic_cycles(M, K, N, *, rows, cols, dataflow, pe_latency=1, block_size=1,
                    simd_lanes=1) -> int:
    """Cycles of an ``M x K`` by ``K x N`` GEMM on an ``R x C`` array, first input beat to
    last output beat, both included (the :class:`SystolicArray` RTL's count, any size).

    ``os``: ``T (Kb + R + C - 2) + R + L - 1`` with ``T = ceil(M/R) ceil(N/(C S))`` output
    tiles (``S``: ``simd_lanes`` of a SIMD PE, else 1), ``Kb = ceil(K / block_size)`` beats
    per tile (``block_size`` 1 for scalar PEs) and ``L`` the PE latency: each tile takes its
    ``Kb`` beats plus the bubble, and the last tile's copy (``R + C - 2 + L`` edges after its
    last beat) is followed by ``R`` drain beats.

    ``ws``: ``T (R + M + C - 1) + R - 1`` with ``T = ceil(K/R) ceil(N/C)`` weight tiles:
    each takes ``R`` preload beats, ``M`` row beats and the ``C - 1`` bubble; the last row's
    results leave ``R + C - 2`` edges after its beat.

    ``is`` (input-stationary; the cycle model's, no RTL): the ``ws`` array run on the
    transposed product ``C^T = B^T A^T``, so ``A`` tiles are preloaded and ``B``'s columns
    stream: ``ws`` with ``M`` and ``N`` exchanged.
    """
    check_shape(M, K, N)
    R, C = rows, cols
    if dataflow == "os":
        T = tiles(M, R) * tiles(N, C * simd_lanes)
        return T * (tiles(K, block_size) + R + C - 2) + R + pe_latency - 1
    if dataflow == "is":
        M, N = N, M
    elif dataflow != "ws":
        check_choice("systolic dataflow", dataflow, ("os", "ws", "is"), OperationError)
    T = tiles(K, R) * tiles(N, C)
    return T * (R + M + C - 1) + R - 1


@dataclass(frozen=True)
class SystolicSchedule:
    """The host side of an ``rows x cols`` systolic array: what to stream in, what comes out,
    how long it takes (the contract of :mod:`lowbit.hdl.gemm_engine`).

    Parameters
    ----------
    rows, cols : int
        Array size ``R x C``.
    dataflow : {"os", "ws"}
        Output-stationary or weight-stationary.
    a_fields, b_fields : tuple of int
        Widths in bits of the fields of one ``a`` lane (one PE row) and one ``b`` lane (one PE
        column), low bits first: the PE's ``a`` port, then ``a_scale`` for an MX PE.
    pe_latency : int
        Cycles from a PE's operation to its register holding the result.
    block_fmt : block format, optional
        An MX PE's block format: operands are BlockArrays of it, one block per lane and beat.
    simd_lanes : int
        Output columns one PE computes (a SIMD PE's lanes ``S``), 1 otherwise.
    simd_bits : (int, int), optional
        A SIMD PE's activation and weight widths in bits: its ``a`` lane holds the activation
        in each of ``S`` fields, its ``b`` lane ``S`` weights.
    """

    rows: int
    cols: int
    dataflow: str
    a_fields: tuple
    b_fields: tuple
    pe_latency: int = 1
    block_fmt: object = None
    simd_lanes: int = 1
    simd_bits: tuple = None

    def __post_init__(self):
        check_dimension("SystolicSchedule", "rows", self.rows, 1 << 16)
        check_dimension("SystolicSchedule", "cols", self.cols, 1 << 16)
        check_choice("SystolicSchedule dataflow", self.dataflow, DATAFLOWS, OperationError)

    @property
    def block_size(self) -> int:
        """Elements of ``A`` and ``B`` per K step and lane: the MX block size, else 1."""
        return 1 if self.block_fmt is None else self.block_fmt.block_size

    @property
    def a_bits(self) -> int:
        """Bits of one ``a`` lane."""
        return sum(self.a_fields)

    @property
    def b_bits(self) -> int:
        """Bits of one ``b`` lane."""
        return sum(self.b_fields)

    @property
    def tile_cols(self) -> int:
        """Output columns of a tile: ``C`` times the PE's output columns (SIMD lanes)."""
        return self.cols * self.simd_lanes

    @property
    def natural_tile(self) -> tuple:
        """``(R, R block_size, C S)``: one output tile with ``R`` K steps (os); ``(R, R, C)``:
        ``R`` rows through one weight tile (ws)."""
        return self.rows, self.rows * self.block_size, self.tile_cols

    @property
    def peak_macs_per_cycle(self) -> int:
        """``R C`` products per cycle, times the block size (MX) or lane count (SIMD)."""
        return systolic_peak_macs(self.rows, self.cols, self.block_size * self.simd_lanes)

    @property
    def bubble(self) -> int:
        """Edges between a tile's ``last`` beat and the next tile's first accepted beat, minus
        one: ``R + C - 2`` (os) or ``C - 1`` (ws)."""
        if self.dataflow == "os":
            return self.rows + self.cols - 2
        return self.cols - 1

    def cycles(self, M, K, N) -> int:
        """Cycles of an ``M x K`` by ``K x N`` GEMM, first input beat to last output beat:
        :func:`systolic_cycles` with this array's size, dataflow and PE."""
        return systolic_cycles(M, K, N, rows=self.rows, cols=self.cols,
                               dataflow=self.dataflow, pe_latency=self.pe_latency,
                               block_size=self.block_size,
                               simd_lanes=self.tile_cols // self.cols)

    def input_beats(self, A, B) -> list:
        """The input beats of ``C = A @ B`` (codes, or BlockArrays for MX PEs)."""
        M, K, N = self.shape_of(A, B)
        if self.dataflow == "os":
            return self._os_beats(A, B, M, K, N)
        return self._ws_beats(np.asarray(A), np.asarray(B), M, K, N)

    def output_map(self, M, K, N) -> list:
        """``(m, n, k_end)`` per lane of every output beat (``None`` for padding)."""
        check_shape(M, K, N)
        R, C = self.rows, self.cols
        if self.dataflow == "os":
            return tile_output_map(M, K, N, R, self.tile_cols)
        out = []
        for n0 in range(0, N, C):
            for k0 in range(0, K, R):
                k_end = min(K, k0 + R)
                for m in range(M):
                    out.append([(m, n0 + j, k_end) if n0 + j < N else None for j in range(C)])
        return out

    def shape_of(self, A, B) -> tuple:
        """``(M, K, N)`` of ``A @ B``; raise unless the operands suit the PE and agree."""
        if self.block_fmt is not None:
            for x, what in ((A, "A"), (B, "B")):
                if not isinstance(x, BlockArray) or x.fmt != self.block_fmt:
                    raise OperationError(f"{what} must be a BlockArray of "
                                         f"{self.block_fmt.name}")
            (M, K), (K2, N) = A.shape, B.shape
        else:
            (M, K), (K2, N) = np.shape(A), np.shape(B)
        if K != K2:
            raise OperationError(f"A is {M} x {K} but B is {K2} x {N}: their K must match")
        check_shape(M, K, N)
        return M, K, N

    def _lane_values(self, fmt_side, data, index, step):
        """Lane values of one operand (``a`` rows or ``b`` columns) for K step ``step``."""
        fields = self.a_fields if fmt_side == "a" else self.b_fields
        if isinstance(data, BlockArray):
            bs = self.block_size
            el_bits, _ = fields
            width = el_bits // bs
            lanes = []
            for x in index:
                if x is None:
                    lanes.append(0)
                    continue
                elements = data.elements[x, step * bs:(step + 1) * bs]
                lanes.append(pack(elements, width) | int(data.scales[x, step]) << el_bits)
            return lanes
        if self.simd_bits is not None:  # activation in every lane field; S weights
            lanes, (a_bits, b_bits) = self.simd_lanes, self.simd_bits
            if fmt_side == "a":
                return [0 if x is None else pack([data[x, step]] * lanes, a_bits)
                        for x in index]
            return [pack([0 if n is None else data[step, n] for n in group], b_bits)
                    for group in index]
        if fmt_side == "a":
            return [0 if x is None else int(data[x, step]) for x in index]
        return [0 if x is None else int(data[step, x]) for x in index]

    def _os_beats(self, A, B, M, K, N):
        R, C, lanes = self.rows, self.cols, self.simd_lanes
        steps = tiles(K, self.block_size)
        beats = []
        for m0 in range(0, M, R):
            rows = [m0 + i if m0 + i < M else None for i in range(R)]
            for n0 in range(0, N, C * lanes):
                cols = [n if n < N else None for n in range(n0, n0 + C * lanes)]
                if self.simd_bits is not None:  # PE column j: output columns j S .. j S + S - 1
                    cols = [cols[j * lanes:(j + 1) * lanes] for j in range(C)]
                for k in range(steps):
                    beats.append({
                        "a": pack(self._lane_values("a", A, rows, k), self.a_bits),
                        "b": pack(self._lane_values("b", B, cols, k), self.b_bits),
                        "first": int(k == 0), "last": int(k == steps - 1)})
        return beats

    def _ws_beats(self, A, B, M, K, N):
        R, C = self.rows, self.cols
        beats, outputs = [], 0
        for n0 in range(0, N, C):
            for k0 in range(0, K, R):
                for r in range(R):
                    k = k0 + r
                    weights = [int(B[k, n0 + j]) if k < K and n0 + j < N else 0
                               for j in range(C)]
                    beats.append({"load": 1, "last": 0, "a": 0, "c_in": 0,
                                  "b": pack(weights, self.b_bits)})
                for m in range(M):
                    acts = [int(A[m, k0 + i]) if k0 + i < K else 0 for i in range(R)]
                    psum = Feedback(outputs - M) if k0 else 0
                    beats.append({"load": 0, "last": int(m == M - 1), "b": 0, "c_in": psum,
                                  "a": pack(acts, self.a_bits)})
                    outputs += 1
        return beats
