"""MixPE arrays in the cycle model (issue 24): the ``mixpe`` engine kind, its design, cycles,
memory traffic, errors, and the LLaMA-2-7B decode GEMVs against a FloatMac engine.

The cycles are checked against the array's schedule written out here from the MixPEArray
docstring (``T`` output tiles of ``L`` beats, back to back, plus the PE's latency minus one),
not against the implementation's closed form; ``tests/sim/test_rtl_calibration.py`` checks the
same closed form against the RTL's measured cycles.
"""

import math

import pytest

from lowbit import cli, sim
from lowbit.hdl import designs
from lowbit.sim.engine_model import engine_model
from lowbit.sim.hardware import HardwareError

MIXPE = {"kind": "mixpe", "rows": 1, "cols": 16, "a_fmt": "fp16", "b_fmt": "int4",
         "accumulator": "fp32"}


def _array_cycles(M, K, N, rows=1, cols=16, k_step=4, group=128, latency=2):
    tiles = math.ceil(M / rows) * math.ceil(N / cols)
    beats = (K // group) * (group // k_step) + math.ceil((K % group) / k_step)
    return tiles * beats + latency - 1


def test_a_mixpe_engine_is_the_catalogue_s_mixpe_array():
    model = engine_model(sim.EngineConfig(**MIXPE))
    assert model.spec.name == "mixpearray1x16_mixpe_fp16xint4_g128_fp32"
    assert model.spec == designs.get(model.spec.name)
    assert model.peak_macs_per_cycle == 64
    assert model.mac_energy_key() == "mixpe_fp16xint4_g128_fp32"
    ternary = engine_model(sim.EngineConfig(**{**MIXPE, "b_fmt": "ternary", "group_size": 64,
                                               "k_step": 8}))
    assert ternary.spec.name == "mixpearray1x16_mixpe_fp16xternary_g64_fp32_k8"
    assert ternary.op_formats == {"a_fmt": "fp16", "b_fmt": "int2"}  # int2 codes in memory


@pytest.mark.parametrize("shape", [(1, 4096, 4096), (1, 11008, 4096), (3, 200, 33),
                                   (1, 4096, 32000)])
def test_cycles_follow_the_array_schedule(shape):
    assert engine_model(sim.EngineConfig(**MIXPE)).cycles(*shape) == _array_cycles(*shape)


def test_decode_gemvs_run_in_the_cycle_model():
    """LLaMA-2-7B decode, batch 1, weight GEMVs only (the attention products have no quantized
    weights), int4 weights in groups of 128: memory ideal, the cycles are the schedule's; with
    the default memory (DRAM streams the weights) the token takes longer, never shorter."""
    arch = sim.ArchConfig(clock_mhz=1000, engine=sim.EngineConfig(**MIXPE))
    res = sim.run(arch, "llama2-7b-decode", attention=False, ideal_memory=True)
    want = sum(op.repeat * _array_cycles(op.m, op.k, op.n) for op in
               sim.workloads.llama2_7b_decode(a_fmt="fp16", b_fmt="int4", attention=False))
    assert res.total["cycles"] == res.total["compute_cycles"] == want == 103_235_809
    real = sim.run(arch, "llama2-7b-decode", attention=False)
    assert real.total["cycles"] >= want and real.total["compute_cycles"] == want
    ternary = sim.ArchConfig(engine=sim.EngineConfig(**{**MIXPE, "b_fmt": "ternary"}))
    assert sim.run(ternary, "llama2-7b-decode", attention=False,
                   ideal_memory=True).total["cycles"] == want


@pytest.mark.parametrize("weight, bits, zero_bits", [("int4", 4, 0), ("uint4", 4, 4),
                                                     ("ternary", 2, 0)])
def test_weights_in_memory_carry_their_group_scales(weight, bits, zero_bits):
    """Each column of B holds K codes and, per group of 128, an fp16 scale (and for unsigned
    weights a zero point of the weight's width)."""
    model = engine_model(sim.EngineConfig(**{**MIXPE, "b_fmt": weight}))
    got = model.sram_operand_bits(1, 4096, 16)
    assert got["b_read"] == 16 * (bits * 4096 + (16 + zero_bits) * 32)
    assert got["a_read"] == 16 * 4096  # one fp16 activation row, one column tile
    assert got["c_write"] == 16 * 32


@pytest.mark.parametrize("change, message", [
    ({"group_size": 130}, "engine group_size 130 is not a multiple of k_step 4: a quantization "
                          "group must end on a beat boundary"),
    ({"b_fmt": "int8"}, "engine b_fmt of a MixPE array must be one of int1, int2, int3, int4, "
                        "uint1, uint2, uint3, uint4, ternary (one shifted copy of the activation "
                        "per weight bit), not 'int8'"),
    ({"accumulator": "int32"}, "engine accumulator of a MixPE array must be a float accumulator "
                               "such as fp32, fp16 or bf16 (the dequantized group terms are "
                               "rounded into it), not 'int32'"),
    ({"dataflow": "ws"}, "engine dataflow of a MixPE array is 'os' (output tiles, one "
                         "dequantization per group), not 'ws'"),
    ({"pe_stages": 2}, "engine pe_stages applies to MAC pipelines; a MixPE has fixed stages "
                       "(align, shift-add, dequantize): leave it 1, not 2"),
    ({"mac_variant": "bitweight"}, "engine mac_variant 'bitweight' applies to systolic, "
                                   "adder_tree, matrix and cube engines, not kind 'mixpe'"),
    ({"group_size": 0}, "engine group_size must be an integer from 1 to 65536, not 0"),
    ({"k_step": 65}, "engine k_step must be an integer from 1 to 64, not 65"),
    ({"rows": 65}, "engine (mixpe): MixPEArray rows must be an integer from 1 to 64, not 65"),
    ({"kind": "systolic", "b_fmt": "ternary"}, "engine b_fmt 'ternary' applies to kind 'mixpe' "
                                               "(shift-add weights), not kind 'systolic'; give "
                                               "a format name"),
])
def test_bad_mixpe_engines_raise_one_clear_error(change, message):
    with pytest.raises(HardwareError) as err:
        engine_model(sim.EngineConfig(**{**MIXPE, **change}))
    assert str(err.value) == message


def test_the_cli_refuses_a_bad_mixpe_engine_in_one_line(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("LOWBIT_BUILD", str(tmp_path / "build"))
    toml = tmp_path / "mixpe.toml"
    toml.write_text('name = "mixpe"\n[engine]\nkind = "mixpe"\nrows = 1\ncols = 16\n'
                    'a_fmt = "fp16"\nb_fmt = "int4"\naccumulator = "fp32"\ngroup_size = 126\n')
    assert cli.main(["sim", "--arch", str(toml), "--workload", "llama2-7b-decode",
                     "--out", str(tmp_path / "out")]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines == ["lowbit: error: engine group_size 126 is not a multiple of k_step 4: a "
                     "quantization group must end on a beat boundary"]


def test_sim_runs_a_mixpe_array_built_in_python():
    from lowbit.hdl.mixpe_array import MixPEArray

    engine = designs.get("mixpearray2x3_mixpe_int8xuint4_g16_fp32").build()
    assert isinstance(engine, MixPEArray)
    op = sim.GemmOp("gemv", 1, 100, 7, "int8", "uint4")
    res = sim.run(engine, [op], ideal_memory=True)
    assert res.total["cycles"] == engine.cycles(1, 100, 7) == \
        _array_cycles(1, 100, 7, rows=2, cols=3, group=16)
    assert res.arch.engine.kind == "mixpe" and res.arch.engine.group_size == 16


def test_the_cli_runs_the_decode_weight_gemvs_on_a_mixpe_array(tmp_path, capsys):
    """``--weights-only`` leaves out the attention products, which no MixPE array runs."""
    toml = tmp_path / "mixpe.toml"
    toml.write_text('name = "mixpe"\n[engine]\nkind = "mixpe"\nrows = 1\ncols = 16\n'
                    'a_fmt = "int8"\nb_fmt = "int4"\naccumulator = "fp32"\ngroup_size = 8\n')
    args = ["sim", "--arch", str(toml), "--workload", "llama2-7b-decode", "--ideal-memory",
            "--out", str(tmp_path / "out")]
    assert cli.main(args) == 2
    assert "workload op attn_scores: b_fmt int8 cannot run on this engine" in \
        capsys.readouterr().err
    assert cli.main(args + ["--weights-only"]) == 0
    want = sum(op.repeat * _array_cycles(op.m, op.k, op.n, group=8) for op in
               sim.workloads.llama2_7b_decode(a_fmt="int8", b_fmt="int4", attention=False))
    assert f"total: {want:,} cycles" in " ".join(capsys.readouterr().out.split())
