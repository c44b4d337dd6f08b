"""The 2D-Matrix and 3D-Cube engines and the bit-weight (carry-save) variants of the systolic
array, the matrix and the cube on Verilator: every output lane equal to golden ``gemm`` and the
measured cycles equal to ``cycles()`` on every GEMM of ``gemm_quick`` (ragged tiles, K far
beyond the tile, worst-case accumulator growth, a GEMV), ``gemm_full`` with ``--full``.

The quick entries run by default: a 4x4 int8 matrix, a 2x2x4 fp8_e4m3 cube into an exact fp32
register, and the carry-save PE in a 3x2 systolic array, a 3x2 matrix and a 2x3x2 cube (4x4,
4x4 and 2x2x4 ones, int4 and mixed-signedness ones, and K-groups with ``--full``). The
bit-weight adder tree runs with the other adder-tree entries (test_adder_tree_engine.py).
"""

import pytest

from lowbit.verify import regression

SHAPES = ("MatrixEngine", "CubeEngine")


def _entries(full):
    return [e for e in regression.entries(full) if e.full_only == full
            and (e.unit in SHAPES or (e.unit == "SystolicArray" and "_bwmac_" in e.name))]


def _check(entry, vector_set):
    row = regression.run_entry(entry, vector_set)
    assert row["status"] == "pass", row["error"][:3000]
    assert row["vectors"] > 0 and row["mismatches"] == 0
    assert row["cycle_mismatches"] == 0 and row["cycles"] == row["cycles_expected"]
    assert all(g["cycles"] == g["cycles_expected"] for g in row["gemms"])
    assert len(row["gemms"]) == (5 if vector_set == "gemm_quick" else 20)


@pytest.mark.parametrize("entry", _entries(False), ids=lambda e: e.name)
def test_quick_entry_passes_on_verilator(entry):
    _check(entry, "gemm_quick")


@pytest.mark.full
@pytest.mark.parametrize("vector_set", ["gemm_quick", "gemm_full"])
@pytest.mark.parametrize("entry", _entries(False) + _entries(True),
                         ids=lambda e: e.name)
def test_every_entry_passes_on_verilator(entry, vector_set):
    _check(entry, vector_set)
