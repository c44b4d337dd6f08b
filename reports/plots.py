"""PNG plots drawn from tidy result rows (matplotlib, Agg backend: no display needed)."""

import io
import math

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from lowbit.paths import write_atomic  # noqa: E402

_KIND_COLOURS = {"int": "tab:blue", "fixed": "tab:cyan", "float": "tab:orange",
                 "posit": "tab:green", "block": "tab:red"}


def _save(fig, path):
    buf = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return write_atomic(path, buf.getvalue())


def sqnr_vs_bits(rows, path, datasets, max_bits=16):
    """One panel per data set: ``sqnr_<dataset>_db`` against ``bits_per_element``.

    Points are coloured by format kind and labelled; formats wider than ``max_bits`` bits per
    element (fp32, fp64, posit32) are left out so the low-precision region stays readable.
    """
    fig, axes = plt.subplots(1, len(datasets), figsize=(6.5 * len(datasets), 6), dpi=110,
                             sharey=True, squeeze=False)
    for ax, ds in zip(axes[0], datasets):
        key = f"sqnr_{ds}_db"
        for r in rows:
            y = r.get(key)
            if y is None or not math.isfinite(y) or r["bits_per_element"] > max_bits:
                continue
            ax.scatter(r["bits_per_element"], y, color=_KIND_COLOURS.get(r["kind"], "k"), s=22)
            ax.annotate(r["format"], (r["bits_per_element"], y), fontsize=6.5,
                        xytext=(3, 2), textcoords="offset points")
        ax.set_title(ds.replace("_", " "))
        ax.set_xlabel("bits per element (block formats include their scales)")
        ax.grid(True, alpha=0.3)
    axes[0][0].set_ylabel("SQNR (dB)")
    handles = [plt.Line2D([], [], marker="o", ls="", color=c, label=k)
               for k, c in _KIND_COLOURS.items()]
    axes[0][-1].legend(handles=handles, title="kind", loc="lower right")
    fig.suptitle(f"Quantization SQNR vs storage bits (formats up to {max_bits} bits/element)")
    return _save(fig, path)


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


def roofline(rows, peak_tops, dram_gbps, path, title):
    """Achieved ``tops`` of each row against ``ops_per_dram_byte`` (log-log), under the compute
    roof (``peak_tops``) and the DRAM roof (``dram_gbps`` x intensity)."""
    pts = [r for r in rows if math.isfinite(r["ops_per_dram_byte"]) and r["tops"] > 0]
    fig, ax = plt.subplots(figsize=(8, 5.5), dpi=110)
    if pts:
        lo = min(r["ops_per_dram_byte"] for r in pts) / 2
        ridge = peak_tops * 1e3 / dram_gbps
        hi = max(2 * ridge, *(2 * r["ops_per_dram_byte"] for r in pts))
        xs = sorted({lo, hi, max(ridge, lo)})
        ax.plot(xs, [min(peak_tops, dram_gbps * x / 1e3) for x in xs], color="k", lw=1.2,
                label=f"roof: {peak_tops:.3g} TOPS, {dram_gbps:g} GB/s")
        for r in pts:
            colour = {"compute": "tab:blue", "dram": "tab:red"}.get(r["bound"], "tab:orange")
            ax.scatter(r["ops_per_dram_byte"], r["tops"], color=colour, s=24)
            ax.annotate(r["op"], (r["ops_per_dram_byte"], r["tops"]), fontsize=6.5,
                        xytext=(3, 2), textcoords="offset points")
        ax.set_xscale("log")
        ax.set_yscale("log")
    handles = [plt.Line2D([], [], marker="o", ls="", color=c, label=f"{k}-bound")
               for k, c in (("compute", "tab:blue"), ("dram", "tab:red"),
                            ("sram/lut", "tab:orange"))]
    ax.legend(handles=[*ax.get_legend_handles_labels()[0], *handles], fontsize=8)
    ax.set_xlabel("operations per DRAM byte (1 MAC = 2 operations)")
    ax.set_ylabel("achieved TOPS")
    ax.set_title(title)
    ax.grid(True, which="both", alpha=0.3)
    return _save(fig, path)


def stacked_bars(rows, groups, ylabels, path, title, label_key="op"):
    """One panel per group of columns: horizontal bars per row, stacked over the columns."""
    fig, axes = plt.subplots(1, len(groups), figsize=(7 * len(groups), 0.3 * len(rows) + 1.8),
                             dpi=110, squeeze=False)
    labels = [r[label_key] for r in rows]
    for ax, columns, xlabel in zip(axes[0], groups, ylabels):
        left = [0.0] * len(rows)
        for column in columns:
            values = [r.get(column) or 0.0 for r in rows]
            values = [v if math.isfinite(v) else 0.0 for v in values]
            if not any(values):
                continue
            ax.barh(labels, values, left=left, label=column.replace("_", " "))
            left = [a + b for a, b in zip(left, values)]
        ax.invert_yaxis()
        ax.set_xlabel(xlabel)
        ax.tick_params(axis="y", labelsize=7)
        ax.grid(True, axis="x", alpha=0.3)
        ax.legend(fontsize=7)
    fig.suptitle(title)
    return _save(fig, path)


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
