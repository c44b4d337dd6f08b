"""Checked vectors per second: the fast path vs the per-cycle cocotb driver vs Amaranth's sim.

For IntMac int8 x int8 (``intmac_int8xint8_int20``) and FloatMac fp8_e4m3 x fp8_e4m3 into
fp32 (``floatmac_fp8_e4m3xfp8_e4m3_fp32``), in one run: golden's random vector set (4,000
operations, a clear about every tenth, starting with one; repeated whole to the size asked,
which repeats its expected values) through

- the fast path (:mod:`lowbit.verify.checker_wrapper`: stimulus, expected values and the
  checker in the simulator, cocotb waits for ``done``), ``--fast-vectors`` operations;
- the per-cycle cocotb driver on Verilator (every operand written and every result read
  from Python), ``--cycle-vectors`` operations;
- Amaranth's Python simulator, ``--pysim-vectors`` operations.

Every result is checked in all three. Builds are done first and not timed (each is cached per
Verilog hash); the timed runs include simulator start-up and writing the vector files. Besides
wall time, the CPU seconds of the simulator processes (and of this process for pysim) are
measured: on a shared machine CPU time is the fairer speed. Ratios are against the per-cycle
driver measured in the same run.

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
from lowbit.verify import regression
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
    rows = []
    for driver in ("fast", "cycle"):
        small = repeated(base, 64)
        regression.run_vectors(unit, name, regression.MAC, small, "random", driver=driver)
        if driver == "fast":  # the wrapper of the big set's memory depth
            timed_run(unit, name, sets["fast"], driver)
        wall, cpu = timed_run(unit, name, sets[driver], driver)
        label = "fast path (Verilator)" if driver == "fast" else "per-cycle cocotb (Verilator)"
        rows.append((label, len(sets[driver]), wall, cpu))
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
                            f"checked)")
        for c in ("path", "vectors", "wall s", "vectors/s (wall)", "sim CPU s",
                  "vectors/s (CPU)", "x per-cycle (wall)", "x per-cycle (CPU)"):
            table.add_column(c)
        cycle_wall, cycle_cpu = rows[1][1] / rows[1][2], rows[1][1] / max(rows[1][3], 1e-9)
        for path, n, wall, cpu in rows:
            rate_wall, rate_cpu = n / wall, n / max(cpu, 1e-9)
            table.add_row(path, f"{n:,}", f"{wall:.2f}", f"{rate_wall:,.0f}", f"{cpu:.2f}",
                          f"{rate_cpu:,.0f}", f"{rate_wall / cycle_wall:.1f}",
                          f"{rate_cpu / cycle_cpu:.1f}")
        console.print(table)


if __name__ == "__main__":
    main()
