"""cocotb testbench for MAC units: one operation per cycle, register compared bit for bit.

Environment: ``LOWBIT_VECTORS`` (an ``.npz`` from :meth:`MacVectors.save`), ``LOWBIT_LATENCY``
(cycles from ``valid`` to ``out_valid``), ``LOWBIT_ACC_BITS`` (register width), optionally
``LOWBIT_RESULT`` (a JSON file receiving vectors checked, mismatches, measured latency, cycles).
"""

import json
import os

import cocotb
import numpy as np
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge, ReadOnly, RisingEdge


@cocotb.test()
async def mac_matches_golden(dut):
    data = np.load(os.environ["LOWBIT_VECTORS"])
    latency = int(os.environ["LOWBIT_LATENCY"])
    width = int(os.environ["LOWBIT_ACC_BITS"])
    mask = (1 << width) - 1
    clear, a, b, expected = (data[k].tolist() for k in ("clear", "a", "b", "expected"))
    n = len(a)
    assert n > 0, "no vectors"
    cocotb.start_soon(Clock(dut.clk, 2, unit="ns").start())
    dut.rst.value = 1
    dut.valid.value = 0
    await RisingEdge(dut.clk)
    await FallingEdge(dut.clk)
    dut.rst.value = 0
    checked, bad, mismatches, first_seen = 0, 0, [], None
    for cycle in range(n + latency):
        if cycle < n:
            dut.valid.value, dut.clear.value = 1, int(clear[cycle])
            dut.a.value, dut.b.value = int(a[cycle]), int(b[cycle])
        else:
            dut.valid.value = 0
        await RisingEdge(dut.clk)
        await ReadOnly()
        if int(dut.out_valid.value):
            if first_seen is None:
                first_seen = cycle + 1  # edges after the first operation was presented
            i = cycle + 1 - latency
            got = dut.acc.value.to_unsigned()
            want = expected[i] & mask
            bad += got != want
            if got != want and len(mismatches) < 10:
                mismatches.append(f"op {i}: clear={clear[i]} a=0x{a[i]:x} b=0x{b[i]:x}: "
                                  f"acc 0x{got:x} ({dut.acc.value.to_signed()}), expected "
                                  f"0x{want:x} ({expected[i]})")
            checked += 1
        await FallingEdge(dut.clk)
    if os.environ.get("LOWBIT_RESULT"):  # for regressions: what was checked, even on failure
        with open(os.environ["LOWBIT_RESULT"], "w") as f:
            json.dump({"vectors": checked, "mismatches": bad, "latency": first_seen,
                       "cycles": n + latency}, f)
    assert first_seen == latency, f"measured latency {first_seen} cycles, component says {latency}"
    assert checked == n, f"checked {checked} of {n} operations"
    assert bad == 0, f"{bad} mismatches of {n}:\n" + "\n".join(mismatches)
    dut._log.info("checked %d operations, latency %d, 0 mismatches", checked, latency)
