"""The fast path vs the per-cycle cocotb driver on the designs the fast path gained in issue 21.

For each design, in one run, the same quick-regression vector set through the fast path
(:mod:`lowbit.verify.checker_wrapper`: a GEMM engine's beat stream, or a lane MAC's operation
per cycle) and through the per-cycle cocotb driver (:mod:`~lowbit.verify.testbenches.gemm_tb`,
``simd_mac_tb``, ``multiformat_mac_tb``). Each path's build is made first (cached per Verilog
hash) and its time and CPU recorded; the timed run includes writing the vector files and the
simulator's start-up. Besides wall time, the CPU seconds of the simulator processes are
measured (on a shared machine the fairer speed); ratios are per-cycle over fast, same run.

Usage: ``python benchmarks/bench_fast_engines.py [DESIGN:SET ...]`` (default: :data:`CASES`).
"""

import argparse
import resource
import time

from rich.console import Console
from rich.table import Table

from lowbit.verify import regression

#: A GEMM engine with feedback beats, a SIMD MAC's exhaustive mode, the multi-format MAC's
#: mode switches: each the quick regression's set.
CASES = ("systolic4x4_ws_intmac_int8xint8_int24:gemm_quick",
         "simdmac_8x8_4x4_8x4_2x2_int24:exhaustive/m0",
         "multiformat_fp4_e2m1_posit4_1_posit8_0_posit16_1_quire:switch")


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed_run(entry, unit, vectors, vector_set, driver) -> dict:
    """Run ``vectors`` through ``driver``; the row plus ``wall`` and ``cpu`` seconds."""
    wall, cpu = time.perf_counter(), _cpu()
    row = regression.run_vectors(unit, entry.name, entry.bench, vectors, vector_set,
                                 driver=driver)
    assert row["status"] == "pass" and row["vectors"] == len(vectors), row["error"]
    return {**row, "wall": time.perf_counter() - wall, "cpu": _cpu() - cpu}


def measure(case: str) -> list:
    """Build, then time both drivers on ``case`` (``DESIGN:SET``)."""
    name, vector_set = case.split(":")
    entry = {e.name: e for e in regression.entries(full=True)}[name]
    unit = entry.build()
    vectors = entry.vectors(unit, vector_set)
    out = []
    for driver in ("fast", "cycle"):
        build = timed_run(entry, unit, vectors, vector_set, driver)  # builds unless cached
        run = timed_run(entry, unit, vectors, vector_set, driver)
        out.append({"design": name, "set": vector_set, "driver": driver, "vectors": len(vectors),
                    "build_s": build["build_seconds"], "first_cpu_s": build["cpu"],
                    "wall_s": run["wall"], "cpu_s": run["cpu"],
                    "cycles": run["cycles"], "cycles_expected": run.get("cycles_expected")})
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("cases", nargs="*", default=CASES)
    args = parser.parse_args()
    table = Table(title="fast path vs per-cycle driver (run after a cached build)")
    for col in ("design", "set", "driver", "vectors", "build s", "first run CPU s", "run wall s",
                "run CPU s", "vectors/s CPU", "cycles", "ratio (CPU)"):
        table.add_column(col)
    for case in args.cases:
        fast, cycle = measure(case)
        for r in (fast, cycle):
            table.add_row(r["design"], r["set"], r["driver"], f"{r['vectors']:,}",
                          f"{r['build_s']:.1f}", f"{r['first_cpu_s']:.1f}", f"{r['wall_s']:.1f}",
                          f"{r['cpu_s']:.2f}", f"{r['vectors'] / r['cpu_s']:,.0f}",
                          str(r["cycles"]), f"{cycle['cpu_s'] / r['cpu_s']:.1f}x")
    Console().print(table)


if __name__ == "__main__":
    main()
