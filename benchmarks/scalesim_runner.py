#!/usr/bin/env python
"""Run SCALE-Sim (PyPI `scalesim`) once on one GEMM, stall-free, and print one JSON line.

Runs in its own environment (scalesim needs numpy<2.4; lowbit uses numpy 2.4), made by
``benchmarks/bench_sim.py`` or by hand::

    python3.11 -m venv build/scalesim-venv
    build/scalesim-venv/bin/pip install "numpy<2.4" "scalesim==3.0.0"

Usage:
    build/scalesim-venv/bin/python benchmarks/scalesim_runner.py R C DATAFLOW M K N [--no-trace] [--keep]

    R, C      systolic array rows (ArrayHeight) and columns (ArrayWidth)
    DATAFLOW  os | ws | is
    M, K, N   GEMM C[MxN] = A[MxK] @ B[KxN]
    --no-trace  do not write the per-layer SRAM/DRAM trace CSVs (scalesim save_disk_space=True)
    --keep      keep the temp directory and report its path as "outdir"

Prints: {"cycles": <COMPUTE_REPORT "Total Cycles">, "stall_cycles": <"Stall Cycles">,
         "seconds": <wall time of scalesim construction + run_scale incl. report/trace writing>, ...}

Stall-free memory: InterfaceBandwidth=CALC (SCALE-Sim's "estimate bandwidth" mode, whose read
buffers always hit: read_buffer_estimate_bw.service_reads returns cycle + hit_latency) plus
SRAMs sized to hold each whole operand (ceil(elems/1024)+1 kB), so the OFMAP write buffer
never runs out of free space and never stalls.  (Do NOT use huge SRAMs: scalesim's estimate-mode
prefetch pads to the SRAM size and a 10 GB SRAM takes ~150 s even for a tiny GEMM.)
NB: scalesim's "Total Cycles" is the 0-based index of the last cycle (= number of demand
cycles - 1), not a count.  "cycles_count" below is that +1.
"""
import contextlib
import io
import json
import os
import shutil
import sys
import tempfile
import time

CFG_TEMPLATE = """[general]
run_name = probe

[architecture_presets]
ArrayHeight:    {R}
ArrayWidth:     {C}
IfmapSramSzkB:    {ifmap_kb}
FilterSramSzkB:   {filter_kb}
OfmapSramSzkB:    {ofmap_kb}
IfmapOffset:    0
FilterOffset:   10000000
OfmapOffset:    20000000
Dataflow : {df}
Bandwidth : 10
ReadRequestBuffer: 32
WriteRequestBuffer: 32

[layout]
IfmapCustomLayout: False
IfmapSRAMBankBandwidth: 10
IfmapSRAMBankNum: 10
IfmapSRAMBankPort: 2
FilterCustomLayout: False
FilterSRAMBankBandwidth: 10
FilterSRAMBankNum: 10
FilterSRAMBankPort: 2

[sparsity]
SparsitySupport : false
SparseRep : ellpack_block
OptimizedMapping : false
BlockSize : 8
RandomNumberGeneratorSeed : 40

[run_presets]
InterfaceBandwidth: CALC
UseRamulatorTrace: False
"""


def _kb(n_elems):
    # SRAM size in kB (word = 1 byte) holding the whole operand plus margin.
    # >= 100 elements so scalesim's estimate-bandwidth read buffer has non-empty sets.
    return -(-int(n_elems) // 1024) + 1


def run(R, C, df, M, K, N, save_trace=True, keep=False):
    """Run scalesim once; return dict with cycles, stall_cycles, seconds (and more)."""
    from scalesim.scale_sim import scalesim

    if df not in ("os", "ws", "is"):
        raise ValueError("dataflow must be os, ws or is")
    tmp = tempfile.mkdtemp(prefix="scalesim_probe_")
    try:
        cfg = os.path.join(tmp, "probe.cfg")
        topo = os.path.join(tmp, "gemm.csv")
        layout = os.path.join(tmp, "layout.csv")
        with open(cfg, "w") as f:
            f.write(CFG_TEMPLATE.format(R=int(R), C=int(C), df=df,
                                        ifmap_kb=_kb(M * K), filter_kb=_kb(K * N),
                                        ofmap_kb=_kb(M * N)))
        # GEMM topology: "Layer, M, N, K," -- every row needs a trailing comma
        # (scalesim drops the last comma-separated field of each row).
        with open(topo, "w") as f:
            f.write("Layer, M, N, K,\n")
            f.write("gemm, %d, %d, %d,\n" % (int(M), int(N), int(K)))
        # scalesim opens the layout file unconditionally; a header is enough when
        # custom layouts are off.
        with open(layout, "w") as f:
            f.write("Layer name,\n")
        outdir = os.path.join(tmp, "out")

        sink = io.StringIO()
        t0 = time.perf_counter()
        with contextlib.redirect_stdout(sink):
            s = scalesim(save_disk_space=not save_trace, verbose=False, config=cfg,
                         topology=topo, layout=layout, input_type_gemm=True)
            s.run_scale(top_path=outdir)
        seconds = time.perf_counter() - t0

        with open(os.path.join(outdir, "probe", "COMPUTE_REPORT.csv")) as f:
            lines = [ln for ln in f.read().splitlines() if ln.strip()]
        fields = [x.strip() for x in lines[1].split(",")]
        # LayerID, Total Cycles (incl. prefetch), Total Cycles, Stall Cycles, Overall Util %,
        # Mapping Efficiency %, Compute Util %,
        cycles = int(fields[2])
        stall = int(fields[3])
        res = {"cycles": cycles, "stall_cycles": stall, "seconds": round(seconds, 6),
               "cycles_count": cycles + 1,
               "total_cycles_incl_prefetch": int(fields[1]),
               "R": int(R), "C": int(C), "dataflow": df, "M": int(M), "K": int(K), "N": int(N)}
        if keep:
            res["outdir"] = outdir
        return res
    finally:
        if not keep:
            shutil.rmtree(tmp, ignore_errors=True)


def main(argv):
    args = [a for a in argv if not a.startswith("--")]
    flags = {a for a in argv if a.startswith("--")}
    if len(args) != 6 or not flags <= {"--no-trace", "--keep"}:
        sys.stderr.write(__doc__)
        return 2
    R, C, df, M, K, N = args
    res = run(int(R), int(C), df, int(M), int(K), int(N),
              save_trace="--no-trace" not in flags, keep="--keep" in flags)
    print(json.dumps(res))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
