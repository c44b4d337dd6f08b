"""cocotb testbench for SimdMac: one operation per cycle, every lane register compared bit for bit.

Environment: ``LOWBIT_VECTORS`` (an ``.npz`` from :meth:`SimdVectors.save`), ``LOWBIT_LATENCY``
(cycles from ``valid`` to ``out_valid``), ``LOWBIT_ACC_BITS`` (lane register widths, comma
separated, lane 0 first), optionally ``LOWBIT_RESULT`` (see the pipeline driver).
"""

import os

import cocotb
import numpy as np

from lowbit.verify.testbenches.pipeline import run_pipelined


@cocotb.test()
async def simd_mac_matches_golden(dut):
    data = np.load(os.environ["LOWBIT_VECTORS"])
    widths = [int(w) for w in os.environ["LOWBIT_ACC_BITS"].split(",")]
    masks = [(1 << w) - 1 for w in widths]
    ports = [getattr(dut, f"acc{k}") for k in range(len(widths))]
    mode, clear, a, b = (data[k].tolist() for k in ("mode", "clear", "a", "b"))
    signed_expected = data["expected"].tolist()
    expected = [[x & mask for x, mask in zip(row, masks)] for row in signed_expected]

    def apply(i):
        dut.clear.value = int(clear[i])
        dut.mode.value, dut.a.value, dut.b.value = mode[i], a[i], b[i]

    def check(i):
        got = [port.value.to_unsigned() for port in ports]
        if got != expected[i]:
            return (f"op {i}: mode={mode[i]} clear={clear[i]} a=0x{a[i]:04x} b=0x{b[i]:02x}: "
                    f"acc {[hex(g) for g in got]} ({[p.value.to_signed() for p in ports]}), "
                    f"expected {[hex(e) for e in expected[i]]} ({signed_expected[i]})")
        return None

    await run_pipelined(dut, len(a), int(os.environ["LOWBIT_LATENCY"]), apply, check)
