"""The stimulus protocols of the seed PEs (issue 24) drive their synthesized netlists the way
the hardware is meant to be driven: the bit-parallel simulator's outputs, read back after every
run, equal golden's results bit for bit. Energy measured on a wrongly driven netlist would be
the energy of something else.

Small configurations keep Yosys short: a gated multi-format MAC with two 4-lane modes (FP4 and
Posit(4,1): mode switching and lane gating), and MixPEs with 2-bit weights, groups of 8 and two
products per beat (signed weights, and unsigned ones with zero points). By default one MixPE on
one stream (about 10 s of CPU for its Yosys run); the rest with ``--full`` (minutes)."""

import numpy as np
import pytest

from lowbit.golden import gemm
from lowbit.golden.mpgemm import groupwise_gemm
from lowbit.hdl import designs
from lowbit.reports import activity, operand_streams, power, stimulus
from lowbit.reports.activity import Stimulus
from tests.expect import raises_exactly

MULTI = "multiformat_fp4_e2m1_posit4_1_quire_gated"
LANES = 256  # simulated streams (each run one dot product)


class _Outputs(Stimulus):
    """Passes ``inner`` through and keeps the planes of ``ports`` of every cycle with
    out_valid (a dict per such cycle)."""

    def __init__(self, inner, ports):
        self.inner, self.ports, self.words, self.seen = inner, ports, inner.words, []

    @property
    def operations(self):
        return self.inner.operations

    def cycle(self, t, before):
        if t and before.flag("out_valid"):
            self.seen.append({p: before.planes(p).copy() for p in self.ports})
        return self.inner.cycle(t, before)


def _lane_values(planes) -> list:
    """Per simulated lane, the integer held by ``planes`` ``(width, words)``."""
    width, words = planes.shape
    bits = np.unpackbits(planes.view(np.uint8).reshape(width, words, 8), axis=-1,
                         bitorder="little").reshape(width, words * 64)
    return [sum(int(b) << i for i, b in enumerate(bits[:, s])) for s in range(words * 64)]


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return tmp_path_factory.mktemp("protocol_synth")


def _run(name, cache, mode=0, lane_enable=None, k=16, stream="gaussian"):
    spec = designs.get(name)
    program, _ = power._prepared(power._synthesized(spec, None, str(cache)), None)
    a_fmt, b_fmt = power.stream_formats(spec, mode)
    ops = operand_streams.stream(stream, a_fmt, b_fmt, k=k, rows=LANES, cols=LANES).lanes(LANES)
    proto = stimulus.stimulus_for(spec, ops, mode=mode, lane_enable=lane_enable)
    ports = (["acc"] if isinstance(spec, designs.MixPESpec) else
             [f"acc{k}" for k in range(spec.prototype.lanes)])
    recorder = _Outputs(proto.stimulus, ports)
    act = activity.simulate(program, recorder)
    return spec, ops, recorder, act, proto


@pytest.mark.full
@pytest.mark.parametrize("mode, lane_enable", [(0, None), (1, None), (1, 0b0101)])
def test_multiformat_lanes_equal_golden(cache, mode, lane_enable):
    spec, ops, rec, act, proto = _run(MULTI, cache, mode, lane_enable)
    fm = spec.modes[mode]
    enabled = [k for k in range(fm.lanes) if (lane_enable or 0b1111) >> k & 1]
    per_lane = LANES // len(enabled)  # streams per enabled lane: lane j of sim lane w = j S'+w
    assert act.operations == 16 * len(enabled) and proto.macs_per_operation == 1
    for j, lane in enumerate(enabled):
        got = _lane_values(rec.seen[-1][f"acc{lane}"])
        want = [int(gemm.gemm(ops.a[s], ops.b[s].T, fm.fmt, fm.fmt, fm.acc)[0, 0])
                for s in range(j * per_lane, (j + 1) * per_lane)]
        assert got == want, lane


@pytest.mark.full
def test_a_held_lane_does_not_toggle_its_registers(cache):
    *_, all_on, _ = _run(MULTI, cache, 0, 0b1111)
    *_, one_on, _ = _run(MULTI, cache, 0, 0b0001)
    # per simulated lane and cycle (one enabled lane packs one stream per simulated lane, four
    # enabled lanes four): three held lanes of four leave well under half the transitions
    rate = [a.toggles.sum() / (a.lanes * a.cycles) for a in (one_on, all_on)]
    assert rate[0] < 0.5 * rate[1]


@pytest.mark.parametrize("name, stream", [
    ("mixpe_int4xint2_g8_fp32_k2", "gaussian"),
    pytest.param("mixpe_int4xint2_g8_fp32_k2", "random", marks=pytest.mark.full),
    pytest.param("mixpe_int4xuint2_g8_fp32_k2", "gaussian", marks=pytest.mark.full),
    pytest.param("mixpe_int4xuint2_g8_fp32_k2", "random", marks=pytest.mark.full)])
def test_mixpe_outputs_equal_the_groupwise_reference(cache, name, stream):
    # K = 20: two whole groups of 8 and a ragged one of 4 (group boundaries inside a run)
    spec, ops, rec, act, _ = _run(name, cache, k=20, stream=stream)
    got = _lane_values(rec.seen[-1]["acc"])
    want = [int(groupwise_gemm(ops.a[s], ops.group_weights(s), spec.act, spec.acc)[0, 0])
            for s in range(LANES)]
    assert got == want and act.operations == 20
    if spec.prototype.scheme.zero_point:
        assert ops.b_zero is not None and np.ptp(ops.b_zero) > 0


def test_lane_enable_only_for_gated_multiformat_macs():
    spec = designs.get("intmac_int8xint8_int32")
    ops = operand_streams.stream("gaussian", spec.a_fmt, spec.b_fmt, k=4, rows=64,
                                 cols=64).lanes(64)
    raises_exactly(lambda: stimulus.stimulus_for(spec, ops, lane_enable=1),
                   stimulus.StimulusError,
                   "intmac_int8xint8_int32 has no lane_enable: only gated multi-format MACs "
                   "(multiformat_..._gated) take one")


def test_a_lane_enable_must_enable_a_lane_of_the_mode():
    spec = designs.get("multiformat_posit8_0_posit16_1_quire_gated")
    fmt = spec.modes[1].fmt
    ops = operand_streams.stream("gaussian", fmt, fmt, k=4, rows=64, cols=64).lanes(64)
    raises_exactly(lambda: stimulus.stimulus_for(spec, ops, mode=1, lane_enable=0b10),
                   stimulus.StimulusError,
                   "multiformat_posit8_0_posit16_1_quire_gated lane_enable 0x2 enables none "
                   "of mode 1's 1 lanes (posit16_1)")
    raises_exactly(lambda: stimulus.stimulus_for(spec, ops, mode=1, lane_enable=4),
                   stimulus.StimulusError,
                   "multiformat_posit8_0_posit16_1_quire_gated lane_enable must be a bit mask "
                   "from 1 to 3, not 4")


def test_group_weights_come_as_floats():
    from lowbit.golden.mpgemm import GroupScheme

    scheme = GroupScheme("int4", 8)
    raises_exactly(lambda: operand_streams.from_arrays(np.ones((2, 8)), np.ones((8, 2), int),
                                                       "fp16", scheme),
                   operand_streams.StreamError,
                   "stream b: group-quantized weights (int4_g8) come as float values "
                   "(quantized per group), not int64 codes")
