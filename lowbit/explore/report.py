"""A sweep's outputs, from its stored rows: ``<name>.csv``, the Pareto front
(``<name>_pareto.csv``), one PNG per plot and one self-contained HTML report (tables and the
plots embedded as base64 PNGs: a single file that opens in any browser).

An n/a metric (``None``) is written ``n/a`` (pandas reads it as missing) and the row's
``notes`` column says why. The HTML report lists the points left out of the Pareto front and
of each plot, with the reason (an objective n/a, a failed point).
"""

import base64
import csv
import html
import io
import math

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from lowbit.explore.pareto import left_out, pareto_front  # noqa: E402
from lowbit.paths import write_atomic  # noqa: E402

_LAST = ("notes", "status", "error", "seconds")
NA = "n/a"


def columns(rows, axes, metrics=()) -> list:
    """Axes first (sweep order), then ``metrics`` (stage order), then other columns
    (first-seen order), then notes (the n/a reasons), status, error, seconds."""
    cols = list(axes) + [m for m in metrics if m not in axes]
    for r in rows:
        cols += [k for k in r if k not in cols and k not in _LAST]
    return cols + list(_LAST)


def csv_text(rows, cols) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, cols, extrasaction="ignore")
    writer.writeheader()
    for r in rows:
        writer.writerow({c: NA if c in r and r[c] is None else r.get(c, "") for c in cols})
    return out.getvalue()


def plot_png(rows, x, y, color=None, front=None, title="") -> bytes:
    """A scatter of ``y`` against ``x`` (successful rows with both numeric), coloured by
    ``color``'s values, the Pareto front ringed; PNG bytes."""
    ok = [r for r in rows if _num(r.get(x)) and _num(r.get(y))]
    fig, ax = plt.subplots(figsize=(6.4, 4.4), dpi=100)
    groups = {}
    for r in ok:
        groups.setdefault(str(r.get(color)) if color else "", []).append(r)
    for label, members in groups.items():
        ax.scatter([r[x] for r in members], [r[y] for r in members], label=label or None, s=36)
    if front:
        on = [r for r in front if _num(r.get(x)) and _num(r.get(y))]
        ax.scatter([r[x] for r in on], [r[y] for r in on], s=140, facecolors="none",
                   edgecolors="black", label="Pareto front")
    for axis, name in ((ax.set_xlabel, x), (ax.set_ylabel, y)):
        axis(name)
    xs = [r[x] for r in ok]
    if xs and min(xs) > 0 and max(xs) > 100 * min(xs):  # spans two decades: log axis
        ax.set_xscale("log")
    if color or front:
        ax.legend(fontsize=8, title=color)
    ax.set_title(title or f"{y} vs {x}")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()


def _num(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _table(rows, cols, caption) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in cols)
    body = []
    for r in rows:
        cells = []
        for c in cols:
            v = r.get(c, "")
            text = NA if v is None else f"{v:.4g}" if isinstance(v, float) else str(v)
            cls = ' class="error"' if c == "status" and v == "error" else \
                ' class="na"' if v is None else ""
            cells.append(f"<td{cls}>{html.escape(text)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return (f'<table><caption>{html.escape(caption)}</caption><thead><tr>{head}</tr></thead>'
            f'<tbody>{"".join(body)}</tbody></table>')


def _point_label(row, axes) -> str:
    return ", ".join(f"{a}={row.get(a)}" for a in axes)


def write_report(sweep, rows, out) -> dict:
    """Write CSV, Pareto CSV, PNG plots and the HTML report for ``rows`` into folder ``out``;
    return ``{kind: path}``."""
    axes = list(sweep.space.axes)
    cols = columns(rows, axes, sweep.metric_names())
    paths = {"csv": write_atomic(out / f"{sweep.name}.csv", csv_text(rows, cols))}
    ok = [r for r in rows if r.get("status") == "ok"]
    failed = [r for r in rows if r.get("status") != "ok"]
    front = pareto_front(ok, sweep.objectives) if sweep.objectives else []
    if sweep.objectives:
        paths["pareto_csv"] = write_atomic(out / f"{sweep.name}_pareto.csv",
                                           csv_text(front, cols))
    figures = []
    for i, (x, y, color) in enumerate(sweep.plots):
        on_front = front if {x, y} <= set(sweep.objectives) else None
        png = plot_png(ok, x, y, color, on_front)
        paths[f"plot{i}"] = write_atomic(out / f"{sweep.name}_{y}_vs_{x}.png", png)
        missing = len(rows) - sum(1 for r in ok if _num(r.get(x)) and _num(r.get(y)))
        note = f" ({missing} of {len(rows)} points not plotted: failed or n/a)" if missing \
            else ""
        figures.append((f"{y} vs {x}" + (f", by {color}" if color else "") + note, png))
    sections = [f"<h1>{html.escape(sweep.title or sweep.name)}</h1>",
                f"<p>{len(rows)} design points: {len(ok)} evaluated, {len(failed)} failed. "
                f"Stages: {html.escape(', '.join(sweep.stages))}. Definition fingerprint "
                f"{sweep.fingerprint()}.</p>"]
    if sweep.objectives:
        goal = ", ".join(f"{m} ({s})" for m, s in sweep.objectives.items())
        sections.append(_table(front, cols[:-3], f"Pareto front over {goal}"))
        outside = [{"point": _point_label(r, axes), "reason": why}
                   for r, why in left_out(ok, sweep.objectives)]
        outside += [{"point": _point_label(r, axes), "reason": f"failed: {r.get('error')}"}
                    for r in failed]
        if outside:
            sections.append(_table(outside, ["point", "reason"],
                                   f"Left out of the Pareto front: {len(outside)} points"))
    for caption, png in figures:
        data = base64.b64encode(png).decode()
        sections.append(f'<figure><img alt="{html.escape(caption)}" '
                        f'src="data:image/png;base64,{data}"><figcaption>'
                        f'{html.escape(caption)}</figcaption></figure>')
    sections.append(_table(rows, cols, "All design points"))
    page = ("<!DOCTYPE html><html><head><meta charset='utf-8'>"
            f"<title>{html.escape(sweep.name)}: lowbit sweep</title><style>"
            "body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;margin:1em 0}"
            "td,th{border:1px solid #ccc;padding:2px 6px;font-size:13px}"
            "caption{font-weight:bold;text-align:left}td.error{color:#b00}td.na{color:#888}"
            "img{max-width:100%}</style></head><body>" + "".join(sections) + "</body></html>")
    paths["html"] = write_atomic(out / f"{sweep.name}.html", page)
    return paths
