"""Fault campaigns survive tool crashes and time limits: a run killed once is retried, a mutant
whose tool keeps crashing (or whose proofs run out of time) is ``unknown`` with the reason,
and the campaign completes with every other verdict.

The adequacy campaign is the small one of ``make test`` (int2 x uint2 MAC, 40 mutants, seed 3)
with only the ``corners`` set, so that a dozen mutants survive simulation and go to SAT proofs,
in a fresh build folder, so no proof comes from an earlier run's cache; Yosys crashes are
injected with :mod:`tests.tool_crash` into the proofs of two surviving mutants.
"""

import dataclasses
import json
import shutil
import subprocess
import sys

import pytest

from lowbit.hdl import yosys
from lowbit.verify.faults import adequacy, equivalence
from lowbit.verify.faults.mutation import run_mutation
from tests.tool_crash import calls, crashing

SMALL = "intmac_int2xuint2_int6_sat"


@pytest.fixture(scope="module")
def fresh_build(tmp_path_factory):
    """A fresh ``LOWBIT_BUILD``, and the small MAC's campaigns run the corners set alone."""
    folder = tmp_path_factory.mktemp("fresh-build")
    corners_only = dataclasses.replace(adequacy.entry(SMALL), vector_sets=("corners",),
                                       full_sets=(), deep_sets=())
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LOWBIT_BUILD", str(folder))
        mp.setattr(adequacy, "entry", lambda name: corners_only)
        yield folder


@pytest.fixture(scope="module")
def draw(fresh_build):
    """The campaign's mutant netlist and simulation (what run_adequacy runs first)."""
    e = adequacy.entry(SMALL)
    unit = e.build()
    full = e.sets(full=True)
    r = run_mutation(unit, SMALL, mutants=40, seed=3, vector_sets=full,
                     vectors={s: e.vectors(unit, s) for s in full}, jobs=2, progress=False,
                     json_path=fresh_build / "draw.json")
    assert len(r.survivors) >= 3
    return unit, r


def test_an_adequacy_campaign_survives_yosys_crashes(draw, fresh_build, tmp_path, monkeypatch):
    _, r = draw
    once, always = r.survivors[0].id, r.survivors[1].id
    prefix = (crashing(tmp_path / "once", times=1, where=f"*/eq{once}_*") +
              crashing(tmp_path / "always", times=99, where=f"*/eq{always}_*"))
    command = yosys._command
    monkeypatch.setattr(yosys, "_command", lambda args: prefix + command(args))
    out = tmp_path / "report"
    res = adequacy.run_adequacy(SMALL, mutants=40, seed=3, max_steps=6, jobs=2, out_dir=out,
                                progress=False, say=None)
    assert calls(tmp_path / "once") >= 2  # its first proof run was killed, then run again
    assert res.verdicts[once] != "unknown"
    assert res.verdicts[always] == "unknown"
    assert res.reasons == {always: "yosys killed by SIGBUS 3 times"}
    assert res.unknown == 1
    assert (res.full_killed + res.equivalent + res.equivalent_below + res.directed_killed
            + res.unknown == 40)
    saved = json.loads((out / "adequacy.json").read_text())
    assert saved["unknown_reasons"] == {str(always): "yosys killed by SIGBUS 3 times"}
    [row] = [s for s in saved["survivors"] if s["id"] == always]
    assert (row["verdict"], row["reason"]) == ("unknown", "yosys killed by SIGBUS 3 times")
    # a crash is never cached: the next campaign proves that mutant
    monkeypatch.setattr(yosys, "_command", command)
    again = adequacy.run_adequacy(SMALL, mutants=40, seed=3, max_steps=6, jobs=2,
                                  out_dir=tmp_path / "again", progress=False, say=None)
    assert again.unknown == 0 and again.verdicts[once] == res.verdicts[once]


def test_a_mutant_past_its_sat_time_limit_is_unknown_timeout(draw, tmp_path, monkeypatch):
    unit, r = draw
    m = r.survivors[2]
    widths = (len(unit.acc), len(unit.a), len(unit.b))
    shutil.copyfile(r.folder / "synth.il", tmp_path / "synth.il")  # no cached verdicts
    with monkeypatch.context() as mp:  # the limit is used up before the first stage starts
        mp.setattr(equivalence._Budget, "left", lambda self: 0.0)
        v = equivalence.check_mutant(tmp_path, SMALL, m, widths, max_steps=6, sat_timeout=5)
    assert (v.verdict, v.reason) == ("unknown", "timeout")
    # cached for that limit, computed again for a longer one
    assert equivalence.check_mutant(tmp_path, SMALL, m, widths, max_steps=6,
                                    sat_timeout=5).reason == "timeout"
    decided = equivalence.check_mutant(tmp_path, SMALL, m, widths, max_steps=6, sat_timeout=60)
    assert decided.verdict != "unknown", decided


def test_sat_timeout_is_checked_before_any_work():
    r = subprocess.run([sys.executable, "-m", "lowbit.cli", "faults", SMALL, "--sat-timeout",
                        "0"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr == ("lowbit: error: sat_timeout must be a number of seconds from 1 to "
                        "604800, not 0.0\n")
