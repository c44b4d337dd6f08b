"""What a metric value may be: a finite number, a string, a boolean, or n/a with a reason.

A stage or a user metric that cannot compute a value returns :func:`na` with the reason;
:func:`collect` then stores ``None`` for it and appends the reason to the row's ``notes``
column (``energy_pj, tops_per_w n/a: no [mac_area] entry ...``). A NaN or an infinity is
never stored as a result: it fails the point with a :class:`MetricError` naming the metric
and where it came from.

User metrics declare what they produce (and which axes they read) with :func:`metric`, so a
sweep's objectives and plots are checked before any point runs::

    @metric("weight_bits", reads=("format",))
    def bits_per_weight(point, metrics):
        ...
"""

import json
import math
from dataclasses import dataclass

import numpy as np

from lowbit.errors import LowbitError

NOTES = "notes"
"""The row column that says why a metric is n/a (reserved: no metric may use the name)."""


class MetricError(LowbitError, ValueError):
    """A metric value that is not a finite number, a string, a boolean or n/a; a user metric
    that returns something else than it declared."""


@dataclass(frozen=True)
class NotAvailable:
    """A metric the point cannot have, and why (``reason``: one line)."""

    reason: str


def na(reason: str) -> NotAvailable:
    """The value of a metric that cannot be computed for this point, with the reason."""
    if not isinstance(reason, str) or not reason.strip():
        raise MetricError(f"na() needs the reason as a non-empty string, not {reason!r}")
    return NotAvailable(" ".join(reason.split()))


def metric(*names: str, reads=()):
    """Declare a user metric ``f(point, metrics) -> dict``: the metric ``names`` it returns
    (every one, each a value or :func:`na`) and the axis names it ``reads`` beyond the stages'
    (see :class:`lowbit.explore.Sweep`)."""
    for n in (*names, *reads):
        if not isinstance(n, str) or not n.isidentifier():
            raise MetricError(f"metric names and axis names must be identifiers, not {n!r}")
    if NOTES in names:
        raise MetricError(f"{NOTES!r} is the row's column of n/a reasons, not a metric name")

    def declare(fn):
        fn.metric_names = tuple(names)
        fn.axes_read = tuple(reads)
        return fn
    return declare


def declared_names(fn) -> tuple | None:
    """The metric names a user metric declared with :func:`metric` (``None``: undeclared)."""
    return getattr(fn, "metric_names", None)


def function_name(fn) -> str:
    """A user metric's qualified name (``bits_per_weight``, ``<lambda>``)."""
    return getattr(fn, "__qualname__", None) or repr(fn)


def collect(out: dict, notes: list, values: dict, where: str, declared=None):
    """Add ``values`` (from ``where``: ``stage gemm``, ``metric f``) to ``out``: n/a values as
    ``None`` with their reason appended to ``notes``; NumPy scalars as Python numbers.

    Raise :class:`MetricError` for NaN or infinite numbers, the reserved name ``notes``, and
    (with ``declared``) names missing from or not in the declaration."""
    if not isinstance(values, dict):
        raise MetricError(f"{where} must return a dict of metric name to value, not "
                          f"{type(values).__name__}")
    if declared is not None and set(values) != set(declared):
        missing = [n for n in declared if n not in values]
        extra = [n for n in values if n not in declared]
        what = (f"did not return {', '.join(map(str, missing))}" if missing else
                f"returned {', '.join(map(str, extra))}, which it did not declare")
        raise MetricError(f"{where} declares {', '.join(declared)} but {what}")
    reasons = {}
    for name, value in values.items():
        if not isinstance(name, str):
            raise MetricError(f"{where}: metric names must be strings, not {name!r}")
        if name == NOTES:
            raise MetricError(f"{where}: {NOTES!r} is the row's column of n/a reasons, not a "
                              f"metric name")
        if value is None and where.startswith("metric"):
            value = NotAvailable(f"{where.removeprefix('metric ')} returned None")
        if isinstance(value, NotAvailable):
            reasons.setdefault(value.reason, []).append(name)
            out[name] = None
            continue
        if isinstance(value, np.generic):
            value = value.item()
        if isinstance(value, float) and not math.isfinite(value):
            hint = ("" if where.startswith("stage") else
                    "; return lowbit.explore.na('why') for a value it cannot compute")
            raise MetricError(f"{where}: {name} is {value!r}, not a finite number{hint}")
        try:
            json.dumps(value, allow_nan=False)
        except (TypeError, ValueError):
            raise MetricError(f"{where}: {name} is a {type(value).__name__}; a metric is a "
                              f"finite number, a string, a boolean, or lists and dicts of "
                              f"them") from None
        out[name] = value
    notes.extend(f"{', '.join(names)} n/a: {reason}" for reason, names in reasons.items())
