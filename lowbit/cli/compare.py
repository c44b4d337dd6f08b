"""``lowbit compare NAME ... [--out DIR] [--jobs N] [--list]``: the published comparisons,
redone with lowbit's generators, Yosys, the timing and activity-energy flows and the cycle model.

Each comparison (:data:`COMPARISONS`) writes ``<name>.md`` and ``<name>.json`` into the output
folder (default ``build/compare``) and prints its tables: lowbit's numbers beside the published
ones, with "agrees / does not agree" per row. Results are whatever lowbit measures; nothing is
tuned toward a paper's figure. Synthesis results are cached by Verilog hash in the build
folder, so a second run is quick.
"""

from dataclasses import dataclass
from pathlib import Path

from lowbit.cli.parsing import add_jobs, output_folder
from lowbit.errors import LowbitError, did_you_mean

NAME = "compare"
HELP = "redo the published comparisons (area, Fmax, energy, cycles) with lowbit's generators"


@dataclass(frozen=True)
class Comparison:
    """One published comparison: what it compares, whose figures, and how to run it
    (``run(out, console, jobs) -> Markdown text``; it writes ``<name>.json`` into ``out``)."""

    what: str
    source: str
    run: object


def _area(name, out, console, jobs) -> str:
    """The demo's three area comparisons (:func:`lowbit.demo.area_comparisons`)."""
    from lowbit.demo import area_comparisons

    paths = area_comparisons(out, console)
    return Path(paths["area_md"]).read_text()


def _seed_pes(name, out, console, jobs) -> str:
    """XR-NPE and MixPE (:func:`lowbit.reports.seed_pe_comparisons.write_report`)."""
    from lowbit.reports import seed_pe_comparisons

    paths = seed_pe_comparisons.write_report(out, console=console, jobs=jobs)
    return Path(paths["markdown"]).read_text()


def _tensor_engines(name, out, console, jobs) -> str:
    """Four engine shapes, baseline vs bit-weight (:mod:`lowbit.reports.tpe_comparisons`)."""
    from lowbit.reports import tpe_comparisons
    from lowbit.reports.tables import write_json

    rows = tpe_comparisons.tpe_comparison(console=console, jobs=jobs)
    write_json(rows, out / f"{name}.json")
    return "# Tensor-engine shapes, baseline vs bit-weight\n\n" + tpe_comparisons.markdown(rows)


#: Every comparison by name, in the order ``--list`` shows them.
COMPARISONS = {
    "area": Comparison(
        "MXINT8 vs MXFP8 dot unit; integer vs minifloat MACs on FPGAs; exact vs FP32 "
        "accumulation (area)", "docs/comparisons.md", _area),
    "seed-pes": Comparison(
        "XR-NPE multi-format MAC vs the single-format MACs it replaces; MixPE vs "
        "dequantize-then-multiply (area, Fmax, LUTs/FFs, energy, decode cycles)",
        "docs/seed_pes.md", _seed_pes),
    "tensor-engines": Comparison(
        "systolic, 3D-cube, adder tree and 2D-matrix engines, baseline vs bit-weight "
        "(area, Fmax, LUTs, area and energy efficiency)", "docs/tensor_engines.md",
        _tensor_engines),
}


def add_arguments(parser):
    """The comparisons to run, the output folder, parallel Yosys runs, ``--list``."""
    parser.add_argument("names", nargs="*", metavar="NAME", help=f"comparisons to run: {', '.join(COMPARISONS)}")
    parser.add_argument("--list", action="store_true", help="describe the comparisons, run none")
    parser.add_argument("--out", default=None, help="output folder (default build/compare)")
    add_jobs(parser, "Yosys runs")


def run(console, args) -> int:
    """Run each named comparison; print its tables; write Markdown and JSON."""
    from rich.markdown import Markdown

    from lowbit.paths import build_dir, write_atomic
    from lowbit.terminal import rows_table

    if args.list:
        console.print(rows_table("published comparisons (lowbit compare NAME)",
                                 [{"name": k, "compares": c.what, "details": c.source}
                                  for k, c in COMPARISONS.items()],
                                 ("name", "compares", "details")))
        return 0
    if not args.names:
        raise LowbitError(f"compare: name at least one comparison ({', '.join(COMPARISONS)}), "
                          f"or --list")
    for name in args.names:
        if name not in COMPARISONS:
            raise LowbitError(f"compare: NAME must be one of {', '.join(COMPARISONS)}, not "
                              f"{name!r}{did_you_mean(name, COMPARISONS)}")
    if args.jobs is not None and args.jobs < 1:
        raise LowbitError(f"--jobs must be at least 1, not {args.jobs}")
    out = output_folder(args.out, build_dir() / "compare")
    for name in dict.fromkeys(args.names):
        console.rule(f"{name}: {COMPARISONS[name].what}")
        text = COMPARISONS[name].run(name, out, console, args.jobs)
        path = write_atomic(out / f"{name}.md", text)
        console.print(Markdown(text))
        console.print(f"wrote {path}")
    return 0
