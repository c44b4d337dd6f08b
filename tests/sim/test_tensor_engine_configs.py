"""The cycle model's engine shapes of issue 25: ``matrix`` and ``cube`` engine kinds and the
bit-weight MAC variant of every shape, as ``EngineConfig`` fields. Each config names its
catalogue design (cycles, peak rate and name are the design's), LLaMA-2-7B prefill runs on
every shape at the same peak rate, and bad combinations fail with one error naming the field.

Cycles are checked against the RTL by ``test_rtl_calibration.py``; here the mapping and the
workload run."""

import math

import pytest

from lowbit import sim
from lowbit.hdl import designs
from lowbit.sim.engine_model import engine_model
from lowbit.sim.hardware import EngineConfig, HardwareError, arch_from_dict
from tests.expect import raises_exactly

#: The four shapes at 64 MACs per cycle (the widest adder tree of the catalogue).
SHAPES = {
    "systolic": {"kind": "systolic", "rows": 8, "cols": 8, "dataflow": "os"},
    "cube": {"kind": "cube", "rows": 4, "cols": 4, "cube_k": 4},
    "adder_tree": {"kind": "adder_tree", "lanes": 64},
    "matrix": {"kind": "matrix", "rows": 8, "cols": 8},
}


@pytest.mark.parametrize("variant, pe", [("standard", "intmac_int8xint8_int32"),
                                         ("bitweight", "bwmac_int8xint8_int32")])
def test_configs_name_the_catalogue_designs(variant, pe):
    names = {"systolic": f"systolic8x8_os_{pe}", "cube": f"cube4x4x4_{pe}",
             "adder_tree": f"addertree64_{pe}", "matrix": f"matrix8x8_{pe}"}
    for shape, name in names.items():
        model = engine_model(EngineConfig(**SHAPES[shape], mac_variant=variant))
        assert model.spec == designs.get(name)
        assert model.peak_macs_per_cycle == 64
        assert model.cycles(100, 4096, 70) == designs.get(name).cycles(100, 4096, 70)


def test_k_group_reaches_the_bit_weight_pe():
    model = engine_model(EngineConfig(kind="cube", rows=2, cols=2, cube_k=8,
                                      a_fmt="int4", b_fmt="int4", accumulator="int16",
                                      mac_variant="bitweight", k_group=2))
    assert model.spec.name == "cube2x2x8_bwmac_int4xint4_int16_g2"


def test_toml_names_the_new_fields():
    arch = arch_from_dict({"engine": {"kind": "cube", "rows": 8, "cols": 8, "cube_k": 8,
                                      "mac_variant": "bitweight"}})
    assert engine_model(arch.engine).spec.name == "cube8x8x8_bwmac_int8xint8_int32"


@pytest.mark.parametrize("variant", ["standard", "bitweight"])
@pytest.mark.parametrize("shape", list(SHAPES))
def test_llama2_prefill_runs_on_every_shape(shape, variant):
    arch = sim.ArchConfig("shape", 1000, engine=EngineConfig(**SHAPES[shape],
                                                             mac_variant=variant))
    res = sim.run(arch, "llama2-7b-prefill", seq_len=64, ideal_memory=True)
    total = res.total
    assert total["macs"] > 0 and total["cycles"] == total["compute_cycles"]
    # stall-free cycles are at least the MACs at the peak rate, and the tiles fill well
    assert total["cycles"] >= total["macs"] / 64
    assert 0.5 < total["utilization"] <= 1.0
    # both variants are priced by their PE's measured activity energy (bwmac for bit-weight)
    assert math.isfinite(total["energy_compute_pj"]) and total["energy_compute_pj"] > 0


def test_same_peak_same_cycles_for_both_variants_of_a_broadcast_shape():
    # a bit-weight PE changes only the datapath latency (one edge), not the beats
    for shape in ("matrix", "cube"):
        base, bw = (engine_model(EngineConfig(**SHAPES[shape], mac_variant=v))
                    for v in ("standard", "bitweight"))
        assert bw.cycles(2048, 4096, 4096) <= base.cycles(2048, 4096, 4096)
        assert base.cycles(2048, 4096, 4096) - bw.cycles(2048, 4096, 4096) == \
            base.spec.latency - bw.spec.latency


@pytest.mark.parametrize("engine, message", [
    ({"kind": "cube", "cube_k": 0}, "engine cube_k must be an integer from 1 to 64, not 0"),
    ({"kind": "blob"}, "engine kind must be one of 'systolic', 'adder_tree', 'lut', 'matrix', "
                       "'cube', 'mixpe', not 'blob'"),
    ({"mac_variant": "carrysave"}, "engine mac_variant must be one of 'standard', "
                                   "'bitweight', not 'carrysave'"),
    ({"k_group": 65}, "engine k_group must be an integer from 0 to 64, not 65"),
])
def test_bad_fields_fail_when_made(engine, message):
    raises_exactly(lambda: EngineConfig(**engine), HardwareError, message)


@pytest.mark.parametrize("engine, message", [
    ({"kind": "cube", "rows": 4, "cols": 4, "cube_k": 3},
     "engine (cube): CubeEngine k must be a power of two from 1 to 64, not 3"),
    ({"kind": "matrix", "a_fmt": "fp8_e4m3", "b_fmt": "fp8_e4m3", "accumulator": "fp32",
      "mac_variant": "bitweight"},
     "engine (matrix): CarrySaveDot a_fmt must be an IntFormat or FixedFormat: bit-weight "
     "partial products are bits of integer codes, not of 'fp8_e4m3'"),
    ({"kind": "systolic", "dataflow": "ws", "mac_variant": "bitweight"},
     "engine (systolic): SystolicArray dataflow 'ws' cannot carry CarrySaveDot PEs: partial "
     "sums flow between PEs as accumulator codes, but a carry-save PE resolves its sum only "
     "when it leaves the array; use dataflow 'os'"),
    ({"kind": "cube", "rows": 2, "cols": 2, "cube_k": 4, "mac_variant": "bitweight",
      "k_group": 8},
     "engine (cube): CarrySaveDot k_group must divide lanes 4 (one carry-propagate adder per "
     "group of k_group products in a cycle), not 8"),
    ({"kind": "lut", "b_fmt": "int2", "mac_variant": "bitweight"},
     "engine mac_variant 'bitweight' applies to systolic, adder_tree, matrix and cube "
     "engines, not kind 'lut'"),
    ({"kind": "matrix", "k_group": 2},
     "engine k_group 2 applies to mac_variant 'bitweight' only (products per carry-propagate "
     "adder); use 0"),
])
def test_impossible_designs_fail_with_the_hardware_s_reason(engine, message):
    raises_exactly(lambda: engine_model(EngineConfig(**engine)), HardwareError, message)


def test_broadcast_shapes_move_operands_as_an_os_array_of_their_tile():
    os_array = engine_model(EngineConfig(**SHAPES["systolic"]))
    for shape in ("matrix", "cube"):
        model = engine_model(EngineConfig(**SHAPES[shape]))
        rows, cols = SHAPES[shape]["rows"], SHAPES[shape]["cols"]
        tile = engine_model(EngineConfig(kind="systolic", rows=rows, cols=cols, dataflow="os"))
        assert model.sram_operand_bits(100, 512, 70) == tile.sram_operand_bits(100, 512, 70)
    # 8 x 8: A read ceil(70/8) = 9 times, B ceil(100/8) = 13 times, results once at 32 bits
    assert os_array.sram_operand_bits(100, 512, 70) == {
        "a_read": 9 * 100 * 512 * 8, "b_read": 13 * 70 * 512 * 8, "c_read": 0.0,
        "c_write": 100 * 70 * 32.0}


def test_a_bit_weight_mac_has_no_pipeline_stages():
    raises_exactly(lambda: engine_model(EngineConfig(kind="matrix", mac_variant="bitweight",
                                                     pe_stages=2)), HardwareError,
                   "engine pe_stages applies to mac_variant 'standard' (a bit-weight MAC has no "
                   "pipeline cut points); leave it 1, not 2")
