"""Switching activity of a synthesized netlist: a zero-delay, bit-parallel cycle simulator.

:func:`compile_netlist` turns a :class:`~lowbit.reports.netlist.Netlist` (generic gates, or a
liberty library's cells with their ``function`` attributes) into a :class:`Program` of uniform
*nodes*::

    y = o ^ (((x0 ^ i0) & (x1 ^ i1)) | ((x2 ^ i2) & (x3 ^ i3)))

where ``x0..x3`` are rows of the value array and ``i0..i3``, ``o`` inversion masks (all-zero or
all-one words). Every generic gate is one node (its truth table is matched against every
choice of inputs and masks); a liberty cell whose function no single node computes (a full
adder's sum, an AOI222) becomes a small tree of nodes, one per operator. Nodes are grouped by
level, so a level costs the same few NumPy calls whatever its cell types.

:func:`simulate` runs a :class:`Stimulus` on a program. Values are 64-bit words whose bit
``j`` belongs to *lane* (stream) ``j``: ``W`` words per net simulate ``64 W`` independent
operand streams at once, every lane seeing the same control inputs and its own data. Cycles
run in order; in each one the stimulus sets the input ports, the levels settle, and every
net's transitions since the previous cycle are counted (the popcount of the two settled
values' XOR, summed over lanes); at the clock edge every flip-flop takes its next state. The
reference before the first cycle is the flip-flops' ``init`` values (Yosys ``init``
attributes; 0 where none) settled under idle inputs (every input 0); the first cycle follows
one clock edge after it, as a design clocked continuously sees its first operation.

Conventions: zero delay, so a net changes at most once per cycle and glitches are not
counted (functional activity); the clock nets (those driving flip-flop clock pins) are not
simulated: the energy model charges them every cycle. Asynchronous flip-flop resets and sets
act at the clock edge.
"""

import functools
import itertools
from dataclasses import dataclass, field

import numpy as np

from lowbit.errors import LowbitError
from lowbit.reports import logic_functions as LF
from lowbit.reports.netlist import CONST0, CONST1, CONST_X, Netlist

WORD = 64
ALL_ONES = np.uint64(0xFFFF_FFFF_FFFF_FFFF)
_FLUSH = 1000  # cycles between folding the uint16 per-word toggle counters into totals


class ActivityError(LowbitError, ValueError):
    """A netlist the simulator cannot run, or a stimulus that breaks the protocol."""


# --- one node per truth table -----------------------------------------------------------------
@functools.lru_cache(maxsize=8)
def _node_forms(k: int) -> dict:
    """``{truth table (int, bit r = value of row r): (slots, masks, out_mask)}`` for every
    function of ``k`` inputs one node computes; a slot is an input index or ``k`` (constant
    0). The first form found in (slots, masks, out) order wins."""
    rows = np.arange(1 << k)
    values = np.array([(rows >> i) & 1 for i in range(k)] + [np.zeros(1 << k, np.int64)], bool)
    slots = np.array(list(itertools.product(range(k + 1), repeat=4)))          # (P, 4)
    masks = np.array(list(itertools.product((False, True), repeat=4)))         # (16, 4)
    x = values[slots][:, None] ^ masks[None, :, :, None]                       # (P, 16, 4, 2^k)
    y = (x[:, :, 0] & x[:, :, 1]) | (x[:, :, 2] & x[:, :, 3])                # (P, 16, 2^k)
    key = (y.astype(np.int64) << rows).sum(axis=-1)                          # (P, 16)
    full = (1 << (1 << k)) - 1
    found = np.stack([key, key ^ full], axis=-1).ravel()  # order: slots, masks, out
    tables, first = np.unique(found, return_index=True)
    forms = {}
    for table, i in zip(tables.tolist(), first.tolist()):
        p, m, out = i // (2 * len(masks)), (i // 2) % len(masks), bool(i % 2)
        forms[table] = (tuple(int(v) for v in slots[p]), tuple(bool(v) for v in masks[m]), out)
    return forms


@dataclass
class _Builder:
    """Nodes as they are made: inputs as literals ``(row, inverted)``; rows are temporary
    ids, laid out by level at the end."""

    level: list = field(default_factory=list)  # per temporary row
    nodes: list = field(default_factory=list)  # (row, 4 literals, out inverted)

    def source(self) -> int:
        self.level.append(0)
        return len(self.level) - 1

    def node(self, literals, out) -> int:
        row = len(self.level)
        self.level.append(1 + max(self.level[r] for r, _ in literals))
        self.nodes.append((row, tuple(literals), bool(out)))
        return row


_ZERO = (CONST0, False)  # temporary row 0 is constant 0, row 1 constant 1


@functools.lru_cache(maxsize=4096)
def _recipe(tree) -> tuple:
    """``(variables, truth table, single-node form or None)`` of a function tree (at most four
    variables for a form)."""
    names = LF.variables(tree)
    if len(names) > 4:
        return names, None, None
    table = LF.truth_table(tree, names)
    key = int(sum(1 << int(r) for r in np.flatnonzero(table)))
    return names, tuple(bool(v) for v in table), _node_forms(len(names)).get(key)


def _emit(b: _Builder, tree, bound: dict, exact: bool):
    """A literal holding ``tree``'s value (``bound``: variable -> literal); with ``exact`` a
    node row of its own holding it uninverted (a net's value needs its own row)."""
    names, table, form = _recipe(tree)
    if table is not None:
        if not exact and len(names) == 1 and table[0] != table[1]:
            row, inv = bound[names[0]]
            return row, inv ^ table[0]  # the variable or its inverse: no node
        if form is not None:
            slots, masks, out = form
            lits = [bound[n] for n in names] + [_ZERO]
            return b.node([(lits[s][0], lits[s][1] ^ m) for s, m in zip(slots, masks)],
                          out), False
    kind = tree[0]  # more than one node: one per operator
    if kind == "not":
        row, inv = _emit(b, tree[1], bound, False)
        lit, fresh = (row, not inv), False
    else:
        x, y = _emit(b, tree[1], bound, False), _emit(b, tree[2], bound, False)
        nx, ny = (x[0], not x[1]), (y[0], not y[1])
        node = {"and": lambda: b.node([x, y, _ZERO, _ZERO], False),
                "or": lambda: b.node([nx, ny, _ZERO, _ZERO], True),
                "xor": lambda: b.node([x, ny, nx, y], False)}[kind]()
        lit, fresh = (node, False), True
    if exact and not fresh:
        return b.node([lit, lit, _ZERO, _ZERO], False), False
    return lit


# --- the program ----------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class Program:
    """A netlist compiled for :func:`simulate` (see the module docstring).

    The value array has ``2 n_rows`` rows: row ``r`` holds a node's raw value (before its
    output inversion) or a source's value, row ``r + n_rows`` its inverse, so inversions cost
    nothing. ``net_row`` maps every net to the index holding its value (nets without a driver
    read constant 0); its raw row is ``net_row % n_rows`` (toggles do not depend on polarity).
    ``inputs``/``outputs`` map ports to the indices of their bits, LSB first (-1: the clock);
    ``state_rows`` are the flip-flops' state rows (contiguous), ``next_rows`` the index each
    takes at the clock edge, ``init`` their initial values; ``levels`` holds per level its
    first and last row and the ``4 n`` indices it gathers, slot-major.
    """

    netlist: Netlist
    n_rows: int
    net_row: np.ndarray
    inputs: dict
    outputs: dict
    clock_nets: np.ndarray
    state_rows: np.ndarray
    next_rows: np.ndarray
    init: np.ndarray
    levels: tuple

    @property
    def depth(self) -> int:
        """Levels of nodes (at least the netlist's combinational depth)."""
        return len(self.levels)

    @property
    def nodes(self) -> int:
        """Number of nodes (one per generic gate)."""
        return sum(hi - lo for lo, hi, _ in self.levels)


def _functions(netlist, functions):
    """``{cell type: ({output pin: tree}, next-state tree or None, state variables)}``."""
    if functions is not None:
        return functions
    out = {}
    for t in netlist.types:
        kind = netlist.kinds[t]
        if t in LF.GENERIC_FUNCTIONS:
            out[t] = ({kind.outputs[0]: LF.parse(LF.GENERIC_FUNCTIONS[t])}, None, ())
        elif t in LF.GENERIC_NEXT_STATE:
            out[t] = ({kind.outputs[0]: LF.parse("IQ")}, LF.parse(LF.GENERIC_NEXT_STATE[t]),
                      ("IQ", "IQN"))
        else:
            raise ActivityError(f"cell type {t} has no Boolean function: pass the liberty "
                                f"library it comes from")
    return out


def liberty_functions(library, netlist) -> dict:
    """The functions of the liberty cells ``netlist`` uses (outputs' ``function``, an ``ff``
    group's next state with its clear and preset), for :func:`compile_netlist`."""
    out = {}
    for t in netlist.types:
        cell = library.cell(t)
        kind = netlist.kinds[t]
        trees = {}
        for pin in kind.outputs:
            text = cell.pins[pin].function
            if not text:
                raise ActivityError(f"liberty cell {t} output {pin} has no function: the "
                                    f"simulator needs every output's Boolean function")
            trees[pin] = LF.parse(text)
        nxt, state = None, ()
        if cell.ff is not None:
            state = cell.ff_state or ("IQ", "IQN")
            nxt = LF.parse(cell.ff.get("next_state", ""))
            if cell.ff.get("preset"):
                nxt = ("or", ("and", nxt, ("not", LF.parse(cell.ff["preset"]))),
                       LF.parse(cell.ff["preset"]))
            if cell.ff.get("clear"):
                nxt = ("and", nxt, ("not", LF.parse(cell.ff["clear"])))
        out[t] = (trees, nxt, state)
    return out


def compile_netlist(netlist: Netlist, functions=None) -> Program:
    """The :class:`Program` of ``netlist``; ``functions`` (from :func:`liberty_functions`)
    for a liberty netlist, else the generic gates' own."""
    nl = netlist
    funcs = _functions(nl, functions)
    b = _Builder()
    b.source(), b.source()  # rows 0 and 1: constants 0 and 1
    literal = {CONST0: (0, False), CONST1: (1, False), CONST_X: (0, False)}
    clock_nets = set(int(c) for c in nl.ff_clock) - {CONST0, CONST1, CONST_X}
    inputs = {}
    for port, nets in nl.inputs.items():
        rows = []
        for n in nets:
            if n in clock_nets:
                rows.append(-1)  # the clock: not simulated
                continue
            if n not in literal:
                literal[n] = (b.source(), False)
            rows.append(literal[n][0] if n >= 3 else -1)
        inputs[port] = rows
    # flip-flop state variables first (level 0), then the combinational cells in order
    states = []  # (cell, state row, next tree, pin literals)
    pins_of = {}
    for c in range(nl.n_cells):
        pins_of[c] = nl.cell_pins(c)
    for c in nl.ff_cells:
        t = nl.types[nl.cell_type[c]]
        trees, nxt, names = funcs[t]
        row = b.source()
        states.append((c, row, nxt))
        bound = {names[0]: (row, False)} | ({names[1]: (row, True)} if len(names) > 1 else {})
        kind = nl.kinds[t]
        for pin, tree in trees.items():
            net = pins_of[c].get(pin)
            if net is None or net < 3:
                continue
            if tree == ("var", names[0]):
                literal[net] = (row, False)
            else:
                literal[net] = _emit(b, tree, bound, True)
    for c in nl.comb_order:
        t = nl.types[nl.cell_type[c]]
        trees, _, _ = funcs[t]
        pins = pins_of[c]
        kind = nl.kinds[t]
        bound = {p: _net_literal(literal, pins.get(p, CONST_X), clock_nets, nl, c)
                 for p in kind.inputs}
        for pin, tree in trees.items():
            net = pins.get(pin)
            if net is None or net < 3:
                continue
            unknown = [v for v in LF.variables(tree) if v not in bound]
            if unknown:
                raise ActivityError(f"cell {nl.cell_names[c]} ({t}): its function "
                                    f"{pin} names {', '.join(unknown)}, not an input pin")
            literal[net] = _emit(b, tree, bound, True)
    next_lits = []
    for c, row, nxt in states:
        pins = pins_of[c]
        kind = nl.kinds[nl.types[nl.cell_type[c]]]
        bound = {p: _net_literal(literal, pins.get(p, CONST_X), clock_nets, nl, c)
                 for p in kind.inputs if p != kind.clock}
        next_lits.append(_emit(b, nxt, bound, False))
    return _layout(nl, b, literal, inputs, states, next_lits, clock_nets)


def _net_literal(literal, net, clock_nets, nl, cell):
    if net in clock_nets:
        raise ActivityError(f"cell {nl.cell_names[cell]} reads the clock net "
                            f"{nl.net_name(net)} as data: the simulator gates no clocks")
    return literal.get(net, (0, False))  # an undriven net reads 0


def _layout(nl, b, literal, inputs, states, next_lits, clock_nets) -> Program:
    """Rows by level (sources first, in creation order; a level's nodes contiguous), every
    literal as an index of the two-polarity value array (``row`` raw, ``row + rows`` its
    inverse)."""
    level = np.array(b.level, np.int64)
    rows = len(level)
    order = np.argsort(level, kind="stable")
    row_of = np.empty(rows, np.int64)
    row_of[order] = np.arange(rows)
    out_inv = np.zeros(rows, bool)
    for row, _, out in b.nodes:
        out_inv[row] = out

    def index(lit):  # the value array index holding literal (row, inverted)
        row, inv = lit
        return row_of[row] + rows * int(out_inv[row] ^ inv)

    by_level = {}
    for row, lits, _ in b.nodes:
        by_level.setdefault(int(level[row]), []).append((row_of[row], lits))
    levels = []
    for lv in sorted(by_level):
        items = sorted(by_level[lv])
        first = items[0][0]
        assert [r for r, _ in items] == list(range(first, first + len(items))), "level rows"
        idx = np.array([[index(lit) for lit in lits] for _, lits in items], np.int64)
        levels.append((first, first + len(items), np.ascontiguousarray(idx.T).ravel()))
    net_index = np.zeros(nl.n_nets, np.int64)
    for net, lit in literal.items():
        net_index[net] = index(lit)
    net_index[CONST1] = index((1, False))
    ones = _init_values(nl)
    init = np.array([int(nl.out_net[nl.out_ptr[c]]) in ones for c, _, _ in states], bool)
    return Program(
        nl, rows, net_index,
        {p: np.array([index((r, False)) if r >= 0 else -1 for r in rs], np.int64)
         for p, rs in inputs.items()},
        {p: net_index[np.array(nets, np.int64)] for p, nets in nl.outputs.items()},
        np.array(sorted(clock_nets), np.int64),
        np.array([row_of[r] for _, r, _ in states], np.int64),
        np.array([index(lit) for lit in next_lits], np.int64), init, tuple(levels))


def _init_values(nl) -> set:
    """Nets whose Yosys ``init`` attribute is 1 (a flip-flop's initial value; others are 0)."""
    ones = set()
    for entry in nl.netnames.values():
        text = str(entry.get("attributes", {}).get("init", ""))
        bits = entry["bits"]
        if not text or set(text) - set("01xz"):
            continue
        text = text.rjust(len(bits), "0")[-len(bits):]
        for bit, ch in zip(bits, reversed(text)):
            if type(bit) is int and ch == "1":
                ones.add(bit + 1)
    return ones


# --- running it -----------------------------------------------------------------------------
class PortView:
    """The settled values of one cycle, by port: what a :class:`Stimulus` reads."""

    def __init__(self, program: Program, values: np.ndarray):
        self._program, self._values = program, values

    def planes(self, port: str) -> np.ndarray:
        """Bit planes ``(width, words)`` of output or input ``port``, LSB first."""
        rows = self._program.outputs.get(port)
        if rows is None:
            rows = self._program.inputs[port]
        return self._values[rows]

    def flag(self, port: str) -> bool:
        """A one-bit control output, the same in every lane (an error otherwise)."""
        (word,) = self.planes(port)
        if not (word == 0).all() and not (word == ALL_ONES).all():
            raise ActivityError(f"control output {port} differs between lanes: the stimulus "
                                f"must give every lane the same control inputs")
        return bool(word[0])


class Stimulus:
    """What drives a simulation: ``words`` (lanes / 64), then per cycle the input planes.

    :meth:`cycle` returns ``{port: planes}`` (``(width, words)`` uint64, LSB first; ports not
    named are 0) for cycle ``t``, or None when the run is over; ``before`` is the previous
    cycle's settled values (:class:`PortView`). ``operations`` counts the operations per lane
    the run performs (set by the time it ends)."""

    words: int = 1
    operations: int = 0

    def cycle(self, t: int, before: PortView):
        raise NotImplementedError


@dataclass(frozen=True)
class Activity:
    """Transitions of every net (``toggles``, summed over lanes, indexed by net id) over
    ``cycles`` cycles of ``lanes`` lanes doing ``operations`` operations each."""

    program: Program
    toggles: np.ndarray
    cycles: int
    lanes: int
    operations: int

    @property
    def netlist(self) -> Netlist:
        return self.program.netlist

    def toggle_rate(self) -> np.ndarray:
        """Transitions per net per cycle per lane (0 to 1)."""
        return self.toggles / max(1, self.cycles * self.lanes)


def simulate(program: Program, stimulus: Stimulus, max_cycles: int = 1 << 24) -> Activity:
    """Run ``stimulus`` on ``program``; count every net's transitions (module docstring)."""
    words = int(stimulus.words)
    if words < 1:
        raise ActivityError(f"stimulus words must be at least 1, not {words}")
    R = program.n_rows
    prev = np.zeros((2 * R, words), np.uint64)
    cur = np.zeros((2 * R, words), np.uint64)
    plans = [_plan(program, v, words) for v in (prev, cur)]
    s_rows = program.state_rows
    states = slice(int(s_rows[0]), int(s_rows[-1]) + 1) if len(s_rows) else slice(0, 0)
    assert len(s_rows) == 0 or s_rows[-1] - s_rows[0] + 1 == len(s_rows), "state rows"
    inv_states = slice(states.start + R, states.stop + R)
    init = np.where(program.init, ALL_ONES, np.uint64(0))[:, None]
    ports = [(p, idx, idx >= 0, idx[idx >= 0]) for p, idx in program.inputs.items()]
    in_rows = np.concatenate([real for *_, real in ports] + [np.zeros(0, np.int64)])
    diff = np.empty((R, words), np.uint64)
    counts8 = np.empty((R, words), np.uint8)
    counts16 = np.zeros((R, words), np.uint16)
    toggles = np.zeros(R, np.int64)

    def settle(values, plan):
        values[R:R + 2] = ~values[:2]
        values[in_rows + R] = ~values[in_rows]
        np.invert(values[states], out=values[inv_states])
        for idx, g, x, y, g0, g1, g2, g3, raw, neg in plan:
            values.take(idx, axis=0, out=g, mode="clip")
            np.bitwise_and(g0, g1, out=x)
            np.bitwise_and(g2, g3, out=y)
            np.bitwise_or(x, y, out=raw)
            np.invert(raw, out=neg)

    prev[1] = cur[1] = ALL_ONES
    prev[states] = init
    settle(prev, plans[0])  # the reference: initial state, idle inputs
    which, t = 1, 0
    while True:
        if t >= max_cycles:
            raise ActivityError(f"stimulus ran past {max_cycles} cycles without ending")
        given = stimulus.cycle(t, PortView(program, prev))
        if given is None:
            break
        for port, idx, keep, real in ports:
            value = given.get(port)
            if value is None:
                cur[real] = 0
                continue
            value = np.asarray(value)
            if value.shape != (len(idx), words) or value.dtype != np.uint64:
                raise ActivityError(f"stimulus planes of port {port} must be uint64 of shape "
                                    f"({len(idx)}, {words}), not {value.dtype} {value.shape}")
            cur[real] = value[keep]
        if len(s_rows):  # the clock edge between the previous cycle and this one
            prev.take(program.next_rows, axis=0, out=cur[states], mode="clip")
        settle(cur, plans[which])
        np.bitwise_xor(cur[:R], prev[:R], out=diff)
        np.bitwise_count(diff, out=counts8)
        np.add(counts16, counts8, out=counts16)
        t += 1
        if t % _FLUSH == 0:
            toggles += counts16.sum(axis=1, dtype=np.int64)
            counts16[:] = 0
        prev, cur, which = cur, prev, 1 - which
    toggles += counts16.sum(axis=1, dtype=np.int64)
    per_net = toggles[program.net_row % R]
    per_net[[CONST0, CONST1, CONST_X]] = 0
    return Activity(program, per_net, t, words * WORD, int(stimulus.operations))


def _plan(program, values, words) -> list:
    """Per level: the gather indices and preallocated views (NumPy calls on contiguous blocks
    only: strided or broadcast operands cost several times more per call)."""
    R = program.n_rows
    biggest = max([hi - lo for lo, hi, _ in program.levels] + [1])
    gather = np.empty((4 * biggest, words), np.uint64)
    x = np.empty((biggest, words), np.uint64)
    y = np.empty((biggest, words), np.uint64)
    plan = []
    for lo, hi, idx in program.levels:
        n = hi - lo
        g = gather[:4 * n]
        plan.append((idx, g, x[:n], y[:n], g[:n], g[n:2 * n], g[2 * n:3 * n], g[3 * n:],
                     values[lo:hi], values[R + lo:R + hi]))
    return plan
