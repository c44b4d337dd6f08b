"""Verilator builds and runs wherever the build folder is, and retried when killed by a signal.

The MAC is the smallest of the regression matrix (int2 x uint2, a few hundred gates); its
quick vector sets run with ``LOWBIT_BUILD`` in a folder whose name is not ``build`` (the
waivers once matched ``*/build/rtl/*`` only, and every build elsewhere failed on
WIDTHEXPAND). Crashes are injected with :mod:`tests.tool_crash`: the tool runs, then the
wrapper kills itself with SIGBUS, a fixed number of times.
"""

import logging

import pytest
from cocotb_tools import runner as cocotb_runner

from lowbit.hdl.rtl_export import ExportedRtl
from lowbit.verify import regression
from lowbit.verify.faults import harness, mutation
from lowbit.verify.runner import (SimulationFailed, SimulatorCrashed, run_testbench,
                                  verilator_opt)
from tests.tool_crash import calls, crashing

SMALL = "intmac_int2xuint2_int6_sat"


@pytest.fixture(scope="module")
def elsewhere(tmp_path_factory):
    """``LOWBIT_BUILD`` for the module: a folder named neither ``build`` nor under one."""
    folder = tmp_path_factory.mktemp("lowbit-output") / "generated-files"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LOWBIT_BUILD", str(folder))
        yield folder


def test_a_regression_entry_passes_with_the_build_folder_elsewhere(elsewhere):
    entry = regression.by_name(regression.MAC)[SMALL]
    rows = [regression.run_entry(entry, s, driver="cycle") for s in entry.sets(full=False)]
    assert [(r["status"], r["error"]) for r in rows] == [("pass", "")] * len(rows)
    assert all(r["mismatches"] == 0 and r["vectors"] > 0 for r in rows)
    [waivers] = (elsewhere / "rtl").rglob("waivers.vlt")
    [verilog] = (elsewhere / "rtl").rglob(f"{SMALL}.v")
    assert f'lint_off -rule WIDTHEXPAND -file "{verilog.resolve()}"' in waivers.read_text()
    assert "UNOPTFLAT" not in waivers.read_text()  # gate-level rules only for netlists


def test_a_build_folder_with_a_space_is_one_clear_error(tmp_path):
    folder = tmp_path / "my rtl"
    rtl = ExportedRtl("m", folder, folder / "m.v", None, "")
    with pytest.raises(SimulationFailed) as info:
        run_testbench(rtl, "lowbit.verify.testbenches.mac_tb", {})
    build = folder / f"sim_verilator{verilator_opt()}"
    assert str(info.value) == (f"Verilator cannot build in '{build}': GNU make needs a path "
                               f"without spaces; set LOWBIT_BUILD or --out to one")


def test_a_killed_verilator_build_and_simulation_are_retried(elsewhere, tmp_path, monkeypatch,
                                                             caplog):
    build_prefix = crashing(tmp_path / "build", times=1)
    test_prefix = crashing(tmp_path / "test", times=1)
    Verilator = cocotb_runner.Verilator
    build_command, test_command = Verilator._build_command, Verilator._test_command

    def crashing_build(self):  # the verilator step; make runs unchanged
        first, *rest = build_command(self)
        return [build_prefix + first, *rest]

    monkeypatch.setattr(Verilator, "_build_command", crashing_build)
    monkeypatch.setattr(Verilator, "_test_command",
                        lambda self: [test_prefix + c for c in test_command(self)])
    entry = regression.by_name(regression.MAC)[SMALL]
    with caplog.at_level(logging.WARNING, "lowbit.tool_runs"):
        row = regression.run_entry(entry, "corners", driver="cycle")
    assert (row["status"], row["error"], row["mismatches"]) == ("pass", "", 0)
    assert calls(tmp_path / "build") == 2 and calls(tmp_path / "test") == 2
    assert [r.getMessage() for r in caplog.records] == [
        f"verilator killed by SIGBUS on the build of {SMALL} (attempt 1 of 3); retrying",
        f"verilator simulation killed by SIGBUS on lowbit.verify.testbenches.mac_tb on {SMALL} "
        f"(attempt 1 of 3); retrying"]
    [build] = (elsewhere / "rtl").rglob("sim_verilator*")
    assert (build / "build.attempt1.log").exists() and (build / "build.log").exists()
    assert (build / "results-mac_tb.attempt1.log").exists()


def test_a_simulation_killed_every_time_fails_its_row_with_the_reason(elsewhere, tmp_path,
                                                                      monkeypatch):
    prefix = crashing(tmp_path, times=99)
    test_command = cocotb_runner.Verilator._test_command
    monkeypatch.setattr(cocotb_runner.Verilator, "_test_command",
                        lambda self: [prefix + c for c in test_command(self)])
    row = regression.run_entry(regression.by_name(regression.MAC)[SMALL], "corners",
                               driver="cycle")
    assert row["status"] == "fail" and calls(tmp_path) == 3
    assert row["error"].startswith(f"verilator simulation killed by SIGBUS 3 times on "
                                   f"lowbit.verify.testbenches.mac_tb on {SMALL} (logs: ")


@pytest.fixture(scope="module")
def small_draw():
    e = regression.by_name(regression.MAC)[SMALL]
    unit = e.build()
    sets = e.sets(full=False)
    return unit, sets, {s: e.vectors(unit, s) for s in sets}


def _run(small_draw, tmp_path, jobs=1):
    unit, sets, vectors = small_draw
    return mutation.run_mutation(unit, SMALL, mutants=40, seed=3, vector_sets=sets,
                                 vectors=vectors, jobs=jobs, progress=False,
                                 json_path=tmp_path / "mutation.json")


def test_mutant_simulators_killed_once_are_rerun_and_the_kills_are_unchanged(
        small_draw, tmp_path, monkeypatch):
    clean = _run(small_draw, tmp_path)
    prefix = crashing(tmp_path, times=1)
    command = harness.Campaign.command
    monkeypatch.setattr(harness.Campaign, "command",
                        lambda self, *args: prefix + command(self, *args))
    again = _run(small_draw, tmp_path)
    assert calls(tmp_path) == 2 and again.detections == clean.detections and not again.unknown


def test_a_mutant_whose_simulation_keeps_crashing_is_unknown_and_the_campaign_goes_on(
        small_draw, tmp_path, monkeypatch):
    clean = _run(small_draw, tmp_path)
    mutant = clean.survivors[0].id if clean.survivors else 7
    # the one shard (mutants 0.. of 1) and mutant 7 alone (mutant 7 of 41) always crash
    prefix = crashing(tmp_path, times=99, args=f'*" 0 1"|*" {mutant} 41"')
    command = harness.Campaign.command
    monkeypatch.setattr(harness.Campaign, "command",
                        lambda self, *args: prefix + command(self, *args))
    r = _run(small_draw, tmp_path)
    assert r.unknown == {mutant: "mutant simulator killed by SIGBUS 3 times"}
    assert calls(tmp_path) == 3 + 41 + 2  # the shard, then each mutant alone (7 three times)
    assert mutant not in {m.id for m in r.survivors}
    assert r.detections == {s: {m: d for m, d in found.items() if m != mutant}
                            for s, found in clean.detections.items()}
    assert r.to_dict()["unknown"] == [{"id": mutant,
                                       "reason": "mutant simulator killed by SIGBUS 3 times"}]


def test_a_crashing_baseline_is_an_error_not_an_unknown(small_draw, tmp_path, monkeypatch):
    prefix = crashing(tmp_path, times=99)
    command = harness.Campaign.command
    monkeypatch.setattr(harness.Campaign, "command",
                        lambda self, *args: prefix + command(self, *args))
    with pytest.raises(SimulatorCrashed, match=f"^mutant simulator killed by SIGBUS 3 times on "
                                               f"{SMALL} mutant 0$"):
        _run(small_draw, tmp_path)
