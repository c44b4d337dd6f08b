"""cocotb testbench for GEMM engines: whole GEMMs streamed, every output lane compared bit for
bit, cycles measured against the engine's closed form.

Environment: ``LOWBIT_VECTORS`` (a JSON :class:`~lowbit.verify.gemm_vectors.GemmVectors`),
``LOWBIT_OUT_BITS`` (width of a result lane), optionally ``LOWBIT_ACC_FMT`` (the result format
as a golden ``to_dict`` JSON, for decoded values in mismatch messages; without it a lane reads
as a signed integer) and ``LOWBIT_RESULT`` (JSON receiving what was checked).

Driver: the source is always valid; beat ``i`` is presented until accepted (``in_valid`` and
``in_ready`` high at a rising edge); a :class:`~lowbit.hdl.gemm_engine.Feedback` value is the
``c`` of an output beat already received (else the engine broke its contract: the test fails).
Monitor: every rising edge with ``out_valid`` high yields one output beat. Cycles: rising edges
from the one accepting the first beat to the one registering the last output, both included.
"""

import json
import os
import time

import cocotb
import numpy as np
from cocotb.triggers import FallingEdge, ReadOnly, RisingEdge

from lowbit.verify.testbenches.pipeline import start_clock_and_reset

MAX_REPORTED = 10
IDLE_EDGES = 3  # between GEMMs


def decoder(bits):
    """``code -> readable value`` of a result lane (``LOWBIT_ACC_FMT``, else signed)."""
    spec = os.environ.get("LOWBIT_ACC_FMT")
    if not spec:
        return lambda code: code - (1 << bits) if code >> (bits - 1) else code
    from lowbit.golden.formats import from_dict
    fmt = from_dict(json.loads(spec))
    return lambda code: float(fmt.decode(np.array([code]))[0])


async def stream_gemm(dut, gemm, before_edge=None, limit=None):
    """Stream one GEMM's beats and collect its output beats (the driver and monitor of the
    module docstring). ``before_edge(edge)`` runs before each rising edge (edge 0 is the
    first); ``limit`` caps the edges (default: twice the closed form plus 1000).

    Returns ``(outputs, out_edges, first_edge, problems)``; the GEMM timed out when fewer
    output beats than expected came within the limit.
    """
    ports, beats = gemm["ports"], gemm["beats"]
    n_out = len(gemm["expected"])
    outputs, out_edges, problems = [], [], []
    first_edge, edge, i = None, 0, 0
    limit = 2 * gemm["cycles"] + 1000 if limit is None else limit
    while (i < len(beats) or len(outputs) < n_out) and edge < limit:
        if i < len(beats):
            for port, v in zip(ports, beats[i]):
                if isinstance(v, dict):
                    if v["feedback"] >= len(outputs):
                        problems.append(f"beat {i} needs output beat {v['feedback']} before "
                                        f"it left the engine")
                        return outputs, out_edges, first_edge, problems
                    v = outputs[v["feedback"]]
                getattr(dut, port).value = v
            dut.in_valid.value = 1
        else:
            dut.in_valid.value = 0
        if before_edge is not None:
            before_edge(edge)
        await ReadOnly()
        accepted = i < len(beats) and int(dut.in_ready.value) == 1
        await RisingEdge(dut.clk)
        edge += 1
        if accepted:
            first_edge = edge if first_edge is None else first_edge
            i += 1
        await ReadOnly()
        if int(dut.out_valid.value):
            outputs.append(dut.c.value.to_unsigned())
            out_edges.append(edge)
        await FallingEdge(dut.clk)
    dut.in_valid.value = 0
    for _ in range(IDLE_EDGES):  # nothing may come out after the last expected beat
        await RisingEdge(dut.clk)
        await ReadOnly()
        if int(dut.out_valid.value):
            outputs.append(dut.c.value.to_unsigned())
        await FallingEdge(dut.clk)
    return outputs, out_edges, first_edge, problems


def lane_problems(gemm, b: int, got: int, bits: int, value) -> list:
    """Descriptions of the lanes of output beat ``b`` of ``gemm`` whose ``bits``-wide code in
    ``got`` (the whole ``c`` word) differs from the expected one, decoded by ``value``."""
    want, mask_lane, problems = int(gemm["expected"][b], 16), (1 << bits) - 1, []
    for j, spot in enumerate(gemm["where"][b]):
        g, w = (got >> (j * bits)) & mask_lane, (want >> (j * bits)) & mask_lane
        if spot is not None and g != w:
            m, n, k_end = spot
            problems.append(f"beat {b} lane {j}: C[{m}, {n}] over k < {k_end}: got 0x{g:x} "
                            f"({value(g)!r}), expected 0x{w:x} ({value(w)!r})")
    return problems


async def _run_gemm(dut, gemm, bits, value):
    """Stream one GEMM; return its result row (mismatch texts under ``problems``)."""
    expected = [int(e, 16) for e in gemm["expected"]]
    masks = [int(x, 16) for x in gemm["masks"]]
    outputs, out_edges, first_edge, problems = await stream_gemm(dut, gemm)
    if problems:
        return row(gemm, outputs, problems, None)
    if len(outputs) != len(expected):
        problems.append(f"{len(outputs)} output beats, expected {len(expected)}")
    for b, (got, want, mask) in enumerate(zip(outputs, expected, masks)):
        if (got ^ want) & mask:
            problems += lane_problems(gemm, b, got, bits, value)
    cycles = out_edges[-1] - first_edge + 1 if out_edges and first_edge else None
    return row(gemm, outputs, problems, cycles)


def row(gemm, outputs, problems, cycles):
    """The result row of one GEMM (``outputs``: the received beats, ``problems``: texts)."""
    return {"label": gemm["label"], "M": gemm["M"], "K": gemm["K"], "N": gemm["N"],
            "kind": gemm["kind"], "checked": gemm["checked"], "output_beats": len(outputs),
            "mismatches": len(problems), "cycles": cycles, "cycles_expected": gemm["cycles"],
            "problems": problems[:MAX_REPORTED]}


@cocotb.test()
async def gemm_matches_golden(dut):
    with open(os.environ["LOWBIT_VECTORS"]) as f:
        spec = json.load(f)
    bits = int(os.environ["LOWBIT_OUT_BITS"])
    value = decoder(bits)
    await start_clock_and_reset(dut, dut.in_valid)
    rows, start = [], time.perf_counter()
    for gemm in spec["gemms"]:
        rows.append(await _run_gemm(dut, gemm, bits, value))
        dut._log.info("%s %dx%dx%d: %d cycles (closed form %d), %d mismatches", gemm["label"],
                      gemm["M"], gemm["K"], gemm["N"], rows[-1]["cycles"] or -1,
                      gemm["cycles"], rows[-1]["mismatches"])
    summary, report = results(spec["gemms"], rows, time.perf_counter() - start)
    if os.environ.get("LOWBIT_RESULT"):
        with open(os.environ["LOWBIT_RESULT"], "w") as f:
            json.dump(summary, f)
    assert not report, report


def results(gemms, rows, seconds):
    """``(summary, report)`` of a run of ``gemms`` giving ``rows`` (:func:`row`) in ``seconds``
    of simulation: the JSON summary for ``LOWBIT_RESULT``, and the failure text ("" when every
    GEMM matched golden in its closed-form cycles)."""
    macs = sum(g["M"] * g["K"] * g["N"] for g in gemms)
    bad = [r for r in rows if r["mismatches"] or r["cycles"] != r["cycles_expected"]]
    summary = {"vectors": sum(r["checked"] for r in rows),
               "mismatches": sum(r["mismatches"] for r in rows),
               "cycles": sum(r["cycles"] or 0 for r in rows),
               "cycles_expected": sum(r["cycles_expected"] for r in rows),
               "cycle_mismatches": sum(r["cycles"] != r["cycles_expected"] for r in rows),
               "gemms": rows, "macs": macs, "sim_seconds": round(seconds, 3),
               "macs_per_second": round(macs / seconds, 1) if seconds else None}
    report = [f"{r['label']} {r['M']}x{r['K']}x{r['N']}: cycles {r['cycles']} (closed form "
              f"{r['cycles_expected']}); " + "; ".join(r["problems"]) for r in bad]
    return summary, (f"{len(bad)} of {len(rows)} GEMMs failed:\n" + "\n".join(report)
                     if bad else "")
