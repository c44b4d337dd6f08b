"""The evaluate pipeline: a design point in, a flat dict of metrics out, stage by stage.

Stages (:data:`STAGES`), each the existing layer that knows the answer, each declaring the
metrics it produces and the axes (:mod:`lowbit.explore.axes`) it reads:

* ``gemm``: SQNR (dB) and max absolute error of a quantized GEMM on outlier-channel tensors,
  from golden (:func:`lowbit.explore.quality.gemm_quality`; axes ``k``, ``tokens``, ``n``;
  engine ``mixpe``: weights group-quantized in groups of ``group_size``, golden's group-wise
  GEMM as the MixPE array computes it).
* ``mlp``: accuracy of the digits MLP with quantized weights and activations, from golden.
* ``area``: the point's MAC design synthesized by Yosys (:func:`lowbit.reports.synthesis.synth`,
  cached under ``build/synth``): ``mac_area_ge`` (generic gate equivalents),
  ``area_per_mac_ge`` (per multiply-accumulate per cycle) and ``array_area_ge``
  (``area_per_mac_ge`` x the engine's peak MACs per cycle as :mod:`lowbit.sim` counts them:
  a systolic array of MX PEs does a block per PE per cycle; the MAC array only, no buffers),
  and the design's timing from the same netlist (:mod:`lowbit.reports.timing`, NanGate
  FreePDK45 cells): ``delay_ps`` (critical path), ``fmax_mhz`` and ``latency`` (cycles from
  an operation to its result; axis ``stages`` pipelines the design).
* ``energy``: the point's MAC design (as ``area``) measured by switching activity on its own
  netlist (:mod:`lowbit.reports.power`; the committed table when it holds the design, else a
  cached measurement) for the ``energy_stream`` axis (default ``gaussian``): ``mac_pj`` per
  MAC and its parts ``mac_datapath_pj``, ``mac_registers_pj``, ``mac_clock_pj``,
  ``mac_leakage_pj`` (leakage at ``energy_clock_mhz``, default the design's Fmax), and
  ``mac_fmax_mhz``.
* ``sim``: the SimPy cycle and energy model (:func:`lowbit.sim.run`) on the point's
  ``workload`` (default ``llama2-7b-decode``, axes ``batch``, ``context`` and ``attention``:
  False keeps the weight GEMMs only, as a LUT engine runs), its compute priced by the same
  measured energy (``energy_stream``): ``cycles``, ``energy_pj``, ``energy_per_token_uj``,
  ``tops``, ``tops_per_w``, ``utilization`` and ``sim_clock_mhz`` (the clock it ran at: axis
  ``clock_mhz``, or the MAC design's Fmax for ``"fmax"``, so TOPS come from the RTL's
  timing). A design whose energy cannot be measured (no stimulus protocol for it) has its
  energy metrics n/a, with the cycle model's note as the reason.
* ``rtl`` (optional): the point's MAC design on Verilator, golden's ``random`` vector set
  (2,048 operations) through the unmutated netlist of the mutation driver: ``rtl_check`` is
  ``pass`` or the point fails with the first mismatch; n/a for designs other than the scalar
  MACs (:data:`SCALAR_MACS`; block dot units and LUT cores have their own regressions).

A user metric is a function ``f(point, metrics) -> dict`` run after the stages, seeing the
metrics so far (n/a ones as ``None``). A metric that cannot be computed is
:func:`~lowbit.explore.metric.na` with a reason (stored as ``None``, the reason in the row's
``notes``); a NaN or infinite value, or any exception, fails the point (the runner records the
error).
"""

from dataclasses import dataclass
from typing import Callable

from lowbit.errors import LowbitError, did_you_mean
from lowbit.explore import hardware, quality
from lowbit.explore.metric import NOTES, collect, declared_names, function_name, na

SCALAR_MACS = ("IntMac", "FloatMac", "PositMac")  # what the rtl stage checks
_FORMATS = ("a_fmt", "b_fmt", "accumulator")


class EvaluateError(LowbitError, ValueError):
    """An unknown or repeated stage; a user metric returning the name of an axis or of a
    metric the point already has."""


@dataclass(frozen=True)
class Stage:
    """One stage: ``run(point) -> {metric: value or na(reason)}`` returning exactly
    ``metrics``, reading only ``axes``."""

    name: str
    run: Callable
    metrics: tuple
    axes: tuple


def _weight_group(point: dict):
    """Rows of K per weight quantization group of a ``mixpe`` point, else None."""
    if hardware.setting(point, "engine") == "mixpe":
        return hardware.setting(point, "group_size")
    return None


def gemm_stage(point: dict) -> dict:
    a, b, acc = hardware.formats_of(point)
    return quality.gemm_quality(a, b, acc, k=hardware.setting(point, "k"),
                                tokens=hardware.setting(point, "tokens"),
                                n=hardware.setting(point, "n"),
                                seed=hardware.setting(point, "seed"),
                                lut_group=hardware.setting(point, "lut_group"),
                                group=_weight_group(point))


def mlp_stage(point: dict) -> dict:
    a, b, acc = hardware.formats_of(point)
    return quality.mlp_accuracy(a, b, acc, lut_group=hardware.setting(point, "lut_group"),
                                group=_weight_group(point))


def area_stage(point: dict) -> dict:
    from lowbit.reports.catalogue import design_of
    from lowbit.reports.synthesis import synth
    mac = hardware.mac_design(point)
    engine_macs = hardware.engine_design(point).peak_macs_per_cycle  # before Yosys
    row = synth(design_of(mac), ("generic",), jobs=1)[0]
    per_mac = row["area_ge"] / mac.peak_macs_per_cycle
    untimed = na(f"synthesis of {mac.name} gave no timing")
    no_clock = untimed if row.get("delay_ps") is None else na(f"{mac.name} has no registers: "
                                                             f"no clock")
    return {"mac_design": mac.name, "mac_area_ge": row["area_ge"],
            "area_per_mac_ge": round(per_mac, 3),
            "array_area_ge": round(per_mac * engine_macs, 1),
            "delay_ps": row["delay_ps"] if row.get("delay_ps") is not None else untimed,
            "fmax_mhz": row["fmax_mhz"] if row.get("fmax_mhz") is not None else no_clock,
            "latency": mac.latency}


def energy_stage(point: dict) -> dict:
    from lowbit.reports.power import mac_energy_source
    mac = hardware.mac_design(point)
    stream = hardware.setting(point, "energy_stream")
    measured = mac_energy_source()(mac.name, stream)
    names = STAGES["energy"].metrics
    if measured is None:
        return dict.fromkeys(names, na(f"{mac.name}: activity energy has no stimulus "
                                       f"protocol for its unit"))
    clock = hardware.setting(point, "energy_clock_mhz")
    no_fmax = na(f"{mac.name} has no registers, so no Fmax: give energy_clock_mhz")
    if clock == "fmax":
        clock = measured.fmax_mhz
    leak = measured.leakage_pj(clock) if clock else no_fmax
    return {"mac_pj": measured.dynamic_pj + leak if clock else no_fmax,
            "mac_datapath_pj": measured.datapath_pj, "mac_registers_pj": measured.registers_pj,
            "mac_clock_pj": measured.clock_pj, "mac_leakage_pj": leak,
            "mac_fmax_mhz": measured.fmax_mhz if measured.fmax_mhz is not None else no_fmax}


def sim_stage(point: dict) -> dict:
    from lowbit.reports.power import mac_energy_source
    from lowbit.sim import run
    work = {k: hardware.setting(point, k) for k in ("workload", "batch", "context",
                                                     "attention")}
    arch = hardware.arch(point)  # a clock_mhz of "fmax" is timed here
    try:
        res = run(arch, work["workload"], batch=work["batch"], context=work["context"],
                  attention=work["attention"], mac_energy=mac_energy_source(),
                  energy_stream=hardware.setting(point, "energy_stream"))
    except LowbitError as err:
        a, b, acc = hardware.formats_of(point)
        raise hardware.HardwareMapError(
            f"sim of a_fmt {a} x b_fmt {b} into accumulator {acc} on {work['workload']}: "
            f"{hardware.in_point_terms(str(err))}") from None
    t = res.total
    out = {"cycles": float(t["cycles"]), "energy_pj": float(t["energy_pj"]),
           "energy_per_token_uj": float(t["energy_pj"]) / work["batch"] / 1e6,
           "tops": float(t["tops"]), "tops_per_w": float(t["tops_per_w"]),
           "utilization": float(t["utilization"]), "bound": t["bound"],
           "sim_clock_mhz": float(arch.clock_mhz)}
    if out["energy_pj"] != out["energy_pj"]:  # NaN: the energy data cannot price the MAC
        missing = na("; ".join(res.notes) or "the cycle model gave no energy")
        out |= {k: missing for k in ("energy_pj", "energy_per_token_uj", "tops_per_w")}
    return out


def rtl_stage(point: dict) -> dict:
    from lowbit.verify.faults.mutation import replay_many
    from lowbit.verify.vectors import mac_formats, mac_vectors
    mac = hardware.mac_design(point)
    if mac.unit not in SCALAR_MACS:
        why = na(f"{mac.unit} is not a scalar MAC; the rtl stage checks "
                 f"{', '.join(SCALAR_MACS)} (its own regression covers {mac.name})")
        return {"rtl_check": why, "rtl_operations": why}
    unit = mac.build()
    vectors = mac_vectors("random", *mac_formats(unit), count=2048)
    replay_many(unit, mac.name, [0], vectors, mutants=1, seed=1,
                check_baseline=True)  # raises SimulationFailed on the first mismatch
    return {"rtl_check": "pass", "rtl_operations": len(vectors)}


_ENGINE = ("engine", "rows", "cols", "lanes", "lut_group", "stages", "cube_k", "mac_variant",
           "group_size", "k_step")
STAGES = {s.name: s for s in (
    Stage("gemm", gemm_stage, ("sqnr_db", "max_abs_error"),
          _FORMATS + ("k", "tokens", "n", "seed", "lut_group", "engine", "group_size")),
    Stage("mlp", mlp_stage, ("mlp_accuracy", "mlp_accuracy_fp64"),
          _FORMATS + ("lut_group", "engine", "group_size")),
    Stage("area", area_stage, ("mac_design", "mac_area_ge", "area_per_mac_ge",
                               "array_area_ge", "delay_ps", "fmax_mhz", "latency"),
          _FORMATS + _ENGINE),
    Stage("energy", energy_stage, ("mac_pj", "mac_datapath_pj", "mac_registers_pj",
                                   "mac_clock_pj", "mac_leakage_pj", "mac_fmax_mhz"),
          _FORMATS + _ENGINE + ("energy_stream", "energy_clock_mhz")),
    Stage("sim", sim_stage, ("cycles", "energy_pj", "energy_per_token_uj", "tops",
                             "tops_per_w", "utilization", "bound", "sim_clock_mhz"),
          _FORMATS + _ENGINE + ("dataflow", "clock_mhz", "dram_gbps", "workload", "batch",
                                "context", "attention", "energy_stream")),
    Stage("rtl", rtl_stage, ("rtl_check", "rtl_operations"), _FORMATS + ("stages",)),
)}
"""Every stage by name, in pipeline order."""
DEFAULT_STAGES = ("gemm", "mlp", "area", "sim")  # rtl is optional: a Verilator build per MAC


def check_stages(stages) -> tuple:
    """The stage names, checked (one error naming the bad one and the allowed ones)."""
    stages = (stages,) if isinstance(stages, str) else tuple(stages)
    for s in stages:
        if s not in STAGES:
            raise EvaluateError(f"stage must be one of {', '.join(STAGES)}, not {s!r}"
                                f"{did_you_mean(s, STAGES)}")
    if len(set(stages)) != len(stages):
        raise EvaluateError(f"stages repeat a stage: {', '.join(stages)}")
    return stages


def stage_metrics(stages) -> dict:
    """Metric name -> the stage producing it, for ``stages``."""
    return {m: s for s in check_stages(stages) for m in STAGES[s].metrics}


def stage_axes(stages) -> dict:
    """Axis name -> the names of the ``stages`` reading it."""
    out = {}
    for s in check_stages(stages):
        for a in STAGES[s].axes:
            out.setdefault(a, []).append(s)
    return out


def evaluate(point: dict, stages=DEFAULT_STAGES, metrics=()) -> dict:
    """Run ``stages`` (names from :data:`STAGES`, in the order given), then the user
    ``metrics``, on ``point``; return every metric in one flat dict (floats, ints, strings,
    ``None`` for n/a) with ``notes`` (the n/a reasons) when any metric is n/a."""
    out, notes = {}, []
    for s in check_stages(stages):
        stage = STAGES[s]
        collect(out, notes, stage.run(point), f"stage {s}", stage.metrics)
    for fn in metrics:
        where = f"metric {function_name(fn)}"
        values = fn(point, dict(out))
        clash = [n for n in (values if isinstance(values, dict) else ()) if n in point or n in out]
        if clash:
            raise EvaluateError(f"{where} returns {clash[0]!r}, which is already an axis or a "
                                f"metric of the point; give it another name")
        collect(out, notes, values, where, declared_names(fn))
    if notes:
        out[NOTES] = "; ".join(notes)
    return out

