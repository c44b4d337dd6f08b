"""Checked vectors per second: the fast path vs the per-cycle cocotb driver vs Amaranth's sim.

For IntMac int8 x int8 (``intmac_int8xint8_int20``) and FloatMac fp8_e4m3 x fp8_e4m3 into
fp32 (``floatmac_fp8_e4m3xfp8_e4m3_fp32``), in one run: golden's random vector set (4,000
operations, a clear about every tenth, starting with one; repeated whole to the size asked,
which repeats its expected values) through

- the fast path (:mod:`lowbit.verify.checker_wrapper`: stimulus, expected values and the
  checker in the simulator, cocotb waits for ``done``), ``--fast-vectors`` operations in the
  lanes :func:`~lowbit.verify.checker_wrapper.lanes_for` gives; a second row subtracts a
  64-operation run's time (the start-up every run pays: Verilator's and make's up-to-date
  check, the simulator process and cocotb starting, the files) to show the steady rate;
- the per-cycle cocotb driver on Verilator (every operand written and every result read
  from Python), ``--cycle-vectors`` operations;
- Amaranth's Python simulator, ``--pysim-vectors`` operations.

Every result is checked in all three. Builds are done first and not timed (each is cached per
Verilog hash); the timed runs include simulator start-up and writing the vector files. Besides
wall time, the CPU seconds of the simulator processes (and of this process for pysim) are
measured: on a shared machine CPU time is the fairer speed (wall time includes waiting for a
core). Ratios are against the per-cycle driver measured in the same run. The C++ optimization
level is ``$LOWBIT_VERILATOR_OPT``, else the fast path's choice for the run's length
(:func:`~lowbit.verify.checker_wrapper.run_opt`) and ``-O0`` for the per-cycle driver (printed).

Usage: ``python benchmarks/bench_rtl_sim.py [--fast-vectors 1000000] [--cycle-vectors 20000]
[--pysim-vectors 4000]``.
"""

import argparse
import resource
import time

import numpy as np
from rich.console import Console
from rich.table import Table

from lowbit.hdl import designs
from lowbit.verify import checker_wrapper, regression
from lowbit.verify.checker_wrapper import run_opt
from lowbit.verify.runner import verilator_opt
from lowbit.verify.pysim import simulate_mac
from lowbit.verify.vectors import MacVectors, mac_formats, mac_vectors

DESIGNS = ("intmac_int8xint8_int20", "floatmac_fp8_e4m3xfp8_e4m3_fp32")


def _cpu(who) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def timed_run(unit, name, vectors, driver) -> tuple:
    """Run ``vectors`` through ``driver``; return (wall seconds, simulator CPU seconds)."""
    wall, cpu = time.perf_counter(), _cpu(resource.RUSAGE_CHILDREN)
    row = regression.run_vectors(unit, name, regression.MAC, vectors, "random", driver=driver)
    assert row["status"] == "pass" and row["vectors"] == len(vectors), row["error"]
    return time.perf_counter() - wall, _cpu(resource.RUSAGE_CHILDREN) - cpu


def repeated(vectors, count) -> MacVectors:
    """``vectors`` (starting with a clear) repeated to ``count`` operations."""
    reps = -(-count // len(vectors))
    return MacVectors(vectors.name, *(np.tile(getattr(vectors, k), reps)[:count]
                                      for k in ("clear", "a", "b", "expected")))


def measure(name, counts) -> list:
    """Rows ``(path, vectors, wall s, cpu s)`` of one design."""
    unit = designs.get(name).build()
    a_fmt, b_fmt, acc = mac_formats(unit)
    base = mac_vectors("random", a_fmt, b_fmt, acc, count=4000)
    sets = {k: repeated(base, n) for k, n in counts.items()}
    rows, small = [], repeated(base, 64)
    for driver in ("fast", "cycle"):
        regression.run_vectors(unit, name, regression.MAC, small, "random", driver=driver)
        if driver == "fast":  # the wrapper of the big set's memory depth and lanes
            timed_run(unit, name, sets["fast"], driver)
            start_wall, start_cpu = timed_run(unit, name, small, driver)
        wall, cpu = timed_run(unit, name, sets[driver], driver)
        if driver == "fast":
            lanes = checker_wrapper.lanes_for(len(sets["fast"]))
            rows.append((f"fast path (Verilator, {lanes} lanes)", len(sets["fast"]), wall, cpu))
            rows.append(("fast path, start-up excluded", len(sets["fast"]) - len(small),
                         wall - start_wall, cpu - start_cpu))
        else:
            rows.append(("per-cycle cocotb (Verilator)", len(sets[driver]), wall, cpu))
    wall, cpu = time.perf_counter(), _cpu(resource.RUSAGE_SELF)
    got = simulate_mac(designs.get(name).build(), sets["pysim"])
    rows.append(("Amaranth pysim", len(sets["pysim"]), time.perf_counter() - wall,
                 _cpu(resource.RUSAGE_SELF) - cpu))
    assert np.array_equal(got, sets["pysim"].expected)
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fast-vectors", type=int, default=1_000_000)
    parser.add_argument("--cycle-vectors", type=int, default=20_000)
    parser.add_argument("--pysim-vectors", type=int, default=4_000)
    args = parser.parse_args()
    counts = {"fast": args.fast_vectors, "cycle": args.cycle_vectors, "pysim": args.pysim_vectors}
    console = Console(width=160)
    for name in DESIGNS:
        rows = measure(name, counts)
        table = Table(title=f"{name}: checked vectors per second (random set, every result "
                            f"checked; C++ {verilator_opt(run_opt(counts['fast']))} fast "
                            f"path, {verilator_opt()} per-cycle)")
        for c in ("path", "vectors", "wall s", "vectors/s (wall)", "sim CPU s",
                  "vectors/s (CPU)", "x per-cycle (wall)", "x per-cycle (CPU)"):
            table.add_column(c)
        cycle = rows[2]
        cycle_wall, cycle_cpu = cycle[1] / cycle[2], cycle[1] / max(cycle[3], 1e-9)
        for path, n, wall, cpu in rows:
            rate_wall, rate_cpu = n / wall, n / max(cpu, 1e-9)
            table.add_row(path, f"{n:,}", f"{wall:.2f}", f"{rate_wall:,.0f}", f"{cpu:.2f}",
                          f"{rate_cpu:,.0f}", f"{rate_wall / cycle_wall:.1f}",
                          f"{rate_cpu / cycle_cpu:.1f}")
        console.print(table)


if __name__ == "__main__":
    main()
