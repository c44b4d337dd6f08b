"""Write ``tests/sim/data/scalesim_reference.json``: SCALE-Sim's own stall-free cycles for random
GEMM shapes and array sizes, the oracle ``tests/sim/test_scalesim_cycles.py`` checks lowbit's
closed forms against.

Runs in the scalesim environment (see ``benchmarks/scalesim_runner.py``)::

    build/scalesim-venv/bin/python benchmarks/scalesim_reference.py [--shapes 40] [--seed 1]

Shapes: ten edge cases (R or C of 1, dimensions of 1, 32/33 against a 32x32 array), then seeded
random ones (M, K, N in 1..300; R, C in 1..40) whose runs stay short; each in os, ws and is.
Every row is what SCALE-Sim reported ("Total Cycles", "Stall Cycles"), or its error. The
committed file holds 40 shapes (120 runs) from seeds 1 and 2 of this procedure.
"""

import argparse
import json
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from scalesim_runner import run  # noqa: E402

OUT = Path(__file__).resolve().parents[1] / "tests" / "sim" / "data" / "scalesim_reference.json"
EDGE = [(1, 1, 1, 1, 1), (1, 1, 3, 2, 5), (40, 40, 1, 1, 1), (40, 1, 300, 7, 3),
        (1, 40, 3, 7, 300), (32, 32, 32, 32, 32), (32, 32, 33, 33, 33), (5, 7, 5, 7, 5),
        (17, 3, 300, 300, 1), (3, 17, 1, 300, 300)]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shapes", type=int, default=40)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    cases = list(EDGE)
    while len(cases) < args.shapes:
        R, C = rng.randint(1, 40), rng.randint(1, 40)
        M, K, N = rng.randint(1, 300), rng.randint(1, 300), rng.randint(1, 300)
        if max(M, K, N) * (-(-max(M, K, N) // min(R, C))) ** 2 > 2_000_000:
            continue  # keep every run short
        cases.append((R, C, M, K, N))
    rows = []
    for R, C, M, K, N in cases:
        for df in ("os", "ws", "is"):
            try:
                r = run(R, C, df, M, K, N, save_trace=False)
                row = {"R": R, "C": C, "dataflow": df, "M": M, "K": K, "N": N,
                       "total_cycles": r["cycles"], "stall_cycles": r["stall_cycles"]}
            except Exception as err:  # scalesim's own failures are recorded, not hidden
                row = {"R": R, "C": C, "dataflow": df, "M": M, "K": K, "N": N,
                       "error": repr(err)}
            rows.append(row)
            print(json.dumps(row), flush=True)
    from importlib.metadata import version
    OUT.write_text(json.dumps({"scalesim": version("scalesim"),
                               "generated_by": "benchmarks/scalesim_reference.py",
                               "rows": rows}, indent=1) + "\n")


if __name__ == "__main__":
    main()
