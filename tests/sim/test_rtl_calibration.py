"""The cycle model against the RTL: for every engine configuration of the regression matrix
and every shape its GEMM vector sets check, the model's stall-free cycles for that single GEMM
equal the cycles measured on the RTL (Amaranth's simulator of the same design the Verilog is
generated from, the rising edges from the first accepted beat to the last result).

``make test`` runs the quick shapes of the quick matrix's engines; ``--full`` every engine of
the full matrix (SIMD-PE arrays excepted: a SimdMac has no operand formats an ``EngineConfig``
can name) on the quick and the 20 random full shapes. The 2D-matrix and 3D-cube engines and
the bit-weight (CarrySaveDot) variants of every shape are named by the ``matrix`` and ``cube``
kinds and ``mac_variant="bitweight"`` (with their ``k_group``). Simulating a carry-save
compressor tree in Python takes about a minute per engine, so ``make test`` simulates one
matrix and one bit-weight engine (:data:`QUICK_SHAPES`) and checks, for every engine of the
matrix, that its ``EngineConfig`` names a design whose closed form and peak rate are the
engine's; the other new engines simulate with ``--full`` (their RTL counts are checked
against the closed form on Verilator by ``tests/verify/test_engine_shapes.py``).

MixPE arrays (issue 24) are the ``mixpe`` kind: the quick matrix's int4 array simulates in
``make test`` (groups of 8 = 2 beats, so group boundaries fall inside every tile), the full
matrix's int2, ternary, uint4 (zero points), fp16 and fp8 arrays with ``--full``.
"""

import numpy as np
import pytest

from lowbit import sim
from lowbit.golden.accumulators import ExactAccumulator, FixedAccumulator, FloatAccumulator, Quire
from lowbit.hdl.adder_tree_engine import AdderTreeEngine
from lowbit.hdl.carry_save_dot import CarrySaveDot
from lowbit.hdl.cube_engine import CubeEngine
from lowbit.hdl.lut_tensor_core import LutTensorCore
from lowbit.hdl.matrix_engine import MatrixEngine
from lowbit.hdl.mixpe_array import MixPEArray
from lowbit.hdl.simd_mac import SimdMac
from lowbit.sim.engine_model import engine_model
from lowbit.verify.gemm_vectors import gemm_cases, operands
from lowbit.verify.pysim import simulate_gemm
from lowbit.verify.regression import MATRIX

ENGINES = ("SystolicArray", "AdderTreeEngine", "LutTensorCore", "MatrixEngine", "CubeEngine",
           "MixPEArray")
#: Quick entries of the engine shapes of issue 25 simulated by ``make test``: the matrix kind
#: and a bit-weight PE; the others' simulations are ``--full`` (module docstring).
QUICK_SHAPES = ("matrix4x4_intmac_int8xint8_int24", "systolic3x2_os_bwmac_int8xint8_int24")


def _slow_shape(entry) -> bool:
    new_shape = entry.unit in ("MatrixEngine", "CubeEngine") or "_bwmac_" in entry.name
    return new_shape and entry.name not in QUICK_SHAPES


def _accumulator_text(acc) -> str:
    if isinstance(acc, FixedAccumulator):
        return f"int{acc.int_bits + acc.frac_bits}"
    if isinstance(acc, Quire):
        return "quire"
    if isinstance(acc, ExactAccumulator):
        return f"exact_{acc.out_fmt.name}"
    assert isinstance(acc, FloatAccumulator)
    return acc.fmt.name


def engine_config(engine) -> sim.EngineConfig:
    """The cycle model's description of an ``hdl`` engine."""
    if isinstance(engine, MixPEArray):
        p = engine.pe
        return sim.EngineConfig(kind="mixpe", rows=engine.tile[0], cols=engine.tile[1],
                                a_fmt=p.act_fmt.name, b_fmt=p.scheme.weight,
                                accumulator=p.accumulator.fmt.name,
                                group_size=p.scheme.group, k_step=p.k_step)
    if isinstance(engine, LutTensorCore):
        d = engine.describe()
        return sim.EngineConfig(kind="lut", a_fmt="int8", b_fmt=f"int{d['weight_bits']}",
                                weight_bits=d["weight_bits"], lut_group=d["group"],
                                lut_tile=tuple(d["tile"]), accumulator=f"int{d['acc_bits']}")
    pe = engine.pe
    a_fmt = getattr(pe, "a_fmt", None) or pe.block_fmt
    b_fmt = getattr(pe, "b_fmt", None) or pe.block_fmt
    common = {"a_fmt": a_fmt.name, "b_fmt": b_fmt.name,
              "accumulator": _accumulator_text(pe.accumulator)}
    if isinstance(pe, CarrySaveDot):
        common.update(mac_variant="bitweight", k_group=pe.k_group or 0)
    if isinstance(engine, AdderTreeEngine):
        return sim.EngineConfig(kind="adder_tree", lanes=engine.peak_macs_per_cycle, **common)
    if isinstance(engine, MatrixEngine):
        return sim.EngineConfig(kind="matrix", rows=engine.rows, cols=engine.cols, **common)
    if isinstance(engine, CubeEngine):
        return sim.EngineConfig(kind="cube", rows=engine.rows, cols=engine.cols,
                                cube_k=engine.k, **common)
    return sim.EngineConfig(kind="systolic", rows=engine.rows, cols=engine.cols,
                            dataflow=engine.dataflow, **common)


def _entries(full_only):
    chosen = []
    for entry in MATRIX:
        if entry.unit not in ENGINES or entry.full_only != full_only:
            continue
        marks = [pytest.mark.full] if full_only or _slow_shape(entry) else []
        chosen.append(pytest.param(entry, id=entry.name, marks=marks))
    return chosen


@pytest.mark.parametrize("entry", _entries(False) + _entries(True))
def test_stall_free_cycles_equal_the_rtl(entry, request):
    engine = entry.build()
    if isinstance(getattr(engine, "pe", None), SimdMac):
        pytest.skip("SimdMac PEs have no formats an EngineConfig names")
    if getattr(getattr(engine, "pe", None), "stages", 1) > 1:
        pytest.skip("pipelined PEs: an EngineConfig names no pipeline stages yet")
    arch = sim.ArchConfig(engine=engine_config(engine))
    kinds = ("gemm_quick", "gemm_full") if request.config.getoption("--full") else \
        ("gemm_quick",)
    rng = np.random.default_rng(7)
    checked = 0
    for kind in kinds:
        for case in gemm_cases(kind, engine):
            A, B = operands(engine, case, rng)
            _, measured = simulate_gemm(engine, A, B)
            op = sim.GemmOp(case.label, case.M, case.K, case.N, arch.engine.a_fmt,
                            arch.engine.storage_fmt("b_fmt"))
            res = sim.run(arch, [op], ideal_memory=True)
            assert res.total["cycles"] == measured, (case, res.total["cycles"], measured)
            assert res.total["compute_cycles"] == measured
            checked += 1
    assert checked >= 5


@pytest.mark.parametrize("entry", [pytest.param(e, id=e.name) for e in MATRIX
                                   if e.unit in ENGINES])
def test_engine_config_names_a_design_with_the_engine_s_counts(entry):
    engine = entry.build()
    if isinstance(getattr(engine, "pe", None), SimdMac) or \
            getattr(getattr(engine, "pe", None), "stages", 1) > 1:
        pytest.skip("no EngineConfig names SIMD or pipelined PEs")
    model = engine_model(engine_config(engine))
    assert model.peak_macs_per_cycle == engine.peak_macs_per_cycle
    for shape in ((1, 1, 1), (5, 37, 7), (9, 300, 2), (64, 1000, 16)):
        assert model.cycles(*shape) == engine.cycles(*shape), shape
