"""MxDotUnit against golden ``gemm.dot`` on Amaranth's simulator, and its constructor errors.

Configurations (short vector sets; the Verilator runs are the regression's): mxfp8_e4m3 into
fp32 (the MX default, fn-style NaN elements), nvfp4 into fp32 (UE4M3 scales: significand
products, zero and subnormal scales, block 16), mxfp8_e5m2 into fp16 (Inf elements, a narrow
register that overflows), mxint8 into an exact fp32 accumulator (fixed-point elements, Kulisch
register) and mxfp4 into bf16 rounding down (the -0/+0 rules of ``rdn``).
"""

import json

import numpy as np
import pytest
from amaranth.sim import Simulator

from lowbit.errors import FormatParameterError, OperationError
from lowbit.golden import formats as F
from lowbit.golden import gemm
from lowbit.golden.accumulators import (ExactAccumulator, FixedAccumulator, FloatAccumulator,
                                        tree)
from lowbit.golden.formats import BlockFormat
from lowbit.hdl.mx_dot import MxDotUnit
from lowbit.verify.block_vectors import BlockVectors, block_array, block_vectors
from tests.expect import raises_exactly

FP32, FP16, BF16 = F.get("fp32"), F.get("fp16"), F.get("bf16")
CONFIGS = {
    "mxfp8_e4m3_fp32": (F.get("mxfp8_e4m3"), FloatAccumulator(FP32)),
    "nvfp4_fp32": (F.get("nvfp4"), FloatAccumulator(FP32)),
    "mxfp8_e5m2_fp16": (F.get("mxfp8_e5m2"), FloatAccumulator(FP16)),
    "mxint8_exact_fp32": (F.get("mxint8"), ExactAccumulator(FP32)),
    "mxfp4_bf16_rdn": (F.get("mxfp4"), FloatAccumulator(BF16, "rdn")),
}


def simulate_mx_dot(dut, vectors) -> np.ndarray:
    """Run ``vectors`` (one block pair per cycle) through ``dut``; return ``acc`` for each
    operation, read when ``out_valid`` reports it (``dut.latency`` cycles later)."""
    got = []

    async def bench(ctx):
        n = len(vectors)
        for cycle in range(n + dut.latency):
            ctx.set(dut.valid, int(cycle < n))
            if cycle < n:
                ctx.set(dut.clear, int(vectors.clear[cycle]))
                ctx.set(dut.a, [int(x) for x in vectors.a[cycle]])
                ctx.set(dut.b, [int(x) for x in vectors.b[cycle]])
                ctx.set(dut.a_scale, int(vectors.a_scale[cycle]))
                ctx.set(dut.b_scale, int(vectors.b_scale[cycle]))
            await ctx.tick()
            if ctx.get(dut.out_valid):
                got.append(ctx.get(dut.acc))
            assert ctx.get(dut.out_valid) == (dut.latency - 1 <= cycle < n + dut.latency - 1)

    sim = Simulator(dut)
    sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()
    return np.array(got, dtype=np.int64)


def describe_mismatches(got, vectors, fmt):
    """The first mismatching operations, codes in hex and decoded."""
    bad = np.flatnonzero(got != vectors.expected)
    value = lambda c: float(fmt.decode(np.array([c], np.uint64))[0])  # noqa: E731
    return [f"op {i}: clear={bool(vectors.clear[i])} acc {got[i]:#x} ({value(got[i])!r}), "
            f"expected {vectors.expected[i]:#x} ({value(vectors.expected[i])!r})"
            for i in bad[:5]], bad.size


@pytest.mark.parametrize("kind", ["corners", "sequences", "random"])
@pytest.mark.parametrize("name", CONFIGS)
def test_mx_dot_pysim(name, kind):
    block_fmt, acc = CONFIGS[name]
    v = block_vectors(kind, block_fmt, acc, count=150)
    got = simulate_mx_dot(MxDotUnit(block_fmt, acc=acc), v)
    lines, count = describe_mismatches(got, v, acc.out_fmt)
    assert count == 0, f"{count} mismatches of {len(v)}:\n" + "\n".join(lines)


def _wide_e5m2_cancellation():
    """Two E5M2 blocks: ``-max * max``, then ``max * max + tiny * tiny`` (a 64-bit block sum);
    the exact dot product is ``tiny**2 = 2**-32``."""
    fmt = F.get("mxfp8_e5m2")
    element = fmt.element
    a = np.zeros((2, 32), np.int64)
    b = np.zeros((2, 32), np.int64)
    a[0, 0], b[0, 0] = element.min_code, element.max_code
    a[1, 0], b[1, 0] = element.max_code, element.max_code
    a[1, 1], b[1, 1] = 1, 1
    one = np.full(2, int(fmt.scale.encode(np.array([1.0]))[0]), np.int64)
    return fmt, a, one, b, one


def test_wide_e5m2_block_sum_is_exact():
    fmt, a, a_scale, b, b_scale = _wide_e5m2_cancellation()
    acc = FloatAccumulator(FP32)
    v = BlockVectors("wide", np.array([True, False]), a, b, np.zeros(2, np.int64), a_scale,
                     b_scale)
    got = simulate_mx_dot(MxDotUnit(fmt, acc=acc), v)
    assert got[1] == FP32.encode(np.array([2.0 ** -32]))[0]


@pytest.mark.parametrize("acc", [FloatAccumulator(FP32), ExactAccumulator(FP32)],
                         ids=["fp32", "exact_fp32"])
def test_golden_wide_e5m2_block_sum(acc):
    """Golden keeps a 69-bit E5M2 block sum exact (split into two parts), so a later
    cancellation gives the exact 2**-32 (a jammed 62-bit sum gave 2**-30)."""
    fmt, a, a_scale, b, b_scale = _wide_e5m2_cancellation()
    code = gemm.dot(block_array(fmt, a.reshape(1, -1), a_scale[None]),
                    block_array(fmt, b.reshape(1, -1), b_scale[None]), fmt, fmt, acc)
    assert FP32.decode(code)[0] == 2.0 ** -32


E4M3 = F.get("fp8_e4m3")


@pytest.mark.parametrize("call, error, message", [
    (lambda: MxDotUnit(BlockFormat(E4M3, 24, F.get("e8m0")), acc=FloatAccumulator(FP32)),
     OperationError, "MxDotUnit block_size must be a power of two from 2 to 64, not 24 "
     "(block_fp8_e4m3_b24_e8m0)"),
    (lambda: MxDotUnit(E4M3, acc=FloatAccumulator(FP32)),
     OperationError, "MxDotUnit block_fmt must be a BlockFormat (MX, NVFP4 or BFP), not "
     "'fp8_e4m3'"),
    # A posit element never reaches the unit: the golden block format refuses it.
    (lambda: MxDotUnit(BlockFormat(F.get("posit8_0"), 32, F.get("e8m0")),
                       acc=FloatAccumulator(FP32)),
     FormatParameterError, "element must be a FloatFormat, IntFormat or FixedFormat, not "
     "'posit8_0'"),
    (lambda: MxDotUnit(BlockFormat(F.get("fp16"), 32, F.get("e8m0")),
                       acc=FloatAccumulator(FP32)),
     OperationError, "MxDotUnit elements must have at most 8 bits, not 16 (fp16)"),
    (lambda: MxDotUnit(BlockFormat(F.get("fp4_e2m1"), 32,
                                   F.FloatFormat(5, 0, inf=False, signed=False,
                                                 subnormals=False, zero=False)),
                       acc=FloatAccumulator(FP32)),
     OperationError, "MxDotUnit scale must be one of e8m0, ue4m3, not "
     "'fp_e5m0_b15_fn_ftz_unsigned_nozero'"),
    (lambda: MxDotUnit(F.get("mxint8"), acc=FixedAccumulator(24, 12)),
     OperationError, "MxDotUnit acc must be a float register or an exact (Kulisch) "
     "accumulator (fp32, fp16, bf16, exact_fp32, ...), not 'fixed24_12'"),
    (lambda: MxDotUnit(F.get("mxfp8_e4m3"), acc=FloatAccumulator(FP32, order=tree(4))),
     OperationError, "MxDotUnit implements FloatAccumulator order 'sequential', not tree(4) "
     "(adder-tree order is golden-only)"),
    (lambda: MxDotUnit(F.get("mxfp8_e4m3"), acc=FloatAccumulator(FP32), terms=64),
     OperationError, "MxDotUnit terms= sizes an ExactAccumulator's Kulisch register; a "
     "FloatAccumulator has no such parameter"),
])
def test_mx_dot_rejects_bad_parameters(call, error, message):
    raises_exactly(call, error, message)


def test_testbench_catches_a_wrong_expectation(tmp_path):
    """The cocotb check is not vacuous: one corrupted expected code fails the Verilator run
    and is counted in the result file."""
    from lowbit.hdl import export
    from lowbit.verify.runner import SimulationFailed, run_testbench

    block_fmt, acc = CONFIGS["nvfp4_fp32"]
    dut = MxDotUnit(block_fmt, acc=acc)
    v = block_vectors("corners", block_fmt, acc)
    wrong = v.expected.copy()
    wrong[5] ^= 1
    BlockVectors("corrupted", v.clear, v.a, v.b, wrong, v.a_scale, v.b_scale).save(
        tmp_path / "v.npz")
    env = {"LOWBIT_VECTORS": tmp_path / "v.npz", "LOWBIT_LATENCY": dut.latency,
           "LOWBIT_ELEMENT_BITS": block_fmt.element.bits,
           "LOWBIT_ACC_FMT": json.dumps(acc.out_fmt.to_dict()),
           "LOWBIT_RESULT": tmp_path / "r.json"}
    with pytest.raises(SimulationFailed):
        run_testbench(export(dut, name="mxdot_nvfp4_fp32"),
                      "lowbit.verify.testbenches.mx_dot_tb", env)
    assert json.loads((tmp_path / "r.json").read_text())["mismatches"] == 1
