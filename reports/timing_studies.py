"""Two timing studies of pipelined units, from the timed generic netlists (NanGate FreePDK45
X1 cell delays, :mod:`lowbit.reports.timing`) and their gate-equivalent areas.

``stages_study``
    An FP8 E4M3 MAC into FP32 at every stage count, with the sequential accumulator (one
    align-add-round loop per cycle) and interleaved into two partial sums (``il2_fp32``: the
    loop spread over a two-cycle ring, a different summation order golden models bit for
    bit): Fmax, area, area x delay, latency, and what limits the clock (the worst path's
    class; ``loop_ps`` is the register-to-register delay, where the accumulator loop lives).
``iso_frequency``
    "INT v.s. FP" (background.md) at iso-frequency: the MXINT8 and MXFP8 dot units (one
    32-element block pair per cycle into FP32), each pipelined with the fewest stages that
    meet one clock (by default the highest clock both reach), and their areas at that clock,
    beside the one-cycle units. States whether lowbit agrees with the paper's direction
    (MXINT8 cheaper), as measured, at each.

Every design is synthesized once (:func:`lowbit.reports.synthesis.synth`, cached on disk with
its timing); stage counts are chosen by :func:`lowbit.hdl.pipeline.stages_for`, the rule of
:func:`lowbit.reports.pipelining.stages_for_clock`.
"""

import dataclasses
import math

from lowbit.errors import LowbitError
from lowbit.hdl.pipeline import stages_for
from lowbit.reports import pipelining, timing
from lowbit.reports.catalogue import design_of
from lowbit.reports.synthesis import synth, work_folder

#: The stages study's designs: sequential FP32 accumulation and two interleaved partials.
STAGES_DESIGNS = ("floatmac_fp8_e4m3xfp8_e4m3_fp32", "floatmac_fp8_e4m3xfp8_e4m3_il2_fp32")
#: "INT v.s. FP": the published-cheaper design first.
ISO_PAIR = ("mxdot_mxint8_fp32", "mxdot_mxfp8_e4m3_fp32")
ISO_PUBLISHED = "MXINT8 cheaper than MXFP8"

STAGES_COLUMNS = ("design", "accumulation", "stages", "latency", "delay_ps", "fmax_mhz",
                  "loop_ps", "limited_by", "area_ge", "ffs", "area_x_delay_ge_ns")
ISO_COLUMNS = ("clock", "clock_mhz", "design", "stages", "latency", "delay_ps", "fmax_mhz",
               "area_ge", "ffs")


def _timed_rows(specs, cache_dir=None, console=None, jobs=None) -> dict:
    """Design name -> its generic synthesis row with ``loop_ps`` and ``limited_by`` added
    (every spec synthesized and timed once, in parallel, cached)."""
    built = {s.name: design_of(s) for s in specs}
    rows = synth(list(built.values()), ["generic"], cache_dir=cache_dir, console=console,
                 jobs=jobs)
    out = {}
    for row in rows:
        report = timing.time_folder(work_folder(built[row["design"]], cache_dir=cache_dir))
        out[row["design"]] = row | {"loop_ps": None if report.reg_to_reg_ps is None
                                    else round(report.reg_to_reg_ps, 1),
                                    "limited_by": report.path.kind if report.path else None}
    return out


def _accumulation(spec) -> str:
    order = getattr(spec.accumulator, "order", None)
    return str(order) if order is not None else spec.accumulator.kind


def stages_study(names=STAGES_DESIGNS, stages=None, *, cache_dir=None, console=None,
                 jobs=None) -> list:
    """Rows (:data:`STAGES_COLUMNS`) of each design in ``names`` at ``stages`` (default:
    every stage count its kind takes). ``area_x_delay_ge_ns``: gate equivalents x critical
    path in ns (lower is better)."""
    specs = [pipelining.with_stages(n, s) for n in names
             for s in (stages or pipelining.stage_range(n))]
    rows = _timed_rows(specs, cache_dir, console, jobs)
    out = []
    for spec in specs:
        r = rows[spec.name]
        out.append({"design": spec.name, "accumulation": _accumulation(spec),
                    "stages": spec.stages, "latency": spec.latency, "delay_ps": r["delay_ps"],
                    "fmax_mhz": r["fmax_mhz"], "loop_ps": r["loop_ps"],
                    "limited_by": r["limited_by"], "area_ge": r["area_ge"], "ffs": r["ffs"],
                    "area_x_delay_ge_ns": round(r["area_ge"] * r["delay_ps"] / 1000, 1)})
    return out


def iso_frequency(pair=ISO_PAIR, clock_mhz=None, *, published=ISO_PUBLISHED, cache_dir=None,
                  console=None, jobs=None) -> dict:
    """The two designs of ``pair`` (published-cheaper first) one-cycle and pipelined to one
    clock: ``clock_mhz``, or by default the highest clock both reach (the lower of their best
    Fmax over every stage count).

    Returns ``clock_mhz``, ``rows`` (:data:`ISO_COLUMNS`; ``clock`` is ``one-cycle`` or
    ``iso``), ``comparisons`` (one per clock: both areas, ``ratio`` cheaper/other,
    ``agrees``), ``best`` (each design's fastest stage count and its Fmax), ``published``
    and ``verdict`` (one sentence).
    """
    bases = [pipelining.with_stages(n, 1) for n in pair]
    each = {b.name: [dataclasses.replace(b, stages=s) for s in pipelining.stage_range(b)]
            for b in bases}
    rows = _timed_rows([s for group in each.values() for s in group], cache_dir, console, jobs)
    if clock_mhz is None:  # the slower unit's shortest critical path, down to 0.1 MHz
        slowest = max(min(rows[s.name]["delay_ps"] for s in group) for group in each.values())
        clock_mhz = math.floor(1e7 / slowest) / 10
    chosen = []
    for b in bases:
        try:
            s = stages_for(lambda k, b=b: dataclasses.replace(b, stages=k), clock_mhz,
                           lambda d: rows[d.name]["delay_ps"])
        except LowbitError as err:
            raise pipelining.PipeliningError(f"{b.name}: {err}") from None
        chosen.append(dataclasses.replace(b, stages=s))
    table, comparisons = [], []
    for label, group in (("one-cycle", bases), ("iso", chosen)):
        for spec in group:
            r = rows[spec.name]
            table.append({"clock": label, "clock_mhz": None if label == "one-cycle" else
                          clock_mhz, "design": spec.name, "stages": spec.stages,
                          "latency": spec.latency, "delay_ps": r["delay_ps"],
                          "fmax_mhz": r["fmax_mhz"], "area_ge": r["area_ge"], "ffs": r["ffs"]})
        vc, vo = (rows[s.name]["area_ge"] for s in group)
        comparisons.append({"clock": label, "clock_mhz": None if label == "one-cycle" else
                            clock_mhz, "expected_cheaper": group[0].name, "value_cheaper": vc,
                            "other": group[1].name, "value_other": vo,
                            "ratio": round(vc / vo, 3), "agrees": vc < vo})
    best = []
    for b in bases:  # the fastest stage count of each (the fewest stages among equals)
        top = min(each[b.name], key=lambda d: (rows[d.name]["delay_ps"], d.stages))
        best.append({"design": top.name, "stages": top.stages,
                     "fmax_mhz": rows[top.name]["fmax_mhz"],
                     "delay_ps": rows[top.name]["delay_ps"]})
    one, iso = comparisons
    fast, slow = sorted(best, key=lambda x: x["delay_ps"])
    verdict = (f"one-cycle: {_phrase(one)}; pipelined to {clock_mhz:g} MHz "
               f"({chosen[0].stages} and {chosen[1].stages} stages): {_phrase(iso)}; "
               f"speed: {fast['design']} reaches {fast['fmax_mhz']:g} MHz, "
               f"{slow['design']} at most {slow['fmax_mhz']:g} MHz at any stage count; "
               f"published: {published}")
    return {"clock_mhz": clock_mhz, "rows": table, "comparisons": comparisons, "best": best,
            "published": published, "verdict": verdict}


def _phrase(c) -> str:
    pct = 100 * (c["ratio"] - 1)
    word = "smaller" if pct < 0 else "larger"
    return (f"{c['expected_cheaper']} is {abs(pct):.1f}% {word} than "
            f"{c['other']} ({'agrees' if c['agrees'] else 'disagrees'})")
