"""Mutation adequacy of vector sets: which injected faults does each vector set detect?

Scenario: ``mutants`` mutations of a MAC unit are drawn (:mod:`.mutants`: const0, const1 or
inv on a synthesized cell's output bit, a fixed ``seed``) into one netlist, built once with the
C++ harness (:mod:`.harness`), and every mutant runs on every vector set. Mutant 0 (no
mutation) must pass every set, else the vectors or the netlist are wrong and
:class:`~lowbit.verify.runner.SimulationFailed` is raised.

The check of issue 4: the sets the quick regression runs (exhaustive, corners, random,
sequences) kill every mutant the exhaustive set kills; :attr:`MutationResult.missed` lists the
ones the non-exhaustive sets alone miss. Survivors (no set kills them) are candidates for
equivalent mutants and are reported with their cell, port bit, mode, driven wire and source line.

For the default vector sets the unit needs ``a_fmt``, ``b_fmt`` and ``accumulator`` (the
arguments of :func:`~lowbit.verify.vectors.mac_vectors`). Results go to
``build/mutation/<name>.json``; ``lowbit faults NAME --mode mutation`` runs a regression
configuration's quick sets and prints :func:`report`.
"""

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from lowbit.errors import check_int
from lowbit.hdl import export
from lowbit.paths import build_dir, write_atomic
from lowbit.verify.faults.harness import Campaign, check_ports, write_vectors
from lowbit.verify.faults.mutants import (DETECTION_KINDS, KIND_TEXT, MAX_MUTANTS, MODES,
                                          MutationError, MutationResult)
from lowbit.verify.runner import SimulationFailed, SimulatorCrashed
from lowbit.verify.vectors import VECTOR_SETS, MacVectors, mac_vectors

MAX_JOBS = 64


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
    width = check_ports(unit)
    sets = _vector_sets(unit, vector_sets, vectors)
    show = sys.stdout.isatty() if progress is None else progress
    rtl = export(unit, name)
    campaign = Campaign.prepare(rtl, mutants, seed, show)
    with tempfile.TemporaryDirectory(prefix="lowbit-mutation-") as tmp:
        stim = Path(tmp) / "vectors.bin"
        write_vectors(stim, sets, unit.latency, width)
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
    width = check_ports(unit)
    key = (id(unit), name, mutants, seed)
    if key not in _REPLAY_CAMPAIGNS:  # export and look up once per unit object and draw
        _REPLAY_CAMPAIGNS[key] = Campaign.prepare(export(unit, name), mutants, seed, False)
    campaign = _REPLAY_CAMPAIGNS[key]
    run = ([0] if check_baseline else []) + [m for m in ids if not (check_baseline and m == 0)]
    lines = {}
    with tempfile.TemporaryDirectory(prefix="lowbit-replay-") as tmp:
        stim = Path(tmp) / "vectors.bin"
        write_vectors(stim, [vectors], unit.latency, width)
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


def _baseline_failed(name, vectors, op, kind, got, width):
    want = int(vectors.expected[op]) & ((1 << width) - 1) if op < len(vectors) else None
    detail = (f"acc 0x{got:x}, expected 0x{want:x} ({int(vectors.expected[op])})" if kind == 1
              else KIND_TEXT[DETECTION_KINDS[kind]])
    where = (f"op {op}: clear={int(vectors.clear[op])} a=0x{int(vectors.a[op]):x} "
             f"b=0x{int(vectors.b[op]):x}" if op < len(vectors) else f"op {op}")
    raise SimulationFailed(f"{name}: mutant 0 (no mutation) fails vector set {vectors.name!r} "
                           f"at {where}: {detail}; the netlist or the expected codes are wrong")


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
