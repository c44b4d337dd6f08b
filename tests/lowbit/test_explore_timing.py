"""Sweeps over pipelining: the ``stages`` axis pipelines the point's MAC design (each PE of
its engine), the area stage reports the design's ``delay_ps``, ``fmax_mhz`` and ``latency``
from its timed netlist, and ``clock_mhz = "fmax"`` runs the cycle model at that Fmax (resolved
on the top floor: :mod:`lowbit.sim` never imports :mod:`lowbit.reports`).

IntMac int8 is the subject (seconds of Yosys per stage count, cached); the cycle model runs a
4 x 4 output-stationary array on one decode step's weight GEMMs.
"""

import dataclasses

import pytest

from lowbit import sim
from lowbit.explore import Space, Sweep, evaluate, hardware
from lowbit.explore.axes import AxisError, check_value
from lowbit.explore.sweep import SweepError
from lowbit.explore.hardware import HardwareMapError, engine_design
from lowbit.hdl import designs
from lowbit.reports import pipelining
from lowbit.sim.engine_model import engine_spec
from lowbit.sim.hardware import HardwareError
from tests.expect import raises_exactly

pytestmark = pytest.mark.filterwarnings("ignore:.*created but never used")
POINT = {"a_fmt": "int8", "rows": 4, "cols": 4, "attention": False}
MAC = "intmac_int8xint8_int32"


@pytest.mark.parametrize("stages", [1, 2])
def test_stages_and_fmax_reach_area_and_sim(stages):
    point = {**POINT, "stages": stages, "clock_mhz": "fmax"}
    out = evaluate(point, ("area", "sim"))
    spec = designs.get(MAC) if stages == 1 else dataclasses.replace(designs.get(MAC),
                                                                    stages=stages)
    report = pipelining.timed(spec)
    assert out["mac_design"] == spec.name and out["latency"] == stages == spec.latency
    assert out["delay_ps"] == round(report.delay_ps, 1)
    assert out["fmax_mhz"] == round(1e6 / report.delay_ps, 1)
    assert out["sim_clock_mhz"] == pytest.approx(1e6 / report.delay_ps)
    # the same point with that clock typed as a number: identical cycles and TOPS
    arch = hardware.arch({**point, "clock_mhz": 1e6 / report.delay_ps})
    assert arch.engine.pe_stages == stages
    res = sim.run(arch, "llama2-7b-decode", batch=1, context=512, attention=False)
    assert out["cycles"] == pytest.approx(res.total["cycles"])
    assert out["tops"] == pytest.approx(res.total["tops"])
    if stages > 1:  # outside the committed energy table: measured on demand, finite
        assert out["energy_pj"] > 0


def test_the_engine_of_a_pipelined_point_counts_the_pe_latency():
    one, two = (engine_design({**POINT, "stages": s}) for s in (1, 2))
    assert two.pe.name == MAC + "_s2" and two.latency == one.latency + 1
    assert two == engine_spec(sim.EngineConfig(rows=4, cols=4, pe_stages=2))
    assert two.cycles(8, 64, 8) == one.cycles(8, 64, 8) + 1  # the closed form, one deeper


@pytest.mark.parametrize("axis, value, message", [
    ("stages", 0, "axis stages must be an integer from 1 to 8, not 0"),
    ("stages", "2", "axis stages must be an integer from 1 to 8, not '2'"),
    ("clock_mhz", "fast", "axis clock_mhz must be fmax or a frequency above 0 and at most "
     "1e5 MHz, not 'fast'"),
    ("clock_mhz", -1, "axis clock_mhz must be fmax or a frequency above 0 and at most 1e5 "
     "MHz, not -1"),
])
def test_axis_rules(axis, value, message):
    raises_exactly(lambda: check_value(axis, value), AxisError, message)
    raises_exactly(lambda: Sweep("bad", Space({**POINT, axis: value}), ("area", "sim")),
                   SweepError, message)


@pytest.mark.parametrize("extra, message", [
    ({"stages": 4}, "a_fmt int8 x b_fmt int8 into accumulator int32: IntMac stages must be an "
     "integer from 1 to 3 (cut points in order: product, partial_products), not 4"),
    ({"stages": 2, "b_fmt": "lut2"}, "a_fmt int8 x b_fmt lut2 into accumulator int32: stages "
     "pipelines a MAC design; the LUT core of b_fmt lut2 has none: leave stages 1, not 2"),
    ({"stages": 2, "dataflow": "ws"}, "a_fmt int8 x b_fmt int8 into accumulator int32: "
     "SystolicArray dataflow 'ws' cannot carry a pipelined PE (IntMac stages 2): partial sums "
     "pass from PE to PE every cycle, so a PE must add its product in the cycle of its "
     "operation; use dataflow 'os' or stages 1"),
])
def test_a_point_the_hardware_refuses_names_the_axis(extra, message):
    raises_exactly(lambda: engine_design({**POINT, **extra}), HardwareMapError, message)


def test_a_lut_engine_takes_no_pe_stages():
    raises_exactly(lambda: sim.EngineConfig(kind="lut", b_fmt="int2", pe_stages=2),
                   HardwareError,
                   "engine pe_stages applies to systolic and adder_tree engines (their MACs), "
                   "not kind 'lut'; leave it 1, not 2")


def test_sim_cli_runs_at_the_mac_designs_fmax(capsys, tmp_path):
    from lowbit import cli

    fmax = pipelining.fmax_mhz(MAC)  # edge-int8-32x32's PE
    assert cli.main(["sim", "--arch", "edge-int8-32x32", "--workload", "llama2-7b-decode",
                     "--clock-mhz", "fmax", "--out", str(tmp_path / "a")]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert f"clock: Fmax of {MAC}, {fmax:.1f} MHz" in out and f"at {fmax:g} MHz" in out
    assert cli.main(["sim", "--arch", "edge-int8-32x32", "--workload", "llama2-7b-decode",
                     "--clock-mhz", "fast", "--out", str(tmp_path / "b")]) == 2
    assert capsys.readouterr().err == ("lowbit: error: --clock-mhz must be a number of MHz or "
                                       "fmax, not 'fast'\n")


def test_the_pipeline_stages_example_runs_each_point_at_its_fmax(tmp_path):
    """examples/pipeline_stages.toml: int8 and FP8 MACs at 1 to 3 stages, each array at its
    MAC's Fmax; every point ok, its clock its MAC's Fmax, its latency its stages."""
    from pathlib import Path

    from lowbit.explore import load_sweep, run_sweep

    sweep = load_sweep(Path(__file__).parents[2] / "examples" / "pipeline_stages.toml")
    rows = run_sweep(sweep, out=tmp_path, workers=1, progress=False).rows
    assert len(rows) == 6 and {r["status"] for r in rows} == {"ok"}
    for r in rows:
        assert r["latency"] == r["stages"]
        assert r["sim_clock_mhz"] == pytest.approx(1e6 / r["delay_ps"], rel=1e-4)
        assert r["mac_design"].endswith("" if r["stages"] == 1 else f"_s{r['stages']}")
