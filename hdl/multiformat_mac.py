"""Multi-format SIMD MAC (XR-NPE): one datapath for FP4, Posit(4,1), Posit(8,0), Posit(16,1) ...

A run-time ``mode`` picks one of the configured formats; operands are 16-bit words holding
``lanes`` codes of that format (default: four 4-bit, two 8-bit or one 16-bit lane), and every
lane accumulates its products. What is shared, and how (the named submodules, so that a
hierarchical synthesis splits the area by block):

``decode``
    The operand decoders (:class:`~lowbit.hdl.posit_decoder.PositDecoder`,
    :class:`~lowbit.hdl.float_decoder.FloatDecoder`) of every mode and lane, and per lane a
    mode multiplexer onto one operand term (sign, significand, exponent, zero/NaN/Inf) whose
    widths cover every mode of that lane. The significands are also packed for the array.
``rmmec``
    XR-NPE's Reconfigurable Mantissa Multiplication and Exponent processing Circuitry: one
    :class:`~lowbit.hdl.lane_multiplier.LaneMultiplier` (a single significand array, split
    into the mode's lanes by a block-diagonal mask) computes every lane's significand product;
    per lane one :class:`~lowbit.hdl.exact_multiplier.ExactMultiplier` whose 1-bit
    significands only carry "nonzero" does the sign, the exponent sum and the IEEE/NaR special
    rules for every mode, and (exact accumulation) one shifter aligns the product to its
    register segment for every mode.
``quire`` (exact accumulation)
    One :class:`~lowbit.hdl.segmented_kulisch.SegmentedKulisch`: the Posit Standard 2022 quire
    of posit(n, es) is ``16 n`` bits, so one 256-bit register is one posit16_1 quire, two
    posit8_0 quires or four posit4_1 quires (and four 64-bit Kulisch registers for FP4 lanes):
    flip-flops, adders and the read-out normalizer are shared instead of replicated per format
    and lane. Chosen over a quire per lane and format because those registers would hold
    ``256 + 2 x 128 + 4 x 64 + 4 x 64`` bits for one 256-bit result path, and over one register
    per lane of the widest format because each lane's segment already is the right size.
``lane<k>`` (FloatAccumulator)
    One :class:`~lowbit.hdl.accumulate.AccumulatorStage` per lane, its term widths covering
    every mode of the lane: each product is added to the lane's float register with one
    rounding, whatever the mode.
``round``
    Exact accumulation only: per mode and lane the read-out rounded to the mode's result
    format (a :class:`~lowbit.hdl.posit_encoder.PositEncoder` of the posit, or a
    :class:`~lowbit.hdl.float_encoder.FloatEncoder` of the float result format) from the
    register's normalized short form (the normalizer itself is shared in ``quire``).

Golden model: lane ``k`` of mode ``m`` is ``golden.gemm.dot`` of the lane's operand codes in
``modes[m].fmt`` with ``modes[m].acc`` (:class:`FormatMode`), over the operations since its
run started.
"""

from dataclasses import dataclass

from amaranth.hdl import Cat, Const, Module, Mux, Signal, signed
from amaranth.lib.wiring import In, Out

from lowbit.errors import OperationError
from lowbit.golden import formats as F
from lowbit.golden.accumulators import ExactAccumulator, FloatAccumulator, Quire
from lowbit.hdl.accumulate import DEFAULT_TERMS, AccumulatorStage, check_accumulator
from lowbit.hdl.component import Component
from lowbit.hdl.exact_multiplier import ExactMultiplier
from lowbit.hdl.exact_term import signed_width
from lowbit.hdl.float_decoder import FloatDecoder
from lowbit.hdl.float_encoder import FloatEncoder
from lowbit.hdl.kulisch import kulisch_width
from lowbit.hdl.lane_multiplier import LaneMultiplier, check_split
from lowbit.hdl.posit_decoder import PositDecoder, check_posit_format
from lowbit.hdl.posit_encoder import PositEncoder
from lowbit.hdl.segmented_kulisch import SegmentedKulisch, SegmentSplit

WORD_BITS = 16
"""Bits of each operand word: the lanes of every mode are packed into it."""

MAX_MODES = 8
"""Most formats one unit is configured with."""

EXACT_FLOAT_RESULT = "fp32"
"""Result format of float lanes under exact accumulation (their Kulisch register rounded)."""


def default_lanes(fmt) -> int:
    """Lanes of ``fmt`` per word: the largest power of two whose codes fit 16 bits."""
    lanes = 1
    while 2 * lanes * fmt.bits <= WORD_BITS:
        lanes *= 2
    return lanes


@dataclass(frozen=True)
class FormatMode:
    """One mode of a :class:`MultiFormatMac`: the lane format, the lane count, the accumulator.

    Lane ``k`` multiplies ``a[k bits, (k + 1) bits)`` by the same field of ``b`` (``bits`` the
    format's width); its golden model is ``gemm.dot(a_k, b_k, fmt, fmt, acc)``.
    """

    fmt: object
    lanes: int
    acc: object

    @property
    def sig_bits(self) -> int:
        """Width of one lane's decoded significand (the hidden bit included)."""
        return self.fmt.significand_bits if self.fmt.kind == "posit" else self.fmt.man_bits + 1

    @property
    def exact(self) -> bool:
        """Whether the lanes accumulate exactly (a quire or a Kulisch register)."""
        return not isinstance(self.acc, FloatAccumulator)

    def lane_field(self, lane: int) -> tuple:
        """``(lo, bits)``: the bits of ``a`` and ``b`` holding lane ``lane``'s codes."""
        return lane * self.fmt.bits, self.fmt.bits

    def to_dict(self) -> dict:
        """Parameters for the export sidecar."""
        return {"fmt": self.fmt.to_dict(), "lanes": self.lanes, "acc": self.acc.to_dict()}


def _decoder(fmt):
    return PositDecoder(fmt) if fmt.kind == "posit" else FloatDecoder(fmt)


class MultiFormatMac(Component):
    """A SIMD multiply-accumulate unit whose mode picks the lane format at run time; see the
    module docstring. ``acc<k> <= (restart ? 0 : acc<k>) + a_k * b_k`` for every lane ``k`` of
    the mode, one operation per cycle.

    Parameters
    ----------
    formats : sequence of PositFormat or FloatFormat
        1 to 8 distinct formats of at most 16 bits; input ``mode == i`` selects ``formats[i]``.
        Posits need es <= 2 (their 2022 quire must hold a product); float formats any of the
        FloatDecoder's.
    acc : FloatAccumulator, optional
        ``None`` (default): exact accumulation, posit lanes in their Posit Standard 2022 quire
        (``Quire(fmt)``, result a posit), float lanes in a Kulisch register rounded to FP32
        (``ExactAccumulator(fp32)``). A sequential ``FloatAccumulator`` (fp32, fp16, bf16, any
        deterministic rounding): every lane of every mode rounds each sum into it.
    lanes : sequence of int, optional
        Lanes per format (a power of two whose codes fit the 16-bit word); default
        :func:`default_lanes` (4-bit formats 4, 8-bit 2, 16-bit 1).
    array_bits : int, optional
        Side of the shared significand multiplier array; default the smallest that every mode
        splits into (13 for posit16_1's 13-bit significands). A mode whose lanes do not fit is
        refused.
    gating : bool
        Add ``lane_enable``: a lane whose bit is 0 holds its registers (no flip-flop toggles)
        and its operand bits are forced to 0 before decoding (operand isolation).

    Members
    -------
    valid, clear : In(1)
        An operation this cycle; with ``valid``, start new sums.
    mode : In(max(1, ceil(log2(len(formats)))))
        Index into :attr:`modes`. An operation in a mode other than the current run's starts
        new sums (an implicit clear): a register cannot carry a sum across formats. Codes past
        the last mode are no operation (registers hold, ``out_valid`` stays low).
    a, b : In(16)
        Packed lane codes (lane ``k`` of a ``bits``-bit format in ``[k bits, (k + 1) bits)``);
        bits no lane of the mode uses are ignored.
    lane_enable : In(lanes)
        With ``gating`` only: lanes that operate (the others hold).
    out_valid : Out(1)
        The lane outputs hold the results of the operation issued :attr:`latency` cycles
        earlier.
    acc0 .. acc<n-1> : Out(w_k)
        Lane ``k``'s result, a code of its run's ``modes[m].acc.out_fmt`` (``w_k``: the widest
        such format of the modes using lane ``k``); lanes the run's mode does not use read 0.
    """

    latency = 1

    def __init__(self, formats, *, acc=None, lanes=None, array_bits=None, gating=False):
        formats = self._check_formats(formats)
        lanes = self._check_lanes(formats, lanes)
        if acc is not None:
            check_accumulator("MultiFormatMac", acc)
            if not isinstance(acc, FloatAccumulator):
                raise OperationError(f"MultiFormatMac acc must be None (exact: quires and "
                                     f"Kulisch registers) or a FloatAccumulator, not {acc!r}")
        if not isinstance(gating, bool):
            raise OperationError(f"MultiFormatMac gating must be True or False, not {gating!r}")
        self._modes = tuple(FormatMode(fmt, n, acc or self._exact_accumulator(fmt))
                            for fmt, n in zip(formats, lanes))
        if array_bits is None:
            array_bits = max(m.lanes * m.sig_bits for m in self._modes)
        self._check_array(array_bits)
        self._array_bits, self._gating = array_bits, gating
        self._lanes = max(m.lanes for m in self._modes)
        self._ranges = [self._operand_range(m.fmt) for m in self._modes]
        if self.exact:
            self._plan_register()
        members = {
            "valid": In(1), "clear": In(1), "mode": In(max(1, (len(formats) - 1).bit_length())),
            "a": In(WORD_BITS), "b": In(WORD_BITS),
            **({"lane_enable": In(self._lanes)} if gating else {}),
            "out_valid": Out(1),
        }
        for k in range(self._lanes):
            members[f"acc{k}"] = Out(self.lane_bits(k))
        super().__init__(members)

    # --- checks --------------------------------------------------------------------------------
    @staticmethod
    def _check_formats(formats) -> tuple:
        if isinstance(formats, (str, F.ScalarFormat)) or not isinstance(formats, (list, tuple)) \
                or not formats:
            raise OperationError(f"MultiFormatMac formats must be a non-empty list of posit or "
                                 f"float formats, not {formats!r}")
        if len(formats) > MAX_MODES:
            raise OperationError(f"MultiFormatMac takes 1 to {MAX_MODES} formats, not "
                                 f"{len(formats)}")
        for i, fmt in enumerate(formats):
            kind = getattr(fmt, "kind", None)
            if kind not in ("posit", "float") or fmt.bits > WORD_BITS:
                raise OperationError(f"MultiFormatMac formats[{i}] must be a posit or float "
                                     f"format of at most {WORD_BITS} bits, not "
                                     f"{getattr(fmt, 'name', fmt)!r}")
            if kind == "posit":
                check_posit_format("MultiFormatMac", fmt)
        names = [f.name for f in formats]
        for name in names:
            if names.count(name) > 1:
                raise OperationError(f"MultiFormatMac formats must be distinct; {name} is "
                                     f"listed {names.count(name)} times")
        return tuple(formats)

    @staticmethod
    def _check_lanes(formats, lanes) -> tuple:
        if lanes is None:
            return tuple(default_lanes(f) for f in formats)
        if not isinstance(lanes, (list, tuple)) or len(lanes) != len(formats):
            raise OperationError(f"MultiFormatMac lanes must list one lane count per format "
                                 f"({len(formats)}), not {lanes!r}")
        for fmt, n in zip(formats, lanes):
            most = default_lanes(fmt)
            if isinstance(n, bool) or not isinstance(n, int) or n < 1 or n & (n - 1) \
                    or n > most:
                raise OperationError(f"MultiFormatMac lanes of {fmt.name} must be a power of "
                                     f"two from 1 to {most} (lanes of {fmt.bits} bits in the "
                                     f"{WORD_BITS}-bit word), not {n!r}")
        return tuple(lanes)

    def _check_array(self, array_bits):
        """Raise unless every mode splits an ``array_bits`` array into its lanes."""
        if isinstance(array_bits, bool) or not isinstance(array_bits, int) or \
                not 1 <= array_bits <= 64:
            raise OperationError(f"MultiFormatMac array_bits must be an integer from 1 to 64, "
                                 f"not {array_bits!r}")
        for mode in self._modes:
            check_split("MultiFormatMac", array_bits, mode.lanes, mode.sig_bits, mode.fmt.name)

    @staticmethod
    def _exact_accumulator(fmt):
        if fmt.kind == "posit":
            return Quire(fmt)
        return ExactAccumulator(F.get(EXACT_FLOAT_RESULT))

    # --- parameters ----------------------------------------------------------------------------
    @property
    def modes(self) -> tuple:
        """The :class:`FormatMode` of each ``mode`` code."""
        return self._modes

    @property
    def lanes(self) -> int:
        """Lane outputs: the most lanes of any mode."""
        return self._lanes

    @property
    def exact(self) -> bool:
        """Whether lanes accumulate exactly (``acc=None``)."""
        return self._modes[0].exact

    @property
    def gating(self) -> bool:
        """Whether the unit has ``lane_enable``."""
        return self._gating

    @property
    def array_bits(self) -> int:
        """Side of the shared significand multiplier array."""
        return self._array_bits

    @property
    def peak_macs_per_cycle(self) -> int:
        """Products per cycle in the mode with the most lanes."""
        return self._lanes

    def lane_bits(self, lane: int) -> int:
        """Width of output ``acc<lane>``: the widest result format of the modes using it."""
        return max(m.acc.out_fmt.bits for m in self._modes if m.lanes > lane)

    def acc_ports(self) -> list:
        """The lane outputs, lane 0 first."""
        return [getattr(self, f"acc{k}") for k in range(self._lanes)]

    @property
    def register_bits(self) -> int:
        """Accumulator flip-flops: the shared register, or the lane float registers."""
        if self.exact:
            return self._blocks * self._block_bits
        return sum(self.lane_bits(k) for k in range(self._lanes))

    def describe(self) -> dict:
        """Parameters for the export sidecar and result rows."""
        return {"modes": [m.to_dict() for m in self._modes], "word_bits": WORD_BITS,
                "array_bits": self._array_bits, "lanes": self._lanes,
                "accumulation": "exact" if self.exact else "float",
                "register_bits": self.register_bits, "gating": self._gating}

    # --- sizes ---------------------------------------------------------------------------------
    @staticmethod
    def _operand_range(fmt) -> tuple:
        """``(low, high)`` of the decoded operand's LSB exponent."""
        proto = Component.part(_decoder(fmt))
        return proto.exp_min, proto.exp_max

    def _product(self, index) -> tuple:
        """``(sig_bits, exp_min, exp_max)`` of one product of mode ``index``."""
        low, high = self._ranges[index]
        return 2 * self._modes[index].sig_bits, 2 * low, 2 * high

    def _plan_register(self):
        """The shared register: blocks, block width, each mode's segment LSB and split."""
        self._lsb, self._splits = [], []
        need = []
        for index, mode in enumerate(self._modes):
            sig, low, high = self._product(index)
            if isinstance(mode.acc, Quire):
                lsb, width = mode.acc.lsb_exponent, mode.acc.width_bits
                if low < lsb or width < high + sig - lsb + 1:
                    raise OperationError(
                        f"MultiFormatMac cannot accumulate {mode.fmt.name} exactly: its "
                        f"{width}-bit 2022 quire does not hold its products (from 2**{low} to "
                        f"below 2**{high + sig}, plus a sign bit)")
                read = mode.fmt.max_fraction_bits + 3
            else:
                lsb, width = low, kulisch_width(sig, low, high, DEFAULT_TERMS)
                read = mode.acc.out_fmt.man_bits + 3
            self._lsb.append(lsb)
            need.append(width)
            self._splits.append(SegmentSplit(mode.lanes, high + sig - lsb + 1, read))
        self._blocks = self._lanes
        self._block_bits = max(-(-n * m.lanes // self._lanes) for n, m in zip(need, self._modes))

    def segment_bits(self, index: int) -> int:
        """Exact accumulation: bits of one lane register of mode ``index``."""
        return self._blocks * self._block_bits // self._modes[index].lanes

    # --- hardware ------------------------------------------------------------------------------
    def elaborate(self, platform):
        m = Module()
        op = Signal()
        mode_ok = Signal()
        m.d.comb += mode_ok.eq(self.mode < len(self._modes))
        m.d.comb += op.eq(self.valid & mode_ok)
        enable = self.lane_enable if self._gating else Const((1 << self._lanes) - 1,
                                                             self._lanes)
        terms = self._decode(m, enable)
        products = self._rmmec(m, terms)
        if self.exact:
            self._exact_lanes(m, op, enable, products)
        else:
            self._float_lanes(m, op, enable, products)
        m.d.sync += self.out_valid.eq(op)
        return m

    def _mode_select(self, block, name, shape, value_of, lane=None):
        """A signal of ``block`` equal to ``value_of(index, mode)`` in the input mode (0 in a
        mode without lane ``lane``, and for unknown codes)."""
        sig = Signal(shape, name=name)
        with block.Switch(self.mode):
            for index, mode in enumerate(self._modes):
                if lane is None or lane < mode.lanes:
                    with block.Case(index):
                        block.d.comb += sig.eq(value_of(index, mode))
        return sig

    def _lane_modes(self, lane):
        return [i for i, mode in enumerate(self._modes) if mode.lanes > lane]

    def _decode(self, m, enable):
        """Decoders of every mode and lane; per lane the operand terms of the input mode.

        Returns per lane ``{"x": {...}, "y": {...}}`` of term fields, plus ``x``/``y`` packed
        significands for the array under key ``"array"``.
        """
        dec = Module()
        m.submodules.decode = dec
        # Operand isolation: a held lane's code bits are zero in every mode.
        words = {}
        for op, port in (("x", self.a), ("y", self.b)):
            masks = {}
            for index, mode in enumerate(self._modes):
                masks[index] = Cat(*(enable[k].replicate(mode.fmt.bits) if k < mode.lanes
                                     else Const(0, mode.fmt.bits)
                                     for k in range(WORD_BITS // mode.fmt.bits)))
            if self._gating:
                mask = self._mode_select(dec, f"{op}_isolate", WORD_BITS,
                                         lambda i, mode: masks[i])
                word = Signal(WORD_BITS, name=f"{op}_word")
                dec.d.comb += word.eq(port & mask)
            else:
                word = port
            words[op] = word
        decoded = {}
        for index, mode in enumerate(self._modes):
            for k in range(mode.lanes):
                lo, bits = mode.lane_field(k)
                for op in "xy":
                    d = _decoder(mode.fmt)
                    dec.submodules[f"{op}_m{index}_l{k}"] = d
                    dec.d.comb += d.code.eq(words[op][lo:lo + bits])
                    decoded[index, k, op] = d
        lanes = []
        for k in range(self._lanes):
            users = self._lane_modes(k)
            sig_bits = max(self._modes[i].sig_bits for i in users)
            low = min(self._ranges[i][0] for i in users)
            high = max(self._ranges[i][1] for i in users)
            lane = {"sig_bits": sig_bits, "exp": (low, high)}
            for op in "xy":
                fields = {}
                for name, shape in (("negative", 1), ("zero", 1), ("nan", 1), ("inf", 1),
                                    ("sig", sig_bits), ("exp", signed(signed_width(low, high)))):
                    def source(i, mode, name=name, op=op):
                        d = decoded[i, k, op]
                        if name == "nan":
                            return d.nar if mode.fmt.kind == "posit" else d.nan
                        if name == "inf":
                            return 0 if mode.fmt.kind == "posit" else d.inf
                        return getattr(d, name)
                    fields[name] = self._mode_select(dec, f"{op}{k}_{name}", shape, source, k)
                lane[op] = fields
            lanes.append(lane)
        packed = {}
        for op in "xy":
            def pack(i, mode, op=op):
                stride = self._array_bits // mode.lanes
                return sum(decoded[i, k, op].sig << (k * stride) for k in range(mode.lanes))
            packed[op] = self._mode_select(dec, f"{op}_array", self._array_bits, pack)
        return {"lanes": lanes, "array": packed}

    def _rmmec(self, m, terms):
        """The shared significand array and the lanes' sign/exponent/special logic.

        Returns per lane ``(multiplier, product_sig, sig_bits)``: the lane's ExactMultiplier
        (``negative``, ``exp``, ``nan``, ``inf``) and its significand product in the input
        mode.
        """
        rm = Module()
        m.submodules.rmmec = rm
        rm.submodules.array = array = LaneMultiplier(
            self._array_bits, [(mode.lanes, mode.sig_bits) for mode in self._modes])
        rm.d.comb += [array.split.eq(self.mode), array.x.eq(terms["array"]["x"]),
                      array.y.eq(terms["array"]["y"])]
        out = []
        for k, lane in enumerate(terms["lanes"]):
            low, high = lane["exp"]
            mul = ExactMultiplier(x_width=1, x_exp=(low, high), y_width=1, y_exp=(low, high))
            rm.submodules[f"exponent{k}"] = mul
            for op in "xy":
                t = lane[op]
                rm.d.comb += [getattr(mul, f"{op}_negative").eq(t["negative"]),
                              getattr(mul, f"{op}_sig").eq(~t["zero"]),
                              getattr(mul, f"{op}_exp").eq(t["exp"]),
                              getattr(mul, f"{op}_zero").eq(t["zero"]),
                              getattr(mul, f"{op}_nan").eq(t["nan"]),
                              getattr(mul, f"{op}_inf").eq(t["inf"])]
            sig_bits = 2 * lane["sig_bits"]
            product = self._mode_select(
                rm, f"product{k}", sig_bits,
                lambda i, mode, k=k: array.product[array.lane_slices(i)[k][1]:][
                    :2 * mode.sig_bits], k)
            out.append((mul, product, sig_bits))
        return out

    def _exact_lanes(self, m, op, enable, products):
        """Align each lane's product to its segment; the shared quire; the rounding."""
        reg = SegmentedKulisch(self._blocks, self._block_bits, self._splits)
        rm = m.submodules.rmmec
        for k, (mul, product, _) in enumerate(products):
            users = self._lane_modes(k)
            span = max(self._product(i)[2] - self._lsb[i] for i in users)
            shift = self._mode_select(rm, f"align{k}", range(span + 1),
                                      lambda i, mode: mul.exp - self._lsb[i], k)
            width = max(self._splits[i].addend_bits for i in users)
            aligned = Signal(width - 1, name=f"aligned{k}")
            addend = Signal(signed(width), name=f"addend{k}")
            rm.d.comb += [aligned.eq(product << shift),
                          addend.eq(Mux(mul.negative, -aligned, aligned))]
            m.d.comb += [reg.lane_port("addend", k).eq(addend),
                         reg.lane_port("negative", k).eq(mul.negative),
                         reg.lane_port("nan", k).eq(mul.nan),
                         reg.lane_port("inf", k).eq(mul.inf)]
        m.submodules.quire = reg
        m.d.comb += [reg.valid.eq(op), reg.clear.eq(self.clear), reg.split.eq(self.mode),
                     reg.lane_enable.eq(enable)]
        rnd = Module()
        m.submodules.round = rnd
        for k in range(self._lanes):
            codes = {}
            for index in self._lane_modes(k):
                codes[index] = self._round_lane(rnd, reg, index, k)
            port = getattr(self, f"acc{k}")
            with rnd.Switch(reg.run_split):
                for index, code in codes.items():
                    with rnd.Case(index):
                        rnd.d.comb += port.eq(code)

    def _round_lane(self, rnd, reg, index, k):
        """Lane ``k``'s sum in mode ``index`` rounded to the mode's result format."""
        mode, split = self._modes[index], self._splits[index]
        p = split.read_bits
        top = self._lsb[index] + self.segment_bits(index) - p
        low = top - self.segment_bits(index)
        sig = reg.lane_port("sum_sig", k)[:p]
        exp = Signal(signed(signed_width(low, top)), name=f"m{index}_l{k}_exp")
        rnd.d.comb += exp.eq(top - reg.lane_port("sum_shift", k))
        if isinstance(mode.acc, Quire):
            enc = PositEncoder(mode.fmt, sig_width=p, exp_min=low, exp_max=top)
            rnd.d.comb += enc.nar.eq(reg.lane_port("sum_nan", k))
            negative = reg.lane_port("sum_negative", k)
        else:
            enc = FloatEncoder(mode.acc.out_fmt, sig_width=p, exp_min=low, exp_max=top,
                               rounding=mode.acc.rounding)
            inf = reg.lane_port("sum_inf", k)
            negative = Mux(inf, reg.lane_port("sum_inf_negative", k),
                           Mux(sig == 0, reg.lane_port("sum_negative_zero", k),
                               reg.lane_port("sum_negative", k)))
            rnd.d.comb += [enc.nan.eq(reg.lane_port("sum_nan", k)), enc.inf.eq(inf)]
        rnd.submodules[f"encode_m{index}_l{k}"] = enc
        rnd.d.comb += [enc.negative.eq(negative), enc.sig.eq(sig), enc.exp.eq(exp)]
        return enc.code

    def _float_lanes(self, m, op, enable, products):
        """One float AccumulatorStage per lane; a mode change restarts every lane."""
        acc = self._modes[0].acc
        run_mode = Signal(range(max(len(self._modes), 2)))
        with m.If(op):
            m.d.sync += run_mode.eq(self.mode)
        restart = Signal()
        m.d.comb += restart.eq(self.clear | (self.mode != run_mode))
        for k, (mul, product, sig_bits) in enumerate(products):
            users = self._lane_modes(k)
            low = min(self._product(i)[1] for i in users)
            high = max(self._product(i)[2] for i in users)
            stage = AccumulatorStage(acc, sig_bits, low, high)
            m.submodules[f"lane{k}"] = stage
            in_mode = self._mode_select(m, f"lane{k}_in_mode", 1, lambda i, mode: 1, k)
            m.d.comb += [stage.valid.eq(op & enable[k] & in_mode), stage.clear.eq(restart),
                         stage.term_negative.eq(mul.negative), stage.term_sig.eq(product),
                         stage.term_exp.eq(mul.exp), stage.term_nan.eq(mul.nan),
                         stage.term_inf.eq(mul.inf)]
            used = Signal(name=f"lane{k}_used")
            with m.Switch(run_mode):
                for i in users:
                    with m.Case(i):
                        m.d.comb += used.eq(1)
            m.d.comb += getattr(self, f"acc{k}").eq(Mux(used, stage.result, 0))
