"""cocotb testbench for MultiFormatMac: one operation per cycle, every lane output compared bit for
bit.

Environment: ``LOWBIT_VECTORS`` (an ``.npz`` from :meth:`MultiFormatVectors.save`),
``LOWBIT_LATENCY`` (cycles from ``valid`` to ``out_valid``), ``LOWBIT_ACC_BITS`` (lane output
widths, comma separated, lane 0 first), ``LOWBIT_GATING`` (``1`` when the unit has
``lane_enable``), optionally ``LOWBIT_RESULT`` (see the pipeline driver).
"""

import os

import cocotb
import numpy as np

from lowbit.verify.testbenches.pipeline import run_pipelined


@cocotb.test()
async def multiformat_mac_matches_golden(dut):
    data = np.load(os.environ["LOWBIT_VECTORS"])
    widths = [int(w) for w in os.environ["LOWBIT_ACC_BITS"].split(",")]
    gating = os.environ.get("LOWBIT_GATING") == "1"
    ports = [getattr(dut, f"acc{k}") for k in range(len(widths))]
    mode, clear, a, b, enable = (data[k].tolist() for k in ("mode", "clear", "a", "b", "enable"))
    expected = data["expected"].tolist()

    def apply(i):
        dut.clear.value, dut.mode.value = int(clear[i]), mode[i]
        dut.a.value, dut.b.value = a[i], b[i]
        if gating:
            dut.lane_enable.value = enable[i]

    def check(i):
        got = [port.value.to_unsigned() for port in ports]
        if got != expected[i]:
            return (f"op {i}: mode={mode[i]} clear={clear[i]} enable={enable[i]:b} "
                    f"a=0x{a[i]:04x} b=0x{b[i]:04x}: lanes {[hex(g) for g in got]}, expected "
                    f"{[hex(e) for e in expected[i]]}")
        return None

    await run_pipelined(dut, len(a), int(os.environ["LOWBIT_LATENCY"]), apply, check)
