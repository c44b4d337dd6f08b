"""Liberty (.lib) cell libraries: the parts timing and energy read, in lowbit's units.

``read_liberty(path)`` parses a Liberty file (the text format of standard-cell libraries:
groups ``name (args) { ... }``, attributes ``name : value ;`` and ``name (args) ;``) and
returns a :class:`Library`: every cell with its area, pins (direction, rise and fall input
capacitance, function), timing arcs (NLDM lookup tables ``cell_rise``, ``cell_fall``,
``rise_transition``, ``fall_transition`` and setup constraints), flip-flop group (with its
state variables), internal power tables (``internal_power``), leakage (``cell_leakage_power``,
else the mean of the state-dependent ``leakage_power`` groups), plus the library's wire-load
models. Numbers are converted to lowbit's units whatever the file's own units: time in ps,
capacitance in fF, leakage in nW, energy in fJ (a Liberty internal-power table holds energy in
capacitance unit x voltage unit squared).

Only what the timing and activity models use is interpreted; other groups are kept as parsed
:class:`Group` trees (:attr:`Library.root`).
"""

import functools
import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from lowbit.errors import LowbitError


class LibertyError(LowbitError, ValueError):
    """A Liberty file that does not parse, or that lacks what a model needs."""


# --- the file format ----------------------------------------------------------------------
@dataclass
class Group:
    """One Liberty group: ``kind (args) { attributes; subgroups }``."""

    kind: str
    args: tuple
    attributes: dict = field(default_factory=dict)  # name -> str (simple) or tuple (complex)
    groups: list = field(default_factory=list)
    #: every value of each complex attribute, in order (``fanout_length`` repeats)
    repeated: dict = field(default_factory=dict)

    def all(self, kind: str) -> list:
        """Subgroups of ``kind``, in file order."""
        return [g for g in self.groups if g.kind == kind]

    def first(self, kind: str):
        """The first subgroup of ``kind``, or None."""
        return next((g for g in self.groups if g.kind == kind), None)

    @property
    def name(self) -> str:
        """The group's first argument (a cell's or pin's name), '' without one."""
        return self.args[0] if self.args else ""


_TOKEN = re.compile(r'/\*.*?\*/|//[^\n]*|"(?:[^"\\]|\\.)*"|\\\s*\n|[{}():;,]|[^\s{}():;,"\\]+',
                    re.S)


def _tokens(text: str) -> list:
    out = []
    for m in _TOKEN.finditer(text):
        tok = m.group()
        if tok.startswith(("/*", "//", "\\")):
            continue
        out.append(tok)
    return out


def _unquote(tok: str) -> str:
    return tok[1:-1].replace("\\\n", "") if tok.startswith('"') else tok


def parse(text: str, source: str = "liberty text") -> Group:
    """The top-level ``library`` group of Liberty ``text``; ``source`` names it in errors."""
    toks = _tokens(text)
    pos = 0

    def fail(what):
        raise LibertyError(f"{source} does not parse as Liberty: {what} (token {pos} of "
                           f"{len(toks)})")

    def group_body(group, top=False):
        nonlocal pos
        while pos < len(toks):
            tok = toks[pos]
            if tok == "}":
                pos += 1
                return group
            if tok == ";":
                pos += 1
                continue
            name = tok
            pos += 1
            if pos >= len(toks):
                fail(f"the file ends after {name!r}")
            if toks[pos] == ":":
                pos += 1
                words = []
                while pos < len(toks) and toks[pos] not in (";", "}"):
                    words.append(_unquote(toks[pos]))
                    pos += 1
                group.attributes[name] = " ".join(words)
            elif toks[pos] == "(":
                pos += 1
                args = []
                while pos < len(toks) and toks[pos] != ")":
                    if toks[pos] != ",":
                        args.append(_unquote(toks[pos]))
                    pos += 1
                pos += 1
                if pos < len(toks) and toks[pos] == "{":
                    pos += 1
                    group.groups.append(group_body(Group(name, tuple(args))))
                else:
                    group.attributes[name] = tuple(args)
                    group.repeated.setdefault(name, []).append(tuple(args))
            else:
                fail(f"expected ':' or '(' after {name!r}, found {toks[pos]!r}")
        if not top:
            fail("a group is not closed ('}' missing)")
        return group

    if len(toks) < 4 or toks[0] != "library" or toks[1] != "(":
        raise LibertyError(f"{source} is not a Liberty library (it must start with "
                           f"'library (name) {{')")
    root = group_body(Group("", ()), top=True)
    lib = root.first("library")
    if lib is None:
        raise LibertyError(f"{source} is not a Liberty library (no library group)")
    return lib


# --- the library model --------------------------------------------------------------------
@dataclass(frozen=True)
class Table:
    """An NLDM lookup table: ``values[i, j]`` at ``index_1[i]``, ``index_2[j]``, in lowbit units.

    ``index_1`` is the input (or constrained-pin) transition in ps; ``index_2`` the output load
    in fF (or the related-pin transition in ps for a constraint); a one-dimensional table has
    one ``index_2`` point; a scalar table one point on each axis.
    """

    index_1: np.ndarray
    index_2: np.ndarray
    values: np.ndarray

    def lookup(self, x, y):
        """Bilinear interpolation at ``(x, y)``, extrapolating linearly past the table's edges
        (the rule of Liberty tools and ABC's ``Scl_LibLookup``); scalars or arrays."""
        x, y = np.asarray(x, float), np.asarray(y, float)
        i1, i2, v = self.index_1, self.index_2, self.values
        if len(i1) == 1 and len(i2) == 1:
            return np.broadcast_to(v[0, 0], np.broadcast(x, y).shape).astype(float)
        s = np.clip(np.searchsorted(i1, x, side="right") - 1, 0, max(len(i1) - 2, 0))
        l_ = np.clip(np.searchsorted(i2, y, side="right") - 1, 0, max(len(i2) - 2, 0))
        if len(i1) == 1:
            return _lerp(i2[l_], i2[l_ + 1], v[0, l_], v[0, l_ + 1], y)
        if len(i2) == 1:
            return _lerp(i1[s], i1[s + 1], v[s, 0], v[s + 1, 0], x)
        p0 = _lerp(i2[l_], i2[l_ + 1], v[s, l_], v[s, l_ + 1], y)
        p1 = _lerp(i2[l_], i2[l_ + 1], v[s + 1, l_], v[s + 1, l_ + 1], y)
        return _lerp(i1[s], i1[s + 1], p0, p1, x)


def _lerp(x0, x1, y0, y1, x):
    return y0 + (x - x0) / (x1 - x0) * (y1 - y0)


@dataclass(frozen=True)
class Pin:
    """A cell pin: ``direction`` ('input', 'output', 'inout'), input capacitance in fF for a
    rising and a falling transition, ``function`` (outputs), ``clock`` (a clock input)."""

    name: str
    direction: str
    cap_rise_ff: float = 0.0
    cap_fall_ff: float = 0.0
    function: str | None = None
    clock: bool = False


@dataclass(frozen=True)
class Arc:
    """A timing arc from ``related_pin`` to ``pin``: ``kind`` is 'combinational',
    'rising_edge'/'falling_edge' (a clock-to-output launch), 'setup_rising'/'setup_falling'
    (a constraint on ``pin`` from clock ``related_pin``) or another Liberty ``timing_type``;
    ``sense`` 'positive_unate', 'negative_unate' or 'non_unate'; ``tables`` by Liberty name
    (``cell_rise`` ... ``rise_constraint``, ``fall_constraint``)."""

    related_pin: str
    pin: str
    kind: str
    sense: str
    when: str | None
    tables: dict


@dataclass(frozen=True)
class PowerArc:
    """Internal energy of ``pin`` (fJ per transition; tables by 'rise_power'/'fall_power'),
    related to input ``related_pin`` (None for a pin's own hidden power), under ``when``."""

    pin: str
    related_pin: str | None
    when: str | None
    tables: dict


@dataclass(frozen=True)
class Cell:
    """One library cell."""

    name: str
    area: float
    pins: dict
    arcs: tuple
    power: tuple
    leakage_nw: float | None
    #: ``{"clocked_on": ..., "next_state": ..., "clear": ..., "preset": ...}`` of an ``ff``
    #: group; None for a combinational cell.
    ff: dict | None
    latch: bool
    #: The ``ff`` group's state variables (``("IQ", "IQN")``), which output functions name.
    ff_state: tuple = ()

    @property
    def inputs(self) -> tuple:
        """Input pin names in file order."""
        return tuple(p for p, pin in self.pins.items() if pin.direction == "input")

    @property
    def outputs(self) -> tuple:
        """Output pin names in file order."""
        return tuple(p for p, pin in self.pins.items() if pin.direction == "output")


@dataclass(frozen=True)
class WireLoad:
    """A wire-load model: capacitance in fF per unit length, the extrapolation slope (length
    per fanout) and ``(fanout, length)`` points."""

    name: str
    cap_per_length_ff: float
    slope: float
    fanout_length: tuple

    def cap_ff(self, fanout):
        """Wire capacitance (fF) of a net with ``fanout`` loads: lengths interpolated between
        the model's points, extrapolated past the last with ``slope`` (the Liberty rule, as
        ABC's ``Abc_SclFindWireCaps``); 0 for no load."""
        f = np.asarray(fanout, float)
        pts = np.array(self.fanout_length, float)
        if not len(pts):
            return np.zeros_like(f)
        fx, lx = pts[:, 0], pts[:, 1]
        length = np.interp(f, np.concatenate([[0.0], fx]), np.concatenate([[0.0], lx]))
        length = np.where(f > fx[-1], lx[-1] + self.slope * (f - fx[-1]), length)
        return np.where(f > 0, length * self.cap_per_length_ff, 0.0)


@dataclass(frozen=True)
class Library:
    """A parsed Liberty library in lowbit units (see the module docstring).

    Cells are parsed when first asked for (:meth:`cell`): a large library (NanGate's is
    6.7 MB) loads in a fraction of a second when a netlist uses a dozen of its cells.
    """

    name: str
    path: str
    sha256: str
    wire_loads: dict
    default_wire_load: str | None
    nom_voltage: float | None
    #: The library group without its cells (units, templates, wire loads, operating points).
    root: Group
    _cell_text: dict = field(repr=False)
    _units: tuple = field(repr=False)
    _parsed: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def cell_names(self) -> tuple:
        """Every cell name, in file order."""
        return tuple(self._cell_text)

    @property
    def has_delay_tables(self) -> bool:
        """Whether any cell holds NLDM delay tables (``cell_rise``/``cell_fall``)."""
        return any("cell_rise" in t or "cell_fall" in t for t in self._cell_text.values())

    @property
    def wire_load(self) -> WireLoad | None:
        """The library's default wire-load model, None if it names none."""
        return self.wire_loads.get(self.default_wire_load) if self.default_wire_load else None

    def cell(self, name: str) -> Cell:
        """The cell called ``name``; one error naming the library otherwise."""
        if name not in self._parsed:
            if name not in self._cell_text:
                raise LibertyError(f"liberty library {self.name!r} ({self.path}) has no cell "
                                   f"{name!r}")
            group = parse(self._cell_text[name], f"{self.path} cell {name}").first("cell")
            templates = {g.name: g for g in self.root.groups
                         if g.kind in ("lu_table_template", "power_lut_template")}
            self._parsed[name] = _cell(group, templates, self._units, self.path)
        return self._parsed[name]


_TIME = {"1ps": 1.0, "10ps": 10.0, "100ps": 100.0, "1ns": 1e3, "10ns": 1e4, "100ns": 1e5}
_CAP = {"ff": 1.0, "pf": 1e3, "nf": 1e6}
_POWER = {"1pw": 1e-3, "10pw": 1e-2, "100pw": 0.1, "1nw": 1.0, "10nw": 10.0, "100nw": 100.0,
          "1uw": 1e3, "10uw": 1e4, "100uw": 1e5, "1mw": 1e6}
_VOLT = {"1v": 1.0, "1mv": 1e-3, "10mv": 1e-2, "100mv": 0.1}


def _unit(table, text, what, source, default):
    if text is None:
        return default
    key = str(text).strip().lower().replace(" ", "")
    if key not in table:
        raise LibertyError(f"{source}: {what} {text!r} is not a unit lowbit reads (known: "
                           f"{', '.join(table)})")
    return table[key]


def _floats(text, where):
    try:
        return [float(x) for x in str(text).replace(",", " ").split()]
    except ValueError:
        raise LibertyError(f"{where}: {text!r} is not a list of numbers") from None


def _table(group, templates, scale_1, scale_2, scale_v, where) -> Table:
    template = templates.get(group.name) if group.args else None
    variables = [None, None]
    idx = [None, None]
    if template is not None:
        variables = [template.attributes.get("variable_1"), template.attributes.get("variable_2")]
        for k in (0, 1):
            if f"index_{k + 1}" in template.attributes:
                idx[k] = _floats(" ".join(template.attributes[f"index_{k + 1}"]), where)
    for k in (0, 1):
        if f"index_{k + 1}" in group.attributes:
            idx[k] = _floats(" ".join(group.attributes[f"index_{k + 1}"]), where)
    rows = group.attributes.get("values")
    if rows is None:
        raise LibertyError(f"{where}: table {group.kind} has no values")
    values = np.array([_floats(r, where) for r in rows], float)
    if group.name == "scalar" or (idx[0] is None and idx[1] is None):
        return Table(np.zeros(1), np.zeros(1), values.reshape(1, 1) * scale_v)
    scales = [scale_1, scale_2]
    # the variable order of a template may put the load first: always store (transition, load)
    if variables[0] and "capacitance" in variables[0]:
        idx = [idx[1], idx[0]]
        values = values.T if idx[0] is not None else values.reshape(-1, 1)
    if idx[1] is None:
        values = values.reshape(-1, 1)
        idx[1] = [0.0]
        scales[1] = 1.0
    if values.shape != (len(idx[0]), len(idx[1])):
        raise LibertyError(f"{where}: table {group.kind} has {values.shape[0]}x"
                           f"{values.shape[1]} values for {len(idx[0])}x{len(idx[1])} "
                           f"index points")
    return Table(np.array(idx[0]) * scales[0], np.array(idx[1]) * scales[1], values * scale_v)


_DELAY_TABLES = ("cell_rise", "cell_fall", "rise_transition", "fall_transition")
_CONSTRAINT_TABLES = ("rise_constraint", "fall_constraint")
_POWER_TABLES = ("rise_power", "fall_power", "power")


def _cell(group, templates, units, source) -> Cell:
    t_unit, c_unit, p_unit, e_unit = units
    name = group.name
    pins, arcs, power = {}, [], []
    for pin in group.all("pin"):
        a = pin.attributes
        cap = float(a.get("capacitance", 0.0) or 0.0)
        pins[pin.name] = Pin(pin.name, a.get("direction", ""),
                             float(a.get("rise_capacitance", cap)) * c_unit,
                             float(a.get("fall_capacitance", cap)) * c_unit,
                             a.get("function"), a.get("clock", "false") == "true")
        for timing in pin.all("timing"):
            t = timing.attributes
            related = t.get("related_pin", "").split()
            kind = t.get("timing_type", "combinational")
            constraint = kind.startswith(("setup", "hold", "recovery", "removal"))
            names = _CONSTRAINT_TABLES if constraint else _DELAY_TABLES
            # a constraint's index_2 is the related (clock) pin's transition: time, not load
            tables = {g.kind: _table(g, templates, t_unit, t_unit if constraint else c_unit,
                                     t_unit, f"{source} cell {name} pin {pin.name}")
                      for g in timing.groups if g.kind in names}
            for rel in related:
                arcs.append(Arc(rel, pin.name, kind, t.get("timing_sense", "non_unate"),
                                t.get("when"), tables))
        for ip in pin.all("internal_power"):
            tables = {g.kind: _table(g, templates, t_unit, c_unit, e_unit,
                                     f"{source} cell {name} pin {pin.name}")
                      for g in ip.groups if g.kind in _POWER_TABLES}
            rels = ip.attributes.get("related_pin", "").split() or [None]
            for rel in rels:
                power.append(PowerArc(pin.name, rel, ip.attributes.get("when"), tables))
    ff = group.first("ff") or group.first("ff_bank")
    return Cell(name, float(group.attributes.get("area", 0.0) or 0.0), pins, tuple(arcs),
                tuple(power), _leakage(group, p_unit),
                dict(ff.attributes) if ff is not None else None,
                group.first("latch") is not None or group.first("latch_bank") is not None,
                tuple(ff.args) if ff is not None else ())


def _leakage(group, p_unit) -> float | None:
    """Leakage power (nW): ``cell_leakage_power``, else the mean ``value`` of the cell's
    state-dependent ``leakage_power`` groups (every state taken as equally likely), else
    None."""
    leak = group.attributes.get("cell_leakage_power")
    if leak is not None:
        return float(leak) * p_unit
    values = [float(g.attributes["value"]) for g in group.all("leakage_power")
              if "value" in g.attributes]
    return sum(values) / len(values) * p_unit if values else None


def _wire_load(group, c_unit) -> WireLoad:
    a = group.attributes
    points = tuple(sorted((float(f), float(length))
                          for f, length in group.repeated.get("fanout_length", ())))
    return WireLoad(group.name, float(a.get("capacitance", 0.0)) * c_unit,
                    float(a.get("slope", 0.0)), points)


_COMMENT = re.compile(r"/\*.*?\*/", re.S)
_CELL_HEAD = re.compile(r"\bcell\s*\(\s*\"?([^\s\")]+)\"?\s*\)\s*$")


def _split_cells(text: str) -> tuple:
    """``(library text without its cells, {cell name: 'library (x) { cell (...) {...} }'})``:
    cells are cut out by brace matching at depth 1, to be parsed on demand."""
    cells, keep, last, depth, head = {}, [], 0, 0, None
    for m in re.finditer(r"[{}]", text):
        if m.group() == "{":
            depth += 1
            if depth == 2:
                start = max(text.rfind(";", 0, m.start()), text.rfind("}", 0, m.start()),
                            text.rfind("{", 0, m.start())) + 1
                head = _CELL_HEAD.search(text[start:m.start()].strip())
                if head:
                    keep.append(text[last:start])
                    head = (head.group(1), start)
        else:
            depth -= 1
            if depth == 1 and head:
                name, start = head
                cells[name] = "library (cells) {\n" + text[start:m.end()] + "\n}\n"
                last, head = m.end(), None
    keep.append(text[last:])
    return "".join(keep), cells


def library_from_text(text: str, path: str = "liberty text") -> Library:
    """A :class:`Library` from Liberty ``text``; ``path`` names it in errors."""
    digest = hashlib.sha256(text.encode()).hexdigest()
    outer, cells = _split_cells(_COMMENT.sub(" ", text).replace("\\\n", " "))
    root = parse(outer, path)
    a = root.attributes
    time, cap = (_unit(_TIME, a.get("time_unit"), "time_unit", path, 1e3),
                 _CAP[_cap_unit(a.get("capacitive_load_unit"), path)])
    leak = _unit(_POWER, a.get("leakage_power_unit"), "leakage_power_unit", path, 1.0)
    volt = _unit(_VOLT, a.get("voltage_unit"), "voltage_unit", path, 1.0)
    # internal power: energy in capacitance unit x voltage unit^2, converted to fJ
    units = (time, cap, leak, cap * volt * volt)
    wire_loads = {g.name: _wire_load(g, cap) for g in root.all("wire_load")}
    nom = a.get("nom_voltage")
    return Library(root.name, path, digest, wire_loads, a.get("default_wire_load") or None,
                   float(nom) * volt if nom is not None else None, root, cells, units)


def _cap_unit(value, source) -> str:
    if value is None:
        return "pf"  # the Liberty default
    if isinstance(value, tuple) and len(value) == 2:
        scale, unit = value
        key = unit.strip().lower()
        if key in _CAP and float(scale) == 1.0:
            return key
    raise LibertyError(f"{source}: capacitive_load_unit {value!r} is not a unit lowbit reads "
                       f"(known: (1,ff), (1,pf))")


def subset_text(path, cells) -> str:
    """Liberty text of the library at ``path`` keeping only ``cells`` (and everything outside
    cells: units, templates, wire loads); comments dropped."""
    outer, found = _split_cells(_COMMENT.sub(" ", Path(path).read_text()).replace("\\\n", " "))
    missing = sorted(set(cells) - set(found))
    if missing:
        raise LibertyError(f"liberty file {str(path)!r} has no cell {', '.join(missing)}")
    body = outer.rstrip()
    if not body.endswith("}"):
        raise LibertyError(f"liberty file {str(path)!r} does not end its library group")
    parts = [found[c][found[c].index("{") + 1:found[c].rindex("}")] for c in cells]
    return body[:-1] + "".join(parts) + "}\n"


def read_liberty(path) -> Library:
    """The :class:`Library` of the Liberty file at ``path`` (parsed once per file content)."""
    path = Path(path)
    if not path.is_file():
        raise LibertyError(f"liberty file {str(path)!r} does not exist")
    data = path.read_bytes()
    return _cached(hashlib.sha256(data).hexdigest(), data, str(path))


@functools.lru_cache(maxsize=8)
def _cached(digest, data, path):
    return library_from_text(data.decode(errors="replace"), path)
