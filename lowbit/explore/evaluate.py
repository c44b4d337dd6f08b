"""The evaluate pipeline: a design point in, a flat dict of metrics out, stage by stage.

Stages (:data:`STAGES`), each the existing layer that knows the answer:

* ``gemm``: SQNR (dB) and max absolute error of a quantized GEMM on outlier-channel tensors,
  from golden (:func:`lowbit.explore.quality.gemm_quality`; axes ``k``, ``tokens``, ``n``).
* ``mlp``: accuracy of the digits MLP with quantized weights and activations, from golden.
* ``area``: the point's MAC design synthesized by Yosys (:func:`lowbit.reports.synthesis.synth`,
  cached under ``build/synth``): ``mac_area_ge`` (generic gate equivalents),
  ``area_per_mac_ge`` (per multiply-accumulate per cycle) and ``array_area_ge``
  (``area_per_mac_ge`` x the engine's peak MACs per cycle as :mod:`lowbit.sim` counts them:
  a systolic array of MX PEs does a block per PE per cycle; the MAC array only, no buffers).
* ``sim``: the SimPy cycle and energy model (:func:`lowbit.sim.run`) on the point's
  ``workload`` (default ``llama2-7b-decode``, axes ``batch``, ``context`` and ``attention``:
  False keeps the weight GEMMs only, as a LUT engine runs): ``cycles``,
  ``energy_pj``, ``energy_per_token_uj``, ``tops``, ``tops_per_w``, ``utilization``.
* ``rtl`` (optional): the point's MAC design on Verilator, golden's ``random`` vector set
  (2,048 operations) through the unmutated netlist of the mutation driver: ``rtl_check`` is
  ``pass`` or the point fails with the first mismatch; ``n/a`` for designs other than the
  scalar MACs (:data:`SCALAR_MACS`; block dot units and LUT cores have their own
  regressions).

A user metric is a function ``f(point, metrics) -> dict`` run after the stages, seeing the
metrics so far. An exception in any stage fails the point (the runner records the error).
"""

import numpy as np

from lowbit.errors import LowbitError
from lowbit.explore import hardware, quality

STAGES = ("gemm", "mlp", "area", "sim", "rtl")
DEFAULT_STAGES = STAGES[:4]  # rtl is optional: a Verilator build per new MAC design
SCALAR_MACS = ("IntMac", "FloatMac", "PositMac")  # what the rtl stage checks
DEFAULT_WORKLOAD = {"workload": "llama2-7b-decode", "batch": 1, "context": 512,
                    "attention": True}


class EvaluateError(LowbitError, ValueError):
    """An unknown stage or a user metric that does not return a dict."""


def gemm_stage(point: dict) -> dict:
    a, w, acc = hardware.formats_of(point)
    return quality.gemm_quality(a, w, acc, k=point.get("k", 512), tokens=point.get("tokens", 32),
                                n=point.get("n", 32), seed=point.get("seed", 0),
                                lut_group=hardware.setting(point, "lut_group"))


def mlp_stage(point: dict) -> dict:
    a, w, acc = hardware.formats_of(point)
    return quality.mlp_accuracy(a, w, acc, lut_group=hardware.setting(point, "lut_group"))


def area_stage(point: dict) -> dict:
    from lowbit.reports.catalogue import build_design
    from lowbit.reports.synthesis import synth
    unit, params, macs_per_cycle = hardware.mac_design(point)
    design = build_design(unit, params)
    row = synth(design, ("generic",), jobs=1)[0]
    per_mac = row["area_ge"] / macs_per_cycle
    arch = hardware.arch_dict(point)["engine"]
    # Peak MACs per cycle as the cycle model counts them: a systolic array has rows x cols
    # PEs of the MAC design (an MX PE does a block per cycle), an adder tree ``lanes``
    # multipliers, a LUT core is the design itself.
    engine_macs = {"systolic": arch.get("rows", 0) * arch.get("cols", 0) * macs_per_cycle,
                   "adder_tree": arch.get("lanes", 0)}.get(arch["kind"], macs_per_cycle)
    return {"mac_design": design.name, "mac_area_ge": row["area_ge"],
            "area_per_mac_ge": round(per_mac, 3), "array_area_ge": round(per_mac * engine_macs, 1)}


def sim_stage(point: dict) -> dict:
    from lowbit.sim import run
    from lowbit.sim.hardware import arch_from_dict
    arch = arch_from_dict(hardware.arch_dict(point), "sweep point")
    work = {k: point.get(k, v) for k, v in DEFAULT_WORKLOAD.items()}
    res = run(arch, work["workload"], batch=work["batch"], context=work["context"],
              attention=work["attention"])
    t = res.total
    tokens = work["batch"]
    return {"cycles": float(t["cycles"]), "energy_pj": float(t["energy_pj"]),
            "energy_per_token_uj": float(t["energy_pj"]) / tokens / 1e6,
            "tops": float(t["tops"]), "tops_per_w": float(t["tops_per_w"]),
            "utilization": float(t["utilization"]), "bound": t["bound"]}


def rtl_stage(point: dict) -> dict:
    from lowbit.reports.catalogue import design_name, get_unit
    from lowbit.verify.mutation import replay_many
    from lowbit.verify.vectors import mac_formats, mac_vectors
    unit_name, params, _ = hardware.mac_design(point)
    if unit_name not in SCALAR_MACS:
        return {"rtl_check": "n/a"}
    entry = get_unit(unit_name)
    unit = entry.build(entry.parse(params))
    vectors = mac_vectors("random", *mac_formats(unit), count=2048)
    replay_many(unit, design_name(entry, params), [0], vectors, mutants=1, seed=1,
                check_baseline=True)  # raises SimulationFailed on the first mismatch
    return {"rtl_check": "pass", "rtl_operations": len(vectors)}


_STAGE_FUNCTIONS = {"gemm": gemm_stage, "mlp": mlp_stage, "area": area_stage, "sim": sim_stage,
                    "rtl": rtl_stage}


def check_stages(stages) -> tuple:
    """The stage names, checked (one error naming the bad one and the allowed ones)."""
    stages = tuple(stages)
    for s in stages:
        if s not in _STAGE_FUNCTIONS:
            raise EvaluateError(f"stage must be one of {', '.join(STAGES)}, not {s!r}")
    return stages


def evaluate(point: dict, stages=DEFAULT_STAGES, metrics=()) -> dict:
    """Run ``stages`` (names from :data:`STAGES`, in the order given), then the user
    ``metrics``, on ``point``;
    return every metric in one flat dict (floats, ints, strings)."""
    out = {}
    for s in check_stages(stages):
        out |= _STAGE_FUNCTIONS[s](point)
    for fn in metrics:
        extra = fn(point, dict(out))
        if not isinstance(extra, dict):
            raise EvaluateError(f"metric {getattr(fn, '__name__', fn)!r} must return a dict "
                                f"of metric name to value, not {type(extra).__name__}")
        out |= extra
    return {k: (v.item() if isinstance(v, np.generic) else v) for k, v in out.items()}
