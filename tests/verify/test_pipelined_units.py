"""Pipelined units and engines of pipelined PEs on Verilator through cocotb: every vector set
their one-stage configuration runs, 0 mismatches, measured latency equal to ``latency``, and
GEMM cycles equal to the closed form (which counts the PE latency).

By default one stage count per MAC kind, on the cheap formats (IntMac uint4 x int8 saturating
at 3 stages: both multiplier halves and mixed signedness; FloatMac fp4 at 2; PositMac posit4_1 at
3: the quire's rounded result registered; MxDotUnit nvfp4 at 2: the products cut in the block
term) and an output-stationary array of pipelined PEs (each build costs tens of seconds).
``--full`` runs every pipelined configuration of the regression matrix: 2 and 3 stages (4 with
a Kulisch register or quire) of int8, fp8_e4m3 -> fp32 (float and Kulisch), posit8_0,
mxfp8_e4m3, the interleaved(2) ring (fp32, and fp16 rounding down: signed zeros), arrays and
adder trees of pipelined PEs.
"""

import pytest

from lowbit.verify import regression

pytestmark = pytest.mark.xdist_group("rtl")

QUICK = ("intmac_uint4xint8_int16_sat_s3", "floatmac_fp4_e2m1xfp4_e2m1_fp32_s2",
         "positmac_posit4_1_quire_s3", "mxdot_nvfp4_fp32_s2",
         "systolic3x2_os_intmac_int8xint8_int24_s2")


def _pipelined(entry) -> bool:
    tail = entry.name.rsplit("_s", 1)[-1]
    return tail.isdigit() or "_il" in entry.name


ENTRIES = {e.name: e for e in regression.entries(full=True) if _pipelined(e)}


def _check(entry):
    unit = entry.build()
    for vector_set in entry.sets(False):
        row = regression.run_entry(entry, vector_set)
        assert row["status"] == "pass", (vector_set, row["error"])
        assert row["mismatches"] == 0
        if "gemms" in row:
            assert row["cycle_mismatches"] == 0
            assert all(g["cycles"] == g["cycles_expected"] for g in row["gemms"])
            assert len(row["gemms"]) >= 5
        else:
            assert row["latency"] == row["latency_expected"] == unit.latency
            assert row["vectors"] == len(entry.vectors(unit, vector_set))


def test_quick_slice_covers_every_kind():
    assert set(QUICK) <= set(ENTRIES)
    units = {ENTRIES[n].unit for n in QUICK}
    assert units == {"IntMac", "FloatMac", "PositMac", "MxDotUnit", "SystolicArray"}


@pytest.mark.parametrize("name", QUICK)
def test_pipelined_configuration_matches_golden(name):
    _check(ENTRIES[name])


@pytest.mark.full
@pytest.mark.parametrize("name", sorted(set(ENTRIES) - set(QUICK)))
def test_every_pipelined_configuration_matches_golden(name):
    _check(ENTRIES[name])
