"""Synthesis targets: the Yosys script of each and how its cell counts become metrics.

``generic``
    Technology-independent gates (``synth -noabc``, flip-flops legalized to plain D
    flip-flops, one ``abc -g`` onto :data:`~lowbit.reports.gate_equivalents.ABC_GATES` with
    :data:`GENERIC_ABC_SCRIPT`): ``area_ge`` in NAND2 gate equivalents, ``transistors``
    (Yosys ``stat -tech cmos``, flip-flops not included), ``logic_depth`` (gates on the
    longest combinational path, ``ltp -noff``), ``ffs``.
``ice40``, ``ecp5``, ``xilinx`` (UltraScale+, ``-family xcup``), ``gowin``
    FPGA families with Yosys's own ``synth_<family>`` flow: ``luts``, ``ffs``,
    ``carry_cells``, ``dsp_blocks``, ``bram_blocks``. I/O buffers are not inserted (a unit is
    not a chip). ``ice40`` maps no DSPs (the HX/LP parts have none); ``dsp=False`` keeps the
    other families' multipliers in LUTs too.
``liberty``
    A user's standard-cell library (``liberty=FILE``): ``dfflibmap`` and ``abc`` onto its cells,
    ``area_um2`` from the library's cell areas, ``ffs``, ``cells``.

Every target also reports ``cells`` (logic cells, without Yosys's ``$scopeinfo`` markers) and
``cells_by_type``.
"""

import re
from dataclasses import dataclass

from lowbit.errors import LowbitError, did_you_mean
from lowbit.reports.gate_equivalents import ABC_GATES, FLIP_FLOPS, area_ge


#: ABC script of the generic target: Yosys's default gate-mapping script without its SAT
#: sweeping (``&fraig -x``, ``scorr``), which takes minutes on designs with many multipliers
#: (an MXINT8 dot unit: over 20 min) for areas within 1% (MXFP8 dot unit: 0.7% smaller here).
GENERIC_ABC_SCRIPT = "+strash;dc2;strash;&get,-n;&dch,-f;&nf;&put"


#: The synthesized netlist of the ``generic`` and ``liberty`` targets, written last (after the
#: statistics, so it changes none of them) into the run's work folder; timing and switching
#: activity read it (:mod:`lowbit.reports.netlist`).
NETLIST_JSON = "netlist.json"


class TargetError(LowbitError, ValueError):
    """An unknown synthesis target or a target missing what it needs (a liberty file)."""


@dataclass(frozen=True)
class _FpgaCells:
    """Cell-name patterns of one FPGA family, matched against full cell type names."""

    luts: str
    ffs: str
    carry: str
    dsp: str
    bram: str


@dataclass(frozen=True)
class Target:
    """One synthesis target: ``commands(top)`` after ``read_verilog``, metrics from the stat."""

    name: str
    description: str
    synth: str
    fpga: _FpgaCells | None = None

    def commands(self, top: str, liberty: str | None = None, dsp: bool = True) -> list:
        """Yosys commands that synthesize module ``top`` and write ``stat.json`` (+``ltp.txt``).

        ``dsp=False`` keeps multipliers out of an FPGA's DSP blocks (``-nodsp``), so they are
        built from LUTs and carry chains.
        """
        synth = self.synth.format(top=top, gates=ABC_GATES, liberty=liberty,
                                  abc_script=GENERIC_ABC_SCRIPT,
                                  ffs=" ".join(f"-cell {c} 01" for c in FLIP_FLOPS))
        if self.fpga is not None and not dsp and self.name != "ice40":
            synth += " -nodsp"
        lines = synth.strip().splitlines() + ["delete t:$scopeinfo", "opt_clean -purge"]
        if self.name == "generic":
            return lines + ["tee -q -o stat.json stat -json -tech cmos",
                            "tee -q -o ltp.txt ltp -noff", f"write_json {NETLIST_JSON}"]
        if self.name == "liberty":
            return lines + [f"tee -q -o stat.json stat -json -liberty {liberty}",
                            f"write_json {NETLIST_JSON}"]
        return lines + ["tee -q -o stat.json stat -json"]

    @property
    def area_metric(self) -> str:
        """The column that measures area on this target: ``area_ge``, ``area_um2`` or ``luts``."""
        return {"generic": "area_ge", "liberty": "area_um2"}.get(self.name, "luts")

    def metrics(self, module: dict, ltp_text: str | None = None,
                sequential: frozenset = frozenset()) -> dict:
        """Metrics of the synthesized top ``module`` (its entry in Yosys's ``stat -json``);
        ``sequential`` names a liberty's flip-flop and latch cells."""
        cells = {t: int(n) for t, n in module.get("num_cells_by_type", {}).items()
                 if t != "$scopeinfo"}
        out = {"cells": sum(cells.values())}
        if self.name == "generic":
            area, unknown = area_ge(cells)
            if unknown:
                raise TargetError(f"generic netlist holds cells without a GE weight: {unknown}")
            transistors = str(module.get("estimated_num_transistors", "0"))
            out |= {"area_ge": round(area, 3),
                    "transistors": int(transistors.rstrip("+")),
                    "ffs": sum(n for t, n in cells.items() if t in FLIP_FLOPS),
                    "logic_depth": _ltp_length(ltp_text)}
        elif self.name == "liberty":
            out |= {"area_um2": round(float(module.get("area", 0.0)), 3),
                    "ffs": sum(n for t, n in cells.items() if t in sequential)}
        else:
            f = self.fpga
            out |= {"luts": _count(cells, f.luts), "ffs": _count(cells, f.ffs),
                    "carry_cells": _count(cells, f.carry), "dsp_blocks": _count(cells, f.dsp),
                    "bram_blocks": _count(cells, f.bram)}
        out["cells_by_type"] = dict(sorted(cells.items()))
        return out


def liberty_sequential_cells(text: str) -> frozenset:
    """Names of the cells of a liberty file that hold state (an ``ff`` or ``latch`` group)."""
    chunks = re.split(r"\bcell\s*\(", text)[1:]
    names = set()
    for chunk in chunks:
        name = re.match(r"\s*\"?([^\s\")]+)", chunk)
        if name and re.search(r"\b(ff|latch|ff_bank|latch_bank)\s*\(", chunk):
            names.add(name.group(1))
    return frozenset(names)


def _count(cells: dict, pattern: str) -> int:
    rx = re.compile(pattern)
    return sum(n for t, n in cells.items() if rx.fullmatch(t))


def _ltp_length(text) -> int | None:
    m = re.search(r"Longest topological path in \S+ \(length=(\d+)\)", text or "")
    return int(m.group(1)) if m else None


TARGETS = {t.name: t for t in (
    Target("generic", "generic gates, NAND2 gate equivalents (NanGate 45 nm cell areas)",
           "synth -flatten -noabc -top {top}\ndfflegalize {ffs}\n"
           "abc -g {gates} -script {abc_script}\nopt_clean"),
    Target("ice40", "Lattice iCE40 (LUT4, SB_CARRY; no DSP)", "synth_ice40 -top {top}",
           _FpgaCells(luts=r"SB_LUT4", ffs=r"SB_DFF\w*", carry=r"SB_CARRY",
                      dsp=r"SB_MAC16", bram=r"SB_RAM40_4K\w*")),
    Target("ecp5", "Lattice ECP5 (LUT4, CCU2C carry, MULT18X18D)", "synth_ecp5 -top {top}",
           _FpgaCells(luts=r"LUT4", ffs=r"TRELLIS_FF", carry=r"CCU2C",
                      dsp=r"MULT18X18D|ALU54B", bram=r"DP16KD|PDPW16KD")),
    Target("xilinx", "AMD UltraScale+ (LUT1-6, CARRY8, DSP48E2)",
           "synth_xilinx -family xcup -flatten -noiopad -noclkbuf -top {top}",
           _FpgaCells(luts=r"LUT[1-6](_2)?", ffs=r"FD[RSCP]E(_1)?", carry=r"CARRY[48]",
                      dsp=r"DSP48E[12]", bram=r"RAMB(18|36)E[12]\w*")),
    Target("gowin", "Gowin GW1N/GW2A (LUT1-4, ALU carry, MULT9X9/18X18)",
           "synth_gowin -noiopads -top {top}",
           _FpgaCells(luts=r"LUT[1-4]", ffs=r"DFF\w*", carry=r"ALU",
                      dsp=r"MULT\w+", bram=r"(DPB|SPX9|SP|SDPB|DPX9B|SDPX9B|pROM)\w*")),
    Target("liberty", "a user-supplied standard-cell library (area in um^2)",
           "synth -flatten -top {top}\ndfflibmap -liberty {liberty}\n"
           "abc -liberty {liberty}\nopt_clean"),
)}
FPGA_TARGETS = ("ice40", "ecp5", "xilinx", "gowin")


def get(name: str) -> Target:
    """The target called ``name``; one error listing the known targets otherwise."""
    if name not in TARGETS:
        raise TargetError(f"target must be one of {', '.join(TARGETS)}, not {name!r}"
                          f"{did_you_mean(name, TARGETS)}")
    return TARGETS[name]
