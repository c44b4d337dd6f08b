"""The tensor-engine comparison (baseline vs bit-weight per shape, beside the HPCA 2025
paper's ratios): the arithmetic and the verdicts on hand-made synthesis rows, one small
iso-throughput pair through Yosys by default, all four shapes (generic and ecp5) with
``--full``."""

import pytest

from lowbit.hdl import designs
from lowbit.reports import tpe_comparisons as T
from tests.expect import raises_exactly

SHAPE = T.Shape("3d_cube", "cube2x2x4_{}", 1.28, 1.56)


def _rows(base_ge, base_mhz, bw_ge, bw_mhz):
    base, bw = SHAPE.designs()
    generic = {base.name: {"area_ge": base_ge, "fmax_mhz": base_mhz, "delay_ps": 1e6 / base_mhz,
                           "ffs": 10},
               bw.name: {"area_ge": bw_ge, "fmax_mhz": bw_mhz, "delay_ps": 1e6 / bw_mhz,
                         "ffs": 20}}
    return base, bw, generic


def test_the_four_shapes_are_iso_throughput_twins_in_the_standard_catalogue():
    standard = set(designs.standard_names())
    for shape in T.SHAPES:
        base, bw = shape.designs()
        assert base.peak_macs_per_cycle == bw.peak_macs_per_cycle == 16
        assert {base.name, bw.name} <= standard
        assert bw.pe.kind == "bwmac" and base.pe.name == T.BASELINE_PE
    assert [s.paper_area_efficiency for s in T.SHAPES] == [1.27, 1.28, 1.56, 1.44]
    assert [s.paper_energy_efficiency for s in T.SHAPES] == [1.04, 1.56, 1.49, 1.20]


def test_area_efficiency_is_ops_per_second_per_gate_equivalent():
    # 16 MACs x 2 ops x 500e6 cycles/s over 1000 GE
    assert T.area_efficiency(16, 500.0, 1000.0) == 1.6e7


def test_a_row_from_synthesis_rows():
    base, bw, generic = _rows(1000.0, 500.0, 800.0, 500.0)
    fpga = {base.name: {"luts": 300}, bw.name: {"luts": 200}}
    row = T.compare_pair(SHAPE, base, bw, generic, fpga)
    assert row["area_eff_baseline"] == 1.6e7 and row["area_eff_bitweight"] == 2e7
    assert row["area_eff_ratio"] == 1.25 and row["ecp5_lut_ratio"] == 1.5
    assert row["agrees"] is True
    assert row["why"] == "agrees: 1.25x against 1.28x (area x1.25, Fmax x1.00)"


@pytest.mark.parametrize("bw_ge, bw_mhz, why", [
    (1200.0, 500.0, "does not agree: the rewrite loses (0.83x against 1.28x; area x0.83, "
                    "Fmax x1.00)"),
    (900.0, 400.0, "does not agree: the rewrite loses (0.89x against 1.28x; area x1.11, "
                   "Fmax x0.80)"),
    (800.0, 450.0, "does not agree in size: 1.12x against 1.28x, the same way but 12% below "
                   "(area x1.25, Fmax x0.90; the carry-save datapath is smaller but its one "
                   "compressor tree and carry-propagate adder per output make a longer path "
                   "than the baseline's pipelined multiplier and adder tree)"),
    (500.0, 500.0, "does not agree in size: 2.00x against 1.28x, the same way but 56% above "
                   "(area x2.00, Fmax x1.00; both area and Fmax move its way)"),
])
def test_verdicts_say_why(bw_ge, bw_mhz, why):
    base, bw, generic = _rows(1000.0, 500.0, bw_ge, bw_mhz)
    row = T.compare_pair(SHAPE, base, bw, generic, {})
    assert row["agrees"] is False and row["why"] == why
    assert "ecp5_luts_baseline" not in row


def test_pairs_must_share_the_peak_rate():
    base = designs.get("cube2x2x4_intmac_int8xint8_int32")
    other = designs.get("cube2x2x2_bwmac_int8xint8_int32")
    raises_exactly(lambda: T.compare_pair(SHAPE, base, other, {}, {}), designs.DesignError,
                   "cube2x2x2_bwmac_int8xint8_int32 does 8 MACs per cycle, "
                   "cube2x2x4_intmac_int8xint8_int32 16: not an iso-throughput pair")


def test_markdown_lists_measured_and_published_ratios():
    base, bw, generic = _rows(1000.0, 500.0, 800.0, 500.0)
    text = T.markdown([T.compare_pair(SHAPE, base, bw, generic, {})])
    assert "| 3d_cube | 16 | 1000 / 800 | 500 / 500 | n/a | 1.25 | 1.28 | yes |" in text
    assert "3d_cube 1.56x): not measured" in text


def test_a_small_pair_through_yosys(tmp_path):
    small = T.Shape("3d_cube", "cube1x2x2_{}", 1.28, 1.56)  # 4 MACs per cycle
    (row,) = T.tpe_comparison([small], luts=False, cache_dir=tmp_path, jobs=2)
    assert row["peak_macs_per_cycle"] == 4
    for side in ("baseline", "bitweight"):
        assert row[f"area_ge_{side}"] > 0 and row[f"fmax_mhz_{side}"] > 0
        assert row[f"area_eff_{side}"] == T.area_efficiency(4, row[f"fmax_mhz_{side}"],
                                                            row[f"area_ge_{side}"])
    assert row["area_eff_ratio"] == round(row["area_eff_bitweight"] / row["area_eff_baseline"],
                                          3)


@pytest.mark.full
def test_all_four_shapes():
    rows = T.tpe_comparison()
    assert [r["shape"] for r in rows] == ["systolic", "3d_cube", "adder_tree", "2d_matrix"]
    for r in rows:
        assert r["ecp5_luts_baseline"] > 0 and r["ecp5_luts_bitweight"] > 0
        assert r["why"].startswith("agrees" if r["agrees"] else "does not agree")
