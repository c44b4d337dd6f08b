"""Pipelining to a clock (:mod:`lowbit.reports.pipelining`, ``lowbit synth --clock-mhz``): the
stage count chosen is the fewest whose timed netlist meets the clock, checked against each
stage count's own timing report; bad input gets one line (exit 2 on the command line).

IntMac int8 x int8 -> int32 is the subject: three stage counts synthesize in seconds, and its
32-bit accumulator loop bounds the clock (stages 2 and 3 time alike), so both a reachable and
an unreachable clock exist.
"""

import dataclasses
from pathlib import Path

import pytest

from lowbit import cli
from lowbit.hdl import designs
from lowbit.reports import pipelining, timing
from tests.expect import raises_exactly

HERE = Path(__file__).parent
MAC = "intmac_int8xint8_int32"


@pytest.fixture(scope="module")
def cache(synthesis_cache):
    """The run's shared synthesis cache (tests/conftest.py): designs this module shares with
    other modules and the demo synthesize once."""
    return synthesis_cache


@pytest.fixture(scope="module")
def delays(cache):
    """Critical path (ps) of the MAC at each stage count."""
    return {s: pipelining.timed(pipelining.with_stages(MAC, s), cache_dir=cache).delay_ps
            for s in pipelining.stage_range(MAC)}


def test_the_chosen_stages_are_the_fewest_that_meet_the_clock(cache, delays):
    assert list(delays) == [1, 2, 3]
    assert delays[2] < delays[1]  # the product cut shortens the operand-to-register path
    for clock_mhz in (200, 1e6 / delays[1], 1e6 / delays[1] + 1, 1e6 / min(delays.values())):
        period = 1e6 / clock_mhz
        s = pipelining.stages_for_clock(MAC, clock_mhz, cache_dir=cache)
        assert delays[s] <= period
        assert all(delays[f] > period for f in range(1, s))
    spec = pipelining.at_clock(designs.get(MAC), 1e6 / delays[1] + 1, cache_dir=cache)
    assert spec == dataclasses.replace(designs.get(MAC), stages=2)
    assert spec.name == MAC + "_s2" and spec.latency == 2
    assert pipelining.fmax_mhz(spec, cache_dir=cache) == pytest.approx(1e6 / delays[2])


def test_an_unreachable_clock_names_the_design_and_the_fastest_stage_count(cache, delays):
    best = min(delays.values())
    raises_exactly(lambda: pipelining.stages_for_clock(MAC + "_s2", 2000, cache_dir=cache),
                   pipelining.PipeliningError,
                   f"{MAC}: clock_mhz 2000 (period 500 ps) is out of reach: the fastest of 1 "
                   f"to 3 stages has a critical path of {best:.0f} ps (at most {1e6 / best:.0f} "
                   f"MHz); the accumulator loop bounds the clock whatever the stages")


@pytest.mark.parametrize("design, clock, message", [
    (MAC, 0, f"{MAC}: clock_mhz must be a positive number of MHz, not 0"),
    (MAC, "fast", f"{MAC}: clock_mhz must be a positive number of MHz, not 'fast'"),
    ("systolic4x4_os_intmac_int8xint8_int32", 500,
     "design systolic4x4_os_intmac_int8xint8_int32 (SystolicArray) has no stages: the units "
     "pipelined to a clock are IntMac, FloatMac, PositMac, MxDotUnit"),
])
def test_bad_clock_or_design(design, clock, message):
    raises_exactly(lambda: pipelining.stages_for_clock(design, clock),
                   pipelining.PipeliningError, message)


def one_line_error(capsys, args):
    code = cli.main(args)
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.count("\n") == 1, err
    return err.strip()


@pytest.mark.parametrize("args, message", [
    (["IntMac", "--param", "stages=-1"], "IntMac stages must be an integer from 1 to 3 (cut "
     "points in order: product, partial_products), not -1"),
    (["IntMac", "--param", "stages=4"], "IntMac stages must be an integer from 1 to 3 (cut "
     "points in order: product, partial_products), not 4"),
    (["PositMac", "--param", "stages=9"], "PositMac stages must be an integer from 1 to 4 (cut "
     "points in order: product, result, decoded), not 9"),
    ([MAC + "_s0"], f"design '{MAC}_s0': IntMac stages must be an integer from 1 to 3 (cut "
     "points in order: product, partial_products), not 0"),
    (["IntMac", "--clock-mhz", "-5"],
     f"{MAC}: clock_mhz must be a positive number of MHz, not -5.0"),
    (["IntMac", "--clock-mhz", "500", "--param", "stages=2"],
     "give --clock-mhz or --param stages, not both (--clock-mhz picks the stages)"),
    (["--all", "--clock-mhz", "500"],
     "--clock-mhz pipelines a lowbit DESIGN or UNIT, not --all or a Verilog file"),
    (["IntMac", "--clock-mhz", "500", "--no-timing"],
     "--clock-mhz needs timing; it cannot go with --no-timing"),
    (["SystolicArray", "--clock-mhz", "500"],
     "design systolic4x4_ws_intmac_int8xint8_int32 (SystolicArray) has no stages: the units "
     "pipelined to a clock are IntMac, FloatMac, PositMac, MxDotUnit"),
])
def test_synth_refuses_bad_stages_and_clocks_in_one_line(args, message, capsys, tmp_path):
    line = one_line_error(capsys, ["synth", *args, "--target", "generic",
                                   "--out", str(tmp_path / "rep")])
    assert line == f"lowbit: error: {message}"


def test_synth_clock_mhz_picks_the_stages(capsys, tmp_path, delays):
    clock = 1e6 / delays[1] + 1  # the one-cycle MAC misses it, two stages meet it
    assert cli.main(["synth", "IntMac", "--clock-mhz", f"{clock:.3f}", "--target", "generic",
                     "--out", str(tmp_path / "rep")]) == 0
    out = capsys.readouterr().out
    assert f"{MAC}_s2: 2 stages meet {float(f'{clock:.3f}'):g} MHz" in out
    assert (tmp_path / "rep" / "synth.csv").read_text().count(f"{MAC}_s2,") == 1
    line = one_line_error(capsys, ["synth", "IntMac", "--clock-mhz", "2000", "--target",
                                   "generic", "--out", str(tmp_path / "rep")])
    assert line.startswith(f"lowbit: error: {MAC}: clock_mhz 2000.0 (period 500 ps) is out of "
                           f"reach: the fastest of 1 to 3 stages")


def test_a_liberty_without_timing_tables_cannot_pick_stages(capsys, tmp_path):
    lib = tmp_path / "tiny.lib"
    lib.write_bytes((HERE / "tiny.lib").read_bytes())
    line = one_line_error(capsys, ["synth", "IntMac", "--param", "a=int4", "--param", "b=int4",
                                   "--clock-mhz", "500", "--liberty", str(lib), "--target",
                                   "generic", "--out", str(tmp_path / "rep")])
    assert line == ("lowbit: error: liberty file 'cells.lib' has no timing tables (cell_rise/"
                    "cell_fall): timing needs the library's NLDM delay tables; synthesize with "
                    "timing=False (--no-timing) for area alone")
    with pytest.raises(timing.TimingError):
        pipelining.stages_for_clock("intmac_int4xint4_int32", 500, liberty=lib,
                                    cache_dir=tmp_path / "synth")


def test_a_liberty_with_timing_tables_picks_stages_by_its_own_delays(cache, tmp_path):
    """The made-up timing library of tests/reports/timing_lib.py: the stage count chosen
    meets the clock by that library's timing, and no fewer stages do."""
    from tests.reports import timing_lib

    lib = timing_lib.write(tmp_path / "t.lib")
    mac = "intmac_int4xint4_int32"
    own = {s: pipelining.timed(pipelining.with_stages(mac, s), liberty=lib,
                               cache_dir=cache).delay_ps for s in (1, 2)}
    assert own[2] < own[1]
    assert own != {s: pipelining.timed(pipelining.with_stages(mac, s), cache_dir=cache).delay_ps
                   for s in (1, 2)}  # not the generic cells' numbers
    clock = 1e6 / own[1] + 1
    assert pipelining.stages_for_clock(mac, clock, liberty=lib, cache_dir=cache) == 2
    assert pipelining.stages_for_clock(mac, 1e6 / own[1], liberty=lib, cache_dir=cache) == 1
