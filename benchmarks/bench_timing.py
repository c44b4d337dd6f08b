"""Static timing speed: the whole standard catalogue timed cold (no timing cache) and cached,
and per design.

For each design of the standard catalogue (generic target; synthesized first if the
synthesis cache under ``build/synth`` lacks it, which is not timed):

* ``json_s``: reading ``netlist.json`` with the standard library's ``json.load`` (the reference
  measured in the same run: the least any parser of that file can take);
* ``parse_s``: :func:`lowbit.reports.netlist.read_netlist` (``json.load`` plus the arrays);
* ``sta_s``: :func:`lowbit.reports.timing.analyze` on the parsed netlist;
* ``cold_s``: :func:`lowbit.reports.timing.time_folder` without its cache (parse + STA +
  key), and ``cached_s`` with the cache entry in place (best of ``--repeats``).

Prints one row per design with cells per second of the STA, then the catalogue totals and the
ratios cold/json and cached/cold. No assertions: numbers to read and record.

Usage: ``python benchmarks/bench_timing.py [--repeats 3]``.
"""

import argparse
import json
import time

from rich.console import Console
from rich.table import Table

from lowbit.reports import catalogue, netlist, synthesis, timing
from timing import best_of  # benchmarks/timing.py


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    console = Console(width=150)  # the table is wider than a default terminal
    designs = catalogue.standard_designs()
    synthesis.synth(designs, ["generic"], timing=False, console=console)
    model = timing.generic_model()
    table = Table(title="static timing of the standard catalogue (generic, NanGate 45 nm)")
    for col in ("design", "cells", "json s", "parse s", "sta s", "cold s", "cached s",
                "Mcells/s sta", "delay ps"):
        table.add_column(col, justify="left" if col == "design" else "right")
    totals = dict.fromkeys(("json", "parse", "sta", "cold", "cached"), 0.0)
    for d in designs:
        folder = synthesis.work_folder(d)
        t_json, _ = best_of(lambda: json.loads((folder / "netlist.json").read_text()),
                            args.repeats)
        t_parse, nl = best_of(lambda: netlist.read_netlist(folder, model.kinds), args.repeats)
        t_sta, report = best_of(lambda: timing.analyze(nl, model), args.repeats)
        t_cold, _ = best_of(lambda: timing.time_folder(folder, cache=False), args.repeats)
        timing.time_folder(folder)  # writes the cache entry
        t_cached, _ = best_of(lambda: timing.time_folder(folder), args.repeats)
        for key, value in zip(totals, (t_json, t_parse, t_sta, t_cold, t_cached)):
            totals[key] += value
        table.add_row(d.name, f"{nl.n_cells:,}", f"{t_json:.3f}", f"{t_parse:.3f}",
                      f"{t_sta:.3f}", f"{t_cold:.3f}", f"{t_cached:.4f}",
                      f"{nl.n_cells / t_sta / 1e6:.2f}", f"{report.delay_ps:.1f}")
    console.print(table)
    console.print(f"whole catalogue ({len(designs)} designs): cold {totals['cold']:.2f} s "
                  f"(json.load {totals['json']:.2f} s, parse {totals['parse']:.2f} s, STA "
                  f"{totals['sta']:.2f} s), cached {totals['cached']:.3f} s")
    console.print(f"ratios: cold / json.load {totals['cold'] / totals['json']:.2f}x, cached / "
                  f"cold {totals['cached'] / totals['cold']:.4f}x")


if __name__ == "__main__":
    start = time.perf_counter()
    main()
    print(f"benchmark wall time {time.perf_counter() - start:.1f} s")
