"""The ``lowbit`` command line.

``lowbit formats``                          list the catalogue with limits
``lowbit formats show NAME``                everything about one format
``lowbit formats encode NAME V... [--rounding rtz] [--overflow saturate] [--on-nan zero]``
``lowbit regress [--quick|--full]``         RTL units against golden on Verilator
``lowbit synth UNIT|FILE.v [--param k=v ...] [--target T ...] [--liberty FILE] [--out DIR]``
``lowbit synth --all [--write-baselines]``  the standard catalogue (see :mod:`lowbit.reports`)
``lowbit sim --arch FILE|PRESET --workload PRESET|CSV [--batch N] [--out DIR]``
                                            cycles and energy (see :mod:`lowbit.sim`)
``lowbit faults UNIT --mode adequacy|resilience [--faults N] [--margin 0.02] [--out DIR]``
                                            mutation score of a MAC's vector sets over the
                                            detectable faults, or masked/SDC/hang rates of an
                                            engine (see :mod:`lowbit.verify.faults`)
``lowbit sweep FILE.py|FILE.toml [--out DIR] [--scheduler ADDR] [--workers N]``
                                            a design-space sweep, resumable, with CSV, plots
                                            and an HTML report (see :mod:`lowbit.explore`)
``lowbit demo [--out DIR]``                 the main job (see :mod:`lowbit.demo`)
``lowbit --version``                        ``lowbit <version>``

User errors print one line on stderr and exit with status 2; no traceback. Every command proves
the folders and files it will write writable before it starts work
(:func:`lowbit.paths.ensure_writable_dir`); a disk that fills up or refuses a write later is one
line too (:func:`lowbit.paths.write_failure`). Parallelism is ``--jobs N`` (default: CPU count).
"""

import argparse
import os
import re
import sys
import tempfile
from pathlib import Path

import numpy as np
from rich.table import Table

import lowbit
from lowbit.errors import LowbitError, did_you_mean
from lowbit.golden import formats as F
from lowbit.golden.rounding import ROUNDING_MODES, Stochastic
from lowbit.terminal import cell_text, make_console, rows_table

EXIT_USAGE = 2
_NEGATIVE_NUMBER = re.compile(r"^-(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$|^-(inf|infinity|nan)$", re.I)


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors (exit 2) instead of usage + message."""

    def error(self, message):
        # main() prints "lowbit: error: "; name only the subcommand ("formats encode: ...")
        command = self.prog.partition(" ")[2]
        raise LowbitError(f"{command}: {message}" if command else message)

    def _check_value(self, action, value):
        """An unknown choice in lowbit's words, with the closest known ones."""
        if action.choices is None or value in action.choices:
            return
        if isinstance(action, argparse._SubParsersAction):
            field = " ".join((*self.prog.split()[1:], "command"))
        else:
            field = "/".join(action.option_strings) or action.dest
        listed = ", ".join(map(str, action.choices))
        raise LowbitError(f"{field} must be one of {listed}, not {value!r}"
                          f"{did_you_mean(value, action.choices)}")


def _add_jobs(parser, what: str):
    """``--jobs N``, the one spelling of parallelism across commands."""
    parser.add_argument("--jobs", type=int, default=None, metavar="N",
                        help=f"parallel {what} (default: CPU count)")


def _output_folder(out, default=None, builds=True) -> Path | None:
    """Prove the run's output folder writable before work starts and return it: ``out`` (from
    ``--out``), else ``default`` (under the build folder; None: named after the run, so the
    build folder is proved without being created). ``builds``: the command also writes into
    the build folder, which is proved too."""
    from lowbit.paths import ensure_build_dir, ensure_writable_dir

    if out is not None:
        ensure_writable_dir(out, "--out")
    if builds or out is None:
        ensure_build_dir(create=builds or default is not None)
    if out is not None:
        return Path(out)
    return None if default is None else ensure_writable_dir(default, "the output folder")


def _outputs(args) -> list:
    """Every place a run of ``args`` writes: its output options, the build folder, the
    temporary folder (for :func:`lowbit.paths.write_failure`)."""
    from lowbit.paths import build_dir

    given = [getattr(args, key, None) for key in ("out", "json", "junit")]
    return [g for g in given if g] + [build_dir(), tempfile.gettempdir()]


def _value_str(v) -> str:
    if np.isnan(v):
        return "nan"
    return repr(float(v))


def _hex(code, bits) -> str:
    return f"0x{int(code):0{(bits + 3) // 4}x}"


def _bin(code, bits) -> str:
    return format(int(code), f"0{bits}b")


def cmd_list(console):
    from lowbit.format_study import describe

    table = Table(title="lowbit format catalogue (any family member works: lowbit formats show int7)")
    cols = ("format", "kind", "bits", "max_value", "min_normal", "min_subnormal", "has_inf",
            "has_nan")
    for c in cols:
        table.add_column(c.replace("_", " "), overflow="fold",
                         justify="left" if c in ("format", "kind") else "right")
    for fmt in F.catalog():
        d = describe(fmt)
        table.add_row(*(cell_text(d[c]) for c in cols))
    console.print(table)
    console.print("families: " + ", ".join(F.FAMILIES))


def cmd_show(console, name):
    from lowbit.format_study import describe

    fmt = F.get(name)
    table = Table(title=f"{fmt.name}", show_header=False)
    table.add_column("property")
    table.add_column("value")
    for k, v in describe(fmt).items():
        table.add_row(k, cell_text(v))
    for k, v in fmt.to_dict().items():
        if k not in ("name", "kind"):
            table.add_row(f"param {k}", v["name"] if isinstance(v, dict) else cell_text(v))
    if fmt.kind != "block":
        table.add_row("default overflow", fmt.default_overflow)
        table.add_row("overflow policies", ", ".join(fmt.overflow_policies))
        table.add_row("max code", _hex(fmt.max_code, fmt.bits))
        for special in ("nan_code", "inf_code", "nar_code"):
            code = getattr(fmt, special, None)
            if code is not None:
                table.add_row(special.replace("_", " "), _hex(code, fmt.bits))
    console.print(table)
    if fmt.kind != "block" and fmt.bits <= 6:
        vals = fmt.values()
        grid = Table(title=f"every {fmt.name} code")
        grid.add_column("code")
        grid.add_column("bits")
        grid.add_column("value", justify="right")
        for c, v in enumerate(vals):
            grid.add_row(_hex(c, fmt.bits), _bin(c, fmt.bits), _value_str(v))
        console.print(grid)


def _parse_values(texts):
    out = []
    for t in texts:
        try:
            out.append(float(t))
        except ValueError:
            raise LowbitError(f"value {t!r} is not a number (use e.g. 0.3, -1e9, nan, inf)") from None
    return np.array(out, dtype=np.float64)


def cmd_encode(console, name, values, rounding, overflow, on_nan, sr_bits, seed):
    fmt = F.get(name)
    x = _parse_values(values)
    label = f"stochastic, {sr_bits} bits, seed {seed}" if rounding == "stochastic" else rounding
    table = Table(title=f"encode into {fmt.name} (rounding {label})")
    if rounding == "stochastic":
        rounding = Stochastic(bits=sr_bits, rng=np.random.default_rng(seed))
    if fmt.kind == "block":
        data = fmt.encode(x, rounding=rounding)
        decoded = fmt.decode(data)
        el = fmt.element
        for c in ("input", "element code", "element bits", "decoded"):
            table.add_column(c, justify="right", overflow="fold")
        for v, code, d in zip(x, data.elements.reshape(-1), decoded):
            table.add_row(_value_str(v), _hex(code, el.bits), _bin(code, el.bits), _value_str(d))
        console.print(table)
        scales = ", ".join(_hex(s, fmt.scale.bits) for s in data.scales.reshape(-1))
        console.print(f"scale codes ({fmt.scale.name}): {scales}"
                      + (f"; tensor scale (FP32): {data.tensor_scale!r}"
                         if data.tensor_scale is not None else ""))
        return
    codes = fmt.encode(x, rounding=rounding, overflow=overflow, on_nan=on_nan)
    decoded = fmt.decode(codes)
    for c in ("input", "code", "bits", "decoded"):
        table.add_column(c, justify="right", overflow="fold")
    for v, code, d in zip(x, codes, decoded):
        table.add_row(_value_str(v), _hex(code, fmt.bits), _bin(code, fmt.bits), _value_str(d))
    console.print(table)


def cmd_regress(console, full, sim, json_path, junit_path) -> int:
    """Run the regression matrix; exit status 1 on any mismatch or failure."""
    import json

    from rich.progress import Progress

    from lowbit.paths import ensure_build_dir, ensure_writable_file, write_atomic
    from lowbit.verify import regression

    if json_path:
        ensure_writable_file(json_path, "--json")
    if junit_path:
        ensure_writable_file(junit_path, "--junit")
    ensure_build_dir()
    jobs = [(e, vs) for e in regression.entries(full) for vs in e.sets(full)]
    rows = []
    with Progress(console=console) as progress:
        task = progress.add_task("regression", total=len(jobs))
        for entry, vector_set in jobs:
            progress.update(task, description=f"{entry.unit} {entry.config} {vector_set}")
            rows.append(regression.run_entry(entry, vector_set, sim))
            progress.advance(task)
    cols = ("unit", "config", "vector_set", "vectors", "mismatches", "cycles", "latency",
            "seconds", "status")
    console.print(rows_table(f"lowbit regress ({'full' if full else 'quick'}, {sim})", rows,
                             cols))
    total = sum(r["vectors"] for r in rows)
    failed = [r for r in rows if r["status"] != "pass"]
    console.print(f"{total:,} vectors checked in {len(rows)} runs, {len(failed)} failed")
    if json_path:
        write_atomic(json_path, json.dumps({"rows": rows, "vectors": total,
                                            "failed": len(failed)}, indent=2) + "\n")
    if junit_path:
        regression.write_junit(rows, junit_path)
    return 1 if failed else 0


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

    targets = [t.strip() for group in (args.target or []) for t in group.split(",") if t.strip()]
    params = _parse_params(args.param or [])
    if args.all == bool(args.unit):
        raise LowbitError("lowbit synth needs a UNIT (or a Verilog file) or --all, not both")
    if args.write_baselines and not args.all:
        raise LowbitError("--write-baselines needs --all (baselines cover the whole catalogue)")
    if args.write_baselines and (args.no_dsp or args.liberty):
        raise LowbitError("--write-baselines takes the default flows: no --no-dsp, no --liberty")
    for target in targets:
        get_target(target)
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
        designs = [catalogue.build_design(args.unit, params)]
        targets = targets or ["generic", *FPGA_TARGETS]
        title, out = designs[0].name, args.out or build_dir() / "synth_report" / designs[0].name
    out = _output_folder(args.out, out)
    rows = synthesis.synth(designs, targets, liberty=args.liberty, dsp=not args.no_dsp,
                           jobs=args.jobs, console=console)
    _print_area_table(console, rows, title)
    paths = area_report.write_area_report(rows, out, title)
    console.print(f"report: {paths['markdown'].parent} (synth.csv, synth.json, synth.md, "
                  f"{len(paths) - 3} PNG)")
    if args.write_baselines:
        written = area_baseline.write_baselines(rows)
        console.print("baselines written: " + ", ".join(str(p) for p in written)
                      + "; review with git diff before committing")
    return 0


SIM_COLUMNS = ("op", "m", "k", "n", "repeat", "cycles", "compute_cycles", "utilization", "bound",
               "dram_read_bytes", "energy_pj", "tops", "tops_per_w")


def cmd_sim(console, args) -> int:
    """Simulate a workload on an accelerator; print the per-op table; write the report."""
    from rich.progress import Progress

    from lowbit import sim
    from lowbit.paths import build_dir
    from lowbit.reports.sim_report import write_sim_report

    params = {k: v for k, v in (("batch", args.batch), ("seq_len", args.seq_len),
                                ("context", args.context)) if v is not None}
    for key in ("a_fmt", "b_fmt"):
        if getattr(args, key):
            params[key] = getattr(args, key)
    _output_folder(args.out, builds=False)  # the default folder is named after the run
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("simulating op shapes", total=None)
        res = sim.run(args.arch, args.workload, ideal_memory=args.ideal_memory,
                      cycle_convention=args.cycle_convention, energy=args.energy,
                      dram_energy=args.dram_energy,
                      progress=lambda done, total: progress.update(task, completed=done,
                                                                   total=total),
                      **params)
    console.print(rows_table(f"{res.workload} on {res.arch.name}", res.rows + [res.total],
                             SIM_COLUMNS, right=SIM_COLUMNS[1:]))
    t = res.total
    console.print(f"total: {t['cycles']:,.0f} cycles ({t['time_us']:,.1f} us at "
                  f"{res.arch.clock_mhz:g} MHz), {t['bound']}-bound, utilization "
                  f"{t['utilization']:.3f}, {t['energy_pj'] / 1e6:,.1f} uJ, {t['tops']:.3g} TOPS, "
                  f"{t['tops_per_w']:.3g} TOPS/W")
    for note in res.notes:
        console.print(f"note: {note}")
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "_", f"{res.arch.name}-{Path(res.workload).stem}")
    out = Path(args.out) if args.out else build_dir() / "sim" / slug
    write_sim_report(res, out)
    console.print(f"report: {out} (sim.csv, sim.json, roofline.png, breakdown.png)")
    return 0


def cmd_faults(console, args) -> int:
    """Fault injection: ``adequacy`` of a MAC's vector sets or ``resilience`` of an engine."""
    if args.replay is not None:
        return _cmd_replay(console, args)
    if args.mode == "resilience":
        return _cmd_resilience(console, args)
    return _cmd_adequacy(console, args)


def replay_command(unit, fault, ops, faults, seed) -> str:
    """The one command that replays fault ``fault`` of a MAC on operations ``(clear, a, b)``."""
    spec = ",".join(f"{int(c)}:{a:#x}:{b:#x}" for c, a, b in ops)
    return f"lowbit faults {unit} --replay {fault} --ops {spec} --faults {faults} --seed {seed}"


def _cmd_replay(console, args) -> int:
    """Run one fault of a MAC's adequacy draw on the given operations; print what it does."""
    from lowbit.verify.faults.adequacy import entry
    from lowbit.verify.mutation import replay
    from lowbit.verify.vectors import mac_formats, ops_vectors

    if not args.ops:
        raise LowbitError("--replay needs --ops CLEAR:A:B[,CLEAR:A:B...]")
    try:
        ops = [tuple(int(x, 0) for x in op.split(":")) for op in args.ops.split(",")]
    except ValueError:
        ops = [()]
    if any(len(op) != 3 for op in ops):
        raise LowbitError(f"--ops must be CLEAR:A:B[,CLEAR:A:B...] with integer codes, not "
                          f"{args.ops!r}")
    unit = entry(args.unit).build()
    _output_folder(None)  # the replay builds the mutant simulator in the build folder
    vectors = ops_vectors("replay", ops, *mac_formats(unit))
    faults = 320 if args.faults_given is None else args.faults_given
    hit = replay(unit, args.unit, args.replay, vectors, mutants=faults, seed=args.seed)
    if hit is None:
        console.print(f"fault {args.replay}: masked on {len(ops)} operation(s)")
        return 0
    what = hit["mutation"].describe() if hit["mutation"] else "no fault"
    detail = (f"acc {hit['got']:#x}, golden {hit['expected']:#x}" if hit["kind"] == "acc"
              else hit["kind"])
    console.print(f"fault {args.replay} ({what}): exposed at operation {hit['op']}: {detail}")
    return 1


def _cmd_resilience(console, args) -> int:
    """Masked / SDC / hang rates with intervals, and the per-bit map of an engine."""
    from rich.progress import Progress

    from lowbit.paths import build_dir
    from lowbit.reports.plots import bit_vulnerability
    from lowbit.verify.faults.resilience import engine, run_resilience

    dut = engine(args.unit)
    out = _output_folder(args.out, build_dir() / "faults" / args.unit)
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("fault runs", total=None)
        summary = run_resilience(
            dut, args.unit, faults=args.faults_given, margin=args.margin, seed=args.seed,
            out_dir=out, say=console.print,
            progress=lambda done, total: progress.update(task, completed=done, total=total))
    table = Table(title=f"resilience of {args.unit}: GEMM {'x'.join(map(str, summary['shape']))}"
                        f", seed {summary['seed']}")
    for col in ("faults", "n", "masked", "SDC (95% CI)", "hang"):
        table.add_column(col, justify="left" if col == "faults" else "right")
    for label, r in summary["rates"].items():
        table.add_row(label, str(r["n"]), f"{r['masked_rate']:.1%}",
                      f"{r['sdc_rate']:.1%} [{r['sdc_ci_low']:.1%}, {r['sdc_ci_high']:.1%}]",
                      f"{r['hang_rate']:.1%}")
    console.print(table)
    bit_vulnerability(summary["bit_map"], out / "bit_map.png",
                      f"{args.unit}: faults on accumulator register bits")
    console.print(f"report: {out} (summary.json, faults.csv, runs.jsonl, bit_map.png)")
    return 0


def _cmd_adequacy(console, args) -> int:
    """Adequacy of a MAC configuration's vector sets: quick and full scores, survivors."""
    import csv
    import io

    from lowbit.paths import build_dir, ensure_writable_file, write_atomic
    from lowbit.verify.faults.adequacy import entry, run_adequacy
    from lowbit.verify.vectors import directed_path

    entry(args.unit)
    out = _output_folder(args.out, build_dir() / "faults" / args.unit)
    if args.write_directed:
        ensure_writable_file(directed_path(args.unit), "--write-directed")
    faults = 320 if args.faults_given is None else args.faults_given
    jobs = min(os.cpu_count() or 1, 64) if args.jobs is None else args.jobs
    res = run_adequacy(args.unit, mutants=faults, seed=args.seed, max_steps=args.max_steps,
                       jobs=jobs, write_directed=args.write_directed, out_dir=out,
                       progress=console.is_terminal, say=console.print)
    d = res.to_dict()
    table = Table(title=f"adequacy of {args.unit}: {res.mutants} faults, seed {res.seed}")
    for col in ("vector sets", "killed", "of detectable", "score"):
        table.add_column(col, justify="left" if col == "vector sets" else "right")
    table.add_row("quick: " + ", ".join(res.quick_sets), str(res.quick_killed),
                  str(res.detectable), f"{d['quick_score']:.1%}")
    table.add_row("full: " + ", ".join(res.full_sets + res.deep_sets), str(res.full_killed),
                  str(res.detectable), f"{d['full_score']:.1%}")
    console.print(table)
    console.print(f"equivalent (proved): {res.equivalent}; equivalent below "
                  f"2**{d['unreachable_ops_log2']} operations since a clear: "
                  f"{res.equivalent_below}; killed only by a deep set: {res.deep_killed}; "
                  f"killed only by a SAT counterexample: {res.directed_killed}; "
                  f"unknown: {res.unknown}")
    rows = io.StringIO()
    writer = csv.DictWriter(rows, ("id", "description", "verdict", "proof_steps", "ops_log2",
                                   "ops", "deep_kill"))
    writer.writeheader()
    for r in res.survivors:
        writer.writerow({**r, "ops": " ".join(f"{c}:{a:#x}:{b:#x}" for c, a, b in r["ops"])})
    write_atomic(out / "survivors.csv", rows.getvalue())
    console.print(f"report: {out} (adequacy.json, survivors.csv, mutation_*.json)")
    return 0 if res.unknown == 0 and res.full_killed + res.directed_killed == res.detectable \
        else 1


def _print_area_table(console, rows, title):
    cols = ("design", "target", "area_ge", "area_um2", "transistors", "logic_depth", "luts",
            "ffs", "carry_cells", "dsp_blocks", "bram_blocks", "cached")
    cols = [c for c in cols if any(r.get(c) is not None for r in rows)]
    console.print(rows_table(f"{title}: area", rows, cols,
                             right=[c for c in cols if c not in ("design", "target")]))


def build_parser():
    parser = _Parser(prog="lowbit", description="Bit-accurate low-precision arithmetic toolkit.")
    parser.add_argument("--version", action="version", version=f"lowbit {lowbit.__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    p_formats = sub.add_parser("formats", help="list, show and try number formats")
    fsub = p_formats.add_subparsers(dest="action", parser_class=_Parser)
    fsub.add_parser("list", help="list the catalogue (default)")
    p_show = fsub.add_parser("show", help="everything about one format")
    p_show.add_argument("name")
    p_enc = fsub.add_parser("encode", help="encode values and show their codes")
    p_enc.add_argument("name")
    p_enc.add_argument("values", nargs="+", help="numbers, nan, inf, -inf")
    # Let negative values in any float spelling (-1e9, -inf) be values, not options.
    p_enc._negative_number_matcher = _NEGATIVE_NUMBER
    p_enc.add_argument("--rounding", default="rne", choices=ROUNDING_MODES)
    p_enc.add_argument("--overflow", default=None,
                       help="saturate, saturate_symmetric, wrap, inf or nan (default: the format's)")
    p_enc.add_argument("--on-nan", default="raise", choices=F.NAN_POLICIES)
    p_enc.add_argument("--sr-bits", type=int, default=8,
                       help="random bits for --rounding stochastic (default 8)")
    p_enc.add_argument("--seed", type=int, default=0, help="seed for --rounding stochastic")

    p_reg = sub.add_parser("regress", help="RTL units against golden on a simulator")
    level = p_reg.add_mutually_exclusive_group()
    level.add_argument("--quick", action="store_true", help="the make-test slice (default)")
    level.add_argument("--full", action="store_true", help="every configuration")
    p_reg.add_argument("--sim", default="verilator", choices=("verilator", "icarus"))
    p_reg.add_argument("--json", default=None, help="write the result rows as JSON here")
    p_reg.add_argument("--junit", default=None, help="write JUnit XML here")

    p_syn = sub.add_parser("synth", help="Yosys area of a unit, a Verilog file or the catalogue")
    p_syn.add_argument("unit", nargs="?", default=None,
                       help="a design name (floatmac_fp8_e4m3xfp8_e4m3_fp32), a unit kind with --param (IntMac, FloatMac, PositMac, SimdMac, MxDotUnit, SystolicArray, "
                            "AdderTreeEngine, LutTensorCore, or a Verilog file")
    p_syn.add_argument("--param", action="append", metavar="KEY=VALUE",
                       help="a unit parameter (repeatable), e.g. --param a=fp4_e2m1")
    p_syn.add_argument("--target", action="append", metavar="T",
                       help="generic, ice40, ecp5, xilinx, gowin (repeatable or comma list; "
                            "default: generic and every FPGA, --all: generic,ecp5,gowin)")
    p_syn.add_argument("--liberty", default=None, metavar="FILE",
                       help="a standard-cell .lib: adds area in um^2 from its cells")
    p_syn.add_argument("--no-dsp", action="store_true",
                       help="build FPGA multipliers from LUTs instead of DSP blocks")
    p_syn.add_argument("--top", default=None, help="top module of a Verilog file")
    p_syn.add_argument("--all", action="store_true", help="the standard catalogue")
    p_syn.add_argument("--write-baselines", action="store_true",
                       help="with --all: rewrite reports/baselines/*.csv")
    _add_jobs(p_syn, "Yosys runs")
    p_syn.add_argument("--out", default=None, help="report folder (default build/synth_report/...)")

    p_sim = sub.add_parser("sim", help="cycles, stalls and energy of a workload on an "
                                       "accelerator (SimPy cycle model)")
    p_sim.add_argument("--arch", required=True, metavar="FILE|PRESET",
                       help="a TOML hardware file or a preset: edge-int8-32x32, "
                            "tpu-like-128x128, lut-w2-core")
    p_sim.add_argument("--workload", required=True, metavar="PRESET|CSV",
                       help="llama2-7b-decode, llama2-7b-prefill, resnet50, vit-b16, or a CSV "
                            "(lowbit columns or a SCALE-Sim topology file)")
    p_sim.add_argument("--batch", type=int, default=None, help="workload batch size")
    p_sim.add_argument("--seq-len", type=int, default=None, help="prefill sequence length")
    p_sim.add_argument("--context", type=int, default=None, help="decode: cached tokens")
    p_sim.add_argument("--a-fmt", default=None, help="activation format (default: the engine's)")
    p_sim.add_argument("--b-fmt", default=None, help="weight format (default: the engine's)")
    p_sim.add_argument("--ideal-memory", action="store_true",
                       help="no memory stalls: compute cycles only")
    p_sim.add_argument("--cycle-convention", default="rtl",
                       choices=("rtl", "scalesim", "scalesim_last_index"),
                       help="systolic cycle count: lowbit's RTL (default) or SCALE-Sim's")
    p_sim.add_argument("--energy", default=None, metavar="FILE",
                       help="energy data TOML (default: the 45 nm Horowitz file)")
    p_sim.add_argument("--dram-energy", default="low", choices=("low", "high"),
                       help="DRAM energy: 1.3 (low) or 2.6 (high) nJ per 64 bits")
    p_sim.add_argument("--out", default=None, help="report folder (default build/sim/...)")

    p_flt = sub.add_parser("faults", help="fault injection: test adequacy of a MAC's vectors, "
                                          "resilience of an engine")
    p_flt.add_argument("unit", metavar="UNIT",
                       help="as exported: a MAC configuration for adequacy (e.g. "
                            "intmac_int8xint8_wrap20), a GEMM engine for resilience (e.g. "
                            "systolicarray_4x4_os_fp8_e4m3_fp32)")
    p_flt.add_argument("--mode", default="adequacy", choices=("adequacy", "resilience"),
                       help="adequacy: mutation score over detectable faults; resilience: "
                            "masked/SDC/hang rates of a GEMM under sampled faults")
    p_flt.add_argument("--faults", dest="faults_given", type=int, default=None,
                       help="faults to draw (adequacy: 320; resilience: from --margin)")
    p_flt.add_argument("--margin", type=float, default=0.02,
                       help="resilience: half-width of the 95%% intervals, sets the sample "
                            "size per fault model (0.02: 2,401)")
    p_flt.add_argument("--seed", type=int, default=1, help="seed of the draw (1)")
    p_flt.add_argument("--max-steps", type=int, default=12,
                       help="induction length limit of the equivalence proofs (12)")
    _add_jobs(p_flt, "simulators and provers")
    p_flt.add_argument("--write-directed", action="store_true",
                       help="add killing counterexamples to the committed directed vector set")
    p_flt.add_argument("--replay", type=int, default=None, metavar="FAULT",
                       help="adequacy draw: run fault FAULT (1..--faults) on --ops only")
    p_flt.add_argument("--ops", default=None, metavar="C:A:B,...",
                       help="operations to replay: clear flag and operand codes (0x.. ok)")
    p_flt.add_argument("--out", default=None, help="report folder (default build/faults/UNIT)")

    p_swp = sub.add_parser("sweep", help="a design-space sweep from a .py or .toml file: "
                                         "resumable, local pool or Dask cluster, HTML report")
    p_swp.add_argument("file", help="sweep file (.py defining sweep = Sweep(...), or .toml)")
    p_swp.add_argument("--out", default=None,
                       help="folder for the database and reports (default build/sweeps)")
    p_swp.add_argument("--scheduler", default=None, metavar="ADDR",
                       help="Dask scheduler address, e.g. tcp://host:8786 (default: local pool)")
    p_swp.add_argument("--workers", type=int, default=None,
                       help="local worker processes (default: CPU count)")
    p_swp.add_argument("--retry-errors", action="store_true",
                       help="evaluate failed points again (finished ones are always skipped)")

    p_demo = sub.add_parser("demo", help="the main job: format study into build/demo/")
    p_demo.add_argument("--out", default=None, help="output folder (default build/demo)")
    return parser


def cmd_sweep(console, args) -> int:
    """Run a sweep file, then print the Pareto front and where the report is."""
    from pathlib import Path

    from lowbit.explore import load_sweep, run_sweep, write_report
    from lowbit.explore.runner import database_path
    sweep = load_sweep(args.file)
    out = Path(args.out) if args.out else database_path(sweep).parent
    console.print(f"sweep {sweep.name}: {len(sweep.space)} points, stages "
                  f"{', '.join(sweep.stages)}; results in {database_path(sweep, out)}")
    run = run_sweep(args.file, out=out, scheduler=args.scheduler, workers=args.workers,
                    retry_errors=args.retry_errors)
    rows = run.rows()
    paths = write_report(sweep, rows, out)
    console.print(f"{run.evaluated} points evaluated now, {run.skipped} already done, "
                  f"{run.failed} failed, in {run.seconds:.1f} s")
    if sweep.objectives:
        from lowbit.explore import pareto_front
        front = pareto_front([r for r in rows if r["status"] == "ok"], sweep.objectives)
        cols = list(sweep.space.axes) + [m for m in sweep.objectives]
        console.print(rows_table(f"Pareto front of {sweep.name}", front, cols,
                                 right=list(sweep.objectives)))
    console.print(f"HTML report: {paths['html']}")
    return 0


def main(argv=None) -> int:
    from lowbit.paths import write_failure

    console = make_console()
    args = None
    try:
        try:
            args = build_parser().parse_args(argv)
        except SystemExit as done:  # --help, --version: printed, nothing else to do
            return done.code or 0
        if args.command == "formats":
            if args.action in (None, "list"):
                cmd_list(console)
            elif args.action == "show":
                cmd_show(console, args.name)
            else:
                cmd_encode(console, args.name, args.values, args.rounding, args.overflow,
                           args.on_nan, args.sr_bits, args.seed)
        elif args.command == "regress":
            return cmd_regress(console, args.full, args.sim, args.json, args.junit)
        elif args.command == "synth":
            return cmd_synth(console, args)
        elif args.command == "sim":
            return cmd_sim(console, args)
        elif args.command == "faults":
            return cmd_faults(console, args)
        elif args.command == "sweep":
            return cmd_sweep(console, args)
        elif args.command == "demo":
            from lowbit import demo
            from lowbit.paths import build_dir

            demo.run(_output_folder(args.out, build_dir() / "demo"), console)
    except LowbitError as err:
        message = " ".join(str(err).split())
        print(f"lowbit: error: {message}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as err:  # a full disk or a refused output: one line; anything else: a bug
        message = write_failure(err, _outputs(args) if args is not None else [])
        if message is None:
            raise
        print(f"lowbit: error: {message}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("lowbit: interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
