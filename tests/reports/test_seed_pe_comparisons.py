"""The seed PEs' comparisons (XR-NPE multi-format MAC, MixPE) redone with lowbit's flows.

``make test`` checks the comparison arithmetic on a small multi-format unit (one posit4_1 mode:
four lanes against four PositMacs; seconds of Yosys) and the decode-GEMV cycle counts against
closed forms written out here; ``--full`` synthesizes the published XR-NPE configuration and
the MixPE designs on every target (many minutes)."""

import math

import pytest

from lowbit.hdl import designs
from lowbit.reports import power, synthesis
from lowbit.reports import seed_pe_comparisons as S
from lowbit.reports.catalogue import build_design

SMALL = "multiformat_posit4_1_quire"  # one mode, four posit4_1 lanes: a seconds-long synthesis


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return tmp_path_factory.mktemp("seed_pe_synth")


@pytest.fixture(scope="module")
def reference(cache):
    """The small unit and its single-format MAC synthesized directly: the reference for the
    comparison rows' arithmetic."""
    return synthesis.synth([build_design(SMALL), build_design("positmac_posit4_1_quire")],
                           ["generic"], cache_dir=cache)


def test_single_format_units_follow_the_published_lanes():
    # XR-NPE: four 4-bit lanes, two 8-bit lanes or one 16-bit lane per cycle; each lane's MAC
    # has the multi-format unit's accumulator for that format.
    assert S.single_format_units() == [("floatmac_fp4_e2m1xfp4_e2m1_exact_fp32", 4),
                                       ("positmac_posit4_1_quire", 4),
                                       ("positmac_posit8_0_quire", 2),
                                       ("positmac_posit16_1_quire", 1)]
    assert S.single_format_units(SMALL) == [("positmac_posit4_1_quire", 4)]


def test_xrnpe_rows_sum_the_separate_units(cache, reference):
    rows = S.xrnpe_comparison(SMALL, targets=("generic",), cache_dir=cache)
    multi, single = reference
    by = {r["metric"]: r for r in rows}
    assert set(by) == {"area_ge", "ffs", "fmax_mhz"}
    for metric in ("area_ge", "ffs"):
        row = by[metric]
        assert row["value"] == multi[metric]
        assert row["baseline_value"] == pytest.approx(4 * single[metric], abs=1e-3)
        assert row["advantage"] == pytest.approx(4 * single[metric] / multi[metric], abs=1e-3)
        assert row["agrees"] == (row["advantage"] > 1.05)
        assert row["baseline"] == "4 x positmac_posit4_1_quire"
    fmax = by["fmax_mhz"]
    assert (fmax["value"], fmax["baseline_value"]) == (multi["fmax_mhz"],
                                                       pytest.approx(single["fmax_mhz"]))
    assert fmax["agrees"] is False and "28 nm" in fmax["why"]
    assert by["area_ge"]["published_advantage"] == pytest.approx(1 / 0.58, abs=1e-3)


def test_xrnpe_cells_by_type_add_up_to_the_cell_counts(cache, reference):
    cells = S.xrnpe_cells(SMALL, cache_dir=cache)
    multi, single = reference
    assert sum(r["multi_format"] for r in cells) == multi["cells"]
    assert sum(r["separate"] for r in cells) == 4 * single["cells"]
    counts = [r["multi_format"] + r["separate"] for r in cells]
    assert counts == sorted(counts, reverse=True)


def _mixpe_array_cycles(M, K, N, rows=1, cols=16, k_step=4, group=128, latency=2):
    """MixPEArray's schedule written out: row-major output tiles, per tile the groups of K of
    ``group / k_step`` beats (the last group ragged), the last group dequantized one edge
    later."""
    beats = (K // group) * (group // k_step) + math.ceil((K % group) / k_step)
    return math.ceil(M / rows) * math.ceil(N / cols) * beats + latency - 1


def test_decode_gemv_cycles_follow_the_schedules():
    rows = S.mixpe_decode_cycles(("int4",))
    ops = S.decode_gemv_ops("int4")
    # LLaMA-2-7B: 32 layers of q, k, v, o (4096 x 4096), gate and up (4096 -> 11008), down
    # (11008 -> 4096), and the 4096 x 32000 head
    macs = 32 * (4 * 4096 * 4096 + 3 * 4096 * 11008) + 4096 * 32000
    mixpe = sum(op.repeat * _mixpe_array_cycles(op.m, op.k, op.n) for op in ops)
    tree_depth = designs.get("addertree64_floatmac_fp16xfp16_fp32").latency
    tree = sum(op.repeat * (op.m * op.n * math.ceil(op.k / 64) + tree_depth) for op in ops)
    assert [r["baseline"] for r in rows] == ["addertree64_floatmac_fp16xfp16_fp32",
                                             "systolic1x64_os_floatmac_fp16xfp16_fp32"]
    for r in rows:
        assert r["design"] == "mixpearray1x16_mixpe_fp16xint4_g128_fp32"
        assert (r["macs"], r["value"], r["peak_macs_per_cycle"]) == (macs, mixpe, 64)
        assert r["advantage"] == pytest.approx(r["baseline_value"] / mixpe, abs=1e-3)
        assert r["agrees"] == (r["advantage"] > 1.05)
    assert rows[0]["baseline_value"] == tree
    # iso-throughput: both engines keep 64 multipliers busy on a GEMV
    assert rows[0]["utilization"] > 0.99 and rows[0]["agrees"] is False


def _pj_per_product(report, clock_mhz):
    """pJ per product from a measurement's raw totals (fJ over every lane and cycle, leakage
    power over the run's time at ``clock_mhz``) and its product count."""
    e = report.energy
    fj = e.datapath_fj + e.registers_fj + e.clock_fj + \
        e.leakage_nw * e.lanes * e.cycles / clock_mhz  # nW x (cycles / MHz = us) = fJ
    return fj / 1e3 / (e.lanes * e.operations)


def test_xrnpe_energy_compares_pj_per_product_at_one_clock(cache, reference):
    (row,) = S.xrnpe_energy(SMALL, cache_dir=cache, k=16)
    multi = power.measure(SMALL, "gaussian", k=16, cache_dir=cache)
    single = power.measure("positmac_posit4_1_quire", "gaussian", k=16, cache_dir=cache)
    # the same products: 512 dot products of 16, four per cycle against one per cycle
    assert multi.energy.lanes * multi.energy.operations == \
        single.energy.lanes * single.energy.operations == 512 * 16
    assert multi.settings["stream_sha256_12"] == single.settings["stream_sha256_12"]
    clock = min(multi.fmax_mhz, single.fmax_mhz)
    assert row["clock_mhz"] == round(clock, 1)
    assert row["value"] == pytest.approx(_pj_per_product(multi, clock), abs=1e-4)
    assert row["baseline_value"] == pytest.approx(_pj_per_product(single, clock), abs=1e-4)
    assert row["baseline"] == "4 x positmac_posit4_1_quire" and row["mode"] == "posit4_1"
    assert row["advantage"] == pytest.approx(row["baseline_value"] / row["value"], rel=1e-3)
    assert row["agrees"] == (row["advantage"] > 1.05)
    assert row["published_advantage"] == pytest.approx(1 / 0.62, abs=1e-3)


def test_decode_engines_must_be_iso_throughput():
    engines = ("mixpearray1x8_{pe}", "addertree64_floatmac_fp16xfp16_fp32")
    with pytest.raises(ValueError, match="addertree64_floatmac_fp16xfp16_fp32 does 64 MACs per "
                                         "cycle, mixpearray1x8_mixpe_fp16xint4_g128_fp32 32: "
                                         "not iso-throughput"):
        S.mixpe_decode_cycles(("int4",), engines)


@pytest.mark.full
def test_xrnpe_published_configuration_on_every_target():
    rows = S.xrnpe_comparison()
    assert {(r["target"], r["metric"]) for r in rows} == {
        ("generic", "area_ge"), ("generic", "ffs"), ("generic", "fmax_mhz"),
        ("ecp5", "luts"), ("ecp5", "ffs"), ("ecp5", "dsp_blocks"),
        ("gowin", "luts"), ("gowin", "ffs"), ("gowin", "dsp_blocks")}
    by = {(r["target"], r["metric"]): r for r in rows}
    # the point of RMMEC and the shared quire: fewer gates and registers than eleven MACs
    assert by[("generic", "area_ge")]["agrees"] and by[("generic", "ffs")]["agrees"]
    split = S.xrnpe_area_split()
    assert {"decode", "rmmec", "quire", "round"} <= {r["block"] for r in split}
    assert sum(r["share_pct"] for r in split) == pytest.approx(100, abs=0.5)


@pytest.mark.full
def test_mixpe_area_per_mac_on_every_target():
    rows = S.mixpe_area(targets=("generic", "ecp5", "gowin"))
    assert len(rows) == 9
    for r in rows:
        assert r["advantage"] == pytest.approx(r["baseline_value"] / r["value"], rel=1e-3)
        assert r["agrees"] == (r["advantage"] > 1.05)


def test_markdown_has_every_table_and_counts_the_verdicts():
    row = {"target": "generic", "metric": "area_ge", "design": "d", "value": 1.0,
           "baseline": "b", "baseline_value": 2.0, "advantage": 2.0, "published": "p",
           "agrees": True, "why": "w"}
    cycles = {**row, "utilization": 1.0, "agrees": False}
    text = S.markdown([row], [{"cell": "$_AND_", "multi_format": 3, "separate": 5}],
                      [{"block": "rmmec", "area_ge": 10.0, "ffs": 0, "share_pct": 100.0}],
                      [row], [cycles])
    assert text.count("\n## ") == 5
    assert "| $_AND_ | 3 | 5 |" in text
    assert text.endswith("lowbit agrees with the published figure in 2 of 3 rows.\n")


@pytest.mark.full
def test_energy_of_the_published_configurations():
    rows = S.xrnpe_energy()
    assert [r["mode"] for r in rows] == ["fp4_e2m1", "posit4_1", "posit8_0", "posit16_1"]
    gating = S.xrnpe_gating()
    # one row per mode (its lanes on) and mode 0 with 1, 2 and 3 of its 4 lanes on
    assert [(r["mode"], r["lanes_on"]) for r in gating] == [
        ("fp4_e2m1", 4), ("posit4_1", 4), ("posit8_0", 2), ("posit16_1", 1),
        ("fp4_e2m1", 1), ("fp4_e2m1", 2), ("fp4_e2m1", 3)]
    on = [r["pj_per_cycle_gated"] for r in gating[4:]] + [gating[0]["pj_per_cycle_gated"]]
    assert on == sorted(on)  # more lanes on, more energy per cycle
    mixpe = S.mixpe_energy()
    assert [r["design"] for r in mixpe] == S.mixpe_designs()
    for r in (*rows, *mixpe):
        assert r["advantage"] == pytest.approx(r["baseline_value"] / r["value"], rel=1e-3)
