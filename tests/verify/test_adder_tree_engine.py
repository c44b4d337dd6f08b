"""AdderTreeEngine on Verilator: the regression's entries through the generic GEMM testbench,
every output lane equal to golden and the measured cycles equal to ``cycles()`` on every GEMM.

The quick entry (8 lanes, fp8_e4m3 into fp32: golden's tree(8) order, a rounding adder at every
node) runs by default; the full-regression entries (16-lane int8 wrapping tree, 4-lane fp8 into
an exact fp32 accumulator, 8-lane posit8_0 into its quire) and the 20-GEMM set run with
``--full``.
"""

import pytest

from lowbit.verify import regression


def _entries(full):
    return [e for e in regression.entries(full) if e.unit == "AdderTreeEngine"
            and e.full_only == full]


def _check(entry, vector_set):
    row = regression.run_entry(entry, vector_set)
    assert row["status"] == "pass", row["error"][:3000]
    assert row["vectors"] > 0 and row["mismatches"] == 0
    assert row["cycle_mismatches"] == 0 and row["cycles"] == row["cycles_expected"]
    assert all(g["cycles"] == g["cycles_expected"] for g in row["gemms"])


@pytest.mark.parametrize("entry", _entries(False), ids=lambda e: e.name)
def test_quick_entry_passes_on_verilator(entry):
    _check(entry, "gemm_quick")


@pytest.mark.full
@pytest.mark.parametrize("vector_set", ["gemm_quick", "gemm_full"])
@pytest.mark.parametrize("entry", _entries(False) + _entries(True), ids=lambda e: e.name)
def test_every_entry_passes_on_verilator(entry, vector_set):
    _check(entry, vector_set)
