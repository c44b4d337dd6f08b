"""cocotb testbench for single-register MAC units (IntMac): ``acc`` compared bit for bit.

Environment: ``LOWBIT_VECTORS`` (an ``.npz`` from :meth:`MacVectors.save`), ``LOWBIT_LATENCY``
(cycles from ``valid`` to ``out_valid``), ``LOWBIT_ACC_BITS`` (register width), optionally
``LOWBIT_RESULT`` (a JSON file receiving vectors checked, mismatches, measured latency, cycles).
"""

import os

import cocotb
import numpy as np

from lowbit.verify.testbenches.pipeline import run_pipelined


@cocotb.test()
async def mac_matches_golden(dut):
    data = np.load(os.environ["LOWBIT_VECTORS"])
    mask = (1 << int(os.environ["LOWBIT_ACC_BITS"])) - 1
    clear, a, b, expected = (data[k].tolist() for k in ("clear", "a", "b", "expected"))

    def apply(i):
        dut.clear.value, dut.a.value, dut.b.value = int(clear[i]), int(a[i]), int(b[i])

    def check(i):
        got, want = dut.acc.value.to_unsigned(), expected[i] & mask
        if got != want:
            return (f"op {i}: clear={clear[i]} a=0x{a[i]:x} b=0x{b[i]:x}: acc 0x{got:x} "
                    f"({dut.acc.value.to_signed()}), expected 0x{want:x} ({expected[i]})")
        return None

    await run_pipelined(dut, len(a), int(os.environ["LOWBIT_LATENCY"]), apply, check)
