"""``lowbit power DESIGN [--stream NAME|FILE.npz ...] [--clock-mhz F|fmax] [--liberty FILE]
[--out DIR]``: energy per operation of a catalogue design measured on its own netlist by
switching activity, split into datapath, registers, clock and leakage (see
:mod:`lowbit.reports.power`)."""

from pathlib import Path

from lowbit.cli.parsing import output_folder
from lowbit.errors import LowbitError, did_you_mean
from lowbit.terminal import rows_table

NAME = "power"
HELP = "energy per operation of a design from its netlist's switching activity"


def add_arguments(parser):
    """The design, streams, clock, liberty, measurement size and the report folder."""
    parser.add_argument("design", metavar="DESIGN",
                        help="a catalogue design name (intmac_int8xint8_int32, "
                             "mxdot_mxfp4_fp32, systolic4x4_os_intmac_int8xint8_int32 ...)")
    parser.add_argument("--stream", action="append", metavar="NAME|FILE.npz",
                        help="operand stream (repeatable or comma list): random, gaussian "
                             "(default), sparse, mlp, or an .npz file with arrays a "
                             "(rows x K) and b (K x cols): floats or codes of the formats")
    parser.add_argument("--clock-mhz", default="fmax", metavar="F|fmax",
                        help="clock for leakage (default fmax: static timing of the netlist)")
    parser.add_argument("--liberty", default=None, metavar="FILE",
                        help="synthesize onto this .lib and price with its power tables")
    parser.add_argument("--lanes", type=int, default=None,
                        help="independent streams simulated at once (a multiple of 64)")
    parser.add_argument("--k", type=int, default=None, help="elements along K per dot product")
    parser.add_argument("--seed", type=int, default=0, help="stream seed")
    parser.add_argument("--mode", type=int, default=0, help="SimdMac mode")
    parser.add_argument("--out", default=None, help="report folder (default build/power/DESIGN)")


def run(console, args) -> int:
    """Measure the design on every stream asked for; print the breakdown; write the report."""
    from lowbit.hdl import designs
    from lowbit.paths import build_dir
    from lowbit.reports import operand_streams, power
    from lowbit.reports.switching_energy import PARTS
    from lowbit.paths import write_atomic
    from lowbit.reports.tables import markdown_table, write_csv, write_json

    spec = designs.get(args.design)
    clock = _clock(args.clock_mhz)
    streams = [s.strip() for group in (args.stream or ["gaussian"]) for s in group.split(",")
               if s.strip()]
    for s in streams:
        if s not in operand_streams.STREAMS and not s.endswith(".npz"):
            raise LowbitError(f"--stream must be one of {', '.join(operand_streams.STREAMS)} "
                              f"or an .npz file, not {s!r}"
                              f"{did_you_mean(s, operand_streams.STREAMS)}")
    out = output_folder(args.out) or build_dir() / "power" / spec.name
    reports = []
    with console.status(f"switching activity of {spec.name}"):
        for s in streams:
            arrays, name = (_arrays(s), "arrays") if s.endswith(".npz") else (None, s)
            reports.append(power.measure(spec, name, arrays=arrays, clock_mhz=clock,
                                         liberty=args.liberty, lanes=args.lanes, k=args.k,
                                         seed=args.seed, mode=args.mode))
    first = reports[0]
    rows = []
    for r, s in zip(reports, streams):
        for p in PARTS:
            rows.append({"stream": s, "part": p, "pj_per_op": r.parts_pj[p],
                         "pj_per_mac": r.parts_pj[p] / r.macs_per_operation,
                         "share": f"{r.parts_pj[p] / r.total_pj:.1%}"})
        rows.append({"stream": s, "part": "total", "pj_per_op": r.total_pj,
                     "pj_per_mac": r.per_mac_pj, "share": "100.0%"})
    cols = ("stream", "part", "pj_per_op", "pj_per_mac", "share")
    console.print(rows_table(f"{spec.name}: energy per {first.operation} at "
                             f"{first.clock_mhz:.1f} MHz ({first.clock}); {first.technology}",
                             rows, cols, right=cols[2:]))
    e = first.energy
    console.print(f"{e.lanes} lanes x {e.operations} {first.operation}s, {e.cycles} cycles; "
                  f"leakage {e.leakage_nw / 1e3:,.1f} uW; {first.source}", markup=False,
                  soft_wrap=True)
    table = [r.row() | {"stream": s} for r, s in zip(reports, streams)]
    markdown = (f"# {spec.name}: energy per {first.operation}\n\n"
                f"pJ at {first.clock_mhz:.1f} MHz ({first.clock}); {first.technology}; "
                f"{first.source}\n\n" + markdown_table(rows, cols))
    paths = [write_csv(table, out / "power.csv"),
             write_json({"design": spec.name, "rows": table,
                         "settings": [r.settings for r in reports]}, out / "power.json"),
             write_atomic(out / "power.md", markdown),
             power.breakdown_plot(reports, out / "energy_breakdown.png")]
    console.print(f"report: {Path(paths[0]).parent} (power.csv, power.json, power.md, "
                  f"energy_breakdown.png)")
    return 0


def _clock(text):
    if str(text).lower() == "fmax":
        return "fmax"
    try:
        return float(text)
    except ValueError:
        raise LowbitError(f"--clock-mhz must be a frequency in MHz or fmax, not "
                          f"{text!r}") from None


def _arrays(path):
    import numpy as np

    p = Path(path)
    if not p.is_file():
        raise LowbitError(f"--stream file {path!r} does not exist")
    try:
        data = np.load(p)
        return data["a"], data["b"]
    except (OSError, ValueError, KeyError):
        raise LowbitError(f"--stream file {path!r} must be an .npz with arrays a (rows x K) and "
                          f"b (K x cols)") from None
