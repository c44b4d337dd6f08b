"""Rates with confidence intervals for fault campaigns, and the sample sizes they need.

A campaign draws ``n`` faults at random from a population of fault sites and counts the
``k`` runs of one outcome (masked, silent data corruption, hang). The rate ``k / n`` gets a
Wilson score interval (E. B. Wilson, "Probable inference, the law of succession, and
statistical inference", JASA 22, 1927), which stays inside [0, 1] and behaves at ``k = 0``
and ``k = n``, unlike the normal approximation. :func:`sample_size` is the number of faults
that bounds the interval's half-width by ``margin`` at the worst case ``p = 0.5``, with the
finite-population correction when the population is known (Leveugle et al., "Statistical
fault injection: quantified error and confidence", DATE 2009): 2,401 faults for a 2% margin
at 95% confidence from an infinite population.
"""

import math
from dataclasses import dataclass

from lowbit.errors import LowbitError

#: Two-sided standard normal quantiles for the confidence levels campaigns use.
Z = {0.90: 1.6448536269514722, 0.95: 1.959963984540054, 0.99: 2.5758293035489004}


class FaultStatisticsError(LowbitError, ValueError):
    """Impossible counts, margins or confidence levels."""


def _z(confidence: float) -> float:
    if confidence not in Z:
        raise FaultStatisticsError(f"confidence must be one of {', '.join(map(str, Z))}, not "
                                   f"{confidence!r}")
    return Z[confidence]


@dataclass(frozen=True)
class Rate:
    """``k`` of ``n`` runs, the rate and its Wilson interval ``[low, high]``."""

    k: int
    n: int
    low: float
    high: float
    confidence: float

    @property
    def value(self) -> float:
        return self.k / self.n if self.n else math.nan

    def to_dict(self, prefix: str) -> dict:
        """Tidy columns ``<prefix>_rate``, ``<prefix>_ci_low``, ``<prefix>_ci_high``, count."""
        return {f"{prefix}_count": self.k, f"{prefix}_rate": self.value,
                f"{prefix}_ci_low": self.low, f"{prefix}_ci_high": self.high}


def wilson(k: int, n: int, confidence: float = 0.95) -> Rate:
    """The Wilson score interval of ``k`` successes in ``n`` trials."""
    for name, v in (("k", k), ("n", n)):
        if isinstance(v, bool) or not isinstance(v, int) or v < 0:
            raise FaultStatisticsError(f"{name} must be a non-negative integer, not {v!r}")
    if k > n:
        raise FaultStatisticsError(f"k ({k}) cannot exceed n ({n})")
    z = _z(confidence)
    if n == 0:
        return Rate(0, 0, 0.0, 1.0, confidence)
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    # at k = 0 or k = n the bound is exactly 0 or 1; keep it so despite rounding
    return Rate(k, n, 0.0 if k == 0 else max(0.0, centre - half),
                1.0 if k == n else min(1.0, centre + half), confidence)


def sample_size(margin: float, confidence: float = 0.95, population: int | None = None,
                p: float = 0.5) -> int:
    """Faults to draw so a rate's interval half-width is at most ``margin`` (normal
    approximation at ``p``, worst case 0.5), corrected for a finite ``population``."""
    if isinstance(margin, bool) or not isinstance(margin, (int, float)) or \
            not 0 < margin < 0.5:
        raise FaultStatisticsError(f"margin must be a number between 0 and 0.5, not {margin!r}")
    z = _z(confidence)
    n0 = z * z * p * (1 - p) / (margin * margin)
    if population is None:
        return math.ceil(n0 - 1e-9)
    if isinstance(population, bool) or not isinstance(population, int) or population < 1:
        raise FaultStatisticsError(f"population must be a positive integer, not {population!r}")
    return min(population, math.ceil(n0 / (1 + (n0 - 1) / population) - 1e-9))
