"""The host-side schedule of broadcast (2D-Matrix and 3D-Cube) engines: cycles and peak rate,
no hardware (this module does not import Amaranth).

The :class:`~lowbit.hdl.broadcast_engine.BroadcastEngine` RTL and the cycle model count with
these functions, so the count a testbench measures and the count the model uses are one
formula, for tiles of any size.
"""

from lowbit.hdl.gemm_stream import check_shape, tiles


def broadcast_peak_macs(rows: int, cols: int, depth: int) -> int:
    """Multiply-accumulates per cycle of an ``rows x cols`` output tile summing ``depth``
    products per output per cycle (1 for the 2D matrix, ``k`` for a cube)."""
    return rows * cols * depth


def broadcast_cycles(M, K, N, *, rows, cols, depth, latency) -> int:
    """Cycles of an ``M x K`` by ``K x N`` GEMM on an ``R x C`` output tile taking ``depth``
    K elements per beat, first input beat to last output beat, both included.

    ``(T - 1) max(Kb, R) + Kb + L + R - 1`` with ``T = ceil(M/R) ceil(N/C)`` output tiles,
    ``Kb = ceil(K / depth)`` beats per tile and ``L`` the latency of an output's datapath
    (edges from taking a beat to its register holding it, that one included): the tiles' beats
    stream back to back, except that a tile's last beat waits until ``R`` edges after the
    previous tile's (its results need ``R`` drain beats), and the last tile's results are
    copied ``L`` edges after its last beat and leave in ``R`` beats.
    """
    check_shape(M, K, N)
    T = tiles(M, rows) * tiles(N, cols)
    beats = tiles(K, depth)
    return (T - 1) * max(beats, rows) + beats + latency + rows - 1
