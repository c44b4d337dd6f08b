"""Which element format for LLM decode? int8, fp8, MX (fp8, int8, fp4), NVFP4 and 2-bit LUT
weights: GEMM SQNR on outlier-channel activations, digits-MLP accuracy, MAC area (Yosys) and
LLaMA-2-7B decode energy per token (SimPy; the weight GEMMs, which is what the weight format
changes and all a LUT core runs), with the Pareto front of energy against SQNR.

Run: ``lowbit sweep examples/formats_llm_decode.py`` (``make demo`` runs the ``small`` variant
of this file: ``LOWBIT_SWEEP_SMALL=1``).
"""

import os

from lowbit.explore import Space, Sweep, metric

SMALL = os.environ.get("LOWBIT_SWEEP_SMALL") == "1"
FORMATS = {  # element format -> (weights, accumulator)
    "int8": ("int8", "int32"),
    "fp8_e4m3": ("fp8_e4m3", "fp32"),
    "mxfp8_e4m3": ("mxfp8_e4m3", "fp32"),
    "mxint8": ("mxint8", "fp32"),
    "mxfp4": ("mxfp4", "fp32"),
    "nvfp4": ("nvfp4", "fp32"),
    "lut2": ("lut2", "int32"),
}


@metric("weight_bits", reads=("format",))
def bits_per_weight(point, metrics):
    """Weight traffic in bits per element, exactly (block formats add one scale per block)."""
    from lowbit.golden import formats
    w = FORMATS[point["format"]][0]
    if w == "lut2":
        return {"weight_bits": 2.0}
    f = formats.get(w)
    if f.kind != "block":
        return {"weight_bits": float(f.bits)}
    return {"weight_bits": f.element.bits + f.scale.bits / f.block_size}


@metric("weights", reads=("format",))
def formats_of(point, metrics):
    """The format label as a metric column for the report's colouring."""
    return {"weights": FORMATS[point["format"]][0]}


def expand(point):
    """The axes the stages read, from the one ``format`` axis."""
    w, acc = FORMATS[point["format"]]
    return {"a_fmt": "int8" if w == "lut2" else w, "b_fmt": w, "accumulator": acc}


sweep = Sweep(
    name="formats-for-llm-decode" + ("-small" if SMALL else ""),
    title="Formats for LLM decode: quality, area and energy per token",
    space=Space({"format": list(FORMATS), "rows": [16] if SMALL else [16, 32],
                 "k": 256 if SMALL else 1024, "attention": False}, derive=expand),
    stages=("gemm", "mlp", "area", "sim"),
    metrics=(bits_per_weight, formats_of),
    objectives={"energy_per_token_uj": "min", "sqnr_db": "max"},
    plots=[("array_area_ge", "sqnr_db", "format"),
           ("energy_per_token_uj", "mlp_accuracy", "format"),
           ("weight_bits", "energy_per_token_uj", "format")],
)
