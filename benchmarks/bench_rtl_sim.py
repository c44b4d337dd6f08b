"""Vectors per second through IntMac int8 x int8: cocotb + Verilator vs Amaranth's simulator.

Both run the same golden random vector set and check every result. The Verilator build is done
first and not timed (it is cached per Verilog hash); the cocotb time includes simulator start-up.

Usage: ``python benchmarks/bench_rtl_sim.py [--vectors 20000] [--pysim-vectors 4000]``.
"""

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table

from lowbit.golden import formats as F
from lowbit.golden.accumulators import FixedAccumulator
from lowbit.hdl import export
from lowbit.hdl.int_mac import IntMac
from lowbit.verify.runner import run_testbench
from lowbit.verify.pysim import simulate_mac
from lowbit.verify.vectors import mac_vectors


I8 = F.get("int8")
ACC = FixedAccumulator(24, 0, "wrap")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vectors", type=int, default=20000)
    parser.add_argument("--pysim-vectors", type=int, default=4000)
    args = parser.parse_args()
    big = mac_vectors("random", I8, I8, ACC, count=args.vectors)
    small = mac_vectors("random", I8, I8, ACC, count=args.pysim_vectors)
    dut = IntMac(I8, I8, acc=ACC)
    rtl = export(dut, name="bench_int_mac_int8")
    with tempfile.TemporaryDirectory() as tmp:
        env = {"LOWBIT_VECTORS": Path(tmp) / "v.npz", "LOWBIT_LATENCY": dut.latency,
               "LOWBIT_ACC_BITS": 24}
        small.save(env["LOWBIT_VECTORS"])
        run_testbench(rtl, "lowbit.verify.testbenches.mac_tb", env)  # build (untimed)
        big.save(env["LOWBIT_VECTORS"])
        t = time.perf_counter()
        run_testbench(rtl, "lowbit.verify.testbenches.mac_tb", env)
        t_cocotb = time.perf_counter() - t
    t = time.perf_counter()
    got = simulate_mac(IntMac(I8, I8, acc=ACC), small)
    t_pysim = time.perf_counter() - t
    assert np.array_equal(got, small.expected)
    table = Table(title="IntMac int8 x int8, vectors per second (every result checked)")
    for c in ("simulator", "vectors", "seconds", "vectors/s"):
        table.add_column(c)
    table.add_row("cocotb + Verilator", f"{len(big):,}", f"{t_cocotb:.2f}",
                  f"{len(big) / t_cocotb:,.0f}")
    table.add_row("Amaranth pysim", f"{len(small):,}", f"{t_pysim:.2f}",
                  f"{len(small) / t_pysim:,.0f}")
    Console().print(table)
    print(f"ratio Verilator/pysim: {(len(big) / t_cocotb) / (len(small) / t_pysim):.1f}x")


if __name__ == "__main__":
    main()
