"""Switching activity and its energy without Yosys: the bit-parallel simulator and the pricing
on hand-built netlists whose transitions and energies are computed here by hand from the cell
data (a register fed a constant costs only clock and leakage; an inverter chain toggled every
cycle costs C V^2 / 2 plus internal energy per net per cycle), every generic gate against
Yosys's own definition, and liberty pricing from a hand-written library's power tables."""

import itertools
from pathlib import Path

import numpy as np
import pytest

from lowbit.reports import activity, cell_data, liberty, logic_functions, switching_energy
from lowbit.reports.netlist import GENERIC_CELLS, CellKind
from lowbit.reports.stimulus import planes
from lowbit.reports.timing import LibertyKinds
from tests.reports.hand_netlists import Builder

HERE = Path(__file__).parent
DATA = cell_data.load_cell_data()
V = DATA.supply_v
ONES = ~np.uint64(0)


def wire(fanout):
    return float(DATA.wire_load.cap_ff(np.array([fanout]))[0])


class Fixed(activity.Stimulus):
    """``cycles`` cycles of the port values ``values[t] = {port: planes}`` (last one held)."""

    def __init__(self, values, words=1):
        self.values, self.words, self.operations = values, words, len(values)

    def cycle(self, t, before):
        return self.values[t] if t < len(self.values) else None


# --- the simulator computes what Yosys's cells compute ------------------------------------------
#: Yosys's simcells.v, written out independently of lowbit.reports.logic_functions.
YOSYS = {
    "$_BUF_": lambda a: a, "$_NOT_": lambda a: 1 - a,
    "$_AND_": lambda a, b: a & b, "$_NAND_": lambda a, b: 1 - (a & b),
    "$_OR_": lambda a, b: a | b, "$_NOR_": lambda a, b: 1 - (a | b),
    "$_XOR_": lambda a, b: a ^ b, "$_XNOR_": lambda a, b: 1 - (a ^ b),
    "$_MUX_": lambda a, b, s: b if s else a,
    "$_AOI3_": lambda a, b, c: 1 - ((a & b) | c), "$_OAI3_": lambda a, b, c: 1 - ((a | b) & c),
    "$_AOI4_": lambda a, b, c, d: 1 - ((a & b) | (c & d)),
    "$_OAI4_": lambda a, b, c, d: 1 - ((a | b) & (c | d)),
}


@pytest.mark.parametrize("cell", sorted(YOSYS))
def test_every_generic_gate_is_one_node_computing_yosys_function(cell):
    pins = GENERIC_CELLS[cell].inputs
    b = Builder().port("y", "output")
    for p in pins:
        b.port(p.lower(), "input")
    b.cell("g", cell, **{p: p.lower() for p in pins}, Y="y")
    nl = b.netlist()
    program = activity.compile_netlist(nl)
    assert program.nodes == 1
    combos = list(itertools.product((0, 1), repeat=len(pins)))
    seen = []  # lane j gets input combination j

    class Exhaustive(activity.Stimulus):
        words, operations = 1, 1

        def cycle(self, t, before):
            if t == 1:
                seen.append(before.planes("y").copy())
            if t:
                return None
            return {p.lower(): planes(np.array([[c[i] for c in combos] + [0] *
                                                (64 - len(combos))]), 1)[0]
                    for i, p in enumerate(pins)}

    activity.simulate(program, Exhaustive())
    got = [(int(seen[0][0, 0]) >> j) & 1 for j in range(len(combos))]
    assert got == [YOSYS[cell](*c) for c in combos]


@pytest.mark.parametrize("text, names, table", [
    ("A B", ("A", "B"), [0, 0, 0, 1]),
    ("A'+B", ("A", "B"), [1, 0, 1, 1]),
    ("!(A1 & A2) | B", ("A1", "A2", "B"), [1, 1, 1, 0, 1, 1, 1, 1]),
    ("(A^B)^CI", ("A", "B", "CI"), [0, 1, 1, 0, 1, 0, 0, 1]),
    ("((A1 & A2) | (B1 & B2) | (C1 & C2))'", ("A1", "A2", "B1", "B2", "C1", "C2"), None),
])
def test_liberty_functions_parse_with_liberty_precedence(text, names, table):
    tree = logic_functions.parse(text)
    got = logic_functions.truth_table(tree, names).astype(int).tolist()
    if table is None:  # an AOI222: 0 exactly when some pair is 11
        table = [0 if any((r >> i) & (r >> (i + 1)) & 1 for i in (0, 2, 4)) else 1
                 for r in range(64)]
    assert got == table


def test_a_function_that_does_not_parse_is_one_error():
    with pytest.raises(logic_functions.FunctionError) as err:
        logic_functions.parse("(A & B")
    assert str(err.value) == "cell function '(A & B' does not parse: a '(' is not closed"


def test_a_six_input_function_becomes_a_tree_of_nodes_that_computes_it():
    b = Builder().port("y", "output")
    names = ["a1", "a2", "b1", "b2", "c1", "c2"]
    for n in names:
        b.port(n, "input")
    b.cell("g", "AOI222", **{n.upper(): n for n in names}, ZN="y")
    kinds = {"AOI222": CellKind(tuple(n.upper() for n in names), ("ZN",))}
    nl = b.netlist(kinds)
    tree = logic_functions.parse("!((A1 & A2) | (B1 & B2) | (C1 & C2))")
    program = activity.compile_netlist(nl, {"AOI222": ({"ZN": tree}, None, ())})
    assert program.nodes > 1
    rows = np.arange(64)
    values = {n: planes(((rows >> i) & 1)[None, :], 1)[0] for i, n in enumerate(names)}
    out = []

    class Once(activity.Stimulus):
        words, operations = 1, 1

        def cycle(self, t, before):
            if t == 1:
                out.append(before.planes("y")[0, 0])
            return None if t else values

    activity.simulate(program, Once())
    want = logic_functions.truth_table(tree, [n.upper() for n in names])
    assert [(int(out[0]) >> r) & 1 for r in range(64)] == want.astype(int).tolist()


# --- counting: a toggle flip-flop, lanes kept apart ------------------------------------------
def test_a_toggle_flip_flop_toggles_its_nets_every_cycle_in_every_lane():
    b = Builder().port("clk", "input").port("q", "output")
    b.cell("ff", "$_DFF_P_", C="clk", D="d", Q="q").cell("inv", "$_NOT_", A="q", Y="d")
    nl = b.netlist()
    act = activity.simulate(activity.compile_netlist(nl), Fixed([{}] * 10, words=3))
    q, d = b.nets["q"] + 1, b.nets["d"] + 1
    # the reference settles d = 1 from q = 0; each of the 10 edges flips q, and d follows
    assert act.toggles[q] == act.toggles[d] == 10 * 192
    assert act.toggles[b.nets["clk"] + 1] == 0  # the clock is charged by the energy model


def test_each_lane_counts_its_own_transitions():
    b = Builder().port("a", "input").port("y", "output").cell("inv", "$_NOT_", A="a", Y="y")
    nl = b.netlist()
    # lane j toggles a in cycle t when bit j of the cycle's pattern is set: 0b1011 then 0b0011
    pats = [np.array([[0b1011]], np.uint64), np.array([[0b1011 ^ 0b0011]], np.uint64)]
    act = activity.simulate(activity.compile_netlist(nl), Fixed([{"a": p} for p in pats]))
    assert act.toggles[b.nets["a"] + 1] == act.toggles[b.nets["y"] + 1] == 3 + 2


# --- energy against hand computation ----------------------------------------------------------
def register_fed_a_constant():
    return (Builder().port("clk", "input").port("d", "input").port("q", "output")
            .cell("ff", "$_DFF_P_", C="clk", D="d", Q="q"))


def test_a_register_fed_a_constant_costs_only_clock_and_leakage():
    nl = register_fed_a_constant().netlist()
    act = activity.simulate(activity.compile_netlist(nl), Fixed([{}] * 100, words=2))
    e = switching_energy.dynamic_energy(act, switching_energy.generic_prices(nl))
    ff = DATA.flip_flops["$_DFF_P_"]
    # by hand: the clock net (one CK pin, fanout-1 wire) charged and discharged every cycle,
    # plus the flip-flop's clock-pin energy with Q held; nothing else moves
    clock_net = ff.pins["C"].cap_ff + 1.746 * 0.1774
    per_cycle = ff.clock_hold_fj + clock_net * V ** 2
    parts = e.per_operation_pj(500.0)  # one operation per cycle
    assert parts["datapath"] == 0 and parts["registers"] == 0
    assert parts["clock"] == pytest.approx(per_cycle / 1e3, rel=1e-12)
    assert parts["leakage"] == pytest.approx(ff.leakage_nw / 500.0 / 1e3, rel=1e-12)


def test_an_inverter_chain_toggled_every_cycle_costs_cv2_plus_internal_per_net():
    n = 5
    b = Builder().port("a", "input").port("y", "output")
    prev = "a"
    for i in range(n):
        out = "y" if i == n - 1 else f"s{i}"
        b.cell(f"inv{i}", "$_NOT_", A=prev, Y=out)
        prev = out
    nl = b.netlist()
    cycles = 40
    toggling = [{"a": np.full((1, 1), ONES if t % 2 == 0 else 0, np.uint64)}
                for t in range(cycles)]
    act = activity.simulate(activity.compile_netlist(nl), Fixed(toggling))
    e = switching_energy.dynamic_energy(act, switching_energy.generic_prices(nl))
    inv = DATA.gates["$_NOT_"]
    c_in, c_out = inv.pins["A"].cap_ff, DATA.flip_flops["$_DFF_P_"].pins["D"].cap_ff
    w1 = 1.746 * 0.1774  # every net here has fanout 1 (the output drives one register)
    # by hand, per cycle: the input net (one INV pin) charged; n - 1 inner nets (one INV pin
    # each) and the output net (a register's D pin) charged, each driven by an inverter
    per_cycle = (0.5 * V ** 2 * (c_in + w1) + (n - 1) * (0.5 * V ** 2 * (c_in + w1) +
                                                        inv.internal_fj) +
                 0.5 * V ** 2 * (c_out + w1) + inv.internal_fj)
    parts = e.per_operation_pj(1000.0)
    assert parts["datapath"] == pytest.approx(per_cycle / 1e3, rel=1e-12)
    assert parts["registers"] == parts["clock"] == 0
    assert parts["leakage"] == pytest.approx(n * inv.leakage_nw / 1000.0 / 1e3, rel=1e-12)
    assert wire(1) == pytest.approx(w1)


# --- a liberty's own power tables --------------------------------------------------------------
POWER_LIB = """library (lowbit_power) {
  time_unit : "1ns"; voltage_unit : "1V"; leakage_power_unit : "1nW";
  capacitive_load_unit (1, ff); nom_voltage : 1.0;
  cell (P_INV) {
    area : 1.0;
    leakage_power () { when : "A"; value : 4.0; }
    leakage_power () { when : "!A"; value : 2.0; }
    pin (A) { direction : input; capacitance : 2.0; }
    pin (Y) { direction : output; function : "!A";
      internal_power () { related_pin : "A";
        rise_power (scalar) { values ("3.0"); } fall_power (scalar) { values ("1.0"); } }
    }
  }
  cell (P_DFF) {
    area : 5.0; cell_leakage_power : 50.0;
    ff (IQ, IQN) { next_state : "D"; clocked_on : "CK"; }
    pin (D) { direction : input; capacitance : 1.0;
      internal_power () { rise_power (scalar) { values ("0.4"); }
                          fall_power (scalar) { values ("0.6"); } } }
    pin (CK) { direction : input; clock : true; capacitance : 1.5;
      internal_power () { rise_power (scalar) { values ("2.0"); }
                          fall_power (scalar) { values ("1.0"); } } }
    pin (Q) { direction : output; function : "IQ";
      internal_power () { related_pin : "CK";
        rise_power (scalar) { values ("5.0"); } fall_power (scalar) { values ("3.0"); } } }
  }
}
"""


def test_liberty_energy_comes_from_its_capacitance_internal_power_and_leakage(tmp_path):
    path = tmp_path / "power.lib"
    path.write_text(POWER_LIB)
    lib = liberty.read_liberty(path)
    b = (Builder().port("clk", "input").port("q", "output")
         .cell("ff", "P_DFF", CK="clk", D="d", Q="q").cell("inv", "P_INV", A="q", Y="d"))
    nl = b.netlist(LibertyKinds(lib))
    program = activity.compile_netlist(nl, activity.liberty_functions(lib, nl))
    cycles = 30
    act = activity.simulate(program, Fixed([{}] * cycles))
    e = switching_energy.dynamic_energy(act, switching_energy.liberty_prices(nl, lib))
    # by hand, per cycle (no wire load; q and d flip every cycle): q drives the INV pin (2 fF)
    # and one output register's D pin (1 fF); d drives the DFF's D pin (1 fF)
    datapath = 0.5 * 1.0 * 1.0 + (3.0 + 1.0) / 2          # d: C V^2 / 2 + INV internal
    registers = 0.5 * 3.0 * 1.0 + (5.0 + 3.0) / 2 + (0.4 + 0.6) / 2  # q load + Q arc + D pin
    clock = (2.0 + 1.0) + 1.5 * 1.0                          # CK hidden power + CK pin C V^2
    parts = e.per_operation_pj(100.0)
    assert parts["datapath"] == pytest.approx(datapath / 1e3)
    assert parts["registers"] == pytest.approx(registers / 1e3)
    assert parts["clock"] == pytest.approx(clock / 1e3)
    assert parts["leakage"] == pytest.approx((50.0 + 3.0) / 100.0 / 1e3)  # INV: mean of 4, 2


def test_a_liberty_without_power_tables_is_one_error():
    lib = liberty.read_liberty(HERE / "tiny.lib")
    b = (Builder().port("a", "input").port("y", "output")
         .cell("inv", "TINY_INV", A="a", Y="y"))
    nl = b.netlist(LibertyKinds(lib))
    with pytest.raises(switching_energy.PowerDataError) as err:
        switching_energy.liberty_prices(nl, lib)
    assert str(err.value) == ("liberty file 'tiny.lib' has no power tables for the cells this "
                              "design uses (internal_power): switching energy needs them; use a "
                              "characterized library or the generic cell data")
