"""Exhaustive operand-pair sets through the fast path, from a clean design build.

For FloatMac fp8_e4m3 x fp8_e4m3 into fp32 and PositMac posit8_0 into its quire (65,536 pairs
each): remove the design's wrapper build folders, then time the whole regression run and
report its split, wall and CPU seconds each:

- golden: the vector set (this process);
- export + files: the rest of this process's work (Amaranth elaboration and Yosys export of
  the design, the wrapper text, the memory files, the result) and its Yosys child;
- verilate: the ``verilator`` command (Verilog to C++);
- C++ compile: ``make`` (the design's C++ and cocotb's main; link);
- run: the simulator process (cocotb start-up, loading the memories, the run, the check).

The child commands are told apart by wrapping :func:`subprocess.run` as cocotb's runner calls
it (a benchmark-only instrument). With ``--cold-runtime`` the shared Verilator runtime objects
are rebuilt too (a first build on a machine). On a shared machine the CPU seconds are the
fair figure: wall time includes waiting for the cores.

Usage: ``python benchmarks/bench_exhaustive.py [--cold-runtime]``.
"""

import argparse
import resource
import shutil
import subprocess
import time
from pathlib import Path

import cocotb_tools.runner

from lowbit.paths import build_dir
from lowbit.verify import regression
from lowbit.verify.checker_wrapper import run_opt
from lowbit.verify.runner import verilator_opt

DESIGNS = ("floatmac_fp8_e4m3xfp8_e4m3_fp32", "positmac_posit8_0_quire")
PHASES = ("golden", "export + files", "verilate", "C++ compile", "run")


def _cpu(who) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


class PhaseClock:
    """Wall and CPU seconds of cocotb's child commands, by phase (module docstring)."""

    def __init__(self):
        self.seconds = {}
        self._run = subprocess.run

    def phase(self, cmd) -> str:
        name = Path(str(cmd[0])).name
        if name.endswith("_fast"):  # the simulator binary is named after the wrapper module
            return "run"
        copies = {"make": "C++ compile", "cp": "C++ compile", "sh": "C++ compile"}
        return {"verilator": "verilate", **copies}.get(name, "export + files")

    def run(self, cmd, *args, **kwargs):
        wall, cpu = time.perf_counter(), _cpu(resource.RUSAGE_CHILDREN)
        try:
            return self._run(cmd, *args, **kwargs)
        finally:
            w, c = self.seconds.get(self.phase(cmd), (0.0, 0.0))
            self.seconds[self.phase(cmd)] = (w + time.perf_counter() - wall,
                                             c + _cpu(resource.RUSAGE_CHILDREN) - cpu)


def measure(name, clock) -> dict:
    """``{phase: (wall s, cpu s)}`` of one clean-build exhaustive run of design ``name``."""
    for folder in (build_dir() / "rtl").glob(f"{name}_fast-*"):
        shutil.rmtree(folder)
    clock.seconds = {}
    entry = regression.by_name(regression.MAC)[name]
    start, cpu = time.perf_counter(), _cpu(resource.RUSAGE_SELF) + _cpu(resource.RUSAGE_CHILDREN)
    unit = entry.build()
    vectors = entry.vectors(unit, "exhaustive")
    golden = (time.perf_counter() - start, _cpu(resource.RUSAGE_SELF) + _cpu(
        resource.RUSAGE_CHILDREN) - cpu)
    row = regression.run_vectors(unit, name, entry.bench, vectors, "exhaustive", start=start)
    assert row["status"] == "pass" and row["vectors"] == 65536, row["error"]
    total = (time.perf_counter() - start,
             _cpu(resource.RUSAGE_SELF) + _cpu(resource.RUSAGE_CHILDREN) - cpu)
    split = {"golden": golden, **clock.seconds}
    exported = split.pop("export + files", (0.0, 0.0))  # Yosys, if it ran through run()
    split["export + files"] = tuple(t - sum(s[k] for s in split.values()) for k, t in
                                    enumerate(total))
    return {**split, "total": total}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cold-runtime", action="store_true")
    args = parser.parse_args()
    if args.cold_runtime:
        shutil.rmtree(build_dir() / "verilator-runtime", ignore_errors=True)
    clock = PhaseClock()
    cocotb_tools.runner.subprocess.run = clock.run  # the same module object: restored below
    try:
        opt = verilator_opt(run_opt(65536))
        print(f"C++ optimization {opt}; seconds as wall / CPU", flush=True)
        for name in DESIGNS:
            split = measure(name, clock)
            parts = " + ".join(f"{p} {split.get(p, (0, 0))[0]:.1f}/{split.get(p, (0, 0))[1]:.1f}"
                               for p in PHASES)
            print(f"{name}: 65,536 pairs, 0 mismatches, total {split['total'][0]:.1f} s wall /"
                  f" {split['total'][1]:.1f} s CPU = {parts}", flush=True)
    finally:
        cocotb_tools.runner.subprocess.run = clock._run


if __name__ == "__main__":
    main()
