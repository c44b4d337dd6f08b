"""Design-catalogue entries of the engine shapes of issue 25: the 2D matrix, the 3D cube and
the bit-weight MAC (``bwmac``) that makes the bit-weight variant of every shape. Names parse
back to equal specs, the specs' cycles, latency and peak rate are the built engines', and bad
specs fail at construction with one error naming the field."""

import pytest

from lowbit.hdl import designs as D
from lowbit.hdl.broadcast_schedule import broadcast_cycles
from tests.expect import raises_exactly

NAMES = [
    "bwmac_int8xint8_int32", "bwmac_uint4xint8_int20_g2",
    "matrix4x4_intmac_int8xint8_int32", "matrix2x3_floatmac_fp8_e4m3xfp8_e4m3_exact_fp32",
    "matrix4x4_bwmac_int8xint8_int32",
    "cube4x4x4_intmac_int8xint8_int32", "cube2x2x4_floatmac_fp8_e4m3xfp8_e4m3_exact_fp32",
    "cube4x4x4_bwmac_int8xint8_int32", "cube2x2x8_bwmac_int4xint4_int16_g2",
    "systolic4x4_os_bwmac_int8xint8_int32", "addertree16_bwmac_int8xint8_int32",
    "addertree16_bwmac_int8xint8_int32_g4",
]


@pytest.mark.parametrize("name", NAMES)
def test_names_parse_back_to_the_same_design(name):
    spec = D.get(name)
    assert spec.name == name and D.get(spec.name) == spec
    assert D.from_dict(spec.to_dict()) == spec


@pytest.mark.parametrize("name", [n for n in NAMES if not n.startswith("bwmac")])
def test_spec_counts_are_the_built_engine_s(name):
    spec = D.get(name)
    engine = spec.build()
    assert spec.peak_macs_per_cycle == engine.peak_macs_per_cycle
    for shape in ((1, 1, 1), (5, 37, 7), (64, 300, 16)):
        assert spec.cycles(*shape) == engine.cycles(*shape)
    engine.part(engine)  # never elaborated


def test_bit_weight_variants_keep_peak_rate_and_formats():
    for shape in ("systolic4x4_os_{}", "addertree16_{}", "matrix4x4_{}", "cube2x2x4_{}"):
        base = D.get(shape.format("intmac_int8xint8_int32"))
        twin = D.bitweight_twin(base)
        assert twin.name == shape.format("bwmac_int8xint8_int32")
        assert twin.peak_macs_per_cycle == base.peak_macs_per_cycle == 16
        assert twin.accumulator == base.accumulator and twin.a_fmt == base.a_fmt
    raises_exactly(lambda: D.bitweight_twin("matrix2x2_floatmac_fp8_e4m3xfp8_e4m3_fp32"),
                   D.DesignError, "matrix2x2_floatmac_fp8_e4m3xfp8_e4m3_fp32 has no bit-weight "
                   "variant: it needs an intmac_... PE (integer operands)")


def test_latency_of_each_shape():
    assert D.get("matrix4x4_intmac_int8xint8_int32").latency == 1
    assert D.get("cube4x4x4_intmac_int8xint8_int32").latency == 3  # products, tree, register
    assert D.get("cube4x4x4_bwmac_int8xint8_int32").latency == 1
    assert D.get("addertree8_bwmac_int8xint8_int32").latency == 0  # same edge as the beat


def test_cycle_model_tiles_beyond_the_rtl():
    spec = D.get("matrix128x128_intmac_int8xint8_int32")
    assert not spec.buildable and spec.peak_macs_per_cycle == 128 * 128
    assert spec.cycles(256, 4096, 256) == broadcast_cycles(256, 4096, 256, rows=128, cols=128,
                                                           depth=1, latency=1)
    raises_exactly(spec.build, D.DesignError, "matrix128x128_intmac_int8xint8_int32 is a "
                   "cycle-model engine: RTL engines have at most 64 rows and columns")


@pytest.mark.parametrize("make, message", [
    (lambda: D.CubeSpec(0, 4, 4), "CubeEngine m must be an integer from 1 to 4096, not 0"),
    (lambda: D.CubeSpec(4, 4, 0), "CubeEngine k must be an integer from 1 to 64, not 0"),
    (lambda: D.CubeSpec(4, 4, 3), "CubeEngine k must be a power of two from 1 to 64, not 3"),
    (lambda: D.MatrixSpec(4, 0), "MatrixEngine cols must be an integer from 1 to 4096, not 0"),
    (lambda: D.BitWeightMacSpec("fp8_e4m3", "fp8_e4m3", "int32"),
     "CarrySaveDot a_fmt must be an IntFormat or FixedFormat: "
     "bit-weight partial products are bits of integer codes, not of 'fp8_e4m3'"),
    (lambda: D.BitWeightMacSpec("int8", "int8", "int32_sat"),
     "CarrySaveDot cannot implement FixedAccumulator overflow "
     "'saturate': golden saturates after every addition in K order, but a carry-save sum is "
     "resolved only at the end; use overflow='wrap' or an IntMac"),
    (lambda: D.BitWeightMacSpec(k_group=3),
     "CarrySaveDot k_group must be a power of two from 1 to 64, "
     "not 3"),
    (lambda: D.AdderTreeSpec(8, D.BitWeightMacSpec(k_group=16)),
     "CarrySaveDot k_group must divide lanes 8 (one "
     "carry-propagate adder per group of k_group products in a cycle), not 16"),
    (lambda: D.CubeSpec(2, 2, 4, "bwmac_int8xint8_int32_g8"),
     "CarrySaveDot k_group must divide lanes 4 (one "
     "carry-propagate adder per group of k_group products in a cycle), not 8"),
    (lambda: D.MatrixSpec(4, 4, "bwmac_int8xint8_int32_g2"),
     "MatrixEngine pe CarrySaveDot must have one lane (one "
     "product per PE per cycle), not 2"),
    (lambda: D.SystolicSpec(4, 4, "ws", "bwmac_int8xint8_int32"),
     "SystolicArray dataflow 'ws' cannot carry "
     "CarrySaveDot PEs: partial sums flow between PEs as accumulator codes, but a carry-save PE "
     "resolves its sum only when it leaves the array; use dataflow 'os'"),
])
def test_bad_specs_fail_at_construction(make, message):
    raises_exactly(make, D.DesignError, message)
