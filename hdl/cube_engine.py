"""The 3D-Cube engine: an ``m x n x k`` cube of multipliers, ``k`` products per output per
cycle reduced into ``m x n`` accumulators (the shape of cube-style tensor units).

Each cycle an ``m x k`` block of ``A`` and a ``k x n`` block of ``B`` arrive; every one of the
``m n`` outputs of the tile multiplies its row of the ``A`` block by its column of the ``B``
block (``A[m0 + i, k0 + t]`` is broadcast to the ``n`` outputs of row ``i``, ``B[k0 + t, n0 +
j]`` to the ``m`` outputs of column ``j``) and adds the ``k`` products into its register. The
beats, the drain and the cycle count are :mod:`lowbit.hdl.broadcast_engine`'s with ``d = k``.

Each output's datapath depends on the ``pe`` template:

IntMac, FloatMac or PositMac
    A :class:`~lowbit.hdl.dot_tree.DotTree` of ``k`` lanes (pipelined multipliers and adder
    tree into the pe's accumulator; the same datapath as an ``AdderTreeEngine`` of ``k``
    lanes, so the same accumulators are exact, and a FloatAccumulator sums in golden's
    ``tree(k)`` order).
CarrySaveDot (the bit-weight rewrite)
    A ``k``-lane replica: the ``k`` products' partial products and the carry-save register in
    one compressor tree, resolved by ``n`` carry-propagate adders at the drain.
"""

from lowbit.errors import OperationError
from lowbit.hdl.adder_tree_engine import dot_datapath
from lowbit.hdl.broadcast_engine import BroadcastEngine
from lowbit.hdl.component import Component
from lowbit.hdl.gemm_engine import MAX_ARRAY_SIDE, check_dimension

UNIT = "CubeEngine"


class CubeEngine(BroadcastEngine):
    """An ``m x n`` tile of outputs summing ``k`` products each per cycle; see the module
    docstring.

    Parameters
    ----------
    m, n : int
        Output tile ``m x n`` (rows, columns), 1 to 64 each.
    k : int
        Products per output per cycle: a power of two from 1 to 64 (2 or more for a
        FloatAccumulator, whose golden tree order needs pairs).
    pe : IntMac, FloatMac, PositMac or CarrySaveDot
        The MAC template whose formats and accumulator every output implements (never
        elaborated); as for an ``AdderTreeEngine``: IntMac with ``overflow="wrap"``, no chained
        unit, MxDotUnit or SimdMac.

    Members
    -------
    The :class:`~lowbit.hdl.broadcast_engine.BroadcastEngine` ports with ``d = k``.
    """

    def __init__(self, m, n, k, pe):
        if isinstance(pe, Component):
            self.part(pe)  # a template, never elaborated: even when the engine is refused
        check_dimension(UNIT, "m", m)
        check_dimension(UNIT, "n", n)
        if (isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= MAX_ARRAY_SIDE
                or k & (k - 1)):
            raise OperationError(f"{UNIT} k must be a power of two from 1 to {MAX_ARRAY_SIDE}, "
                                 f"not {k!r}")
        self._pe, self._k = pe, k
        super().__init__(m, n, k, dot_datapath(UNIT, k, pe))

    @property
    def k(self) -> int:
        """Products per output per cycle."""
        return self._k

    @property
    def pe(self):
        """The MAC template whose formats and accumulator the engine implements."""
        return self._pe

    def _datapath(self):
        return self._dot.replica()
