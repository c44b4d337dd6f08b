"""Seeded synthetic tensors for studying formats: the same seed gives the same bits everywhere.

All are float32 of shape ``(tokens, channels)`` (default 64 x 4096), as activations would be.
"""

import numpy as np

from lowbit.errors import LowbitError, check_choice

DATASETS = ("gaussian", "laplace", "outlier_channels")
"""``gaussian``: N(0, 1). ``laplace``: Laplace(0, 1/sqrt(2)) (unit variance, heavier tails).
``outlier_channels``: N(0, 1) with 0.1% of the channels (at least one) scaled by 50, like the
outlier features of LLM activations."""


def synthetic(name: str, shape=(64, 4096), seed: int = 0) -> np.ndarray:
    """Return the seeded float32 data set ``name`` (one of :data:`DATASETS`)."""
    check_choice("data set", name, DATASETS, LowbitError)
    rng = np.random.default_rng([seed, DATASETS.index(name)])
    if name == "laplace":
        x = rng.laplace(0.0, 1.0 / np.sqrt(2.0), size=shape)
    else:
        x = rng.standard_normal(size=shape)
    if name == "outlier_channels":
        channels = shape[-1]
        n_out = max(1, round(channels * 0.001))
        picked = rng.choice(channels, size=n_out, replace=False)
        x[..., picked] *= 50.0
    return x.astype(np.float32)
