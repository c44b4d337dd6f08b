"""The sweep report's plots, drawn twice from one description: interactive (Plotly, for the
HTML report: hover shows the design point, zoom, legend toggles) and static (matplotlib PNG,
for papers and slides).

Every plot of a report shares one :class:`Styles`: a category (a format, a dataflow) has the
same colour and marker in every plot. Markers are open shapes, so two categories on the same
spot (int8 and fp8 often share area and energy) both stay visible, and a point's hover text
names the others at its position. Axes carry their label and unit in a unit that reads at a
glance (:func:`lowbit.explore.report_columns.scale_for`).
"""

import io
import math
from dataclasses import dataclass

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from lowbit.explore.report_columns import column, scale_for, with_unit  # noqa: E402

# matplotlib's tab10 colours (distinct in print and for most colour-vision deficiencies when
# paired with distinct markers); Plotly and matplotlib marker names for the same shapes
COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
           "#7f7f7f", "#bcbd22", "#17becf")
MARKERS = (("circle", "o"), ("square", "s"), ("diamond", "D"), ("triangle-up", "^"),
           ("triangle-down", "v"), ("pentagon", "p"), ("hexagon", "h"), ("star", "*"),
           ("cross", "P"), ("x", "X"))
FRONT_COLOUR = "#000000"


class Styles:
    """A colour and a marker per category value, in first-seen order; the same value always
    gets the same style (11th and later values reuse colours with other markers)."""

    def __init__(self, values=()):
        self._index = {}
        for v in values:
            self.add(v)

    def add(self, value):
        self._index.setdefault(str(value), len(self._index))

    def colour(self, value) -> str:
        self.add(value)
        return COLOURS[self._index[str(value)] % len(COLOURS)]

    def marker(self, value, kind="plotly") -> str:
        self.add(value)
        i = self._index[str(value)]
        shape = MARKERS[(i + i // len(COLOURS)) % len(MARKERS)]
        return shape[0] if kind == "plotly" else shape[1]


@dataclass
class Plot:
    """What one plot shows: ``y`` against ``x`` of ``rows`` (numeric in both), grouped by
    ``color`` (a column or None), ``front`` rows ringed; ``connect``: join the front (the
    objectives' own plot); ``label``: the row -> short text naming its design point;
    ``hover``: the row -> the lines its tooltip shows."""

    rows: list
    x: str
    y: str
    color: str | None
    styles: Styles
    front: list
    label: object
    hover: object
    connect: bool = False
    title: str = ""
    front_label: object = None  # row -> its label on the front (default: ``label``)

    def __post_init__(self):
        self.rows = [r for r in self.rows if _num(r.get(self.x)) and _num(r.get(self.y))]
        self.xcol, self.ycol = column(self.x), column(self.y)
        self.xscale = scale_for(self.xcol, [r[self.x] for r in self.rows])
        self.yscale = scale_for(self.ycol, [r[self.y] for r in self.rows])
        self.front = [r for r in self.front if any(r is q for q in self.rows)]
        self.front.sort(key=lambda r: r[self.x])

    def groups(self) -> dict:
        """Category value -> its rows (one group ``""`` without a colour column)."""
        out = {}
        for r in self.rows:
            out.setdefault(str(r.get(self.color)) if self.color else "", []).append(r)
        return out

    def log_x(self) -> bool:
        """A log x axis when the values span 1.5 decades."""
        xs = [r[self.x] for r in self.rows]
        return bool(xs) and min(xs) > 0 and max(xs) > 30 * min(xs)

    def xy(self, rows) -> tuple:
        return ([self.xscale(r[self.x]) for r in rows], [self.yscale(r[self.y]) for r in rows])

    def tooltip(self, row) -> str:
        """The hover text: the point, its x and y with units, then the other lines."""
        same = [self.label(r) for r in self.rows if r is not row and
                (r[self.x], r[self.y]) == (row[self.x], row[self.y])]
        lines = [f"<b>{self.label(row)}</b>",
                 f"{self.xcol.label}: {with_unit(row[self.x], self.xcol, self.xscale)}",
                 f"{self.ycol.label}: {with_unit(row[self.y], self.ycol, self.yscale)}"]
        lines += [line for line in self.hover(row) if line.split(":")[0] not in
                  (self.xcol.label, self.ycol.label)]
        if same:
            lines.append("same position as: " + "; ".join(same))
        return "<br>".join(lines)


def plotly_figure(plot: Plot):
    """The interactive figure of ``plot`` (a ``plotly.graph_objects.Figure``)."""
    import plotly.graph_objects as go

    fig = go.Figure()
    for value, members in plot.groups().items():
        xs, ys = plot.xy(members)
        fig.add_trace(go.Scatter(
            x=xs, y=ys, mode="markers", name=value or "design points",
            text=[plot.tooltip(r) for r in members], hovertemplate="%{text}<extra></extra>",
            marker={"symbol": plot.styles.marker(value) + "-open", "size": 12,
                    "color": plot.styles.colour(value), "line": {"width": 2.2}}))
    if plot.front:
        xs, ys = plot.xy(plot.front)
        fig.add_trace(go.Scatter(
            x=xs, y=ys, mode="lines+markers" if plot.connect else "markers",
            name="Pareto front", hoverinfo="skip",
            line={"color": FRONT_COLOUR, "width": 1.5, "dash": "dot"},
            marker={"symbol": "circle-open", "size": 22, "color": FRONT_COLOUR,
                    "line": {"width": 1.2}}))
        if plot.connect:  # labels on leader lines, staggered so close points stay apart
            label = plot.front_label or plot.label
            for i, (x, y, r, right) in enumerate(zip(xs, ys, plot.front,
                                                     _right_half(xs, plot.log_x()))):
                fig.add_annotation(
                    x=math.log10(x) if plot.log_x() else x, y=y, text=label(r),
                    showarrow=True, arrowhead=0, arrowwidth=0.8, arrowcolor="#666",
                    ax=-30 if right else 30, ay=-(22 + 17 * (i % 3)), font={"size": 11},
                    bgcolor="rgba(255,255,255,0.8)", xanchor="right" if right else "left")
    axis = {"exponentformat": "none", "separatethousands": True, "showline": True,
            "mirror": True, "linecolor": "#888", "gridcolor": "#e5e5e5", "zeroline": False}
    fig.update_layout(
        title={"text": plot.title, "x": 0, "xanchor": "left"}, template="plotly_white",
        height=460, margin={"l": 70, "r": 20, "t": 50, "b": 60}, hovermode="closest",
        legend={"title": {"text": column(plot.color).label if plot.color else ""}},
        xaxis=axis | {"title": plot.xcol.axis_title(plot.xscale),
                      "type": "log" if plot.log_x() else "linear"},
        yaxis=axis | {"title": plot.ycol.axis_title(plot.yscale)})
    return fig


def png(plot: Plot) -> bytes:
    """The static figure of ``plot``: PNG bytes."""
    fig, ax = plt.subplots(figsize=(7.2, 4.8), dpi=110)
    for value, members in plot.groups().items():
        xs, ys = plot.xy(members)
        ax.scatter(xs, ys, s=64, facecolors="none", linewidths=1.8,
                   edgecolors=plot.styles.colour(value),
                   marker=plot.styles.marker(value, "mpl"), label=value or None, zorder=3)
    if plot.front:
        xs, ys = plot.xy(plot.front)
        ax.scatter(xs, ys, s=260, facecolors="none", edgecolors=FRONT_COLOUR, linewidths=0.9,
                   label="Pareto front", zorder=2)
        if plot.connect:
            ax.plot(xs, ys, ":", color=FRONT_COLOUR, linewidth=1.2, zorder=1)
            label = plot.front_label or plot.label
            for i, (x, y, r, right) in enumerate(zip(xs, ys, plot.front,
                                                     _right_half(xs, plot.log_x()))):
                ax.annotate(label(r), (x, y), textcoords="offset points", fontsize=8,
                            xytext=(-22 if right else 22, 14 + 11 * (i % 3)),
                            ha="right" if right else "left",
                            arrowprops={"arrowstyle": "-", "lw": 0.5, "color": "0.4"},
                            bbox={"boxstyle": "square,pad=0.1", "fc": "white", "ec": "none",
                                  "alpha": 0.8})
    if plot.log_x():
        ax.set_xscale("log")
    for axis in (ax.xaxis, ax.yaxis):  # 1.5, not 1.5 with "1e6" in the corner
        formatter = axis.get_major_formatter()
        if isinstance(formatter, matplotlib.ticker.ScalarFormatter):
            formatter.set_useOffset(False)
            formatter.set_scientific(False)
    ax.set_xlabel(plot.xcol.axis_title(plot.xscale))
    ax.set_ylabel(plot.ycol.axis_title(plot.yscale))
    if not plot.rows:
        ax.text(0.5, 0.5, "no point has both values", transform=ax.transAxes, ha="center")
    elif plot.color or plot.front:
        ax.legend(fontsize=8, title=column(plot.color).label if plot.color else None,
                  loc="best", framealpha=0.85)
    ax.set_title(plot.title, fontsize=11, loc="left")
    ax.grid(alpha=0.3)
    ax.margins(0.08)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()


def _right_half(xs, log) -> list:
    """Per x: whether it lies in the right fifth of the x range (its label goes left)."""
    f = math.log10 if log else float
    lo, hi = min(map(f, xs)), max(map(f, xs))
    return [hi > lo and f(x) > lo + 0.8 * (hi - lo) for x in xs]


def _num(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
