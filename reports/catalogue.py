"""The units and engines ``lowbit synth`` knows by name, their parameters and defaults.

``build_design("FloatMac", {"a": "fp4_e2m1"})`` builds a FloatMac from text parameters
(``--param a=fp4_e2m1`` on the command line) with every other parameter at its default, and
returns a :class:`~lowbit.reports.synthesis.Design` named after the non-default parameters
(``floatmac_a_fp4_e2m1``). Engines take a ``pe`` parameter naming a MAC unit; the PE's own
parameters are accepted alongside the engine's (``SystolicArray pe=FloatMac a=fp4_e2m1``).

:data:`STANDARD` is the standard catalogue (``lowbit synth --all``, the committed baselines):
every unit and engine at its defaults, plus the variants the sanity relations and the published
comparisons need.
"""

import re
from dataclasses import dataclass

from lowbit.errors import LowbitError, did_you_mean
from lowbit.golden import formats as F
from lowbit.golden.accumulators import ExactAccumulator, FixedAccumulator, FloatAccumulator, Quire
from lowbit.hdl.adder_tree_engine import AdderTreeEngine
from lowbit.hdl.float_mac import FloatMac
from lowbit.hdl.int_mac import IntMac
from lowbit.hdl.lut_tensor_core import LutTensorCore
from lowbit.hdl.mx_dot import MxDotUnit
from lowbit.hdl.posit_mac import PositMac
from lowbit.hdl.simd_mac import SimdMac, SimdMode
from lowbit.hdl.systolic_array import SystolicArray
from lowbit.reports.synthesis import Design, design_from_component


class CatalogueError(LowbitError, ValueError):
    """An unknown unit, an unknown parameter or a parameter value that does not parse."""


def _int(text):
    if not re.fullmatch(r"-?\d+", text):
        raise ValueError("an integer")
    return int(text)


def _bool(text):
    if text.lower() not in ("true", "false", "1", "0", "yes", "no"):
        raise ValueError("true or false")
    return text.lower() in ("true", "1", "yes")


def _pair(text):
    m = re.fullmatch(r"(\d+)x(\d+)", text)
    if not m:
        raise ValueError("ROWSxCOLS such as 2x16")
    return int(m.group(1)), int(m.group(2))


def _float_acc(out, kind, rounding):
    fmt = F.get(out)
    if kind == "exact":
        return ExactAccumulator(fmt, rounding)
    if kind == "float":
        return FloatAccumulator(fmt, rounding)
    raise CatalogueError(f"accumulator must be one of 'float', 'exact', not {kind!r}"
                         f"{did_you_mean(kind, ('float', 'exact'))}")


@dataclass(frozen=True)
class Unit:
    """A buildable unit: ``defaults`` (text values, in order), ``parsers`` and ``build``."""

    name: str
    defaults: dict
    parsers: dict
    build: object
    help: str

    def parse(self, params: dict) -> dict:
        """Text parameters merged over the defaults, parsed; errors name the bad parameter."""
        allowed = self.allowed(params)
        unknown = [k for k in params if k not in allowed]
        if unknown:
            raise CatalogueError(f"{self.name} has no parameter {unknown[0]!r}; it takes "
                                 f"{', '.join(allowed)}{did_you_mean(unknown[0], allowed)}")
        values = {}
        for key, default in allowed.items():
            text = str(params.get(key, default))
            parser = self.parsers.get(key) or self._pe_unit(params).parsers.get(key) or str
            try:
                values[key] = parser(text)
            except ValueError as err:
                raise CatalogueError(f"{self.name} parameter {key} must be {err}, "
                                     f"not {text!r}") from None
        return values

    def allowed(self, params: dict) -> dict:
        """Parameter names with default text: the unit's, plus its PE's for an engine."""
        return dict(self.defaults) | dict(self._pe_unit(params).defaults)

    def _pe_unit(self, params: dict) -> "Unit":
        """The MAC unit an engine's ``pe`` names; an empty Unit for a unit without one."""
        if "pe" not in self.defaults:
            return Unit("", {}, {}, None, "")
        pe = UNITS.get(params.get("pe", self.defaults["pe"]))
        if pe is None or "pe" in pe.defaults:
            macs = ", ".join(n for n, u in UNITS.items() if "pe" not in u.defaults)
            raise CatalogueError(f"{self.name} parameter pe must be one of {macs}, not "
                                 f"{params.get('pe')!r}{did_you_mean(params.get('pe'), UNITS)}")
        return pe


def _pe(values):
    unit = UNITS[values["pe"]]
    return unit.build({k: values[k] for k in unit.defaults})


def _int_mac(v):
    a, b = F.get(v["a"]), F.get(v["b"])
    return IntMac(a, b, acc=FixedAccumulator.for_products(v["acc_bits"], a, b, v["overflow"]))


UNITS = {u.name: u for u in (
    Unit("IntMac", {"a": "int8", "b": "int8", "acc_bits": "32", "overflow": "wrap"},
         {"acc_bits": _int}, _int_mac,
         "integer/fixed-point MAC into an acc_bits register (wrap or saturate)"),
    Unit("FloatMac", {"a": "fp8_e4m3", "b": "fp8_e4m3", "acc": "fp32", "accumulator": "float",
                      "rounding": "rne"}, {},
         lambda v: FloatMac(F.get(v["a"]), F.get(v["b"]),
                            acc=_float_acc(v["acc"], v["accumulator"], v["rounding"])),
         "minifloat MAC; accumulator float (rounds every step) or exact (Kulisch)"),
    Unit("PositMac", {"fmt": "posit8_0", "quire": "2022"}, {},
         lambda v: PositMac(F.get(v["fmt"]), quire=Quire(F.get(v["fmt"]), v["quire"])),
         "posit MAC with a quire (2022 standard or draft size)"),
    Unit("SimdMac", {"shapes": "8x8,4x4,8x4,2x2", "acc_bits": "24", "overflow": "wrap"},
         {"acc_bits": _int},
         lambda v: SimdMac([SimdMode.preset(s, acc=FixedAccumulator(v["acc_bits"], 0,
                                                                    v["overflow"]))
                            for s in v["shapes"].split(",")]),
         "mode-switchable SIMD integer MAC (one mode per shape)"),
    Unit("MxDotUnit", {"block": "mxfp8_e4m3", "acc": "fp32", "accumulator": "float",
                       "rounding": "rne"}, {},
         lambda v: MxDotUnit(F.get(v["block"]),
                             acc=_float_acc(v["acc"], v["accumulator"], v["rounding"])),
         "MX/NVFP4 block dot-product unit: one block pair per cycle"),
    Unit("SystolicArray", {"rows": "4", "cols": "4", "dataflow": "ws", "pe": "IntMac"},
         {"rows": _int, "cols": _int},
         lambda v: SystolicArray(v["rows"], v["cols"], _pe(v), v["dataflow"]),
         "rows x cols array of a MAC unit, weight- or output-stationary"),
    Unit("AdderTreeEngine", {"lanes": "8", "pe": "IntMac"}, {"lanes": _int},
         lambda v: AdderTreeEngine(v["lanes"], _pe(v)),
         "lanes products per cycle through a pipelined adder tree"),
    Unit("LutTensorCore", {"weight_bits": "2", "group": "4", "act": "int8", "tile": "2x16",
                           "encoding": "offset", "symmetric": "false", "acc_bits": "32"},
         {"weight_bits": _int, "group": _int, "tile": _pair, "symmetric": _bool,
          "acc_bits": _int},
         lambda v: LutTensorCore(v["weight_bits"], v["group"], F.get(v["act"]), v["tile"],
                                 weight_encoding=v["encoding"],
                                 symmetric_table=v["symmetric"], acc_bits=v["acc_bits"]),
         "lookup-table mixed-precision GEMM core (bit-serial over weight planes)"),
)}


def get_unit(name: str) -> Unit:
    """The unit called ``name`` (case-insensitive); one error listing the known units."""
    for key, unit in UNITS.items():
        if key.lower() == str(name).lower():
            return unit
    raise CatalogueError(f"unit must be one of {', '.join(UNITS)}, not {name!r}"
                         f"{did_you_mean(name, UNITS)}")


def design_name(unit: Unit, params: dict) -> str:
    """``<unit>`` plus ``_<key>_<value>`` for each parameter given away from its default."""
    allowed = unit.allowed(params)
    parts = [unit.name.lower()]
    for key in allowed:
        if key in params and str(params[key]) != allowed[key]:
            parts += [key, re.sub(r"\W", "_", str(params[key]).replace(",", "_"))]
    return "_".join(parts)


def build_design(unit_name: str, params: dict | None = None) -> Design:
    """Build ``unit_name`` with text ``params`` over its defaults, as a named Design."""
    unit = get_unit(unit_name)
    params = {k: str(v) for k, v in (params or {}).items()}
    values = unit.parse(params)
    try:
        component = unit.build(values)
    except LowbitError as err:
        if str(err).startswith(unit.name):  # names the unit already: "SystolicArray dataflow ..."
            raise CatalogueError(str(err)) from None
        raise CatalogueError(f"{unit.name} {_text(params)}: {err}") from None
    return design_from_component(component, design_name(unit, params), unit.name,
                                 unit.allowed(params) | params)


def _text(params):
    return " ".join(f"{k}={v}" for k, v in params.items()) or "(defaults)"


#: The standard catalogue: (unit, non-default parameters).
STANDARD = (
    ("IntMac", {}),
    ("IntMac", {"a": "int4", "b": "int4"}),
    ("IntMac", {"a": "int16", "b": "int16", "acc_bits": "48"}),
    ("IntMac", {"a": "int6", "b": "int6"}),
    ("FloatMac", {}),
    ("FloatMac", {"accumulator": "exact"}),
    ("FloatMac", {"a": "fp8_e5m2", "b": "fp8_e5m2"}),
    ("FloatMac", {"a": "fp8_e5m2", "b": "fp8_e5m2", "accumulator": "exact"}),
    ("FloatMac", {"a": "fp6_e3m2", "b": "fp6_e3m2"}),
    ("FloatMac", {"a": "fp4_e2m1", "b": "fp4_e2m1"}),
    ("FloatMac", {"a": "fp4_e2m1", "b": "fp4_e2m1", "accumulator": "exact"}),
    ("FloatMac", {"a": "fp6_e3m2", "b": "fp6_e3m2", "accumulator": "exact"}),
    ("PositMac", {}),
    ("SimdMac", {}),
    ("MxDotUnit", {}),
    ("MxDotUnit", {"block": "mxint8"}),
    ("MxDotUnit", {"block": "mxfp4"}),
    ("SystolicArray", {}),
    ("SystolicArray", {"rows": "2", "cols": "2"}),
    ("SystolicArray", {"rows": "8", "cols": "8"}),
    ("SystolicArray", {"dataflow": "os"}),
    ("AdderTreeEngine", {}),
    ("LutTensorCore", {}),
)


def standard_names() -> list:
    """Design names of :data:`STANDARD`, without building anything."""
    return [design_name(get_unit(u), p) for u, p in STANDARD]


def standard_designs(select=None) -> list:
    """Designs of :data:`STANDARD` (or of the ``(unit, params)`` pairs in ``select``)."""
    return [build_design(u, p) for u, p in (STANDARD if select is None else select)]
