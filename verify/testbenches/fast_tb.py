"""cocotb testbench of the fast path (:mod:`lowbit.verify.checker_wrapper`): the wrapper around
the unit drives and checks every operation itself; this test waits for its ``done``, reads
its counters and reports the first mismatches with hex and decoded values.

Environment: ``LOWBIT_VECTORS`` (the vector set, as the per-cycle testbench reads it),
``LOWBIT_DESCRIBE`` (the per-cycle testbench module whose ``mismatch_checker(data)`` and
``stimulus(data)`` describe mismatches and give the input ports' values), ``LOWBIT_LAYOUT``
(the wrapper's :class:`~lowbit.verify.checker_wrapper.Layout`, its lanes and the
mismatches each lane keeps, as JSON), ``LOWBIT_LATENCY``,
optionally ``LOWBIT_RESULT`` (a JSON file receiving vectors checked, mismatches, measured
latency, cycles). The stimulus and expected memories come as simulator plusargs.

A beat-stream layout (GEMM engines, :class:`~lowbit.verify.checker_wrapper.StreamLayout`)
reads ``LOWBIT_VECTORS`` as the GEMM set's JSON and ``LOWBIT_OUT_BITS`` (a result lane's
width), compares every GEMM's measured cycles with its closed form and words mismatches as
:mod:`~lowbit.verify.testbenches.gemm_tb` does (GEMM, beat, lane, ``C[m, n]``, hex and
decoded); its ``mismatches`` count mismatching result beats, and ``LOWBIT_RESULT`` receives
the summary ``gemm_tb`` writes.
"""

import importlib
import json
import os
import time

import cocotb
import numpy as np
from cocotb.triggers import RisingEdge

# memory_words, not checker_wrapper: this runs inside the simulator process, whose start-up
# would otherwise import Amaranth and cocotb's runner for nothing.
from lowbit.verify.memory_words import pack, unpack


def _fields(packed: int, width: int, count: int) -> list:
    """``count`` fields of ``width`` bits of ``packed``, the first least significant."""
    return [(packed >> (width * k)) & ((1 << width) - 1) for k in range(count)]


@cocotb.test()
async def checker_matches_golden(dut):
    layout = json.loads(os.environ["LOWBIT_LAYOUT"])
    if "stream" in layout:
        await _check_stream(dut, layout)
    else:
        await _check_operations(dut, layout)


async def _check_stream(dut, layout):
    """The beat-stream layout (module docstring)."""
    from lowbit.verify.testbenches import gemm_tb

    start = time.perf_counter()
    if not int(dut.done.value):
        await RisingEdge(dut.done)
    seconds = time.perf_counter() - start
    with open(os.environ["LOWBIT_VECTORS"]) as f:
        gemms = json.load(f)["gemms"]
    bits = int(os.environ["LOWBIT_OUT_BITS"])
    value, width = gemm_tb.decoder(bits), layout["stream"][1]
    checked, bad = int(dut.checked.value), int(dut.mismatches.value)
    cycles, counts = dut.gemm_cycles.value.to_unsigned(), dut.gemm_mismatches.value.to_unsigned()
    index_bits, got_bits = dut.fail_index.value.to_unsigned(), dut.fail_got.value.to_unsigned()
    kept = {(index_bits >> (32 * k)) & 0xFFFF_FFFF: (got_bits >> (width * k)) & ((1 << width) - 1)
            for k in range(min(bad, layout["max_fails"]))}
    rows, first, vectors = [], 0, 0
    for g, gemm in enumerate(gemms):
        n_out = len(gemm["expected"])
        received = min(max(checked - first, 0), n_out)
        vectors += sum(s is not None for where in gemm["where"][:received] for s in where)
        problems = []
        for b in range(received):
            if first + b in kept:
                problems += gemm_tb.lane_problems(gemm, b, kept[first + b], bits, value)
        wrong = (counts >> (32 * g)) & 0xFFFF_FFFF
        if wrong > sum(first <= i < first + n_out for i in kept):
            problems.append(f"{wrong} mismatching result beats in all")
        if received < n_out:
            problems.append(f"{received} output beats, expected {n_out}")
        measured = (cycles >> (32 * g)) & 0xFFFF_FFFF if received == n_out else None
        rows.append(gemm_tb.row(gemm, range(received), problems, measured))
        rows[-1]["mismatches"] = wrong
        first += n_out
    summary, report = gemm_tb.results(gemms, rows, seconds)
    summary["vectors"] = vectors
    run = []
    if int(dut.stalled.value):
        run.append(f"input beat {int(dut.issued.value)} needs an output beat before it left the "
                   f"engine")
    if int(dut.timed_out.value):
        run.append(f"GEMM {int(dut.gemm.value)} ran past its limit of cycles")
    if int(dut.extra.value):
        run.append(f"{int(dut.extra.value)} output beats after a GEMM's last result")
    if os.environ.get("LOWBIT_RESULT"):
        with open(os.environ["LOWBIT_RESULT"], "w") as f:
            json.dump(summary, f)
    assert vectors > 0, "no vectors"
    problems = "\n".join(x for x in [report] + run if x)
    if problems:  # raised, not asserted: cocotb's assertion rewriting would indent the lines
        raise AssertionError(problems)
    dut._log.info("checked %d result lanes in %d GEMMs, cycles as the closed form, 0 mismatches",
                  vectors, len(gemms))


async def _check_operations(dut, layout):
    """The one-operation-per-cycle layout (module docstring)."""
    inputs, outputs = [tuple(p) for p in layout["inputs"]], [tuple(p) for p in layout["outputs"]]
    lanes, fails = layout["lanes"], layout["max_fails"]
    sw, ew = sum(w for _, w in inputs), sum(w for _, w in outputs)
    if not int(dut.done.value):
        await RisingEdge(dut.done)
    first = _fields(dut.lane_first.value.to_unsigned(), 32, lanes)
    # a lane's checked counter is the index of its next result: it started at its first
    lane_checked = [c - f for c, f in zip(_fields(dut.lane_checked.value.to_unsigned(), 32,
                                                  lanes), first)]
    lane_bad = _fields(dut.lane_mismatches.value.to_unsigned(), 32, lanes)
    lane_seen = _fields(dut.lane_seen.value.to_unsigned(), 1, lanes)
    lane_latency = _fields(dut.lane_latency.value.to_unsigned(), 32, lanes)
    checked, bad = sum(lane_checked), sum(lane_bad)
    latency = lane_latency[0] if lane_seen[0] else None
    cycles = int(dut.cycles.value)
    if os.environ.get("LOWBIT_RESULT"):
        with open(os.environ["LOWBIT_RESULT"], "w") as f:
            json.dump({"vectors": checked, "mismatches": bad, "latency": latency,
                       "cycles": cycles, "lanes": lanes}, f)
    data = np.load(os.environ["LOWBIT_VECTORS"])
    n = len(data["clear"])
    expected_latency = int(os.environ["LOWBIT_LATENCY"])
    assert n > 0, "no vectors"
    assert latency == expected_latency, \
        f"measured latency {latency} cycles, component says {expected_latency}"
    for k in range(1, lanes):
        if lane_checked[k]:
            assert lane_seen[k] and lane_latency[k] == expected_latency, \
                f"lane {k}: measured latency {lane_latency[k]} cycles, component says " \
                f"{expected_latency}"
    assert checked == n, f"checked {checked} of {n} operations"
    if bad:
        # every lane kept its own first mismatches: the set's first ones are among them
        index_bits, stim_bits, got_bits = (dut.fail_index.value.to_unsigned(),
                                           dut.fail_stimulus.value.to_unsigned(),
                                           dut.fail_got.value.to_unsigned())
        kept = []
        for k in range(lanes):
            slots = range(k * fails, k * fails + min(lane_bad[k], fails))
            kept += [((index_bits >> (32 * s)) & 0xFFFF_FFFF,
                      (stim_bits >> (sw * s)) & ((1 << sw) - 1),
                      (got_bits >> (ew * s)) & ((1 << ew) - 1)) for s in slots]
        describe = importlib.import_module(os.environ["LOWBIT_DESCRIBE"])
        mismatch, columns = describe.mismatch_checker(data), describe.stimulus(data)
        lines = []
        for i, stimulus, got_word in sorted(kept)[:fails]:
            got = unpack(got_word, outputs)
            # the operands the checker kept are the vector set's operation i
            fed = pack([[columns[p][i]] for p, _ in inputs], [w for _, w in inputs])[0]
            assert stimulus == fed, \
                f"checker kept stimulus 0x{stimulus:x} for op {i}, set has 0x{fed:x}"
            lines.append(mismatch(i, got) or f"op {i}: reported by the checker, matches here")
        raise AssertionError(f"{bad} mismatches of {n}:\n" + "\n".join(lines))
    dut._log.info("checked %d operations in %d lanes, latency %d, 0 mismatches", checked,
                  lanes, latency)
