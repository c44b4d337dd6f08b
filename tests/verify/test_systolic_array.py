"""SystolicArray GEMMs on Verilator through cocotb: bit-exact against golden ``gemm``, cycles equal
to ``cycles(M, K, N)``, and a checker that fails on a wrong bit or a wrong cycle count.

Configurations here are the cheap ones the quick regression lacks (the quick pair, 4x4 int8
ws and 4x4 fp8_e4m3 os, runs in tests/verify/test_regress.py): a saturating integer register
in an output-stationary array (saturation in K order inside each PE), and a rounding-down fp16
register in a weight-stationary array whose partial sums cross PEs (-0/+0 rules of ``rdn``,
e5m2 x e4m3 mixed operands, a 3x2 array that is not square), and a 4-lane int2 SIMD PE
saturating at 8 bits (four output columns per PE column). Posit, MX, Kulisch and 16x16
arrays run in ``lowbit regress --full``.
"""

import pytest

from lowbit.verify import regression

CHEAP = ("systolic4x4_os_intmac_int8xint8_int18_sat",
         "systolic3x2_ws_floatmac_fp8_e5m2xfp8_e4m3_fp16_rdn", "systolic3x2_os_simdmac_2x2_int8_sat")


def _entry(name):
    return regression.by_name(regression.GEMM)[name]


@pytest.mark.parametrize("name", CHEAP)
def test_array_gemms_match_golden_and_closed_form_cycles(name):
    entry = _entry(name)
    array = entry.build()
    row = regression.run_entry(entry, "gemm_quick")
    assert row["status"] == "pass", row["error"]
    assert row["mismatches"] == 0 and row["cycle_mismatches"] == 0
    assert len(row["gemms"]) == 5 and all(g["cycles"] == g["cycles_expected"]
                                          for g in row["gemms"])
    # every output lane checked: ws also checks each K tile's partial sums
    passes = (lambda K: -(-K // array.rows)) if array.dataflow == "ws" else (lambda K: 1)
    assert row["vectors"] == sum(g["M"] * g["N"] * passes(g["K"]) for g in row["gemms"])


def test_checker_reports_a_wrong_bit_and_a_wrong_cycle_count():
    entry = _entry("systolic4x4_ws_intmac_int8xint8_int24")
    engine = entry.build()
    vectors = entry.vectors(engine, "gemm_quick")
    first, second = vectors.gemms[0], vectors.gemms[1]
    first["expected"][0] = hex(int(first["expected"][0], 16) ^ (1 << 3))  # lane 0, bit 3
    second["cycles"] += 1
    row = regression.run_vectors(engine, entry.name, regression.GEMM, vectors, "gemm_quick")
    assert row["status"] == "fail"
    assert row["mismatches"] == 1 and row["cycle_mismatches"] == 1
    problem = row["gemms"][0]["problems"][0]
    assert problem.startswith("beat 0 lane 0: C[0, 0] over k < 4: got 0x")
