"""Tensor processing engines and their bit-weight rewrites, compared as the paper compares them.

"Exploring the Performance Improvement of Tensor Processing Engines through Transformation in
the Bit-weight Dimension of MACs" (HPCA 2025, arXiv 2503.06342) rewrites the MACs of four
engine shapes along the weight's bits: the partial products of every product feeding one
output are compressed together in carry-save form and resolved by one carry-propagate adder
per output. At SMIC 28 nm it reports these gains of the rewrite over the baseline
(:data:`SHAPES`): area efficiency 1.27x (systolic array), 1.28x (3D cube), 1.56x (multiplier
adder tree), 1.44x (2D matrix); energy efficiency 1.04x, 1.56x, 1.49x, 1.20x.

Method (lowbit's redo): each shape at 16 multiply-accumulates per cycle, int8 x int8 into a
wrapping int32, built twice from lowbit's generators, once with IntMac PEs (a multiplier and
an adder per product) and once with CarrySaveDot PEs (:func:`lowbit.hdl.designs.bitweight_twin`),
both bit-exact against the same golden GEMM. Both are synthesized with Yosys:

* ``generic``: area in NAND2 gate equivalents (``area_ge``), and static timing of the
  netlist on the NanGate FreePDK45 per-cell delay model (:mod:`lowbit.reports.timing`,
  registered I/O): ``delay_ps`` and ``fmax_mhz``;
* ``ecp5`` with ``dsp=False`` (multipliers in LUTs, so LUTs measure the whole datapath):
  ``luts``.

Area efficiency is ``2 x peak MACs/cycle x Fmax / area_ge`` in ops/s/GE; its ratio
(bit-weight over baseline) stands beside the paper's. A row ``agrees`` when the ratio points
the same way as the paper's and lies within :data:`TOLERANCE` of it; ``why`` says in numbers
where the gain comes from (area, Fmax) and, where it does not agree, what differs.

Energy efficiency (``energy=True``) is measured on the same generic netlists by
:func:`lowbit.reports.power.measure`: int8 operands of the ``gaussian`` stream (the very same
operand codes for both designs of a pair: same tile, K, lanes and seed, checked by the
stream's digest), every net's transitions priced with the NanGate FreePDK45 cell data, each
design at its own Fmax (leakage charged over its own cycle time). Energy efficiency is ``2 /
(pJ per MAC)`` in ops/J (one MAC is two operations), its ratio bit-weight over baseline stands
beside the paper's, with its own ``energy_agrees`` and ``energy_why`` (which of datapath,
registers, clock and leakage per MAC moved).

Technology differs (generic gates and a 45 nm delay model, not SMIC 28 nm standard cells),
so only ratios are compared, never absolute numbers.
"""

from dataclasses import dataclass

from lowbit.hdl import designs
from lowbit.reports import power
from lowbit.reports.catalogue import design_of
from lowbit.reports.switching_energy import PARTS
from lowbit.reports.synthesis import synth

PAPER = ("Exploring the Performance Improvement of Tensor Processing Engines through "
         "Transformation in the Bit-weight Dimension of MACs (HPCA 2025, arXiv 2503.06342), "
         "SMIC 28 nm")
#: The baseline processing element of every shape; its bit-weight twin is the rewrite's.
BASELINE_PE = "intmac_int8xint8_int32"
#: Relative distance from the published ratio within which a measured ratio agrees.
TOLERANCE = 0.10
#: FPGA target of the LUT columns (multipliers in LUTs: ``dsp=False``).
LUT_TARGET = "ecp5"
#: Operand stream of the energy columns (:data:`lowbit.reports.operand_streams.STREAMS`).
ENERGY_STREAM = "gaussian"


@dataclass(frozen=True)
class Shape:
    """One engine shape: its name, its design name template (``{}``: the PE) and the paper's
    bit-weight over baseline ratios."""

    name: str
    template: str
    paper_area_efficiency: float
    paper_energy_efficiency: float

    def designs(self, pe: str = BASELINE_PE) -> tuple:
        """``(baseline, bit-weight)`` catalogue specs of this shape with the PE ``pe``."""
        base = designs.get(self.template.format(pe))
        return base, designs.bitweight_twin(base)


#: The paper's four shapes, in its order, at 16 MACs per cycle (the standard catalogue's).
SHAPES = (
    Shape("systolic", "systolic4x4_os_{}", 1.27, 1.04),
    Shape("3d_cube", "cube2x2x4_{}", 1.28, 1.56),
    Shape("adder_tree", "addertree16_{}", 1.56, 1.49),
    Shape("2d_matrix", "matrix4x4_{}", 1.44, 1.20),
)


def area_efficiency(peak_macs_per_cycle: float, fmax_mhz: float, area_ge: float) -> float:
    """Operations per second per gate equivalent: ``2 peak fmax / area`` (ops/s/GE; one MAC
    is two operations)."""
    return 2 * peak_macs_per_cycle * fmax_mhz * 1e6 / area_ge


def energy_efficiency(pj_per_mac: float) -> float:
    """Operations per joule of a design spending ``pj_per_mac`` pJ per MAC (two operations)."""
    return 2 / (pj_per_mac * 1e-12)


def tpe_comparison(shapes=SHAPES, *, luts=True, energy=True, stream=ENERGY_STREAM,
                   energy_options=None, **options) -> list:
    """One row per shape: baseline vs bit-weight area, LUTs, delay, Fmax and area efficiency
    and (``energy=True``) pJ per MAC and energy efficiency on ``stream``, beside the paper's
    ratios (module docstring). ``luts=False`` skips the FPGA runs; ``options`` go to
    :func:`~lowbit.reports.synthesis.synth` (``console``, ``jobs``, ``cache_dir``);
    ``energy_options`` to :func:`~lowbit.reports.power.measure` (``lanes``, ``k``, ``seed``;
    default: its defaults)."""
    pairs = [(shape, *shape.designs()) for shape in shapes]
    built = {spec.name: design_of(spec) for _, *pair in pairs for spec in pair}
    generic = {r["design"]: r for r in synth(list(built.values()), ["generic"], **options)}
    fpga = {}
    if luts:
        fpga = {r["design"]: r for r in synth(list(built.values()), [LUT_TARGET], dsp=False,
                                              **options)}
    measured = {}
    if energy:
        settings = {"cache_dir": options.get("cache_dir"), **(energy_options or {})}
        measured = {spec.name: power.measure(spec, stream, **settings)
                    for _, *pair in pairs for spec in pair}
    return [compare_pair(shape, base, bw, generic, fpga, measured)
            for shape, base, bw in pairs]


def compare_pair(shape: Shape, base, bw, generic: dict, fpga: dict, energy=None) -> dict:
    """The row of one shape from its synthesis rows (``generic`` and ``fpga``, by design
    name; ``fpga`` may be empty) and its energy measurements (``energy``: design name ->
    :class:`~lowbit.reports.power.EnergyReport`; empty or None: no energy columns)."""
    peak = base.peak_macs_per_cycle
    if bw.peak_macs_per_cycle != peak:
        raise designs.DesignError(f"{bw.name} does {bw.peak_macs_per_cycle} MACs per cycle, "
                         f"{base.name} {peak}: not an iso-throughput pair")
    g0, g1 = generic[base.name], generic[bw.name]
    eff0 = area_efficiency(peak, g0["fmax_mhz"], g0["area_ge"])
    eff1 = area_efficiency(peak, g1["fmax_mhz"], g1["area_ge"])
    ratio = eff1 / eff0
    row = {"shape": shape.name, "baseline": base.name, "bitweight": bw.name,
           "peak_macs_per_cycle": peak,
           "area_ge_baseline": g0["area_ge"], "area_ge_bitweight": g1["area_ge"],
           "ffs_baseline": g0["ffs"], "ffs_bitweight": g1["ffs"],
           "delay_ps_baseline": g0["delay_ps"], "delay_ps_bitweight": g1["delay_ps"],
           "fmax_mhz_baseline": g0["fmax_mhz"], "fmax_mhz_bitweight": g1["fmax_mhz"],
           "area_eff_baseline": eff0, "area_eff_bitweight": eff1,
           "area_eff_ratio": round(ratio, 3),
           "paper_area_eff_ratio": shape.paper_area_efficiency,
           "paper_energy_eff_ratio": shape.paper_energy_efficiency}
    if fpga:
        row |= {f"{LUT_TARGET}_luts_baseline": fpga[base.name]["luts"],
                f"{LUT_TARGET}_luts_bitweight": fpga[bw.name]["luts"],
                f"{LUT_TARGET}_lut_ratio": round(fpga[base.name]["luts"] /
                                                 fpga[bw.name]["luts"], 3)}
    row["agrees"], row["why"] = verdict(ratio, shape.paper_area_efficiency,
                                        g0["area_ge"] / g1["area_ge"],
                                        g1["fmax_mhz"] / g0["fmax_mhz"])
    if energy:
        row |= energy_columns(shape, energy[base.name], energy[bw.name],
                              (g0["ffs"], g1["ffs"]))
    return row


def energy_columns(shape: Shape, base, bw, ffs=None) -> dict:
    """The energy columns of one shape's row from the two designs'
    :class:`~lowbit.reports.power.EnergyReport` (the same operand stream, else an error);
    ``ffs``: their flip-flop counts (baseline, bit-weight), named in ``energy_why``."""
    if base.stream != bw.stream or base.settings != bw.settings:
        raise designs.DesignError(f"{base.design} and {bw.design} were measured on different "
                                  f"operands ({base.stream} {base.settings} vs {bw.stream} "
                                  f"{bw.settings}): not a pair")
    e0, e1 = base.per_mac_pj, bw.per_mac_pj
    ratio = energy_efficiency(e1) / energy_efficiency(e0)
    cols = {"energy_stream": base.stream,
            "stream_sha256_12": base.settings["stream_sha256_12"],
            "pj_per_mac_baseline": e0, "pj_per_mac_bitweight": e1}
    for part in PARTS:
        cols[f"{part}_pj_per_mac_baseline"] = base.parts_pj[part] / base.macs_per_operation
        cols[f"{part}_pj_per_mac_bitweight"] = bw.parts_pj[part] / bw.macs_per_operation
    cols |= {"energy_eff_baseline": energy_efficiency(e0),
             "energy_eff_bitweight": energy_efficiency(e1),
             "energy_eff_ratio": round(ratio, 3)}
    parts = {p: (cols[f"{p}_pj_per_mac_baseline"], cols[f"{p}_pj_per_mac_bitweight"])
             for p in PARTS}
    cols["energy_agrees"], cols["energy_why"] = energy_verdict(
        ratio, shape.paper_energy_efficiency, parts, ffs)
    return cols


def energy_verdict(ratio: float, paper: float, parts: dict, ffs=None) -> tuple:
    """``(agrees, why)`` of an energy-efficiency ratio, as :func:`verdict` judges, with the
    parts per MAC (``parts``: part -> (baseline pJ, bit-weight pJ)) saying where it comes
    from: each part's pJ per MAC, baseline -> bit-weight, largest saving first, and (with
    ``ffs``, the two flip-flop counts) the register cost behind the clock and register parts."""
    same_way = (ratio > 1) == (paper > 1)
    close = abs(ratio / paper - 1) <= TOLERANCE
    order = sorted(parts, key=lambda p: parts[p][1] - parts[p][0])
    source = ", ".join(f"{p} {parts[p][0]:.3f} -> {parts[p][1]:.3f}" for p in order)
    source = f"pJ/MAC {source}"
    if ffs is not None:
        source += f"; flip-flops {ffs[0]} -> {ffs[1]}"
        clocked = sum(parts[p][1] - parts[p][0] for p in ("registers", "clock"))
        datapath = parts["datapath"][1] - parts["datapath"][0]
        if clocked > 0 > datapath:
            source += (": compressing the partial products in carry-save form and resolving "
                       "them once per output saves datapath energy, but the carry-save state "
                       "(sum and carry rows per output) adds clocked flip-flops")
        elif clocked < 0 and datapath < 0:
            source += ": the rewrite saves both datapath and clocked-register energy"
    if same_way and close:
        return True, f"agrees: {ratio:.2f}x against {paper:.2f}x ({source})"
    if not same_way:
        return False, (f"does not agree: the rewrite {'saves' if ratio > 1 else 'costs'} "
                       f"energy ({ratio:.2f}x against {paper:.2f}x; {source})")
    return False, (f"does not agree in size: {ratio:.2f}x against {paper:.2f}x, the same way "
                   f"but {abs(ratio / paper - 1):.0%} {'below' if ratio < paper else 'above'} "
                   f"({source})")


def verdict(ratio: float, paper: float, area_gain: float, fmax_gain: float) -> tuple:
    """``(agrees, why)``: whether ``ratio`` points the paper's way and lies within
    :data:`TOLERANCE` of ``paper``, and a sentence saying where lowbit's gain comes from
    (``area_gain``: baseline area over bit-weight area; ``fmax_gain``: bit-weight Fmax over
    baseline Fmax; their product is ``ratio``)."""
    same_way = (ratio > 1) == (paper > 1)
    close = abs(ratio / paper - 1) <= TOLERANCE
    source = f"area x{area_gain:.2f}, Fmax x{fmax_gain:.2f}"
    if same_way and close:
        return True, f"agrees: {ratio:.2f}x against {paper:.2f}x ({source})"
    if not same_way:
        return False, (f"does not agree: the rewrite {'gains' if ratio > 1 else 'loses'} "
                       f"({ratio:.2f}x against {paper:.2f}x; {source})")
    part = _weaker_part(area_gain, fmax_gain)
    return False, (f"does not agree in size: {ratio:.2f}x against {paper:.2f}x, the same way "
                   f"but {abs(ratio / paper - 1):.0%} {'below' if ratio < paper else 'above'} "
                   f"({source}; {part})")


def _weaker_part(area_gain: float, fmax_gain: float) -> str:
    """Which factor holds the ratio back (or carries it)."""
    if fmax_gain < 1 <= area_gain:
        return ("the carry-save datapath is smaller but its one compressor tree and "
                "carry-propagate adder per output make a longer path than the baseline's "
                "pipelined multiplier and adder tree")
    if area_gain < 1 <= fmax_gain:
        return ("the carry-save state (two register rows per output) costs more area than "
                "the multipliers it removes")
    if area_gain < 1 and fmax_gain < 1:
        return "both area and Fmax move against the rewrite"
    return "both area and Fmax move its way"


def markdown(rows) -> str:
    """The comparison as a Markdown table, with the method in one line above it."""
    lines = [f"Baseline (IntMac PEs) vs bit-weight (CarrySaveDot PEs), int8 x int8 -> int32, "
             f"equal peak MACs/cycle; generic gates (NAND2 GE, NanGate45 delay model) and "
             f"{LUT_TARGET} LUTs without DSPs. Paper: {PAPER}.", "",
             "| shape | MACs/cycle | GE base / bw | Fmax MHz base / bw | LUTs base / bw | "
             "area eff. ratio | paper | agrees |",
             "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        luts = (f"{r[f'{LUT_TARGET}_luts_baseline']} / {r[f'{LUT_TARGET}_luts_bitweight']}"
                if f"{LUT_TARGET}_luts_baseline" in r else "n/a")
        lines.append(f"| {r['shape']} | {r['peak_macs_per_cycle']} | "
                     f"{r['area_ge_baseline']:.0f} / {r['area_ge_bitweight']:.0f} | "
                     f"{r['fmax_mhz_baseline']:.0f} / {r['fmax_mhz_bitweight']:.0f} | {luts} | "
                     f"{r['area_eff_ratio']:.2f} | {r['paper_area_eff_ratio']:.2f} | "
                     f"{'yes' if r['agrees'] else 'no'} |")
    lines.append("")
    lines += [f"- {r['shape']}: {r['why']}" for r in rows]
    measured = [r for r in rows if "energy_eff_ratio" in r]
    if measured:
        lines += ["", f"Energy per MAC on the {measured[0]['energy_stream']} stream (int8 "
                  f"operands, the same codes for both designs of a pair), each design at its "
                  f"own Fmax; NanGate FreePDK45 cell data (lowbit.reports.power).", "",
                  "| shape | pJ/MAC base / bw | datapath | registers | clock | leakage | "
                  "energy eff. ratio | paper | agrees |",
                  "|---|---|---|---|---|---|---|---|---|"]
        for r in measured:
            parts = " | ".join(f"{r[f'{p}_pj_per_mac_baseline']:.3f} / "
                               f"{r[f'{p}_pj_per_mac_bitweight']:.3f}" for p in PARTS)
            lines.append(f"| {r['shape']} | {r['pj_per_mac_baseline']:.3f} / "
                         f"{r['pj_per_mac_bitweight']:.3f} | {parts} | "
                         f"{r['energy_eff_ratio']:.2f} | {r['paper_energy_eff_ratio']:.2f} | "
                         f"{'yes' if r['energy_agrees'] else 'no'} |")
        lines.append("")
        lines += [f"- {r['shape']} energy: {r['energy_why']}" for r in measured]
    rest = [r for r in rows if "energy_eff_ratio" not in r]
    if rest:
        lines.append("- energy efficiency (paper: " + ", ".join(
            f"{r['shape']} {r['paper_energy_eff_ratio']:.2f}x" for r in rest) +
            "): not measured in this run (energy=False)")
    return "\n".join(lines) + "\n"
