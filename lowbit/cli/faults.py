"""``lowbit faults DESIGN --mode adequacy|mutation|resilience [--faults N] [--margin M]
[--seed S] [--out DIR]`` and ``lowbit faults DESIGN --replay FAULT --ops C:A:B,...``: test
adequacy of a MAC's vector sets (mutation score over detectable faults, or the kill rates of
its quick sets), fault resilience of an engine, one fault replayed. DESIGN is a canonical
design name of the regression matrix."""

import os

from rich.table import Table

from lowbit.cli.parsing import add_jobs, output_folder
from lowbit.errors import LowbitError

NAME = "faults"
HELP = "fault injection: test adequacy of a MAC's vectors, resilience of an engine"


def add_arguments(parser):
    """The unit, the mode and the campaign's options."""
    parser.add_argument("unit", metavar="DESIGN",
                        help="a design of the regression matrix: a MAC for adequacy and "
                             "mutation (e.g. intmac_int8xint8_int20), a GEMM engine for "
                             "resilience (e.g. systolic4x4_os_floatmac_fp8_e4m3xfp8_e4m3_fp32)")
    parser.add_argument("--mode", default="adequacy",
                        choices=("adequacy", "mutation", "resilience"),
                        help="adequacy: mutation score over detectable faults; mutation: kill "
                             "rates of the quick vector sets and their survivors; resilience: "
                             "masked/SDC/hang rates of a GEMM under sampled faults")
    parser.add_argument("--faults", dest="faults_given", type=int, default=None,
                        help="faults to draw (adequacy: 320; mutation: 200; resilience: from "
                             "--margin)")
    parser.add_argument("--margin", type=float, default=0.02,
                        help="resilience: half-width of the 95%% intervals, sets the sample "
                             "size per fault model (0.02: 2,401)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the draw (1)")
    parser.add_argument("--max-steps", type=int, default=12,
                        help="induction length limit of the equivalence proofs (12)")
    parser.add_argument("--sat-timeout", type=float, default=None, metavar="SECONDS",
                        help="adequacy: seconds of SAT proofs per mutant; past them it is "
                             "'unknown: timeout' (default: see lowbit.verify.faults.equivalence)")
    add_jobs(parser, "simulators and provers")
    parser.add_argument("--write-directed", action="store_true",
                        help="add killing counterexamples to the committed directed vector set")
    parser.add_argument("--replay", type=int, default=None, metavar="FAULT",
                        help="adequacy draw: run fault FAULT (1..--faults) on --ops only")
    parser.add_argument("--ops", default=None, metavar="C:A:B,...",
                        help="operations to replay: clear flag and operand codes (0x.. ok)")
    parser.add_argument("--out", default=None,
                        help="report folder (default build/faults/DESIGN; mutation: "
                             "build/mutation/DESIGN.json)")


def run(console, args) -> int:
    """Fault injection: ``adequacy`` of a MAC's vector sets or ``resilience`` of an engine."""
    if args.replay is not None:
        return _cmd_replay(console, args)
    if args.mode == "resilience":
        return _cmd_resilience(console, args)
    if args.mode == "mutation":
        return _cmd_mutation(console, args)
    return _cmd_adequacy(console, args)


def replay_command(unit, fault, ops, faults, seed) -> str:
    """The one command that replays fault ``fault`` of a MAC on operations ``(clear, a, b)``."""
    spec = ",".join(f"{int(c)}:{a:#x}:{b:#x}" for c, a, b in ops)
    return f"lowbit faults {unit} --replay {fault} --ops {spec} --faults {faults} --seed {seed}"


def _cmd_replay(console, args) -> int:
    """Run one fault of a MAC's adequacy draw on the given operations; print what it does."""
    from lowbit.verify.faults.adequacy import entry
    from lowbit.verify.faults.mutation import replay
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
    output_folder(None)  # the replay builds the mutant simulator in the build folder
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


def _cmd_mutation(console, args) -> int:
    """Kill rates of a MAC design's quick vector sets over drawn mutants, and the survivors;
    exit 1 when the sets miss a mutant the exhaustive set kills."""
    from lowbit.verify.faults.adequacy import entry
    from lowbit.verify.faults.mutation import report, run_mutation

    e = entry(args.unit)
    out = output_folder(args.out)  # None: build/mutation/DESIGN.json
    unit = e.build()
    result = run_mutation(
        unit, e.name, mutants=200 if args.faults_given is None else args.faults_given,
        seed=args.seed, jobs=args.jobs, vector_sets=e.vector_sets,
        vectors={s: e.vectors(unit, s) for s in e.vector_sets},
        json_path=None if out is None else out / "mutation.json", progress=console.is_terminal)
    report(result, console)
    return 0 if result.adequate is not False else 1


def _cmd_resilience(console, args) -> int:
    """Masked / SDC / hang rates with intervals, and the per-bit map of an engine."""
    from rich.progress import Progress

    from lowbit.paths import build_dir
    from lowbit.reports.plots import bit_vulnerability
    from lowbit.verify.faults.resilience import engine, run_resilience

    dut = engine(args.unit)
    out = output_folder(args.out, build_dir() / "faults" / args.unit)
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
    for u in summary["unknown"]:
        console.print(f"fault run {u['run']}: unknown: {u['reason']}")
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
    out = output_folder(args.out, build_dir() / "faults" / args.unit)
    if args.write_directed:
        ensure_writable_file(directed_path(args.unit), "--write-directed")
    faults = 320 if args.faults_given is None else args.faults_given
    jobs = min(os.cpu_count() or 1, 64) if args.jobs is None else args.jobs
    res = run_adequacy(args.unit, mutants=faults, seed=args.seed, max_steps=args.max_steps,
                       jobs=jobs, write_directed=args.write_directed, out_dir=out,
                       progress=console.is_terminal, say=console.print,
                       **({} if args.sat_timeout is None else {"sat_timeout": args.sat_timeout}))
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
                                   "ops", "deep_kill", "reason"))
    writer.writeheader()
    for r in res.survivors:
        writer.writerow({**r, "ops": " ".join(f"{c}:{a:#x}:{b:#x}" for c, a, b in r["ops"])})
    write_atomic(out / "survivors.csv", rows.getvalue())
    console.print(f"report: {out} (adequacy.json, survivors.csv, mutation_*.json)")
    return 0 if res.unknown == 0 and res.full_killed + res.directed_killed == res.detectable \
        else 1
