"""PNG plots drawn from tidy result rows (matplotlib, Agg backend: no display needed)."""

import io
import math

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from lowbit.paths import write_atomic  # noqa: E402
from lowbit.reports.units import Scale, scale_in  # noqa: E402

_KIND_COLOURS = {"int": "tab:blue", "fixed": "tab:cyan", "float": "tab:orange",
                 "posit": "tab:green", "block": "tab:red"}


def _save(fig, path, layout=True):
    buf = io.BytesIO()
    if layout:  # not after place_labels: it placed labels in the final layout's pixels
        fig.tight_layout()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return write_atomic(path, buf.getvalue())


def place_labels(ax, points, labels, fontsize=7.0):
    """Write ``labels`` next to their ``points`` (data coordinates) so that no two labels
    overlap and none covers a point: each label takes the first free spot among positions
    around its point at growing distances (a thin leader line when it sits away from it).
    Call after the axes' limits and scales are final."""
    fig = ax.figure
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    to_px = ax.transData.transform
    px = [tuple(to_px(p)) for p in points]
    frame = ax.get_window_extent(renderer)
    dots = [(x - 4, y - 4, x + 4, y + 4) for x, y in px]
    taken = []
    angles = (0, 180, 90, 270, 30, 150, 210, 330, 60, 120, 240, 300)
    order = sorted(range(len(points)), key=lambda i: (px[i][0], px[i][1]))
    for i in order:
        text = ax.text(*points[i], labels[i], fontsize=fontsize)
        box = text.get_window_extent(renderer)
        w, h = box.width, box.height
        text.remove()
        best, best_cost = None, None
        for r in (6, 12, 20, 30, 42, 56, 72):
            for a in angles:
                dx, dy = r * math.cos(math.radians(a)), r * math.sin(math.radians(a))
                x0 = px[i][0] + dx - (w if dx < -1 else 0 if dx > 1 else w / 2)
                y0 = px[i][1] + dy - (h if dy < -1 else 0 if dy > 1 else h / 2)
                rect = (x0, y0, x0 + w, y0 + h)
                cost = sum(_overlap(rect, o) for o in taken + dots)
                outside = not (frame.x0 <= rect[0] and rect[2] <= frame.x1 and
                               frame.y0 <= rect[1] and rect[3] <= frame.y1)
                cost += 1e6 if outside else 0
                if best_cost is None or cost < best_cost:
                    best, best_cost = (rect, dx, dy), cost
                if cost == 0:
                    break
            if best_cost == 0:
                break
        rect, dx, dy = best
        taken.append(rect)
        far = math.hypot(dx, dy) > 14
        ax.annotate(labels[i], points[i], xytext=(rect[0], rect[1]), textcoords="figure pixels",
                    fontsize=fontsize, ha="left", va="bottom",
                    bbox={"boxstyle": "square,pad=0.05", "fc": "white", "ec": "none",
                          "alpha": 0.7},
                    arrowprops={"arrowstyle": "-", "lw": 0.5, "color": "0.5",
                                "shrinkA": 0, "shrinkB": 3} if far else None)


def _overlap(a, b) -> float:
    """The overlapping area of two (x0, y0, x1, y1) rectangles."""
    return max(0.0, min(a[2], b[2]) - max(a[0], b[0])) * \
        max(0.0, min(a[3], b[3]) - max(a[1], b[1]))


def sqnr_vs_bits(rows, path, datasets, max_bits=16):
    """One panel per data set: ``sqnr_<dataset>_db`` against ``bits_per_element``.

    Points are coloured by format kind and labelled without overlaps; the legend lists the
    kinds that have points; formats wider than ``max_bits`` bits per element (fp32, fp64,
    posit32) are left out so the low-precision region stays readable.
    """
    fig, axes = plt.subplots(1, len(datasets), figsize=(7.5 * len(datasets), 7.5), dpi=110,
                             sharey=True, squeeze=False)
    kinds = set()
    panels = []
    for ax, ds in zip(axes[0], datasets):
        key = f"sqnr_{ds}_db"
        shown = [r for r in rows if r.get(key) is not None and math.isfinite(r[key]) and
                 r["bits_per_element"] <= max_bits]
        for r in shown:
            ax.scatter(r["bits_per_element"], r[key], color=_KIND_COLOURS.get(r["kind"], "k"),
                       s=22, zorder=3)
            kinds.add(r["kind"])
        panels.append((ax, shown, key))
        ax.set_title(ds.replace("_", " "))
        ax.set_xlabel("bits per element (block formats include their scales)")
        ax.grid(True, alpha=0.3)
        ax.margins(x=0.12, y=0.06)
    axes[0][0].set_ylabel("SQNR (dB)")
    handles = [plt.Line2D([], [], marker="o", ls="", color=c, label=k)
               for k, c in _KIND_COLOURS.items() if k in kinds]
    axes[0][-1].legend(handles=handles, title="kind", loc="lower right")
    fig.suptitle(f"Quantization SQNR vs storage bits (formats up to {max_bits} bits/element)")
    fig.tight_layout()
    for ax, shown, key in panels:
        place_labels(ax, [(r["bits_per_element"], r[key]) for r in shown],
                     [r["format"] for r in shown], fontsize=6.5)
    return _save(fig, path, layout=False)


def bar_chart(rows, metric, path, title, label_key="design"):
    """Horizontal bars of ``metric`` per row, labelled by ``label_key``, largest at the top."""
    chosen = sorted((r for r in rows if r.get(metric) is not None), key=lambda r: r[metric])
    fig, ax = plt.subplots(figsize=(8, 0.32 * len(chosen) + 1.4), dpi=110)
    ax.barh([r[label_key] for r in chosen], [r[metric] for r in chosen], color="tab:blue")
    for i, r in enumerate(chosen):
        ax.annotate(f"{r[metric]:,.0f}", (r[metric], i), fontsize=7, xytext=(3, -3),
                    textcoords="offset points")
    ax.set_xlabel(metric.replace("_", " "))
    ax.set_title(title)
    ax.tick_params(axis="y", labelsize=7)
    ax.grid(True, axis="x", alpha=0.3)
    return _save(fig, path)


def scatter_chart(rows, x, y, path, title, label_key="design"):
    """One labelled point per row: ``y`` against ``x`` (log ``y`` when it spans over 10x)."""
    chosen = [r for r in rows if r.get(x) is not None and r.get(y) is not None]
    fig, ax = plt.subplots(figsize=(8, 5.5), dpi=110)
    for r in chosen:
        ax.scatter(r[x], r[y], color="tab:blue", s=22)
        ax.annotate(r[label_key], (r[x], r[y]), fontsize=6.5, xytext=(3, 2),
                    textcoords="offset points")
    values = [r[y] for r in chosen if r[y] > 0]
    if values and max(values) > 10 * min(values):
        ax.set_yscale("log")
    ax.set_xlabel(x.replace("_", " "))
    ax.set_ylabel(y.replace("_", " "))
    ax.set_title(title)
    ax.grid(True, which="both", alpha=0.3)
    return _save(fig, path)


_BOUND_COLOURS = {"compute": "tab:blue", "dram": "tab:red"}  # anything else: sram/lut


def roofline(rows, peak_tops, dram_gbps, path, title):
    """Achieved ``tops`` of each row against ``ops_per_dram_byte`` (log-log), under the compute
    roof (``peak_tops``) and the DRAM roof (``dram_gbps`` x intensity). Ops at the same spot
    (within 5 %) share one label; the legend lists the bounds that occur."""
    pts = [r for r in rows if math.isfinite(r["ops_per_dram_byte"]) and r["tops"] > 0]
    fig, ax = plt.subplots(figsize=(8, 5.5), dpi=110)
    bounds = {}
    if pts:
        lo = min(r["ops_per_dram_byte"] for r in pts) / 2
        ridge = peak_tops * 1e3 / dram_gbps
        hi = max(2 * ridge, *(2 * r["ops_per_dram_byte"] for r in pts))
        xs = sorted({lo, hi, max(ridge, lo)})
        ax.plot(xs, [min(peak_tops, dram_gbps * x / 1e3) for x in xs], color="k", lw=1.2,
                label=f"roof: {peak_tops:.3g} TOPS, {dram_gbps:g} GB/s")
        for r in pts:
            kind = r["bound"] if r["bound"] in _BOUND_COLOURS else "sram/lut"
            bounds[kind] = _BOUND_COLOURS.get(kind, "tab:orange")
            ax.scatter(r["ops_per_dram_byte"], r["tops"], color=bounds[kind], s=24, zorder=3)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_ylim(min(r["tops"] for r in pts) / 3, peak_tops * 3)
    handles = [plt.Line2D([], [], marker="o", ls="", color=c, label=f"{k}-bound")
               for k, c in bounds.items()]
    ax.legend(handles=[*ax.get_legend_handles_labels()[0], *handles], fontsize=8,
              loc="upper left")
    ax.set_xlabel("operations per DRAM byte (1 MAC = 2 operations)")
    ax.set_ylabel("achieved TOPS")
    ax.set_title(title)
    ax.grid(True, which="both", alpha=0.3)
    fig.tight_layout()
    groups = []  # [(x, y, [op names])], ops within 5 % of a group's first op join it
    for r in pts:
        x, y = r["ops_per_dram_byte"], r["tops"]
        near = next((g for g in groups if abs(math.log(x / g[0])) < 0.05 and
                     abs(math.log(y / g[1])) < 0.05), None)
        if near:
            near[2].append(r["op"])
        else:
            groups.append((x, y, [r["op"]]))
    place_labels(ax, [(x, y) for x, y, _ in groups],
                 [",\n".join(", ".join(ops[i:i + 3]) for i in range(0, len(ops), 3))
                  for *_, ops in groups], fontsize=7)
    return _save(fig, path, layout=False)


def stacked_bars(rows, groups, xlabels, path, title, label_key="op", units=None):
    """One panel per group of columns: horizontal bars per row, stacked over the columns.

    ``units``: per group, the unit the values are in (``"pJ"``, ``""`` for counts): the
    panel shows them in the unit that reads at a glance (:func:`lowbit.reports.units.scale_in`:
    mJ, millions), named in its x label. Stack segments are named by what their column
    names do not share (``energy_dram_pj`` -> ``dram``)."""
    fig, axes = plt.subplots(1, len(groups), dpi=110, squeeze=False,
                             figsize=(8 * len(groups), max(3.0, 0.3 * len(rows) + 1.8)))
    labels = [r[label_key] for r in rows]
    for g, (ax, columns, xlabel) in enumerate(zip(axes[0], groups, xlabels)):
        totals = [sum(v for c in columns if _finite(v := r.get(c))) for r in rows]
        scale = scale_in(units[g], totals) if units else Scale(1.0, "")
        left = [0.0] * len(rows)
        names = _segment_names(columns)
        for column in columns:
            values = [scale(r[column]) if _finite(r.get(column)) else 0.0 for r in rows]
            if not any(values):
                continue
            ax.barh(labels, values, left=left, label=names[column])
            left = [a + b for a, b in zip(left, values)]
        ax.invert_yaxis()
        ax.set_xlabel(f"{xlabel} ({scale.unit})" if scale.unit else xlabel)
        ax.xaxis.get_major_formatter().set_scientific(False)
        ax.tick_params(axis="y", labelsize=7)
        ax.grid(True, axis="x", alpha=0.3)
        ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))  # off the bars
    fig.suptitle(title)
    return _save(fig, path)


def cells_chart(rows, path, title, top=9, label_key="design"):
    """Each row's ``cells_by_type`` (Yosys cell type -> count) as one stacked bar: the ``top``
    most used types over all rows by name (``$_DFF_P_`` -> ``DFF_P``), the rest as ``other``."""
    totals = {}
    for r in rows:
        for cell, n in r["cells_by_type"].items():
            totals[cell] = totals.get(cell, 0) + n
    kept = sorted(totals, key=lambda c: -totals[c])[:top]
    names = {c: c.strip("$").strip("_") or c for c in kept}
    bars = []
    for r in rows:
        counts = r["cells_by_type"]
        bar = {label_key: r[label_key]} | {names[c]: counts.get(c, 0) for c in kept}
        bar["other"] = sum(n for c, n in counts.items() if c not in names)
        bars.append(bar)
    columns = [names[c] for c in kept] + (["other"] if any(b["other"] for b in bars) else [])
    return stacked_bars(bars, [columns], ["cells"], path, title, label_key=label_key)


def comparison_chart(rows, path, title, names=("published cheaper", "the other")):
    """Published comparisons as bars: per row (``target``, ``metric``, ``expected_cheaper`` /
    ``value_cheaper``, ``other`` / ``value_other``) the design published as cheaper and the
    other side by side, one panel per metric, each pair marked agrees / disagrees (a row's
    ``label``, when it has one, names the pair instead). ``names``: the legend's two bars."""
    metrics = list(dict.fromkeys(r["metric"] for r in rows))
    height = max(3.0, 0.55 * max(sum(r["metric"] == m for r in rows) for m in metrics) + 1.6)
    fig, axes = plt.subplots(1, len(metrics), figsize=(8.5 * len(metrics), height), dpi=110,
                             squeeze=False)
    for ax, metric in zip(axes[0], metrics):
        chosen = [r for r in rows if r["metric"] == metric]
        values = [v for r in chosen for v in (r["value_cheaper"], r["value_other"])]
        scale = scale_in("GE", values) if metric.endswith("_ge") else Scale(1.0, "")  # LUTs
        ys = list(range(len(chosen)))
        ax.barh([y - 0.2 for y in ys], [scale(r["value_cheaper"]) for r in chosen], 0.38,
                color="tab:green", label=names[0])
        ax.barh([y + 0.2 for y in ys], [scale(r["value_other"]) for r in chosen], 0.38,
                color="tab:gray", label=names[1])
        for y, r in zip(ys, chosen):
            for dy, design, value in ((-0.2, r["expected_cheaper"], r["value_cheaper"]),
                                      (0.2, r["other"], r["value_other"])):
                ax.annotate(f" {design}: {scale(value):,.4g}", (scale(value), y + dy),
                            fontsize=6.5, va="center")
        ax.set_yticks(ys, [r.get("label") or
                           f"{r['target']}\n{'agrees' if r['agrees'] else 'DISAGREES'}"
                           for r in chosen], fontsize=7)
        ax.invert_yaxis()
        label = "LUTs" if metric == "luts" else metric.replace("_ge", "").replace("_", " ")
        ax.set_xlabel(f"{label} ({scale.unit})" if scale.unit else label)
        ax.margins(x=0.45)
        ax.set_xlim(left=0)
        ax.grid(True, axis="x", alpha=0.3)
        ax.legend(fontsize=7, loc="lower right")
    fig.suptitle(title)
    return _save(fig, path)


def _segment_names(columns) -> dict:
    """Column -> its words minus the leading and trailing words every column shares."""
    words = {c: c.split("_") for c in columns}
    lists = list(words.values())
    head = 0
    while len(lists) > 1 and all(len(w) > head + 1 and w[head] == lists[0][head]
                                 for w in lists):
        head += 1
    tail = 0
    while len(lists) > 1 and all(len(w) > head + tail + 1 and w[-1 - tail] == lists[0][-1 - tail]
                                 for w in lists):
        tail += 1
    return {c: " ".join(w[head:len(w) - tail]) for c, w in words.items()}


def _finite(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


_FIELD_COLOURS = {"sign": "tab:red", "exponent": "tab:orange", "mantissa": "tab:blue",
                  "integer": "tab:green"}


def bit_vulnerability(rows, path, title):
    """Per-bit fault map: SDC rate (with its interval) and median relative error of the SDC
    runs, by accumulator bit position, bars coloured by field (sign / exponent / mantissa)."""
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(9, 6), dpi=110, sharex=True)
    bits = [r["bit"] for r in rows]
    colours = [_FIELD_COLOURS.get(r["field"], "k") for r in rows]
    rate = [r["sdc_rate"] for r in rows]
    err = [[r["sdc_rate"] - r["sdc_ci_low"] for r in rows],
           [r["sdc_ci_high"] - r["sdc_rate"] for r in rows]]
    top.bar(bits, rate, color=colours, yerr=err, capsize=2)
    top.set_ylabel("SDC rate (Wilson 95%)")
    top.set_ylim(0, 1.05)
    rel = [r["median_rel_error"] if r["median_rel_error"] > 0 else float("nan") for r in rows]
    finite = [x for x in rel if math.isfinite(x)]
    rel = [x if math.isfinite(x) or x != x else (max(finite) * 10 if finite else 1) for x in rel]
    bottom.bar(bits, rel, color=colours)
    bottom.set_yscale("log")
    bottom.set_ylabel("median relative error of SDC runs")
    bottom.set_xlabel("accumulator bit position")
    from matplotlib.patches import Patch

    top.legend(handles=[Patch(color=colour, label=field)
                        for field, colour in _FIELD_COLOURS.items()
                        if any(r["field"] == field for r in rows)], fontsize=8)
    top.set_title(title)
    return _save(fig, path)
