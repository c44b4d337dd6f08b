"""MultiFormatMac on Verilator: the regression's entries through the MultiFormatMac testbench,
every lane equal to golden after every operation, the latency measured.

By default the quick entry (fp4_e2m1, posit4_1, posit8_0, posit16_1, exact) runs its quick
sets: every fp4_e2m1 and posit4_1 operand pair on all four lanes (lanes in different orders, so
zeros, extremes and NaR meet every lane), every mode's corner codes, random runs switching modes
with and without ``clear``, and runs of 1 to 3 operations each in another mode. ``--full`` adds
the 65,536 posit8_0 pairs, 300-operation sums of extremes in every mode, and the FP32 unit with
lane enables on every set.
"""

import pytest

from lowbit.verify import regression


def _entries(full_only):
    return [e for e in regression.MATRIX if e.unit == "MultiFormatMac"
            and e.full_only == full_only]


def _check(entry, vector_set):
    row = regression.run_entry(entry, vector_set)
    assert row["status"] == "pass", row["error"][:3000]
    assert row["mismatches"] == 0 and row["latency"] == row["latency_expected"] == 1
    return row


@pytest.mark.parametrize("entry", _entries(False), ids=lambda e: e.name)
def test_quick_sets_pass_on_verilator(entry):
    rows = {vs: _check(entry, vs) for vs in entry.sets(full=False)}
    assert rows["exhaustive/m0"]["vectors"] == rows["exhaustive/m1"]["vectors"] == 256
    assert all(row["vectors"] > 200 for row in rows.values())


@pytest.mark.full
@pytest.mark.parametrize("entry", _entries(False) + _entries(True), ids=lambda e: e.name)
def test_every_set_passes_on_verilator(entry):
    rows = {vs: _check(entry, vs) for vs in entry.sets(full=True)}
    assert rows["exhaustive/m2"]["vectors"] == 65536
