"""Golden's register codes after every operation of one long run (``gemm.prefix_dot``): the
streaming exact prefix sums against every prefix evaluated as its own dot product, measured in
one run.

A posit8_0 quire run of random codes: the streaming path (O(L) time, O(chunk) memory) and the
padded-dot path (O(L**2): what vector sets used before, and what non-exact accumulators still
use), the same run, bit-identical results checked. Then the 2**24-operation ``climb`` of the
PositMac adequacy campaign on the streaming path alone, in ns per operation.

Usage: ``python benchmarks/bench_prefix_dot.py [--length 4096]``. Times are the best of 3.
"""

import argparse
from dataclasses import dataclass

import numpy as np
from rich.console import Console
from rich.table import Table
from timing import best_of

from lowbit.golden import formats, gemm
from lowbit.golden.accumulators import Quire


@dataclass(frozen=True)
class PaddedQuire(Quire):
    """The same quire, its prefixes forced through the padded-dot path (the reference)."""

    rounds_exact_sum = False



def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--length", type=int, default=4096)
    length = parser.parse_args().length
    fmt = formats.get("posit8_0")
    rng = np.random.default_rng(0)
    a = rng.integers(0, 256, length).astype(fmt.code_dtype)
    b = rng.integers(0, 256, length).astype(fmt.code_dtype)
    b[b == fmt.nar_code] = 0
    t_ref, ref = best_of(lambda: gemm.prefix_dot(a, b, fmt, fmt, PaddedQuire(fmt)), repeat=1)
    t_new, new = best_of(lambda: gemm.prefix_dot(a, b, fmt, fmt, Quire(fmt)))
    assert np.array_equal(ref, new), "streaming and padded prefixes differ"
    climb = np.full(1 << 24, fmt.max_code, fmt.code_dtype)
    t_climb, _ = best_of(lambda: gemm.prefix_dot(climb, climb, fmt, fmt, Quire(fmt)), repeat=1)
    table = Table(title=f"golden prefix_dot, posit8_0 quire, {length:,} random operations")
    for col in ("path", "time", "ratio to padded dots"):
        table.add_column(col)
    table.add_row("padded dots, O(L**2) (reference)", f"{t_ref * 1e3:.0f} ms", "1")
    table.add_row("streaming PrefixSum, O(L)", f"{t_new * 1e3:.1f} ms", f"{t_new / t_ref:.4f}x")
    table.add_row("streaming, climb 2**24 operations", f"{t_climb:.1f} s",
                  f"{t_climb / (1 << 24) * 1e9:.0f} ns per operation")
    Console().print(table)


if __name__ == "__main__":
    main()
