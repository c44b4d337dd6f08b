"""Numbers in a unit a person reads at a glance: the SI-prefixed unit in which the largest
value lies between 1 and 1000 (``2.5e11 pJ`` -> ``250 mJ``, ``7.2e6 GE`` -> ``7.2 MGE``), for
plot axes and report tables (no ``1e11`` offsets)."""

import math
from dataclasses import dataclass

# The units a quantity may be shown in, smallest first: (values of the base unit per shown
# unit, shown unit). The key is the unit the values are given in.
UNITS = {
    "pJ": ((1, "pJ"), (1e3, "nJ"), (1e6, "µJ"), (1e9, "mJ"), (1e12, "J")),
    "µJ": ((1e-3, "nJ"), (1, "µJ"), (1e3, "mJ"), (1e6, "J")),
    "GE": ((1, "GE"), (1e3, "kGE"), (1e6, "MGE")),
    "": ((1, ""), (1e3, "thousand"), (1e6, "million"), (1e9, "billion")),
}


@dataclass(frozen=True)
class Scale:
    """Values divided by ``factor`` read in ``unit`` (``1e9 pJ`` -> ``factor`` 1e9, ``mJ``)."""

    factor: float
    unit: str

    def __call__(self, value):
        return value / self.factor


def scale_in(unit: str, values) -> Scale:
    """The unit from :data:`UNITS` in which the largest of ``values`` (given in ``unit``)
    reads between 1 and 1000; ``unit`` itself when it has no prefixed forms or no value is a
    finite non-zero number."""
    finite = [abs(v) for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)
              and math.isfinite(v) and v != 0]
    if not finite or unit not in UNITS:
        return Scale(1.0, unit)
    choices = UNITS[unit]
    factor, shown = next((c for c in reversed(choices) if max(finite) >= c[0]), choices[0])
    return Scale(float(factor), shown)
