"""The host side of the streaming GEMM interface: tiling, shape checks, lane packing and the
``Feedback`` payload value, without Amaranth.

Testbenches, the cycle model and the engines' host-side schedules (such as
:mod:`lowbit.hdl.systolic_schedule`) share these; :mod:`lowbit.hdl.gemm_engine` (the hardware
interface and its contract) re-exports them.
"""

from dataclasses import dataclass

from lowbit.errors import OperationError, check_int

MAX_ARRAY_SIDE = 64
"""Largest number of rows or columns (or lanes) an engine is built with."""


@dataclass(frozen=True)
class Feedback:
    """An input payload value taken from output beat ``beat``'s ``c`` (a partial sum)."""

    beat: int


def check_dimension(engine: str, field: str, value, high: int = MAX_ARRAY_SIDE) -> int:
    """Return ``value`` if it is an integer from 1 to ``high``; raise naming ``field``."""
    return check_int(f"{engine} {field}", value, 1, high, OperationError)


def check_shape(M, K, N):
    """Raise unless ``M, K, N`` are positive integers (a GEMM's shape)."""
    for field, value in (("M", M), ("K", K), ("N", N)):
        check_int(field, value, 1, 1 << 40, OperationError)


def gemm_dims(a_shape, b_shape) -> tuple:
    """``(M, K, N)`` of ``A`` (``M x K``) times ``B`` (``K x N``); raise unless the K match
    and the shape is a GEMM's (:func:`check_shape`)."""
    (M, K), (K2, N) = a_shape, b_shape
    if K != K2:
        raise OperationError(f"A is {M} x {K} but B is {K2} x {N}: their K must match")
    check_shape(M, K, N)
    return M, K, N


def matrix_dims(A, B) -> tuple:
    """:func:`gemm_dims` of two 2-D arrays of codes; raise unless both are 2-D."""
    if A.ndim != 2 or B.ndim != 2:
        raise OperationError(f"A and B must be matrices of codes, not of shapes {A.shape} "
                             f"and {B.shape}")
    return gemm_dims(A.shape, B.shape)


def tiles(extent: int, size: int) -> int:
    """Number of tiles of ``size`` covering ``extent``: ``ceil(extent / size)``."""
    return -(-extent // size)


def tile_output_map(M, K, N, rows: int, cols: int) -> list:
    """The output map of an engine that drains ``rows x cols`` output tiles one tile row per
    beat, tiles row-major: ``(m, n, K)`` per lane, ``None`` for a padding lane."""
    return [[(m0 + i, n0 + j, K) if m0 + i < M and n0 + j < N else None for j in range(cols)]
            for m0 in range(0, M, rows) for n0 in range(0, N, cols) for i in range(rows)]


def pack(values, width: int) -> int:
    """Pack unsigned ``values`` into one integer, value ``i`` in bits ``[i width, (i+1) width)``."""
    word = 0
    for i, v in enumerate(values):
        word |= (int(v) & ((1 << width) - 1)) << (i * width)
    return word


def unpack(word: int, width: int, count: int) -> list:
    """The ``count`` unsigned lanes of ``width`` bits packed in ``word`` (inverse of
    :func:`pack`)."""
    mask = (1 << width) - 1
    return [(word >> (i * width)) & mask for i in range(count)]
