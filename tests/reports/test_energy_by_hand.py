"""Issue 23, acceptance 1 (energy): the energy of a tiny design computed by hand from the numbers
of the data file itself (``reports/data/cells_nangate45.toml`` read with ``tomllib``, not
through :mod:`lowbit.reports.cell_data`), against :mod:`lowbit.reports.switching_energy`.

The design is a toggle register with a buffered output: ``q <= !q`` every rising edge (a
``$_DFF_P_`` whose D is ``$_NOT_(q)``) and ``y = $_BUF_(q)`` a primary output. Every cycle q, d
and y each make exactly one transition (the simulator's reference state settles d = 1 from
q = 0, then each edge flips q), so the energy per cycle follows from the rules written at the
head of the data file:

* datapath: d (driven by the inverter; loads: the D pin, wire load for fanout 1) and y (driven
  by the buffer; loads: one flip-flop D pin standing for the register outside, fanout 1):
  ``C V^2 / 2`` each, plus the driver's ``internal_fj``;
* registers: q (driven by the flip-flop; loads: the inverter's and the buffer's A pins, wire
  load for fanout 2): ``C V^2 / 2``, plus the flip-flop's extra energy when Q changes
  (``clock_toggle_fj - clock_hold_fj``), plus ``data_fj`` for the transition of D;
* clock: ``clock_hold_fj`` of the flip-flop and the clock net (the CK pin, fanout 1) charged
  and discharged, ``C V^2``;
* leakage: the three cells' ``leakage_nw`` over one clock period.
"""

import tomllib
from pathlib import Path

import numpy as np
import pytest

from lowbit.reports import activity, switching_energy
from tests.reports.hand_netlists import Builder

DATA_FILE = Path(__file__).resolve().parents[2] / "reports" / "data" / "cells_nangate45.toml"


class Idle(activity.Stimulus):
    """``cycles`` clock cycles with no inputs beyond the clock, in 64 lanes."""

    def __init__(self, cycles):
        self.words, self.operations, self._cycles = 1, cycles, cycles

    def cycle(self, t, before):
        return {} if t < self._cycles else None


def test_a_toggle_register_with_a_buffered_output_costs_what_the_data_file_says():
    data = tomllib.loads(DATA_FILE.read_text())
    v = data["library"]["supply_v"]
    wl = data["wire_load"]
    wire = {f: length * wl["cap_per_length_ff"] for f, length in wl["fanout_length"]}
    inv, buf, dff = (data["cells"][c] for c in ("$_NOT_", "$_BUF_", "$_DFF_P_"))

    b = (Builder().port("clk", "input").port("y", "output")
         .cell("ff", "$_DFF_P_", C="clk", D="d", Q="q")
         .cell("inv", "$_NOT_", A="q", Y="d")
         .cell("buf", "$_BUF_", A="q", Y="y"))
    nl = b.netlist()
    cycles, lanes = 50, 64
    act = activity.simulate(activity.compile_netlist(nl), Idle(cycles))
    for net in ("q", "d", "y"):
        assert act.toggles[b.nets[net] + 1] == cycles * lanes
    e = switching_energy.dynamic_energy(act, switching_energy.generic_prices(nl))

    c_d = dff["pins"]["D"]["cap_ff"] + wire[1]
    c_y = dff["pins"]["D"]["cap_ff"] + wire[1]
    c_q = inv["pins"]["A"]["cap_ff"] + buf["pins"]["A"]["cap_ff"] + wire[2]
    c_clk = dff["pins"]["C"]["cap_ff"] + wire[1]
    datapath_fj = (0.5 * c_d * v ** 2 + inv["internal_fj"] +
                   0.5 * c_y * v ** 2 + buf["internal_fj"])
    registers_fj = (0.5 * c_q * v ** 2 + dff["clock_toggle_fj"] - dff["clock_hold_fj"] +
                    dff["data_fj"])
    clock_fj = dff["clock_hold_fj"] + c_clk * v ** 2
    clock_mhz = 400.0
    leakage_fj = (inv["leakage_nw"] + buf["leakage_nw"] + dff["leakage_nw"]) * 1e-9 / (
        clock_mhz * 1e6) * 1e15  # nW x seconds per cycle, in fJ

    parts = e.per_operation_pj(clock_mhz)  # one operation per cycle
    assert parts["datapath"] == pytest.approx(datapath_fj / 1e3, rel=1e-12)
    assert parts["registers"] == pytest.approx(registers_fj / 1e3, rel=1e-12)
    assert parts["clock"] == pytest.approx(clock_fj / 1e3, rel=1e-12)
    assert parts["leakage"] == pytest.approx(leakage_fj / 1e3, rel=1e-12)
    # the same numbers as literals (1.1 V; fF and fJ of INV_X1, BUF_X1, DFF_X1), so a change to
    # the data file shows up here as well: 5.06 + 12.96 + 8.40 fJ per cycle
    assert np.isclose(datapath_fj, 0.5 * 1.21 * 2 * (1.1403 + 1.746 * 0.1774) + 0.9487 + 2.3563)
    assert np.isclose(registers_fj, 0.5 * 1.21 * (1.7002 + 0.9747 + 3.9394 * 0.1774) +
                      15.9609 - 6.8727 + 1.8318)
    assert np.isclose(clock_fj, 6.8727 + 1.21 * (0.9497 + 1.746 * 0.1774))
