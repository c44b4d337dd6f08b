"""MatrixEngine and CubeEngine (and the bit-weight PE in every engine shape): parameter errors,
hand-counted cycles, the host-side beat layout, and small GEMMs on Amaranth's simulator against
golden ``gemm``.

The Verilator runs (``gemm_quick`` and ``gemm_full``) are in tests/verify/test_engine_shapes.py.
Simulated here, one per way an output sums: a saturating int8 register in K order (matrix,
including the stall before a short tile's last beat), fp8_e4m3 into an exact fp32 register
(matrix), int8 trees with K padding and an fp8 rounding tree in golden's tree(2) order (cube),
and the carry-save PE in all four shapes (int8, with a K-group in the cube).
"""

import numpy as np
import pytest

from lowbit.errors import OperationError
from lowbit.golden import formats as F
from lowbit.golden.accumulators import (ExactAccumulator, FixedAccumulator, FloatAccumulator,
                                        tree)
from lowbit.hdl.adder_tree_engine import AdderTreeEngine
from lowbit.hdl.carry_save_dot import CarrySaveDot
from lowbit.hdl.cube_engine import CubeEngine
from lowbit.hdl.float_mac import FloatMac
from lowbit.hdl.gemm_engine import unpack
from lowbit.hdl.int_mac import IntMac
from lowbit.hdl.matrix_engine import MatrixEngine
from lowbit.hdl.mx_dot import MxDotUnit
from lowbit.hdl.systolic_array import SystolicArray
from lowbit.verify.gemm_vectors import GemmCase, operands
from lowbit.verify.pysim import simulate_gemm
from tests.expect import raises_exactly
from tests.hdl.test_building_blocks import assert_equal

INT8, E4M3, FP32 = F.get("int8"), F.get("fp8_e4m3"), F.get("fp32")


def int_mac(overflow="wrap", bits=20):
    return IntMac(INT8, INT8, acc=FixedAccumulator(bits, 0, overflow))


def fp8_mac(acc=None):
    return FloatMac(E4M3, E4M3, acc=acc or FloatAccumulator(FP32))


def bw_mac(lanes=1, k_group=None):
    return CarrySaveDot(INT8, INT8, acc=FixedAccumulator(20, 0), lanes=lanes, k_group=k_group)


# --- parameter errors ---------------------------------------------------------------------------
@pytest.mark.parametrize("make, message", [
    (lambda: MatrixEngine(0, 4, int_mac()),
     "MatrixEngine rows must be an integer from 1 to 64, not 0"),
    (lambda: MatrixEngine(4, 65, int_mac()),
     "MatrixEngine cols must be an integer from 1 to 64, not 65"),
    (lambda: MatrixEngine(2, 2, MxDotUnit(F.get("mxfp4"), acc=FloatAccumulator(FP32))),
     "MatrixEngine pe must be an IntMac, FloatMac, PositMac or CarrySaveDot, not MxDotUnit"),
    (lambda: MatrixEngine(2, 2, IntMac(INT8, INT8, acc=FixedAccumulator(20, 0), chained=True)),
     "MatrixEngine pe must be an unchained unit; each PE keeps its own output"),
    (lambda: MatrixEngine(2, 2, bw_mac(lanes=2)),
     "MatrixEngine pe CarrySaveDot must have one lane (one product per PE per cycle), not 2"),
    (lambda: CubeEngine(0, 4, 4, int_mac()),
     "CubeEngine m must be an integer from 1 to 64, not 0"),
    (lambda: CubeEngine(4, 0, 4, int_mac()),
     "CubeEngine n must be an integer from 1 to 64, not 0"),
    (lambda: CubeEngine(4, 4, 0, int_mac()),
     "CubeEngine k must be a power of two from 1 to 64, not 0"),
    (lambda: CubeEngine(4, 4, 6, int_mac()),
     "CubeEngine k must be a power of two from 1 to 64, not 6"),
    (lambda: CubeEngine(2, 2, 4, int_mac("saturate")),
     "CubeEngine cannot implement FixedAccumulator overflow 'saturate': golden saturates after "
     "every addition in K order, which an adder tree reorders; use overflow='wrap' (exact in "
     "any order) or a SystolicArray"),
    (lambda: CubeEngine(2, 2, 1, fp8_mac()),
     "CubeEngine sums a FloatAccumulator pe's products in golden's tree order, which needs 2 "
     "or more lanes, not 1"),
    (lambda: CubeEngine(2, 2, 4, SystolicArray(2, 2, int_mac(), "os")),
     "CubeEngine pe must be an IntMac, FloatMac, PositMac or CarrySaveDot, not SystolicArray"),
    # a K-group larger than the cube's K
    (lambda: CubeEngine(2, 2, 4, bw_mac(lanes=8, k_group=8)),
     "CarrySaveDot k_group must divide lanes 4 (one carry-propagate adder per group of k_group "
     "products in a cycle), not 8"),
    (lambda: AdderTreeEngine(8, bw_mac(lanes=16, k_group=16)),
     "CarrySaveDot k_group must divide lanes 8 (one carry-propagate adder per group of k_group "
     "products in a cycle), not 16"),
    (lambda: SystolicArray(2, 2, bw_mac(lanes=2, k_group=2), "os"),
     "SystolicArray pe CarrySaveDot must have one lane (one product per PE per cycle), not 2"),
    (lambda: SystolicArray(2, 2, bw_mac(), "ws"),
     "SystolicArray dataflow 'ws' cannot carry CarrySaveDot PEs: partial sums flow between PEs "
     "as accumulator codes, but a carry-save PE resolves its sum only when it leaves the "
     "array; use dataflow 'os'"),
])
def test_invalid_parameters_raise_one_clear_error(make, message):
    raises_exactly(make, OperationError, message)


# --- cycles counted by hand ---------------------------------------------------------------------
def test_matrix_cycles_by_hand():
    matrix = MatrixEngine(2, 2, int_mac())
    # one beat (first and last) at edge 1, PEs registered at edge 1, the copy at edge 2 is the
    # first output beat, the second row follows at edge 3
    assert matrix.cycles(2, 1, 2) == 3
    # two tiles of K = 1: the second tile's last beat waits one edge (R = 2 drain beats), so
    # it is taken at edge 3, copied at 4, its rows leave at 4 and 5
    assert matrix.cycles(4, 1, 2) == 5
    # K = 9 per tile: 4 tiles back to back (36 beats), copy 1 edge later, 2 rows
    assert matrix.cycles(4, 9, 3) == 36 + 1 + 1
    assert matrix.peak_macs_per_cycle == 4 and matrix.natural_tile == (2, 2, 2)


def test_cube_cycles_by_hand():
    cube = CubeEngine(2, 2, 4, int_mac())
    # the int8 tree of 4 lanes: products, then both levels in one stage, then the register:
    # a beat taken at edge t is registered at t + 3, copied at t + 3
    assert cube.datapath_latency == 3
    assert cube.cycles(2, 8, 2) == 2 + 3 + 1        # two beats, copy at edge 5, rows 5, 6
    assert cube.cycles(2, 9, 4) == 3 * 2 + 3 + 1    # K = 9: three beats per tile, two tiles
    assert cube.peak_macs_per_cycle == 16 and cube.natural_tile == (2, 8, 2)
    assert CubeEngine(2, 2, 4, bw_mac()).datapath_latency == 1  # carry-save: one edge
    raises_exactly(lambda: cube.cycles(1, 0, 1), OperationError,
                   "K must be an integer from 1 to 1099511627776, not 0")


def test_cube_accumulator_and_padding_follow_the_dot_tree():
    assert CubeEngine(2, 2, 8, fp8_mac()).accumulator == FloatAccumulator(FP32, order=tree(8))
    exact = CubeEngine(2, 2, 4, fp8_mac(ExactAccumulator(FP32)))
    assert exact.padding_codes == (0, 0x80)  # a -0 product: the exact sum's identity
    assert CubeEngine(2, 2, 4, bw_mac()).accumulator == FixedAccumulator(20, 0)


# --- host-side beats ----------------------------------------------------------------------------
def test_cube_beats_hold_blocks_of_a_and_b():
    cube = CubeEngine(2, 3, 2, int_mac())
    M, K, N = 3, 5, 4
    A = np.arange(M * K).reshape(M, K) + 1
    B = np.arange(K * N).reshape(K, N) + 50
    beats = cube.input_beats(A, B)
    assert len(beats) == 2 * 2 * 3  # 2 x 2 output tiles of 3 K steps
    first = beats[0]
    assert unpack(first["a"], 8, 4) == [A[0, 0], A[0, 1], A[1, 0], A[1, 1]]
    assert unpack(first["b"], 8, 6) == [B[0, 0], B[1, 0], B[0, 1], B[1, 1], B[0, 2], B[1, 2]]
    assert [(b["first"], b["last"]) for b in beats[:3]] == [(1, 0), (0, 0), (0, 1)]
    # the last K step pads with zero codes; the second tile row is rows 2 and 3 (3 is padding)
    assert unpack(beats[2]["a"], 8, 4) == [A[0, 4], 0, A[1, 4], 0]
    assert unpack(beats[6]["a"], 8, 4)[:2] == [A[2, 0], A[2, 1]]
    lanes = [spot for beat in cube.output_map(M, K, N) for spot in beat if spot is not None]
    assert sorted(lanes) == [(m, n, K) for m in range(M) for n in range(N)]
    assert len(cube.output_map(M, K, N)) == 4 * 2  # 4 tiles, 2 rows each


# --- whole GEMMs on the Python simulator ----------------------------------------------------------
ENGINES = {
    "matrix_int8_sat16": lambda: MatrixEngine(3, 2, int_mac("saturate", 16)),
    "matrix_fp8_kulisch": lambda: MatrixEngine(2, 2, fp8_mac(ExactAccumulator(FP32))),
    "cube_int8_wrap20": lambda: CubeEngine(2, 3, 4, int_mac()),
    "cube_fp8_tree2": lambda: CubeEngine(2, 2, 2, fp8_mac()),
    "systolic_bw": lambda: SystolicArray(2, 3, bw_mac(), "os"),
    "tree_bw": lambda: AdderTreeEngine(4, bw_mac()),
    "matrix_bw": lambda: MatrixEngine(3, 2, bw_mac()),
    "cube_bw_g2": lambda: CubeEngine(2, 2, 4, bw_mac(lanes=2, k_group=2)),
}


@pytest.mark.parametrize("name", ENGINES)
def test_gemms_match_golden_and_closed_form_cycles(name):
    engine = ENGINES[name]()
    rng = np.random.default_rng(9)
    for case in (GemmCase("ragged", 3, 9, 5, "specials"), GemmCase("short", 4, 1, 2, "growth")):
        A, B = operands(engine, case, rng)
        got, cycles = simulate_gemm(engine, A, B)
        want = engine.golden(A, B, case.K).astype(np.uint64) & ((1 << engine.out_bits) - 1)
        assert_equal(got.reshape(-1), want.reshape(-1),
                     [f"{case.label} C[{j // case.N}, {j % case.N}]" for j in range(want.size)],
                     name)
        assert cycles == engine.cycles(case.M, case.K, case.N), case.label
