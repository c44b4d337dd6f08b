"""Error metrics of a quantized tensor against its reference, in float64."""

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
    return float(np.max(np.abs(np.asarray(reference, np.float64) - np.asarray(quantized, np.float64))))
