"""FloatMac against golden on Amaranth's simulator, and its constructor errors.

Configurations cover every minifloat operand format, mixed operand formats, fp32 / fp16 / bf16
results, both accumulator kinds (rounded every step, or a Kulisch register), every
deterministic rounding mode and the three overflow policies (fp16 overflows after one FP8
E4M3 product). The exhaustive Verilator runs are the regression's (tests/verify/test_regress.py).
"""

import json

import numpy as np
import pytest

from lowbit.errors import OperationError
from lowbit.golden import formats as F
from lowbit.golden.accumulators import (ExactAccumulator, FixedAccumulator, FloatAccumulator,
                                        Quire, tree)
from lowbit.hdl.float_mac import FloatMac
from lowbit.verify.pysim import simulate_mac
from lowbit.verify.vectors import MacVectors, mac_vectors
from tests.expect import raises_exactly

FP32, FP16, BF16 = F.get("fp32"), F.get("fp16"), F.get("bf16")
CONFIGS = {
    "e4m3xe4m3_fp32": ("fp8_e4m3", "fp8_e4m3", FloatAccumulator(FP32)),
    "e5m2xe5m2_fp16": ("fp8_e5m2", "fp8_e5m2", FloatAccumulator(FP16)),
    "e4m3xe4m3_fp16_sat": ("fp8_e4m3", "fp8_e4m3", FloatAccumulator(FP16, overflow="saturate")),
    "e5m2xe4m3_bf16_rtz": ("fp8_e5m2", "fp8_e4m3", FloatAccumulator(BF16, "rtz")),
    "e3m2xe2m3_fp16_rup_nan": ("fp6_e3m2", "fp6_e2m3", FloatAccumulator(FP16, "rup",
                                                                       overflow="nan")),
    "e2m1xe2m1_fp16_rdn": ("fp4_e2m1", "fp4_e2m1", FloatAccumulator(FP16, "rdn")),
    "e2m1xe5m2_fp16_rna": ("fp4_e2m1", "fp8_e5m2", FloatAccumulator(FP16, "rna")),
    "e4m3xe4m3_fp16_rto": ("fp8_e4m3", "fp8_e4m3", FloatAccumulator(FP16, "rto")),
    "e4m3xe4m3_kulisch_fp32": ("fp8_e4m3", "fp8_e4m3", ExactAccumulator(FP32)),
    "e5m2xe5m2_kulisch_fp16_rdn": ("fp8_e5m2", "fp8_e5m2", ExactAccumulator(FP16, "rdn")),
    "e2m1xe3m2_kulisch_bf16": ("fp4_e2m1", "fp6_e3m2", ExactAccumulator(BF16)),
}


@pytest.mark.parametrize("name", CONFIGS)
@pytest.mark.parametrize("kind", ["corners", "sequences", "random"])
def test_float_mac_pysim(name, kind):
    a, b, acc = CONFIGS[name]
    a_fmt, b_fmt = F.get(a), F.get(b)
    v = mac_vectors(kind, a_fmt, b_fmt, acc, count=1500)
    got = simulate_mac(FloatMac(a_fmt, b_fmt, acc=acc), v)
    bad = np.flatnonzero(got != v.expected)
    assert bad.size == 0, [(hex(v.a[i]), hex(v.b[i]), bool(v.clear[i]), hex(got[i]),
                            hex(v.expected[i])) for i in bad[:5]]


def test_kulisch_register_width_follows_the_formats_and_terms():
    e4m3 = F.get("fp8_e4m3")
    wide = FloatMac(e4m3, e4m3, acc=ExactAccumulator(FP32), terms=1 << 20).describe()["acc"]
    narrow = FloatMac(e4m3, e4m3, acc=ExactAccumulator(FP32), terms=4).describe()["acc"]
    # Products of E4M3 span 2**-18 (min subnormal squared) to 448**2 < 2**18 with 8-bit
    # significands: 36 bits of span, then carries for the terms and a sign bit.
    assert narrow["register_bits"] == 36 + 2 + 1
    assert wide["register_bits"] == 36 + 20 + 1


def test_testbench_shows_decoded_values_on_a_mismatch(tmp_path):
    from lowbit.hdl import export
    from lowbit.verify.runner import SimulationFailed, run_testbench, verilator_opt

    a_fmt, b_fmt, acc = F.get("fp8_e4m3"), F.get("fp8_e4m3"), FloatAccumulator(FP32)
    dut = FloatMac(a_fmt, b_fmt, acc=acc)
    v = mac_vectors("corners", a_fmt, b_fmt, acc)
    wrong = v.expected.copy()
    i = int(np.flatnonzero(v.expected == 0x3F800000)[0])  # 1.0 * 1.0
    wrong[i] = 0x40000000  # 2.0
    MacVectors("corrupted", v.clear, v.a, v.b, wrong).save(tmp_path / "v.npz")
    env = {"LOWBIT_VECTORS": tmp_path / "v.npz", "LOWBIT_LATENCY": dut.latency,
           "LOWBIT_ACC_BITS": 32, "LOWBIT_ACC_FMT": json.dumps(FP32.to_dict()),
           "LOWBIT_RESULT": tmp_path / "r.json"}
    rtl = export(dut, name="floatmac_fp8_e4m3xfp8_e4m3_fp32")
    with pytest.raises(SimulationFailed):
        run_testbench(rtl, "lowbit.verify.testbenches.mac_tb", env)
    assert json.loads((tmp_path / "r.json").read_text())["mismatches"] == 1
    log = (rtl.folder / f"sim_verilator{verilator_opt()}" / "results-mac_tb.log").read_text()
    assert "acc 0x3f800000 (1.0), expected 0x40000000 (2.0)" in log


E4M3 = F.get("fp8_e4m3")


@pytest.mark.parametrize("call, message", [
    (lambda: FloatMac(F.get("int8"), E4M3, acc=FloatAccumulator(FP32)),
     "FloatMac a_fmt must be a FloatFormat (fp8_e4m3, fp8_e5m2, fp6_e3m2, fp6_e2m3, fp4_e2m1, "
     "...), not 'int8'"),
    (lambda: FloatMac(E4M3, F.get("fp32"), acc=FloatAccumulator(FP32)),
     "FloatMac b_fmt must have at most 16 bits, not 32 (fp32)"),
    (lambda: FloatMac(E4M3, E4M3, acc=FixedAccumulator(20, 0)),
     "FloatMac acc must be a float register or an exact (Kulisch) accumulator (fp32, fp16, "
     "bf16, exact_fp32, ...), not 'int20'"),
    (lambda: FloatMac(E4M3, E4M3, acc=FloatAccumulator(FP32, order=tree(4))),
     "FloatMac implements FloatAccumulator order 'sequential' or interleaved(2), not tree(4) "
     "(adder-tree order is golden-only)"),
    (lambda: FloatMac(E4M3, E4M3, acc=ExactAccumulator(F.get("fp4_e2m1"))),
     "FloatMac result format fp4_e2m1 lacks NaN; supported: signed float formats with zero, "
     "subnormals and NaN such as fp32, fp16, bf16, fp8_e4m3, fp8_e5m2"),
    (lambda: FloatMac(E4M3, E4M3, acc=FloatAccumulator(FP32), terms=64),
     "FloatMac terms= sizes an ExactAccumulator's Kulisch register; a FloatAccumulator has no "
     "such parameter"),
    (lambda: FloatMac(E4M3, E4M3, acc=Quire(F.get("posit8_0"))),
     "Quire(posit8_0) accumulates products of posit8_0 only, not fp8_e4m3 x fp8_e4m3"),
    (lambda: FloatMac(E4M3, E4M3, acc=ExactAccumulator(FP32), terms=0),
     "AccumulatorStage terms must be an integer from 1 to 1099511627776, not 0"),
])
def test_float_mac_rejects_bad_parameters(call, message):
    raises_exactly(call, OperationError, message)
