"""The design catalogue: every unit and engine lowbit builds, known by one canonical name.

A *design* is a frozen spec: the operand formats, the accumulator and the structural
parameters of one hardware unit or engine. It has a canonical :attr:`~DesignSpec.name`, the
string every layer uses for it (the regression's rows, the synthesis baselines, the cycle
model's energy data, a sweep's rows), and it knows, without elaborating any hardware:

* :meth:`~DesignSpec.build`: the Amaranth component (a new one per call);
* :attr:`~DesignSpec.latency`: cycles from an operation to its result;
* :attr:`~DesignSpec.peak_macs_per_cycle`: multiply-accumulates per cycle, every multiplier
  busy;
* :meth:`~EngineSpec.cycles` (engines): the closed-form cycles of an ``M x K x N`` GEMM, the
  count the RTL tests check cycle-exactly.

``get(name)`` parses a name back into its spec, ``to_dict()``/:func:`from_dict` carry a spec
as plain data, and :func:`standard` is the standard catalogue (``lowbit synth --all``, the
committed area baselines). Specs check their parameters when made, with the rules of the
hardware itself (the spec builds a prototype of its unit, never elaborated), so an impossible
design fails at construction with one error naming the field.

Name grammar (``{a}``, ``{b}``, ``{fmt}``, ``{act}``: format names, :mod:`lowbit.golden.formats`;
``{acc}``: accumulator names, :data:`lowbit.golden.accumulators.GRAMMAR`)::

    intmac_{a}x{b}_{acc}[_s{S}]           IntMac: integer / fixed-point operands
    floatmac_{a}x{b}_{acc}[_t{terms}][_s{S}]
                                          FloatMac: minifloat operands; a Kulisch register
                                          (exact_*) sized for ``terms`` products
    positmac_{fmt}_{quire|quire_draft}[_s{S}]
                                          PositMac
    mxdot_{block}_{acc}[_t{terms}][_s{S}] MxDotUnit: one MX / NVFP4 block pair per cycle
    simdmac_{shape}[_{shape}...]_{acc}    SimdMac: one signed preset mode per shape (8x8,
                                          4x4, 8x4, 2x2), every lane into ``{acc}``
    systolic{R}x{C}_{os|ws|is}_{pe}       SystolicArray of the MAC design ``{pe}``
                                          (``is``: the cycle model only)
    addertree{L}_{pe}                     AdderTreeEngine: ``L`` lanes of ``{pe}``'s formats
    lutcore_w{b}_g{g}_{act}_{TM}x{TN}[_bipolar][_sym]_{acc}
                                          LutTensorCore
    bwmac_{a}x{b}_{acc}[_g{G}]            CarrySaveDot: the bit-weight MAC (integer operands,
                                          a wrapping ``int{B}`` register in carry-save form);
                                          ``G`` products per carry-propagate adder
    matrix{R}x{C}_{pe}                    MatrixEngine: ``R x C`` outer-product array
    cube{M}x{N}x{K}_{pe}                  CubeEngine: ``M x N`` outputs, ``K`` products each
    multiformat_{fmt}[_{fmt}...]_{quire|facc}[_gated]
                                          MultiFormatMac (XR-NPE): one mode per format, in
                                          order; ``quire`` accumulates exactly (posits in
                                          their 2022 quire, floats in a Kulisch register
                                          rounded to fp32), ``{facc}`` a float accumulator
                                          name (every lane rounds into it); ``_gated`` adds
                                          lane enables
    mixpe_{act}x{weight}_g{G}_{facc}[_k{K}]
                                          MixPE: ``{weight}`` one of int1..int4, uint1..uint4
                                          (zero points), ternary; groups of ``G`` along K,
                                          fp16 scales; ``K`` products per beat (default 4)
    mixpearray{R}x{C}_{pe}                MixPEArray of the MixPE design ``{pe}``

for example ``floatmac_fp8_e4m3xfp8_e4m3_exact_fp32`` (FP8 E4M3 products into a Kulisch
register rounded to FP32) or ``systolic4x4_os_floatmac_fp8_e4m3xfp8_e4m3_fp32``. ``_s{S}``:
``S`` pipeline register stages (:mod:`lowbit.hdl.pipeline`), written only when ``S > 1``. The
bit-weight variant of an engine shape is the shape with a ``bwmac`` PE:
``systolic4x4_os_bwmac_int8xint8_int32``, ``addertree16_bwmac_int8xint8_int32``,
``matrix4x4_bwmac_int8xint8_int32``, ``cube2x2x4_bwmac_int8xint8_int32``
(:func:`bitweight_twin`).

A new unit or engine is one hdl module plus one spec class here, registered in
:data:`KINDS`; every layer then builds, names and counts it.
"""

import functools
import re
from dataclasses import dataclass, fields
from typing import ClassVar

from lowbit.errors import LowbitError, did_you_mean
from lowbit.golden import accumulators as A
from lowbit.golden import formats as F


class DesignError(LowbitError, ValueError):
    """An unknown design name, or a spec the hardware cannot build."""


def _fmt(owner, field, value):
    """A format from a format object or name; errors name the spec field."""
    if isinstance(value, (F.ScalarFormat, F.BlockFormat)):
        return value
    try:
        return F.get(value)
    except LowbitError as err:
        raise DesignError(f"{owner} {field}: {err}") from None


def _acc(owner, value, operands):
    """An accumulator from an accumulator object or name (for these operand formats)."""
    if not isinstance(value, str):
        if getattr(value, "kind", None) not in ("exact", "fixed", "float", "quire"):
            raise DesignError(f"{owner} acc must be an accumulator or its name, not {value!r}")
        return value
    try:
        return A.get(value, operands)
    except LowbitError as err:
        raise DesignError(f"{owner} acc: {err}") from None


def _check_int(owner, field, value, low, high):
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise DesignError(f"{owner} {field} must be an integer from {low} to {high}, not "
                          f"{value!r}")
    return value


def _stages_suffix(stages) -> str:
    """The name suffix of a pipelined MAC: ``_s{S}``, nothing for one stage."""
    return f"_s{stages}" if stages != 1 else ""


@dataclass(frozen=True)
class DesignSpec:
    """Base of every design: its canonical name, its component, its rates."""

    #: The name's first word and the key of :data:`KINDS` (``floatmac``).
    kind: ClassVar[str] = ""
    #: The hdl class the spec builds (``FloatMac``).
    unit: ClassVar[str] = ""

    @property
    def name(self) -> str:
        """The canonical name (module docstring); :func:`get` of it returns an equal spec."""
        raise NotImplementedError

    def build(self):
        """A new Amaranth component of this design."""
        raise NotImplementedError

    @property
    def latency(self) -> int:
        """Cycles from an operation (a MAC's ``valid``) to its result (``out_valid``)."""
        return self.prototype.latency

    @property
    def peak_macs_per_cycle(self) -> float:
        """Multiply-accumulates per cycle with every multiplier busy."""
        return self.prototype.peak_macs_per_cycle

    @property
    def prototype(self):
        """One component of this design, built once to check the spec and answer questions
        about it; never elaborated (use :meth:`build` for hardware)."""
        return _prototype(self)

    def to_dict(self) -> dict:
        """Plain data: ``design`` (the name), ``kind``, ``unit`` and every field as text."""
        out = {"design": self.name, "kind": self.kind, "unit": self.unit}
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, DesignSpec):
                value = value.to_dict()
            elif hasattr(value, "name") and not isinstance(value, (str, int)):
                value = value.name
            elif isinstance(value, tuple):
                value = list(value)
            out[f.name] = value
        return out

    def __str__(self):
        return self.name

    def _checked(self):
        """Build the prototype now: the hardware's own rules check the spec (their errors
        name the unit and the field)."""
        try:
            self.prototype
        except DesignError:
            raise
        except LowbitError as err:
            raise DesignError(str(err)) from None


@functools.lru_cache(maxsize=512)
def _prototype(spec):
    from lowbit.hdl.component import Component

    return Component.part(spec.build())


# --- multiply-accumulate units ----------------------------------------------------------------
@dataclass(frozen=True)
class MacSpec(DesignSpec):
    """A unit with operand formats and an accumulator (the PE of an engine)."""

    @property
    def a_fmt(self):
        """Format of operand ``a`` (the block format of a dot unit)."""
        raise NotImplementedError

    @property
    def b_fmt(self):
        """Format of operand ``b``."""
        raise NotImplementedError

    @property
    def accumulator(self):
        """The golden accumulator the unit's result implements."""
        return self.acc

    @property
    def peak_macs_per_cycle(self) -> int:
        return 1


@dataclass(frozen=True)
class IntMacSpec(MacSpec):
    """:class:`~lowbit.hdl.int_mac.IntMac`: integer / fixed-point ``a x b`` into ``acc``."""

    a: object = "int8"
    b: object = "int8"
    acc: object = "int32"
    stages: int = 1
    kind: ClassVar[str] = "intmac"
    unit: ClassVar[str] = "IntMac"

    def __post_init__(self):
        a, b = _fmt("IntMac", "a", self.a), _fmt("IntMac", "b", self.b)
        object.__setattr__(self, "a", a)
        object.__setattr__(self, "b", b)
        object.__setattr__(self, "acc", _acc("IntMac", self.acc, (a, b)))
        self._checked()

    a_fmt = property(lambda self: self.a, doc="Format of operand ``a``.")
    b_fmt = property(lambda self: self.b, doc="Format of operand ``b``.")

    @property
    def name(self) -> str:
        return f"intmac_{self.a.name}x{self.b.name}_{self.acc.name}{_stages_suffix(self.stages)}"

    def build(self):
        from lowbit.hdl.int_mac import IntMac

        return IntMac(self.a, self.b, acc=self.acc, stages=self.stages)


@dataclass(frozen=True)
class FloatMacSpec(MacSpec):
    """:class:`~lowbit.hdl.float_mac.FloatMac`: minifloat ``a x b`` into a float register or
    a Kulisch register (``exact_*``) sized for ``terms`` products (default 2**16)."""

    a: object = "fp8_e4m3"
    b: object = "fp8_e4m3"
    acc: object = "fp32"
    terms: int | None = None
    stages: int = 1
    kind: ClassVar[str] = "floatmac"
    unit: ClassVar[str] = "FloatMac"

    def __post_init__(self):
        a, b = _fmt("FloatMac", "a", self.a), _fmt("FloatMac", "b", self.b)
        object.__setattr__(self, "a", a)
        object.__setattr__(self, "b", b)
        object.__setattr__(self, "acc", _acc("FloatMac", self.acc, (a, b)))
        if self.terms is not None:
            _check_int("FloatMac", "terms", self.terms, 2, 1 << 40)
        self._checked()

    a_fmt = property(lambda self: self.a, doc="Format of operand ``a``.")
    b_fmt = property(lambda self: self.b, doc="Format of operand ``b``.")

    @property
    def name(self) -> str:
        terms = "" if self.terms is None else f"_t{self.terms}"
        return (f"floatmac_{self.a.name}x{self.b.name}_{self.acc.name}{terms}"
                f"{_stages_suffix(self.stages)}")

    def build(self):
        from lowbit.hdl.float_mac import FloatMac

        return FloatMac(self.a, self.b, acc=self.acc, terms=self.terms, stages=self.stages)

    def build_chained(self):
        """The same unit with an ``acc_in`` port in place of its register's feedback (a
        systolic array's PE): the adder and rounding are the same generator lines, so feeding
        ``acc_in`` every state checks the one-cycle MAC's next-state function."""
        from lowbit.hdl.float_mac import FloatMac

        return FloatMac(self.a, self.b, acc=self.acc, terms=self.terms, stages=self.stages,
                        chained=True)


@dataclass(frozen=True)
class PositMacSpec(MacSpec):
    """:class:`~lowbit.hdl.posit_mac.PositMac`: posit products summed in a quire."""

    fmt: object = "posit8_0"
    acc: object = "quire"
    stages: int = 1
    kind: ClassVar[str] = "positmac"
    unit: ClassVar[str] = "PositMac"

    def __post_init__(self):
        fmt = _fmt("PositMac", "fmt", self.fmt)
        object.__setattr__(self, "fmt", fmt)
        object.__setattr__(self, "acc", _acc("PositMac", self.acc, (fmt, fmt)))
        self._checked()

    a_fmt = property(lambda self: self.fmt, doc="Format of both operands.")
    b_fmt = a_fmt

    @property
    def name(self) -> str:
        return f"positmac_{self.fmt.name}_{self.acc.name}{_stages_suffix(self.stages)}"

    def build(self):
        from lowbit.hdl.posit_mac import PositMac

        return PositMac(self.fmt, quire=self.acc, stages=self.stages)


@dataclass(frozen=True)
class MxDotSpec(MacSpec):
    """:class:`~lowbit.hdl.mx_dot.MxDotUnit`: one block pair of ``block`` per cycle."""

    block: object = "mxfp8_e4m3"
    acc: object = "fp32"
    terms: int | None = None
    stages: int = 1
    kind: ClassVar[str] = "mxdot"
    unit: ClassVar[str] = "MxDotUnit"

    def __post_init__(self):
        block = _fmt("MxDotUnit", "block", self.block)
        object.__setattr__(self, "block", block)
        element = getattr(block, "element", block)
        object.__setattr__(self, "acc", _acc("MxDotUnit", self.acc, (element, element)))
        if self.terms is not None:
            _check_int("MxDotUnit", "terms", self.terms, 2, 1 << 40)
        self._checked()

    a_fmt = property(lambda self: self.block, doc="Block format of both operands.")
    b_fmt = a_fmt

    @property
    def name(self) -> str:
        terms = "" if self.terms is None else f"_t{self.terms}"
        return f"mxdot_{self.block.name}_{self.acc.name}{terms}{_stages_suffix(self.stages)}"

    @property
    def peak_macs_per_cycle(self) -> int:
        """One block pair: ``block_size`` products per cycle."""
        return self.block.block_size

    def build(self):
        from lowbit.hdl.mx_dot import MxDotUnit

        return MxDotUnit(self.block, acc=self.acc, terms=self.terms, stages=self.stages)


SIMD_SHAPES = ("8x8", "4x4", "8x4", "2x2")


@dataclass(frozen=True)
class SimdMacSpec(MacSpec):
    """:class:`~lowbit.hdl.simd_mac.SimdMac` with one signed preset mode per shape (8x8:
    int8 x int8, 4x4, 8x4: int8 x int4, 2x2), every lane register an ``acc``."""

    shapes: tuple = SIMD_SHAPES
    acc: object = "int24"
    kind: ClassVar[str] = "simdmac"
    unit: ClassVar[str] = "SimdMac"

    def __post_init__(self):
        shapes = (self.shapes,) if isinstance(self.shapes, str) else tuple(self.shapes)
        if not shapes or any(s not in SIMD_SHAPES for s in shapes) or \
                len(set(shapes)) != len(shapes):
            raise DesignError(f"SimdMac shapes must be distinct shapes from "
                              f"{', '.join(SIMD_SHAPES)}, not {self.shapes!r}")
        object.__setattr__(self, "shapes", shapes)
        object.__setattr__(self, "acc", _acc("SimdMac", self.acc, None))
        self._checked()

    @property
    def modes(self) -> tuple:
        """The :class:`~lowbit.hdl.simd_mac.SimdMode` of each shape."""
        from lowbit.hdl.simd_mac import SimdMode

        return tuple(SimdMode.preset(s, acc=self.acc) for s in self.shapes)

    a_fmt = property(lambda self: self.modes[0].a_fmt, doc="Lane format of ``a`` (mode 0).")
    b_fmt = property(lambda self: self.modes[0].b_fmt, doc="Lane format of ``b`` (mode 0).")

    @property
    def name(self) -> str:
        return f"simdmac_{'_'.join(self.shapes)}_{self.acc.name}"

    @property
    def peak_macs_per_cycle(self) -> int:
        """Lanes of the widest mode: products per cycle."""
        return max(m.lanes for m in self.modes)

    def build(self):
        from lowbit.hdl.simd_mac import SimdMac

        return SimdMac(list(self.modes))


# --- engines ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class EngineSpec(DesignSpec):
    """A GEMM engine on the common handshake (:mod:`lowbit.hdl.gemm_engine`)."""

    def cycles(self, M: int, K: int, N: int) -> int:
        """Cycles of an ``M x K`` by ``K x N`` GEMM, first input beat to last output beat."""
        return self.prototype.cycles(M, K, N)

    @property
    def accumulator(self):
        """The golden accumulator every output implements."""
        return self.prototype.accumulator

    @property
    def a_fmt(self):
        """Format of ``A``."""
        return self.prototype.a_fmt

    @property
    def b_fmt(self):
        """Format of ``B``."""
        return self.prototype.b_fmt


def _pe(owner, pe):
    if isinstance(pe, str):
        pe = get(pe)
    if not isinstance(pe, MacSpec):
        raise DesignError(f"{owner} pe must be a MAC design (intmac_..., floatmac_..., "
                          f"positmac_..., mxdot_..., simdmac_...), not "
                          f"{getattr(pe, 'name', pe)!r}")
    return pe


SYSTOLIC_DATAFLOWS = ("os", "ws", "is")
#: Largest array side of the cycle model (hardware arrays stop at 64, see
#: :data:`lowbit.hdl.gemm_engine.MAX_ARRAY_SIDE`).
MODEL_MAX_SIDE = 4096


@dataclass(frozen=True)
class SystolicSpec(EngineSpec):
    """:class:`~lowbit.hdl.systolic_array.SystolicArray`: ``rows x cols`` PEs of ``pe``.

    Arrays beyond 64 x 64 and the ``is`` dataflow exist for the cycle model only: their
    cycles and rates are known, :meth:`build` refuses them."""

    rows: int = 4
    cols: int = 4
    dataflow: str = "ws"
    pe: object = "intmac_int8xint8_int32"
    kind: ClassVar[str] = "systolic"
    unit: ClassVar[str] = "SystolicArray"

    def __post_init__(self):
        _check_int("SystolicArray", "rows", self.rows, 1, MODEL_MAX_SIDE)
        _check_int("SystolicArray", "cols", self.cols, 1, MODEL_MAX_SIDE)
        if self.dataflow not in SYSTOLIC_DATAFLOWS:
            raise DesignError(f"SystolicArray dataflow must be one of "
                              f"{', '.join(SYSTOLIC_DATAFLOWS)}, not {self.dataflow!r}"
                              f"{did_you_mean(self.dataflow, SYSTOLIC_DATAFLOWS)}")
        object.__setattr__(self, "pe", _pe("SystolicArray", self.pe))
        self._checked()

    @property
    def name(self) -> str:
        return f"systolic{self.rows}x{self.cols}_{self.dataflow}_{self.pe.name}"

    @property
    def buildable(self) -> bool:
        """Whether RTL exists for it: at most 64 x 64, dataflow ``os`` or ``ws``."""
        from lowbit.hdl.gemm_engine import MAX_ARRAY_SIDE

        return max(self.rows, self.cols) <= MAX_ARRAY_SIDE and self.dataflow != "is"

    def build(self):
        from lowbit.hdl.systolic_array import SystolicArray

        if not self.buildable:
            raise DesignError(f"{self.name} is a cycle-model array: RTL arrays have at most "
                              f"64 rows and columns and dataflow os or ws")
        return SystolicArray(self.rows, self.cols, self.pe.build(), self.dataflow)

    @property
    def prototype(self):
        """The array, or for a cycle-model array the largest buildable one with its PE and
        dataflow rules (``is`` is ``ws`` with A and B exchanged)."""
        if self.buildable:
            return _prototype(self)
        from lowbit.hdl.gemm_engine import MAX_ARRAY_SIDE

        side = min(self.rows, MAX_ARRAY_SIDE), min(self.cols, MAX_ARRAY_SIDE)
        return _prototype(SystolicSpec(*side, "ws" if self.dataflow == "is" else
                                       self.dataflow, self.pe))

    @property
    def latency(self) -> int:
        """The PE's latency."""
        return self.pe.latency

    @property
    def peak_macs_per_cycle(self) -> int:
        """``rows x cols`` PEs, each doing its own peak (a block for MX, lanes for SIMD)."""
        from lowbit.hdl.systolic_schedule import systolic_peak_macs

        return systolic_peak_macs(self.rows, self.cols, self.pe.peak_macs_per_cycle)

    def cycles(self, M: int, K: int, N: int) -> int:
        """:func:`~lowbit.hdl.systolic_schedule.systolic_cycles` of this array."""
        from lowbit.hdl.systolic_schedule import systolic_cycles

        pe = self.pe.prototype
        block = getattr(getattr(pe, "block_fmt", None), "block_size", 1)
        simd = self.pe.peak_macs_per_cycle if isinstance(self.pe, SimdMacSpec) else 1
        return systolic_cycles(M, K, N, rows=self.rows, cols=self.cols,
                               dataflow=self.dataflow, pe_latency=self.pe.latency,
                               block_size=block, simd_lanes=simd)


@dataclass(frozen=True)
class AdderTreeSpec(EngineSpec):
    """:class:`~lowbit.hdl.adder_tree_engine.AdderTreeEngine`: ``lanes`` products of ``pe``'s
    formats per cycle through a pipelined adder tree."""

    lanes: int = 8
    pe: object = "intmac_int8xint8_int32"
    kind: ClassVar[str] = "addertree"
    unit: ClassVar[str] = "AdderTreeEngine"

    def __post_init__(self):
        _check_int("AdderTreeEngine", "lanes", self.lanes, 2, 64)
        object.__setattr__(self, "pe", _pe("AdderTreeEngine", self.pe))
        self._checked()

    @property
    def name(self) -> str:
        return f"addertree{self.lanes}_{self.pe.name}"

    @property
    def latency(self) -> int:
        """The tree's pipeline depth."""
        return self.prototype.pipeline_depth

    def build(self):
        from lowbit.hdl.adder_tree_engine import AdderTreeEngine

        return AdderTreeEngine(self.lanes, self.pe.build())


LUT_ENCODINGS = ("offset", "bipolar")


@dataclass(frozen=True)
class LutCoreSpec(EngineSpec):
    """:class:`~lowbit.hdl.lut_tensor_core.LutTensorCore`: ``weight_bits``-bit weights times
    ``act`` activations by table lookup, groups of ``group``, ``tile`` outputs at a time."""

    weight_bits: int = 2
    group: int = 4
    act: object = "int8"
    tile: tuple = (2, 16)
    encoding: str = "offset"
    symmetric: bool = False
    acc: object = "int32"
    kind: ClassVar[str] = "lutcore"
    unit: ClassVar[str] = "LutTensorCore"

    def __post_init__(self):
        object.__setattr__(self, "act", _fmt("LutTensorCore", "act", self.act))
        tile = tuple(self.tile) if isinstance(self.tile, (list, tuple)) else self.tile
        object.__setattr__(self, "tile", tile)
        if self.encoding not in LUT_ENCODINGS:
            raise DesignError(f"LutTensorCore encoding must be one of "
                              f"{', '.join(LUT_ENCODINGS)}, not {self.encoding!r}")
        if not isinstance(self.symmetric, bool):
            raise DesignError(f"LutTensorCore symmetric must be True or False, not "
                              f"{self.symmetric!r}")
        acc = _acc("LutTensorCore", self.acc, None)
        if acc.kind != "fixed" or acc.frac_bits or acc.overflow != "wrap":
            raise DesignError(f"LutTensorCore acc must be an integer register int{{B}}, not "
                              f"{acc.name!r}")
        object.__setattr__(self, "acc", acc)
        self._checked()

    @property
    def name(self) -> str:
        flags = ("_bipolar" if self.encoding == "bipolar" else "") + \
            ("_sym" if self.symmetric else "")
        return (f"lutcore_w{self.weight_bits}_g{self.group}_{self.act.name}_"
                f"{self.tile[0]}x{self.tile[1]}{flags}_{self.acc.name}")

    @property
    def latency(self) -> int:
        """One edge to look up and accumulate."""
        return 1

    def build(self):
        from lowbit.hdl.lut_tensor_core import LutTensorCore

        return LutTensorCore(self.weight_bits, self.group, self.act, self.tile,
                             weight_encoding=self.encoding, symmetric_table=self.symmetric,
                             acc_bits=self.acc.int_bits)


# --- names ----------------------------------------------------------------------------------
def _formats_then(text, count):
    """Every way to read ``text`` as ``count`` format names joined by ``x`` then ``_rest``:
    yields ``(formats..., rest)``."""
    if count == 0:
        yield (text,)
        return
    seps = "x" if count > 1 else "_"
    for i, ch in enumerate(text):
        if ch != seps or i == 0:
            continue
        try:
            fmt = F.get(text[:i])
        except LowbitError:
            continue
        for tail in _formats_then(text[i + 1:], count - 1):
            yield (fmt, *tail)


def _terms(text):
    m = re.fullmatch(r"(.+)_t(\d+)", text)
    return (m[1], int(m[2])) if m else (text, None)


def _stages(text):
    m = re.fullmatch(r"(.+)_s(\d+)", text)
    return (m[1], int(m[2])) if m else (text, 1)


def _parse_intmac(rest):
    rest, stages = _stages(rest)
    for a, b, acc in _formats_then(rest, 2):
        yield IntMacSpec(a, b, acc, stages)


def _parse_floatmac(rest):
    rest, stages = _stages(rest)
    rest, terms = _terms(rest)
    for a, b, acc in _formats_then(rest, 2):
        yield FloatMacSpec(a, b, acc, terms, stages)


def _parse_positmac(rest):
    rest, stages = _stages(rest)
    for fmt, acc in _formats_then(rest, 1):
        yield PositMacSpec(fmt, acc, stages)


def _parse_mxdot(rest):
    rest, stages = _stages(rest)
    rest, terms = _terms(rest)
    for block, acc in _formats_then(rest, 1):
        yield MxDotSpec(block, acc, terms, stages)


def _parse_simdmac(rest):
    parts = rest.split("_")
    shapes = []
    while parts and re.fullmatch(r"\d+x\d+", parts[0]):
        shapes.append(parts.pop(0))
    yield SimdMacSpec(tuple(shapes), "_".join(parts))


def _parse_systolic(rest):
    m = re.fullmatch(r"(\d+)x(\d+)_(os|ws|is)_(.+)", rest)
    if m:
        yield SystolicSpec(int(m[1]), int(m[2]), m[3], get(m[4]))


def _parse_addertree(rest):
    m = re.fullmatch(r"(\d+)_(.+)", rest)
    if m:
        yield AdderTreeSpec(int(m[1]), get(m[2]))


def _parse_lutcore(rest):
    m = re.fullmatch(r"_w(\d+)_g(\d+)_(.+)_(\d+)x(\d+)(_bipolar)?(_sym)?_(.+)", rest)
    if m:
        yield LutCoreSpec(int(m[1]), int(m[2]), m[3], (int(m[4]), int(m[5])),
                          "bipolar" if m[6] else "offset", bool(m[7]), m[8])


#: Every design kind: name prefix -> (spec class, parser of the rest of a name).
KINDS = {
    "intmac": (IntMacSpec, _parse_intmac),
    "floatmac": (FloatMacSpec, _parse_floatmac),
    "positmac": (PositMacSpec, _parse_positmac),
    "mxdot": (MxDotSpec, _parse_mxdot),
    "simdmac": (SimdMacSpec, _parse_simdmac),
    "systolic": (SystolicSpec, _parse_systolic),
    "addertree": (AdderTreeSpec, _parse_addertree),
    "lutcore": (LutCoreSpec, _parse_lutcore),
}
_PREFIX_SEPARATOR = {"systolic": "", "addertree": "", "lutcore": ""}  # prefix runs into R, L, _w


@functools.lru_cache(maxsize=4096)
def get(name: str) -> DesignSpec:
    """The design called ``name`` (module docstring); one :class:`DesignError` naming the
    value, with the closest standard names, when nothing parses."""
    if isinstance(name, DesignSpec):
        return name
    if not isinstance(name, str) or not name.strip():
        raise DesignError(f"design name must be a non-empty string, not {name!r}")
    text = name.strip().lower()
    found, reasons = {}, []
    for prefix, (_, parse) in KINDS.items():
        head = prefix + _PREFIX_SEPARATOR.get(prefix, "_")
        if not text.startswith(head):
            continue
        try:
            for spec in parse(text[len(head):]):
                found[spec.name] = spec
        except LowbitError as err:
            reasons.append(str(err))
    exact = [s for n, s in found.items() if n == text] or list(found.values())
    if len(exact) == 1:
        return exact[0]
    if len(exact) > 1:
        raise DesignError(f"design name {name!r} is ambiguous: it reads as "
                          f"{', '.join(s.name for s in exact)}")
    if reasons:  # the name read as a design whose hardware refused it: say why
        raise DesignError(f"design {name!r}: {reasons[-1]}")
    known = (*standard_names(), *(cls.unit for cls, _ in KINDS.values()))
    raise DesignError(f"unknown design {name!r}{did_you_mean(name.strip(), known)}; design "
                      f"names start with {', '.join(KINDS)} (lowbit synth --list shows the "
                      f"standard catalogue)")


def from_dict(d: dict) -> DesignSpec:
    """The spec :meth:`DesignSpec.to_dict` described (by its ``design`` name)."""
    if not isinstance(d, dict) or "design" not in d:
        raise DesignError(f"design dict must have a 'design' key, not {d!r}")
    return get(d["design"])


def of_kind(kind: str, **params) -> DesignSpec:
    """The design of ``kind`` (a :data:`KINDS` key or the unit's class name, any case) with
    ``params`` over its defaults: ``of_kind("FloatMac", a="fp4_e2m1", b="fp4_e2m1")``.

    Values may be text, as typed on a command line (``rows="8"``, ``tile="2x16"``,
    ``shapes="8x8,4x4"``, ``symmetric="true"``, ``pe="intmac_int8xint8_int32"``)."""
    wanted = str(kind).lower()
    for key, (cls, _) in KINDS.items():
        if wanted in (key, cls.unit.lower()):
            defaults = {f.name: f.default for f in fields(cls)}
            for p in params:
                if p not in defaults:
                    raise DesignError(f"{cls.unit} has no parameter {p!r}"
                                      f"{did_you_mean(p, defaults)}; it takes "
                                      f"{', '.join(defaults)}")
            return cls(**{p: _from_text(cls.unit, p, v, defaults[p])
                          for p, v in params.items()})
    units = [cls.unit for cls, _ in KINDS.values()]
    raise DesignError(f"unit must be one of {', '.join(units)}, not {kind!r}"
                      f"{did_you_mean(str(kind), units)}")


def _from_text(unit, field, value, default):
    """``value`` for a field whose default is ``default``: text becomes an int, a bool or a
    tuple where the default is one (``"2x16"`` and ``"8x8,4x4"`` for tuples)."""
    if not isinstance(value, str):
        return value
    text = value.strip()
    if isinstance(default, bool):
        if text.lower() not in ("true", "false", "1", "0", "yes", "no"):
            raise DesignError(f"{unit} {field} must be true or false, not {value!r}")
        return text.lower() in ("true", "1", "yes")
    if isinstance(default, int) or (default is None and field == "terms"):
        if not re.fullmatch(r"-?\d+", text):
            raise DesignError(f"{unit} {field} must be an integer, not {value!r}")
        return int(text)
    if isinstance(default, tuple):
        if re.fullmatch(r"\d+x\d+", text) and all(isinstance(x, int) for x in default):
            return tuple(int(x) for x in text.split("x"))
        return tuple(x.strip() for x in text.split(","))
    return text


def mac_for(a_fmt, b_fmt, acc) -> MacSpec:
    """The MAC design that multiplies ``a_fmt`` by ``b_fmt`` into ``acc`` (names or objects):
    IntMac for integer/fixed operands, FloatMac for floats, PositMac for one posit format,
    MxDotUnit for one block format."""
    a = _fmt("MAC", "a_fmt", a_fmt)
    b = _fmt("MAC", "b_fmt", b_fmt)
    kinds = {a.kind, b.kind}
    if kinds <= {"int", "fixed"}:
        return IntMacSpec(a, b, acc)
    if kinds == {"float"}:
        return FloatMacSpec(a, b, acc)
    if kinds == {"posit"} and a == b:
        return PositMacSpec(a, acc)
    if kinds == {"block"} and a == b:
        return MxDotSpec(a, acc)
    raise DesignError(f"no MAC design multiplies {a.name} by {b.name}: operands must be both "
                      f"integer/fixed, both float, one posit format or one block format")


# --- the standard catalogue -------------------------------------------------------------------
_STANDARD = (
    "intmac_int8xint8_int32",
    "intmac_int4xint4_int32",
    "intmac_int16xint16_int48",
    "intmac_int6xint6_int32",
    "floatmac_fp8_e4m3xfp8_e4m3_fp32",
    "floatmac_fp8_e4m3xfp8_e4m3_exact_fp32",
    "floatmac_fp8_e5m2xfp8_e5m2_fp32",
    "floatmac_fp8_e5m2xfp8_e5m2_exact_fp32",
    "floatmac_fp6_e3m2xfp6_e3m2_fp32",
    "floatmac_fp4_e2m1xfp4_e2m1_fp32",
    "floatmac_fp4_e2m1xfp4_e2m1_exact_fp32",
    "floatmac_fp6_e3m2xfp6_e3m2_exact_fp32",
    "positmac_posit8_0_quire",
    "simdmac_8x8_4x4_8x4_2x2_int24",
    "mxdot_mxfp8_e4m3_fp32",
    "mxdot_mxint8_fp32",
    "mxdot_mxfp4_fp32",
    "systolic4x4_ws_intmac_int8xint8_int32",
    "systolic2x2_ws_intmac_int8xint8_int32",
    "systolic8x8_ws_intmac_int8xint8_int32",
    "systolic4x4_os_intmac_int8xint8_int32",
    "addertree8_intmac_int8xint8_int32",
    "lutcore_w2_g4_int8_2x16_int32",
)


def standard_names() -> tuple:
    """Names of the standard catalogue (``lowbit synth --all``, the area baselines)."""
    return _STANDARD


def standard() -> list:
    """The standard catalogue's specs, in :func:`standard_names` order."""
    return [get(n) for n in _STANDARD]


# --- tensor-engine shapes and their bit-weight rewrites --------------------------------------
# The 2D matrix and the 3D cube join the systolic array and the adder tree; the bit-weight
# variant of every shape is the shape with a ``bwmac`` processing element (a CarrySaveDot).
# Names: the module docstring's grammar.


@dataclass(frozen=True)
class BitWeightMacSpec(MacSpec):
    """:class:`~lowbit.hdl.carry_save_dot.CarrySaveDot`: the bit-weight MAC, ``a x b`` partial
    products compressed with a carry-save ``acc`` register; with ``k_group`` ``G``, a group of
    ``G`` products resolved by one carry-propagate adder (the unit built has ``G`` lanes; an
    engine replicates it with its own lane count, a multiple of ``G``)."""

    a: object = "int8"
    b: object = "int8"
    acc: object = "int32"
    k_group: int | None = None
    kind: ClassVar[str] = "bwmac"
    unit: ClassVar[str] = "CarrySaveDot"

    def __post_init__(self):
        a, b = _fmt("CarrySaveDot", "a", self.a), _fmt("CarrySaveDot", "b", self.b)
        object.__setattr__(self, "a", a)
        object.__setattr__(self, "b", b)
        object.__setattr__(self, "acc", _acc("CarrySaveDot", self.acc, (a, b)))
        if self.k_group is not None:
            _check_int("CarrySaveDot", "k_group", self.k_group, 1, 64)
        self._checked()

    a_fmt = property(lambda self: self.a, doc="Format of operand ``a``.")
    b_fmt = property(lambda self: self.b, doc="Format of operand ``b`` (the weight).")

    @property
    def name(self) -> str:
        group = "" if self.k_group is None else f"_g{self.k_group}"
        return f"bwmac_{self.a.name}x{self.b.name}_{self.acc.name}{group}"

    @property
    def peak_macs_per_cycle(self) -> int:
        """Lanes of the unit built: ``k_group`` or 1."""
        return self.k_group or 1

    def build(self):
        from lowbit.hdl.carry_save_dot import CarrySaveDot

        return CarrySaveDot(self.a, self.b, acc=self.acc, lanes=self.k_group or 1,
                            k_group=self.k_group)


class _BroadcastSpec(EngineSpec):
    """Shared by the matrix and cube specs: tiles beyond 64 exist for the cycle model only."""

    @property
    def _sides(self) -> tuple:
        raise NotImplementedError

    @property
    def buildable(self) -> bool:
        """Whether RTL exists for it: every side at most 64."""
        from lowbit.hdl.gemm_engine import MAX_ARRAY_SIDE

        return max(self._sides) <= MAX_ARRAY_SIDE

    def build(self):
        if not self.buildable:
            raise DesignError(f"{self.name} is a cycle-model engine: RTL engines have at most "
                              f"64 rows and columns")
        return self._engine()

    def _checked(self):
        """Check the engine, or for a cycle-model one the clipped engine (made and checked by
        its own construction)."""
        if self.buildable:
            super()._checked()
        else:
            from lowbit.hdl.gemm_engine import MAX_ARRAY_SIDE

            self._clipped(MAX_ARRAY_SIDE)

    @property
    def prototype(self):
        """The engine, or for a cycle-model one the largest buildable one of its kind."""
        if self.buildable:
            return _prototype(self)
        from lowbit.hdl.gemm_engine import MAX_ARRAY_SIDE

        return _prototype(self._clipped(MAX_ARRAY_SIDE))

    @property
    def latency(self) -> int:
        """Edges from taking a beat to an output's register holding it."""
        return self.prototype.datapath_latency

    @property
    def peak_macs_per_cycle(self) -> int:
        from lowbit.hdl.broadcast_schedule import broadcast_peak_macs

        return broadcast_peak_macs(*self._sides)

    def cycles(self, M: int, K: int, N: int) -> int:
        """:func:`~lowbit.hdl.broadcast_schedule.broadcast_cycles` of this tile."""
        from lowbit.hdl.broadcast_schedule import broadcast_cycles

        rows, cols, depth = self._sides
        return broadcast_cycles(M, K, N, rows=rows, cols=cols, depth=depth,
                                latency=self.latency)


@dataclass(frozen=True)
class MatrixSpec(_BroadcastSpec):
    """:class:`~lowbit.hdl.matrix_engine.MatrixEngine`: ``rows x cols`` PEs of ``pe`` fed by
    broadcast (one column of A and one row of B per cycle)."""

    rows: int = 4
    cols: int = 4
    pe: object = "intmac_int8xint8_int32"
    kind: ClassVar[str] = "matrix"
    unit: ClassVar[str] = "MatrixEngine"

    def __post_init__(self):
        _check_int("MatrixEngine", "rows", self.rows, 1, MODEL_MAX_SIDE)
        _check_int("MatrixEngine", "cols", self.cols, 1, MODEL_MAX_SIDE)
        object.__setattr__(self, "pe", _pe("MatrixEngine", self.pe))
        self._checked()

    @property
    def name(self) -> str:
        return f"matrix{self.rows}x{self.cols}_{self.pe.name}"

    @property
    def _sides(self) -> tuple:
        return self.rows, self.cols, 1

    def _clipped(self, side):
        return MatrixSpec(min(self.rows, side), min(self.cols, side), self.pe)

    def _engine(self):
        from lowbit.hdl.matrix_engine import MatrixEngine

        return MatrixEngine(self.rows, self.cols, self.pe.build())


@dataclass(frozen=True)
class CubeSpec(_BroadcastSpec):
    """:class:`~lowbit.hdl.cube_engine.CubeEngine`: ``m x n`` outputs summing ``k`` products
    of ``pe``'s formats each per cycle (``k`` a power of two, at most 64)."""

    m: int = 4
    n: int = 4
    k: int = 4
    pe: object = "intmac_int8xint8_int32"
    kind: ClassVar[str] = "cube"
    unit: ClassVar[str] = "CubeEngine"

    def __post_init__(self):
        _check_int("CubeEngine", "m", self.m, 1, MODEL_MAX_SIDE)
        _check_int("CubeEngine", "n", self.n, 1, MODEL_MAX_SIDE)
        _check_int("CubeEngine", "k", self.k, 1, 64)
        object.__setattr__(self, "pe", _pe("CubeEngine", self.pe))
        self._checked()

    @property
    def name(self) -> str:
        return f"cube{self.m}x{self.n}x{self.k}_{self.pe.name}"

    @property
    def _sides(self) -> tuple:
        return self.m, self.n, self.k

    def _clipped(self, side):
        return CubeSpec(min(self.m, side), min(self.n, side), self.k, self.pe)

    def _engine(self):
        from lowbit.hdl.cube_engine import CubeEngine

        return CubeEngine(self.m, self.n, self.k, self.pe.build())


def _parse_bwmac(rest):
    m = re.fullmatch(r"(.+)_g(\d+)", rest)
    rest, group = (m[1], int(m[2])) if m else (rest, None)
    for a, b, acc in _formats_then(rest, 2):
        yield BitWeightMacSpec(a, b, acc, group)


def _parse_matrix(rest):
    m = re.fullmatch(r"(\d+)x(\d+)_(.+)", rest)
    if m:
        yield MatrixSpec(int(m[1]), int(m[2]), get(m[3]))


def _parse_cube(rest):
    m = re.fullmatch(r"(\d+)x(\d+)x(\d+)_(.+)", rest)
    if m:
        yield CubeSpec(int(m[1]), int(m[2]), int(m[3]), get(m[4]))


KINDS.update({
    "bwmac": (BitWeightMacSpec, _parse_bwmac),
    "matrix": (MatrixSpec, _parse_matrix),
    "cube": (CubeSpec, _parse_cube),
})
_PREFIX_SEPARATOR.update({"matrix": "", "cube": ""})


def bitweight_twin(spec) -> DesignSpec:
    """The bit-weight variant of an engine whose PE is an IntMac (wrapping), or of an IntMac:
    the same design with a ``bwmac`` of the same formats and accumulator."""
    spec = get(spec)
    if isinstance(spec, IntMacSpec):
        return BitWeightMacSpec(spec.a, spec.b, spec.acc)
    pe = getattr(spec, "pe", None)
    if not isinstance(pe, IntMacSpec):
        raise DesignError(f"{spec.name} has no bit-weight variant: it needs an intmac_... PE "
                          f"(integer operands)")
    return get(spec.name.replace(pe.name, bitweight_twin(pe).name))



# The standard catalogue's tensor-engine shapes: the four shapes at 16 multiply-accumulates
# per cycle, int8 x int8 into a wrapping int32, each beside its bit-weight twin (the designs of
# lowbit.reports.tpe_comparisons; systolic4x4_os_intmac_int8xint8_int32 is standard above).
_STANDARD += (
    "systolic4x4_os_bwmac_int8xint8_int32",
    "cube2x2x4_intmac_int8xint8_int32",
    "cube2x2x4_bwmac_int8xint8_int32",
    "addertree16_intmac_int8xint8_int32",
    "addertree16_bwmac_int8xint8_int32",
    "matrix4x4_intmac_int8xint8_int32",
    "matrix4x4_bwmac_int8xint8_int32",
)

# --- the XR-NPE multi-format MAC and MixPE -------------------------------------------------
MULTIFORMAT_DEFAULT = ("fp4_e2m1", "posit4_1", "posit8_0", "posit16_1")


def _float_acc(owner, value):
    """A sequential float accumulator from an object or name (``fp32``, ``fp16_rtz`` ...)."""
    acc = _acc(owner, value, None)
    if acc.kind != "float" or acc.order != "sequential":
        raise DesignError(f"{owner} acc must be a float accumulator name such as fp32, fp16 or "
                          f"bf16, not {acc.name!r}")
    return acc


@dataclass(frozen=True)
class MultiFormatSpec(MacSpec):
    """:class:`~lowbit.hdl.multiformat_mac.MultiFormatMac`: one mode per format (default
    lanes: 16-bit word), ``acc`` ``"quire"`` (exact) or a float accumulator.

    :attr:`peak_macs_per_cycle` is the mode with the most lanes (four for 4-bit formats);
    :meth:`macs_per_cycle` gives each mode's."""

    formats: tuple = MULTIFORMAT_DEFAULT
    acc: object = "quire"
    gating: bool = False
    kind: ClassVar[str] = "multiformat"
    unit: ClassVar[str] = "MultiFormatMac"

    def __post_init__(self):
        names = (self.formats,) if isinstance(self.formats, (str, F.ScalarFormat)) else \
            tuple(self.formats)
        object.__setattr__(self, "formats", tuple(_fmt("MultiFormatMac", "formats", f)
                                                  for f in names))
        if self.acc != "quire":
            object.__setattr__(self, "acc", _float_acc("MultiFormatMac", self.acc))
        if not isinstance(self.gating, bool):
            raise DesignError(f"MultiFormatMac gating must be True or False, not "
                              f"{self.gating!r}")
        self._checked()

    a_fmt = property(lambda self: self.formats[0], doc="Lane format of mode 0.")
    b_fmt = a_fmt

    @property
    def accumulator(self):
        """Mode 0's golden accumulator (each mode has its own: :attr:`modes`)."""
        return self.prototype.modes[0].acc

    @property
    def modes(self) -> tuple:
        """The unit's :class:`~lowbit.hdl.multiformat_mac.FormatMode` of every mode."""
        return self.prototype.modes

    @property
    def name(self) -> str:
        acc = "quire" if self.acc == "quire" else self.acc.name
        return (f"multiformat_{'_'.join(f.name for f in self.formats)}_{acc}"
                f"{'_gated' if self.gating else ''}")

    def to_dict(self) -> dict:
        """Plain data (:meth:`DesignSpec.to_dict`), the formats as names."""
        return {**super().to_dict(), "formats": [f.name for f in self.formats]}

    def macs_per_cycle(self, fmt) -> int:
        """Products per cycle in the mode of ``fmt`` (a format or its name): its lanes."""
        fmt = _fmt("MultiFormatMac", "fmt", fmt)
        for mode in self.modes:
            if mode.fmt == fmt:
                return mode.lanes
        raise DesignError(f"{self.name} has no mode {fmt.name!r}; its modes are "
                          f"{', '.join(f.name for f in self.formats)}")

    @property
    def peak_macs_per_cycle(self) -> int:
        """Lanes of the widest-lane mode (four 4-bit lanes by default)."""
        return max(mode.lanes for mode in self.modes)

    def build(self):
        from lowbit.hdl.multiformat_mac import MultiFormatMac

        return MultiFormatMac(list(self.formats), acc=None if self.acc == "quire" else self.acc,
                              gating=self.gating)


MIXPE_DEFAULT_K_STEP = 4


@dataclass(frozen=True)
class MixPESpec(MacSpec):
    """:class:`~lowbit.hdl.mixpe.MixPE`: ``weight`` codes (int1..int4, uint1..uint4 with zero
    points, ternary) times ``act`` activations, groups of ``group`` along K with fp16 scales,
    ``k_step`` shift-add products per beat, group terms into the float accumulator ``acc``."""

    act: object = "int8"
    weight: str = "int4"
    group: int = 128
    acc: object = "fp32"
    k_step: int = MIXPE_DEFAULT_K_STEP
    kind: ClassVar[str] = "mixpe"
    unit: ClassVar[str] = "MixPE"

    def __post_init__(self):
        object.__setattr__(self, "act", _fmt("MixPE", "act", self.act))
        object.__setattr__(self, "acc", _float_acc("MixPE", self.acc))
        _check_int("MixPE", "group", self.group, 1, 1 << 16)
        _check_int("MixPE", "k_step", self.k_step, 1, 64)
        if not isinstance(self.weight, str):
            object.__setattr__(self, "weight", getattr(self.weight, "name", self.weight))
        self._checked()

    a_fmt = property(lambda self: self.act, doc="Format of the activations.")

    @property
    def b_fmt(self):
        """The weights' :class:`~lowbit.golden.mpgemm.GroupScheme`."""
        return self.prototype.scheme

    @property
    def name(self) -> str:
        k = "" if self.k_step == MIXPE_DEFAULT_K_STEP else f"_k{self.k_step}"
        return f"mixpe_{self.act.name}x{self.weight}_g{self.group}_{self.acc.name}{k}"

    @property
    def peak_macs_per_cycle(self) -> int:
        """``k_step`` products per cycle."""
        return self.k_step

    def build(self):
        from lowbit.hdl.mixpe import MixPE

        weight = self.weight if self.weight == "ternary" else _fmt("MixPE", "weight",
                                                                    self.weight)
        return MixPE(self.act, weight, group=self.group, acc=self.acc, k_step=self.k_step)


@dataclass(frozen=True)
class MixPEArraySpec(EngineSpec):
    """:class:`~lowbit.hdl.mixpe_array.MixPEArray`: ``rows x cols`` PEs of the MixPE design
    ``pe``."""

    rows: int = 4
    cols: int = 4
    pe: object = "mixpe_int8xint4_g128_fp32"
    kind: ClassVar[str] = "mixpearray"
    unit: ClassVar[str] = "MixPEArray"

    def __post_init__(self):
        _check_int("MixPEArray", "rows", self.rows, 1, 64)
        _check_int("MixPEArray", "cols", self.cols, 1, 64)
        pe = get(self.pe) if isinstance(self.pe, str) else self.pe
        if not isinstance(pe, MixPESpec):
            raise DesignError(f"MixPEArray pe must be a MixPE design (mixpe_...), not "
                              f"{getattr(pe, 'name', pe)!r}")
        object.__setattr__(self, "pe", pe)
        self._checked()

    @property
    def name(self) -> str:
        return f"mixpearray{self.rows}x{self.cols}_{self.pe.name}"

    @property
    def latency(self) -> int:
        """Edges from a tile's last beat to its results: the PE's."""
        return self.pe.latency

    def build(self):
        from lowbit.hdl.mixpe_array import MixPEArray

        return MixPEArray(self.rows, self.cols, self.pe.build())


def _parse_multiformat(rest):
    gating = rest.endswith("_gated")
    if gating:
        rest = rest[:-len("_gated")]

    def formats_then_acc(text, found):
        if found:
            try:
                acc = text if text == "quire" else _float_acc("MultiFormatMac", text)
            except LowbitError:
                acc = None
            if acc is not None:
                yield MultiFormatSpec(tuple(found), acc, gating)
        for i, ch in enumerate(text):
            if ch != "_" or i == 0:
                continue
            try:
                fmt = F.get(text[:i])
            except LowbitError:
                continue
            yield from formats_then_acc(text[i + 1:], found + [fmt])

    yield from formats_then_acc(rest, [])


def _parse_mixpe(rest):
    m = re.fullmatch(r"(.+)x(u?int\d|ternary)_g(\d+)_(.+?)(?:_k(\d+))?", rest)
    if m:
        yield MixPESpec(m[1], m[2], int(m[3]), m[4],
                        int(m[5]) if m[5] else MIXPE_DEFAULT_K_STEP)


def _parse_mixpearray(rest):
    m = re.fullmatch(r"(\d+)x(\d+)_(.+)", rest)
    if m:
        yield MixPEArraySpec(int(m[1]), int(m[2]), get(m[3]))


KINDS.update({
    "multiformat": (MultiFormatSpec, _parse_multiformat),
    "mixpe": (MixPESpec, _parse_mixpe),
    "mixpearray": (MixPEArraySpec, _parse_mixpearray),
})
_PREFIX_SEPARATOR["mixpearray"] = ""  # the prefix runs into R


# --- standard catalogue: the seed PEs (issue 24) and their comparisons' single-format units -----
# XR-NPE's multi-format MAC (exact and FP32 accumulation), the single-format MACs it is compared
# with (with floatmac_fp4_e2m1xfp4_e2m1_exact_fp32 and positmac_posit8_0_quire above), MixPE
# for three weight formats, its dequantize-then-multiply baseline PE and a small MixPE array
# (lowbit.reports.seed_pe_comparisons).
_STANDARD += (
    "multiformat_fp4_e2m1_posit4_1_posit8_0_posit16_1_quire",
    "multiformat_fp4_e2m1_posit4_1_posit8_0_posit16_1_fp32",
    "positmac_posit4_1_quire",
    "positmac_posit16_1_quire",
    "mixpe_fp16xint4_g128_fp32",
    "mixpe_fp16xint2_g128_fp32",
    "mixpe_fp16xternary_g128_fp32",
    "mixpe_int8xint4_g128_fp32",
    "floatmac_fp16xfp16_fp32",
    "mixpearray2x2_mixpe_fp16xint4_g128_fp32",
)
