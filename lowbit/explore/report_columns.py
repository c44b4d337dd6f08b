"""What a sweep report's columns mean to a reader: the group a column belongs to (design /
quality / area / timing / energy / cycles), its label and unit, numbers scaled to a unit a
person reads at a glance (``1.2 mJ``, not ``1.2e9 pJ``), and which columns hold one value for
every point (the run's fixed settings, written once above the tables)."""

import math
from dataclasses import dataclass

from lowbit.explore.axes import AXES
from lowbit.reports.units import Scale, scale_in

GROUPS = ("design", "objectives", "quality", "area", "timing", "energy", "cycles", "other")
#: Groups a report table always shows; the others start hidden behind a toggle, so the table
#: fits the page (design axes and objectives are what a reader compares first).
SHOWN_GROUPS = ("design", "objectives")


@dataclass(frozen=True)
class Column:
    """One column: ``label`` (words), ``unit`` (``pJ``, ``GE``, ``dB``, ``%`` or ``""``), the
    ``group`` it is shown under; ``scalable``: SI prefixes may replace the unit's (``pJ`` ->
    ``mJ``); ``percent``: a fraction shown x 100 with ``%``."""

    name: str
    label: str
    unit: str = ""
    group: str = "other"
    scalable: bool = False
    percent: bool = False

    def axis_title(self, scale: Scale | None = None) -> str:
        """``label (unit)``, the unit as ``scale`` writes it."""
        unit = scale.unit if scale else self.unit
        return f"{self.label} ({unit})" if unit else self.label


_KNOWN = {c.name: c for c in (
    Column("sqnr_db", "GEMM SQNR", "dB", "quality"),
    Column("max_abs_error", "max abs error", "", "quality"),
    Column("mlp_accuracy", "MLP accuracy", "%", "quality", percent=True),
    Column("mlp_accuracy_fp64", "MLP accuracy, fp64", "%", "quality", percent=True),
    Column("mac_design", "MAC design", "", "design"),
    Column("mac_area_ge", "MAC area", "GE", "area", scalable=True),
    Column("area_per_mac_ge", "area per MAC", "GE", "area", scalable=True),
    Column("array_area_ge", "array area", "GE", "area", scalable=True),
    Column("cycles", "cycles", "", "cycles", scalable=True),
    Column("tops", "throughput", "TOPS", "cycles"),
    Column("utilization", "utilization", "%", "cycles", percent=True),
    Column("bound", "bound by", "", "cycles"),
    Column("energy_pj", "energy", "pJ", "energy", scalable=True),
    Column("energy_per_token_uj", "energy per token", "µJ", "energy", scalable=True),
    Column("tops_per_w", "efficiency", "TOPS/W", "energy"),
    Column("mac_pj", "energy per MAC", "pJ", "energy", scalable=True),
    Column("mac_datapath_pj", "datapath energy per MAC", "pJ", "energy", scalable=True),
    Column("mac_registers_pj", "register energy per MAC", "pJ", "energy", scalable=True),
    Column("mac_clock_pj", "clock energy per MAC", "pJ", "energy", scalable=True),
    Column("mac_leakage_pj", "leakage per MAC", "pJ", "energy", scalable=True),
    Column("mac_fmax_mhz", "MAC fmax", "MHz", "timing"),
    Column("rtl_check", "RTL check", "", "quality"),
    Column("rtl_operations", "RTL operations", "", "quality"),
    Column("weight_bits", "weight bits", "bits", "design"),
    Column("acc_mantissa_bits", "accumulator mantissa bits", "bits", "design"),
    Column("clock_mhz", "clock", "MHz", "design"),
    Column("dram_gbps", "DRAM bandwidth", "GB/s", "design"),
    Column("fmax_mhz", "fmax", "MHz", "timing"),
    Column("delay_ps", "critical path", "ps", "timing"),
    Column("latency", "latency", "cycles", "timing"),
    Column("stages", "pipeline stages", "", "design"),
    Column("sim_clock_mhz", "simulated clock", "MHz", "cycles"),
)}

def column(name: str, axes=()) -> Column:
    """What column ``name`` is: a known metric, an axis (group ``design``) or another user
    metric (group ``other``, its name as label)."""
    if name in _KNOWN:
        return _KNOWN[name]
    if name in axes or name in AXES:
        return Column(name, name, "", "design")
    return Column(name, name.replace("_", " "), "", "other")


def scale_for(col: Column, values) -> Scale:
    """The unit in which the largest of ``values`` reads between 1 and 1000 (an SI prefix on
    the column's unit: ``pJ`` -> ``nJ``/``µJ``/``mJ``/``J``, ``GE`` -> ``kGE``/``MGE``;
    counts -> ``k``/``M``/``G``); a percentage for fractions; else the column's own unit."""
    if col.percent:
        return Scale(0.01, "%")
    return scale_in(col.unit, values) if col.scalable else Scale(1.0, col.unit)


def human(value, col: Column | None = None) -> str:
    """A value as a table cell: 4 significant digits with thousands separators for numbers,
    percentages for fractions, ``n/a`` for ``None``."""
    if value is None:
        return "n/a"
    if isinstance(value, bool) or not _number(value):
        return str(value)
    if col is not None and col.percent:
        return f"{100 * value:.4g} %"
    if isinstance(value, int) or float(value).is_integer() and abs(value) < 1e15:
        return f"{int(value):,}"
    if abs(value) >= 1e4:
        return f"{value:,.0f}"
    return f"{value:.4g}"


def with_unit(value, col: Column, scale: Scale | None = None) -> str:
    """``value`` in ``scale``'s unit (or the column's), with the unit: ``1.23 mJ``."""
    if not _number(value):
        return human(value)
    scale = scale or scale_for(col, [value])
    shown = scale(value)
    text = f"{shown:,.0f}" if abs(shown) >= 1e4 else f"{shown:.4g}"
    return f"{text} {scale.unit}" if scale.unit else text


def split_fixed(rows, cols) -> tuple:
    """``(fixed, varying)``: the columns holding one and the same value in every row (in
    column order, ``{name: value}``) and the others. With fewer than two rows nothing is
    fixed."""
    fixed, varying = {}, []
    for c in cols:
        values = {repr(r.get(c, "")) for r in rows}
        if len(rows) > 1 and len(values) == 1 and c in rows[0]:
            fixed[c] = rows[0][c]
        else:
            varying.append(c)
    return fixed, varying


def grouped(cols, axes=(), objectives=()) -> list:
    """``[(group, [columns])]`` in :data:`GROUPS` order, each group's columns in the given
    order (the ``objectives`` that are not axes in group ``objectives``); empty groups left
    out."""
    by = {g: [] for g in GROUPS}
    for c in cols:
        by["objectives" if c in objectives and c not in axes else column(c, axes).group].append(c)
    return [(g, cs) for g, cs in by.items() if cs]


def _number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
