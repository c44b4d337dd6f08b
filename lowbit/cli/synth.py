"""``lowbit synth DESIGN|UNIT|FILE.v [--param K=V ...] [--clock-mhz F] [--target T ...]
[--liberty FILE] [--no-dsp] [--out DIR]`` and ``lowbit synth --all [--write-baselines]``: Yosys
area of a catalogue design, a unit kind with parameters, a Verilog file or the standard
catalogue: area, delay, Fmax and the critical path (``--no-timing``: area alone).
``--clock-mhz`` pipelines a MAC design to a clock: the fewest stages whose timed netlist meets
it (:func:`lowbit.reports.pipelining.stages_for_clock`; generic cells, or ``--liberty``'s)."""

from pathlib import Path

from lowbit.cli.parsing import add_jobs, output_folder
from lowbit.errors import LowbitError
from lowbit.terminal import rows_table

NAME = "synth"
HELP = "Yosys area and timing of a design, a Verilog file or the catalogue"


def add_arguments(parser):
    """The design (or ``--all``), targets, liberty, DSP use, jobs and the report folder."""
    parser.add_argument("unit", nargs="?", default=None, metavar="DESIGN|UNIT|FILE.v",
                        help="a design name (floatmac_fp8_e4m3xfp8_e4m3_fp32; --list shows the "
                             "standard ones), a unit kind with --param over its defaults "
                             "(IntMac, FloatMac, PositMac, SimdMac, MxDotUnit, SystolicArray, "
                             "AdderTreeEngine, LutTensorCore), or a Verilog file")
    parser.add_argument("--list", action="store_true",
                        help="list the standard catalogue's designs and exit")
    parser.add_argument("--param", action="append", metavar="KEY=VALUE",
                        help="a unit parameter (repeatable), e.g. --param a=fp4_e2m1")
    parser.add_argument("--clock-mhz", type=float, default=None, metavar="F",
                        help="pipeline the design (IntMac, FloatMac, PositMac, MxDotUnit) with "
                             "the fewest stages that meet F MHz, timed on the generic cells "
                             "(or --liberty's)")
    parser.add_argument("--target", action="append", metavar="T",
                        help="generic, ice40, ecp5, xilinx, gowin (repeatable or comma list; "
                             "default: generic and every FPGA, --all: generic,ecp5,gowin)")
    parser.add_argument("--liberty", default=None, metavar="FILE",
                        help="a standard-cell .lib: adds area in um^2 and timing from its cells")
    parser.add_argument("--no-timing", action="store_true",
                        help="area only: no critical path, delay or Fmax")
    parser.add_argument("--no-dsp", action="store_true",
                        help="build FPGA multipliers from LUTs instead of DSP blocks")
    parser.add_argument("--top", default=None, help="top module of a Verilog file")
    parser.add_argument("--all", action="store_true", help="the standard catalogue")
    parser.add_argument("--write-baselines", action="store_true",
                        help="with --all: rewrite reports/baselines/*.csv")
    add_jobs(parser, "Yosys runs")
    parser.add_argument("--out", default=None,
                        help="report folder (default build/synth_report/...)")


def run(console, args) -> int:
    """Synthesize one design, a Verilog file or the catalogue; write the report folder."""
    return cmd_synth(console, args)


def _parse_params(texts) -> dict:
    params = {}
    for text in texts:
        key, eq, value = text.partition("=")
        if not eq or not key or not value:
            raise LowbitError(f"--param must look like key=value, not {text!r}")
        params[key.strip()] = value.strip()
    return params


def cmd_synth(console, args) -> int:
    """Synthesize one unit, a Verilog file or the catalogue; write the report folder."""
    from lowbit.paths import build_dir, ensure_writable_dir
    from lowbit.reports import area_baseline, area_report, catalogue, synthesis
    from lowbit.reports.targets import FPGA_TARGETS
    from lowbit.reports.targets import get as get_target

    if args.list:
        return _list_designs(console)
    targets = [t.strip() for group in (args.target or []) for t in group.split(",") if t.strip()]
    params = _parse_params(args.param or [])
    if args.all == bool(args.unit):
        raise LowbitError("lowbit synth needs a DESIGN, a UNIT or a Verilog file, or --all, "
                          "not both")
    if args.write_baselines and not args.all:
        raise LowbitError("--write-baselines needs --all (baselines cover the whole catalogue)")
    if args.write_baselines and (args.no_dsp or args.liberty):
        raise LowbitError("--write-baselines takes the default flows: no --no-dsp, no --liberty")
    for target in targets:
        get_target(target)
    if args.clock_mhz is not None:
        if not args.unit or Path(args.unit).suffix in (".v", ".sv") or Path(args.unit).is_file():
            raise LowbitError("--clock-mhz pipelines a lowbit DESIGN or UNIT, not --all or a "
                              "Verilog file")
        if "stages" in params:
            raise LowbitError("give --clock-mhz or --param stages, not both (--clock-mhz picks "
                              "the stages)")
        if args.no_timing:
            raise LowbitError("--clock-mhz needs timing; it cannot go with --no-timing")
    if args.out is not None:  # before the designs are elaborated; the build folder after
        ensure_writable_dir(args.out, "--out")
    if args.write_baselines:
        ensure_writable_dir(area_baseline.BASELINE_DIR, "--write-baselines folder")
    if args.all:
        if params:
            raise LowbitError("--param applies to one UNIT, not to --all")
        designs = catalogue.standard_designs()
        targets = targets or list(area_baseline.BASELINE_TARGETS)
        title, out = "lowbit standard catalogue", args.out or build_dir() / "synth_report" / "all"
    elif Path(args.unit).suffix in (".v", ".sv") or Path(args.unit).is_file():
        if params:
            raise LowbitError("--param applies to a lowbit UNIT; a Verilog file has none")
        designs = [synthesis.design_from_verilog(args.unit, top=args.top)]
        targets = targets or ["generic", *FPGA_TARGETS]
        title = f"{Path(args.unit).name}"
        out = args.out or build_dir() / "synth_report" / designs[0].name
    else:
        if args.top:
            raise LowbitError("--top names the top module of a Verilog file, not of a UNIT")
        spec = catalogue.spec_of(args.unit, params)
        if args.clock_mhz is not None:
            spec = _pipeline_to_clock(console, spec, args.clock_mhz, args.liberty)
        designs = [catalogue.design_of(spec)]
        targets = targets or ["generic", *FPGA_TARGETS]
        title, out = designs[0].name, args.out or build_dir() / "synth_report" / designs[0].name
    out = output_folder(args.out, out)
    rows = synthesis.synth(designs, targets, liberty=args.liberty, dsp=not args.no_dsp,
                           jobs=args.jobs, console=console, timing=not args.no_timing)
    _print_area_table(console, rows, title)
    if len(designs) == 1:
        _print_critical_paths(console, rows)
    paths = area_report.write_area_report(rows, out, title)
    console.print(f"report: {paths['markdown'].parent} (synth.csv, synth.json, synth.md, "
                  f"{len(paths) - 3} PNG)")
    if args.write_baselines:
        written = area_baseline.write_baselines(rows)
        console.print("baselines written: " + ", ".join(str(p) for p in written)
                      + "; review with git diff before committing")
    return 0


def _pipeline_to_clock(console, spec, clock_mhz, liberty):
    """``spec`` with the fewest stages that meet ``clock_mhz``; say how many."""
    from lowbit.reports import pipelining

    with console.status(f"timing {spec.unit} stage counts against {clock_mhz:g} MHz"):
        spec = pipelining.at_clock(spec, clock_mhz, liberty=liberty)
    report = pipelining.timed(spec, liberty=liberty)
    console.print(f"{spec.name}: {spec.stages} stage{'s' * (spec.stages > 1)} meet "
                  f"{clock_mhz:g} MHz (critical path {report.delay_ps:.0f} ps, Fmax "
                  f"{report.fmax_mhz:.0f} MHz, latency {spec.latency})")
    return spec


def _print_area_table(console, rows, title):
    cols = ("design", "target", "area_ge", "area_um2", "transistors", "logic_depth", "luts",
            "ffs", "carry_cells", "dsp_blocks", "bram_blocks", "delay_ps", "fmax_mhz", "cached")
    cols = [c for c in cols if any(r.get(c) is not None for r in rows)]
    console.print(rows_table(f"{title}: area and timing", rows, cols,
                             right=[c for c in cols if c not in ("design", "target")]))


_PATH_COLUMNS = ("cell", "type", "pin", "net", "edge", "delay_ps", "arrival_ps", "fanout",
                 "load_ff")


def _print_critical_paths(console, rows):
    """The critical path of each timed row, one line per cell."""
    for r in rows:
        if not r.get("critical_path_steps"):
            continue
        steps = [dict(zip(_PATH_COLUMNS, s)) for s in r["critical_path_steps"]]
        fmax = f"{r['fmax_mhz']:.1f} MHz" if r.get("fmax_mhz") else "n/a (no registers)"
        console.print(rows_table(f"{r['design']} ({r['target']}) critical path: "
                                 f"{r['critical_path']}, {r['delay_ps']:.1f} ps, Fmax {fmax}",
                                 steps, _PATH_COLUMNS, right=["delay_ps", "arrival_ps",
                                                              "fanout", "load_ff"]))


def _list_designs(console) -> int:
    """The standard catalogue: name, unit, MACs per cycle, latency."""
    from lowbit.hdl import designs

    rows = [{"design": d.name, "unit": d.unit, "peak_macs_per_cycle": d.peak_macs_per_cycle,
             "latency": d.latency} for d in designs.standard()]
    console.print(rows_table("standard catalogue (lowbit synth NAME; any name of the grammar in "
                             "lowbit.hdl.designs works)", rows,
                             ("design", "unit", "peak_macs_per_cycle", "latency"),
                             right=("peak_macs_per_cycle", "latency")))
    return 0
