"""The 2D-Matrix engine: an outer-product array of MACs fed by broadcast.

Each cycle one column of ``A`` (``R`` values) and one row of ``B`` (``C`` values) arrive;
``A[m0 + i, k]`` goes to every PE of row ``i`` and ``B[k, n0 + j]`` to every PE of column ``j``
in the same cycle, so PE ``(i, j)`` adds ``A[m0 + i, k] B[k, n0 + j]`` to its own output
``C[m0 + i, n0 + j]``, in K order, exactly as the PE unit alone does (golden: ``gemm`` with
the PE's accumulator, saturating and rounding registers included). The tile leaves through a
drain while the next one is summed; see :mod:`lowbit.hdl.broadcast_engine` for the beats, the
drain and the cycle count.

Compared with an output-stationary systolic array of the same size the PEs are the same, the
skew and forwarding registers are gone and operands fan out ``R`` and ``C`` ways instead.
The bit-weight variant is the same array of one-lane
:class:`~lowbit.hdl.carry_save_dot.CarrySaveDot` PEs: each sums in carry-save form and the
drain resolves one row of results per cycle with ``C`` carry-propagate adders.
"""

from lowbit.errors import OperationError
from lowbit.hdl.broadcast_engine import BroadcastEngine
from lowbit.hdl.carry_save_dot import CarrySaveDot
from lowbit.hdl.component import Component
from lowbit.hdl.gemm_engine import check_dimension
from lowbit.hdl.mac_unit import MacUnit


class MatrixEngine(BroadcastEngine):
    """An ``rows x cols`` outer-product array of ``pe`` replicas; see the module docstring.

    Parameters
    ----------
    rows, cols : int
        Array size ``R x C``, 1 to 64 each.
    pe : MacUnit or CarrySaveDot
        The processing element, replicated: an IntMac, FloatMac or PositMac (one register),
        or a one-lane CarrySaveDot (the bit-weight MAC). Its formats and accumulator are the
        engine's.

    Members
    -------
    The :class:`~lowbit.hdl.broadcast_engine.BroadcastEngine` ports with ``d = 1``: ``a`` lane
    ``i`` is ``A[m0 + i, k]``, ``b`` lane ``j`` is ``B[k, n0 + j]``.
    """

    def __init__(self, rows, cols, pe):
        if isinstance(pe, Component):
            self.part(pe)  # a template: only its replicas are elaborated, even if we refuse it
        check_dimension("MatrixEngine", "rows", rows)
        check_dimension("MatrixEngine", "cols", cols)
        if not isinstance(pe, (MacUnit, CarrySaveDot)):
            raise OperationError(f"MatrixEngine pe must be an IntMac, FloatMac, PositMac or "
                                 f"CarrySaveDot, not {type(pe).__name__}")
        if getattr(pe, "chained", False):
            raise OperationError("MatrixEngine pe must be an unchained unit; each PE keeps its "
                                 "own output")
        if isinstance(pe, CarrySaveDot) and pe.lanes != 1:
            raise OperationError(f"MatrixEngine pe CarrySaveDot must have one lane (one "
                                 f"product per PE per cycle), not {pe.lanes}")
        self._pe = pe
        super().__init__(rows, cols, 1, pe)

    @property
    def pe(self):
        """The processing element the array replicates."""
        return self._pe

    @property
    def padding_codes(self) -> tuple:
        """``(0, 0)``: one K element per beat leaves nothing of K to pad; elements past ``M``
        and ``N`` feed outputs nobody reads."""
        return 0, 0

    def _datapath(self):
        return self._pe.replica()
