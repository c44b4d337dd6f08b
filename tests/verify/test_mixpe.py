"""MixPEArray on Verilator: whole GEMMs through the generic GEMM testbench, every output equal to
golden's group-wise reference (``golden.mpgemm.groupwise_gemm``) and the measured cycles equal
to ``cycles()`` on every GEMM.

By default: int4 weights (the quick regression entry, groups of 8 = 2 beats), int2 weights (one
group per beat) and ternary weights (groups of 4 beats of 2), each on the 5-GEMM set (one tile
of 4 groups, ragged M/K/N with a short last group, K far beyond the tile, worst-case growth, a
GEMV with specials): group boundaries inside every tile and output tiles back to back. ``--full``
adds uint4 with zero points, fp16 and fp8_e4m3 activations and the g128 PE, and the 20-GEMM set
on every entry.
"""

import pytest

from lowbit.verify import regression

ENTRIES = [e for e in regression.MATRIX if e.unit == "MixPEArray"]
DEFAULT = ("mixpearray2x2_mixpe_int8xint4_g8_fp32", "mixpearray1x2_mixpe_int8xint2_g4_fp32",
           "mixpearray2x1_mixpe_int8xternary_g8_fp32_k2")


def _check(entry, vector_set):
    row = regression.run_entry(entry, vector_set)
    assert row["status"] == "pass", row["error"][:3000]
    assert row["vectors"] > 0 and row["mismatches"] == 0
    assert row["cycle_mismatches"] == 0 and row["cycles"] == row["cycles_expected"]
    assert all(g["cycles"] == g["cycles_expected"] for g in row["gemms"])


@pytest.mark.parametrize("entry", [e for e in ENTRIES if e.name in DEFAULT],
                         ids=lambda e: e.name)
def test_weight_kinds_pass_on_verilator(entry):
    _check(entry, "gemm_quick")


@pytest.mark.full
@pytest.mark.parametrize("vector_set", ["gemm_quick", "gemm_full"])
@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e.name)
def test_every_entry_passes_on_verilator(entry, vector_set):
    _check(entry, vector_set)
