"""Exhaustive operand-pair sets through the fast path, from a clean design build.

For FloatMac fp8_e4m3 x fp8_e4m3 into fp32 and PositMac posit8_0 into its quire (65,536 pairs
each): remove the design's wrapper build folders, then time the whole regression run
(golden vectors, export, Verilator build, simulation, check) and report its split: golden,
build, and the rest (export, memory files, simulator start-up and the run). With
``--cold-runtime`` the shared Verilator runtime objects are rebuilt too (a first build on a
machine).

Usage: ``python benchmarks/bench_exhaustive.py [--cold-runtime]``.
"""

import argparse
import shutil
import time

from lowbit.paths import build_dir
from lowbit.verify import regression

DESIGNS = ("floatmac_fp8_e4m3xfp8_e4m3_fp32", "positmac_posit8_0_quire")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cold-runtime", action="store_true")
    args = parser.parse_args()
    if args.cold_runtime:
        shutil.rmtree(build_dir() / "verilator-runtime", ignore_errors=True)
    for name in DESIGNS:
        for folder in (build_dir() / "rtl").glob(f"{name}_fast-*"):
            shutil.rmtree(folder)
        entry = regression.by_name(regression.MAC)[name]
        start = time.perf_counter()
        unit = entry.build()
        vectors = entry.vectors(unit, "exhaustive")
        golden = time.perf_counter() - start
        row = regression.run_vectors(unit, name, entry.bench, vectors, "exhaustive",
                                     start=start)
        assert row["status"] == "pass" and row["vectors"] == 65536, row["error"]
        rest = row["seconds"] - golden - row["build_seconds"]
        print(f"{name}: {row['vectors']:,} pairs, {row['mismatches']} mismatches, total "
              f"{row['seconds']:.1f} s = golden {golden:.1f} s + build "
              f"{row['build_seconds']:.1f} s + run {rest:.1f} s", flush=True)


if __name__ == "__main__":
    main()
