"""Hardware configurations: defaults, TOML loading, presets, and one clear error per bad field."""

import pytest

from lowbit.sim.engine_model import engine_model

from lowbit.sim.hardware import (PRESETS, ArchConfig, BufferConfig, DramConfig, EngineConfig,
                                 HardwareError, arch_from_dict, load_arch)

TOML = """
name = "edge"
clock_mhz = 500
engines = 2
double_buffering = false

[engine]
kind = "systolic"
rows = 16
cols = 8
dataflow = "ws"
a_fmt = "fp8_e4m3"
b_fmt = "fp8_e4m3"
accumulator = "fp32"

[buffers]
a_sram_kib = 64
sram_bytes_per_cycle = 32

[dram]
dram_gbps = 12.8
dram_latency_ns = 80
"""


def test_toml_file_round_trip(tmp_path):
    path = tmp_path / "edge.toml"
    path.write_text(TOML)
    arch = load_arch(path)
    assert arch == ArchConfig("edge", 500, 2, False,
                              EngineConfig(rows=16, cols=8, dataflow="ws", a_fmt="fp8_e4m3",
                                           b_fmt="fp8_e4m3", accumulator="fp32"),
                              BufferConfig(a_sram_kib=64, sram_bytes_per_cycle=32),
                              DramConfig(12.8, 80))
    assert engine_model(arch.engine).peak_macs_per_cycle == 128
    assert arch.dram_bytes_per_cycle == pytest.approx(12.8e9 / 500e6)  # 25.6 B per cycle
    assert arch_from_dict(arch.to_dict()) == arch


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_presets_load(name):
    assert load_arch(name).name == name


@pytest.mark.parametrize("data, message", [
    ({"buffers": {"a_sram_kib": 0}}, "buffers a_sram_kib must be a number above 0"),
    ({"dram": {"dram_gbps": -1}}, "dram dram_gbps must be a number above 0 and at most 1e+06, "
                                  "not -1"),
    ({"dram": {"dram_latency_ns": float("nan")}}, "dram dram_latency_ns must be a number"),
    ({"engine": {"dataflow": "rs"}}, "engine dataflow must be one of 'ws', 'os', 'is', not 'rs'"),
    ({"engine": {"kind": "gpu"}}, "engine kind must be one of 'systolic', 'adder_tree', 'lut'"),
    ({"engine": {"rows": 0}}, "engine rows must be an integer from 1 to 4096, not 0"),
    ({"engine": {"a_fmt": "fp7"}}, "engine a_fmt: unknown format 'fp7'"),
    ({"engine": {"accumulator": "int"}}, "engine accumulator: unknown accumulator 'int' (no format 'int'); did you mean"),
    ({"engine": {"lut_tile": [2]}}, "engine lut_tile must be [TM, TN], not [2]"),
    ({"engine": {"rowz": 4}}, "unknown setting engine.rowz; allowed: a_fmt, accumulator"),
    ({"clock": 4}, "unknown setting 'clock'; allowed: buffers, clock_mhz"),
    ({"clock_mhz": "fast"}, "arch clock_mhz must be a number above 0"),
    ({"double_buffering": "yes"}, "arch double_buffering must be true or false, not 'yes'"),
    ({"engines": 0}, "arch engines must be an integer from 1 to 4096, not 0"),
    ({"engine": 5}, "[engine] must be a table, not 5"),
])
def test_bad_settings_raise_one_error_naming_the_field(data, message):
    with pytest.raises(HardwareError) as info:
        arch_from_dict(data)
    assert message in str(info.value)


def test_bad_files(tmp_path):
    with pytest.raises(HardwareError, match="arch must be a TOML file or one of edge-int8-32x32"):
        load_arch(tmp_path / "missing.toml")
    broken = tmp_path / "broken.toml"
    broken.write_text("clock_mhz = = 3\n")
    with pytest.raises(HardwareError, match="broken.toml is not valid TOML"):
        load_arch(broken)
