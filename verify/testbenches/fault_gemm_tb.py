"""cocotb testbench of a fault campaign on an instrumented GEMM engine
(:mod:`lowbit.verify.faults.resilience`): one simulation runs every fault of a shard.

Environment: ``LOWBIT_VECTORS`` (a :class:`~lowbit.verify.gemm_vectors.GemmVectors` JSON
holding one GEMM), ``LOWBIT_FAULT_RUNS`` (JSON list of ``[run, site, edge]``) and
``LOWBIT_RESULT`` (JSON lines, appended and flushed one per run, so a campaign resumes).

Per run: ``fault_sel`` 0 and a reset edge, then the GEMM streamed as
:func:`~lowbit.verify.testbenches.gemm_tb.stream_gemm` does. ``edge < 0`` is a permanent
fault: ``fault_sel = site`` for the whole GEMM. ``edge >= 0`` is an upset: ``fault_sel = site``
for that single rising edge only (edges counted from the first of the stream). A run records
its output beats; the campaign runner judges them against golden (fewer beats than expected
within twice the closed form plus 100 edges is a hang).
"""

import json
import os

import cocotb

from lowbit.verify.testbenches.gemm_tb import stream_gemm
from lowbit.verify.testbenches.pipeline import reset, start_clock_and_reset


@cocotb.test()
async def fault_runs(dut):
    with open(os.environ["LOWBIT_VECTORS"]) as f:
        gemm = json.load(f)["gemms"][0]
    with open(os.environ["LOWBIT_FAULT_RUNS"]) as f:
        runs = json.load(f)
    limit = 2 * gemm["cycles"] + 100
    dut.fault_sel.value = 0
    await start_clock_and_reset(dut, dut.in_valid)
    with open(os.environ["LOWBIT_RESULT"], "a+") as out:
        out.seek(0, os.SEEK_END)
        if out.tell():  # a line cut short by a killed run stays a line of its own (dropped)
            out.seek(out.tell() - 1)
            if out.read(1) != "\n":
                out.write("\n")
        for run, site, edge in runs:
            dut.fault_sel.value = 0
            await reset(dut, dut.in_valid)
            dut.fault_sel.value = site if edge < 0 else 0

            def strike(e, site=site, edge=edge):
                if edge >= 0:
                    dut.fault_sel.value = site if e == edge else 0

            outputs, _, _, problems = await stream_gemm(dut, gemm, strike, limit)
            out.write(json.dumps({"run": run, "beats": [hex(o) for o in outputs],
                                  "protocol_errors": len(problems)}) + "\n")
            out.flush()
