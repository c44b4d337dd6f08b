"""The cocotb driver every unit testbench shares: one operation per cycle, results compared.

``run_pipelined`` resets the unit, presents operation ``i`` on cycle ``i`` through ``apply(i)``,
and at every clock edge where ``out_valid`` is high calls ``check(i)`` for the operation issued
``latency`` cycles earlier. It asserts the measured latency, that every operation was checked
and that none mismatched, and (with ``LOWBIT_RESULT`` set) writes what it checked as JSON.
"""

import json
import os

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import FallingEdge, ReadOnly, RisingEdge

MAX_REPORTED = 10


async def start_clock_and_reset(dut, idle_input):
    """Start a 2 ns clock, hold ``rst`` for one rising edge with ``idle_input`` low; return at
    the falling edge after it, reset released."""
    cocotb.start_soon(Clock(dut.clk, 2, unit="ns").start())
    await reset(dut, idle_input)


async def reset(dut, idle_input):
    """Hold ``rst`` for one rising edge with ``idle_input`` low (the clock running); return at
    the falling edge after it, reset released."""
    dut.rst.value = 1
    idle_input.value = 0
    await RisingEdge(dut.clk)
    await FallingEdge(dut.clk)
    dut.rst.value = 0


async def run_pipelined(dut, n: int, latency: int, apply, check):
    """Drive ``n`` operations; ``check(i)`` returns None or a mismatch description."""
    assert n > 0, "no vectors"
    await start_clock_and_reset(dut, dut.valid)
    checked, bad, mismatches, first_seen = 0, 0, [], None
    for cycle in range(n + latency):
        if cycle < n:
            dut.valid.value = 1
            apply(cycle)
        else:
            dut.valid.value = 0
        await RisingEdge(dut.clk)
        await ReadOnly()
        if int(dut.out_valid.value):
            if first_seen is None:
                first_seen = cycle + 1  # edges after the first operation was presented
            problem = check(cycle + 1 - latency)
            if problem is not None:
                bad += 1
                if len(mismatches) < MAX_REPORTED:
                    mismatches.append(problem)
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
