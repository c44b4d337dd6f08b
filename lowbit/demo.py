"""``lowbit demo``: the main job. For now: the format study of the whole catalogue.

Writes into the output folder (default ``build/demo/``):

- ``formats.csv``       one row per catalogue format: limits, dynamic range, SQNR per data set
- ``formats.json``      the same rows with the seed, data shape and lowbit version
- ``sqnr_vs_bits.png``  SQNR against storage bits per element, one series per data set
"""

from pathlib import Path

from rich.progress import Progress
from rich.table import Table

import lowbit
from lowbit.format_study import study
from lowbit.golden import formats as F
from lowbit.golden.tensors import DATASETS
from lowbit.paths import build_dir
from lowbit.terminal import cell_text, make_console
from lowbit.reports.plots import sqnr_vs_bits
from lowbit.reports.tables import write_csv, write_json

SHAPE = (64, 4096)
SEED = 0


def run(out_dir=None, console=None) -> dict:
    """Run the demo; return the paths written, keyed ``csv``, ``json``, ``png``."""
    console = console or make_console()
    out = Path(out_dir) if out_dir else build_dir() / "demo"
    fmts = F.catalog()
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("quantizing the catalogue", total=len(fmts) * len(DATASETS))
        rows = study(fmts, DATASETS, SHAPE, SEED, advance=lambda: progress.advance(task))
    table = Table(title=f"lowbit formats: range and SQNR (dB) on {SHAPE[0]}x{SHAPE[1]} "
                        f"seeded tensors (seed {SEED})")
    headers = {"format": "format", "bits_per_element": "bits/elem", "max_value": "max",
               "min_normal": "min normal", "min_subnormal": "min subnormal",
               "dynamic_range_db": "range dB", "scaling": "scaling"}
    headers.update({f"sqnr_{d}_db": f"SQNR {d}" for d in DATASETS})
    cols = list(headers)
    for c in cols:
        table.add_column(headers[c], overflow="fold",
                         justify="left" if c in ("format", "scaling") else "right")
    for r in rows:
        table.add_row(*(cell_text(r[c]) for c in cols))
    console.print(table)
    paths = {
        "csv": write_csv(rows, out / "formats.csv"),
        "json": write_json({"lowbit_version": lowbit.__version__, "seed": SEED,
                            "shape": list(SHAPE), "datasets": list(DATASETS), "rows": rows},
                           out / "formats.json"),
        "png": sqnr_vs_bits(rows, out / "sqnr_vs_bits.png", DATASETS),
    }
    for kind, p in paths.items():
        console.print(f"wrote {kind.upper()}: {p}")
    return paths
