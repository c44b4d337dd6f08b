"""How an operand stream drives a design's ports, cycle by cycle: the protocols of lowbit's units.

:func:`stimulus_for` picks the protocol from the design (:mod:`lowbit.hdl.designs`) and turns
a stream's lane operands (:class:`~lowbit.reports.operand_streams.LaneOperands`) into a
:class:`~lowbit.reports.activity.Stimulus`:

MAC units (IntMac, FloatMac, PositMac; the bit-weight CarrySaveDot)
    ``valid`` every cycle, one product ``a x b`` per cycle, ``clear`` on the first product of
    each run (a run is one dot product of ``K`` products: one output), then ``latency`` idle
    cycles so the last result lands. Operations: products.
MxDotUnit
    The same with one block pair per cycle (``a``/``b`` the block's element codes, element
    ``i`` in bits ``[i w, (i+1) w)``, and their scale codes). Operations: block pairs
    (:attr:`Protocol.macs_per_operation` = block size).
SimdMac
    ``mode`` held at the chosen mode (default 0); each cycle packs the mode's lanes (lane ``k``
    takes the operands of lane ``k`` of a group of streams: the unit's 1, 2 or 4 products per
    cycle come from independent dot products). Operations: products.
MultiFormatMac
    ``mode`` held at the chosen mode; each cycle packs the mode's lanes like SimdMac. With
    lane gating (``_gated`` designs), ``lane_enable`` held at the chosen lanes (default: the
    mode's lanes); only enabled lanes get operands and count operations. Operations: products.
MixPE
    Each lane streams one dot product (one output) through the PE's beats, ``k_step`` products
    per beat, exactly as :meth:`MixPEArray.input_beats
    <lowbit.hdl.mixpe_array.MixPEArray.input_beats>` of a 1 x 1 array makes them (group flags,
    the group's scale code and zero point), ``valid`` every cycle, then ``latency`` idle
    cycles. Operations: products.
GEMM engines (systolic arrays, adder trees, LUT cores, matrix and cube engines, MixPE arrays)
    Each lane streams one GEMM through the engine's handshake: ``engine.input_beats(A, B)``
    presented with ``in_valid`` until ``in_ready`` takes them; partial sums the host feeds back
    (``Feedback``) are the ``c`` of the output beats already out; the run ends with the last
    output beat. Operations: the GEMM's MACs.

Every lane sees the same control inputs and its own data; ``rst`` is held low (flip-flops start
from their ``init`` values).
"""

from dataclasses import dataclass

import numpy as np

from lowbit.errors import LowbitError
from lowbit.hdl import designs
from lowbit.reports.activity import WORD, Stimulus


class StimulusError(LowbitError, ValueError):
    """A design no protocol drives, or operands that do not fit its ports."""


def planes(values, bits: int) -> np.ndarray:
    """Bit planes of integer codes: ``values`` ``(..., S)`` (``S`` lanes, a multiple of 64) ->
    ``(..., bits, S / 64)`` uint64, bit ``j`` of word ``w`` being lane ``64 w + j``, plane
    ``i`` bit ``i`` of the codes (negative integers as two's complement)."""
    v = np.asarray(values)
    if v.dtype.kind not in "iu":
        raise StimulusError(f"stimulus values must be integer codes, not {v.dtype}")
    mask = np.uint64((1 << bits) - 1) if bits < 64 else ~np.uint64(0)
    return _pack(v.astype(np.uint64) & mask, bits)


def _pack(v, bits):
    """``v`` ``(..., S)`` uint64 -> ``(..., bits, S / 64)`` planes."""
    lanes = v.shape[-1]
    if lanes % WORD:
        raise StimulusError(f"lanes must be a multiple of {WORD}, not {lanes}")
    shifts = np.arange(bits, dtype=np.uint64)
    b = ((v[..., None, :] >> shifts[:, None]) & np.uint64(1)).astype(np.uint8)
    packed = np.packbits(b, axis=-1, bitorder="little")
    return np.ascontiguousarray(packed).view(np.uint64)


def field_planes(values, bits: int) -> np.ndarray:
    """Planes of packed fields: ``values`` ``(..., S, L)`` codes -> ``(..., L bits, S / 64)``
    (field ``i`` of each lane in bits ``[i bits, (i+1) bits)`` of the port)."""
    v = np.asarray(values)
    if v.dtype.kind not in "iu":
        raise StimulusError(f"stimulus values must be integer codes, not {v.dtype}")
    v = np.moveaxis(v.astype(np.uint64), -1, -2)  # (..., L, S)
    p = _pack(v & np.uint64((1 << bits) - 1), bits)  # (..., L, bits, W)
    return p.reshape(*p.shape[:-3], p.shape[-3] * p.shape[-2], p.shape[-1])


def int_planes(values: list, width: int) -> np.ndarray:
    """Planes ``(width, S / 64)`` of one port from ``S`` Python integers of any width."""
    limbs = -(-width // 64)
    mask = (1 << 64) - 1
    arr = np.array([[(int(v) >> (64 * c)) & mask for c in range(limbs)] for v in values],
                   np.uint64)  # (S, limbs)
    p = _pack(arr.T, 64)  # (limbs, 64, W)
    return p.reshape(limbs * 64, -1)[:width]


# --- protocols ------------------------------------------------------------------------------
@dataclass
class Protocol:
    """The stimulus of one design and what its operations are: ``macs_per_operation``
    multiply-accumulates per counted operation, ``operation`` its name."""

    stimulus: Stimulus
    operation: str
    macs_per_operation: int


class OperationStimulus(Stimulus):
    """One operation per cycle on fixed-schedule ports: ``data`` ``{port: (T, width, W)}``,
    ``valid`` high for ``T`` cycles, ``clear`` on every ``run``-th (no ``clear`` port when
    ``run`` is None: beats of a design that frames its own groups), then ``drain`` idle
    cycles (data held); ``constants`` ``{port: (value, width)}`` held throughout."""

    def __init__(self, data: dict, run: int, drain: int, constants=None, operations=None):
        first = next(iter(data.values()))
        self.cycles, self.words = first.shape[0], first.shape[-1]
        self.data, self.run, self.drain = data, run, drain
        self.operations = self.cycles if operations is None else operations
        ones = np.full((1, self.words), ~np.uint64(0))
        self._one, self._zero = ones, np.zeros((1, self.words), np.uint64)
        self._constants = {p: int_planes([v] * (self.words * WORD), width)
                           for p, (v, width) in (constants or {}).items()}

    def cycle(self, t, before):
        if t >= self.cycles + self.drain:
            return None
        i = min(t, self.cycles - 1)
        out = {p: v[i] for p, v in self.data.items()}
        out["valid"] = self._one if t < self.cycles else self._zero
        if self.run is not None:
            out["clear"] = self._one if t < self.cycles and t % self.run == 0 else self._zero
        for p, v in self._constants.items():
            out[p] = v
        return out


class EngineStimulus(Stimulus):
    """Each lane streams one GEMM through a :class:`~lowbit.hdl.gemm_engine.GemmEngine`'s
    handshake (module docstring)."""

    def __init__(self, engine, lane_beats: list, output_beats: int, macs: int):
        from lowbit.hdl.gemm_engine import Feedback, port_width

        self.words = len(lane_beats) // WORD
        first = lane_beats[0]
        if any(len(b) != len(first) for b in lane_beats):
            raise StimulusError("every lane's GEMM must have the same number of input beats")
        self._beats = []
        for i, beat in enumerate(first):
            ports = {}
            for port, value in beat.items():
                if isinstance(value, Feedback):
                    ports[port] = value
                    continue
                values = [lb[i][port] for lb in lane_beats]
                ports[port] = int_planes(values, port_width(engine, port))
            self._beats.append(ports)
        self._outputs, self._need = [], output_beats
        self._next, self._presented = 0, False
        self._one = np.full((1, self.words), ~np.uint64(0))
        self.operations = macs
        self._c_width = port_width(engine, "c")

    def cycle(self, t, before):
        if t and before.flag("out_valid"):
            self._outputs.append(before.planes("c").copy())
        if self._presented and before.flag("in_ready"):
            self._next += 1
        if self._next >= len(self._beats):
            self._presented = False
            if len(self._outputs) >= self._need:
                return None
            if t > 100_000 + 10 * len(self._beats):
                raise StimulusError(f"the engine gave {len(self._outputs)} of {self._need} "
                                    f"output beats and then stopped")
            return {}
        out = {"in_valid": self._one}
        for port, value in self._beats[self._next].items():
            if not isinstance(value, np.ndarray):
                if value.beat >= len(self._outputs):
                    raise StimulusError(f"input beat {self._next} feeds back output beat "
                                        f"{value.beat} before it left the engine")
                value = self._outputs[value.beat]
            out[port] = value
        self._presented = True
        return out


def stimulus_for(spec, operands, *, mode: int = 0, lane_enable: int | None = None) -> Protocol:
    """The :class:`Protocol` that drives design ``spec`` (a spec or a name) with ``operands``
    (:class:`~lowbit.reports.operand_streams.LaneOperands`; its lanes a multiple of 64);
    ``mode``: a SimdMac's or MultiFormatMac's mode; ``lane_enable``: a gated MultiFormatMac's
    enabled lanes (a bit mask; default the mode's lanes)."""
    spec = designs.get(spec) if isinstance(spec, str) else spec
    lanes, m, k = operands.a.shape[:3]
    n = operands.b.shape[1]
    if lanes % WORD:
        raise StimulusError(f"lanes must be a multiple of {WORD}, not {lanes}")
    if isinstance(spec, designs.EngineSpec):
        return _engine(spec, operands)
    if isinstance(spec, designs.MxDotSpec):
        return _block_dot(spec, operands)
    if lane_enable is not None and not (isinstance(spec, designs.MultiFormatSpec) and
                                        spec.gating):
        raise StimulusError(f"{spec.name} has no lane_enable: only gated multi-format MACs "
                            f"(multiformat_..._gated) take one")
    if isinstance(spec, designs.SimdMacSpec):
        return _simd(spec, operands, mode)
    if isinstance(spec, designs.MultiFormatSpec):
        return _multiformat(spec, operands, mode, lane_enable)
    if isinstance(spec, designs.MixPESpec):
        return _mixpe(spec, operands)
    if isinstance(spec, (designs.IntMacSpec, designs.FloatMacSpec, designs.PositMacSpec,
                         designs.BitWeightMacSpec)):
        return _scalar(spec, operands)
    raise StimulusError(f"no stimulus protocol drives {spec.name} ({spec.unit}); activity "
                        f"energy covers MAC units, MX dot units, SimdMac and GEMM engines")


def _ops(a, b):
    """Per lane, operations in run order: ``(S, M N K)`` pairs of ``a`` and ``b`` codes."""
    S, M, K = a.shape[:3]
    N = b.shape[1]
    aa = np.broadcast_to(a[:, :, None], (S, M, N) + a.shape[2:]).reshape(S, M * N, *a.shape[2:])
    bb = np.broadcast_to(b[:, None], (S, M, N) + b.shape[2:]).reshape(S, M * N, *b.shape[2:])
    return aa, bb


def _scalar(spec, operands) -> Protocol:
    a, b = _ops(operands.a, operands.b)      # (S, runs, K)
    S, runs, K = a.shape
    a = a.reshape(S, runs * K).T             # (T, S)
    b = b.reshape(S, runs * K).T
    lanes = getattr(spec, "k_group", None) or 1
    data = {"a": planes(a, spec.a_fmt.bits), "b": planes(b, spec.b_fmt.bits)}
    if lanes > 1:
        raise StimulusError(f"{spec.name}: activity energy drives one-lane bit-weight MACs")
    stim = OperationStimulus(data, K, spec.latency + 1)
    return Protocol(stim, "MAC", 1)


def _block_dot(spec, operands) -> Protocol:
    fmt = spec.block
    bs = fmt.block_size
    a, b = _ops(operands.a, operands.b)      # (S, runs, K)
    sa, sb = _ops(operands.a_scale, operands.b_scale)  # (S, runs, K / bs)
    S, runs, K = a.shape
    blocks = K // bs
    a = a.reshape(S, runs * blocks, bs).transpose(1, 0, 2)  # (T, S, bs)
    b = b.reshape(S, runs * blocks, bs).transpose(1, 0, 2)
    sa, sb = (x.reshape(S, runs * blocks).T for x in (sa, sb))
    eb = fmt.element.bits
    data = {"a": field_planes(a, eb), "b": field_planes(b, eb),
            "a_scale": planes(sa, fmt.scale.bits), "b_scale": planes(sb, fmt.scale.bits)}
    stim = OperationStimulus(data, blocks, spec.latency + 1)
    return Protocol(stim, "block pair", bs)


def _simd(spec, operands, mode) -> Protocol:
    modes = spec.prototype.modes
    if not 0 <= mode < len(modes):
        raise StimulusError(f"{spec.name} mode must be 0 to {len(modes) - 1}, not {mode}")
    sm = modes[mode]
    L = sm.lanes
    a, b = _ops(operands.a, operands.b)
    S, runs, K = a.shape
    if S % (L * WORD):
        raise StimulusError(f"{spec.name} mode {mode} packs {L} streams per lane: lanes must "
                            f"be a multiple of {L * WORD}, not {S}")
    a = a.reshape(L, S // L, runs * K).transpose(2, 1, 0)  # (T, S/L, L): lane k, stream group
    b = b.reshape(L, S // L, runs * K).transpose(2, 1, 0)
    pa = np.zeros(a.shape[:2], np.int64)
    pb = np.zeros(b.shape[:2], np.int64)
    for lane in range(L):
        a_lo, a_bits, b_lo, b_bits = sm.lane_fields(lane)
        pa |= (a[:, :, lane] & ((1 << a_bits) - 1)) << a_lo
        pb |= (b[:, :, lane] & ((1 << b_bits) - 1)) << b_lo
    data = {"a": planes(pa, 16), "b": planes(pb, 8)}
    from lowbit.hdl.gemm_engine import port_width

    stim = OperationStimulus(data, K, spec.latency + 1,
                             constants={"mode": (mode, port_width(spec.prototype, "mode"))},
                             operations=runs * K * L)
    return Protocol(stim, "MAC", 1)


def _pack_lanes(values, fields) -> np.ndarray:
    """``values`` ``(T, S', L)`` codes -> ``(T, S')`` words, lane ``j`` of ``fields`` (a list
    of ``(lo, bits)``) in bits ``[lo, lo + bits)``."""
    word = np.zeros(values.shape[:2], np.int64)
    for j, (lo, bits) in enumerate(fields):
        word |= (values[:, :, j] & ((1 << bits) - 1)) << lo
    return word


def _multiformat(spec, operands, mode, lane_enable) -> Protocol:
    from lowbit.hdl.gemm_engine import port_width
    from lowbit.hdl.multiformat_mac import WORD_BITS

    modes = spec.modes
    if not 0 <= mode < len(modes):
        raise StimulusError(f"{spec.name} mode must be 0 to {len(modes) - 1}, not {mode}")
    fm = modes[mode]
    unit_lanes = spec.prototype.lanes
    if lane_enable is None:
        lane_enable = (1 << fm.lanes) - 1
    if isinstance(lane_enable, bool) or not isinstance(lane_enable, int) or \
            not 0 < lane_enable < (1 << unit_lanes):
        raise StimulusError(f"{spec.name} lane_enable must be a bit mask from 1 to "
                            f"{(1 << unit_lanes) - 1}, not {lane_enable!r}")
    enabled = [k for k in range(fm.lanes) if lane_enable >> k & 1]
    if not enabled:
        raise StimulusError(f"{spec.name} lane_enable {lane_enable:#x} enables none of mode "
                            f"{mode}'s {fm.lanes} lanes ({fm.fmt.name})")
    L = len(enabled)
    a, b = _ops(operands.a, operands.b)
    S, runs, K = a.shape
    if S % (L * WORD):
        raise StimulusError(f"{spec.name} mode {mode} packs {L} streams per lane: lanes must "
                            f"be a multiple of {L * WORD}, not {S}")
    a = a.reshape(L, S // L, runs * K).transpose(2, 1, 0)  # (T, S/L, L)
    b = b.reshape(L, S // L, runs * K).transpose(2, 1, 0)
    fields = [fm.lane_field(k) for k in enabled]
    constants = {"mode": (mode, port_width(spec.prototype, "mode"))}
    if spec.gating:
        constants["lane_enable"] = (lane_enable, unit_lanes)
    data = {"a": planes(_pack_lanes(a, fields), WORD_BITS),
            "b": planes(_pack_lanes(b, fields), WORD_BITS)}
    stim = OperationStimulus(data, K, spec.latency + 1, constants=constants,
                             operations=runs * K * L)
    return Protocol(stim, "MAC", 1)


def _mixpe(spec, operands) -> Protocol:
    from lowbit.hdl.gemm_engine import port_width
    from lowbit.hdl.designs import MixPEArraySpec

    pe = spec.prototype
    template = MixPEArraySpec(1, 1, spec).prototype  # one PE's beats, as its array sends them
    S, M, K = operands.a.shape[:3]
    N = operands.b.shape[1]
    lane_beats = []
    for s in range(S):
        A, W = operands.a[s], operands.group_weights(s)
        beats = []
        for m in range(M):  # one output at a time: M x N runs of K
            for n in range(N):
                beats += template.input_beats(A[m:m + 1], _column(W, n))
        lane_beats.append(beats)
    ports = list(lane_beats[0][0])
    data = {p: np.stack([int_planes([lb[t][p] for lb in lane_beats], port_width(pe, p))
                         for t in range(len(lane_beats[0]))]) for p in ports}
    stim = OperationStimulus(data, None, pe.latency + 1, operations=M * N * K)
    return Protocol(stim, "MAC", 1)


def _column(W, n):
    """Column ``n`` of group weights ``W`` as a ``K x 1`` GroupWeights."""
    from lowbit.golden.mpgemm import GroupWeights

    zeros = None if W.zeros is None else np.asarray(W.zeros)[:, n:n + 1]
    return GroupWeights(W.scheme, np.asarray(W.codes)[:, n:n + 1],
                        np.asarray(W.scales)[:, n:n + 1], zeros)


def _engine(spec, operands) -> Protocol:
    engine = spec.build()
    lanes = operands.a.shape[0]
    blocky = operands.a_scale is not None
    beats = []
    for s in range(lanes):
        if isinstance(spec, designs.MixPEArraySpec):
            A, B = operands.a[s], operands.group_weights(s)
        else:
            A, B = operands.block_arrays(s) if blocky else operands.matrices(s)
        if isinstance(spec, designs.LutCoreSpec):
            B = _offset_codes(B, spec.weight_bits)
        beats.append(engine.input_beats(A, B))
    M, K = operands.a.shape[1:3]
    N = operands.b.shape[1]
    stim = EngineStimulus(engine, beats, len(engine.output_map(M, K, N)), M * K * N)
    return Protocol(stim, "MAC", 1)


def _offset_codes(codes, bits):
    """Two's complement weight codes as the LUT core's offset codes (value + 2**(bits-1)):
    the top bit inverted."""
    return np.asarray(codes, np.int64) ^ (1 << (bits - 1))
