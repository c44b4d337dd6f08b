"""The tensor-engine comparison (baseline vs bit-weight per shape, beside the HPCA 2025
paper's ratios): the arithmetic and the verdicts on hand-made synthesis rows, one small
iso-throughput pair through Yosys by default, all four shapes (generic and ecp5) with
``--full``."""

import pytest

from lowbit.hdl import designs
from lowbit.reports import power
from lowbit.reports import tpe_comparisons as T
from lowbit.reports.switching_energy import PARTS
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
    (row,) = T.tpe_comparison([small], luts=False, cache_dir=tmp_path, jobs=2,
                              energy_options={"k": 32})
    assert row["peak_macs_per_cycle"] == 4
    for side in ("baseline", "bitweight"):
        assert row[f"area_ge_{side}"] > 0 and row[f"fmax_mhz_{side}"] > 0
        assert row[f"area_eff_{side}"] == T.area_efficiency(4, row[f"fmax_mhz_{side}"],
                                                            row[f"area_ge_{side}"])
    assert row["area_eff_ratio"] == round(row["area_eff_bitweight"] / row["area_eff_baseline"],
                                          3)
    # energy: both designs on the same operand codes, each at its own Fmax; ops per joule
    # recomputed here from the simulation's raw totals (fJ over all lanes and cycles, leakage
    # power over the run's cycle time), not from the per-MAC parts the row is made of
    base, bw = small.designs()
    for side, spec in (("baseline", base), ("bitweight", bw)):
        report = power.measure(spec, "gaussian", k=32, cache_dir=tmp_path)
        assert report.settings["stream_sha256_12"] == row["stream_sha256_12"]
        e = report.energy
        m, n = report.settings["m"], report.settings["n"]
        assert e.operations == m * n * 32 and e.lanes == 64  # MACs of each lane's GEMM
        assert report.clock == "fmax"
        assert report.clock_mhz == pytest.approx(row[f"fmax_mhz_{side}"], rel=1e-3)
        seconds = e.cycles / (report.clock_mhz * 1e6)
        joules = (e.datapath_fj + e.registers_fj + e.clock_fj) * 1e-15 + \
            e.leakage_nw * 1e-9 * seconds * e.lanes
        ops = 2 * e.operations * e.lanes
        assert row[f"energy_eff_{side}"] == pytest.approx(ops / joules, rel=1e-9)
        assert row[f"pj_per_mac_{side}"] == pytest.approx(
            sum(row[f"{p}_pj_per_mac_{side}"] for p in PARTS), rel=1e-12)
    assert row["energy_eff_ratio"] == round(row["energy_eff_bitweight"] /
                                            row["energy_eff_baseline"], 3)
    assert row["energy_why"].startswith("agrees" if row["energy_agrees"] else "does not agree")
    assert "| 3d_cube | " in T.markdown([row]).split("Energy per MAC")[1]


def test_energy_verdicts_say_which_parts_moved():
    parts = {"datapath": (1.0, 0.5), "registers": (0.2, 0.3), "clock": (0.8, 1.4),
             "leakage": (0.06, 0.04)}
    assert T.energy_verdict(0.9, 1.04, parts) == (
        False, "does not agree: the rewrite costs energy (0.90x against 1.04x; pJ/MAC datapath "
               "1.000 -> 0.500, leakage 0.060 -> 0.040, registers 0.200 -> 0.300, clock 0.800 "
               "-> 1.400)")
    assert T.energy_verdict(0.9, 1.04, parts, (10, 30))[1].endswith(
        "clock 0.800 -> 1.400; flip-flops 10 -> 30: compressing the partial products in "
        "carry-save form and resolving them once per output saves datapath energy, but the "
        "carry-save state (sum and carry rows per output) adds clocked flip-flops)")
    assert T.energy_verdict(1.5, 1.49, parts)[0] is True
    assert T.energy_verdict(1.2, 1.56, parts)[1].startswith(
        "does not agree in size: 1.20x against 1.56x, the same way but 23% below")


def test_a_pair_measured_on_different_operands_is_refused(tmp_path):
    base, bw, generic = _rows(1000.0, 500.0, 800.0, 500.0)
    reports = {base.name: _FakeReport(base.name, {"k": 32}),
               bw.name: _FakeReport(bw.name, {"k": 64})}
    raises_exactly(lambda: T.compare_pair(SHAPE, base, bw, generic, {}, reports),
                   designs.DesignError,
                   "cube2x2x4_intmac_int8xint8_int32 and cube2x2x4_bwmac_int8xint8_int32 were "
                   "measured on different operands (gaussian {'k': 32} vs gaussian {'k': 64}): "
                   "not a pair")


class _FakeReport:
    def __init__(self, design, settings):
        self.design, self.settings, self.stream = design, settings, "gaussian"


@pytest.mark.full
def test_all_four_shapes():
    rows = T.tpe_comparison()
    assert [r["shape"] for r in rows] == ["systolic", "3d_cube", "adder_tree", "2d_matrix"]
    for r in rows:
        assert r["ecp5_luts_baseline"] > 0 and r["ecp5_luts_bitweight"] > 0
        assert r["why"].startswith("agrees" if r["agrees"] else "does not agree")
        assert r["pj_per_mac_baseline"] > 0 and r["pj_per_mac_bitweight"] > 0
        assert r["energy_why"].startswith("agrees" if r["energy_agrees"] else "does not agree")
