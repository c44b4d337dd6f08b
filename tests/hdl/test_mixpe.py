"""MixPE and MixPEArray on Amaranth's simulator against golden's group-wise reference, their
cycle counts, beats and construction errors word for word.

Configurations cover the weight kinds (int4 symmetric, uint4 and uint2 with zero points, int2,
ternary), integer and float activations (int8, fp16, fp8_e4m3: the fixed-point alignment),
groups of one beat, of several beats and ragged last groups, and back-to-back output tiles. The
whole GEMM sets run on Verilator (tests/verify/test_mixpe.py and the regression).
"""

import json

import numpy as np
import pytest

from lowbit.errors import OperationError
from lowbit.golden import formats as F
from lowbit.golden.accumulators import ExactAccumulator
from lowbit.golden.mpgemm import GroupScheme, GroupWeights, groupwise_gemm
from lowbit.hdl import designs, export
from lowbit.hdl.component import Component
from lowbit.hdl.mixpe import MixPE
from lowbit.hdl.mixpe_array import MixPEArray
from lowbit.verify.gemm_vectors import GemmCase, operands
from lowbit.verify.pysim import simulate_gemm
from tests.expect import raises_exactly

FP32 = F.get("fp32")


def weight(name):
    return name if name == "ternary" else F.get(name)


CONFIGS = [  # act, weight, group, k_step, rows, cols, (M, K, N), operand kind
    ("int8", "int4", 8, 4, 2, 2, (3, 21, 3), "random"),     # 2 beats/group, ragged, 4 tiles
    ("int8", "uint4", 4, 4, 1, 2, (2, 10, 3), "growth"),    # one beat per group, zero points
    ("int8", "int2", 6, 2, 2, 1, (2, 13, 2), "random"),
    ("int8", "uint2", 4, 2, 1, 1, (1, 9, 2), "random"),
    ("int8", "ternary", 8, 4, 1, 3, (2, 16, 3), "random"),
    ("fp16", "uint4", 4, 2, 1, 2, (2, 11, 2), "specials"),  # NaN / Inf activations and scales
    ("fp8_e4m3", "int4", 4, 4, 2, 1, (2, 8, 1), "growth"),
]


@pytest.mark.parametrize("act, wt, group, k, rows, cols, shape, kind", CONFIGS,
                         ids=[f"{c[0]}x{c[1]}_g{c[2]}_k{c[3]}" for c in CONFIGS])
def test_array_against_groupwise_reference(act, wt, group, k, rows, cols, shape, kind):
    pe = MixPE(F.get(act), weight(wt), group=group, k_step=k)
    engine = MixPEArray(rows, cols, pe)
    M, K, N = shape
    A, B = operands(engine, GemmCase("t", M, K, N, kind), np.random.default_rng(11))
    C, cycles = simulate_gemm(engine, A, B)
    want = groupwise_gemm(A, B, F.get(act), pe.accumulator)
    assert C.tolist() == want.astype(np.uint64).tolist()
    assert cycles == engine.cycles(M, K, N)


def test_single_pe_matches_one_output():
    """A lone MixPE: one output of K = 12 in groups of 4 (three dequantizations), then a second
    output straight after; ``acc`` after each ``last`` beat equals golden."""
    act = F.get("int8")
    pe = MixPE(act, F.get("uint4"), group=4, k_step=2)
    scheme = pe.scheme
    rng = np.random.default_rng(2)
    runs = []
    for _ in range(2):
        A = rng.integers(0, 256, (1, 12))  # int8 codes
        W = GroupWeights(scheme, rng.integers(0, 16, (12, 1)),
                         F.get("fp16").encode(rng.uniform(-1, 1, (3, 1))),
                         rng.integers(0, 16, (3, 1)))
        runs.append((A, W, int(groupwise_gemm(A, W, act, pe.accumulator)[0, 0])))
    seen = []

    async def bench(ctx):
        for A, W, _ in runs:
            for j in range(6):
                g = j // 2
                ctx.set(pe.valid, 1)
                ctx.set(pe.a, sum(int(A[0, 2 * j + i]) << (8 * i) for i in range(2)))
                ctx.set(pe.w, sum(int(W.codes[2 * j + i, 0]) << (4 * i) for i in range(2)))
                ctx.set(pe.scale, int(W.scales[g, 0]))
                ctx.set(pe.zero, int(W.zeros[g, 0]))
                ctx.set(pe.start, int(j % 2 == 0))
                ctx.set(pe.end, int(j % 2 == 1))
                ctx.set(pe.first, int(j == 0))
                ctx.set(pe.last, int(j == 5))
                await ctx.tick()
                if ctx.get(pe.out_valid):
                    seen.append(ctx.get(pe.acc))
        ctx.set(pe.valid, 0)
        for _ in range(3):
            await ctx.tick()
            if ctx.get(pe.out_valid):
                seen.append(ctx.get(pe.acc))

    from amaranth.sim import Simulator

    sim = Simulator(pe)
    sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()
    assert seen == [want for _, _, want in runs]


def test_cycles_and_beats():
    engine = MixPEArray(2, 4, MixPE(F.get("int8"), F.get("int4"), group=8, k_step=4))
    # K = 21: two full groups (2 beats each) and a ragged one of 5 (2 beats).
    assert engine.beats_per_tile(21) == 6
    assert engine.cycles(3, 21, 5) == 2 * 2 * 6 + 1
    A = np.zeros((3, 21), int)
    B = GroupWeights(engine.pe.scheme, np.zeros((21, 5), int), np.zeros((3, 5), int))
    beats = engine.input_beats(A, B)
    assert len(beats) == 4 * 6
    flags = [(b["start"], b["end"], b["first"], b["last"]) for b in beats[:6]]
    assert flags == [(1, 0, 1, 0), (0, 1, 0, 0), (1, 0, 0, 0), (0, 1, 0, 0), (1, 0, 0, 0),
                     (0, 1, 0, 1)]
    assert engine.peak_macs_per_cycle == 32 and engine.natural_tile == (2, 8, 4)
    assert engine.output_map(3, 21, 5)[-1] == [(2, 4, 21), None, None, None, None, None, None,
                                               None]


def test_catalogue_specs_and_sidecar():
    spec = designs.get("mixpe_int8xint4_g128_fp32")
    assert (spec.latency, spec.peak_macs_per_cycle, spec.b_fmt) == (2, 4, GroupScheme("int4",
                                                                                      128))
    array = designs.get("mixpearray4x4_mixpe_int8xint4_g128_fp32")
    # LLaMA-2-7B decode GEMV: M = 1, K = 4096, N = 4096 on a 4 x 4 array: 1024 tiles of 1024
    # beats.
    assert array.cycles(1, 4096, 4096) == 1024 * 1024 + 1
    assert array.peak_macs_per_cycle == 64
    assert designs.from_dict(array.to_dict()) == array
    assert designs.get("mixpe_fp16xternary_g64_fp32_k8").k_step == 8
    rtl = export(spec.build(), name="mixpe_sidecar")
    sidecar = rtl.sidecar
    assert sidecar["latency_cycles"] == 2
    # |X| <= 128 * 8 * 128 (19 bits); no zero points for int4.
    assert sidecar["parameters"]["register_bits"] == {"x": 19, "s": 0}
    assert {k: sidecar["ports"][k]["width"] for k in ("a", "w", "scale", "acc")} == {
        "a": 32, "w": 16, "scale": 16, "acc": 32}


I8 = F.get("int8")
BAD = [
    (lambda: MixPE(I8, F.get("int4"), group=6, k_step=4), OperationError,
     "MixPE group 6 is not a multiple of its K step 4: a group must end on a beat boundary"),
    (lambda: MixPE(I8, F.get("int8"), group=8), OperationError,
     "MixPE cannot shift-add weights of int8: weights must be integers of 1 to 4 bits (int4, "
     "uint4, int2, uint2) or 'ternary', one shifted copy of the activation per weight bit"),
    (lambda: MixPE(I8, F.get("fp4_e2m1"), group=8), OperationError,
     "MixPE cannot shift-add weights of fp4_e2m1: weights must be integers of 1 to 4 bits "
     "(int4, uint4, int2, uint2) or 'ternary', one shifted copy of the activation per weight "
     "bit"),
    (lambda: MixPE(I8, "binary", group=8), OperationError,
     "MixPE cannot shift-add weights of binary: weights must be integers of 1 to 4 bits (int4, "
     "uint4, int2, uint2) or 'ternary', one shifted copy of the activation per weight bit"),
    (lambda: MixPE(F.get("posit8_0"), F.get("int4"), group=8), OperationError,
     "MixPE act_fmt must be an integer format of 2 to 8 bits or a float format of at most 16 "
     "bits, not 'posit8_0'"),
    (lambda: MixPE(F.get("bf16"), F.get("int4"), group=8), OperationError,
     "MixPE group sums of bf16 activations in groups of 8 need 268 bits; at most 64"),
    (lambda: MixPE(I8, F.get("int4"), group=8, acc=ExactAccumulator(FP32)), OperationError,
     "MixPE acc must be a FloatAccumulator (the dequantized group sums are rounded into it), "
     "not ExactAccumulator(out_fmt=FloatFormat(exp_bits=8, man_bits=23, bias=127, inf=True, "
     "nan=True, subnormals=True, signed=True, zero=True, name='fp32'), rounding='rne')"),
    (lambda: MixPE(I8, F.get("int4"), group=8, k_step=0), OperationError,
     "MixPE k_step must be an integer from 1 to 64, not 0"),
    (lambda: MixPE(I8, "ternary", group=8, zero_point=True), OperationError,
     "MixPE ternary weights take no zero point (their values are -1, 0, +1)"),
    (lambda: MixPEArray(2, 2, Component.part(MixPE(I8, F.get("int4"), group=8)))
     .input_beats(np.zeros((1, 8), int), np.zeros((8, 2), int)), OperationError,
     "B must be GroupWeights of scheme int4_g8, not array([[0, 0],\n       [0, 0],\n       "
     "[0, 0],\n       [0, 0],\n       [0, 0],\n       [0, 0],\n       [0, 0],\n       [0, 0]])"),
    (lambda: designs.get("mixpe_int8xint4_g130_fp32"), designs.DesignError,
     "design 'mixpe_int8xint4_g130_fp32': MixPE group 130 is not a multiple of its K step 4: "
     "a group must end on a beat boundary"),
    (lambda: designs.MixPESpec(weight="int8"), designs.DesignError,
     "MixPE cannot shift-add weights of int8: weights must be "
     "integers of 1 to 4 bits (int4, uint4, int2, uint2) or 'ternary', one shifted copy of the "
     "activation per weight bit"),
    (lambda: designs.MixPEArraySpec(pe="intmac_int8xint8_int32"), designs.DesignError,
     "MixPEArray pe must be a MixPE design (mixpe_...), not 'intmac_int8xint8_int32'"),
]


@pytest.mark.parametrize("call, error, message", BAD, ids=[m[:60] for _, _, m in BAD])
def test_bad_configurations(call, error, message):
    raises_exactly(call, error, message)
