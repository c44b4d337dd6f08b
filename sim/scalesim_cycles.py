"""SCALE-Sim's stall-free compute cycles of a GEMM on a systolic array, as closed forms.

SCALE-Sim (v2/v3, PyPI ``scalesim``) maps ``C (M x N) = A (M x K) @ B (K x N)`` onto an
``R x C`` array as ``Sr`` rows of work over the array rows, ``Sc`` over the columns and a
temporal extent ``T``, folded ``ceil(Sr/R) ceil(Sc/C)`` times; every fold is as long as a full
one (a partly filled fold costs the same):

====  ====  ====  ====  =============================
flow  Sr    Sc    T     cycles per fold
====  ====  ====  ====  =============================
os    M     N     K     ``T + R + C - 2``
ws    K     N     M     ``T + 2R + C - 2`` (R preload)
is    K     M     N     ``T + 2R + C - 2`` (R preload)
====  ====  ====  ====  =============================

The count is folds x cycles per fold. SCALE-Sim's ``COMPUTE_REPORT.csv`` "Total Cycles" is
``max(ofmap_serviced_cycles)``, the 0-based index of the last cycle, one less than the count:
``last_index=True`` gives that reported value.

Checked against the ``scalesim`` 3.0.0 package itself on 119 shapes (stall-free: interface
bandwidth ``CALC`` and an output SRAM holding all of C), committed as
``tests/sim/data/scalesim_reference.json`` (regenerate with
``benchmarks/scalesim_reference.py``).
"""

from lowbit.errors import OperationError, check_choice, check_int
from lowbit.hdl.gemm_stream import check_shape, tiles


def scalesim_cycles(M, K, N, *, rows, cols, dataflow, last_index=False) -> int:
    """SCALE-Sim's stall-free compute cycles of an ``M x K x N`` GEMM (module docstring)."""
    check_shape(M, K, N)
    check_int("rows", rows, 1, 1 << 20, OperationError)
    check_int("cols", cols, 1, 1 << 20, OperationError)
    check_choice("systolic dataflow", dataflow, ("os", "ws", "is"), OperationError)
    R, C = rows, cols
    if dataflow == "os":
        count = tiles(M, R) * tiles(N, C) * (K + R + C - 2)
    elif dataflow == "ws":
        count = tiles(K, R) * tiles(N, C) * (M + 2 * R + C - 2)
    else:
        count = tiles(K, R) * tiles(M, C) * (N + 2 * R + C - 2)
    return count - 1 if last_index else count
