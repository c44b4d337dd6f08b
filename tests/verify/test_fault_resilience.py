"""Resilience campaigns: faults in a GEMM engine's netlist, judged against golden.

``make test`` runs a small campaign on a 2x2 int8 output-stationary array (30 stuck-at faults,
30 upsets, every accumulator bit); the acceptance campaigns (4x4 int8 and fp8_e4m3 arrays,
2,401 faults per model) are behind ``--full``.
"""

import json
import shutil

import numpy as np
import pytest

from lowbit.golden import formats as F
from lowbit.golden.accumulators import FixedAccumulator
from lowbit.hdl.int_mac import IntMac
from lowbit.hdl.systolic_array import SystolicArray
from lowbit.reports.plots import bit_vulnerability
from lowbit.verify.faults import resilience
from lowbit.verify.runner import SimulatorCrashed

pytestmark = pytest.mark.xdist_group("rtl")

SMALL = "systolic2x2_os_intmac_int8xint8_int16"


def _small_engine():
    mac = IntMac(F.get("int8"), F.get("int8"), acc=FixedAccumulator(16, 0, "wrap"))
    return SystolicArray(2, 2, mac, "os")


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    out = tmp_path_factory.mktemp("res")
    summary = resilience.run_resilience(_small_engine(), SMALL, faults=30, seed=2, out_dir=out)
    return out, summary


def test_every_sampled_fault_is_classified(small):
    _, s = small
    for label in ("stuck", "upset"):
        r = s["rates"][label]
        assert r["n"] == 30
        assert r["masked_count"] + r["sdc_count"] + r["hang_count"] == 30
        assert r["sdc_ci_low"] <= r["sdc_rate"] <= r["sdc_ci_high"]
    assert s["rates"]["stuck/stuck_at_0"]["n"] + s["rates"]["stuck/stuck_at_1"]["n"] == 30


def test_bit_map_covers_every_accumulator_bit(small):
    out, s = small
    bits = [r["bit"] for r in s["bit_map"]]
    assert bits == list(range(16))
    assert all(r["runs"] == 12 for r in s["bit_map"])  # 4 PEs x (stuck-at-0, stuck-at-1, upset)
    low = np.median([r["median_rel_error"] for r in s["bit_map"][:4]])
    high = np.median([r["median_rel_error"] for r in s["bit_map"][-4:]])
    assert high > 100 * low  # an integer register: the error follows the bit's weight
    bit_vulnerability(s["bit_map"], out / "bit_map.png", "test")
    assert (out / "bit_map.png").read_bytes()[:4] == b"\x89PNG"


def test_an_interrupted_campaign_resumes_to_the_same_rows(small, tmp_path):
    out, s = small
    shutil.copytree(out, tmp_path / "again")
    runs = (tmp_path / "again" / "runs.jsonl").read_text().splitlines()
    (tmp_path / "again" / "runs.jsonl").write_text("\n".join(runs[:len(runs) // 2]) +
                                                   "\n" + runs[len(runs) // 2][:9])  # cut off
    again = resilience.run_resilience(_small_engine(), SMALL, faults=30, seed=2,
                                      out_dir=tmp_path / "again")
    assert again["rates"] == s["rates"] and again["bit_map"] == s["bit_map"]
    assert (tmp_path / "again" / "faults.csv").read_text() == (out / "faults.csv").read_text()


def test_another_campaign_never_overwrites_a_folder_of_results(small):
    out, _ = small
    before = (out / "runs.jsonl").read_text()
    with pytest.raises(resilience.ResilienceError,
                       match=r"holds another campaign's results \(.*n 30 -> 31"):
        resilience.run_resilience(_small_engine(), SMALL, faults=31, seed=2, out_dir=out)
    assert (out / "runs.jsonl").read_text() == before


def test_a_fault_run_whose_simulation_keeps_crashing_is_unknown_and_the_rest_complete(
        small, tmp_path, monkeypatch):
    """The simulation crashes every time it reaches fault run 5: runs before it are kept, run
    5 is recorded unknown with the reason, the campaign goes on and every other run is
    classified."""
    real = resilience.run_testbench
    stuck = 5

    def crashing_at_run(rtl, module, env, **kwargs):
        plan_file = env["LOWBIT_FAULT_RUNS"]
        plan = json.loads(plan_file.read_text())
        runs = [p[0] for p in plan]
        if stuck in runs:  # simulate up to run 5, then die as a killed simulator would
            plan_file.write_text(json.dumps(plan[:runs.index(stuck)]))
            if len(plan[:runs.index(stuck)]) > 1:
                real(rtl, module, env, **kwargs)
            raise SimulatorCrashed("verilator simulation killed by SIGSEGV 3 times on x",
                                   tool="verilator simulation", signal_name="SIGSEGV",
                                   attempts=3)
        return real(rtl, module, env, **kwargs)

    monkeypatch.setattr(resilience, "run_testbench", crashing_at_run)
    said = []
    s = resilience.run_resilience(_small_engine(), SMALL, faults=30, seed=2, out_dir=tmp_path,
                                  say=said.append)
    reason = "verilator simulation killed by SIGSEGV 3 times"
    assert s["unknown"] == [{"run": stuck, "reason": reason}]
    assert f"fault run {stuck}: unknown: {reason}" in said
    assert s["rates"]["stuck"] == s["rates"]["stuck"] | {"n": 29, "unknown": 1}
    assert s["rates"]["upset"]["n"] == 30 and s["rates"]["upset"]["unknown"] == 0
    rows = (tmp_path / "faults.csv").read_text().splitlines()
    clean = (small[0] / "faults.csv").read_text().splitlines()
    assert rows[0] == clean[0]
    assert [r for r in rows if not r.startswith(f"{stuck},")] == \
        [r for r in clean if not r.startswith(f"{stuck},")]
    assert [r for r in rows if r.startswith(f"{stuck},")][0].endswith(f",unknown,,,,,{reason}")


def test_field_of_splits_a_float_code():
    fp32 = F.get("fp32")
    assert [resilience.field_of(b, fp32) for b in (31, 30, 23, 22, 0)] == \
        ["sign", "exponent", "exponent", "mantissa", "mantissa"]
    assert resilience.field_of(5, F.get("int8")) == "integer"


def test_bad_parameters_are_named():
    with pytest.raises(resilience.ResilienceError, match="faults must be an integer"):
        resilience.run_resilience(_small_engine(), SMALL, faults=0)
    with pytest.raises(resilience.ResilienceError, match="not 'nope'"):
        resilience.engine("nope")


@pytest.mark.full
@pytest.mark.parametrize("name", ["systolic4x4_ws_intmac_int8xint8_int24",
                                  "systolic4x4_os_floatmac_fp8_e4m3xfp8_e4m3_fp32"])
def test_acceptance_campaign(name, tmp_path):
    """Acceptance 2: 2,401 faults per model; exponent bits hurt more than low mantissa bits."""
    from lowbit.paths import build_dir

    out = build_dir() / "faults" / name
    s = resilience.run_resilience(resilience.engine(name), name, out_dir=out)
    bit_vulnerability(s["bit_map"], out / "bit_map.png", name)
    assert s["rates"]["stuck"]["n"] == 2401 and s["rates"]["upset"]["n"] == 2401
    print(json.dumps({k: {m: v[m] for m in ("n", "masked_rate", "sdc_rate", "sdc_ci_low",
                                             "sdc_ci_high", "hang_rate")}
                      for k, v in s["rates"].items()}, indent=1))
    if "fp8" in name:
        by_field = {}
        for r in s["bit_map"]:
            by_field.setdefault(r["field"], []).append(r)
        exponent = np.median([r["median_rel_error"] for r in by_field["exponent"]])
        low_mantissa = np.median([r["median_rel_error"] for r in s["bit_map"][:8]])
        print(f"median relative error: exponent bits {exponent:.3g}, low mantissa bits "
              f"{low_mantissa:.3g}")
        assert exponent > low_mantissa
