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
    Rows missing a metric, or holding n/a (``None``), NaN or a non-number there, take no part
    (:func:`left_out` says which and why). Equal rows are all kept. The front comes back
    sorted by the first metric, best first.
    """
    check_objectives(objectives)
    signs = [1.0 if s == "min" else -1.0 for s in objectives.values()]

    def score(row):
        if why_left_out(row, objectives) is not None:
            return None
        return tuple(sign * float(row[m]) for m, sign in zip(objectives, signs))

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


def why_left_out(row: dict, objectives) -> str | None:
    """Why ``row`` takes no part in a front over ``objectives`` (``None``: it does): the
    first objective it lacks a number for, with the row's n/a reason (``notes``)."""
    for metric in objectives:
        v = row.get(metric)
        if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v):
            continue
        if metric not in row:
            return f"{metric} missing"
        if v is None:
            notes = row.get("notes")
            return f"{metric} n/a" + (f" ({notes})" if notes else "")
        return f"{metric} is not a finite number: {v!r}"
    return None


def left_out(rows, objectives) -> list:
    """``(row, reason)`` for every row that takes no part in the front (:func:`why_left_out`)."""
    check_objectives(objectives)
    return [(r, why) for r in rows if (why := why_left_out(r, objectives)) is not None]


def check_objectives(objectives):
    """Raise :class:`ParetoError` unless ``objectives`` maps 2 or 3 metrics to min or max."""
    if not isinstance(objectives, dict) or not 2 <= len(objectives) <= 3:
        raise ParetoError(f"objectives must map 2 or 3 metrics to 'min' or 'max', not "
                          f"{objectives!r}")
    for metric, sense in objectives.items():
        if sense not in SENSES:
            raise ParetoError(f"objective {metric} must be 'min' or 'max', not {sense!r}")
