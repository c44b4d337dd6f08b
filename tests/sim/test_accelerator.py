"""The SimPy model end to end: bandwidth- and compute-bound ops, exact traffic, stalls by cause,
energy traceable to the data file, and one clear error for every impossible setting."""

import dataclasses
import math

import pytest

from lowbit import sim
from lowbit.golden.lut_gemm import LutGemmConfig, op_counts
from lowbit.sim.mac_energy import load_table
from lowbit.sim.hardware import HardwareError
from lowbit.sim.workloads import WorkloadError, llama2_7b_decode, llama2_7b_prefill


def _arch(**engine):
    """A 1 GHz accelerator with 25.6 GB/s DRAM (25.6 bytes per cycle) and 64 B/cycle SRAM."""
    return sim.ArchConfig("test", 1000, engine=sim.EngineConfig(**engine),
                          buffers=sim.BufferConfig(256, 256, 128, 8, 64),
                          dram=sim.DramConfig(25.6, 100))


def _op(workload, name):
    return next(op for op in workload if op.name == name)


def test_memory_bound_gemv_stalls_for_bytes_over_bandwidth():
    """LLaMA-2-7B decode, batch 1: gate_proj (1 x 4096 x 11008) on a 64-lane int8 adder tree
    needs 45 MB at 25.6 B/cycle, 2.5 times its compute."""
    arch = _arch(kind="adder_tree", lanes=64)
    op = dataclasses.replace(_op(llama2_7b_decode(batch=1), "gate_proj"), repeat=1)
    row = sim.run(arch, [op]).rows[0]
    assert row["bound"] == "dram"
    weight_bytes = 4096 * 11008  # int8 weights, each read once
    assert row["dram_read_bytes"] == weight_bytes + 4096  # and the activation vector
    assert row["dram_write_bytes"] == 11008 * 4           # int32 results
    transfer = (row["dram_read_bytes"] + row["dram_write_bytes"]) / arch.dram_bytes_per_cycle
    stalls = row["stall_dram_read_cycles"] + row["stall_dram_write_cycles"]
    assert row["cycles"] == pytest.approx(transfer, rel=0.01)
    assert stalls == pytest.approx(transfer - row["compute_cycles"], rel=0.01)
    assert row["cycles"] == row["compute_cycles"] + stalls + row["stall_sram_bandwidth_cycles"]


def test_large_k_prefill_gemm_is_compute_bound():
    """down_proj of a 2048-token prefill (2048 x 11008 x 4096) on the TPU-like 128x128 array."""
    op = dataclasses.replace(_op(llama2_7b_prefill(seq_len=2048), "down_proj"), repeat=1)
    row = sim.run("tpu-like-128x128", [op]).rows[0]
    assert row["bound"] == "compute"
    assert row["cycles"] < 1.02 * row["compute_cycles"]
    tiles = (11008 // 128) * (4096 // 128)  # ws: T (R + M + C - 1) + R - 1 cycles
    assert row["compute_cycles"] == tiles * (128 + 2048 + 127) + 127
    assert row["utilization"] > 0.98 * 2048 * 11008 * 4096 / (row["compute_cycles"] * 128 * 128)


def test_ideal_memory_gives_the_closed_form_and_real_memory_only_adds():
    arch = _arch(rows=16, cols=8, dataflow="ws")
    ops = llama2_7b_decode(batch=4)
    ideal = sim.run(arch, ops, ideal_memory=True)
    real = sim.run(arch, ops)
    for i, r in zip(ideal.rows, real.rows):
        assert i["cycles"] == i["compute_cycles"] == r["compute_cycles"]
        assert r["cycles"] >= r["compute_cycles"]
        assert all(i[f"stall_{c}_cycles"] == 0 for c in sim.simulator.STALL_CAUSES)
    assert ideal.total["cycles"] == sum(r["cycles"] for r in ideal.rows)


def test_double_buffering_hides_transfers():
    base = _arch(rows=32, cols=32, dataflow="os")
    op = dataclasses.replace(_op(llama2_7b_prefill(seq_len=256), "q_proj"), repeat=1)
    on = sim.run(base, [op]).total
    off = sim.run(dataclasses.replace(base, double_buffering=False), [op]).total
    assert off["compute_cycles"] == on["compute_cycles"]
    assert off["cycles"] > on["cycles"]
    assert off["stall_dram_read_cycles"] > on["stall_dram_read_cycles"]


def test_two_engines_halve_a_compute_bound_op():
    base = _arch(rows=32, cols=32, dataflow="os")
    op = sim.GemmOp("big", 1024, 4096, 1024)
    one = sim.run(base, [op], ideal_memory=True).total
    two = sim.run(dataclasses.replace(base, engines=2), [op], ideal_memory=True).total
    assert two["cycles"] == pytest.approx(one["cycles"] / 2, rel=0.02)


def test_block_scales_are_counted_exactly():
    """MXFP4 moves 4 bits per element plus an 8-bit scale per 32: 4.25 bits per element."""
    arch = _arch(rows=8, cols=8, dataflow="os", a_fmt="mxfp4", b_fmt="mxfp4",
                 accumulator="fp32")
    M, K, N = 64, 4096, 64
    row = sim.run(arch, [sim.GemmOp("mx", M, K, N, "mxfp4", "mxfp4")]).rows[0]
    assert row["dram_read_bytes"] == (M + N) * K * 4.25 / 8  # both fit: each read once
    ragged = sim.run(arch, [sim.GemmOp("mx", 1, 33, 1, "mxfp4", "mxfp4")]).rows[0]
    assert ragged["dram_read_bytes"] == 2 * (33 * 4 + 2 * 8) / 8  # 2 scales for 33 elements


def test_lut_precompute_counts_come_from_the_golden_reference():
    arch = _arch(kind="lut", a_fmt="int8", b_fmt="int2", weight_bits=2, lut_group=4,
                 lut_tile=(8, 32), lut_adds_per_cycle=4)
    M, K, N = 64, 1024, 256
    res = sim.run(arch, [sim.GemmOp("lut", M, K, N, "int8", "int2")])
    row = res.rows[0]
    assert row["lut_table_adds"] == op_counts(M, K, N, LutGemmConfig(2, 4)).table_adds
    assert row["stall_lut_precompute_cycles"] > 0  # 4 adds per cycle is too slow here
    # the measured LUT core builds its tables itself: their energy is in compute
    assert row["energy_lut_pj"] == 0
    assert "mac_energy.lutcore_w2_g4_int8_2x16_int32" in res.energy_constants


def test_energy_is_traceable_to_the_data_files():
    arch = _arch(rows=4, cols=4, dataflow="os", a_fmt="fp8_e4m3", b_fmt="fp8_e4m3",
                 accumulator="fp32")
    res = sim.run(arch, [sim.GemmOp("g", 64, 64, 64, "fp8_e4m3", "fp8_e4m3")])
    row = res.rows[0]
    mac = load_table()["floatmac_fp8_e4m3xfp8_e4m3_fp32", "gaussian"]
    # dynamic energy per MAC times MACs, plus 16 PEs' leakage over the op's cycles
    leakage = 16 * mac.leakage_nw * row["cycles"] / arch.clock_mhz * 1e-3
    assert row["energy_compute_pj"] == pytest.approx(64 ** 3 * mac.dynamic_pj + leakage)
    dram_bits = 8 * (row["dram_read_bytes"] + row["dram_write_bytes"])
    assert row["energy_dram_pj"] == pytest.approx(dram_bits / 64 * 1300.0)
    sram_bits = 8 * (row["sram_read_bytes"] + row["sram_write_bytes"])
    assert row["energy_sram_pj"] == pytest.approx(sram_bits / 64 * 10.0)
    assert row["energy_pj"] == pytest.approx(sum(row[f"energy_{k}_pj"] for k in
                                                 ("compute", "sram", "dram", "lut")))
    used = res.energy_constants["mac_energy.floatmac_fp8_e4m3xfp8_e4m3_fp32"]
    assert set(res.energy_constants) >= {"sram_read_64b_8kib_pj", "dram_access_64b_low_pj"}
    assert used["stream"] == "gaussian" and used["value"] == mac.dynamic_pj
    assert used["clock_mhz"] == arch.clock_mhz and used["fmax_mhz"] == mac.fmax_mhz
    assert used["entry"] == ("mac_energy_nangate45.toml "
                             "[designs.floatmac_fp8_e4m3xfp8_e4m3_fp32.gaussian]")
    assert "lowbit activity energy" in used["source"]
    high = sim.run(res.arch, [sim.GemmOp("g", 64, 64, 64, "fp8_e4m3", "fp8_e4m3")],
                   dram_energy="high").rows[0]
    assert high["energy_dram_pj"] == pytest.approx(2 * row["energy_dram_pj"])


def test_the_stream_picks_the_measured_energy():
    arch = _arch(rows=4, cols=4, dataflow="os")
    op = [sim.GemmOp("g", 64, 64, 64)]
    table = load_table()
    rows = {s: sim.run(arch, op, energy_stream=s).rows[0] for s in ("sparse", "random")}
    assert rows["sparse"]["energy_compute_pj"] < rows["random"]["energy_compute_pj"]
    assert (table["intmac_int8xint8_int32", "sparse"].dynamic_pj <
            table["intmac_int8xint8_int32", "random"].dynamic_pj)


def test_a_design_without_measured_energy_gives_nan_and_a_note():
    res = sim.run(_arch(accumulator="int24"), [sim.GemmOp("g", 8, 8, 8)])
    assert math.isnan(res.total["energy_pj"]) and res.total["cycles"] > 0
    assert res.notes[0].startswith("no measured MAC energy for 'intmac_int8xint8_int24' on "
                                   "stream 'gaussian' in mac_energy_nangate45.toml")


def test_a_custom_source_without_the_design_is_named_in_the_note():
    def source(design, stream):
        return None
    source.describe = "my measurements"
    res = sim.run(_arch(), [sim.GemmOp("g", 8, 8, 8)], mac_energy=source)
    assert math.isnan(res.total["energy_pj"])
    assert res.notes == ["no measured MAC energy for 'intmac_int8xint8_int32' on stream "
                         "'gaussian' from the mac_energy source (my measurements): compute "
                         "energy is nan"]
    assert res.options["mac_energy"] == "my measurements"


def test_an_energy_source_prices_designs_outside_the_table():
    table = load_table()
    seen = []

    def source(design, stream):  # stands in for lowbit.reports.power.mac_energy_source()
        seen.append((design, stream))
        return dataclasses.replace(table["intmac_int8xint8_int32", stream], design=design,
                                   entry="test source")
    res = sim.run(_arch(accumulator="int24"), [sim.GemmOp("g", 8, 8, 8)], mac_energy=source)
    assert seen == [("intmac_int8xint8_int24", "gaussian")]
    assert math.isfinite(res.total["energy_pj"])
    # the only note is the clock check (the source's Fmax is the int32 MAC's), none on energy
    assert res.notes == ["clock_mhz 1000 is above intmac_int8xint8_int24's Fmax 571 MHz (static "
                         "timing of its netlist): the design needs pipelining for this clock"]
    assert res.energy_constants["mac_energy.intmac_int8xint8_int24"]["entry"] == "test source"


def test_a_clock_above_the_designs_fmax_is_noted():
    res = sim.run(_arch(rows=4, cols=4, a_fmt="fp8_e4m3", b_fmt="fp8_e4m3",
                        accumulator="fp32"), [sim.GemmOp("g", 8, 8, 8, "fp8_e4m3", "fp8_e4m3")])
    assert any("is above floatmac_fp8_e4m3xfp8_e4m3_fp32's Fmax 169 MHz" in n
               for n in res.notes)


def test_results_per_token_and_throughput_units():
    arch = _arch(rows=32, cols=32, dataflow="os")
    res = sim.run(arch, "llama2-7b-decode", batch=2)
    t = res.total
    assert t["macs"] == sum(op.macs for op in llama2_7b_decode(batch=2))
    assert t["tops"] == pytest.approx(2 * t["macs"] / (t["cycles"] / 1e9) / 1e12)
    assert t["tops_per_w"] == pytest.approx(2 * t["macs"] / t["energy_pj"])
    assert res.per(2)["energy_pj"] == t["energy_pj"] / 2
    assert res.options["batch"] == 2


@pytest.mark.parametrize("call, error, message", [
    (lambda: sim.run(_arch(), "llama2-7b-decode", a_fmt="fp8_e4m3"), HardwareError,
     "workload op q_proj: a_fmt fp8_e4m3 cannot run on this engine, whose a_fmt is int8"),
    (lambda: sim.run(_arch(), "gpt-5"), WorkloadError,
     "workload preset must be one of llama2-7b-decode"),
    (lambda: sim.run("no-such-arch", "resnet50"), HardwareError,
     "arch must be a TOML file or one of edge-int8-32x32"),
    (lambda: sim.BufferConfig(a_sram_kib=0), HardwareError,
     "buffers a_sram_kib must be a number above 0"),
    (lambda: sim.DramConfig(dram_gbps=-25.6), HardwareError,
     "dram dram_gbps must be a number above 0"),
    (lambda: sim.run(dataclasses.replace(_arch(rows=64, cols=64),
                                         buffers=sim.BufferConfig(c_sram_kib=1)),
                     [sim.GemmOp("g", 64, 64, 64)]), HardwareError,
     "buffers c_sram_kib 1 is too small: one engine tile of 64 x 64 results"),
    (lambda: sim.run(_arch(dataflow="ws", a_fmt="mxfp4", b_fmt="mxfp4", accumulator="fp32"),
                     "resnet50"), HardwareError, "engine (systolic): SystolicArray dataflow "
     "'ws' cannot carry mxfp4 PEs"),
    (lambda: sim.run(_arch(a_fmt="int8", b_fmt="fp8_e4m3", accumulator="fp32"), "resnet50"),
     HardwareError,
     "engine (systolic): no MAC design multiplies int8 by fp8_e4m3: operands must be both "
     "integer/fixed, both float, one posit format or one block format"),
    (lambda: sim.run(_arch(a_fmt="fp8_e4m3", b_fmt="fp8_e4m3"), "resnet50"), HardwareError,
     "engine (systolic): FloatMac acc must be a float register or an exact (Kulisch) "
     "accumulator (fp32, fp16, bf16, exact_fp32, ...), not 'int32'"),
    (lambda: sim.run(_arch(kind="lut", b_fmt="int4", weight_bits=2), "resnet50"),
     HardwareError, "engine b_fmt of a LUT core must be int2 (weight_bits), not int4"),
    (lambda: sim.run(_arch(kind="adder_tree", lanes=12), "resnet50"), HardwareError,
     "engine (adder_tree): AdderTreeEngine lanes must be a power of two"),
    (lambda: sim.run(_arch(), "resnet50", cycle_convention="exact"), HardwareError,
     "cycle_convention must be one of rtl, scalesim, scalesim_last_index, not 'exact'"),
    (lambda: sim.run(_arch(), "resnet50", dram_energy="medium"), HardwareError,
     "dram_energy must be one of low, high, not 'medium'"),
    (lambda: sim.run(_arch(), "resnet50", batch=0), WorkloadError,
     "resnet50 batch must be an integer from 1 to 4096, not 0"),
])
def test_impossible_settings_fail_with_one_clear_error(call, error, message):
    with pytest.raises(error) as info:
        call()
    assert message in str(info.value)


def test_slow_sram_stalls_the_array():
    """A 32x32 os array reads 32 A and 32 B bytes per cycle; one 8-byte bank per buffer
    delivers a quarter of that, so compute stretches about 4 times."""
    arch = dataclasses.replace(_arch(rows=32, cols=32, dataflow="os"),
                               buffers=sim.BufferConfig(256, 256, 128, 1, 8))
    row = sim.run(arch, [sim.GemmOp("g", 256, 1024, 256)]).rows[0]
    assert row["bound"] == "sram"
    a_bits = (256 // 32) * 256 * 1024 * 8  # A streamed once per column tile
    stretch = a_bits / (8 * 8) / row["compute_cycles"]
    assert 3.5 < stretch < 4.1
    assert row["stall_sram_bandwidth_cycles"] == pytest.approx(
        (stretch - 1) * row["compute_cycles"], rel=1e-6)
