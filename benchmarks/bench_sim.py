"""Cycle-model speed: a whole LLaMA-2-7B prefill, and one GEMM against the scalesim package.

1. ``llama2-7b-prefill`` at sequence length 2048 on the ``tpu-like-128x128`` preset (128x128
   weight-stationary int8 array, real memory: DMA, double buffering, DRAM stalls), wall time.
2. The same 512x512x512 GEMM on a 32x32 output-stationary array, stall-free, in lowbit's model
   (``cycle_convention="scalesim_last_index"``) and in SCALE-Sim (PyPI ``scalesim``, run in its
   own environment because it needs numpy<2.4; created under ``build/scalesim-venv`` on first
   use). Prints both wall times, their ratio (measured in this run) and both cycle counts,
   which must be identical. SCALE-Sim's time is its in-process time (building the simulator,
   running it, writing its reports; no trace files), so Python start-up is not counted.

Usage: ``python benchmarks/bench_sim.py [--repeats 5] [--no-scalesim]``.
"""

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table

from lowbit import sim

ROOT = Path(__file__).resolve().parents[1]
VENV = ROOT / "build" / "scalesim-venv"
RUNNER = ROOT / "benchmarks" / "scalesim_runner.py"
GEMM = (512, 512, 512)


def timed(fn, repeats):
    """Median wall seconds of ``repeats`` calls, and the last result."""
    times, result = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), result


def scalesim_python(console) -> Path:
    """The scalesim environment's python, made on first use."""
    python = VENV / "bin" / "python"
    if not python.exists():
        console.print(f"creating {VENV} with scalesim (numpy<2.4), about a minute")
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", "numpy<2.4",
                        "scalesim==3.0.0"], check=True)
    return python


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--no-scalesim", action="store_true")
    args = parser.parse_args()
    console = Console(width=150)
    table = Table(title="lowbit cycle model speed")
    for column in ("case", "lowbit s", "reference s", "speed-up", "cycles (lowbit)",
                   "cycles (reference)"):
        table.add_column(column, justify="left" if column == "case" else "right")

    seconds, res = timed(lambda: sim.run("tpu-like-128x128", "llama2-7b-prefill",
                                         seq_len=2048), max(1, args.repeats // 2))
    t = res.total
    table.add_row(f"llama2-7b-prefill 2048, tpu-like-128x128 ({len(res.rows)} ops, "
                  f"{t['macs'] / 1e12:.1f} TMACs, {t['bound']}-bound)", f"{seconds:.3f}", "-",
                  "-", f"{t['cycles']:,.0f}", "-")

    M, K, N = GEMM
    arch = sim.ArchConfig("os-32x32", engine=sim.EngineConfig(rows=32, cols=32, dataflow="os"))
    op = [sim.GemmOp("gemm", M, K, N)]
    seconds, res = timed(lambda: sim.run(arch, op, ideal_memory=True,
                                         cycle_convention="scalesim_last_index"), args.repeats)
    ours = res.total["cycles"]
    if args.no_scalesim:
        table.add_row("512^3 GEMM, 32x32 os, stall-free", f"{seconds:.4f}", "-", "-",
                      f"{ours:,.0f}", "-")
    else:
        python = scalesim_python(console)
        console.print("running scalesim on the 512^3 GEMM (about a minute)")
        out = subprocess.run([str(python), str(RUNNER), "32", "32", "os", str(M), str(K),
                              str(N), "--no-trace"], capture_output=True, text=True, check=True)
        ref = json.loads(out.stdout.strip().splitlines()[-1])
        table.add_row("512^3 GEMM, 32x32 os, stall-free (vs scalesim 3.0.0)", f"{seconds:.4f}",
                      f"{ref['seconds']:.2f}", f"{ref['seconds'] / seconds:,.0f}x",
                      f"{ours:,.0f}", f"{ref['cycles']:,}")
        if ref["cycles"] != ours or ref["stall_cycles"] != 0:
            console.print(f"[red]cycle counts differ: lowbit {ours}, scalesim {ref}[/red]")
            return 1
    console.print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
