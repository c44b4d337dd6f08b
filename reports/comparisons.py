"""Two published area comparisons, redone with lowbit's own generators and Yosys.

``int_vs_fp``
    "INT v.s. FP" (background.md): MXINT8 beats MXFP8 in hardware cost. lowbit builds the
    MxDotUnit of each (one 32-element block pair per cycle, FP32 accumulator) and compares
    generic gate equivalents and FPGA LUTs.
``minifloat_fpga``
    "Shedding the Bits: minifloats on FPGAs" (Aggarwal et al., FPL 2024, arXiv 2311.12359):
    integer quantization often stays Pareto-optimal "given its relatively smaller hardware
    resource footprint". lowbit builds N-bit integer MACs (32-bit accumulator) and N-bit
    minifloat MACs (FP32 accumulator, rounded every step, and exact Kulisch accumulation) for
    N = 8, 6, 4 and compares FPGA LUTs with multipliers kept out of DSP blocks (``dsp=False``),
    so LUTs measure the whole MAC.

``accumulator_cost``
    What exact (Kulisch) accumulation costs over an FP32 accumulator that rounds every step,
    per minifloat format: the FloatMac with each accumulator, and the difference.

Each of the first two returns rows: ``comparison``, ``target``, ``metric``, the two designs
and their values, ``ratio`` (the published-cheaper design over the other), ``published`` (the
direction claimed) and ``agrees`` (whether lowbit's numbers point the same way).
"""

from lowbit.reports.catalogue import build_design
from lowbit.reports.synthesis import synth
from lowbit.reports.targets import get as get_target

INT_VS_FP = ("mxdot_mxint8_fp32", "mxdot_mxfp8_e4m3_fp32")
MINIFLOAT_PAIRS = tuple(
    (f"intmac_int{n}xint{n}_int32", f"floatmac_{fp}x{fp}_{acc}")
    for n, fp in ((8, "fp8_e4m3"), (6, "fp6_e3m2"), (4, "fp4_e2m1")) for acc in ("fp32", "exact_fp32"))


def _compare(name, pairs, targets, published, dsp, options):
    built = {n: build_design(n) for pair in pairs for n in pair}  # each design built once
    rows = synth(list(built.values()), targets, dsp=dsp, **options)
    by = {(r["design"], r["target"]): r for r in rows}
    out = []
    for c, d in pairs:
        for target in targets:
            metric = get_target(target).area_metric
            vc, vd = by[(c, target)][metric], by[(d, target)][metric]
            out.append({"comparison": name, "target": target, "metric": metric,
                        "expected_cheaper": c, "value_cheaper": vc, "other": d,
                        "value_other": vd, "ratio": round(vc / vd, 3) if vd else None,
                        "published": published, "agrees": vc < vd})
    return out


def int_vs_fp(targets=("generic", "ecp5", "gowin"), **options) -> list:
    """MXINT8 vs MXFP8 dot-unit area (published: MXINT8 is cheaper). ``options`` go to
    :func:`~lowbit.reports.synthesis.synth` (``console``, ``jobs``, ``cache_dir``)."""
    return _compare("int_vs_fp", [INT_VS_FP], targets, "MXINT8 cheaper than MXFP8", True,
                    options)


def minifloat_fpga(targets=("ecp5", "gowin"), **options) -> list:
    """N-bit integer vs minifloat MAC LUTs on FPGAs, multipliers in LUTs (published: integer
    is cheaper)."""
    return _compare("minifloat_fpga", MINIFLOAT_PAIRS, targets,
                    "integer MAC smaller than minifloat MAC", False, options)


ACCUMULATOR_FORMATS = ("fp8_e4m3", "fp8_e5m2", "fp6_e3m2", "fp4_e2m1")


def accumulator_cost(formats=ACCUMULATOR_FORMATS, target="generic", **options) -> list:
    """FloatMac area with an FP32 accumulator vs exact accumulation, per operand format.

    Rows: ``format``, ``float_acc``, ``exact_acc`` (area in the target's metric), ``delta``
    (exact minus float), ``delta_pct``, ``kulisch_ffs`` and ``float_ffs`` (register bits).
    """
    pairs = {fmt: [build_design(f"floatmac_{fmt}x{fmt}_{acc}") for acc in ("fp32", "exact_fp32")]
             for fmt in formats}
    rows = synth([d for pair in pairs.values() for d in pair], [target], **options)
    by = {r["design"]: r for r in rows}
    metric = get_target(target).area_metric
    out = []
    for fmt, (flt, exact) in pairs.items():
        f, e = by[flt.name], by[exact.name]
        out.append({"format": fmt, "target": target, "metric": metric,
                    "float_acc": f[metric], "exact_acc": e[metric],
                    "delta": round(e[metric] - f[metric], 3),
                    "delta_pct": round(100 * (e[metric] - f[metric]) / f[metric], 1),
                    "float_ffs": f["ffs"], "kulisch_ffs": e["ffs"]})
    return out
