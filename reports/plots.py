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
