"""Adequacy campaigns: the SAT verdicts are checked against simulation of the mutant netlist.

The small campaign of ``make test`` runs on the int2 x uint2 MAC (a few hundred gates): every
mutant the exhaustive set kills must not be proved equivalent (soundness of the proof), every
counterexample must kill its mutant when replayed on the Verilated netlist, and the score over
the detectable mutants is reported per set. The campaigns of the acceptance (IntMac int8,
FloatMac fp8_e4m3, PositMac posit8_0, 320 faults each) are behind ``--full``.
"""

import dataclasses
import json

import pytest

from lowbit.verify.faults import adequacy
from lowbit.verify.faults.equivalence import AccumulatorBound, check_mutant, miter_verilog
from lowbit.verify.faults.mutation import replay_many, run_mutation
from lowbit.verify.runner import SimulationFailed
from lowbit.verify.vectors import directed_path, directed_vectors, ops_vectors

pytestmark = pytest.mark.xdist_group("rtl")

SMALL = "intmac_int2xuint2_int6_sat"


def _widths(unit):
    return len(unit.acc), len(unit.a), len(unit.b)


@pytest.fixture(scope="module")
def small_campaign(tmp_path_factory):
    e = adequacy.entry(SMALL)
    unit = e.build()
    sets = e.sets(full=False)
    vectors = {s: e.vectors(unit, s) for s in sets}
    result = run_mutation(unit, SMALL, mutants=40, seed=3, vector_sets=sets, vectors=vectors,
                          jobs=2, progress=False,
                          json_path=tmp_path_factory.mktemp("m") / "m.json")
    return unit, result


def test_killed_mutants_are_never_proved_equivalent(small_campaign):
    unit, result = small_campaign
    killed = [m for m in result.mutations if m.id in result.killed_by(["exhaustive"])][:4]
    assert killed
    for m in killed:
        v = check_mutant(result.folder, SMALL, m, _widths(unit), max_steps=6)
        assert v.verdict != "equivalent", m.describe()


def test_replay_many_agrees_with_the_campaign_and_checks_the_baseline(small_campaign):
    """The deep-set path (a set replayed on a few mutants, mutant 0 checked) kills exactly
    what the campaign's run of the same set kills, and a wrong expected code fails mutant 0."""
    unit, result = small_campaign
    vectors = adequacy.entry(SMALL).vectors(unit, "random")
    ids = [m.id for m in result.mutations][:12]
    found = replay_many(unit, SMALL, ids, vectors, mutants=40, seed=3, jobs=2,
                        check_baseline=True)
    assert {m for m, d in found.items() if d} == set(ids) & result.killed_by(["random"])
    wrong = dataclasses.replace(vectors, expected=vectors.expected ^ (vectors.a == 1))
    with pytest.raises(SimulationFailed, match="mutant 0 \\(no mutation\\) fails"):
        replay_many(unit, SMALL, ids[:1], wrong, mutants=40, seed=3, check_baseline=True)


def test_counterexamples_kill_their_mutant_in_simulation(small_campaign):
    unit, result = small_campaign
    killed = [m for m in result.mutations if m.id in result.killed_quick][4:8]
    verdicts = [check_mutant(result.folder, SMALL, m, _widths(unit), max_steps=6) for m in killed]
    found = [(m, v) for m, v in zip(killed, verdicts) if v.verdict == "detectable"]
    assert found, [v.verdict for v in verdicts]
    for m, v in found:
        replay = ops_vectors("cex", v.ops, unit.a_fmt, unit.b_fmt, unit.accumulator)
        r = run_mutation(unit, SMALL, mutants=40, seed=3, vector_sets=("cex",),
                         vectors={"cex": replay}, jobs=1, progress=False,
                         json_path=result.folder / "cex_test.json")
        assert m.id in r.killed_quick, (m.describe(), v.ops)


def test_small_adequacy_campaign_accounts_for_every_mutant(tmp_path):
    r = adequacy.run_adequacy(SMALL, mutants=40, seed=3, max_steps=6, jobs=2,
                              out_dir=tmp_path, progress=False, say=None)
    d = json.loads((tmp_path / "adequacy.json").read_text())
    assert d["mutants"] == 40 and 0 < d["quick_score"] <= 1
    assert (r.full_killed + r.equivalent + r.equivalent_below + r.directed_killed + r.unknown
            == 40)
    assert r.unknown == 0, r.survivors
    assert r.score("full_with_counterexamples") == 1.0


def test_miter_compares_acc_only_when_valid():
    text = miter_verilog("x", 20, 8, 8)
    assert "assign trigger = (ov_gold != ov_gate) || (ov_gold && acc_gold != acc_gate);" in text
    assert "input [7:0] a" in text and "wire [19:0] acc_gold" in text


def test_ops_vectors_must_start_with_a_clear():
    e = adequacy.entry(SMALL)
    u = e.build()
    with pytest.raises(Exception, match="must start with a clearing operation"):
        ops_vectors("x", [(0, 1, 1)], u.a_fmt, u.b_fmt, u.accumulator)


def test_unknown_unit_is_named():
    with pytest.raises(adequacy.AdequacyError, match="not 'nope'"):
        adequacy.entry("nope")


@pytest.mark.parametrize("name", ["floatmac_fp8_e4m3xfp8_e4m3_fp32",
                                  "positmac_posit8_0_quire"])
def test_committed_directed_sets_load_with_golden_expectations(name):
    if not directed_path(name).exists():
        pytest.skip(f"no directed set committed for {name}")
    e = adequacy.entry(name)
    assert "directed" in e.sets(full=True)
    v = e.vectors(e.build(), "directed")
    assert len(v) > 0 and v.clear[0]


@pytest.mark.full
@pytest.mark.parametrize("name", ["intmac_int8xint8_int20",
                                  "floatmac_fp8_e4m3xfp8_e4m3_fp32", "positmac_posit8_0_quire"])
def test_full_sets_detect_every_detectable_fault(name, tmp_path):
    """Acceptance 1: 320 faults; full sets (with the directed set, and PositMac's deep
    ``climb``) kill every mutant that is not proved equivalent."""
    r = adequacy.run_adequacy(name, mutants=320, seed=1, jobs=2, out_dir=tmp_path,
                              progress=False, say=None)
    assert r.unknown == 0, r.survivors
    assert r.full_killed == r.detectable, r.survivors
    assert 0 < r.score("quick") <= 1


POSIT = "positmac_posit4_1_quire"


@pytest.fixture(scope="module")
def posit_campaign(tmp_path_factory):
    e = adequacy.entry(POSIT)
    unit = e.build()
    vectors = {"exhaustive": e.vectors(unit, "exhaustive")}
    result = run_mutation(unit, POSIT, mutants=40, seed=5, vector_sets=("exhaustive",),
                          vectors=vectors, jobs=2, progress=False,
                          json_path=tmp_path_factory.mktemp("p") / "m.json")
    bound = AccumulatorBound(unit.quire.width_bits, unit.quire_term_bits)
    return unit, result, bound, len(vectors["exhaustive"])


def test_accumulator_bounds_run_from_the_whole_register_to_one_operation():
    b = AccumulatorBound(register_bits=64, term_bits=18)
    assert b.range_bits() == list(range(63, 17, -4))
    assert b.range_bits(step=8)[0] == 63 and b.range_bits(step=8)[-1] >= 18


def test_quire_mutants_killed_in_simulation_are_never_proved_equivalent(posit_campaign):
    """Soundness of the matched-state and bounded-quire stages: a mutant the exhaustive set
    kills within its ``n`` operations is neither equivalent nor equivalent below ``>= n``
    operations."""
    unit, result, bound, n_ops = posit_campaign
    killed = [m for m in result.mutations if m.id in result.killed_quick][:6]
    assert killed
    for m in killed:
        v = check_mutant(result.folder, POSIT, m, _widths(unit), max_steps=4,
                         accumulator=bound)
        assert v.verdict != "equivalent", m.describe()
        assert v.verdict != "equivalent_below" or 2 ** v.ops_log2 <= n_ops, (m.describe(), v)


def test_quire_survivors_are_decided(posit_campaign):
    """The exhaustive set's survivors on the posit4 MAC: each is proved equivalent (outright
    or below some number of operations) or gets a counterexample; none is left unknown."""
    unit, result, bound, _ = posit_campaign
    verdicts = [check_mutant(result.folder, POSIT, m, _widths(unit), max_steps=4,
                         accumulator=bound)
                for m in result.survivors]
    assert all(v.verdict in ("equivalent", "equivalent_below", "detectable") for v in verdicts), \
        verdicts
    below = [v for v in verdicts if v.verdict == "equivalent_below"]
    assert all(bound.term_bits <= v.ops_log2 + bound.term_bits < bound.register_bits
               for v in below), below
