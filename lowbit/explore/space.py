"""A sweep's design space: named axes whose cartesian product are the design points.

``Space({"a_fmt": ["int8", "fp8_e4m3"], "rows": [16, 32]}, where=lambda p: ...)`` yields
points as plain dicts in a fixed order (axes in the given order, values in the given order,
the last axis fastest). Every point has a stable key (:func:`point_key`): a hash of its
canonical JSON, so a rerun of the same sweep finds the points it already finished.
"""

import hashlib
import itertools
import json
import math

from lowbit.errors import LowbitError


class SpaceError(LowbitError, ValueError):
    """A malformed space: an axis without values, a value that is not JSON, a bad name."""


def _canonical(value, where):
    """Check that ``value`` round-trips through JSON (so points store and hash stably)."""
    if isinstance(value, float) and not math.isfinite(value):
        raise SpaceError(f"axis {where}: values must be finite numbers, strings, booleans, "
                         f"None, lists or dicts, not {value!r}")
    try:
        text = json.dumps(value, sort_keys=True, allow_nan=False)
    except (TypeError, ValueError):
        raise SpaceError(f"axis {where}: values must be numbers, strings, booleans, None, "
                         f"lists or dicts (JSON), not {value!r} ({type(value).__name__})") \
            from None
    if json.loads(text) != value:
        raise SpaceError(f"axis {where}: value {value!r} does not survive JSON unchanged "
                         f"(use a list instead of a tuple, string keys in dicts)")
    return value


def point_key(point: dict) -> str:
    """The stable 16-hex-digit key of a design point (canonical JSON, SHA-256)."""
    text = json.dumps(point, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


class Space:
    """Named axes; their cartesian product, filtered by ``where``, is the set of points.

    ``derive(point) -> dict`` adds fields computed from the axes to every point (one
    ``format`` axis setting ``a_fmt``, ``b_fmt`` and ``accumulator``, say); they are part of
    the point, its key and its row."""

    def __init__(self, axes: dict, where=None, derive=None):
        if not isinstance(axes, dict) or not axes:
            raise SpaceError(f"axes must be a non-empty mapping of axis name to values, not "
                             f"{axes!r}")
        self.axes = {}
        for name, values in axes.items():
            if not isinstance(name, str) or not name.isidentifier():
                raise SpaceError(f"axis names must be identifiers (letters, digits, _), not "
                                 f"{name!r}")
            if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__"):
                values = [values]  # a fixed parameter: one value
            values = [_canonical(v, name) for v in values]
            if not values:
                raise SpaceError(f"axis {name} must have at least one value, not none")
            keys = [json.dumps(v, sort_keys=True) for v in values]
            if len(set(keys)) != len(keys):
                raise SpaceError(f"axis {name} repeats a value: {values!r}")
            self.axes[name] = values
        if where is not None and not callable(where):
            raise SpaceError(f"where must be a function of a point returning True to keep it, "
                             f"not {where!r}")
        self.where = where
        if derive is not None and not callable(derive):
            raise SpaceError(f"derive must be a function of a point returning a dict of extra "
                             f"fields, not {derive!r}")
        self.derive = derive

    def __iter__(self):
        names = list(self.axes)
        for values in itertools.product(*self.axes.values()):
            point = dict(zip(names, values))
            if self.derive is not None:
                extra = self.derive(dict(point))
                if not isinstance(extra, dict):
                    raise SpaceError(f"derive must return a dict, not {type(extra).__name__}")
                point |= {k: _canonical(v, k) for k, v in extra.items()}
            if self.where is None or self.where(point):
                yield point

    def __len__(self):
        return sum(1 for _ in self)

    def points(self) -> list:
        """Every kept point, in sweep order."""
        return list(self)
