"""Error metrics of a quantized tensor against its reference, and the crest factor that says
how hard a tensor is to quantize; all computed in float64."""

import numpy as np


def sqnr_db(reference, quantized) -> float:
    """Signal-to-quantization-noise ratio in dB: ``10 log10(sum x**2 / sum (x - q)**2)``.

    Returns ``inf`` when the quantized tensor is exact and ``-inf`` for an all-zero reference
    with nonzero error.
    """
    x = np.asarray(reference, dtype=np.float64)
    q = np.asarray(quantized, dtype=np.float64)
    noise = float(np.sum((x - q) ** 2))
    signal = float(np.sum(x * x))
    if noise == 0:
        return float("inf")
    if signal == 0:
        return float("-inf")
    return 10.0 * np.log10(signal / noise)


def max_abs_error(reference, quantized) -> float:
    """Largest absolute difference."""
    return float(np.max(np.abs(np.asarray(reference, np.float64)
                               - np.asarray(quantized, np.float64))))


def crest_factor(x) -> float:
    """Peak-to-RMS ratio ``max |x| / sqrt(mean x**2)`` (dimensionless, >= 1; not in dB).

    The number of RMS-sized steps a symmetric absmax quantizer spends on the largest value: an
    outlier channel raises it, a Hadamard rotation lowers it. NaN for an all-zero or empty
    tensor.
    """
    x = np.asarray(x, dtype=np.float64)
    if x.size == 0 or not x.any():
        return float("nan")
    return float(np.max(np.abs(x)) / np.sqrt(np.mean(x * x)))
