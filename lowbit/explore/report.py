"""A sweep's outputs, from its stored rows: ``<name>.csv``, the Pareto front
(``<name>_pareto.csv``), one PNG per plot (``<name>_pareto.png`` for the objectives' own plot)
and one self-contained HTML report (interactive Plotly figures with Plotly's JavaScript
embedded: a single file that opens in any browser, offline).

An n/a metric (``None``) is written ``n/a`` (pandas reads it as missing) and the row's
``notes`` column says why. The HTML report lists the points left out of the Pareto front and
of each plot, with the reason (an objective n/a, a failed point).
"""

import csv
import html
import io
import math
from datetime import datetime, timezone
from pathlib import Path

import lowbit
from lowbit.explore.axes import default as axis_default
from lowbit.explore.pareto import left_out, pareto_front
from lowbit.explore.report_columns import GROUPS, SHOWN_GROUPS, column, grouped, human, \
    scale_for, split_fixed, with_unit
from lowbit.explore.report_figures import Plot, Styles, plotly_figure, png
from lowbit.paths import build_dir, write_atomic

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


def _num(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _point_label(row, axes) -> str:
    return ", ".join(f"{a}={row.get(a)}" for a in axes)


def write_report(sweep, rows, out) -> dict:
    """Write CSV, Pareto CSV, PNG plots and the HTML report for ``rows`` into folder ``out``
    (a ``str`` or ``Path``); return ``{kind: path}``.

    The HTML file is self-contained (Plotly's JavaScript embedded, no network at view time):
    run metadata, the fixed settings once, the Pareto plot of the objectives (front joined
    and labelled) and every plot of the sweep as interactive figures (hover names the design
    point), then the Pareto front, the points left out of it and all points as tables grouped
    design / quality / area / timing / energy / cycles, sortable by a click on a header.
    """
    out = Path(out)
    axes = list(sweep.space.axes)
    cols = columns(rows, axes, sweep.metric_names())
    paths = {"csv": write_atomic(out / f"{sweep.name}.csv", csv_text(rows, cols))}
    ok = [r for r in rows if r.get("status") == "ok"]
    failed = [r for r in rows if r.get("status") != "ok"]
    front = pareto_front(ok, sweep.objectives) if sweep.objectives else []
    if sweep.objectives:
        paths["pareto_csv"] = write_atomic(out / f"{sweep.name}_pareto.csv",
                                           csv_text(front, cols))
    fixed, varying = split_fixed(rows, [c for c in cols if c != "seconds"])
    shown_axes = [a for a in axes if a not in fixed] or axes

    def label(row):
        if len(shown_axes) == 1:
            return str(row.get(shown_axes[0]))
        return ", ".join(f"{a}={row.get(a)}" for a in shown_axes)

    on_front = [a for a in shown_axes if len({repr(r.get(a)) for r in front}) > 1] or \
        shown_axes

    def front_label(row):  # only the axes that differ along the front
        if on_front == shown_axes:
            return label(row)
        return ", ".join(f"{a}={row.get(a)}" for a in on_front)

    def hover(row):
        extra = list(sweep.objectives) + [c for c in ("mac_design",) if c in row]
        return [f"{column(c).label}: " + (with_unit(row[c], column(c)) if c in row else "")
                for c in extra if c in row]

    styles = Styles(str(r.get(c)) for c in _colour_columns(sweep, fixed, axes) for r in rows)
    figures = []
    for key, x, y, color, connect in _plots(sweep, fixed, axes):
        plot = Plot(ok, x, y, color, styles, front if connect or sweep.objectives else [],
                    label, hover, connect=connect, front_label=front_label,
                    title=_title(key, x, y, sweep.objectives))
        name = f"{sweep.name}_pareto.png" if key == "pareto_png" else \
            f"{sweep.name}_{y}_vs_{x}.png"
        paths[key] = write_atomic(out / name, png(plot))
        missing = len(rows) - len(plot.rows)
        note = f" ({missing} of {len(rows)} points not plotted: failed or n/a)" if missing \
            else ""
        caption = plot.title + (f", by {column(color).label}" if color else "") + note
        figures.append((key, caption, plotly_figure(plot), paths[key]))
    paths["html"] = out / f"{sweep.name}.html"
    page = _page(sweep, rows, ok, failed, front, cols, fixed, varying, axes, figures, paths,
                 out)
    paths["html"] = write_atomic(paths["html"], page)
    return paths


def _title(key, x, y, objectives) -> str:
    title = f"{column(y).label} vs {column(x).label}"
    if key != "pareto_png":
        return title
    third = [column(m).label for m in list(objectives)[2:]]
    return f"Pareto front: {title}" + (f" (front over {third[0]} too)" if third else "")


def _colour_columns(sweep, fixed, axes) -> list:
    return [c for c in [_pareto_colour(sweep, fixed, axes)] + [c for *_, c in sweep.plots] if c]


def _pareto_colour(sweep, fixed, axes):
    """The Pareto plot's colour: the first plot's colour column, else the first varying
    axis."""
    for *_, color in sweep.plots:
        if color and color not in fixed:
            return color
    return next((a for a in axes if a not in fixed), None)


def _plots(sweep, fixed, axes) -> list:
    """``(key, x, y, color, connect)`` per plot: the objectives' Pareto plot first (its two
    first objectives), then the sweep's plots (a colour column with one value is dropped)."""
    out = []
    if sweep.objectives:
        x, y = list(sweep.objectives)[:2]
        # a line joins the front of two objectives; a third one's front is ringed only
        out.append(("pareto_png", x, y, _pareto_colour(sweep, fixed, axes),
                    len(sweep.objectives) == 2))
    for i, (x, y, color) in enumerate(sweep.plots):
        out.append((f"plot{i}", x, y, None if color in fixed else color, False))
    return out


_STYLE = """
body{font-family:system-ui,sans-serif;margin:1.5em auto;max-width:1500px;padding:0 1em;
color:#222}
h1{font-size:1.5em;margin-bottom:.2em}h2{font-size:1.15em;margin-top:1.6em}
dl.meta{display:grid;grid-template-columns:max-content auto;gap:2px 1em;font-size:14px}
dl.meta dt{font-weight:600;color:#555}dl.meta dd{margin:0}
.fixed span{display:inline-block;background:#f1f3f5;border-radius:3px;padding:1px 7px;
margin:2px 4px 2px 0;font-size:13px}
.plots{display:grid;grid-template-columns:repeat(auto-fill,minmax(560px,1fr));gap:1em}
figure{margin:0;border:1px solid #ddd;border-radius:4px;padding:4px;min-width:0}
figcaption{font-size:13px;color:#444;padding:2px 6px}
.scroll{overflow-x:auto;max-width:100%}
table{border-collapse:collapse;margin:.4em 0 1em;font-size:12.5px}
caption{font-weight:600;text-align:left;padding:4px 0;font-size:14px}
td,th{border:1px solid #d0d4d8;padding:2px 6px}td.num{text-align:right;
font-variant-numeric:tabular-nums}th{background:#f1f3f5;vertical-align:bottom}
th.sortable{cursor:pointer}th.sortable:after{content:" \\2195";color:#aaa}
th.group{text-align:center;background:#e4e8ec;text-transform:uppercase;font-size:11px;
letter-spacing:.05em}
td.note{max-width:26em;white-space:nowrap;overflow:hidden;text-overflow:ellipsis;
color:#555;font-size:12px}table#left-out-table td.note{white-space:normal;max-width:60em}
td.error{color:#b00}td.na{color:#888}tr.front td:first-child{border-left:4px solid #000}
a{color:#1f5fa8}
.toggles{font-size:13px;margin:.6em 0 0;color:#444}.toggles label{margin-right:1em;
white-space:nowrap;cursor:pointer}
""" + "".join(f"table .g-{g}{{display:none}}table.show-{g} .g-{g}{{display:table-cell}}"
              for g in GROUPS if g not in SHOWN_GROUPS)

_SORT = """
document.querySelectorAll('.toggles input').forEach(function(box){
  box.addEventListener('change',function(){
    document.getElementById(box.dataset.table).classList.toggle('show-'+box.dataset.group,
                                                                box.checked);});});
window.addEventListener('load', function(){  // plots drawn while the page was laid out
  document.querySelectorAll('.js-plotly-plot').forEach(function(p){Plotly.Plots.resize(p);});});
document.querySelectorAll('table.sortable').forEach(function(t){
  t.querySelectorAll('th.sortable').forEach(function(th){
    th.addEventListener('click',function(){
      var i=+th.dataset.col, body=t.tBodies[0], up=th.dataset.dir!=='up';
      th.dataset.dir=up?'up':'down';
      var rows=Array.from(body.rows);
      rows.sort(function(a,b){
        var x=a.cells[i].dataset.sort, y=b.cells[i].dataset.sort;
        if(x===''||x===undefined) return 1; if(y===''||y===undefined) return -1;
        var nx=parseFloat(x), ny=parseFloat(y);
        var c=(!isNaN(nx)&&!isNaN(ny))?nx-ny:x.localeCompare(y);
        return up?c:-c;});
      rows.forEach(function(r){body.appendChild(r);});});});});
"""


def _page(sweep, rows, ok, failed, front, cols, fixed, varying, axes, figures, paths,
          out) -> str:
    from plotly.offline import get_plotlyjs

    title = sweep.title or sweep.name
    table_cols = [c for c in varying if c not in ("status", "error", "notes")]
    notes = [c for c in ("notes", "error") if c in varying]
    front_ids = {id(r) for r in front}
    parts = [f"<h1>{html.escape(title)}</h1>",
             f"<p>{len(rows)} design points: {len(ok)} evaluated, {len(failed)} failed"
             + (f"; {len(front)} on the Pareto front over " + ", ".join(
                 f"{html.escape(column(m).label)} ({s})" for m, s in sweep.objectives.items())
                if sweep.objectives else "") + ".</p>",
             _metadata(sweep, rows, axes, paths, out)]
    fixed_axes = {c: v for c, v in fixed.items() if c in axes}
    fixed_results = {c: v for c, v in fixed.items() if c not in axes and c not in _LAST}
    if fixed_axes:
        parts.append("<h2>Fixed settings</h2><p class='fixed'>" + "".join(
            f"<span>{html.escape(c)} = {html.escape(human(v, column(c)))}</span>"
            for c, v in fixed_axes.items()) + "</p>")
    if fixed_results:
        parts.append("<p class='fixed'>Same result for every point: " + "".join(
            f"<span>{html.escape(column(c).label)} = "
            f"{html.escape(with_unit(v, column(c)))}</span>"
            for c, v in fixed_results.items()) + "</p>")
    parts.append("<h2>Plots</h2><p>Hover a point to see its design point; drag to zoom, "
                 "double-click to reset; click a legend entry to hide it.</p>"
                 "<div class='plots'>")
    for key, caption, fig, png_path in figures:
        div = fig.to_html(full_html=False, include_plotlyjs=False, div_id=f"plot-{key}",
                          config={"displaylogo": False, "responsive": True})
        parts.append(f"<figure class='plot' id='figure-{key}'>{div}<figcaption>"
                     f"{html.escape(caption)} · <a href='{png_path.name}'>PNG</a>"
                     "</figcaption></figure>")
    parts.append("</div>")
    if sweep.objectives:
        goal = ", ".join(f"{m} ({s})" for m, s in sweep.objectives.items())
        parts.append(_table(front, table_cols + notes, axes, f"Pareto front over {goal}",
                            set(), "pareto-table", objectives=sweep.objectives))
        outside = [{"point": _point_label(r, axes), "reason": why}
                   for r, why in left_out(ok, sweep.objectives)]
        outside += [{"point": _point_label(r, axes), "reason": f"failed: {r.get('error')}"}
                    for r in failed]
        if outside:
            parts.append(_table(outside, ["point", "reason"], (),
                                f"Left out of the Pareto front: {len(outside)} points",
                                set(), "left-out-table", grouped_header=False))
    parts.append(_table(rows, table_cols + [c for c in ("status",) if c in varying] + notes,
                        axes, "All design points" + (" (Pareto front marked at the left edge)"
                                                     if front else ""),
                        front_ids, "points-table", objectives=sweep.objectives))
    return ("<!DOCTYPE html><html><head><meta charset='utf-8'>"
            f"<title>{html.escape(sweep.name)}: lowbit sweep</title>"
            f"<style>{_STYLE}</style><script>{get_plotlyjs()}</script></head><body>"
            + "".join(parts) + f"<script>{_SORT}</script></body></html>")


def _metadata(sweep, rows, axes, paths, out) -> str:
    """Date, commit, fingerprint, stages, hardware, workload, clock; links to artefacts."""
    from lowbit.reports.area_report import git_commit

    def setting(name):
        values = []
        for r in rows:
            v = r[name] if name in r else axis_default(name)
            if v not in values:
                values.append(v)
        return ", ".join(map(str, values)) if len(values) < 2 else \
            "varies: " + ", ".join(map(str, values))

    meta = {"generated": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "lowbit": f"{lowbit.__version__}, commit {git_commit() or 'unknown'}",
            "definition": f"fingerprint {sweep.fingerprint()}",
            "stages": ", ".join(sweep.stages)}
    hardware_stages = {"area", "sim"} & set(sweep.stages)
    if hardware_stages:
        meta["formats"] = "; ".join(f"{n} {setting(n)}" for n in ("a_fmt", "b_fmt",
                                                                   "accumulator")
                                    if n in axes or n == "a_fmt")
        meta["arch"] = (f"{setting('engine')} engine, {setting('rows')} x {setting('cols')} "
                        f"PEs, dataflow {setting('dataflow')}")
    else:
        meta["arch"] = "none (no area or sim stage)"
    if "sim" in sweep.stages:
        meta["workload"] = (f"{setting('workload')}, batch {setting('batch')}, context "
                            f"{setting('context')}, attention {setting('attention')}")
        meta["clock"] = f"{setting('clock_mhz')} MHz, DRAM {setting('dram_gbps')} GB/s"
    else:
        meta["workload"] = "no sim stage (cycle model not run)"
    if "gemm" in sweep.stages:
        meta["quality GEMM"] = (f"k {setting('k')}, tokens {setting('tokens')}, "
                                f"n {setting('n')}, seed {setting('seed')}")
    links = [f"<a href='{p.name}'>{html.escape(p.name)}</a>" for k, p in paths.items()
             if k != "html"]
    from lowbit.explore.runner import database_path
    db = database_path(sweep, out)
    if db.exists():
        links.append(f"<a href='{db.name}'>{html.escape(db.name)}</a> (SQLite results)")
    synth = build_dir() / "synth"
    designs = sorted({r["mac_design"] for r in rows if isinstance(r.get("mac_design"), str)
                      and (synth / r["mac_design"]).is_dir()})
    meta["artefacts"] = " · ".join(links)
    if designs:
        meta["synthesis runs"] = " · ".join(
            f"<a href='{(synth / d).resolve().as_uri()}'>{html.escape(d)}</a>" for d in designs)
    linked = ("artefacts", "synthesis runs")  # already HTML
    return "<dl class='meta'>" + "".join(
        f"<dt>{html.escape(k)}</dt><dd>{v if k in linked else html.escape(v)}</dd>"
        for k, v in meta.items()) + "</dl>"


def _table(rows, cols, axes, caption, marked, css_id, grouped_header=True,
           objectives=()) -> str:
    """A sortable table; with ``grouped_header``, a first header row names each column
    group, and the groups but :data:`SHOWN_GROUPS` start hidden behind one toggle each.
    Numbers are scaled per column to one unit, named in the header."""
    cols = [c for c in cols if any(r.get(c, "") != "" for r in rows)]  # no empty columns
    groups = grouped(cols, axes, objectives) if grouped_header else [("", list(cols))]
    order = [c for _, cs in groups for c in cs]
    group_of = {c: g for g, cs in groups for c in cs}
    info = {c: column(c, axes) for c in order}
    scales = {c: scale_for(info[c], [r.get(c) for r in rows]) for c in order}
    head = toggles = ""
    opened = set()
    if grouped_header:
        head = "<tr>" + "".join(f"<th class='group g-{g}' colspan='{len(cs)}'>{g}</th>"
                                for g, cs in groups) + "</tr>"
        hidden = [(g, cs) for g, cs in groups if g not in SHOWN_GROUPS]
        # without objectives, the first group of results is shown too
        opened = set() if objectives or not hidden else {hidden[0][0]}
        if hidden:
            toggles = ("<div class='toggles'>Show columns: " + "".join(
                f"<label><input type='checkbox' data-table='{css_id}' data-group='{g}'"
                f"{' checked' if g in opened else ''}> {g} ({len(cs)})</label>"
                for g, cs in hidden) + "</div>")
    head += "<tr>" + "".join(
        f"<th class='sortable g-{group_of[c]}' data-col='{i}' title='{html.escape(c)}'>"
        f"{html.escape(info[c].axis_title(scales[c]) if grouped_header else c)}</th>"
        for i, c in enumerate(order)) + "</tr>"
    body = []
    synth = build_dir() / "synth"
    for r in rows:
        cells = []
        for c in order:
            v = r.get(c, "")
            g = f" g-{group_of[c]}" if grouped_header else ""
            if _num(v):
                shown = scales[c](v)
                text = f"{shown:,.0f}" if abs(shown) >= 1e4 else f"{shown:.4g}"
                cells.append(f"<td class='num{g}' data-sort='{v!r}'>{text}</td>")
                continue
            text = NA if v is None else str(v)
            cls = "error" if c == "status" and v == "error" else "na" if v is None else \
                "note" if c in ("notes", "error", "reason") else ""
            cell = html.escape(text)
            if c == "mac_design" and isinstance(v, str) and (synth / v).is_dir():
                cell = f"<a href='{(synth / v).resolve().as_uri()}'>{cell}</a>"
            key = html.escape(text) if v is not None else ""
            tip = f" title='{key}'" if cls == "note" else ""  # the whole note on hover
            cells.append(f"<td class='{cls}{g}' data-sort='{key}'{tip}>{cell}</td>")
        css = " class='front'" if id(r) in marked else ""
        body.append(f"<tr{css}>" + "".join(cells) + "</tr>")
    shows = "".join(f" show-{g}" for g in opened) if grouped_header else ""
    return (f"{toggles}<div class='scroll'><table class='sortable{shows}' id='{css_id}'>"
            f"<caption>{html.escape(caption)}</caption><thead>{head}</thead>"
            f"<tbody>{''.join(body)}</tbody></table></div>")
