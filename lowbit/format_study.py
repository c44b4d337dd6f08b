"""Dynamic range and quantization SQNR of number formats on seeded synthetic data."""

import math

from lowbit.golden import formats as F
from lowbit.golden.metrics import sqnr_db
from lowbit.golden.quantize import default_scaling, fake_quantize
from lowbit.golden.tensors import DATASETS, synthetic


def describe(fmt) -> dict:
    """Return one tidy row of a format's limits (values in float64; None where not defined)."""
    min_sub = fmt.min_subnormal
    return {
        "format": fmt.name,
        "kind": fmt.kind,
        "bits": fmt.bits,
        "bits_per_element": getattr(fmt, "bits_per_element", fmt.bits),
        "max_value": fmt.max_value,
        "min_normal": fmt.min_normal,
        "min_subnormal": min_sub,
        "has_inf": fmt.has_inf,
        "has_nan": fmt.has_nan,
        "dynamic_range_db": 20 * (math.log10(fmt.max_value) - math.log10(fmt.min_positive)),
    }


def study(fmts, datasets=DATASETS, shape=(64, 4096), seed=0, advance=None) -> list[dict]:
    """Return one row per format: :func:`describe` plus ``sqnr_<dataset>_db`` per data set.

    Scale-only formats (``e8m0``, ``ue4m3``) get no SQNR. ``advance`` is called once per
    (format, data set) evaluated, for progress bars.
    """
    data = {ds: synthetic(ds, shape, seed) for ds in datasets}
    rows = []
    for fmt in fmts:
        row = describe(fmt)
        scale_only = fmt.name in F.SCALE_FORMATS
        row["scaling"] = "" if scale_only else default_scaling(fmt)
        for ds, x in data.items():
            row[f"sqnr_{ds}_db"] = None if scale_only else sqnr_db(x, fake_quantize(x, fmt))
            if advance:
                advance()
        rows.append(row)
    return rows
