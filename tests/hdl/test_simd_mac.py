"""SimdMac against golden: Amaranth simulator on corner, overflow and random mode-mixing sets;
Verilator via cocotb exhaustively in every mode.

Configurations: ``presets`` (the four signed shapes int8 x int8, int4 x int4, int8 x int4,
int2 x int2 with wrapping registers: the shapes the literature's SIMD MACs use, run exhaustively
over every operand combination a mode has, 2**16 per mode, and every pair of each lane in 8x4);
``mixed`` (unsigned and mixed-signedness lanes, saturating registers narrow enough to clamp,
register widths that differ per mode: the cases where the Baugh-Wooley signs, the 2x2 field
extraction and per-mode overflow differ from the presets).
"""

import json

import numpy as np
import pytest
from amaranth.sim import Simulator

from lowbit.errors import OperationError
from lowbit.golden import formats as F
from lowbit.golden.accumulators import FixedAccumulator
from lowbit.hdl import export
from lowbit.hdl.simd_mac import SimdMac, SimdMode
from lowbit.verify.runner import run_testbench
from lowbit.verify.simd_vectors import simd_vectors
from tests.expect import raises_exactly

CONFIGS = {
    "presets": (
        SimdMode.preset("8x8", acc=FixedAccumulator(24, 0, "wrap")),
        SimdMode.preset("4x4", acc=FixedAccumulator(16, 0, "wrap")),
        SimdMode.preset("8x4", acc=FixedAccumulator(20, 0, "wrap")),
        SimdMode.preset("2x2", acc=FixedAccumulator(12, 0, "wrap")),
    ),
    "mixed": (
        SimdMode(F.IntFormat(8, False), F.IntFormat(8, False), FixedAccumulator(18, 0, "saturate")),
        SimdMode(F.IntFormat(4, False), F.IntFormat(4, True), FixedAccumulator(10, 0, "saturate")),
        SimdMode(F.IntFormat(8, True), F.IntFormat(4, False), FixedAccumulator(13, 0, "saturate")),
        SimdMode(F.IntFormat(2, False), F.IntFormat(2, False), FixedAccumulator(6, 0, "wrap")),
        SimdMode(F.IntFormat(2, True), F.IntFormat(2, False), FixedAccumulator(5, 0, "saturate")),
        SimdMode(F.get("fixed4_4"), F.IntFormat(8, True), FixedAccumulator(16, 4, "wrap")),
    ),
}


def simulate_pysim(dut, vectors):
    """Run vectors through Amaranth's simulator; return every lane register after each op."""
    got = []

    async def bench(ctx):
        for row in range(len(vectors)):
            ctx.set(dut.valid, 1)
            ctx.set(dut.clear, int(vectors.clear[row]))
            ctx.set(dut.mode, int(vectors.mode[row]))
            ctx.set(dut.a, int(vectors.a[row]))
            ctx.set(dut.b, int(vectors.b[row]))
            await ctx.tick()
            assert ctx.get(dut.out_valid) == 1
            got.append([ctx.get(port) for port in dut.acc_ports()])

    sim = Simulator(dut)
    sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()
    return np.array(got)


def assert_matches(got, v):
    bad = np.flatnonzero((got != v.expected).any(axis=1))
    assert bad.size == 0, [(int(v.mode[i]), hex(v.a[i]), hex(v.b[i]), got[i].tolist(),
                            v.expected[i].tolist()) for i in bad[:5]]


@pytest.mark.parametrize("name", CONFIGS)
@pytest.mark.parametrize("kind", ["corners", "sequences", "random"])
def test_simd_mac_pysim(name, kind):
    modes = CONFIGS[name]
    v = simd_vectors(kind, modes, seed=1)
    assert set(v.mode.tolist()) == set(range(len(modes)))
    assert_matches(simulate_pysim(SimdMac(modes), v), v)


def test_simd_mac_holds_without_valid_or_with_unknown_mode():
    modes = CONFIGS["presets"][:3]  # 2-bit mode input: code 3 is no mode
    dut = SimdMac(modes)
    seen = []

    async def bench(ctx):
        ctx.set(dut.valid, 1)
        ctx.set(dut.clear, 1)
        ctx.set(dut.mode, 1)  # int4 x int4: lanes 3 * 5 and -2 * 7
        ctx.set(dut.a, 0xAB_E_3)  # a[8:16] unused in 4x4
        ctx.set(dut.b, 0x75)
        await ctx.tick()
        seen.append((ctx.get(dut.out_valid), ctx.get(dut.acc0), ctx.get(dut.acc1)))
        ctx.set(dut.valid, 0)
        await ctx.tick()
        seen.append((ctx.get(dut.out_valid), ctx.get(dut.acc0), ctx.get(dut.acc1)))
        ctx.set(dut.valid, 1)
        ctx.set(dut.mode, 3)
        await ctx.tick()
        seen.append((ctx.get(dut.out_valid), ctx.get(dut.acc0), ctx.get(dut.acc1)))

    sim = Simulator(dut)
    sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()
    assert seen == [(1, 15, -14), (0, 15, -14), (0, 15, -14)]


def test_simd_mac_ports_and_sidecar():
    dut = SimdMac(CONFIGS["mixed"])  # lane registers: widest mode using each lane
    rtl = export(dut, name="simd_mac_mixed")
    sidecar = rtl.sidecar
    ports = sidecar["ports"]
    assert [(ports[f"acc{k}"]["width"], ports[f"acc{k}"]["signed"]) for k in range(4)] == [
        (20, True), (13, True), (6, True), (6, True)]
    assert ports["mode"]["width"] == 3 and ports["a"]["width"] == 16
    assert ports["b"]["width"] == 8
    assert [m["shape"] for m in sidecar["parameters"]["modes"]] == [
        "8x8", "4x4", "8x4", "2x2", "2x2", "8x8"]
    assert sidecar["latency_cycles"] == 1


@pytest.mark.parametrize("name", CONFIGS)
def test_simd_mac_verilator(name, tmp_path):
    modes = CONFIGS[name]
    dut = SimdMac(modes)
    rtl = export(dut, name=f"simd_mac_{name}")
    if name == "presets":  # every mode exhaustively
        sets = [simd_vectors("exhaustive", modes, only=k) for k in range(len(modes))]
        assert [len(v) for v in sets] == [1 << 16, 1 << 16, 1 << 12, 1 << 16]
    else:
        sets = [simd_vectors(kind, modes) for kind in ("corners", "sequences", "random")]
    widths = ",".join(str(port.shape().width) for port in dut.acc_ports())
    for i, v in enumerate(sets):
        path = tmp_path / f"{v.name}{i}.npz"
        v.save(path)
        run_testbench(rtl, "lowbit.verify.testbenches.simd_mac_tb",
                      {"LOWBIT_VECTORS": path, "LOWBIT_LATENCY": dut.latency,
                       "LOWBIT_ACC_BITS": widths})


def _int(bits, signed=True):
    return F.IntFormat(bits, signed)


@pytest.mark.parametrize("call, message", [
    (lambda: SimdMode(F.get("fp8_e4m3"), _int(8), FixedAccumulator(20, 0)),
     "SimdMode a_fmt must be an IntFormat or FixedFormat, not 'fp8_e4m3'"),
    (lambda: SimdMode(_int(8), _int(2), FixedAccumulator(20, 0)),
     "SimdMode operand widths must be one of 8x8, 4x4, 8x4, 2x2 (a bits x b bits), not 8x2"),
    (lambda: SimdMode(_int(8), _int(8), "wide"),
     "SimdMode acc must be an integer register (int24, ...), not 'wide'"),
    (lambda: SimdMode(F.get("fixed4_4"), _int(8), FixedAccumulator(20, 0)),
     "SimdMode acc frac_bits must equal the product's 4 (products are not rounded), not 0"),
    (lambda: SimdMode.preset("8x8", acc=FixedAccumulator(12, 0)),
     "accumulator fixed12_0 (max 2047.0) is narrower than one product of int8 x int8 "
     "(up to 16384.0)"),
    (lambda: SimdMode.preset("16x16", acc=FixedAccumulator(40, 0)),
     "SimdMode shape must be one of 8x8, 4x4, 8x4, 2x2, not '16x16'"),
    (lambda: SimdMac("8x8"),
     "SimdMac modes must be a list or tuple of SimdMode, not '8x8'"),
    (lambda: SimdMac([]), "SimdMac needs 1 to 8 modes, not 0"),
    (lambda: SimdMac([CONFIGS["presets"][0]] * 9), "SimdMac needs 1 to 8 modes, not 9"),
    (lambda: SimdMac([CONFIGS["presets"][0], "4x4"]),
     "SimdMac modes[1] must be a SimdMode, not '4x4'"),
])
def test_simd_mac_rejects_bad_parameters(call, message):
    raises_exactly(call, OperationError, message)
