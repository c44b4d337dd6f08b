"""Fake quantization of tensors (quantize then dequantize) with a per-tensor scale.

Used to study what a format does to numbers. Scalar formats get one float64 scale per tensor,
chosen by ``scaling``; block formats carry their own scales and are used as they are.

``absmax``  the tensor's largest magnitude maps to the format's largest value (integers,
            fixed point, minifloats: the usual symmetric per-tensor quantizer)
``rms``     the tensor's RMS maps to 1, where posits are most precise
``none``    values are encoded as they are
"""

import numpy as np

from lowbit.errors import check_choice

SCALINGS = ("absmax", "rms", "none")


def default_scaling(fmt) -> str:
    """``none`` for block formats, ``rms`` for posits, ``absmax`` for the rest."""
    return {"block": "none", "posit": "rms"}.get(fmt.kind, "absmax")


def tensor_scale(x, fmt, scaling) -> float:
    """Return the float64 scale ``s`` such that ``x / s`` is what gets encoded."""
    check_choice("scaling", scaling, SCALINGS)
    x = np.asarray(x, dtype=np.float64)
    if scaling == "none" or x.size == 0:
        return 1.0
    ref = np.max(np.abs(x)) / fmt.max_value if scaling == "absmax" else np.sqrt(np.mean(x * x))
    return float(ref) if ref > 0 else 1.0


def fake_quantize(x, fmt, scaling=None, rounding="rne"):
    """Return ``decode(encode(x / s)) * s`` as float64 (block formats: their own scales).

    Parameters
    ----------
    x : array_like
        Tensor; scaled in float64.
    fmt : format object
        Any lowbit format.
    scaling : {"absmax", "rms", "none"}, optional
        Per-tensor scale rule for scalar formats; default :func:`default_scaling`.
    """
    x = np.asarray(x)
    if fmt.kind == "block":
        return fmt.decode(fmt.encode(x, rounding=rounding))
    s = tensor_scale(x, fmt, scaling or default_scaling(fmt))
    codes = fmt.encode(x.astype(np.float64) / s, rounding=rounding, overflow="saturate", on_nan="zero")
    return fmt.decode(codes) * s
