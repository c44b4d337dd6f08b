"""Activity energy of MixPE (issue 24): the stimulus protocol that drives a MixPE with a stream,
checked by what the synthesized netlist computes under it (every lane's result equal to
golden's group-wise GEMM of the lane's operands), and the energy the cycle model prices a MixPE
array with. Small PEs (groups of 8, K = 32: four groups per dot product), 64 lanes: seconds of
Yosys and simulation.
"""

import numpy as np
import pytest

from lowbit.golden.mpgemm import groupwise_gemm
from lowbit.hdl import designs
from lowbit.reports import activity, operand_streams, power, stimulus, synthesis
from lowbit.reports.netlist import read_netlist

DESIGNS = ("mixpe_int8xint4_g8_fp32", "mixpe_int8xternary_g8_fp32")


class _Watch(activity.Stimulus):
    """The protocol's stimulus, recording the ``acc`` planes of every ``out_valid`` cycle."""

    def __init__(self, inner):
        self.inner, self.words, self.results = inner, inner.words, []

    def cycle(self, t, before):
        if t and before.flag("out_valid"):
            self.results.append(before.planes("acc").copy())
        out = self.inner.cycle(t, before)
        self.operations = self.inner.operations
        return out


def _lane_values(planes) -> list:
    width, words = planes.shape
    return [sum(int((planes[i, lane // 64] >> np.uint64(lane % 64)) & np.uint64(1)) << i
                for i in range(width)) for lane in range(64 * words)]


@pytest.mark.parametrize("name", DESIGNS)
def test_the_protocol_makes_the_netlist_compute_golden_s_groupwise_gemm(name):
    spec = designs.get(name)
    synthesis.synth(spec, ["generic"], timing=False)
    program = activity.compile_netlist(read_netlist(synthesis.work_folder(spec, "generic")))
    source = operand_streams.stream("gaussian", *power.stream_formats(spec), k=32, rows=64,
                                    cols=64)
    lanes = source.lanes(64)
    protocol = stimulus.stimulus_for(spec, lanes)
    watch = _Watch(protocol.stimulus)
    act = activity.simulate(program, watch)
    pe = spec.prototype
    assert act.cycles == 32 // pe.k_step + pe.latency + 1  # one beat per cycle, then drain
    assert protocol.stimulus.operations == 32 and protocol.macs_per_operation == 1
    (result,) = watch.results
    got = _lane_values(result)
    scheme = pe.scheme
    for s in range(64):
        weights = scheme.quantize(scheme.fmt.to_int(lanes.b[s, 0]).astype(float)[:, None])
        want = groupwise_gemm(lanes.a[s], weights, pe.act_fmt, pe.accumulator)
        assert got[s] == int(want[0, 0]), (s, hex(got[s]), hex(int(want[0, 0])))


def test_mixpe_energy_prices_the_cycle_model():
    """The cycle model's energy source measures a MixPE on demand; a ternary PE (one shifted
    copy, negated or not) switches less than an int4 one (four copies)."""
    source = power.mac_energy_source()
    int4, ternary = (source(name, "gaussian") for name in DESIGNS)
    for measured in (int4, ternary):
        assert measured is not None and measured.peak_macs_per_cycle == 4
        assert 0 < measured.dynamic_pj < 10 and measured.leakage_nw > 0
    assert ternary.datapath_pj < int4.datapath_pj
