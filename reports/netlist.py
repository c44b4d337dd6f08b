"""The synthesized gate netlist of a design, parsed once into arrays that timing and switching
activity both walk.

``read_netlist(folder)`` reads the ``netlist.json`` that the ``generic`` (and ``liberty``)
synthesis flow writes into its work folder (Yosys ``write_json``, after the statistics) and
returns a :class:`Netlist`:

* cells: ``cell_type`` (index into ``types``), ``cell_names``; their connected input pins as
  rows ``in_cell``/``in_pin``/``in_net`` grouped by cell (``in_ptr``), outputs the same way
  (``out_cell``/``out_pin``/``out_net``, ``out_ptr``); ``in_pin`` and ``out_pin`` index the
  cell kind's ``inputs``/``outputs`` tuples, so pin order is the kind's, never the file's;
* nets: ``net_driver`` (the output-pin row that drives the net, -1 for a primary input, a
  constant or an undriven net), the fanout of every net as rows of input pins (``fan_ptr``,
  ``fan_pin``), ``net_fanout`` (input pins plus primary outputs it drives); nets
  :data:`CONST0`, :data:`CONST1` and :data:`CONST_X` are Yosys's constant bits ``0``, ``1``
  and ``x``/``z``;
* ports: ``inputs`` and ``outputs``, ``{port: nets}`` LSB first;
* flip-flops: ``ff_cells`` with ``ff_clock``, ``ff_d`` and ``ff_q`` nets;
* order: ``level`` of every combinational cell (1 + the largest level among the cells driving
  its inputs; primary inputs, constants and flip-flop outputs are level 0), ``comb_order``
  (combinational cells sorted by level, a topological order) and ``depth``, the largest level:
  the number of cells on the longest combinational path, Yosys's ``ltp -noff`` length.

A cell's pins come from its *kind* (:class:`CellKind`): :data:`GENERIC_CELLS` for the generic
target, or kinds built from a liberty file for the liberty target. A cell type without a kind
and a combinational loop are refused with one error naming them.
"""

import json
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from lowbit.errors import LowbitError
from lowbit.reports.targets import NETLIST_JSON

CONST0, CONST1, CONST_X = 0, 1, 2
_CONST = {"0": CONST0, "1": CONST1, "x": CONST_X, "z": CONST_X}


class NetlistError(LowbitError, ValueError):
    """A netlist that cannot be modelled: unknown cell types, loops, missing files."""


@dataclass(frozen=True)
class CellKind:
    """The pins of one cell type: ``inputs`` and ``outputs`` in a fixed order, and for a
    flip-flop its ``clock`` input (``data``: the input whose value it stores)."""

    inputs: tuple
    outputs: tuple
    clock: str | None = None
    data: str | None = None

    @property
    def sequential(self) -> bool:
        """Whether the cell holds state (has a clock)."""
        return self.clock is not None


_GATE2 = CellKind(("A", "B"), ("Y",))
_GATE3 = CellKind(("A", "B", "C"), ("Y",))
_GATE4 = CellKind(("A", "B", "C", "D"), ("Y",))
#: Yosys's generic cells that the ``generic`` target leaves (see
#: :mod:`lowbit.reports.gate_equivalents`): pins in Yosys's order.
GENERIC_CELLS = {
    "$_BUF_": CellKind(("A",), ("Y",)), "$_NOT_": CellKind(("A",), ("Y",)),
    "$_AND_": _GATE2, "$_NAND_": _GATE2, "$_OR_": _GATE2, "$_NOR_": _GATE2,
    "$_XOR_": _GATE2, "$_XNOR_": _GATE2,
    "$_MUX_": CellKind(("A", "B", "S"), ("Y",)),
    "$_AOI3_": _GATE3, "$_OAI3_": _GATE3, "$_AOI4_": _GATE4, "$_OAI4_": _GATE4,
    "$_DFF_P_": CellKind(("C", "D"), ("Q",), clock="C", data="D"),
    "$_DFF_PN0_": CellKind(("C", "D", "R"), ("Q",), clock="C", data="D"),
    "$_DFF_PN1_": CellKind(("C", "D", "S"), ("Q",), clock="C", data="D"),
}


@dataclass(frozen=True, eq=False)
class Netlist:
    """A flat gate netlist as arrays (see the module docstring)."""

    module: str
    kinds: dict
    types: tuple
    cell_names: tuple
    cell_type: np.ndarray
    in_ptr: np.ndarray
    in_cell: np.ndarray
    in_pin: np.ndarray
    in_net: np.ndarray
    out_ptr: np.ndarray
    out_cell: np.ndarray
    out_pin: np.ndarray
    out_net: np.ndarray
    n_nets: int
    net_driver: np.ndarray
    fan_ptr: np.ndarray
    fan_pin: np.ndarray
    net_fanout: np.ndarray
    inputs: dict
    outputs: dict
    sequential: np.ndarray
    level: np.ndarray
    comb_order: np.ndarray
    netnames: dict

    @property
    def n_cells(self) -> int:
        """Number of cells (flip-flops included)."""
        return len(self.cell_type)

    @property
    def depth(self) -> int:
        """Cells on the longest combinational path (0 without combinational cells)."""
        return int(self.level.max()) if len(self.level) else 0

    @cached_property
    def ff_cells(self) -> np.ndarray:
        """Indices of the sequential cells."""
        return np.flatnonzero(self.sequential)

    def _ff_pin_net(self, which) -> np.ndarray:
        nets = np.full(len(self.ff_cells), -1, np.int64)
        for k, c in enumerate(self.ff_cells):
            kind = self.kinds[self.types[self.cell_type[c]]]
            pin = kind.inputs.index(getattr(kind, which))
            rows = np.arange(self.in_ptr[c], self.in_ptr[c + 1])
            hit = rows[self.in_pin[rows] == pin]
            nets[k] = self.in_net[hit[0]] if len(hit) else CONST_X
        return nets

    @cached_property
    def ff_clock(self) -> np.ndarray:
        """The clock net of each flip-flop (``ff_cells`` order)."""
        return self._ff_pin_net("clock")

    @cached_property
    def ff_d(self) -> np.ndarray:
        """The data (D) net of each flip-flop."""
        return self._ff_pin_net("data")

    @cached_property
    def ff_q(self) -> np.ndarray:
        """The first output net (Q) of each flip-flop."""
        return self.out_net[self.out_ptr[self.ff_cells]]

    @cached_property
    def output_nets(self) -> np.ndarray:
        """Every primary output bit's net, ports in file order, LSB first."""
        return np.array([n for nets in self.outputs.values() for n in nets], np.int64)

    @cached_property
    def input_nets(self) -> np.ndarray:
        """Every primary input bit's net, ports in file order, LSB first."""
        return np.array([n for nets in self.inputs.values() for n in nets], np.int64)

    @cached_property
    def _names(self) -> dict:
        names = {}
        for port, nets in list(self.inputs.items()) + list(self.outputs.items()):
            for i, n in enumerate(nets):
                names.setdefault(n, f"{port}[{i}]" if len(nets) > 1 else port)
        for name, entry in self.netnames.items():
            bits = entry["bits"]
            if entry.get("hide_name"):
                continue
            for i, b in enumerate(bits):
                if type(b) is int and b + 1 not in names:
                    names[b + 1] = f"{name}[{i}]" if len(bits) > 1 else name
        return names

    def net_name(self, net: int) -> str:
        """A readable name of ``net``: its port bit or public wire bit, else ``n<id>``."""
        if net < 3:
            return ("1'b0", "1'b1", "1'bx")[net]
        return self._names.get(int(net), f"n{int(net)}")

    def cell_pins(self, cell: int) -> dict:
        """``{pin name: net}`` of one cell, inputs and outputs."""
        kind = self.kinds[self.types[self.cell_type[cell]]]
        rows_in = range(self.in_ptr[cell], self.in_ptr[cell + 1])
        rows_out = range(self.out_ptr[cell], self.out_ptr[cell + 1])
        return ({kind.inputs[self.in_pin[r]]: int(self.in_net[r]) for r in rows_in}
                | {kind.outputs[self.out_pin[r]]: int(self.out_net[r]) for r in rows_out})


def _module(data, source):
    modules = data.get("modules", {})
    tops = [n for n, m in modules.items() if m.get("attributes", {}).get("top")]
    if len(modules) == 1:
        return next(iter(modules.items()))
    real = [n for n, m in modules.items() if m.get("cells") or m.get("ports")]
    chosen = tops or real
    if len(chosen) != 1:
        raise NetlistError(f"{source} holds {len(modules)} modules and no single top "
                           f"({', '.join(modules)})")
    return chosen[0], modules[chosen[0]]


def netlist_from_json(data: dict, kinds=None, source: str = "netlist") -> Netlist:
    """A :class:`Netlist` of the top module of Yosys ``write_json`` output ``data``.

    ``kinds`` maps cell types to :class:`CellKind` (default :data:`GENERIC_CELLS`); a
    (non-blackbox) submodule instance, a cell type without a kind or a combinational loop
    raise :class:`NetlistError`.
    """
    kinds = GENERIC_CELLS if kinds is None else kinds
    name, module = _module(data, source)

    def net(bit):
        # Yosys numbers bits from 2; constants are strings. Net id = bit + 1 leaves 0-2 free.
        return bit + 1 if type(bit) is int else _CONST[bit]

    inputs, outputs = {}, {}
    for port, p in module.get("ports", {}).items():
        direction = p.get("direction")
        if direction not in ("input", "output"):
            raise NetlistError(f"{source}: port {port!r} of {name} is {direction!r}; timing "
                               f"and activity model input and output ports only")
        (inputs if direction == "input" else outputs)[port] = [net(b) for b in p["bits"]]
    types, type_index = [], {}
    cell_names, cell_type = [], []
    in_rows, out_rows = [], []
    unknown = {}
    pin_maps = {}
    for cname, cell in module.get("cells", {}).items():
        ctype = cell["type"]
        pins = pin_maps.get(ctype)
        if pins is None:
            kind = kinds.get(ctype)
            if kind is None:
                unknown.setdefault(ctype, cname)
                continue
            type_index[ctype] = len(types)
            types.append(ctype)
            pins = pin_maps[ctype] = (
                {p: (in_rows, i) for i, p in enumerate(kind.inputs)}
                | {p: (out_rows, i) for i, p in enumerate(kind.outputs)})
        c = len(cell_names)
        cell_names.append(cname)
        cell_type.append(type_index[ctype])
        for pin, bits in cell.get("connections", {}).items():
            where = pins.get(pin)
            if where is None:
                kind = kinds[ctype]
                raise NetlistError(f"{source}: cell {cname!r} of type {ctype} has a pin "
                                   f"{pin!r} that its cell kind does not list (inputs "
                                   f"{', '.join(kind.inputs)}; outputs "
                                   f"{', '.join(kind.outputs)})")
            bit = bits[0]
            where[0].append((c, where[1], bit + 1 if type(bit) is int else _CONST[bit]))
    if unknown:
        listed = ", ".join(f"{t} (cell {c})" for t, c in sorted(unknown.items()))
        raise NetlistError(f"{source}: unsupported cell type {listed}; the cell model knows "
                           f"{', '.join(kinds)}")
    n_cells = len(cell_names)
    every = [n for nets in (*inputs.values(), *outputs.values()) for n in nets]
    n_nets = max([2, *every, *(r[2] for r in in_rows), *(r[2] for r in out_rows)]) + 1
    ins = np.array(in_rows, np.int64).reshape(-1, 3)
    outs = np.array(out_rows, np.int64).reshape(-1, 3)
    ins = ins[np.lexsort((ins[:, 1], ins[:, 0]))]
    outs = outs[np.lexsort((outs[:, 1], outs[:, 0]))]
    cell_type = np.array(cell_type, np.int64)
    in_ptr = np.searchsorted(ins[:, 0], np.arange(n_cells + 1))
    out_ptr = np.searchsorted(outs[:, 0], np.arange(n_cells + 1))
    net_driver = np.full(n_nets, -1, np.int64)
    driven = outs[:, 2]
    multiple = np.bincount(driven, minlength=n_nets)
    if (multiple[3:] > 1).any():
        bad = int(np.flatnonzero(multiple[3:] > 1)[0]) + 3
        raise NetlistError(f"{source}: net {bad} has {multiple[bad]} drivers")
    keep = driven >= 3
    net_driver[driven[keep]] = np.flatnonzero(keep)
    order = np.argsort(ins[:, 2], kind="stable")
    fan_ptr = np.searchsorted(ins[order, 2], np.arange(n_nets + 1))
    out_port_nets = np.array([n for nets in outputs.values() for n in nets], np.int64)
    net_fanout = (np.bincount(ins[:, 2], minlength=n_nets)
                  + np.bincount(out_port_nets, minlength=n_nets))
    sequential = np.array([kinds[types[t]].sequential for t in cell_type], bool)
    level = _levels(n_cells, ins, outs, in_ptr, out_ptr, net_driver, fan_ptr, order, sequential,
                    cell_names, source)
    comb = np.flatnonzero(~sequential)
    comb_order = comb[np.argsort(level[comb], kind="stable")]
    netnames = module.get("netnames", {})
    return Netlist(name, {t: kinds[t] for t in types}, tuple(types), tuple(cell_names),
                   cell_type, in_ptr,
                   ins[:, 0], ins[:, 1], ins[:, 2], out_ptr, outs[:, 0], outs[:, 1],
                   outs[:, 2], n_nets, net_driver, fan_ptr, order, net_fanout, inputs, outputs,
                   sequential, level, comb_order, netnames)


def _levels(n_cells, ins, outs, in_ptr, out_ptr, net_driver, fan_ptr, fan_pin, sequential,
            cell_names, source) -> np.ndarray:
    """Longest-path level of every cell by Kahn's layering (flip-flops: 0)."""
    driver_cell = np.where(net_driver >= 0, outs[np.maximum(net_driver, 0), 0], -1)
    src = driver_cell[ins[:, 2]]
    comb_edge = (src >= 0) & ~sequential[np.maximum(src, 0)] & ~sequential[ins[:, 0]]
    indegree = np.bincount(ins[comb_edge, 0], minlength=n_cells)
    level = np.zeros(n_cells, np.int64)
    frontier = np.flatnonzero((indegree == 0) & ~sequential)
    depth, done = 0, 0
    out_cell_net = outs[:, 2]
    while len(frontier):
        depth += 1
        level[frontier] = depth
        done += len(frontier)
        nets = out_cell_net[_ranges(out_ptr[frontier], out_ptr[frontier + 1])]
        starts, ends = fan_ptr[nets], fan_ptr[nets + 1]
        rows = fan_pin[_ranges(starts, ends)]
        sinks = ins[rows, 0]
        sinks = sinks[~sequential[sinks]]
        np.subtract.at(indegree, sinks, 1)
        touched = np.unique(sinks)
        frontier = touched[indegree[touched] == 0]
    stuck = np.flatnonzero((indegree > 0) & ~sequential)
    if len(stuck):
        names = ", ".join(cell_names[c] for c in stuck[:3])
        raise NetlistError(f"{source}: combinational loop through {len(stuck)} cells "
                           f"(among them {names})")
    return level


def _ranges(starts, ends) -> np.ndarray:
    """Concatenation of ``arange(s, e)`` for each pair (vectorized)."""
    lengths = ends - starts
    total = int(lengths.sum())
    if total == 0:
        return np.zeros(0, np.int64)
    offsets = np.repeat(ends - lengths.cumsum(), lengths)
    return np.arange(total) + offsets


def read_netlist(folder, kinds=None) -> Netlist:
    """The :class:`Netlist` of a synthesis work folder (its ``netlist.json``), or of a
    ``write_json`` file given directly."""
    path = Path(folder)
    if path.is_dir():
        path = path / NETLIST_JSON
    if not path.is_file():
        raise NetlistError(f"no netlist at {str(path)!r}: synthesize with the generic or "
                           f"liberty target first (its work folder holds {NETLIST_JSON})")
    with path.open() as f:
        data = json.load(f)
    return netlist_from_json(data, kinds, str(path))
