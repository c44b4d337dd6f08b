"""Encode/decode throughput of lowbit formats against the reference libraries, in one run.

Prints ratios (reference time / lowbit time, so > 1 means lowbit is faster):

- float32 -> fp8_e4m3 and -> fp4_e2m1, RNE, 10M elements, against ``ml_dtypes`` ``astype``
  (goal: ratio >= 1). lowbit's overflow policy is set to ml_dtypes' (NaN for e4m3, saturate
  for e2m1) and the codes are checked equal, so both do the same work.
- posit16 (16, 1) encode + decode against ``softposit`` (goal: ratio >= 100). softposit converts
  one Python object at a time, so it is timed on a 20k-element slice and scaled per element.

Usage: ``python benchmarks/bench_formats.py [--elements N]``. Times are the best of 3 runs.
"""

import argparse

import ml_dtypes
import numpy as np
import softposit
from rich.console import Console
from rich.table import Table
from timing import best_of

from lowbit.golden import formats



def bench_minifloat(x, name, dtype, overflow):
    fmt = formats.get(name)
    t_ref, ref = best_of(lambda: x.astype(dtype))
    t_lb, codes = best_of(lambda: fmt.encode(x, overflow=overflow))
    assert np.array_equal(codes, ref.view(np.uint8)), f"{name}: codes differ from ml_dtypes"
    return t_lb, t_ref


def bench_posit16(x, slice_n):
    fmt = formats.get("posit16_1")
    t_lb, codes = best_of(lambda: fmt.decode(fmt.encode(x)))
    part = x[:slice_n].astype(np.float64).tolist()

    def softposit_run():
        return [float(softposit.posit16(v)) for v in part]

    t_sp, ref = best_of(softposit_run, repeat=1)
    assert np.array_equal(codes[:slice_n], np.array(ref)), "posit16: values differ from softposit"
    return t_lb / x.size, t_sp / slice_n


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--elements", type=int, default=10_000_000)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    n = args.elements
    x = (rng.standard_normal(n) * np.exp2(rng.integers(-12, 12, n))).astype(np.float32)

    table = Table(title=f"lowbit format throughput, {n:,} float32 elements")
    for col in ("benchmark", "lowbit", "reference", "ratio (ref/lowbit)", "goal"):
        table.add_column(col)
    for name, dtype, overflow in (("fp8_e4m3", ml_dtypes.float8_e4m3fn, "nan"),
                                  ("fp4_e2m1", ml_dtypes.float4_e2m1fn, "saturate")):
        t_lb, t_ref = bench_minifloat(x, name, dtype, overflow)
        table.add_row(f"float32 -> {name} RNE encode", f"{n / t_lb / 1e6:.0f} M/s",
                      f"ml_dtypes {n / t_ref / 1e6:.0f} M/s", f"{t_ref / t_lb:.2f}x", ">= 1x")
    per_lb, per_sp = bench_posit16(x, 20_000)
    table.add_row("posit16_1 encode + decode", f"{1 / per_lb / 1e6:.1f} M/s",
                  f"softposit {1 / per_sp / 1e6:.3f} M/s", f"{per_sp / per_lb:.0f}x", ">= 100x")
    Console().print(table)


if __name__ == "__main__":
    main()
