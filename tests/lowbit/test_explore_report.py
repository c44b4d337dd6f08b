"""The sweep report's reading aids: units chosen so numbers read at a glance, constant columns
found, columns grouped, one style per category across plots, hover text naming the point and
the points sharing its position."""

import pytest

from lowbit.explore.report_columns import column, grouped, human, scale_for, split_fixed, \
    with_unit
from lowbit.explore.report_figures import COLOURS, Plot, Styles


@pytest.mark.parametrize("name, values, unit, shown", [
    ("energy_pj", [2.5e11, 1e9], "mJ", "250 mJ"),  # 0.25 J reads as 250 mJ
    ("energy_pj", [3.2e9, 1e8], "mJ", "3.2 mJ"),
    ("energy_per_token_uj", [1_094_000.0], "J", "1.094 J"),
    ("energy_per_token_uj", [0.5], "nJ", "500 nJ"),
    ("array_area_ge", [7_238_000.0, 49_510.0], "MGE", "7.238 MGE"),
    ("mac_area_ge", [1477.0], "kGE", "1.477 kGE"),
    ("mac_area_ge", [812.0], "GE", "812 GE"),
    ("cycles", [4.159e8], "million", "415.9 million"),
    ("mlp_accuracy", [0.9733], "%", "97.33 %"),
    ("sqnr_db", [23.52], "dB", "23.52 dB"),
])
def test_scale_reads_the_largest_value_between_1_and_1000(name, values, unit, shown):
    col = column(name)
    scale = scale_for(col, values)
    assert scale.unit == unit
    assert with_unit(values[0], col, scale_for(col, [values[0]])) == shown


def test_axis_titles_name_label_and_unit():
    col = column("energy_per_token_uj")
    assert col.axis_title(scale_for(col, [2e6])) == "energy per token (J)"
    assert column("format", axes=("format",)).axis_title() == "format"
    assert column("my_metric").axis_title() == "my metric"


def test_human_numbers_have_separators_and_no_exponents():
    assert human(4_159_000_000) == "4,159,000,000"
    assert human(12345.678) == "12,346"
    assert human(0.09473) == "0.09473"
    assert human(None) == "n/a" and human(False) == "False" and human("os") == "os"


def test_split_fixed_finds_constant_columns_only_with_two_rows():
    rows = [{"rows": 16, "format": "int8", "notes": "x"}, {"rows": 16, "format": "fp8"}]
    assert split_fixed(rows, ["rows", "format", "notes"]) == ({"rows": 16},
                                                              ["format", "notes"])
    assert split_fixed(rows[:1], ["rows"]) == ({}, ["rows"])


def test_grouped_orders_design_quality_area_timing_energy_cycles():
    cols = ["cycles", "energy_pj", "sqnr_db", "format", "mac_area_ge", "mine"]
    assert grouped(cols, axes=("format",)) == [
        ("design", ["format"]), ("quality", ["sqnr_db"]), ("area", ["mac_area_ge"]),
        ("energy", ["energy_pj"]), ("cycles", ["cycles"]), ("other", ["mine"])]


def test_styles_are_stable_per_value_and_distinct_for_ten_values():
    styles = Styles(["int8", "fp8_e4m3", "mxint8"])
    later = Styles(["int8", "fp8_e4m3", "mxint8"])
    assert [styles.colour(v) for v in ("mxint8", "int8")] == \
        [later.colour(v) for v in ("mxint8", "int8")]
    values = [f"f{i}" for i in range(len(COLOURS))]
    ten = Styles(values)
    assert len({ten.colour(v) for v in values}) == len({ten.marker(v) for v in values}) == 10
    assert (ten.colour("f10"), ten.marker("f10")) != (ten.colour("f0"), ten.marker("f0"))


def test_tooltip_names_the_point_and_the_points_at_its_position():
    rows = [{"format": "int8", "array_area_ge": 1e6, "energy_pj": 2e9},
            {"format": "mxint8", "array_area_ge": 1e6, "energy_pj": 2e9},
            {"format": "fp8", "array_area_ge": 3e6, "energy_pj": 1e9}]
    plot = Plot(rows, "array_area_ge", "energy_pj", "format", Styles(), [],
                label=lambda r: r["format"], hover=lambda r: [])
    assert plot.tooltip(rows[0]).split("<br>") == [
        "<b>int8</b>", "array area: 1 MGE", "energy: 2 mJ", "same position as: mxint8"]


def test_a_plot_without_points_still_draws():
    """Every point failed or n/a: both figures draw, empty, without warnings."""
    import warnings

    from lowbit.explore.report_figures import plotly_figure, png
    plot = Plot([{"format": "nvfp4", "energy_pj": None, "sqnr_db": 19.2}], "energy_pj",
                "sqnr_db", "format", Styles(), [], label=str, hover=lambda r: [], connect=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert png(plot)[:4] == b"\x89PNG"
        assert len(plotly_figure(plot).data) == 0


def test_three_objectives_ring_the_front_without_joining_it(tmp_path):
    from lowbit.explore import Space, Sweep, run_sweep, write_report
    sweep = Sweep("three", Space({"a_fmt": ["int8", "fp8_e4m3", "mxfp4"], "k": 64,
                                  "tokens": 4, "n": 4}), ("gemm",),
                  objectives={"sqnr_db": "max", "max_abs_error": "min", "k": "min"})
    rows = run_sweep(sweep, out=tmp_path, workers=1, progress=False).rows
    page = write_report(sweep, rows, str(tmp_path))["html"].read_text()
    assert "Pareto front: max abs error vs GEMM SQNR (front over k too)" in page
    assert '"mode":"markers","name":"Pareto front"' in page  # no line
