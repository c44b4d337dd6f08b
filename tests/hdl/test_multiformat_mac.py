"""MultiFormatMac and its shared blocks on Amaranth's simulator; construction errors word for word.

The full XR-NPE configuration (fp4_e2m1, posit4_1, posit8_0, posit16_1 into a 256-bit register)
is checked on Verilator (tests/verify/test_multiformat_mac.py and the regression); here the
blocks are checked against independent Python models, and small configurations (two 4-bit
formats in two lanes: a 128-bit register) show the unit's run semantics: a mode change restarts
the sums, an unknown mode is no operation, held lanes keep their flip-flops.
"""

import dataclasses
import json

import numpy as np
import pytest
from amaranth.sim import Simulator

from lowbit.errors import OperationError
from lowbit.golden import formats as F
from lowbit.golden.accumulators import FloatAccumulator, Quire, tree
from lowbit.hdl import designs, export
from lowbit.hdl.component import Component
from lowbit.hdl.lane_multiplier import LaneMultiplier
from lowbit.hdl.multiformat_mac import MultiFormatMac
from lowbit.hdl.segmented_kulisch import SegmentedKulisch, SegmentSplit
from lowbit.verify.multiformat_vectors import multiformat_vectors
from tests.expect import raises_exactly

FOUR = [F.get(n) for n in ("fp4_e2m1", "posit4_1", "posit8_0", "posit16_1")]


def run(dut, bench):
    sim = Simulator(dut)
    sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()


# --- LaneMultiplier -----------------------------------------------------------------------------
@pytest.mark.parametrize("width, splits", [
    (4, [(1, 4), (2, 2), (4, 1)]),          # every pair exhaustively
    (13, [(1, 13), (2, 6), (4, 2), (4, 1)]),  # XR-NPE's array: random pairs
])
def test_lane_multiplier_products(width, splits):
    dut = LaneMultiplier(width, splits)
    rng = np.random.default_rng(0)
    if width == 4:
        pairs = [(x, y) for x in range(16) for y in range(16)]
    else:
        pairs = [tuple(p) for p in rng.integers(0, 1 << width, (300, 2))]
    bad = []

    async def bench(ctx):
        for s, (lanes, lane_bits) in enumerate(splits):
            stride = width // lanes
            ctx.set(dut.split, s)
            for x, y in pairs:
                ctx.set(dut.x, int(x))
                ctx.set(dut.y, int(y))
                got = ctx.get(dut.product)
                for k in range(lanes):
                    mask = (1 << lane_bits) - 1
                    want = ((x >> k * stride) & mask) * ((y >> k * stride) & mask)
                    field = (got >> (2 * k * stride)) & ((1 << 2 * lane_bits) - 1)
                    if field != want:
                        bad.append((s, x, y, k, field, want))

    sim = Simulator(dut)
    sim.add_testbench(bench)
    sim.run()
    assert not bad, bad[:5]


# --- SegmentedKulisch ---------------------------------------------------------------------------
SPLITS = [SegmentSplit(4, 6, 5), SegmentSplit(2, 10, 6), SegmentSplit(1, 12, 7)]


def segmented_model(ops, blocks=4, block_bits=8):
    """Python model: per op the register's lane segments (signed ints) in the op's split."""
    width = blocks * block_bits
    value, run_split, out = 0, 0, []
    for split, clear, enable, addends in ops:
        lanes = SPLITS[split].lanes
        seg = width // lanes
        restart = clear or split != run_split
        run_split = split
        new = 0
        for k in range(lanes):
            old = 0 if restart else (value >> (k * seg)) & ((1 << seg) - 1)
            if (enable >> k) & 1:
                old = (old + addends[k]) % (1 << seg)
            elif restart:  # a held lane keeps its bits even across a restart
                old = (value >> (k * seg)) & ((1 << seg) - 1)
            new |= old << (k * seg)
        value = new
        out.append(value)
    return out


def test_segmented_kulisch_sums_reads_and_holds():
    dut = SegmentedKulisch(4, 8, SPLITS)
    rng = np.random.default_rng(3)
    ops = []
    split = 0
    for i in range(300):
        if rng.random() < 0.05:
            split = int(rng.integers(0, 3))
        lanes, bits = SPLITS[split].lanes, SPLITS[split].addend_bits
        addends = [int(a) for a in rng.integers(-(1 << bits - 1), 1 << bits - 1, 4)]
        ops.append((split, bool(rng.random() < 0.1), int(rng.integers(0, 16)), addends))
    want = segmented_model(ops)
    got, reads = [], []

    async def bench(ctx):
        for split, clear, enable, addends in ops:
            ctx.set(dut.valid, 1)
            ctx.set(dut.clear, int(clear))
            ctx.set(dut.split, split)
            ctx.set(dut.lane_enable, enable)
            for k in range(4):
                ctx.set(dut.lane_port("addend", k), addends[k])
            await ctx.tick()
            got.append(ctx.get(dut.value))
            reads.append([(ctx.get(dut.lane_port("sum_negative", k)),
                           ctx.get(dut.lane_port("sum_sig", k)),
                           ctx.get(dut.lane_port("sum_shift", k))) for k in range(4)])

    run(dut, bench)
    assert got == want
    # Read-out: each lane's magnitude normalized, the top read_bits - 1 bits and a sticky bit.
    for (split, *_), value, lanes_read in zip(ops, want, reads):
        lanes = SPLITS[split].lanes
        seg, keep = 32 // lanes, SPLITS[split].read_bits - 1
        for k in range(4):
            if k >= lanes:
                assert lanes_read[k] == (0, 0, 0)
                continue
            raw = (value >> (k * seg)) & ((1 << seg) - 1)
            signed = raw - (1 << seg) if raw >> (seg - 1) else raw
            mag = abs(signed)
            shift = seg - mag.bit_length()
            norm = mag << shift
            top = norm >> (seg - keep)
            sticky = int(norm & ((1 << (seg - keep)) - 1) != 0)
            assert lanes_read[k] == (int(signed < 0), top << 1 | sticky, shift), (split, k)


def test_held_lane_flip_flops_do_not_toggle():
    """Lane 2 of four is held for 50 operations: its block never changes, the others do."""
    dut = SegmentedKulisch(4, 8, SPLITS)
    blocks = []

    async def bench(ctx):
        for i in range(60):
            ctx.set(dut.valid, 1)
            ctx.set(dut.clear, int(i == 0))
            ctx.set(dut.split, 0)
            ctx.set(dut.lane_enable, 0b1111 if i < 10 else 0b1011)
            for k in range(4):
                ctx.set(dut.lane_port("addend", k), 3 + k)
            await ctx.tick()
            blocks.append([(ctx.get(dut.value) >> (8 * b)) & 0xFF for b in range(4)])

    run(dut, bench)
    held = [row[2] for row in blocks[9:]]
    assert held == [held[0]] * len(held) and held[0] == 10 * 5
    assert len({row[0] for row in blocks[9:]}) == len(blocks[9:])  # lane 0 keeps counting


# --- MultiFormatMac on the simulator ----------------------------------------------------------
SMALL = dict(formats=[F.get("fp4_e2m1"), F.get("posit4_1")], lanes=[2, 2])


def simulate(dut, v):
    got = []

    async def bench(ctx):
        for i in range(len(v)):
            ctx.set(dut.valid, 1)
            ctx.set(dut.clear, int(v.clear[i]))
            ctx.set(dut.mode, int(v.mode[i]))
            ctx.set(dut.a, int(v.a[i]))
            ctx.set(dut.b, int(v.b[i]))
            if dut.gating:
                ctx.set(dut.lane_enable, int(v.enable[i]))
            await ctx.tick()
            assert ctx.get(dut.out_valid) == 1
            got.append([ctx.get(p) for p in dut.acc_ports()])

    run(dut, bench)
    return np.array(got)


@pytest.mark.parametrize("acc", [None, FloatAccumulator(F.get("fp16"), "rtz")],
                         ids=["exact", "fp16_rtz"])
@pytest.mark.parametrize("kind", ["exhaustive/m0", "switch", "gated"])
def test_small_unit_against_golden(acc, kind):
    dut = MultiFormatMac(**SMALL, acc=acc, gating=True)
    v = multiformat_vectors(kind, dut.modes, seed=4)
    # The first 256 operations (expectations are causal): Verilator runs the whole sets.
    v = dataclasses.replace(v, **{f: getattr(v, f)[:256] for f in
                                  ("clear", "a", "b", "expected", "mode", "enable")})
    got = simulate(dut, v)
    bad = np.flatnonzero((got != v.expected).any(axis=1))
    assert bad.size == 0, [(int(v.mode[i]), hex(v.a[i]), hex(v.b[i]), got[i].tolist(),
                            v.expected[i].tolist()) for i in bad[:5]]


def test_mode_change_restarts_and_unknown_mode_holds():
    dut = MultiFormatMac([F.get("posit4_1"), F.get("fp4_e2m1"), F.get("posit8_0")])
    one_p4, one_fp4 = 0b0100, 0b0010  # 1.0 in posit4_1 and in fp4_e2m1
    seen = []

    async def bench(ctx):
        def op(valid, mode, clear, a, b):
            ctx.set(dut.valid, valid)
            ctx.set(dut.mode, mode)
            ctx.set(dut.clear, clear)
            ctx.set(dut.a, a)
            ctx.set(dut.b, b)

        op(1, 0, 1, one_p4 * 0x1111, one_p4 * 0x1111)  # posit4_1: 1 * 1 in every lane
        await ctx.tick()
        op(1, 0, 0, one_p4, one_p4)                    # lane 0: 2, lanes 1-3 add 0 * 0
        await ctx.tick()
        seen.append((ctx.get(dut.out_valid), [ctx.get(p) for p in dut.acc_ports()]))
        op(1, 1, 0, one_fp4, one_fp4)                  # fp4 without clear: restarts at 1.0
        await ctx.tick()
        seen.append((ctx.get(dut.out_valid), [ctx.get(p) for p in dut.acc_ports()]))
        op(1, 3, 0, one_fp4, one_fp4)                  # mode 3 does not exist: no operation
        await ctx.tick()
        seen.append((ctx.get(dut.out_valid), [ctx.get(p) for p in dut.acc_ports()]))

    run(dut, bench)
    two_p4 = int(F.get("posit4_1").encode(np.array([2.0]))[0])
    one_p4_code = int(F.get("posit4_1").encode(np.array([1.0]))[0])
    fp32_one = 0x3F800000
    assert seen == [(1, [two_p4, one_p4_code, one_p4_code, one_p4_code]),
                    (1, [fp32_one, 0, 0, 0]), (0, [fp32_one, 0, 0, 0])]


def test_ports_sidecar_and_register():
    dut = MultiFormatMac(FOUR, gating=True)
    rtl = export(dut, name="multiformat_mac_ports")
    sidecar = rtl.sidecar
    ports = sidecar["ports"]
    # Lane 0 carries fp32 (fp4 lanes) and posit results: the widest is 32 bits.
    assert [ports[f"acc{k}"]["width"] for k in range(4)] == [32, 32, 32, 32]
    assert ports["a"]["width"] == ports["b"]["width"] == 16 and ports["mode"]["width"] == 2
    assert ports["lane_enable"]["width"] == 4
    params = sidecar["parameters"]
    assert params["array_bits"] == 13 and params["register_bits"] == 256
    assert [(m["lanes"], m["acc"]["name"]) for m in params["modes"]] == [
        (4, "exact_fp32"), (4, "quire"), (2, "quire"), (1, "quire")]
    assert sidecar["latency_cycles"] == 1
    posits = Component.part(MultiFormatMac([F.get("posit8_0"), F.get("posit16_1")]))
    assert posits.register_bits == 256 and posits.array_bits == 13 and posits.lanes == 2
    # Fewer formats, a smaller unit: four fp4 Kulisch registers for 2**16 products each
    # (products span 2**-2 .. 2**6: 8 bits, 16 carry bits, a sign bit) and an 8 x 8 array.
    fp4 = Component.part(MultiFormatMac([F.get("fp4_e2m1")]))
    assert fp4.register_bits == 4 * 25 and fp4.array_bits == 8


def test_catalogue_spec():
    spec = designs.get("multiformat_fp4_e2m1_posit4_1_posit8_0_posit16_1_quire")
    assert spec.latency == 1 and spec.peak_macs_per_cycle == 4
    assert [spec.macs_per_cycle(f) for f in FOUR] == [4, 4, 2, 1]
    assert [m.acc for m in spec.modes][1:] == [Quire(f) for f in FOUR[1:]]
    gated = designs.get("multiformat_posit8_0_fp32_gated")
    assert gated.gating and gated.acc == FloatAccumulator(F.get("fp32"))
    assert designs.from_dict(spec.to_dict()) == spec
    assert spec.to_dict()["formats"] == [f.name for f in FOUR]


P8, P16 = F.get("posit8_0"), F.get("posit16_1")
BAD = [
    (lambda: MultiFormatMac([]),
     "MultiFormatMac formats must be a non-empty list of posit or float formats, not []"),
    (lambda: MultiFormatMac([P8, P16], array_bits=12),
     "MultiFormatMac's 12 x 12-bit significand multiplier array cannot split into 1 lane of "
     "posit16_1 (1 x 13-bit significands need 13 bits)"),
    (lambda: MultiFormatMac([P8, F.get("fp4_e2m1")], array_bits=11),
     "MultiFormatMac's 11 x 11-bit significand multiplier array cannot split into 2 lanes of "
     "posit8_0 (2 x 6-bit significands need 12 bits)"),
    (lambda: MultiFormatMac([P8], lanes=[3]),
     "MultiFormatMac lanes of posit8_0 must be a power of two from 1 to 2 (lanes of 8 bits in "
     "the 16-bit word), not 3"),
    (lambda: MultiFormatMac([P8, P16], lanes=[2]),
     "MultiFormatMac lanes must list one lane count per format (2), not [2]"),
    (lambda: MultiFormatMac([P8, F.get("int8")]),
     "MultiFormatMac formats[1] must be a posit or float format of at most 16 bits, not "
     "'int8'"),
    (lambda: MultiFormatMac([F.get("fp32")]),
     "MultiFormatMac formats[0] must be a posit or float format of at most 16 bits, not "
     "'fp32'"),
    (lambda: MultiFormatMac([P8, P8]),
     "MultiFormatMac formats must be distinct; posit8_0 is listed 2 times"),
    (lambda: MultiFormatMac([F.get("posit8_3")]),
     "MultiFormatMac cannot accumulate posit8_3 exactly: its 128-bit 2022 quire does not hold "
     "its products (from 2**-96 to below 2**98, plus a sign bit)"),
    (lambda: MultiFormatMac([P8], acc=FloatAccumulator(F.get("fp32"), order=tree(4))),
     "MultiFormatMac implements FloatAccumulator order 'sequential', not tree(4) (adder-tree "
     "order is golden-only)"),
    (lambda: MultiFormatMac([P8], acc=Quire(P8)),
     "MultiFormatMac acc must be None (exact: quires and Kulisch registers) or a "
     "FloatAccumulator, not Quire(posit_fmt=PositFormat(n=8, es=0, name='posit8_0'), "
     "standard='2022')"),
    (lambda: MultiFormatMac([P8], gating=1),
     "MultiFormatMac gating must be True or False, not 1"),
    (lambda: designs.get("multiformat__quire"),
     "unknown design 'multiformat__quire'; design names start with intmac, floatmac, positmac, "
     "mxdot, simdmac, systolic, addertree, lutcore, bwmac, matrix, cube, multiformat, mixpe, "
     "mixpearray (lowbit synth --list shows the standard catalogue)"),
]
SPEC_BAD = [  # the same rules through the catalogue spec
    (lambda: designs.MultiFormatSpec(()),
     "MultiFormatMac formats must be a non-empty list of posit or float formats, not []"),
]


@pytest.mark.parametrize("call, message", BAD, ids=[m for _, m in BAD])
def test_bad_configurations(call, message):
    spec_level = message.startswith("unknown design")
    raises_exactly(call, designs.DesignError if spec_level else OperationError, message)


@pytest.mark.parametrize("call, message", SPEC_BAD, ids=[m for _, m in SPEC_BAD])
def test_bad_specs(call, message):
    raises_exactly(call, designs.DesignError, message)
