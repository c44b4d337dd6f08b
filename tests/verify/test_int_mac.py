"""IntMac against golden on Amaranth's simulator (corner and overflow/cancellation sequences).

Configurations: int8 x int8 wrap and saturate, uint4 x int8 (mixed signedness), fixed-point
operands (a product with fraction bits). The exhaustive Verilator runs are the regression's
(tests/verify/test_regress.py).
"""

import numpy as np
import pytest

from lowbit.errors import OperationError
from lowbit.golden import formats as F
from lowbit.golden.accumulators import FixedAccumulator, FloatAccumulator
from lowbit.hdl.int_mac import IntMac
from lowbit.verify.pysim import simulate_mac
from lowbit.verify.vectors import mac_vectors
from tests.expect import raises_exactly

CONFIGS = {
    "int8xint8_wrap": (F.get("int8"), F.get("int8"), FixedAccumulator(20, 0, "wrap")),
    "int8xint8_sat": (F.get("int8"), F.get("int8"), FixedAccumulator(18, 0, "saturate")),
    "uint4xint8_sat": (F.get("uint4"), F.get("int8"), FixedAccumulator(16, 0, "saturate")),
    "fixed4_4xint4_wrap": (F.get("fixed4_4"), F.get("int4"), FixedAccumulator(12, 4, "wrap")),
}


@pytest.mark.parametrize("name", CONFIGS)
@pytest.mark.parametrize("kind", ["corners", "sequences"])
def test_int_mac_pysim(name, kind):
    a_fmt, b_fmt, acc = CONFIGS[name]
    v = mac_vectors(kind, a_fmt, b_fmt, acc)
    got = simulate_mac(IntMac(a_fmt, b_fmt, acc=acc), v)
    bad = np.flatnonzero(got != v.expected)
    assert bad.size == 0, [(int(v.a[i]), int(v.b[i]), int(got[i]), int(v.expected[i]))
                           for i in bad[:5]]


@pytest.mark.parametrize("call, message", [
    (lambda: IntMac(F.get("int8"), F.get("int8"), acc=FixedAccumulator(12, 0)),
     "accumulator fixed12_0 (max 2047.0) is narrower than one product of int8 x int8 "
     "(up to 16384.0)"),
    (lambda: IntMac(F.get("fp8_e4m3"), F.get("int8"), acc=FixedAccumulator(20, 0)),
     "IntMac a_fmt must be an IntFormat or FixedFormat, not 'fp8_e4m3'"),
    (lambda: IntMac(F.get("int32"), F.get("int8"), acc=FixedAccumulator(48, 0)),
     "IntMac a_fmt must have 2 to 16 bits, not 32"),
    (lambda: IntMac(F.get("fixed4_4"), F.get("int8"), acc=FixedAccumulator(20, 0)),
     "IntMac acc frac_bits must equal the product's 4 (products are not rounded), not 0"),
    (lambda: IntMac(F.get("int8"), F.get("int8"), acc=FloatAccumulator(F.get("fp32"))),
     "IntMac acc must be an integer or fixed-point register (int32, fixed28_4, ...), not "
     "'fp32'"),
])
def test_int_mac_rejects_bad_parameters(call, message):
    raises_exactly(call, OperationError, message)


def test_testbench_catches_a_wrong_expectation(tmp_path):
    """The cocotb check is not vacuous: one corrupted expected code fails the run and is
    counted in the result file."""
    import json

    from lowbit.hdl import export
    from lowbit.verify.runner import SimulationFailed, run_testbench
    from lowbit.verify.vectors import MacVectors

    a_fmt, b_fmt, acc = CONFIGS["int8xint8_wrap"]
    dut = IntMac(a_fmt, b_fmt, acc=acc)
    v = mac_vectors("corners", a_fmt, b_fmt, acc)
    wrong = v.expected.copy()
    wrong[5] += 1
    MacVectors("corrupted", v.clear, v.a, v.b, wrong).save(tmp_path / "v.npz")
    env = {"LOWBIT_VECTORS": tmp_path / "v.npz", "LOWBIT_LATENCY": dut.latency,
           "LOWBIT_ACC_BITS": 20, "LOWBIT_RESULT": tmp_path / "r.json"}
    with pytest.raises(SimulationFailed):
        run_testbench(export(dut, name="intmac_int8xint8_int20"),
                      "lowbit.verify.testbenches.mac_tb", env)
    assert json.loads((tmp_path / "r.json").read_text())["mismatches"] == 1
