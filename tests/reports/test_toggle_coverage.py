"""Issue 23, acceptance 1: lowbit's bit-parallel activity simulator and Verilator's toggle
coverage (an independent simulator of the same netlist, written back to Verilog by Yosys) count
the same transitions on every net of a synthesized design, net by net."""

import numpy as np
import pytest

from lowbit import toggle_coverage
from lowbit.hdl import designs
from lowbit.reports import activity, operand_streams, power, stimulus, synthesis
from lowbit.reports.netlist import read_netlist

pytestmark = pytest.mark.xdist_group("rtl")


@pytest.fixture(scope="module")
def int4_harness(tmp_path_factory):
    """The int4 MAC's coverage harness folder, shared (Verilator skips an unchanged rebuild)."""
    return tmp_path_factory.mktemp("int4_harness")


def _check(design, folder, stream):
    c = toggle_coverage.cross_check(design, stream, folder=folder)
    assert c.nets > 100 and c.lanes == 64 and c.cycles > 16
    assert c.lowbit_total > 10 * c.nets  # the stream moves the datapath, not a few nets
    assert c.differences == {} and c.lowbit_total == c.verilator_total
    return c


def test_int4_mac_toggle_counts_equal_verilator_net_by_net(int4_harness):
    # an IntMac: adder/multiplier datapath plus an accumulator register fed back
    _check("intmac_int4xint4_int32", int4_harness, "random")


@pytest.mark.full
@pytest.mark.parametrize("design, stream", [("floatmac_fp4_e2m1xfp4_e2m1_fp32", "random"),
                                            ("intmac_int8xint8_int32", "sparse")])
def test_more_designs_toggle_counts_equal_verilator(design, stream, tmp_path):
    # a float datapath (align, normalize, round) and a sparse stream (held zero operands)
    _check(design, tmp_path / "harness", stream)


def test_the_comparison_sees_a_changed_stimulus(int4_harness):
    """The check can fail: replayed with one input bit flipped in one cycle of one lane,
    Verilator's counts differ from lowbit's on the original stimulus (and equal them without
    the flip)."""
    spec = designs.get("intmac_int4xint4_int32")
    synthesis.synth(spec, ["generic"], timing=False)
    work = synthesis.work_folder(spec)
    nl = read_netlist(work)
    src = operand_streams.stream("random", *power.stream_formats(spec), k=8, rows=64, cols=64)
    recorder = toggle_coverage.Recorder(stimulus.stimulus_for(spec, src.lanes(64)).stimulus)
    ours = activity.simulate(activity.compile_netlist(nl), recorder).toggles
    harness = toggle_coverage.build(work / "netlist.json", int4_harness)
    nets = sorted(set(harness.wires.values()) - {int(c) for c in nl.ff_clock})
    same, _ = toggle_coverage.run_lanes(harness, recorder.log, range(64), nl.n_nets)
    assert np.array_equal(ours[nets], same[nets])
    planes = recorder.log[3]["a"]
    planes[0, 0] ^= np.uint64(1 << 5)  # lane 5, bit 0 of operand a, cycle 3
    changed, _ = toggle_coverage.run_lanes(harness, recorder.log, range(64), nl.n_nets)
    assert not np.array_equal(ours[nets], changed[nets])
