"""The one trained network lowbit ships: a 64-32-10 ReLU MLP on scikit-learn's 8x8 digits.

:func:`trained` splits the bundled digits 2/3 train, 1/3 test (seeded) and trains the MLP in
float64 NumPy (full-batch gradient descent on softmax cross-entropy, the same weights every
run). The sweeps' ``mlp`` stage measures its accuracy with quantized weights and activations
(:mod:`lowbit.explore.quality`); the ``mlp`` operand stream of the activity energy feeds its
first layer's GEMM (test images x trained weights) to the hardware
(:mod:`lowbit.reports.operand_streams`).
"""

from functools import lru_cache

import numpy as np


@lru_cache(maxsize=1)
def trained() -> tuple:
    """``(x_test, y_test, w1, w2)``: test images (pixels / 16, float64, 64 columns), labels,
    and the trained weights (64 x 32, 32 x 10)."""
    from sklearn.datasets import load_digits  # bundled with scikit-learn: no download
    data = load_digits()
    x, y = data.data / 16.0, data.target
    rng = np.random.default_rng(0)
    order = rng.permutation(len(y))
    cut = 2 * len(y) // 3
    tr, te = order[:cut], order[cut:]
    w1 = rng.standard_normal((64, 32)) * np.sqrt(2 / 64)
    w2 = rng.standard_normal((32, 10)) * np.sqrt(2 / 32)
    onehot = np.eye(10)[y[tr]]
    for _ in range(300):  # full-batch gradient descent on softmax cross-entropy
        h = np.maximum(x[tr] @ w1, 0)
        logits = h @ w2
        p = np.exp(logits - logits.max(1, keepdims=True))
        p /= p.sum(1, keepdims=True)
        g = (p - onehot) / len(tr)
        gw2 = h.T @ g
        gw1 = x[tr].T @ ((g @ w2.T) * (h > 0))
        w1 -= 0.5 * gw1
        w2 -= 0.5 * gw2
    return x[te], y[te], w1, w2
