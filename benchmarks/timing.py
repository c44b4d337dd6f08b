"""Wall-clock timing shared by the benchmark scripts (run as ``python benchmarks/NAME.py``)."""

import time


def best_of(fn, repeat=3):
    """Return the best wall time in seconds of ``repeat`` calls and the last result."""
    best, out = float("inf"), None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out
