"""Speed of the bit-exact golden GEMM against numpy float32 matmul, measured in one run.

A 512 x 512 x 512 fp8_e4m3 GEMM with (1) FP32 sequential accumulation (bit-exact: IEEE RNE
adds in K order) and (2) exact (Kulisch) accumulation rounded once into FP32, each as a ratio
of its time to ``numpy.float32`` matmul of the same shape (lower is better; goal for (1):
within 20x). Also the general model (any format, mode and order; no fast path) on a smaller
shape, in ns per multiply-accumulate.

Usage: ``python benchmarks/bench_gemm.py [--size 512]``. Times are the best of 3 runs.
"""

import argparse

import numpy as np
from rich.console import Console
from rich.table import Table
from timing import best_of

from lowbit.golden import arith, formats
from lowbit.golden import gemm as G
from lowbit.golden.accumulators import ExactAccumulator, FloatAccumulator



def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=512)
    n = parser.parse_args().size
    rng = np.random.default_rng(0)
    f = formats.get("fp8_e4m3")
    fp32 = formats.get("fp32")
    A = f.encode(rng.standard_normal((n, n)))
    B = f.encode(rng.standard_normal((n, n)))
    a32, b32 = f.decode(A).astype(np.float32), f.decode(B).astype(np.float32)
    t_np, _ = best_of(lambda: a32 @ b32)
    table = Table(title=f"golden GEMM, fp8_e4m3 {n}x{n}x{n}, vs numpy float32 matmul "
                        f"({t_np * 1e3:.1f} ms)")
    for col in ("accumulator", "time", "ratio to numpy fp32", "goal"):
        table.add_column(col)
    for label, acc, goal in (("FP32 sequential (RNE)", FloatAccumulator(fp32), "<= 20x"),
                             ("exact (Kulisch) -> FP32", ExactAccumulator(fp32), "-")):
        t, _ = best_of(lambda: G.gemm(A, B, f, f, acc))
        table.add_row(label, f"{t * 1e3:.1f} ms", f"{t / t_np:.1f}x", goal)
    m = 64
    small = A[:m, :], B[:, :m]
    acc = FloatAccumulator(fp32)
    t_gen, _ = best_of(lambda: acc.reduce(arith.exact_mul(small[0][:, None, :], small[1].T[None],
                                                           f, f)), repeat=1)
    table.add_row(f"FP32 sequential, general model ({m}x{n}x{m})", f"{t_gen * 1e3:.0f} ms",
                  f"{t_gen / (m * n * m) * 1e9:.0f} ns per MAC", "-")
    Console().print(table)


if __name__ == "__main__":
    main()
