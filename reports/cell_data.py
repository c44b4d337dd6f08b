"""Per-cell data of the generic gates: pin capacitance, delay, energy and leakage, one file.

``load_cell_data()`` reads ``reports/data/cells_nangate45.toml`` (or a file of the same form:
``load_cell_data(path)``), checks it and returns a :class:`CellData`. The file's header states
the technology and the rules its numbers follow (NanGate FreePDK45 X1 cells, typical corner;
derived by :mod:`lowbit.reports.nangate_cells`); timing (:mod:`lowbit.reports.timing`) and
switching-activity energy read the same object, so both describe the same gates.

Every table of numbers (``[library]``, ``[wire_load]``, each ``[cells."<type>"]``) must carry a
``source`` naming where its numbers come from; a file without one is refused.
"""

import hashlib
import math
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from lowbit.errors import LowbitError
from lowbit.reports.liberty import WireLoad

DEFAULT_PATH = Path(__file__).with_name("data") / "cells_nangate45.toml"


class CellDataError(LowbitError, ValueError):
    """A cell data file that is missing, malformed, or has numbers without a source."""


@dataclass(frozen=True)
class DelayLines:
    """Delay (ps) to a rising and to a falling output as lines in the load (fF):
    ``rise_ps + rise_ps_per_ff x load``, ``fall_ps + fall_ps_per_ff x load``."""

    rise_ps: float
    rise_ps_per_ff: float
    fall_ps: float
    fall_ps_per_ff: float


@dataclass(frozen=True)
class PinData:
    """One input pin: its library pin, capacitance (fF) and, for a gate, its ``sense``
    (``positive_unate``, ``negative_unate`` or ``non_unate``), its :class:`DelayLines` to the
    output and the internal energy per output transition it causes (fJ)."""

    name: str
    lib_pin: str
    cap_ff: float
    sense: str | None = None
    delay: DelayLines | None = None
    internal_fj: float | None = None


@dataclass(frozen=True)
class GateData:
    """A combinational generic cell: the library ``cell`` that implements it, its ``pins`` (in
    the generic cell's pin order), ``internal_fj`` (mean over pins) and ``leakage_nw``."""

    type: str
    cell: str
    pins: dict
    internal_fj: float
    leakage_nw: float
    source: str


@dataclass(frozen=True)
class FlipFlopData:
    """A generic flip-flop: clock-to-Q :class:`DelayLines` in the Q load, setup time for a
    rising and a falling D, energy per clock cycle with Q held (``clock_hold_fj``) and with Q
    changing (``clock_toggle_fj``), per transition of D (``data_fj``), leakage, and its pins
    (``C`` the clock, ``D``, asynchronous ``R``/``S``)."""

    type: str
    cell: str
    pins: dict
    clock_to_q: DelayLines
    setup_rise_ps: float
    setup_fall_ps: float
    clock_hold_fj: float
    clock_toggle_fj: float
    data_fj: float
    leakage_nw: float
    source: str


@dataclass(frozen=True)
class CellData:
    """The data of one technology (see the module docstring)."""

    path: str
    sha256: str
    library: str
    technology: str
    supply_v: float
    nominal_slew_ps: float
    nominal_load_ff: float
    wire_load: WireLoad
    gates: dict
    flip_flops: dict

    @property
    def types(self) -> tuple:
        """Every cell type the file prices: gates, then flip-flops."""
        return tuple(self.gates) + tuple(self.flip_flops)

    def cell(self, cell_type: str):
        """The :class:`GateData` or :class:`FlipFlopData` of ``cell_type``."""
        found = self.gates.get(cell_type) or self.flip_flops.get(cell_type)
        if found is None:
            raise CellDataError(f"cell data file {self.path} has no cell type {cell_type!r}; "
                                f"it prices {', '.join(self.types)}")
        return found


_LINES = ("rise_ps", "rise_ps_per_ff", "fall_ps", "fall_ps_per_ff")
_FF_FIELDS = ("setup_rise_ps", "setup_fall_ps", "clock_hold_fj", "clock_toggle_fj", "data_fj",
              "leakage_nw")
SENSES = ("positive_unate", "negative_unate", "non_unate")


def _lines(where, table):
    return DelayLines(*(_number(where, table, k) for k in _LINES))


def _number(where, table, key, low=0.0):
    value = table.get(key)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or \
            not math.isfinite(value) or value < low:
        raise CellDataError(f"{where} {key} must be a finite number of at least {low:g}, not "
                            f"{value!r}")
    return float(value)


def _source(where, table):
    source = table.get("source")
    if not isinstance(source, str) or not source.strip():
        raise CellDataError(f"{where} has no source: every table of numbers must name where "
                            f"they come from (source = \"...\")")
    return source


def _table(where, data, key):
    table = data.get(key)
    if not isinstance(table, dict):
        raise CellDataError(f"{where} has no [{key}] table")
    return table


def _pins(where, cell, gate):
    pins = cell.get("pins")
    if not isinstance(pins, dict) or not pins:
        raise CellDataError(f"{where} has no pins table")
    out = {}
    for name, pin in pins.items():
        at = f"{where} pin {name}"
        if not isinstance(pin, dict) or not isinstance(pin.get("lib_pin"), str):
            raise CellDataError(f"{at} must be {{ lib_pin = \"...\", cap_ff = ... }}")
        extra = {}
        if gate:
            if pin.get("sense") not in SENSES:
                raise CellDataError(f"{at} sense must be one of {', '.join(SENSES)}, not "
                                    f"{pin.get('sense')!r}")
            extra = {"sense": pin["sense"], "delay": _lines(at, pin),
                     "internal_fj": _number(at, pin, "internal_fj")}
        out[name] = PinData(name, pin["lib_pin"], _number(at, pin, "cap_ff"), **extra)
    return out


def cell_data_from_toml(text: str, path: str = "cell data") -> CellData:
    """A checked :class:`CellData` from the TOML ``text``; ``path`` names it in errors."""
    where = f"cell data file {path}"
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise CellDataError(f"{where} is not valid TOML: {err}") from None
    lib = _table(where, data, "library")
    _source(f"{where} [library]", lib)
    wl = _table(where, data, "wire_load")
    _source(f"{where} [wire_load]", wl)
    points = wl.get("fanout_length")
    if not isinstance(points, list) or not all(isinstance(p, list) and len(p) == 2
                                               for p in points):
        raise CellDataError(f"{where} [wire_load] fanout_length must be a list of "
                            f"[fanout, length] pairs")
    wire = WireLoad(str(wl.get("model", "")), _number(f"{where} [wire_load]", wl,
                                                      "cap_per_length_ff"),
                    _number(f"{where} [wire_load]", wl, "slope"),
                    tuple((float(f), float(x)) for f, x in points))
    cells = _table(where, data, "cells")
    gates, flops = {}, {}
    for name, cell in cells.items():
        at = f"{where} [cells.\"{name}\"]"
        if not isinstance(cell, dict):
            raise CellDataError(f"{at} must be a table")
        source = _source(at, cell)
        if not isinstance(cell.get("cell"), str):
            raise CellDataError(f"{at} must name the library cell (cell = \"...\")")
        if "clock_to_q" in cell:
            numbers = {k: _number(at, cell, k) for k in _FF_FIELDS}
            if not isinstance(cell["clock_to_q"], dict):
                raise CellDataError(f"{at} clock_to_q must be a table of {', '.join(_LINES)}")
            pins = _pins(at, cell, gate=False)
            for need in ("C", "D"):
                if need not in pins:
                    raise CellDataError(f"{at} flip-flop needs pins C (clock) and D")
            flops[name] = FlipFlopData(name, cell["cell"], pins,
                                       _lines(f"{at} clock_to_q", cell["clock_to_q"]),
                                       source=source, **numbers)
        else:
            gates[name] = GateData(name, cell["cell"], _pins(at, cell, gate=True),
                                   _number(at, cell, "internal_fj"),
                                   _number(at, cell, "leakage_nw"), source)
    if not flops:
        raise CellDataError(f"{where} prices no flip-flop (a cell with clock_to_q)")
    return CellData(path, hashlib.sha256(text.encode()).hexdigest(), str(lib.get("name", "")),
                    str(lib.get("technology", "")),
                    _number(f"{where} [library]", lib, "supply_v", 1e-3),
                    _number(f"{where} [library]", lib, "nominal_slew_ps"),
                    _number(f"{where} [library]", lib, "nominal_load_ff"), wire, gates, flops)


def load_cell_data(path=None) -> CellData:
    """The :class:`CellData` of ``path`` (default: the NanGate FreePDK45 file), read once."""
    path = Path(path) if path is not None else DEFAULT_PATH
    if not path.is_file():
        raise CellDataError(f"cell data file {str(path)!r} does not exist")
    text = path.read_text()
    return _load(str(path), text)


@lru_cache(maxsize=8)
def _load(path, text):
    return cell_data_from_toml(text, path)
