"""Static timing of a synthesized netlist: critical path delay, the path itself, Fmax and
logic depth, from a per-cell delay model.

Two delay models, one engine:

* :class:`LinearModel` (the ``generic`` target): every generic cell is a NanGate FreePDK45 X1
  cell whose delay from each input to a rising and to a falling output is a line in the load
  at a nominal input slew, followed through each pin's unateness
  (:mod:`lowbit.reports.cell_data`, the sourced data file).
* :class:`TableModel` (the ``liberty`` target): a user's library's own NLDM tables
  (``cell_rise``/``cell_fall`` for delay, ``rise_transition``/``fall_transition`` for the
  output slew, each interpolated bilinearly in input slew and load), rise and fall tracked
  separately through each arc's ``timing_sense``, slews propagated (the worst slew of a net's
  arcs, as ABC's ``stime`` does), setup from ``setup_rising`` constraint tables.

The engine (:func:`analyze`) walks the netlist's combinational cells level by level
(:class:`lowbit.reports.netlist.Netlist`), vectorized over the cells of a level. The load of
a net is the input capacitance of every pin it drives plus the model's wire load for its
fanout (the library's default wire-load model).

How a design is timed (``io``):

``"registered"`` (default)
    The design sits in a synchronous system: its inputs are driven by flip-flops (the model's
    flip-flop: the generic ``$_DFF_P_``, or the library's flip-flop the netlist uses) and its
    outputs are captured by flip-flops. Every path is then flop-to-flop: its delay is
    clock-to-Q + logic + setup, with an ideal clock (no skew). Paths are reported in four
    classes by where they start and end: ``reg_to_reg``, ``in_to_reg``, ``reg_to_out``,
    ``in_to_out``. ``delay_ps`` is the worst of them: the shortest clock period the design
    meets, and ``fmax_mhz = 1e6 / delay_ps``. A design without flip-flops has no clock: its
    ``delay_ps`` is the input-to-output path (still between I/O flip-flops) and Fmax is n/a
    (``None`` in rows; :attr:`TimingReport.fmax_mhz` raises).
``"ideal"``
    Inputs switch at t = 0 with the model's ideal input slew (0 for a liberty), outputs have
    no load and no setup: the conventions of ABC's ``stime``, used to compare with it.

``logic_depth`` is the netlist's longest combinational path in cells (equal to Yosys's
``ltp -noff``, the ``logic_depth`` of synthesis rows); the critical path in delay may hold
fewer cells.
"""

import hashlib
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from lowbit.errors import LowbitError
from lowbit.paths import write_atomic
from lowbit.reports.cell_data import CellData, load_cell_data
from lowbit.reports.liberty import Library, LibertyError
from lowbit.reports.netlist import GENERIC_CELLS, CellKind, Netlist, read_netlist

#: Bumped when the engine's results change; part of the timing cache key.
TIMING_VERSION = 2
IO_MODES = ("registered", "ideal")
_SENSE = {"positive_unate": 0, "negative_unate": 1, "non_unate": 2}


class TimingError(LowbitError, ValueError):
    """Timing asked of something that has none: no registers for Fmax, a library without
    delay tables, an unknown I/O convention."""


@dataclass(frozen=True)
class ArcRef:
    """One timing arc of a cell kind: input pin index -> output pin index, unateness (0
    positive, 1 negative, 2 non-unate) and the model's id of its delay data."""

    in_pin: int
    out_pin: int
    sense: int
    model_id: int


# --- the generic model ------------------------------------------------------------------------
class LinearModel:
    """Delay lines of the generic cells from a :class:`~lowbit.reports.cell_data.CellData`:
    rise and fall separately, through each pin's unateness; output slews are the nominal
    slew (not propagated)."""

    def __init__(self, data: CellData):
        self.data = data
        self.name = f"cell data {Path(data.path).name} ({data.library})"
        self.fingerprint = f"linear:{data.sha256}"
        self.kinds = {t: GENERIC_CELLS[t] for t in data.types if t in GENERIC_CELLS}
        lines, setups = [], []
        self._arcs, self._launch, self._checks, self._caps = {}, {}, {}, {}
        for t, kind in self.kinds.items():
            cell = data.cell(t)
            self._caps[t] = [cell.pins[p].cap_ff if p in cell.pins else 0.0 for p in kind.inputs]
            if kind.sequential:
                lines.append(cell.clock_to_q)
                self._launch[t] = [ArcRef(kind.inputs.index(kind.clock), 0, 2, len(lines) - 1)]
                self._checks[t] = [(kind.inputs.index(kind.data), len(setups))]
                setups.append((cell.setup_rise_ps, cell.setup_fall_ps))
            else:
                self._arcs[t] = []
                for i, p in enumerate(kind.inputs):
                    lines.append(cell.pins[p].delay)
                    self._arcs[t].append(ArcRef(i, 0, _SENSE[cell.pins[p].sense],
                                                len(lines) - 1))
        self._lines = np.array([[x.rise_ps, x.rise_ps_per_ff, x.fall_ps, x.fall_ps_per_ff]
                                for x in lines])
        self._setup = np.array(setups).reshape(-1, 2)
        self.input_slew_ps = self.clock_slew_ps = data.nominal_slew_ps
        self.io_flop = "$_DFF_P_"

    def pin_caps(self, cell_type) -> tuple:
        """Rise and fall input capacitance (fF) of each input pin of ``cell_type``."""
        caps = self._caps[cell_type]
        return caps, caps

    @property
    def buffer(self):
        """The buffer cell type that high-fanout nets are timed with, or None."""
        return "$_BUF_" if "$_BUF_" in self._arcs else None

    def wire_cap_ff(self, fanout):
        """Wire capacitance (fF) of nets with ``fanout`` loads."""
        return self.data.wire_load.cap_ff(fanout)

    def comb_arcs(self, cell_type) -> list:
        """Arcs of a combinational cell type."""
        return self._arcs[cell_type]

    def launch_arcs(self, cell_type) -> list:
        """Clock-to-output arcs of a flip-flop type."""
        return self._launch[cell_type]

    def setup_checks(self, cell_type) -> list:
        """``(input pin index, setup id)`` of a flip-flop type's timed data inputs."""
        return self._checks[cell_type]

    def arc_delays(self, ids, slew_ps, load_rise_ff, load_fall_ff) -> tuple:
        """``(cell_rise, cell_fall, rise_transition, fall_transition)`` in ps of arcs ``ids``
        driving the given loads from inputs of slew ``slew_ps`` (ignored: nominal)."""
        x = self._lines[ids]
        slew = np.full(len(ids), self.data.nominal_slew_ps)
        return x[:, 0] + x[:, 1] * load_rise_ff, x[:, 2] + x[:, 3] * load_fall_ff, slew, slew

    def setup_times(self, ids, slew_rise_ps, slew_fall_ps) -> tuple:
        """Setup time (ps) for a rising and a falling data input, by setup id."""
        return self._setup[ids, 0], self._setup[ids, 1]


# --- the liberty model ------------------------------------------------------------------------
class _TableBank:
    """Every NLDM table a model uses, stacked for vectorized bilinear lookups."""

    def __init__(self):
        self.tables = []

    def add(self, table) -> int:
        self.tables.append(table)
        return len(self.tables) - 1

    def freeze(self):
        k = max([len(t.index_1) for t in self.tables] + [2])
        m = max([len(t.index_2) for t in self.tables] + [2])
        n = len(self.tables)
        self.i1, self.i2 = np.zeros((n, k)), np.zeros((n, m))
        self.v = np.zeros((n, k, m))
        self.n1, self.n2 = np.zeros(n, np.int64), np.zeros(n, np.int64)
        for j, t in enumerate(self.tables):
            a, b = len(t.index_1), len(t.index_2)
            # pad the axes with increasing points and the values by edge replication, so a
            # one-point axis interpolates to its only value
            self.i1[j] = np.concatenate([t.index_1, t.index_1[-1] + np.arange(1, k - a + 1)])
            self.i2[j] = np.concatenate([t.index_2, t.index_2[-1] + np.arange(1, m - b + 1)])
            self.v[j] = np.pad(t.values, ((0, k - a), (0, m - b)), mode="edge")
            self.n1[j], self.n2[j] = a, b

    @staticmethod
    def _segment(index, n, x):
        s = np.zeros(len(x), np.int64)
        for j in range(1, index.shape[1] - 1):
            s += (index[:, j] <= x) & (j < n - 1)
        return s

    def lookup(self, ids, x, y):
        """Values of tables ``ids`` at ``(x, y)``: ABC's ``Scl_LibLookup`` rule (bilinear,
        extrapolating past the edges), vectorized."""
        i1, i2, n1, n2 = self.i1[ids], self.i2[ids], self.n1[ids], self.n2[ids]
        s = self._segment(i1, n1, x)
        l_ = self._segment(i2, n2, y)
        rows = np.arange(len(ids))
        x0, x1 = i1[rows, s], i1[rows, s + 1]
        y0, y1 = i2[rows, l_], i2[rows, l_ + 1]
        sf = np.where(n1 > 1, (x - x0) / (x1 - x0), 0.0)
        lf = np.where(n2 > 1, (y - y0) / (y1 - y0), 0.0)
        v = self.v[ids]
        p0 = v[rows, s, l_] + lf * (v[rows, s, l_ + 1] - v[rows, s, l_])
        p1 = v[rows, s + 1, l_] + lf * (v[rows, s + 1, l_ + 1] - v[rows, s + 1, l_])
        return p0 + sf * (p1 - p0)


class LibertyKinds(Mapping):
    """Cell kinds of a liberty library's cells, built on demand: flip-flops (an ``ff``
    group) have their ``clocked_on`` pin as clock; latches are not modelled (absent)."""

    def __init__(self, library: Library):
        self.library = library
        self._kinds = {}

    def __getitem__(self, name):
        kind = self.get(name)
        if kind is None:
            raise KeyError(name)
        return kind

    def get(self, name, default=None):
        if name not in self._kinds:
            self._kinds[name] = self._make(name)
        return self._kinds[name] or default

    def _make(self, name):
        if name not in self.library.cell_names:
            return None
        cell = self.library.cell(name)
        if cell.latch:
            return None
        clock = data = None
        if cell.ff is not None:
            clock = cell.ff.get("clocked_on", "").strip().lstrip("!").strip("() ")
            state = cell.ff.get("next_state", "").strip()
            data = state if state in cell.pins else next(
                (a.pin for a in cell.arcs if a.kind.startswith("setup")), None)
            if clock not in cell.inputs:
                return None
        return CellKind(cell.inputs, cell.outputs, clock, data)

    def __iter__(self):
        return iter(self.library.cell_names)

    def __len__(self):
        return len(self.library.cell_names)


class TableModel:
    """NLDM delays of a liberty library's cells (see the module docstring)."""

    def __init__(self, library: Library):
        if not library.has_delay_tables:
            raise TimingError(f"liberty file {Path(library.path).name!r} has no timing tables "
                              f"(cell_rise/cell_fall): timing needs the library's NLDM delay "
                              f"tables; synthesize with timing=False (--no-timing) for area "
                              f"alone")
        self.library = library
        self.name = f"liberty {library.name} ({Path(library.path).name})"
        self.fingerprint = f"liberty:{library.sha256}"
        self.kinds = LibertyKinds(library)
        self._bank = _TableBank()
        self._delay, self._setup = [], []
        self._built = {}
        self.input_slew_ps = 0.0
        self.clock_slew_ps = 0.0
        self.io_flop = None
        self._prepared = False
        self._stale = True

    def _cell(self, cell_type):
        if cell_type in self._built:
            return self._built[cell_type]
        self._stale = True
        cell, kind = self.library.cell(cell_type), self.kinds[cell_type]
        arcs, launch, checks = [], [], []
        for arc in cell.arcs:
            if arc.pin not in kind.outputs and arc.kind.startswith(("setup")):
                if arc.kind != "setup_rising" or arc.related_pin != kind.clock:
                    continue
                tables = [arc.tables.get(k) for k in ("rise_constraint", "fall_constraint")]
                tables = [t or next(x for x in tables if x) for t in tables]
                checks.append((kind.inputs.index(arc.pin), len(self._setup)))
                self._setup.append([self._bank.add(t) for t in tables])
                continue
            if arc.pin not in kind.outputs or arc.related_pin not in kind.inputs:
                continue
            if arc.kind not in ("combinational", "rising_edge"):
                continue
            missing = [k for k in ("cell_rise", "cell_fall", "rise_transition",
                                   "fall_transition") if k not in arc.tables]
            if missing:
                raise TimingError(f"liberty cell {cell_type} arc {arc.related_pin}->{arc.pin} "
                                  f"has no {', '.join(missing)} table: timing needs all four "
                                  f"NLDM tables")
            ref = ArcRef(kind.inputs.index(arc.related_pin), kind.outputs.index(arc.pin),
                         _SENSE.get(arc.sense, 2), len(self._delay))
            self._delay.append([self._bank.add(arc.tables[k]) for k in
                                ("cell_rise", "cell_fall", "rise_transition",
                                 "fall_transition")])
            (launch if arc.kind == "rising_edge" else arcs).append(ref)
        if kind.sequential and not launch:
            raise TimingError(f"liberty flip-flop {cell_type} has no rising_edge arc from "
                              f"{kind.clock}: lowbit times positive-edge flip-flops")
        if not kind.sequential and kind.outputs and not arcs and kind.inputs:
            raise TimingError(f"liberty cell {cell_type} has no timing arcs (cell_rise/"
                              f"cell_fall): timing needs the library's NLDM delay tables")
        caps = ([cell.pins[p].cap_rise_ff for p in kind.inputs],
                [cell.pins[p].cap_fall_ff for p in kind.inputs])
        self._built[cell_type] = (arcs, launch, checks, caps)
        return self._built[cell_type]

    def prepare(self, types, flop=None):
        """Build the arcs of ``types`` and the I/O flip-flop (``flop``, or the library's
        smallest positive-edge flip-flop), then stack their tables."""
        for t in types:
            self._cell(t)
        if flop is None:
            flops = [n for n in self.library.cell_names if self.kinds.get(n) is not None
                     and self.kinds[n].sequential]
            candidates = []
            for n in flops:
                try:
                    self._cell(n)
                    candidates.append((self.library.cell(n).area, n))
                except TimingError:
                    continue
            if not candidates:
                raise TimingError(f"liberty library {self.library.name!r} has no positive-edge "
                                  f"flip-flop with timing tables to register the design's I/O; "
                                  f"time it with io='ideal'")
            flop = min(candidates)[1]
        self._cell(flop)
        self.io_flop = flop
        self._buffer = None
        buffers = []
        for n in self.library.cell_names:
            kind = self.kinds.get(n)
            if kind is None or kind.sequential or len(kind.inputs) != 1 or len(kind.outputs) != 1:
                continue
            function = self.library.cell(n).pins[kind.outputs[0]].function or ""
            if function.strip().strip("()") == kind.inputs[0]:
                try:
                    if self._cell(n)[0]:
                        buffers.append((self.library.cell(n).area, n))
                except TimingError:
                    continue
        if buffers:
            self._buffer = min(buffers)[1]
        self._prepared = True

    def _sync(self):
        """Stack the tables of every arc built so far (after new cell types)."""
        if self._stale:
            self._bank.freeze()
            self._delay_ids = np.array(self._delay, np.int64).reshape(-1, 4)
            self._setup_ids = np.array(self._setup, np.int64).reshape(-1, 2)
            self._stale = False

    def pin_caps(self, cell_type):
        return self._cell(cell_type)[3]

    @property
    def buffer(self):
        """The library's smallest buffer with delay tables, or None."""
        return self._buffer

    def wire_cap_ff(self, fanout):
        wl = self.library.wire_load
        return wl.cap_ff(fanout) if wl is not None else np.zeros(len(fanout))

    def comb_arcs(self, cell_type):
        return self._cell(cell_type)[0]

    def launch_arcs(self, cell_type):
        return self._cell(cell_type)[1]

    def setup_checks(self, cell_type):
        return self._cell(cell_type)[2]

    def arc_delays(self, ids, slew_ps, load_rise_ff, load_fall_ff):
        self._sync()
        t = self._delay_ids[ids]
        look = self._bank.lookup
        return (look(t[:, 0], slew_ps, load_rise_ff), look(t[:, 1], slew_ps, load_fall_ff),
                look(t[:, 2], slew_ps, load_rise_ff), look(t[:, 3], slew_ps, load_fall_ff))

    def setup_times(self, ids, slew_rise_ps, slew_fall_ps):
        self._sync()
        t = self._setup_ids[ids]
        clock = np.full(len(ids), self.clock_slew_ps)
        return (self._bank.lookup(t[:, 0], slew_rise_ps, clock),
                self._bank.lookup(t[:, 1], slew_fall_ps, clock))


def generic_model(cell_data=None) -> LinearModel:
    """The generic target's delay model (the default NanGate FreePDK45 cell data, or the
    cell data file at ``cell_data``)."""
    data = cell_data if isinstance(cell_data, CellData) else load_cell_data(cell_data)
    return LinearModel(data)


# --- results ------------------------------------------------------------------------------
@dataclass(frozen=True)
class PathStep:
    """One step of a timing path: a cell (``cell`` name, ``type``) from input ``pin`` to the
    net ``net`` with an edge ('rise'/'fall'), its ``delay_ps``, the ``arrival_ps`` at the net,
    the net's ``fanout`` and the ``load_ff`` its driver sees. A net with more than :data:`MAX_FANOUT` loads is
    timed through ``buffers`` levels of buffers, included in ``delay_ps``."""

    cell: str
    type: str
    pin: str
    net: str
    edge: str
    delay_ps: float
    arrival_ps: float
    fanout: int
    load_ff: float
    buffers: int = 0


@dataclass(frozen=True)
class TimingPath:
    """A path from ``start`` to ``end`` in class ``kind`` ('reg_to_reg' ...): ``steps`` (the
    launch first), the ``setup_ps`` at the end and the total ``delay_ps``."""

    kind: str
    start: str
    end: str
    steps: tuple
    setup_ps: float
    delay_ps: float

    @property
    def cells(self) -> int:
        """Combinational cells on the path (launch excluded)."""
        return sum(1 for s in self.steps if s.pin != "(launch)")

    def summary(self) -> str:
        """``start -> end (N cells)``."""
        return f"{self.start} -> {self.end} ({self.cells} cells)"


@dataclass(frozen=True)
class TimingReport:
    """Timing of one netlist (see the module docstring for the conventions)."""

    module: str
    model: str
    io: str
    delay_ps: float | None
    reg_to_reg_ps: float | None
    in_to_reg_ps: float | None
    reg_to_out_ps: float | None
    in_to_out_ps: float | None
    logic_depth: int
    ffs: int
    cells: int
    path: TimingPath | None
    paths: dict = field(default_factory=dict)

    @property
    def fmax_mhz(self) -> float:
        """The clock frequency the worst path allows (MHz); an error without registers."""
        if self.ffs == 0:
            raise TimingError(f"{self.module} has no registers: Fmax needs a clock, and a "
                              f"purely combinational design has none (its input-to-output "
                              f"delay is {_ps(self.delay_ps)})")
        return 1e6 / self.delay_ps

    def row(self) -> dict:
        """The timing columns of a synthesis row."""
        return {"delay_ps": None if self.delay_ps is None else round(self.delay_ps, 1),
                "fmax_mhz": round(self.fmax_mhz, 1) if self.ffs and self.delay_ps else None,
                "logic_depth": self.logic_depth,
                "critical_path": self.path.summary() if self.path else None}

    def to_dict(self) -> dict:
        """Plain data (JSON) of the whole report, paths included."""
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "TimingReport":
        """The report :meth:`to_dict` wrote."""
        def path(p):
            return None if p is None else TimingPath(**(p | {"steps": tuple(
                PathStep(**s) for s in p["steps"])}))
        return cls(**(d | {"path": path(d["path"]),
                           "paths": {k: path(v) for k, v in d["paths"].items()}}))


def _ps(x):
    return "n/a" if x is None else f"{x:.1f} ps"


# --- the engine ---------------------------------------------------------------------------
KINDS = ("reg_to_reg", "in_to_reg", "reg_to_out", "in_to_out")
#: Nets driving more pins than this are timed as if buffered: a tree of the model's buffer
#: cell, each buffer driving at most this many loads (what a physical flow's high-fanout
#: synthesis builds; an unbuffered reset of an 8x8 array would otherwise drive 5,000 pins).
MAX_FANOUT = 8
_IN, _REG = 0, 1  # origins
_NEG = -np.inf


def analyze(netlist: Netlist, model, io: str = "registered",
            max_fanout: int | None = MAX_FANOUT) -> TimingReport:
    """Time ``netlist`` with ``model`` (:class:`LinearModel` or :class:`TableModel`);
    ``max_fanout=None`` times every net unbuffered."""
    if io not in IO_MODES:
        raise TimingError(f"io must be one of {', '.join(IO_MODES)}, not {io!r}")
    _ready(model, netlist)
    return _Engine(netlist, model, io, max_fanout).run()


def _ready(model, netlist):
    """Build a liberty model's arcs for the cell types of ``netlist`` (once)."""
    if isinstance(model, TableModel):
        if not model._prepared:
            flops = [netlist.types[t] for t in np.unique(netlist.cell_type[netlist.ff_cells])]
            model.prepare(netlist.types, flops[0] if flops else None)
        for t in netlist.types:
            model._cell(t)


def pin_load_ff(netlist: Netlist, model, io: str = "registered") -> np.ndarray:
    """Input capacitance (fF) each net drives, for a rising (row 0) and a falling (row 1)
    transition: the model's capacitance of every pin on the net, plus, with ``io``
    'registered', one flip-flop D pin per primary output it drives. Add
    ``model.wire_cap_ff(netlist.net_fanout)`` for the net's whole switched capacitance."""
    nl = netlist
    _ready(model, nl)
    max_in = max([len(nl.kinds[t].inputs) for t in nl.types] + [1])
    caps = np.zeros((2, len(nl.types), max_in))
    for i, t in enumerate(nl.types):
        rise, fall = model.pin_caps(t)
        caps[0, i, :len(rise)], caps[1, i, :len(fall)] = rise, fall
    types = nl.cell_type[nl.in_cell]
    port_cap = np.zeros(2)
    if io == "registered":
        flop = model.kinds[model.io_flop]
        port_cap = np.array([c[flop.inputs.index(flop.data)] for c in model.pin_caps(
            model.io_flop)])
    outs = np.bincount(nl.output_nets, minlength=nl.n_nets).astype(float)
    return np.stack([np.bincount(nl.in_net, caps[e][types, nl.in_pin], nl.n_nets)
                     + outs * port_cap[e] for e in (0, 1)])


class _Engine:
    def __init__(self, nl: Netlist, model, io, max_fanout):
        self.nl, self.model, self.io = nl, model, io
        max_in = max([len(nl.kinds[t].inputs) for t in nl.types] + [1])
        max_out = max([len(nl.kinds[t].outputs) for t in nl.types] + [1])
        self.pin_net = np.full((nl.n_cells, max_in), -1, np.int64)
        self.pin_net[nl.in_cell, nl.in_pin] = nl.in_net
        self.out_by_pin = np.full((nl.n_cells, max_out), -1, np.int64)
        self.out_by_pin[nl.out_cell, nl.out_pin] = nl.out_net
        pins = pin_load_ff(nl, model, io)
        self.load = pins + model.wire_cap_ff(nl.net_fanout)
        self.tree_levels = np.zeros(nl.n_nets, np.int64)
        if max_fanout and model.buffer is not None:
            self._plan_trees(pins, max_fanout)

    def _plan_trees(self, pins, b):
        """Buffer trees of the nets with more than ``b`` loads: ``tree_levels`` buffer levels,
        the driver's load becomes the top buffers', stage loads for the buffers."""
        nl, model = self.nl, self.model
        fanout = nl.net_fanout.astype(float)
        big = np.flatnonzero(fanout > b)
        self.trees = big
        if not len(big):
            return
        f = fanout[big]
        k = np.ceil(np.log(f) / np.log(b) - 1e-9).astype(np.int64) - 1
        k = np.maximum(k, 1)
        top = np.ceil(f / b ** k)
        buf = np.array([c[0] for c in model.pin_caps(model.buffer)])
        wire_b = float(model.wire_cap_ff(np.array([b]))[0])
        self.tree_levels[big] = k
        self.load[:, big] = top * buf[:, None] + model.wire_cap_ff(top)
        #: load of an inner buffer (drives b buffers) and of a last-level buffer (b sinks)
        self.inner_load = b * buf + wire_b
        self.last_load = pins[:, big] / f * b + wire_b
        self.tree_row = np.full(nl.n_nets, -1, np.int64)
        self.tree_row[big] = np.arange(len(big))
        self.buffer_arc = model.comb_arcs(model.buffer)[0].model_id

    def _apply_trees(self, nets, arr, slew):
        """Add the buffer trees' delay to the arrivals and slews of ``nets`` (those buffered)."""
        nets = np.unique(nets)
        nets = nets[self.tree_levels[nets] > 0]
        if not len(nets):
            return
        k, row = self.tree_levels[nets], self.tree_row[nets]
        for stage in range(1, int(k.max()) + 1):
            on = k >= stage
            n, last = nets[on], (k[on] == stage)
            lr = np.where(last, self.last_load[0, row[on]], self.inner_load[0])
            lf = np.where(last, self.last_load[1, row[on]], self.inner_load[1])
            ids = np.full(len(n), self.buffer_arc)
            cr, _, tr, _ = self.model.arc_delays(ids, slew[0, n], lr, lf)
            _, cf, _, tf = self.model.arc_delays(ids, slew[1, n], lr, lf)
            arr[:, 0, n] += cr
            arr[:, 1, n] += cf
            slew[0, n], slew[1, n] = tr, tf

    def _arcs(self):
        """Arc rows of the combinational cells: cell, in net, out net, model id, sense."""
        nl, cols = self.nl, [[], [], [], [], [], []]
        for ti, t in enumerate(nl.types):
            if nl.kinds[t].sequential:
                continue
            cells = np.flatnonzero(nl.cell_type == ti)
            for a in self.model.comb_arcs(t):
                n_in, n_out = self.pin_net[cells, a.in_pin], self.out_by_pin[cells, a.out_pin]
                ok = (n_in >= 0) & (n_out >= 0)
                for col, v in zip(cols, (cells[ok], n_in[ok], n_out[ok], a.model_id, a.sense,
                                         a.in_pin)):
                    col.append(np.broadcast_to(v, ok.sum()) if np.ndim(v) == 0 else v)
        return [np.concatenate(c).astype(np.int64) if c else np.zeros(0, np.int64)
                for c in cols]

    def run(self) -> TimingReport:
        nl = self.nl
        cell, n_in, n_out, mid, sense, pin = self._arcs()
        n = nl.n_nets
        arr = np.full((2, 2, n), _NEG)  # origin, edge, net
        slew = np.zeros((2, n))
        # predecessor per (origin, edge, net): arc row (>= 0) or launch row (-2 - k)
        pred = np.full((2, 2, n), -1, np.int64)
        pred_edge = np.zeros((2, 2, n), np.int64)
        launches = []  # (kind of start, start name, cell name, type, pin, net, delays)
        self._launch_inputs(arr, slew, pred, launches)
        self._launch_flops(arr, slew, pred, launches)
        self._apply_trees(np.flatnonzero(arr.max(axis=(0, 1)) > _NEG), arr, slew)
        order = np.argsort(nl.level[cell], kind="stable")
        cell, n_in, n_out, mid, sense, pin = (x[order] for x in (cell, n_in, n_out, mid,
                                                                   sense, pin))
        levels = nl.level[cell]
        bounds = np.searchsorted(levels, np.arange(nl.depth + 2))
        for lv in range(1, nl.depth + 1):
            r = np.arange(bounds[lv], bounds[lv + 1])
            if not len(r):
                continue
            self._level(r, n_in[r], n_out[r], mid[r], sense[r], arr, slew, pred, pred_edge)
            self._apply_trees(n_out[r], arr, slew)
        return self._report(cell, n_in, n_out, pin, arr, slew, pred, pred_edge, launches)

    def _launch_inputs(self, arr, slew, pred, launches):
        nl, model = self.nl, self.model
        clock_only = self._clock_only_nets()
        nets = np.array([x for x in nl.input_nets if x >= 3 and x not in clock_only], np.int64)
        if not len(nets):
            return
        if self.io == "registered":
            ref = model.launch_arcs(model.io_flop)[0]
            ids = np.full(len(nets), ref.model_id)
            cr, cf, tr, tf = model.arc_delays(ids, np.full(len(nets), model.clock_slew_ps),
                                              self.load[0, nets], self.load[1, nets])
        else:
            cr = cf = np.zeros(len(nets))
            tr = tf = np.full(len(nets), model.input_slew_ps)
        arr[_IN, 0, nets], arr[_IN, 1, nets] = cr, cf
        slew[0, nets], slew[1, nets] = tr, tf
        for k, net in enumerate(nets):
            pred[_IN, :, net] = -2 - len(launches)
            launches.append(("in", nl.net_name(net), "(input flip-flop)" if self.io ==
                             "registered" else "(input)", model.io_flop if self.io ==
                             "registered" else "port", int(net), float(cr[k]), float(cf[k])))

    def _clock_only_nets(self) -> set:
        nl = self.nl
        clocks = set(nl.ff_clock.tolist())
        data_sinks = set(nl.in_net[~nl.sequential[nl.in_cell]].tolist())
        return {c for c in clocks if c not in data_sinks}

    def _launch_flops(self, arr, slew, pred, launches):
        nl, model = self.nl, self.model
        for ti, t in enumerate(nl.types):
            if not nl.kinds[t].sequential:
                continue
            cells = np.flatnonzero(nl.cell_type == ti)
            for a in model.launch_arcs(t):
                nets = self.out_by_pin[cells, a.out_pin]
                ok = nets >= 0
                c, nets = cells[ok], nets[ok]
                ids = np.full(len(nets), a.model_id)
                cr, cf, tr, tf = model.arc_delays(ids, np.full(len(nets), model.clock_slew_ps),
                                                  self.load[0, nets], self.load[1, nets])
                better = (cr > arr[_REG, 0, nets]) | (cf > arr[_REG, 1, nets])
                arr[_REG, 0, nets] = np.maximum(arr[_REG, 0, nets], cr)
                arr[_REG, 1, nets] = np.maximum(arr[_REG, 1, nets], cf)
                slew[0, nets] = np.maximum(slew[0, nets], tr)
                slew[1, nets] = np.maximum(slew[1, nets], tf)
                for k in np.flatnonzero(better):
                    pred[_REG, :, nets[k]] = -2 - len(launches)
                    launches.append(("reg", nl.net_name(nets[k]), nl.cell_names[c[k]], t,
                                     int(nets[k]), float(cr[k]), float(cf[k])))

    def _level(self, r, n_in, n_out, mid, sense, arr, slew, pred, pred_edge):
        model, load = self.model, self.load
        lr, lf = load[0, n_out], load[1, n_out]
        # delays and output slews for a rising (index 0) and a falling (1) input transition
        by_in = [model.arc_delays(mid, slew[e, n_in], lr, lf) for e in (0, 1)]
        pos, neg = sense != 1, sense != 0
        for out_edge in (0, 1):
            # output rise comes from input rise (positive) or input fall (negative)
            same, other = out_edge, 1 - out_edge
            d_same = by_in[same][out_edge]
            d_other = by_in[other][out_edge]
            s_new = np.maximum(np.where(pos, by_in[same][2 + out_edge], _NEG),
                               np.where(neg, by_in[other][2 + out_edge], _NEG))
            np.maximum.at(slew[out_edge], n_out, s_new)
            for o in (_IN, _REG):
                cand = np.concatenate([np.where(pos, arr[o, same, n_in] + d_same, _NEG),
                                       np.where(neg, arr[o, other, n_in] + d_other, _NEG)])
                rows = np.concatenate([r, r])
                edges = np.concatenate([np.full(len(r), same), np.full(len(r), other)])
                nets = np.concatenate([n_out, n_out])
                np.maximum.at(arr[o, out_edge], nets, cand)
                win = (cand == arr[o, out_edge, nets]) & (cand > _NEG)
                pred[o, out_edge, nets[win]] = rows[win]
                pred_edge[o, out_edge, nets[win]] = edges[win]

    def _endpoints(self, arr, slew):
        """Per endpoint: (kind of end, name, net, setup rise, setup fall)."""
        nl, model = self.nl, self.model
        ends = []
        for ti, t in enumerate(nl.types):
            if not nl.kinds[t].sequential:
                continue
            cells = np.flatnonzero(nl.cell_type == ti)
            for pin, sid in model.setup_checks(t):
                nets = self.pin_net[cells, pin]
                ok = nets >= 3
                su_r, su_f = model.setup_times(np.full(ok.sum(), sid), slew[0, nets[ok]],
                                               slew[1, nets[ok]])
                q = self.out_by_pin[cells[ok], 0]
                for k, net in enumerate(nets[ok]):
                    ends.append(("reg", nl.net_name(q[k]), int(net), float(su_r[k]),
                                 float(su_f[k])))
        outs = [x for x in dict.fromkeys(nl.output_nets.tolist()) if x >= 3]
        if outs:
            nets = np.array(outs, np.int64)
            if self.io == "registered":
                flop = model.io_flop
                (pin, sid), = model.setup_checks(flop)[:1]
                su_r, su_f = model.setup_times(np.full(len(nets), sid), slew[0, nets],
                                               slew[1, nets])
            else:
                su_r = su_f = np.zeros(len(nets))
            for k, net in enumerate(nets):
                ends.append(("out", nl.net_name(net), int(net), float(su_r[k]),
                             float(su_f[k])))
        return ends

    def _report(self, cell, n_in, n_out, pin, arr, slew, pred, pred_edge, launches):
        nl = self.nl
        best = {}
        for end_kind, name, net, su_r, su_f in self._endpoints(arr, slew):
            for o, start_kind in ((_IN, "in"), (_REG, "reg")):
                for e, su in ((0, su_r), (1, su_f)):
                    t = arr[o, e, net] + su
                    if t == _NEG:
                        continue
                    kind = f"{start_kind}_to_{end_kind}"
                    if kind not in best or t > best[kind][0]:
                        best[kind] = (t, o, e, net, name, su)
        paths = {k: self._trace(best[k], cell, n_in, n_out, pin, arr, pred, pred_edge,
                                launches, k) for k in KINDS if k in best}
        delays = {k: float(best[k][0]) if k in best else None for k in KINDS}
        worst = max(paths.values(), key=lambda p: p.delay_ps, default=None)
        found = [d for d in delays.values() if d is not None]
        return TimingReport(nl.module, self.model.name, self.io, max(found) if found else None,
                            *(delays[k] for k in KINDS), nl.depth, len(nl.ff_cells),
                            nl.n_cells, worst, paths)

    def _trace(self, found, cell, n_in, n_out, pin, arr, pred, pred_edge, launches, kind):
        nl = self.nl
        total, o, e, net, end_name, setup = found
        steps = []
        while True:
            p = pred[o, e, net]
            if p < -1:
                start_kind, name, cname, ctype, lnet, cr, cf = launches[-2 - p]
                d = float(arr[o, e, lnet])
                steps.append(PathStep(cname, ctype, "(launch)", name, ("rise", "fall")[e],
                                      round(d, 3), round(d, 3), int(nl.net_fanout[lnet]),
                                      round(float(self.load[e, lnet]), 3),
                                      int(self.tree_levels[lnet])))
                break
            if p < 0:
                raise TimingError(f"timing path into {nl.net_name(net)} has no start")
            prev_net, prev_edge = n_in[p], pred_edge[o, e, net]
            c = cell[p]
            ctype = nl.types[nl.cell_type[c]]
            steps.append(PathStep(nl.cell_names[c], ctype, nl.kinds[ctype].inputs[pin[p]],
                                  nl.net_name(net), ("rise", "fall")[e],
                                  round(float(arr[o, e, net] - arr[o, prev_edge, prev_net]), 3),
                                  round(float(arr[o, e, net]), 3), int(nl.net_fanout[net]),
                                  round(float(self.load[e, net]), 3),
                                  int(self.tree_levels[net])))
            net, e = prev_net, prev_edge
        steps.reverse()
        return TimingPath(kind, steps[0].net, end_name, tuple(steps), round(setup, 3),
                          round(float(total), 3))


# --- synthesis folders and the cache ------------------------------------------------------
def model_for(liberty=None, cell_data=None):
    """The delay model of a target: :class:`TableModel` of ``liberty`` (a path or
    :class:`~lowbit.reports.liberty.Library`), else the generic :class:`LinearModel`."""
    if liberty is None:
        return generic_model(cell_data)
    from lowbit.reports.liberty import read_liberty

    library = liberty if isinstance(liberty, Library) else read_liberty(liberty)
    return TableModel(library)


def time_folder(folder, liberty=None, *, cell_data=None, io="registered",
                max_fanout=MAX_FANOUT, cache=True) -> TimingReport:
    """Timing of the netlist in a synthesis work folder, cached there as
    ``timing-<key>.json`` (key: netlist, delay data, ``io``, ``max_fanout``,
    :data:`TIMING_VERSION`)."""
    folder = Path(folder)
    netlist_path = folder / "netlist.json"
    if not netlist_path.is_file():
        raise TimingError(f"no netlist in {str(folder)!r}: timing needs a generic or liberty "
                          f"synthesis run (it writes netlist.json)")
    if io not in IO_MODES:
        raise TimingError(f"io must be one of {', '.join(IO_MODES)}, not {io!r}")
    model = model_for(liberty, cell_data)
    h = hashlib.sha256()
    for part in (netlist_path.read_bytes(), model.fingerprint.encode(), io.encode(),
                 str(max_fanout).encode(), str(TIMING_VERSION).encode()):
        h.update(part)
        h.update(b"\0")
    path = folder / f"timing-{h.hexdigest()[:16]}.json"
    if cache and path.exists():
        try:
            return TimingReport.from_dict(json.loads(path.read_text()))
        except (ValueError, TypeError, KeyError):
            pass  # a damaged cache entry is recomputed
    try:
        netlist = read_netlist(folder, model.kinds)
    except LibertyError as err:
        raise TimingError(str(err)) from None
    report = analyze(netlist, model, io, max_fanout)
    if cache:
        write_atomic(path, json.dumps(report.to_dict(), indent=1) + "\n")
    return report


def time_design(design, liberty=None, *, io="registered", max_fanout=MAX_FANOUT,
                cell_data=None, cache_dir=None, name=None) -> TimingReport:
    """Synthesize ``design`` (cached; anything :func:`lowbit.reports.synthesis.synth`
    takes) for the generic target, or for ``liberty``'s cells, and time it."""
    from lowbit.reports import synthesis

    d = synthesis.as_design(design, name=name)
    target = "liberty" if liberty is not None else "generic"
    synthesis.synth(d, [] if liberty is not None else ["generic"], liberty=liberty,
                    cache_dir=cache_dir, timing=False)
    folder = synthesis.work_folder(d, target, liberty=liberty, cache_dir=cache_dir)
    return time_folder(folder, folder / synthesis.LIBERTY_COPY if liberty is not None else None,
                       io=io, max_fanout=max_fanout, cell_data=cell_data)
