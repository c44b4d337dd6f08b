"""Which tensor-engine shape, and should its MACs be rewritten along the weight's bits? The four
engine shapes of the HPCA 2025 bit-weight paper (systolic array, 3D cube, multiplier-adder tree,
2D matrix) at the same peak rate (16 MACs per cycle), each with standard MACs and with
bit-weight (carry-save) MACs, for int8 and int4 operands: the whole engine synthesized by Yosys
(area in gate equivalents, Fmax from static timing, area efficiency in ops/s/GE) and LLaMA-2-7B
decode (batch 16) on the SimPy cycle model (cycles, utilization, TOPS at each engine's own Fmax).

Energy is n/a for the bit-weight engines: the cycle model's energy data prices MAC designs by
their area and has no entry for a carry-save PE (the note in each row says so).

Run: ``lowbit sweep examples/tensor_engines.py`` (16 Yosys runs of whole engines, each a minute
or two on one core the first time, cached under ``build/synth`` afterwards).
"""

from lowbit.explore import Space, Sweep, metric
from lowbit.explore.hardware import engine_design

#: Engine axes of each shape at 16 multiply-accumulates per cycle.
SHAPES = {
    "systolic": {"engine": "systolic", "rows": 4, "cols": 4, "dataflow": "os"},
    "cube": {"engine": "cube", "rows": 2, "cols": 2, "cube_k": 4},
    "adder_tree": {"engine": "adder_tree", "lanes": 16},
    "matrix": {"engine": "matrix", "rows": 4, "cols": 4},
}


def shape_axes(point):
    """The engine axes of the point's ``shape`` (:data:`SHAPES`)."""
    return dict(SHAPES[point["shape"]])


@metric("engine_design", "engine_area_ge", "engine_fmax_mhz", "area_eff_gops_per_kge",
        "tops_at_fmax")
def engine_area(point, metrics):
    """The whole engine through Yosys (generic gates, NanGate45 delay model): its area, its
    Fmax, the area efficiency ``2 x peak MACs x Fmax / area`` and the decode TOPS at that
    Fmax (the cycle model ran at the 1 GHz default clock, so TOPS scale by Fmax / 1000)."""
    from lowbit.reports.catalogue import design_of
    from lowbit.reports.synthesis import synth
    from lowbit.reports.tpe_comparisons import area_efficiency

    spec = engine_design(point)
    (row,) = synth(design_of(spec), ("generic",), jobs=1)
    eff = area_efficiency(spec.peak_macs_per_cycle, row["fmax_mhz"], row["area_ge"])
    return {"engine_design": spec.name, "engine_area_ge": row["area_ge"],
            "engine_fmax_mhz": row["fmax_mhz"], "area_eff_gops_per_kge": eff / 1e6,
            "tops_at_fmax": metrics["tops"] * row["fmax_mhz"] / 1000.0}


sweep = Sweep(
    name="tensor-engines",
    title="Engine shape x bit-weight MACs x format at 16 MACs/cycle, LLaMA-2-7B decode",
    space=Space({"shape": list(SHAPES), "mac_variant": ["standard", "bitweight"],
                 "a_fmt": ["int8", "int4"], "batch": 16, "attention": False},
                derive=shape_axes),
    stages=("sim",),
    metrics=(engine_area,),
    extra_axes=("shape",),
    objectives={"engine_area_ge": "min", "tops_at_fmax": "max"},
    plots=[("engine_area_ge", "tops_at_fmax", "shape"),
           ("shape", "area_eff_gops_per_kge", "mac_variant")],
)
