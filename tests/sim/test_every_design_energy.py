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
    if isinstance(spec, (designs.MixPESpec, designs.MixPEArraySpec)):
        array = spec if isinstance(spec, designs.MixPEArraySpec) else None
        pe = array.pe if array else spec
        return sim.EngineConfig(kind="mixpe", rows=array.rows if array else 4,
                                cols=array.cols if array else 4, a_fmt=pe.act.name,
                                b_fmt=pe.weight, group_size=pe.group, k_step=pe.k_step,
                                accumulator=pe.acc.name), pe.name
    if isinstance(spec, (designs.MatrixSpec, designs.CubeSpec)):
        pe = spec.pe
        f = {"a_fmt": pe.a_fmt.name, "b_fmt": pe.b_fmt.name,
             "accumulator": (getattr(pe, "acc", None) or pe.accumulator).name,
             "mac_variant": "bitweight" if pe.kind == "bwmac" else "standard"}
        if isinstance(spec, designs.CubeSpec):
            return sim.EngineConfig(kind="cube", rows=spec.m, cols=spec.n,
                                    cube_k=spec.k, **f), pe.name
        return sim.EngineConfig(kind="matrix", rows=spec.rows, cols=spec.cols, **f), pe.name
    acc = (getattr(spec, "acc", None) or spec.accumulator).name
    f = {"a_fmt": spec.a_fmt.name, "b_fmt": spec.b_fmt.name, "accumulator": acc}
    if getattr(spec, "pe", None) is not None and spec.pe.kind == "bwmac":
        f["mac_variant"] = "bitweight"
    if isinstance(spec, designs.SystolicSpec):
        return sim.EngineConfig(rows=spec.rows, cols=spec.cols, dataflow=spec.dataflow,
                                **f), spec.pe.name
    if isinstance(spec, designs.AdderTreeSpec):
        return sim.EngineConfig(kind="adder_tree", lanes=spec.lanes, **f), spec.pe.name
    if isinstance(spec, designs.LutCoreSpec):
        return sim.EngineConfig(kind="lut", a_fmt="int8", b_fmt="int2",
                                weight_bits=spec.weight_bits, lut_group=spec.group,
                                lut_tile=spec.tile, accumulator=acc), spec.name
    if spec.kind == "bwmac":
        f["mac_variant"] = "bitweight"
    return sim.EngineConfig(rows=4, cols=4, dataflow="os", **f), spec.name  # one PE kind


# SimdMac and the multi-format MAC are not engine kinds of lowbit.sim (their measured energy is
# in the table all the same)
RUNNABLE = [n for n in TABLE_DESIGNS
            if not isinstance(designs.get(n), (designs.SimdMacSpec, designs.MultiFormatSpec))]


@pytest.mark.parametrize("name", RUNNABLE)
def test_every_standard_design_gets_a_finite_measured_energy(name):
    engine, priced_by = _engine(designs.get(name))
    arch = sim.ArchConfig("t", engine=engine, clock_mhz=20)  # below every design's Fmax
    res = sim.run(arch, [sim.GemmOp("g", 8, 64, 8, engine.a_fmt, engine.storage_fmt("b_fmt"))])
    assert math.isfinite(res.total["energy_pj"]) and res.total["energy_compute_pj"] > 0
    assert res.notes == []
    used = res.energy_constants[f"mac_energy.{priced_by}"]
    assert used["stream"] == "gaussian" and used["entry"].startswith("mac_energy_nangate45.toml")
