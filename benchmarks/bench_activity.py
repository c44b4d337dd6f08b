"""Switching-activity speed: MAC-cycles per second of lowbit's bit-parallel netlist simulator
on the FP8 MAC and a 4x4 int8 array, against Verilator's toggle coverage of the same netlist
(the reference, measured in the same run), and the wall time of a 100,000-operation energy
estimate.

For each design (generic target, synthesized first if the cache lacks it, not timed):

* ``compile_s``: :func:`lowbit.reports.activity.compile_netlist` (once per netlist);
* per lane count: ``sim_s``, the simulation of the default stream (Gaussian, K = 256) alone,
  and ``MAC-cycles/s`` = MACs simulated (lanes x MACs per lane) per second of it;
* ``Verilator``: the same netlist with ``--coverage-toggle`` (one lane per run, C++ harness,
  build not timed) on the first lane's cycles: its MAC-cycles per second, and our ratio to it;
* ``100k estimate``: :func:`lowbit.reports.power.measure` of about 100,000 MACs without its
  cache, netlist already compiled (stream, stimulus, simulation and pricing), and cold
  (compile included).

No assertions: numbers to read and record. The aim (issue 23): at least 1M MAC-cycles/s on
a 2-core machine, so a 100,000-operation estimate takes under a second.

Usage: ``python benchmarks/bench_activity.py [--repeats 3] [--design NAME ...]`` (default both
designs; the array's Verilator build takes minutes on a loaded machine).
"""

import argparse
import time

from rich.console import Console
from rich.table import Table

from lowbit import toggle_coverage
from lowbit.hdl import designs
from lowbit.paths import build_dir
from lowbit.reports import activity, operand_streams, power, stimulus, synthesis
from lowbit.reports.netlist import read_netlist
from timing import best_of  # benchmarks/timing.py

#: design, lane counts to time, and the (lanes, K) of its ~100,000-MAC estimate
CASES = (("floatmac_fp8_e4m3xfp8_e4m3_fp32", (64, 512, 4096), (512, 196)),
         ("systolic4x4_os_intmac_int8xint8_int32", (64, 256, 1024), (64, 96)))


def _run(spec, program, lanes):
    a_fmt, b_fmt = power.stream_formats(spec)
    m, n = power.lane_tile(spec)
    src = operand_streams.stream("gaussian", a_fmt, b_fmt, k=256, rows=lanes * m,
                                 cols=lanes * n)
    proto = stimulus.stimulus_for(spec, src.lanes(lanes, m, n))
    recorder = toggle_coverage.Recorder(proto.stimulus)
    start = time.perf_counter()
    act = activity.simulate(program, recorder)
    return time.perf_counter() - start, act, recorder


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--design", action="append", choices=[c[0] for c in CASES],
                        help="only these designs (repeatable)")
    args = parser.parse_args()
    console = Console(width=150)
    table = Table(title="switching activity: MAC-cycles per second (NanGate 45 nm generic "
                        "netlists, Gaussian stream, K = 256)")
    for col in ("design", "nodes", "depth", "compile s", "lanes", "cycles", "sim s",
                "MAC-cycles/s", "vs Verilator"):
        table.add_column(col, justify="left" if col == "design" else "right")
    notes = []
    for name, lane_counts, (est_lanes, est_k) in CASES:
        if args.design and name not in args.design:
            continue
        spec = designs.get(name)
        synthesis.synth(spec, ["generic"], timing=False)
        folder = synthesis.work_folder(spec)
        nl = read_netlist(folder)
        t_compile, program = best_of(lambda: activity.compile_netlist(nl), args.repeats)
        # the reference: Verilator toggle coverage, one lane, the same cycles
        _, act1, rec1 = _run(spec, program, 64)
        harness = toggle_coverage.build(folder / "netlist.json",
                                        build_dir() / "bench_activity" / name)
        _, v_seconds = toggle_coverage.run_lanes(harness, rec1.log, [0], nl.n_nets)
        verilator_rate = act1.operations / v_seconds
        notes.append(f"{name}: Verilator --coverage-toggle {verilator_rate:,.0f} MAC-cycles/s "
                     f"(one lane, {act1.cycles} cycles incl. process start and file I/O; "
                     f"build {harness.build_seconds:.0f} s, not timed)")
        for lanes in lane_counts:
            runs = [_run(spec, program, lanes) for _ in range(args.repeats)]
            t_sim, act = min(r[0] for r in runs), runs[-1][1]  # the simulation alone
            rate = act.operations * act.lanes / t_sim
            table.add_row(name, f"{program.nodes:,}", str(program.depth), f"{t_compile:.3f}",
                          str(lanes), str(act.cycles), f"{t_sim:.3f}", f"{rate:,.0f}",
                          f"{rate / verilator_rate:,.0f}x")
        power._prepared.cache_clear()
        def estimate():
            return power.measure(spec, "gaussian", lanes=est_lanes, k=est_k, cache=False)
        t_cold, r = best_of(estimate, 1)
        t_warm, r = best_of(estimate, args.repeats)
        ops = r.energy.lanes * r.energy.operations * r.macs_per_operation
        notes.append(f"{name}: a {ops:,}-MAC energy estimate takes {t_warm:.2f} s with the "
                     f"netlist compiled, {t_cold:.2f} s cold ({r.per_mac_pj:.3f} pJ/MAC)")
    console.print(table)
    for line in notes:
        console.print(line)


if __name__ == "__main__":
    start = time.perf_counter()
    main()
    print(f"benchmark wall time {time.perf_counter() - start:.1f} s")
