"""Pipelined units proved equivalent to their one-cycle versions (Yosys SAT, unbounded
induction on a latency-aligned miter), and deliberately broken pipelines caught: the proof fails
with a counterexample from reset, whose operations cocotb replays on Verilator, where the
broken unit mismatches golden and the correct pipeline does not.

By default: IntMac int8 -> int32 at 2 stages (proved in about 30 s of CPU) and its register whose
enable is dropped. ``--full``: FloatMac fp8_e4m3 -> fp32 and PositMac posit8_0 (quire) at 2
stages, IntMac at 3 (the split multiplier), PositMac at 3 (a ``result`` register after the loop:
the reference's outputs are delayed too), and both bugs (``drop_enable``, ``early_valid``: a
valid bit delayed one cycle too few) in each of the three units.
"""

import pytest

from lowbit.golden import formats as F
from lowbit.golden.accumulators import FixedAccumulator, FloatAccumulator, Quire
from lowbit.hdl.component import Component
from lowbit.hdl.float_mac import FloatMac
from lowbit.hdl.int_mac import IntMac
from lowbit.hdl.posit_mac import PositMac
from lowbit.verify.pipeline_proof import (PipelineProofError, alignment, prove_pipeline,
                                          replay)
from tests.expect import raises_exactly

pytestmark = pytest.mark.xdist_group("rtl")

INT8, FP8, P8 = F.get("int8"), F.get("fp8_e4m3"), F.get("posit8_0")
UNITS = {
    "intmac_int8xint8_int32": lambda **kw: IntMac(INT8, INT8, acc=FixedAccumulator(32, 0), **kw),
    "floatmac_fp8_e4m3xfp8_e4m3_fp32": lambda **kw: FloatMac(
        FP8, FP8, acc=FloatAccumulator(F.get("fp32")), **kw),
    "positmac_posit8_0_quire": lambda **kw: PositMac(P8, quire=Quire(P8), **kw),
}


def _proves(name, stages, tmp_path):
    proof = prove_pipeline(name, f"{name}_s{stages}", folder=tmp_path)
    assert proof.verdict == "equivalent", proof
    assert proof.ops == () and 1 <= proof.steps <= 4
    return proof


def _broken_is_caught(name, fault, tmp_path):
    broken = UNITS[name](stages=2, fault=fault)
    proof = prove_pipeline(name, broken, folder=tmp_path / "proof")
    assert proof.verdict == "different" and proof.ops, proof
    assert proof.ops[0] == (1, 0, 0)  # a clearing zero operation recreates the reset state
    row = replay(broken, proof.ops)
    assert row["status"] == "fail"
    if fault == "early_valid":
        assert row["latency"] == row["latency_expected"] - 1 == 1
    else:
        assert row["mismatches"] >= 1
    good = replay(UNITS[name](stages=2), proof.ops)  # the bug, not the operations, fails
    assert good["status"] == "pass" and good["mismatches"] == 0


def test_intmac_two_stages_is_proved_equivalent(tmp_path):
    proof = _proves("intmac_int8xint8_int32", 2, tmp_path)
    assert (proof.d_in, proof.d_out) == (1, 0)


def test_intmac_dropped_enable_is_caught_and_replayed(tmp_path):
    _broken_is_caught("intmac_int8xint8_int32", "drop_enable", tmp_path)


def test_alignment_splits_the_latency_at_the_loop():
    ref = Component.part(UNITS["positmac_posit8_0_quire"]())
    assert alignment(ref, Component.part(UNITS["positmac_posit8_0_quire"](stages=3))) == (1, 1)
    assert alignment(ref, Component.part(UNITS["positmac_posit8_0_quire"](stages=4))) == (2, 1)
    raises_exactly(
        lambda: alignment(Component.part(UNITS["positmac_posit8_0_quire"](stages=3)), ref),
        PipelineProofError,
        "the reference must have no more pipeline registers before and after its loop than "
        "the pipelined unit; it has 1 and 1, the pipelined unit 0 and 0")


def test_a_proof_compares_mac_units_only():
    chained = Component.part(IntMac(INT8, INT8, acc=FixedAccumulator(32, 0), chained=True))
    raises_exactly(lambda: prove_pipeline(chained, "intmac_int8xint8_int32_s2"),
                   PipelineProofError,
                   "a pipeline proof compares MAC units (ports valid, clear, a, b, out_valid, "
                   "acc, unchained); IntMac is chained (it adds acc_in)")


@pytest.mark.full
@pytest.mark.parametrize("name, stages", [("floatmac_fp8_e4m3xfp8_e4m3_fp32", 2),
                                          ("positmac_posit8_0_quire", 2),
                                          ("intmac_int8xint8_int32", 3),
                                          ("positmac_posit8_0_quire", 3)])
def test_pipelines_are_proved_equivalent(name, stages, tmp_path):
    proof = _proves(name, stages, tmp_path)
    if name.startswith("positmac"):  # the quire: equal loop registers strengthen the induction
        assert "accumulate.kulisch.value" in proof.matched


@pytest.mark.full
@pytest.mark.parametrize("fault", ["drop_enable", "early_valid"])
@pytest.mark.parametrize("name", list(UNITS))
def test_broken_pipelines_are_caught_and_replayed(name, fault, tmp_path):
    if (name, fault) == ("intmac_int8xint8_int32", "drop_enable"):
        pytest.skip("runs by default: test_intmac_dropped_enable_is_caught_and_replayed")
    _broken_is_caught(name, fault, tmp_path)
