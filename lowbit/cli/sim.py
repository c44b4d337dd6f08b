"""``lowbit sim --arch FILE|PRESET --workload PRESET|CSV [--batch N] [--clock-mhz F|fmax]
[--out DIR] ...``: cycles, stalls and energy of a workload on an accelerator (the SimPy cycle
model). ``--clock-mhz fmax`` runs it at the Fmax of the engine's MAC design (each PE), timed
from its synthesized netlist (:func:`lowbit.reports.pipelining.fmax_mhz`)."""

import re
from pathlib import Path

from lowbit.cli.parsing import output_folder
from lowbit.terminal import rows_table

NAME = "sim"
HELP = "cycles, stalls and energy of a workload on an accelerator (SimPy cycle model)"


def add_arguments(parser):
    """Hardware, workload, workload parameters, memory and energy options, report folder."""
    parser.add_argument("--arch", required=True, metavar="FILE|PRESET",
                        help="a TOML hardware file or a preset: edge-int8-32x32, "
                             "tpu-like-128x128, lut-w2-core")
    parser.add_argument("--workload", required=True, metavar="PRESET|CSV",
                        help="llama2-7b-decode, llama2-7b-prefill, resnet50, vit-b16, or a CSV "
                             "(lowbit columns or a SCALE-Sim topology file)")
    parser.add_argument("--batch", type=int, default=None, help="workload batch size")
    parser.add_argument("--seq-len", type=int, default=None, help="prefill sequence length")
    parser.add_argument("--context", type=int, default=None, help="decode: cached tokens")
    parser.add_argument("--weights-only", action="store_true",
                        help="llama2 presets: leave out the attention products (activation x "
                             "activation), for engines that run weight GEMMs only (lut, mixpe)")
    parser.add_argument("--a-fmt", default=None, help="activation format (default: the engine's)")
    parser.add_argument("--b-fmt", default=None, help="weight format (default: the engine's)")
    parser.add_argument("--clock-mhz", default=None, metavar="F|fmax",
                        help="engine clock in MHz instead of the arch's, or fmax: the Fmax of "
                             "its MAC design from static timing (synthesized once, cached)")
    parser.add_argument("--ideal-memory", action="store_true",
                        help="no memory stalls: compute cycles only")
    parser.add_argument("--cycle-convention", default="rtl",
                        choices=("rtl", "scalesim", "scalesim_last_index"),
                        help="systolic cycle count: lowbit's RTL (default) or SCALE-Sim's")
    parser.add_argument("--energy", default=None, metavar="FILE",
                        help="energy data TOML (default: the 45 nm Horowitz file)")
    parser.add_argument("--dram-energy", default="low", choices=("low", "high"),
                        help="DRAM energy: 1.3 (low) or 2.6 (high) nJ per 64 bits")
    parser.add_argument("--out", default=None, help="report folder (default build/sim/...)")


def run(console, args) -> int:
    """Simulate a workload on an accelerator; print the per-op table; write the report."""
    return cmd_sim(console, args)


SIM_COLUMNS = ("op", "m", "k", "n", "repeat", "cycles", "compute_cycles", "utilization", "bound",
               "dram_read_bytes", "energy_pj", "tops", "tops_per_w")


def _clocked(console, arch_name, clock):
    """The arch of ``arch_name`` at ``clock`` (MHz as text, or ``fmax``: its MAC design's)."""
    import dataclasses

    from lowbit.errors import LowbitError
    from lowbit.sim.engine_model import engine_model
    from lowbit.sim.hardware import load_arch

    arch = load_arch(arch_name)
    if clock == "fmax":
        from lowbit.reports.pipelining import fmax_mhz

        model = engine_model(arch.engine)
        mac = model.pe or model.spec
        with console.status(f"timing {mac.name}"):
            mhz = fmax_mhz(mac)
        console.print(f"clock: Fmax of {mac.name}, {mhz:.1f} MHz (static timing, generic "
                      f"NanGate 45 nm cells)")
    else:
        try:
            mhz = float(clock)
        except ValueError:
            raise LowbitError(f"--clock-mhz must be a number of MHz or fmax, not "
                              f"{clock!r}") from None
    return dataclasses.replace(arch, clock_mhz=mhz)


def cmd_sim(console, args) -> int:
    """Simulate a workload on an accelerator; print the per-op table; write the report."""
    from rich.progress import Progress

    from lowbit import sim
    from lowbit.paths import build_dir
    from lowbit.reports.power import mac_energy_source
    from lowbit.reports.sim_report import write_sim_report

    params = {k: v for k, v in (("batch", args.batch), ("seq_len", args.seq_len),
                                ("context", args.context)) if v is not None}
    for key in ("a_fmt", "b_fmt"):
        if getattr(args, key):
            params[key] = getattr(args, key)
    if args.weights_only:
        params["attention"] = False
    output_folder(args.out, builds=False)  # the default folder is named after the run
    arch = args.arch if args.clock_mhz is None else _clocked(console, args.arch, args.clock_mhz)
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("simulating op shapes", total=None)
        res = sim.run(arch, args.workload, ideal_memory=args.ideal_memory,
                      cycle_convention=args.cycle_convention, energy=args.energy,
                      dram_energy=args.dram_energy, mac_energy=mac_energy_source(),
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
