"""``lowbit sweep FILE.py|FILE.toml [--out DIR] [--scheduler ADDR] [--jobs N] [--retry-errors]
[--fresh]``: a design-space sweep, resumable, on a local pool or a Dask cluster, with CSV,
plots and an HTML report; Ctrl-C exits 130 saying how to resume."""

import argparse
import sys

from lowbit.cli.parsing import add_jobs
from lowbit.errors import LowbitError
from lowbit.terminal import rows_table

NAME = "sweep"
HELP = ("a design-space sweep from a .py or .toml file: resumable, local pool or Dask "
        "cluster, HTML report")


def add_arguments(parser):
    """The sweep file, output folder, scheduler, jobs, retry and fresh options."""
    parser.add_argument("file", help="sweep file (.py defining sweep = Sweep(...), or .toml)")
    parser.add_argument("--out", default=None,
                        help="folder for the database and reports (default build/sweeps)")
    parser.add_argument("--scheduler", default=None, metavar="ADDR",
                        help="Dask scheduler address, e.g. tcp://host:8786 (default: local pool)")
    add_jobs(parser, "worker processes")
    parser.add_argument("--workers", dest="jobs", type=int, help=argparse.SUPPRESS)  # old name
    parser.add_argument("--retry-errors", action="store_true",
                        help="evaluate failed points again (finished ones are always skipped)")
    parser.add_argument("--fresh", action="store_true",
                        help="delete this sweep's stored rows first and evaluate every point")


def run(console, args) -> int:
    """Run a sweep file, then print the Pareto front, the points left out of it and where the
    report is. Ctrl-C: one line saying how to resume, exit 130."""
    return cmd_sweep(console, args)


def cmd_sweep(console, args) -> int:
    """Run a sweep file, then print the Pareto front, the points left out of it and where the
    report is. Ctrl-C: one line saying how to resume, exit 130."""
    from pathlib import Path

    from lowbit.explore import SweepInterrupted, load_sweep, run_sweep, write_report
    from lowbit.explore.runner import database_path
    sweep = load_sweep(args.file)
    out = Path(args.out) if args.out else database_path(sweep).parent
    console.print(f"sweep {sweep.name}: {len(sweep.space)} points, stages "
                  f"{', '.join(sweep.stages)}; results in {database_path(sweep, out)}")
    def line(text):  # one line, as is: no wrapping, no [markup] (notes hold "[mac_area]")
        console.print(text, soft_wrap=True, markup=False, highlight=False)

    try:
        run = run_sweep(args.file, out=out, scheduler=args.scheduler, workers=args.jobs,
                        retry_errors=args.retry_errors, fresh=args.fresh, log=line)
    except SweepInterrupted as stop:
        print(f"lowbit: {stop}", file=sys.stderr)
        return 130
    rows = run.rows
    try:
        paths = write_report(sweep, rows, out)
    except OSError as err:
        raise LowbitError(f"cannot write the sweep report into {out} ({err.strerror or err}); "
                          f"the results are kept in {run.database}: free space or fix the "
                          f"folder and run the same command to write it") from None
    others = f", {run.by_others} by another run" if run.by_others else ""
    console.print(f"{run.evaluated} points evaluated now, {run.skipped} already done{others}, "
                  f"{run.failed} failed, in {run.seconds:.1f} s")
    if sweep.objectives:
        from lowbit.explore import left_out, pareto_front
        ok = [r for r in rows if r["status"] == "ok"]
        front = pareto_front(ok, sweep.objectives)
        cols = list(sweep.space.axes) + [m for m in sweep.objectives]
        console.print(rows_table(f"Pareto front of {sweep.name}", front, cols,
                                 right=list(sweep.objectives)))
        for row, why in left_out(ok, sweep.objectives):
            label = ", ".join(f"{a}={row.get(a)}" for a in sweep.space.axes)
            line(f"left out of the Pareto front: {label}: {why}")
    console.print(f"HTML report: {paths['html']}")
    return 0
