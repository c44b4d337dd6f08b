"""The demo's PNG plots read without explanation: labels never overprint each other, legends
list only what is drawn, energy and cycle axes are in mJ / millions rather than ``1e11``."""

import itertools

import matplotlib.pyplot as plt
import pytest

from lowbit.reports import plots
from lowbit.reports.units import scale_in


@pytest.fixture
def drawn(monkeypatch):
    """The figures the plot functions would save, instead of PNG files."""
    figures = []

    def keep(fig, path, layout=True):
        figures.append(fig)
        return path

    monkeypatch.setattr(plots, "_save", keep)
    yield figures
    for fig in figures:
        plt.close(fig)


def _label_boxes(fig):
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    return [t.get_window_extent(renderer) for ax in fig.axes for t in ax.texts]


def _no_overlap(boxes):
    for a, b in itertools.combinations(boxes, 2):
        assert not a.overlaps(b), (a, b)


def test_sqnr_labels_do_not_overlap_and_legend_lists_present_kinds(drawn):
    # a crowded 4-8 bit cluster like the catalogue's; no "fixed" format among the rows
    rows = [{"format": f"{kind}{bits}_{i}", "kind": kind, "bits_per_element": bits + i / 4,
             "sqnr_gaussian_db": 6.0 * bits + i}
            for kind in ("int", "float", "block") for bits in (4, 6, 8) for i in range(3)]
    plots.sqnr_vs_bits(rows, "unused.png", ["gaussian"])
    fig, = drawn
    assert len(fig.axes[0].texts) == len(rows)
    _no_overlap(_label_boxes(fig))
    legend = fig.axes[0].get_legend()
    assert [t.get_text() for t in legend.get_texts()] == ["int", "float", "block"]


def test_roofline_labels_ops_at_one_spot_once_and_lists_present_bounds(drawn):
    same = {"ops_per_dram_byte": 2.0, "tops": 0.05, "bound": "compute"}
    rows = [dict(same, op=op) for op in ("q_proj", "k_proj", "v_proj", "o_proj")]
    rows += [{"op": "attn", "ops_per_dram_byte": 1.9, "tops": 0.025, "bound": "compute"}]
    plots.roofline(rows, 1.64, 25.6, "unused.png", "decode")
    fig, = drawn
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert texts == ["attn", "q_proj, k_proj, v_proj,\no_proj"]
    _no_overlap(_label_boxes(fig))
    legend = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert legend == ["roof: 1.64 TOPS, 25.6 GB/s", "compute-bound"]


def test_stacked_bars_scale_energy_to_mj_and_name_segments(drawn):
    rows = [{"op": "up_proj", "energy_compute_pj": 2e9, "energy_dram_pj": 2.3e11},
            {"op": "lm_head", "energy_compute_pj": 1e8, "energy_dram_pj": 2e10}]
    plots.stacked_bars(rows, [("energy_compute_pj", "energy_dram_pj")], ["energy"],
                       "unused.png", "breakdown", units=["pJ"])
    ax = drawn[0].axes[0]
    assert ax.get_xlabel() == "energy (mJ)"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["compute", "dram"]
    widths = [p.get_width() for p in ax.patches]
    assert widths == pytest.approx([2.0, 0.1, 230.0, 20.0])


@pytest.mark.parametrize("unit, values, shown", [
    ("pJ", [2.3e11], "mJ"), ("pJ", [999.0], "pJ"), ("pJ", [1e12], "J"), ("µJ", [0.4], "nJ"),
    ("GE", [12_000.0], "kGE"), ("", [4.6e7], "million"), ("dB", [30.0], "dB"),
    ("pJ", [float("nan"), None], "pJ")])
def test_scale_in_picks_the_unit_where_the_largest_value_reads_1_to_1000(unit, values, shown):
    assert scale_in(unit, values).unit == shown


def test_cells_chart_stacks_the_most_used_types_and_the_rest_as_other(drawn):
    rows = [{"design": "a", "cells_by_type": {"$_AND_": 5, "$_XOR_": 3, "$_DFF_P_": 1}},
            {"design": "b", "cells_by_type": {"$_AND_": 1, "$_NOT_": 7}}]
    plots.cells_chart(rows, "unused.png", "cells", top=2)
    ax = drawn[0].axes[0]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["NOT", "AND", "other"]
    assert [p.get_width() for p in ax.patches] == [0, 7, 5, 1, 4, 0]  # NOT, AND, other
    assert ax.get_xlabel() == "cells"


def test_comparison_chart_pairs_each_comparison_and_says_whether_it_agrees(drawn):
    rows = [{"target": "generic", "metric": "area_ge", "expected_cheaper": "mxint8",
             "value_cheaper": 28_000.0, "other": "mxfp8", "value_other": 29_500.0,
             "agrees": True},
            {"target": "generic", "metric": "area_ge", "expected_cheaper": "int4",
             "value_cheaper": 900.0, "other": "fp4", "value_other": 700.0, "agrees": False}]
    plots.comparison_chart(rows, "unused.png", "compare")
    ax = drawn[0].axes[0]
    assert ax.get_xlabel() == "area (kGE)"
    assert [t.get_text() for t in ax.get_yticklabels()] == ["generic\nagrees",
                                                             "generic\nDISAGREES"]
    assert [p.get_width() for p in ax.patches] == pytest.approx([28.0, 0.9, 29.5, 0.7])
    assert [t.get_text() for t in ax.texts] == [" mxint8: 28", " mxfp8: 29.5", " int4: 0.9",
                                                " fp4: 0.7"]
