"""``lowbit regress [--quick|--full] [-k PATTERN] [--list] [--sim verilator|icarus] [--jobs N]
[--json PATH] [--junit PATH]``: RTL units and engines against golden on a simulator; exit 1 on
any mismatch. ``-k`` keeps the designs whose canonical name contains PATTERN; ``--list``
prints the selected designs and their vector sets without running them; ``--jobs N`` runs
``N`` configurations at once in worker processes (:mod:`lowbit.verify.regression_jobs`). The
table and the JSON rows give vectors/s per run; the last line sums up the whole regression."""

import resource
import time

from lowbit.cli.parsing import add_jobs
from lowbit.terminal import rows_table

NAME = "regress"
HELP = "RTL units against golden on a simulator"


def add_arguments(parser):
    """The regression level, the simulator and the result files."""
    level = parser.add_mutually_exclusive_group()
    level.add_argument("--quick", action="store_true", help="the make-test slice (default)")
    level.add_argument("--full", action="store_true", help="every configuration")
    parser.add_argument("-k", dest="pattern", default=None, metavar="PATTERN",
                        help="only the designs whose name contains PATTERN")
    parser.add_argument("--list", action="store_true",
                        help="print the selected designs and vector sets, run nothing")
    parser.add_argument("--sim", default="verilator", choices=("verilator", "icarus"))
    add_jobs(parser, "configurations (worker processes)", default="1")
    parser.add_argument("--json", default=None, help="write the result rows as JSON here")
    parser.add_argument("--junit", default=None, help="write JUnit XML here")


def run(console, args) -> int:
    """Run the regression matrix; exit status 1 on any mismatch or failure."""
    from lowbit.errors import LowbitError
    from lowbit.verify import regression

    selected = [e for e in regression.entries(args.full)
                if args.pattern is None or args.pattern in e.name]
    if not selected:
        raise LowbitError(f"-k {args.pattern!r} matches no design of the "
                          f"{'full' if args.full else 'quick'} regression (lowbit regress "
                          f"--list{' --full' if args.full else ''} shows them)")
    if args.list:
        for e in selected:
            driver = regression.driver_for(e.bench, args.sim)
            sets = [s for s in e.sets(args.full) if s not in e.enumerated_sets]
            streamed = [s for s in e.sets(args.full) if s in e.enumerated_sets]
            console.print(f"{e.name}: {', '.join(sets)} ({driver})"
                          + (f"; {', '.join(streamed)} (stream)" if streamed else ""),
                          highlight=False, soft_wrap=True)
        return 0
    return cmd_regress(console, args.full, args.sim, args.json, args.junit, selected,
                       jobs=1 if args.jobs is None else args.jobs)


def cmd_regress(console, full, sim, json_path, junit_path, selected=None, jobs=1) -> int:
    """Run the regression matrix on ``jobs`` worker processes; exit status 1 on any mismatch
    or failure."""
    import json

    from rich.progress import Progress

    from lowbit.paths import ensure_build_dir, ensure_writable_file, write_atomic
    from lowbit.verify import regression, regression_jobs

    regression_jobs.check_jobs(jobs)
    if json_path:
        ensure_writable_file(json_path, "--json")
    if junit_path:
        ensure_writable_file(junit_path, "--junit")
    ensure_build_dir()
    chosen = regression.entries(full) if selected is None else selected
    work = [(e, e.sets(full)) for e in chosen]
    wall, cpu = time.perf_counter(), _cpu_seconds()
    with Progress(console=console) as progress:
        task = progress.add_task("regression", total=sum(len(sets) for _, sets in work))

        def finished(row):
            progress.update(task, description=f"{row['design']} {row['vector_set']}")
            progress.advance(task)

        rows = regression_jobs.run_configurations(work, sim, jobs, finished)
    wall, cpu = time.perf_counter() - wall, _cpu_seconds() - cpu
    cols = ("design", "vector_set", "driver", "vectors", "mismatches", "cycles", "latency",
            "seconds", "vectors_per_s", "status")
    console.print(rows_table(f"lowbit regress ({'full' if full else 'quick'}, {sim})", rows,
                             cols))
    total = sum(r["vectors"] for r in rows)
    failed = [r for r in rows if r["status"] != "pass"]
    rate = round(total / wall) if wall else None
    console.print(f"{total:,} vectors checked in {len(rows)} runs of {len(work)} "
                  f"design{'s' if len(work) > 1 else ''}, "
                  f"{len(failed)} failed; {wall:.1f} s wall, {cpu:.1f} s CPU, {jobs} "
                  f"job{'s' if jobs > 1 else ''}: {rate:,} vectors/s", highlight=False)
    if json_path:
        write_atomic(json_path, json.dumps({"rows": rows, "vectors": total,
                                            "failed": len(failed), "jobs": jobs,
                                            "seconds": round(wall, 3),
                                            "cpu_seconds": round(cpu, 3),
                                            "vectors_per_s": rate}, indent=2) + "\n")
    if junit_path:
        regression.write_junit(rows, junit_path)
    return 1 if failed else 0


def _cpu_seconds() -> float:
    """User + system CPU seconds of this process and its finished children."""
    own, children = (resource.getrusage(who) for who in (resource.RUSAGE_SELF,
                                                          resource.RUSAGE_CHILDREN))
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime
