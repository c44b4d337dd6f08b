"""`lowbit regress --quick` on Verilator: every quick configuration through the fast path, 0
mismatches, latency equal to the component's, engines' cycles equal to their closed forms,
vectors counted per run, JSON and JUnit written."""

import json
import subprocess
import sys
import xml.etree.ElementTree as ET

from lowbit.verify import regression


def test_quick_regression_passes(tmp_path):
    out_json, out_xml = tmp_path / "regress.json", tmp_path / "regress.xml"
    r = subprocess.run([sys.executable, "-m", "lowbit.cli", "regress", "--quick", "--json",
                        str(out_json), "--junit", str(out_xml)], capture_output=True, text=True,
                       timeout=1800)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    data = json.loads(out_json.read_text())
    rows = data["rows"]
    expected = [(e.name, vs) for e in regression.entries(full=False) for vs in e.sets(False)]
    assert [(row["design"], row["vector_set"]) for row in rows] == expected
    for row in rows:
        assert row["status"] == "pass" and row["mismatches"] == 0
        assert row["driver"] == "fast"  # every unit and engine: the checker wrapper
        assert row["vectors"] > 0 and row["latency"] == row["latency_expected"]
    exhaustive = {row["design"]: row["vectors"] for row in rows
                  if row["vector_set"] == "exhaustive"}
    assert exhaustive["intmac_int8xint8_int20"] == exhaustive["intmac_int8xint8_int18_sat"] \
        == 65536
    assert exhaustive["floatmac_fp8_e4m3xfp8_e4m3_fp32"] == 65536
    assert exhaustive["floatmac_fp4_e2m1xfp4_e2m1_fp32"] == 256
    assert data["vectors"] == sum(row["vectors"] for row in rows)
    # Engines: whole GEMMs, each with its cycles measured equal to the closed form.
    engines = {(row["unit"], row["design"]): row for row in rows if "gemms" in row}
    assert {("SystolicArray", "systolic4x4_ws_intmac_int8xint8_int24"),
            ("SystolicArray", "systolic4x4_os_floatmac_fp8_e4m3xfp8_e4m3_fp32")} <= set(engines)
    assert {unit for unit, _ in engines} == {"SystolicArray", "AdderTreeEngine", "LutTensorCore",
                                             "MatrixEngine", "CubeEngine", "MixPEArray"}
    for row in engines.values():
        assert len(row["gemms"]) >= 5 and row["cycle_mismatches"] == 0
        assert all(g["cycles"] == g["cycles_expected"] for g in row["gemms"])
    suite = ET.parse(out_xml).getroot()
    assert suite.get("tests") == str(len(rows)) and suite.get("failures") == "0"
