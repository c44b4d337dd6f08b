"""Pareto fronts of result rows over two or three metrics, each minimized or maximized."""

import math

from lowbit.errors import LowbitError

SENSES = ("min", "max")


class ParetoError(LowbitError, ValueError):
    """A bad objective: unknown sense, too few or too many metrics."""


def pareto_front(rows, objectives: dict) -> list:
    """The rows no other row dominates on ``objectives`` (``{"area_ge": "min", "sqnr_db":
    "max"}``, two or three metrics).

    A row dominates another when it is at least as good on every metric and better on one.
    Rows missing a metric, or holding NaN there, take no part. Equal rows are all kept. The
    front comes back sorted by the first metric, best first.
    """
    if not isinstance(objectives, dict) or not 2 <= len(objectives) <= 3:
        raise ParetoError(f"objectives must map 2 or 3 metrics to 'min' or 'max', not "
                          f"{objectives!r}")
    for metric, sense in objectives.items():
        if sense not in SENSES:
            raise ParetoError(f"objective {metric} must be 'min' or 'max', not {sense!r}")
    signs = [1.0 if s == "min" else -1.0 for s in objectives.values()]

    def score(row):
        values = []
        for metric, sign in zip(objectives, signs):
            v = row.get(metric)
            if v is None or isinstance(v, bool) or not isinstance(v, (int, float)) or \
                    math.isnan(v):
                return None
            values.append(sign * float(v))
        return tuple(values)

    scored = [(score(r), r) for r in rows]
    scored = [(s, r) for s, r in scored if s is not None]
    front = []
    for s, r in scored:
        dominated = any(all(o <= x for o, x in zip(other, s)) and other != s
                        for other, _ in scored)
        if not dominated:
            front.append((s, r))
    front.sort(key=lambda sr: sr[0])
    return [r for _, r in front]
