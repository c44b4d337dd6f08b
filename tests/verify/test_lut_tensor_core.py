"""LutTensorCore on Verilator through the regression: the quick entry (2-bit offset weights,
g = 4, int8, a 2 x 16 tile) bit-exact to golden ``lut_gemm`` with the closed-form cycle count on
every GEMM; with ``--full``, every LutTensorCore entry on both GEMM sets."""

import json

import pytest

from lowbit.hdl import export
from lowbit.verify import regression
from lowbit.verify.gemm_vectors import gemm_vectors
from lowbit.verify.runner import SimulationFailed, run_testbench

LUT_ENTRIES = [e for e in regression.entries(full=True) if e.unit == "LutTensorCore"]


def _check(row):
    assert row["status"] == "pass", row["error"][:2000]
    assert row["vectors"] > 0 and row["mismatches"] == 0 and row["cycle_mismatches"] == 0
    assert all(g["cycles"] == g["cycles_expected"] for g in row["gemms"])


def test_quick_entry_passes_on_verilator():
    (entry,) = [e for e in regression.entries(full=False) if e.unit == "LutTensorCore"]
    row = regression.run_entry(entry, "gemm_quick")
    _check(row)
    assert len(row["gemms"]) == 5


@pytest.mark.full
@pytest.mark.parametrize("entry", LUT_ENTRIES, ids=[e.name for e in LUT_ENTRIES])
@pytest.mark.parametrize("vector_set", ["gemm_quick", "gemm_full"])
def test_every_entry_passes_on_verilator(entry, vector_set):
    _check(regression.run_entry(entry, vector_set))


def test_testbench_catches_a_wrong_result(tmp_path):
    """The check is not vacuous: one corrupted expected lane fails the run and is counted."""
    (entry,) = [e for e in regression.entries(full=False) if e.unit == "LutTensorCore"]
    core = entry.build()
    vectors = gemm_vectors("gemm_quick", core)
    gemm = vectors.gemms[0]
    gemm["expected"][1] = hex(int(gemm["expected"][1], 16) ^ 1)  # lane 0 of output beat 1
    vectors.save(tmp_path / "v.json")
    env = {"LOWBIT_VECTORS": tmp_path / "v.json", "LOWBIT_RESULT": tmp_path / "r.json",
           **entry.bench.env(core)}
    with pytest.raises(SimulationFailed):
        run_testbench(export(core, name=entry.name),
                      "lowbit.verify.testbenches.gemm_tb", env)
    result = json.loads((tmp_path / "r.json").read_text())
    assert result["mismatches"] == 1 and result["cycle_mismatches"] == 0
