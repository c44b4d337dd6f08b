"""cocotb testbench of the fast path (:mod:`lowbit.verify.checker_wrapper`): the wrapper around
the unit drives and checks every operation itself; this test waits for its ``done``, reads
its counters and reports the first mismatches with hex and decoded values.

Environment: ``LOWBIT_VECTORS`` (the vector set, as the per-cycle testbench reads it),
``LOWBIT_DESCRIBE`` (the per-cycle testbench module whose ``mismatch_checker(data)`` and
``stimulus(data)`` describe mismatches and give the input ports' values), ``LOWBIT_LAYOUT``
(the wrapper's :class:`~lowbit.verify.checker_wrapper.Layout` as JSON), ``LOWBIT_LATENCY``,
optionally ``LOWBIT_RESULT`` (a JSON file receiving vectors checked, mismatches, measured
latency, cycles). The stimulus and expected memories come as simulator plusargs.
"""

import importlib
import json
import os

import cocotb
import numpy as np
from cocotb.triggers import RisingEdge

from lowbit.verify.checker_wrapper import MAX_FAILS, pack, unpack


@cocotb.test()
async def checker_matches_golden(dut):
    layout = json.loads(os.environ["LOWBIT_LAYOUT"])
    inputs, outputs = [tuple(p) for p in layout["inputs"]], [tuple(p) for p in layout["outputs"]]
    sw, ew = sum(w for _, w in inputs), sum(w for _, w in outputs)
    if not int(dut.done.value):
        await RisingEdge(dut.done)
    checked, bad = int(dut.checked.value), int(dut.mismatches.value)
    seen = int(dut.seen.value)
    latency = int(dut.latency.value) if seen else None
    cycles = int(dut.cycles.value)
    if os.environ.get("LOWBIT_RESULT"):
        with open(os.environ["LOWBIT_RESULT"], "w") as f:
            json.dump({"vectors": checked, "mismatches": bad, "latency": latency,
                       "cycles": cycles}, f)
    data = np.load(os.environ["LOWBIT_VECTORS"])
    describe = importlib.import_module(os.environ["LOWBIT_DESCRIBE"])
    n = len(data["clear"])
    expected_latency = int(os.environ["LOWBIT_LATENCY"])
    assert n > 0, "no vectors"
    assert latency == expected_latency, \
        f"measured latency {latency} cycles, component says {expected_latency}"
    assert checked == n, f"checked {checked} of {n} operations"
    if bad:
        index_bits, stim_bits, got_bits = (dut.fail_index.value.to_unsigned(),
                                           dut.fail_stimulus.value.to_unsigned(),
                                           dut.fail_got.value.to_unsigned())
        mismatch, columns = describe.mismatch_checker(data), describe.stimulus(data)
        lines = []
        for k in range(min(bad, MAX_FAILS)):
            i = (index_bits >> (32 * k)) & 0xFFFF_FFFF
            got = unpack((got_bits >> (ew * k)) & ((1 << ew) - 1), outputs)
            kept = (stim_bits >> (sw * k)) & ((1 << sw) - 1)
            # the operands the checker kept are the vector set's operation i
            fed = pack([[columns[p][i]] for p, _ in inputs], [w for _, w in inputs])[0]
            assert kept == fed, f"checker kept stimulus 0x{kept:x} for op {i}, set has 0x{fed:x}"
            lines.append(mismatch(i, got) or f"op {i}: reported by the checker, matches here")
        raise AssertionError(f"{bad} mismatches of {n}:\n" + "\n".join(lines))
    dut._log.info("checked %d operations, latency %d, 0 mismatches", checked, latency)
