"""sim.run takes the hardware objects a user builds in Python: hdl engines (pipelined PEs
too), EngineConfig, ArchConfig, a GemmOp; Path arguments; engines the model cannot represent
are refused."""

import dataclasses
from pathlib import Path

import pytest

from lowbit import sim
from lowbit.golden import formats as F
from lowbit.golden.accumulators import ExactAccumulator, FixedAccumulator, FloatAccumulator
from lowbit.hdl import AdderTreeEngine, FloatMac, IntMac, LutTensorCore, SystolicArray
from lowbit.hdl.matrix_engine import MatrixEngine
from lowbit.sim.hardware import HardwareError

E4M3, FP32, INT8 = F.get("fp8_e4m3"), F.get("fp32"), F.get("int8")
OP = sim.GemmOp("g", 48, 300, 40, a_fmt="fp8_e4m3", b_fmt="fp8_e4m3")


def _fp8_mac(**kw):
    return FloatMac(E4M3, E4M3, acc=FloatAccumulator(FP32), **kw)


# One engine of each kind the cycle model has; the configs are written out by hand.
@pytest.mark.parametrize("engine, config", [
    (lambda: SystolicArray(4, 8, _fp8_mac(), "os"),
     sim.EngineConfig(rows=4, cols=8, dataflow="os", a_fmt="fp8_e4m3", b_fmt="fp8_e4m3",
                      accumulator="fp32")),
    (lambda: SystolicArray(2, 2, IntMac(INT8, INT8, acc=FixedAccumulator(32, 0, "wrap")), "ws"),
     sim.EngineConfig(rows=2, cols=2, dataflow="ws", accumulator="int32")),
    (lambda: AdderTreeEngine(8, FloatMac(E4M3, E4M3, acc=ExactAccumulator(FP32))),
     sim.EngineConfig(kind="adder_tree", lanes=8, a_fmt="fp8_e4m3", b_fmt="fp8_e4m3",
                      accumulator="exact_fp32")),
    (lambda: SystolicArray(2, 4, _fp8_mac(stages=2), "os"),
     sim.EngineConfig(rows=2, cols=4, a_fmt="fp8_e4m3", b_fmt="fp8_e4m3", accumulator="fp32",
                      pe_stages=2)),
    (lambda: LutTensorCore(2, 4, tile=(2, 16)),
     sim.EngineConfig(kind="lut", weight_bits=2, lut_group=4, lut_tile=(2, 16),
                      b_fmt="uint2")),
])
def test_an_hdl_engine_becomes_its_engine_config(engine, config):
    built = engine()
    assert sim.engine_config(built) == config
    assert sim.engine_config(config) is config


def test_run_takes_the_engine_the_user_built():
    array = SystolicArray(4, 4, _fp8_mac(), "os")
    by_object = sim.run(array, OP, ideal_memory=True)
    by_config = sim.run(sim.ArchConfig(name="mine", engine=sim.engine_config(array)), [OP],
                        ideal_memory=True)
    assert by_object.rows == by_config.rows
    assert by_object.total["compute_cycles"] == array.cycles(48, 300, 40)   # the RTL's count
    assert by_object.arch.name == "custom-systolic4x4_os_floatmac_fp8_e4m3xfp8_e4m3_fp32"
    assert isinstance(by_object.rows, list)   # one convention: rows is a list of dicts


def test_run_takes_paths(tmp_path):
    arch = tmp_path / "chip.toml"
    arch.write_text('name = "chip"\n[engine]\nrows = 4\ncols = 4\n')
    ops = tmp_path / "ops.csv"
    ops.write_text("name,m,k,n\ng,16,64,16\n")
    by_path = sim.run(arch, ops)
    assert by_path.rows == sim.run(str(arch), str(ops)).rows
    assert by_path.arch.name == "chip" and by_path.workload == str(ops)


@pytest.mark.parametrize("build, message", [
    (lambda: LutTensorCore(2, 4, symmetric_table=True, weight_encoding="bipolar"),
     "LutTensorCore cannot run in the cycle model: the cycle model's LUT core has offset "
     "weights and full tables, not bipolar weights and symmetric tables"),
    (lambda: MatrixEngine(2, 2, _fp8_mac()),
     "arch must be an ArchConfig, an EngineConfig, a SystolicArray, AdderTreeEngine, "
     "LutTensorCore, MixPEArray, a TOML file or a preset name, not MatrixEngine"),
    (lambda: 42,
     "arch must be an ArchConfig, an EngineConfig, a SystolicArray, AdderTreeEngine, "
     "LutTensorCore, MixPEArray, a TOML file or a preset name, not int"),
])
def test_engines_the_model_cannot_represent_are_refused(build, message):
    with pytest.raises(HardwareError) as err:
        sim.run(build(), OP)
    assert str(err.value) == message


def test_an_engine_config_runs_with_the_default_accelerator():
    cfg = sim.EngineConfig(rows=8, cols=8)
    res = sim.run(cfg, sim.GemmOp("g", 8, 64, 8))
    assert dataclasses.replace(res.arch, name="x") == sim.ArchConfig(name="x", engine=cfg)
    assert Path(res.options["energy_file"]).is_file()
