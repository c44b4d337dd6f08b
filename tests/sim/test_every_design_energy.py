"""Issue 23, acceptance 3: the cycle model gives a finite energy for every design of the energy
table (the standard catalogue when it was measured, plus NVFP4 and FP16/BF16 MACs) it can run
as an engine, priced by that design's own measured entry (its processing element's for arrays
and adder trees)."""

import math

import pytest

from lowbit import sim
from lowbit.hdl import designs
from lowbit.reports.energy_table import TABLE_DESIGNS


def _engine(spec):
    """The sim engine built from ``spec`` and the design whose energy must price it."""
    acc = (getattr(spec, "acc", None) or spec.accumulator).name
    f = {"a_fmt": spec.a_fmt.name, "b_fmt": spec.b_fmt.name, "accumulator": acc}
    if isinstance(spec, designs.SystolicSpec):
        return sim.EngineConfig(rows=spec.rows, cols=spec.cols, dataflow=spec.dataflow,
                                **f), spec.pe.name
    if isinstance(spec, designs.AdderTreeSpec):
        return sim.EngineConfig(kind="adder_tree", lanes=spec.lanes, **f), spec.pe.name
    if isinstance(spec, designs.LutCoreSpec):
        return sim.EngineConfig(kind="lut", a_fmt="int8", b_fmt="int2",
                                weight_bits=spec.weight_bits, lut_group=spec.group,
                                lut_tile=spec.tile, accumulator=acc), spec.name
    return sim.EngineConfig(rows=4, cols=4, dataflow="os", **f), spec.name  # one PE kind


# SimdMac is not an engine kind of lowbit.sim (its measured energy is in the table all the same)
RUNNABLE = [n for n in TABLE_DESIGNS if not isinstance(designs.get(n), designs.SimdMacSpec)]


@pytest.mark.parametrize("name", RUNNABLE)
def test_every_standard_design_gets_a_finite_measured_energy(name):
    engine, priced_by = _engine(designs.get(name))
    arch = sim.ArchConfig("t", engine=engine, clock_mhz=100)
    res = sim.run(arch, [sim.GemmOp("g", 8, 64, 8, engine.a_fmt, engine.b_fmt)])
    assert math.isfinite(res.total["energy_pj"]) and res.total["energy_compute_pj"] > 0
    assert res.notes == []
    used = res.energy_constants[f"mac_energy.{priced_by}"]
    assert used["stream"] == "gaussian" and used["entry"].startswith("mac_energy_nangate45.toml")
