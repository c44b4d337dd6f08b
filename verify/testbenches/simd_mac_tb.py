"""cocotb testbench for SimdMac: one operation per cycle, every lane register compared bit for bit.

Environment: ``LOWBIT_VECTORS`` (an ``.npz`` from :meth:`SimdVectors.save`), ``LOWBIT_LATENCY``
(cycles from ``valid`` to ``out_valid``), ``LOWBIT_ACC_BITS`` (lane register widths, comma
separated, lane 0 first).
"""

import os

import cocotb
import numpy as np
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge, ReadOnly, RisingEdge


@cocotb.test()
async def simd_mac_matches_golden(dut):
    data = np.load(os.environ["LOWBIT_VECTORS"])
    latency = int(os.environ["LOWBIT_LATENCY"])
    widths = [int(w) for w in os.environ["LOWBIT_ACC_BITS"].split(",")]
    masks = [(1 << w) - 1 for w in widths]
    ports = [getattr(dut, f"acc{k}") for k in range(len(widths))]
    mode, clear, a, b = (data[k].tolist() for k in ("mode", "clear", "a", "b"))
    expected = [[x & mask for x, mask in zip(row, masks)] for row in data["expected"].tolist()]
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
            dut.mode.value, dut.a.value, dut.b.value = mode[cycle], a[cycle], b[cycle]
        else:
            dut.valid.value = 0
        await RisingEdge(dut.clk)
        await ReadOnly()
        if int(dut.out_valid.value):
            if first_seen is None:
                first_seen = cycle + 1  # edges after the first operation was presented
            i = cycle + 1 - latency
            got = [port.value.to_unsigned() for port in ports]
            if got != expected[i]:
                bad += 1
                if len(mismatches) < 10:
                    mismatches.append(
                        f"op {i}: mode={mode[i]} clear={clear[i]} a=0x{a[i]:04x} b=0x{b[i]:02x}: "
                        f"acc {[hex(g) for g in got]} "
                        f"({[p.value.to_signed() for p in ports]}), expected "
                        f"{[hex(e) for e in expected[i]]} ({data['expected'][i].tolist()})")
            checked += 1
        await FallingEdge(dut.clk)
    assert first_seen == latency, f"measured latency {first_seen} cycles, component says {latency}"
    assert checked == n, f"checked {checked} of {n} operations"
    assert bad == 0, f"{bad} mismatches of {n}:\n" + "\n".join(mismatches)
    dut._log.info("checked %d operations, latency %d, 0 mismatches", checked, latency)
