"""Synthesis reporting without running Yosys: GE weights, stat parsing, catalogue parameters,
Verilog top detection, baseline comparison and the Markdown table."""

import pytest

from lowbit.reports import area_baseline, catalogue, synthesis, targets
from lowbit.reports.gate_equivalents import GE_WEIGHTS, NAND2_UM2, area_ge
from lowbit.reports.tables import markdown_table


def test_ge_weights_are_nangate_areas_over_nand2():
    assert GE_WEIGHTS["$_NAND_"] == 1.0
    assert GE_WEIGHTS["$_NOT_"] == pytest.approx(0.532 / 0.798)
    assert GE_WEIGHTS["$_XOR_"] == pytest.approx(2.0)
    assert GE_WEIGHTS["$_DFF_P_"] == pytest.approx(4.522 / NAND2_UM2)
    # an inverter is smaller than a NAND2, which is smaller than XOR, MUX and a flip-flop
    assert GE_WEIGHTS["$_NOT_"] < 1 < GE_WEIGHTS["$_XOR_"] < GE_WEIGHTS["$_MUX_"] \
        < GE_WEIGHTS["$_DFF_P_"]


def test_area_ge_sums_weights_and_lists_unknown_cells():
    area, unknown = area_ge({"$_NAND_": 3, "$_DFF_P_": 2, "$_MUX_": 1, "$_WEIRD_": 5})
    assert area == pytest.approx(3 + 2 * 4.522 / 0.798 + 1.862 / 0.798)
    assert unknown == {"$_WEIRD_": 5}


def test_generic_metrics_from_a_stat_entry():
    module = {"num_cells_by_type": {"$_NAND_": 10, "$_NOT_": 3, "$_DFF_P_": 4, "$scopeinfo": 7},
              "estimated_num_transistors": "64+"}
    m = targets.get("generic").metrics(
        module, "Longest topological path in \\x (length=12):\n  0: a")
    assert m["cells"] == 17 and m["ffs"] == 4 and m["transistors"] == 64
    assert m["logic_depth"] == 12
    assert m["area_ge"] == pytest.approx(10 + 3 * 0.532 / 0.798 + 4 * 4.522 / 0.798, abs=1e-3)
    assert "$scopeinfo" not in m["cells_by_type"]


def test_generic_metrics_refuse_cells_without_a_weight():
    with pytest.raises(targets.TargetError, match=r"\$_ANDNOT_"):
        targets.get("generic").metrics({"num_cells_by_type": {"$_ANDNOT_": 1}})


@pytest.mark.parametrize("name, cells, expected", [
    ("ecp5", {"LUT4": 10, "CCU2C": 4, "TRELLIS_FF": 6, "MULT18X18D": 2, "DP16KD": 1,
              "PFUMX": 3}, (10, 6, 4, 2, 1)),
    ("xilinx", {"LUT2": 3, "LUT6": 2, "LUT6_2": 1, "FDRE": 5, "FDSE": 1, "CARRY8": 2,
                "DSP48E2": 1, "RAMB36E2": 2, "MUXF7": 4}, (6, 6, 2, 1, 2)),
    ("gowin", {"LUT1": 1, "LUT4": 2, "ALU": 8, "DFFRE": 3, "MULT9X9": 1, "MUX2_LUT5": 5},
     (3, 3, 8, 1, 0)),
    ("ice40", {"SB_LUT4": 7, "SB_CARRY": 2, "SB_DFFESR": 3, "SB_RAM40_4K": 1}, (7, 3, 2, 0, 1)),
])
def test_fpga_metrics_count_each_cell_family(name, cells, expected):
    m = targets.get(name).metrics({"num_cells_by_type": cells})
    assert (m["luts"], m["ffs"], m["carry_cells"], m["dsp_blocks"], m["bram_blocks"]) == expected


def test_liberty_sequential_cells_are_the_ones_with_ff_or_latch_groups():
    text = ('library (x) { cell (BUFF) { area : 1; pin (A) { direction : input; } }\n'
            'cell ("DFFQ") { ff (IQ, IQN) { next_state : "D"; } }\n'
            'cell (LAT) { latch (IQ, IQN) { data_in : "D"; } } }')
    assert targets.liberty_sequential_cells(text) == {"DFFQ", "LAT"}


def test_unknown_target_is_one_clear_error():
    with pytest.raises(targets.TargetError,
                       match="target must be one of generic, ice40, ecp5, xilinx, gowin, "
                             "liberty, not 'asic'"):
        targets.get("asic")


def test_nodsp_reaches_the_fpga_scripts_but_not_ice40():
    assert targets.get("ecp5").commands("top", dsp=False)[0].endswith("-nodsp")
    assert not any("nodsp" in c for c in targets.get("ice40").commands("top", dsp=False))
    assert not any("nodsp" in c for c in targets.get("ecp5").commands("top"))


def test_catalogue_parameters_and_names():
    d = catalogue.build_design("FloatMac", {"a": "fp4_e2m1", "b": "fp4_e2m1"})
    assert d.name == "floatmac_fp4_e2m1xfp4_e2m1_fp32" and d.unit == "FloatMac"
    assert d.params["acc"] == "fp32" and d.params["a"] == "fp4_e2m1"
    assert catalogue.build_design("intmac").name == "intmac_int8xint8_int32"  # any case
    assert catalogue.build_design("IntMac_int8xint8_int32").name == "intmac_int8xint8_int32"
    arr = catalogue.build_design("SystolicArray", {"rows": "2", "dataflow": "os",
                                                   "pe": "floatmac_fp4_e2m1xfp4_e2m1_fp32"})
    assert arr.name == "systolic2x4_os_floatmac_fp4_e2m1xfp4_e2m1_fp32"
    assert "module systolic2x4_os_floatmac_fp4_e2m1xfp4_e2m1_fp32" in arr.verilog
    assert arr.params["pe"] == "floatmac_fp4_e2m1xfp4_e2m1_fp32"
    assert catalogue.standard_names()[:2] == ["intmac_int8xint8_int32", "intmac_int4xint4_int32"]


@pytest.mark.parametrize("unit, params, message", [
    ("Multiplier", {}, "unknown design 'Multiplier'; design names start with intmac, floatmac, "
                       "positmac, mxdot, simdmac, systolic, addertree, lutcore"),
    ("IntMac", {"width": "8"}, "IntMac has no parameter 'width'; it takes a, b, acc"),
    ("SystolicArray", {"rows": "wide"}, "SystolicArray rows must be an integer, not 'wide'"),
    ("SystolicArray", {"pe": "systolic4x4_ws_intmac_int8xint8_int32"},
     "SystolicArray pe must be a MAC design (intmac_..., floatmac_..., positmac_..., "
     "mxdot_..., simdmac_...), not 'systolic4x4_ws_intmac_int8xint8_int32'"),
    ("SystolicArray", {"rows": "0"}, "SystolicArray rows must be an integer from 1 to 4096, "
                                     "not 0"),
    ("FloatMac", {"a": "fp9_e9m9"}, "fp9_e9m9"),
    ("FloatMac", {"acc": "kulisch"}, "FloatMac acc: unknown accumulator 'kulisch'"),
    ("floatmac_fp8_e4m3xfp8_e4m3_fp33", {}, "design 'floatmac_fp8_e4m3xfp8_e4m3_fp33': FloatMac "
     "acc: unknown accumulator 'fp33' (no format 'fp33'); did you mean 'fp32'?"),
    ("floatmac_fp8_e4m3_fp32", {}, "unknown design 'floatmac_fp8_e4m3_fp32'; did you mean "
     "'floatmac_fp8_e4m3xfp8_e4m3_fp32'?"),
    ("intmac_int8xint8_int32", {"a": "int4"}, "--param applies to a unit kind"),
])
def test_catalogue_bad_parameters_are_one_clear_error(unit, params, message):
    with pytest.raises(Exception) as info:
        catalogue.build_design(unit, params)
    assert message in str(info.value)
    assert isinstance(info.value, catalogue.LowbitError)


def test_verilog_top_detection(tmp_path):
    v = tmp_path / "two.v"
    v.write_text("module leaf(input a, output y); assign y = ~a; endmodule\n"
                 "module root(input a, output y); leaf u0 (.a(a), .y(y)); endmodule\n")
    assert synthesis.design_from_verilog(v).top == "root"
    assert synthesis.design_from_verilog(v, top="leaf").top == "leaf"
    with pytest.raises(synthesis.SynthesisError, match="top module 'nope' is not in"):
        synthesis.design_from_verilog(v, top="nope")
    both = tmp_path / "both.v"
    both.write_text("module p(input a, output y); assign y = a; endmodule\n"
                    "module q(input a, output y); assign y = a; endmodule\n")
    with pytest.raises(synthesis.SynthesisError, match=r"2 top-level modules \(p, q\)"):
        synthesis.design_from_verilog(both)
    with pytest.raises(synthesis.SynthesisError, match="does not exist"):
        synthesis.design_from_verilog(tmp_path / "missing.v")
    empty = tmp_path / "empty.v"
    empty.write_text("// nothing\n")
    with pytest.raises(synthesis.SynthesisError, match="defines no module"):
        synthesis.design_from_verilog(empty)


def test_synth_refuses_bad_requests_before_running_yosys(tmp_path):
    with pytest.raises(targets.TargetError, match="not 'asic'"):
        synthesis.synth(tmp_path / "x.v", ["asic"])
    with pytest.raises(synthesis.SynthesisError, match="liberty file .*nope.lib.* does not exist"):
        synthesis.synth(tmp_path / "x.v", ["generic"], liberty=tmp_path / "nope.lib")
    with pytest.raises(targets.TargetError, match="needs a liberty file"):
        synthesis.synth(tmp_path / "x.v", ["liberty"])
    with pytest.raises(synthesis.SynthesisError, match="synth takes a lowbit component"):
        synthesis.synth(42)
    with pytest.raises(synthesis.SynthesisError,
                       match="synth jobs must be an integer from 1 to 256, not 0"):
        synthesis.synth(tmp_path / "x.v", jobs=0)


def _row(design, target, **metrics):
    return {"design": design, "unit": "IntMac", "params": "", "target": target, **metrics}


def test_baseline_compare_flags_moves_beyond_two_percent(tmp_path):
    rows = [_row("a", "generic", area_ge=1000.0, ffs=33),
            _row("b", "generic", area_ge=2000.0, ffs=10),
            _row("c", "ecp5", luts=100, ffs=5, carry_cells=4, dsp_blocks=1, bram_blocks=0)]
    area_baseline.write_baselines(rows, tmp_path)
    same = [r | {} for r in rows]
    assert area_baseline.compare(same, folder=tmp_path) == []
    moved = [rows[0] | {"area_ge": 1019.0},          # +1.9%: held
             rows[1] | {"area_ge": 2050.0},          # +2.5%: moved
             rows[2] | {"dsp_blocks": 2},            # one more DSP block: moved
             _row("new", "generic", area_ge=5.0, ffs=1)]
    problems = area_baseline.compare(moved, folder=tmp_path)
    assert problems == [("b", "generic", "area_ge", "2000", "2050", "+2.5%"),
                        ("c", "ecp5", "dsp_blocks", "1", "2", "+100.0%"),
                        ("new", "generic", "(no baseline row)", "-", "-", "-")]
    text = area_baseline.format_diff(problems, folder=tmp_path)
    assert f"area moved by more than 2% against {tmp_path}" in text
    assert "lowbit synth --all --write-baselines" in text
    assert ["b", "generic", "area_ge", "2000", "2050", "+2.5%"] in [
        line.split() for line in text.splitlines()]


def test_markdown_table_aligns_numbers_right():
    text = markdown_table([{"design": "x", "area_ge": 1436.333, "ffs": 33},
                           {"design": "y|z", "area_ge": None, "ffs": 4}],
                          ("design", "area_ge", "ffs"))
    assert text.splitlines() == ["| design | area_ge | ffs |", "|---|---:|---:|",
                                 "| x | 1,436.3 | 33 |", "| y\\|z | - | 4 |"]


def test_synth_is_reachable_as_lowbit_reports_synth():
    import lowbit.reports

    assert lowbit.reports.synth is synthesis.synth
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        lowbit.reports.nope  # noqa: B018


def test_each_target_names_its_area_metric():
    assert {t: targets.get(t).area_metric for t in targets.TARGETS} == {
        "generic": "area_ge", "ice40": "luts", "ecp5": "luts", "xilinx": "luts",
        "gowin": "luts", "liberty": "area_um2"}
