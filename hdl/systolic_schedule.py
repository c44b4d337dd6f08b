"""The host-side schedule of systolic arrays: cycle counts and peak rates, no hardware.

The :class:`~lowbit.hdl.systolic_array.SystolicArray` RTL and the cycle model both count with
these functions, so the count a testbench measures and the count the model uses are one
formula. Arrays of any size: the cycle model goes beyond the largest RTL array.
"""

from lowbit.errors import OperationError, check_choice
from lowbit.hdl.gemm_engine import check_shape, tiles


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
