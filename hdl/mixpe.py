"""MixPE: a shift-add processing element for group-quantized mixed-precision GEMM.

The hardware form of :func:`lowbit.golden.mpgemm.groupwise_gemm` (read its module docstring
first) for one output ``C[m, n]`` at a time, ``k_step`` products per beat:

``align`` (activation front end)
    Each activation becomes an integer on its format's fixed-point grid ``2**e_a``: an integer
    activation as it is; a float one through a
    :class:`~lowbit.hdl.float_decoder.FloatDecoder` and a left shift of its significand by
    ``exp - e_a`` (exact fixed point, no rounding). The beat's activation sum (for the zero
    point) and whether it holds a NaN or infinity are formed here too. In a
    :class:`~lowbit.hdl.mixpe_array.MixPEArray` one front end serves a whole row of PEs.
``core``
    Each product ``q * a`` of a weight code ``q`` (``b`` bits) and an aligned activation is
    ``b`` shifted copies of ``a`` selected by the bits of ``q`` and added, the sign bit's copy
    subtracted (a ternary weight selects ``+a``, ``-a`` or 0): no multiplier. The beat's
    products are summed into the group register ``X`` (exact integer), the activation sums into
    ``S``; at a beat that ends a group, ``X``, ``S``, the group's scale and zero point are
    registered for the next stage.
``dequantize``
    Once per group: ``V = X - z S`` (exact; the zero-point product is shift-add too), the exact
    product ``s * V`` (:class:`~lowbit.hdl.exact_multiplier.ExactMultiplier`) and one
    :class:`~lowbit.hdl.accumulate.AccumulatorStage` of the accumulator: one rounding per group.

Beat flags: ``start`` (the beat opens a group: ``X``, ``S`` restart), ``end`` (it closes the
group: the group is dequantized), ``first`` (the beat opens an output's first group: the
accumulator restarts with that group's term), ``last`` (it closes an output: ``out_valid``
follows). A group spans ``group / k_step`` beats (the last, ragged group fewer; padding lanes
carry zero codes, which add nothing).
"""

from amaranth.hdl import Cat, Const, Module, Mux, Signal, signed
from amaranth.lib.wiring import In, Out

from lowbit.errors import OperationError, check_int
from lowbit.golden.accumulators import FloatAccumulator
from lowbit.golden.formats import FloatFormat, IntFormat, ScalarFormat
from lowbit.golden.mpgemm import MAX_GROUP, GroupScheme, activation_grid
from lowbit.hdl.accumulate import AccumulatorStage, check_accumulator
from lowbit.hdl.component import Component
from lowbit.hdl.exact_multiplier import ExactMultiplier
from lowbit.hdl.exact_term import signed_width
from lowbit.hdl.float_decoder import FloatDecoder

MAX_K_STEP = 64
"""Most products per beat."""

MAX_WEIGHT_BITS = 4
"""Widest weight code: at most four shifted copies per product."""

MAX_SUM_BITS = 64
"""Widest group register."""


def _weight_name(weight) -> str:
    return weight if isinstance(weight, str) else getattr(weight, "name", repr(weight))


class MixPE(Component):
    """A group-wise dequantizing shift-add PE: see the module docstring.

    Parameters
    ----------
    act_fmt : IntFormat or FloatFormat
        Activations: a signed or unsigned integer of 2 to 8 bits (int8), or a float format of
        at most 16 bits (fp16, fp8_e4m3, fp8_e5m2) whose group sums fit 64 bits.
    weight : IntFormat or "ternary"
        Weight codes: an integer format of 1 to 4 bits (int4, uint4, int2, uint2), or
        ``"ternary"`` (int2 codes 0, 1, 3 for 0, +1, -1).
    group : int
        Rows of K per quantization group; a multiple of ``k_step``.
    scale_fmt : FloatFormat or str
        Format of the group scales (default fp16).
    zero_point : bool, optional
        Groups carry integer zero points (default: for unsigned weights).
    acc : FloatAccumulator
        Accumulator of the dequantized group terms (default FP32, round to nearest even).
    k_step : int
        Products per beat, 1 to 64 (default 4).

    Members
    -------
    valid : In(1)
        A beat.
    start, end, first, last : In(1)
        Beat flags (module docstring).
    a : In(k_step * wa), w : In(k_step * wb)
        Lane ``i``: activation code ``A[m, k0 + i]`` and weight code ``W[k0 + i, n]``.
    scale : In(scale bits), zero : In(weight bits)
        The group's scale code and (with zero points) zero point; read at an ``end`` beat.
    out_valid : Out(1)
        ``acc`` holds a finished output (``latency`` edges after its ``last`` beat).
    acc : Out(acc.out_fmt.bits)
        The accumulator's code.
    """

    latency = 2

    def __init__(self, act_fmt, weight, *, group, scale_fmt="fp16", zero_point=None,
                 acc=None, k_step=4):
        self._act = self._check_activation(act_fmt)
        self._scheme = self._check_weight(weight, group, scale_fmt, zero_point)
        self._k = check_int("MixPE k_step", k_step, 1, MAX_K_STEP, OperationError)
        if group % k_step:
            raise OperationError(f"MixPE group {group} is not a multiple of its K step "
                                 f"{k_step}: a group must end on a beat boundary")
        if acc is None:
            from lowbit.golden import formats as F

            acc = FloatAccumulator(F.get("fp32"))
        check_accumulator("MixPE", acc)
        if not isinstance(acc, FloatAccumulator):
            raise OperationError(f"MixPE acc must be a FloatAccumulator (the dequantized "
                                 f"group sums are rounded into it), not {acc!r}")
        self._acc = acc
        self._sizes()
        super().__init__({"valid": In(1), **self.beat_ports(), "out_valid": Out(1),
                          "acc": Out(acc.out_fmt.bits)})

    # --- checks --------------------------------------------------------------------------------
    @staticmethod
    def _check_activation(fmt):
        ok = isinstance(fmt, ScalarFormat) and (
            (isinstance(fmt, IntFormat) and 2 <= fmt.bits <= 8)
            or (isinstance(fmt, FloatFormat) and fmt.bits <= 16 and fmt.man_bits > 0))
        if not ok:
            raise OperationError(f"MixPE act_fmt must be an integer format of 2 to 8 bits or a "
                                 f"float format of at most 16 bits, not "
                                 f"{getattr(fmt, 'name', fmt)!r}")
        return fmt

    @staticmethod
    def _check_weight(weight, group, scale_fmt, zero_point):
        name = _weight_name(weight)
        if not (weight == "ternary" or (isinstance(weight, IntFormat)
                                        and weight.bits <= MAX_WEIGHT_BITS)):
            raise OperationError(
                f"MixPE cannot shift-add weights of {name}: weights must be integers of 1 to "
                f"{MAX_WEIGHT_BITS} bits (int4, uint4, int2, uint2) or 'ternary', one shifted "
                f"copy of the activation per weight bit")
        check_int("MixPE group", group, 1, MAX_GROUP, OperationError)
        try:
            return GroupScheme(name, group, scale_fmt, zero_point)
        except OperationError as err:
            raise OperationError(f"MixPE {err}") from None

    def _sizes(self):
        """Register widths from the formats: activations on the grid, X, S, V."""
        act, scheme = self._act, self._scheme
        self._grid = activation_grid(act)
        if isinstance(act, IntFormat):
            self._a_low, self._a_high = act.min_int, act.max_int
        else:
            top = int(act.max_value / 2.0 ** self._grid)
            self._a_low, self._a_high = -top, top
        fmt = scheme.fmt
        self._q_low, self._q_high = (-1, 1) if scheme.ternary else (fmt.min_int, fmt.max_int)
        G, amax = scheme.group, max(-self._a_low, self._a_high)
        qmax = max(-self._q_low, self._q_high)
        zmax = max(-fmt.min_int, fmt.max_int) if scheme.zero_point else 0
        self._x_bits = signed_width(-G * qmax * amax, G * qmax * amax)
        self._s_bits = signed_width(-G * amax, G * amax)
        self._v_bound = G * (qmax + zmax) * amax
        if signed_width(-self._v_bound, self._v_bound) > MAX_SUM_BITS:
            raise OperationError(
                f"MixPE group sums of {act.name} activations in groups of {G} need "
                f"{signed_width(-self._v_bound, self._v_bound)} bits; at most {MAX_SUM_BITS}")

    # --- parameters ----------------------------------------------------------------------------
    @property
    def act_fmt(self):
        """Format of the activations."""
        return self._act

    @property
    def scheme(self) -> GroupScheme:
        """The golden group-quantization scheme of the weights."""
        return self._scheme

    @property
    def accumulator(self):
        """The accumulator of the dequantized group terms."""
        return self._acc

    @property
    def k_step(self) -> int:
        """Products per beat."""
        return self._k

    @property
    def peak_macs_per_cycle(self) -> int:
        """``k_step`` products per cycle."""
        return self._k

    @property
    def register_bits(self) -> dict:
        """Widths of the group registers ``X`` and ``S`` (0 without zero points)."""
        return {"x": self._x_bits, "s": self._s_bits if self._scheme.zero_point else 0}

    def describe(self) -> dict:
        """Parameters for the export sidecar and result rows."""
        s = self._scheme
        return {"act_fmt": self._act.to_dict(), "weight": s.weight, "group": s.group,
                "scale_fmt": s.scale.to_dict(), "zero_point": s.zero_point,
                "acc": self._acc.to_dict(), "k_step": self._k, "grid_exp": self._grid,
                "register_bits": self.register_bits}

    def beat_ports(self, rows: int = 1, cols: int = 1) -> dict:
        """Payload members of a beat feeding ``rows x cols`` PEs: ``rows`` activation rows,
        ``cols`` weight columns with their scales (and zero points), the four flags."""
        k, s = self._k, self._scheme
        return {
            "start": In(1), "end": In(1), "first": In(1), "last": In(1),
            "a": In(rows * k * self._act.bits), "w": In(cols * k * s.bits),
            "scale": In(cols * s.scale.bits),
            **({"zero": In(cols * s.bits)} if s.zero_point else {}),
        }

    # --- hardware: the blocks, shared with MixPEArray ---------------------------------------
    def build_front_end(self, m, codes, name="align"):
        """Submodule ``name`` of ``m``: the activation front end of ``k_step`` codes (one
        activation row). Returns ``(activations, beat_sum, bad)``: the aligned signed integers,
        their sum (zero points only) and whether a code is NaN or infinite."""
        fe = Module()
        m.submodules[name] = fe
        act, k = self._act, self._k
        width = signed_width(self._a_low, self._a_high)
        values, bad = [], []
        for i in range(k):
            code = codes[i * act.bits:(i + 1) * act.bits]
            value = Signal(signed(width), name=f"act{i}")
            if isinstance(act, IntFormat):
                fe.d.comb += value.eq(code.as_signed() if act.signed else code)
                bad.append(Const(0, 1))
            else:
                dec = FloatDecoder(act)
                fe.submodules[f"decode{i}"] = dec
                shift = Signal(range(dec.exp_max - self._grid + 1), name=f"shift{i}")
                mag = Signal(width - 1, name=f"mag{i}")
                fe.d.comb += [dec.code.eq(code), shift.eq(dec.exp - self._grid),
                              mag.eq(dec.sig << shift),
                              value.eq(Mux(dec.negative, -mag, mag))]
                bad.append(dec.nan | dec.inf)
            values.append(value)
        beat_sum = None
        if self._scheme.zero_point:
            beat_sum = Signal(signed(signed_width(k * self._a_low, k * self._a_high)),
                              name=f"{name}_sum")
            fe.d.comb += beat_sum.eq(sum(values))
        any_bad = Signal(name=f"{name}_bad")
        fe.d.comb += any_bad.eq(Cat(*bad).any())
        return values, beat_sum, any_bad

    def build_core(self, m, front, weights, scale, zero, flags, name="core"):
        """Submodules ``name`` (shift-add products, the group registers) and
        ``<name>_dequantize`` of ``m`` for one PE, fed by ``front`` (a
        :meth:`build_front_end` result), ``weights`` (``k_step`` codes), the group's
        ``scale`` and ``zero`` codes and ``flags = (valid, start, end, first, last)``.
        Returns ``(out_valid, code)``."""
        core = Module()
        m.submodules[name] = core
        values, beat_sum, bad = front
        valid, start, end, first, last = flags
        s, k = self._scheme, self._k
        products = []
        for i in range(k):
            q = weights[i * s.bits:(i + 1) * s.bits]
            products.append(self._shift_add(core, q, values[i], f"{name}_p{i}"))
        x_reg = Signal(signed(self._x_bits), name=f"{name}_x")
        x_next = Signal(signed(self._x_bits), name=f"{name}_x_next")
        core.d.comb += x_next.eq(Mux(start, 0, x_reg) + sum(products))
        nan_reg = Signal(name=f"{name}_nan")
        nan_next = Signal(name=f"{name}_nan_next")
        core.d.comb += nan_next.eq((~start & nan_reg) | bad)
        group_first = Signal(name=f"{name}_group_first")
        # Registered for the dequantize stage at a group's end.
        xd = Signal(signed(self._x_bits), name=f"{name}_xd")
        nand, firstd, lastd, deq = (Signal(name=f"{name}_{n}") for n in
                                    ("nand", "firstd", "lastd", "deq"))
        scaled = Signal(s.scale.bits, name=f"{name}_scaled")
        with core.If(valid):
            core.d.sync += [x_reg.eq(x_next), nan_reg.eq(nan_next),
                            group_first.eq(Mux(start, first, group_first))]
            with core.If(end):
                core.d.sync += [xd.eq(x_next), nand.eq(nan_next), scaled.eq(scale),
                                firstd.eq(Mux(start, first, group_first)), lastd.eq(last)]
        core.d.sync += deq.eq(valid & end)
        sd = zd = None
        if s.zero_point:
            s_reg = Signal(signed(self._s_bits), name=f"{name}_s")
            s_next = Signal(signed(self._s_bits), name=f"{name}_s_next")
            sd = Signal(signed(self._s_bits), name=f"{name}_sd")
            zd = Signal(s.bits, name=f"{name}_zd")
            core.d.comb += s_next.eq(Mux(start, 0, s_reg) + beat_sum)
            with core.If(valid):
                core.d.sync += s_reg.eq(s_next)
                with core.If(end):
                    core.d.sync += [sd.eq(s_next), zd.eq(zero)]
        return self._dequantize(m, f"{name}_dequantize", xd, sd, zd, nand, scaled, deq,
                                firstd, lastd)

    def _shift_add(self, core, q, a, name):
        """``q * a`` from shifted copies of ``a``: one per bit of ``q``, the sign bit's
        subtracted; ternary codes 1 and 3 select ``+a`` and ``-a``."""
        s = self._scheme
        lo = min(self._q_low * self._a_low, self._q_low * self._a_high,
                 self._q_high * self._a_low, self._q_high * self._a_high)
        hi = max(self._q_low * self._a_low, self._q_low * self._a_high,
                 self._q_high * self._a_low, self._q_high * self._a_high)
        product = Signal(signed(signed_width(lo, hi)), name=name)
        if s.ternary:
            core.d.comb += product.eq(Mux(q[0], Mux(q[1], -a, a), 0))
            return product
        copies = [Mux(q[j], a << j, 0) for j in range(s.bits)]
        if s.fmt.signed:
            total = sum(copies[:-1], Const(0)) - copies[-1]
        else:
            total = sum(copies)
        core.d.comb += product.eq(total)
        return product

    def _dequantize(self, m, name, xd, sd, zd, nand, scaled, deq, firstd, lastd):
        dq = Module()
        m.submodules[name] = dq
        s = self._scheme
        bound = self._v_bound
        v = Signal(signed(signed_width(-bound, bound)), name=f"{name}_v")
        if s.zero_point:
            z = zd.as_signed() if s.fmt.signed else zd
            zs = sum(Mux(z[j], sd << j, 0) for j in range(s.bits - (1 if s.fmt.signed else 0)))
            if s.fmt.signed:
                zs = zs - Mux(z[-1], sd << (s.bits - 1), 0)
            dq.d.comb += v.eq(xd - zs)
        else:
            dq.d.comb += v.eq(xd)
        dec = FloatDecoder(s.scale)
        dq.submodules.scale = dec
        mag_bits = bound.bit_length()
        mul = ExactMultiplier(x_width=dec.sig_width, x_exp=(dec.exp_min, dec.exp_max),
                              y_width=mag_bits, y_exp=(self._grid, self._grid))
        dq.submodules.multiply = mul
        magnitude = Signal(mag_bits, name=f"{name}_mag")
        dq.d.comb += [dec.code.eq(scaled), magnitude.eq(Mux(v < 0, -v, v)),
                      *mul.connect("x", dec),
                      mul.y_negative.eq(v < 0), mul.y_sig.eq(magnitude),
                      mul.y_exp.eq(self._grid), mul.y_zero.eq(magnitude == 0),
                      mul.y_nan.eq(nand), mul.y_inf.eq(0)]
        stage = AccumulatorStage(self._acc, mul.sig_width, *mul.exp_range)
        dq.submodules.accumulate = stage
        out_valid = Signal(name=f"{name}_out_valid")
        dq.d.comb += [stage.valid.eq(deq), stage.clear.eq(firstd),
                      *stage.connect_term(mul)]
        dq.d.sync += out_valid.eq(deq & lastd)
        return out_valid, stage.result

    def elaborate(self, platform):
        m = Module()
        front = self.build_front_end(m, self.a)
        flags = (self.valid, self.start, self.end, self.first, self.last)
        zero = self.zero if self._scheme.zero_point else None
        out_valid, code = self.build_core(m, front, self.w, self.scale, zero, flags)
        m.d.comb += [self.out_valid.eq(out_valid), self.acc.eq(code)]
        return m
