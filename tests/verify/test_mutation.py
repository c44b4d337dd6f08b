"""The vector sets are not vacuous: mutation adequacy on Verilator (issue 4, acceptance point 4).

Configurations: IntMac int8 x int8 wrapping at 20 bits and saturating at 18 bits, the two quick
regression IntMac configurations with an exhaustive set (the saturating one adds clamp logic
that only long same-sign runs reach), and FloatMac fp8_e4m3 x fp8_e4m3 into an fp32
accumulator. 200 mutants each (const0/const1/inv on synthesized cell
outputs), seed 1. Synthesis and the mutant simulator are cached under build/rtl, so a second run
takes seconds.
"""

import json
import re

import pytest
from amaranth.hdl import Fragment

from lowbit.golden import formats as F
from lowbit.golden.accumulators import FixedAccumulator, FloatAccumulator
from lowbit.hdl.float_mac import FloatMac
from lowbit.hdl.int_mac import IntMac
from lowbit.verify.faults.mutation import MutationError, report, run_mutation
from lowbit.verify.runner import SimulationFailed
from lowbit.verify.vectors import VECTOR_SETS, MacVectors, mac_vectors
from tests.expect import raises_exactly

MUTANTS, SEED = 200, 1
INT8 = F.get("int8")
E4M3 = F.get("fp8_e4m3")
CONFIGS = {  # named as the regression exports them, so both share one RTL folder
    "intmac_int8xint8_int20": lambda: IntMac(INT8, INT8, acc=FixedAccumulator(20, 0, "wrap")),
    "intmac_int8xint8_int18_sat": lambda: IntMac(INT8, INT8,
                                             acc=FixedAccumulator(18, 0, "saturate")),
    "floatmac_fp8_e4m3xfp8_e4m3_fp32": lambda: FloatMac(
        E4M3, E4M3, acc=FloatAccumulator(F.get("fp32"))),
}


def _unit(name):
    return CONFIGS[name]()


@pytest.mark.parametrize("name", CONFIGS)
def test_quick_sets_kill_every_mutant_exhaustive_kills(name, tmp_path):
    out = tmp_path / f"{name}.json"
    result = run_mutation(_unit(name), name, mutants=MUTANTS, seed=SEED, json_path=out,
                          progress=False)
    report(result)
    # run_mutation raises SimulationFailed unless mutant 0 (no mutation) passes every set
    assert all(0 not in found for found in result.detections.values())
    assert result.vector_sets == VECTOR_SETS
    assert result.mutants == len(result.mutations) == MUTANTS
    assert [m.id for m in result.mutations] == list(range(1, MUTANTS + 1))
    assert {m.mode for m in result.mutations} == {"const0", "const1", "inv"}
    assert result.killed_exhaustive <= result.killed_quick
    assert result.adequate
    assert 0 < result.kill_rate["exhaustive"] <= len(result.killed_quick) / MUTANTS
    print(f"{name}: kill rates " + ", ".join(f"{s} {r:.1%}" for s, r in result.kill_rate.items())
          + f"; quick union {len(result.killed_quick) / MUTANTS:.1%}, non-exhaustive union "
          f"{len(result.killed_non_exhaustive) / MUTANTS:.1%}, missed without exhaustive "
          f"{len(result.missed)}, survivors {len(result.survivors)}")
    data = json.loads(out.read_text())
    assert data["mutants"] == MUTANTS and data["adequate"] is True
    assert data["quick_union"]["killed"] == len(result.killed_quick)
    assert len(data["survivors"]) == len(result.survivors)
    assert data["vector_sets"]["exhaustive"]["vectors"] == 65536


def test_a_wrong_expectation_fails_the_unmutated_design(tmp_path):
    """The check can fail: one corrupted expected code makes mutant 0 'detected'."""
    name = "intmac_int8xint8_int20"
    v = mac_vectors("corners", INT8, INT8, _unit(name).accumulator)
    wrong = v.expected.copy()
    wrong[5] += 1
    corrupted = MacVectors("corners", v.clear, v.a, v.b, wrong)
    message = (f"{name}: mutant 0 (no mutation) fails vector set 'corners' at op 5: clear=1 "
               f"a=0x{v.a[5]:x} b=0x{v.b[5]:x}: acc 0x{v.expected[5] & 0xfffff:x}, expected "
               f"0x{wrong[5] & 0xfffff:x} ({wrong[5]}); the netlist or the expected codes are "
               f"wrong")
    raises_exactly(lambda: run_mutation(_unit(name), name, mutants=MUTANTS, seed=SEED,
                                        vector_sets=["corners"], vectors={"corners": corrupted},
                                        json_path=tmp_path / "m.json", progress=False),
                   SimulationFailed, message)
    assert not (tmp_path / "m.json").exists()


@pytest.fixture(scope="module")
def rejected_unit():
    """One unit for the rejected calls, elaborated at the end (Amaranth warns about units that
    never are, and a rejected call stops before the export)."""
    unit = _unit("intmac_int8xint8_int20")
    yield unit
    Fragment.get(unit, None)


@pytest.mark.parametrize("kwargs, message", [
    ({"mutants": 0}, "mutants must be an integer from 1 to 65535, not 0"),
    ({"mutants": 1 << 16}, "mutants must be an integer from 1 to 65535, not 65536"),
    ({"mutants": 2.5}, "mutants must be an integer from 1 to 65535, not 2.5"),
    ({"seed": -1}, "seed must be an integer from 0 to 2147483647, not -1"),
    ({"jobs": 0}, "jobs must be an integer from 1 to 64, not 0"),
    ({"vector_sets": ["exhaustive", "exhaustve"]},
     "vector set must be one of 'exhaustive', 'corners', 'random', 'sequences', not 'exhaustve'"),
    ({"vector_sets": []}, "vector_sets must name at least one vector set, not ()"),
    ({"vector_sets": ["corners", "corners"]},
     "vector_sets must not repeat a set, not ('corners', 'corners')"),
])
def test_bad_arguments_are_rejected(kwargs, message, rejected_unit, tmp_path):
    raises_exactly(lambda: run_mutation(rejected_unit,
                                        "intmac_int8xint8_int20", json_path=tmp_path / "m.json",
                                        progress=False, **kwargs),
                   MutationError, message)


def test_more_mutants_than_candidates_are_rejected(tmp_path):
    with pytest.raises(MutationError) as info:
        run_mutation(_unit("intmac_int8xint8_int20"), "intmac_int8xint8_int20",
                     mutants=60000, vector_sets=["corners"], json_path=tmp_path / "m.json",
                     progress=False)
    assert re.fullmatch(r"mutants must be an integer from 1 to \d+ \(the candidate mutations of "
                        r"intmac_int8xint8_int20\), not 60000", str(info.value))
