"""A cycle-model report folder from :class:`lowbit.sim.Results`: CSV, JSON, roofline and breakdown.

``write_sim_report(results, out)`` writes ``sim.csv`` (one row per op, then the total),
``sim.json`` (the arch, options, every energy constant used with its source, notes, rows and
total, tool versions and git commit), ``roofline.png`` (achieved TOPS of every op against its
operations per DRAM byte, under the compute and bandwidth roofs) and ``breakdown.png`` (cycles
by cause and energy by kind, per op).
"""

from pathlib import Path

from lowbit.hdl.rtl_export import tool_versions
from lowbit.reports.area_report import git_commit
from lowbit.reports.plots import roofline, stacked_bars
from lowbit.reports.tables import write_csv, write_json
from lowbit.sim.accelerator import ENERGY_COLUMNS
from lowbit.sim.engine_model import engine_model
from lowbit.sim.simulator import STALL_CAUSES

CYCLE_PARTS = ("compute_cycles", *(f"stall_{c}_cycles" for c in STALL_CAUSES))


def peak_tops(results) -> float:
    """The accelerator's peak: 2 x peak MACs per cycle x engines x clock, in TOPS."""
    arch = results.arch
    peak = engine_model(arch.engine).peak_macs_per_cycle * arch.engines
    return 2 * peak * arch.clock_mhz * 1e6 / 1e12


def write_sim_report(results, out) -> dict:
    """Write the report files of ``results`` into folder ``out``; return ``{kind: path}``."""
    out = Path(out)
    rows = results.rows + [results.total]
    arch, wl = results.arch, results.workload
    title = f"{wl} on {arch.name}"
    return {
        "csv": write_csv(rows, out / "sim.csv"),
        "json": write_json({"title": title, "arch": arch.to_dict(), "workload": wl,
                            "options": results.options, "notes": results.notes,
                            "energy_constants": results.energy_constants,
                            "tools": tool_versions(("lowbit", "simpy")), "git": git_commit(),
                            "rows": results.rows, "total": results.total},
                           out / "sim.json"),
        "roofline": roofline(results.rows, peak_tops(results), arch.dram.dram_gbps,
                             out / "roofline.png", title),
        "breakdown": stacked_bars(results.rows, (CYCLE_PARTS, ENERGY_COLUMNS),
                                  ("cycles, all repeats", "energy, all repeats"),
                                  out / "breakdown.png", f"Per-layer breakdown: {title}",
                                  units=("", "pJ")),
    }
