"""Hypothesis chooses the fault and the stimulus: a failing case shrinks to a minimal fault and
operation run, is printed with the one command that replays it, and that command reproduces it.

The property "the int8 MAC matches golden under fault F on run R" is false for every
detectable F; Hypothesis finds a counterexample among 320 drawn faults and shrinks it toward
fault 1 and a single operation (its strategies shrink toward the first corner codes).
"""

import subprocess
import sys

import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis.reporting import with_reporter

from lowbit.cli.faults import replay_command
from lowbit.verify.faults import adequacy
from lowbit.verify.faults.strategies import fault_sites, mac_runs
from lowbit.verify.faults.mutation import replay
from lowbit.verify.vectors import ops_vectors

pytestmark = pytest.mark.xdist_group("rtl")

UNIT, FAULTS, SEED = "intmac_int8xint8_int20", 320, 1


def test_a_failing_fault_and_run_shrink_and_replay_with_one_command():
    unit = adequacy.entry(UNIT).build()

    @settings(max_examples=100, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow])
    @given(fault=fault_sites(FAULTS), run=mac_runs(unit.a_fmt, unit.b_fmt, max_ops=3))
    def unit_matches_golden_under_the_fault(fault, run):
        ops = [(i == 0, a, b) for i, (a, b) in enumerate(run)]
        note(f"replay: {replay_command(UNIT, fault, ops, FAULTS, SEED)}")
        vectors = ops_vectors("run", ops, unit.a_fmt, unit.b_fmt, unit.accumulator)
        hit = replay(unit, UNIT, fault, vectors, mutants=FAULTS, seed=SEED)
        assert hit is None, f"fault {fault} exposed at operation {hit['op']}"

    lines = []
    with with_reporter(lines.append), pytest.raises(AssertionError) as info:
        unit_matches_golden_under_the_fault()
    report = "\n".join(lines + list(getattr(info.value, "__notes__", [])))
    print(report)
    assert "fault=1," in report  # shrunk to the first fault of the draw
    command = report.split("replay: ", 1)[1].splitlines()[0]
    spec = command.split("--ops ", 1)[1].split()[0]
    assert len(spec.split(",")) == 1  # and to a single operation
    r = subprocess.run([sys.executable, "-m", "lowbit.cli", *command.split()[1:]],
                       capture_output=True, text=True)
    assert r.returncode == 1 and "fault 1 (" in r.stdout and "exposed at operation 0" in r.stdout


def test_the_fault_free_design_is_never_exposed():
    unit = adequacy.entry(UNIT).build()
    vectors = ops_vectors("run", [(1, 0x80, 0x80), (0, 0x7F, 0x81)], unit.a_fmt, unit.b_fmt,
                          unit.accumulator)
    assert replay(unit, UNIT, 0, vectors, mutants=FAULTS, seed=SEED) is None
