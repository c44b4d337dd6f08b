"""Energy of a netlist's switching activity, per cell from the sourced cell data or a liberty.

Given the transitions of every net (:class:`~lowbit.reports.activity.Activity`), energy is
priced in four parts (:data:`PARTS`):

``datapath``
    Every transition of a net driven by a combinational cell costs ``C V^2 / 2`` (charging or
    discharging the net: the input capacitance of every pin it drives, plus the wire-load
    model's capacitance for its fanout, plus one flip-flop D pin for a primary output) plus the
    driving cell's internal energy per output transition. A primary input's transitions cost
    ``C V^2 / 2`` of its own load (the unit's input pins, charged by the register outside).
``registers``
    Every transition of a flip-flop output costs ``C V^2 / 2`` of its load plus the flip-flop's
    extra internal energy when its state changes (``clock_toggle_fj - clock_hold_fj``); every
    transition of its D input costs ``data_fj``.
``clock``
    Every cycle, every flip-flop's clock pin costs ``clock_hold_fj`` and the clock net (every
    clock pin plus the wire load for its fanout) is charged and discharged, ``C V^2``.
``leakage``
    Every cell's leakage power over the cycle time ``1 / clock``.

Per-cell numbers come from :mod:`lowbit.reports.cell_data` (the generic gates as NanGate
FreePDK45 X1 cells, the same file timing reads: :func:`generic_prices`) or from a user's liberty
library (:func:`liberty_prices`: pin ``capacitance``, the output pins' ``internal_power``
tables read at the net's own load and a nominal input slew, the flip-flops' clock-pin and
data-pin hidden power, ``cell_leakage_power`` or the mean of ``leakage_power``). Zero-delay
activity: glitches are not counted; nets are priced unbuffered (a high-fanout net is one net
with the wire-load model's capacitance for its fanout).
"""

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lowbit.errors import LowbitError
from lowbit.reports.cell_data import CellData, load_cell_data
from lowbit.reports.netlist import Netlist

PARTS = ("datapath", "registers", "clock", "leakage")


class PowerDataError(LowbitError, ValueError):
    """Cell data or a liberty library that cannot price a netlist's energy."""


@dataclass(frozen=True)
class CellPrices:
    """Everything :func:`dynamic_energy` needs about one netlist (units fF, fJ, nW, V).

    ``net_cap_ff`` and ``net_internal_fj`` are per net (the internal energy of the net's
    driving cell per transition; 0 for inputs); ``ff_q``, ``ff_d`` the flip-flops' output and
    data nets with ``ff_hold_fj`` (per cycle), ``ff_change_fj`` (per output transition) and
    ``ff_data_fj`` (per data transition); ``clock_cap_ff`` the clock nets' capacitance;
    ``leakage_nw`` the whole netlist's."""

    supply_v: float
    net_cap_ff: np.ndarray
    net_internal_fj: np.ndarray
    comb_nets: np.ndarray
    input_nets: np.ndarray
    ff_q: np.ndarray
    ff_d: np.ndarray
    ff_hold_fj: np.ndarray
    ff_change_fj: np.ndarray
    ff_data_fj: np.ndarray
    clock_cap_ff: float
    leakage_nw: float
    technology: str
    source: str


def _driver_types(nl: Netlist) -> tuple:
    """Per net: the driving cell (-1 without) and its output pin index."""
    cell = np.full(nl.n_nets, -1, np.int64)
    pin = np.zeros(nl.n_nets, np.int64)
    driven = nl.net_driver >= 0
    cell[driven] = nl.out_cell[nl.net_driver[driven]]
    pin[driven] = nl.out_pin[nl.net_driver[driven]]
    return cell, pin


def _classify(nl: Netlist, clock_nets) -> tuple:
    """``(combinational nets, primary input nets)``: nets driven by gates, and data inputs."""
    cell, _ = _driver_types(nl)
    comb = np.flatnonzero((cell >= 0) & ~nl.sequential[np.maximum(cell, 0)])
    inputs = np.array(sorted({int(n) for n in nl.input_nets if n >= 3} - set(clock_nets)),
                      np.int64)
    return comb, inputs


def _pin_caps(nl: Netlist, caps_by_type: dict, output_cap: float) -> np.ndarray:
    """Input capacitance (fF) each net drives, plus ``output_cap`` per primary output."""
    per_row = np.array([caps_by_type[nl.types[nl.cell_type[c]]][p]
                        for c, p in zip(nl.in_cell, nl.in_pin)], float)
    caps = np.bincount(nl.in_net, per_row, nl.n_nets)
    return caps + np.bincount(nl.output_nets, minlength=nl.n_nets) * output_cap


def generic_prices(nl: Netlist, cell_data=None) -> CellPrices:
    """Prices of a generic-gate netlist from the cell data file (default: NanGate FreePDK45)."""
    data = cell_data if isinstance(cell_data, CellData) else load_cell_data(cell_data)
    caps = {}
    for t in nl.types:
        cell = data.cell(t)
        caps[t] = [cell.pins[p].cap_ff if p in cell.pins else 0.0 for p in nl.kinds[t].inputs]
    io_flop = data.flip_flops["$_DFF_P_"]
    cap = _pin_caps(nl, caps, io_flop.pins["D"].cap_ff) + data.wire_load.cap_ff(nl.net_fanout)
    driver, _ = _driver_types(nl)
    internal = np.zeros(nl.n_nets)
    for n in np.flatnonzero(driver >= 0):
        cell = data.cell(nl.types[nl.cell_type[driver[n]]])
        internal[n] = getattr(cell, "internal_fj", 0.0) if not hasattr(cell, "clock_to_q") \
            else 0.0
    ffs = [data.cell(nl.types[nl.cell_type[c]]) for c in nl.ff_cells]
    clock_nets = sorted({int(c) for c in nl.ff_clock} - {0, 1, 2})
    comb, inputs = _classify(nl, clock_nets)
    leak = sum(data.cell(nl.types[t]).leakage_nw * count
               for t, count in enumerate(np.bincount(nl.cell_type, minlength=len(nl.types))))
    return CellPrices(
        data.supply_v, cap, internal, comb, inputs, nl.ff_q, nl.ff_d,
        np.array([f.clock_hold_fj for f in ffs]),
        np.array([f.clock_toggle_fj - f.clock_hold_fj for f in ffs]),
        np.array([f.data_fj for f in ffs]),
        float(cap[clock_nets].sum()) if clock_nets else 0.0, float(leak), data.technology,
        f"cell data {Path(data.path).name} ({data.library}), sha256 {data.sha256[:12]}")


def liberty_prices(nl: Netlist, library, slew_ps: float | None = None) -> CellPrices:
    """Prices of a netlist of ``library``'s cells from the library's own tables (module
    docstring); internal energy is read at ``slew_ps`` (default: the cell data's nominal input
    slew) and each net's load. A library without power tables is refused."""
    name = Path(library.path).name
    slew = load_cell_data().nominal_slew_ps if slew_ps is None else float(slew_ps)
    cells = {t: library.cell(t) for t in nl.types}
    if not any(c.power for c in cells.values()):
        raise PowerDataError(f"liberty file {name!r} has no power tables for the cells this "
                             f"design uses (internal_power): switching energy needs them; use "
                             f"a characterized library or the generic cell data")
    if library.nom_voltage is None:
        raise PowerDataError(f"liberty file {name!r} has no nom_voltage: switching energy "
                             f"needs the supply voltage")
    caps = {t: [0.5 * (c.pins[p].cap_rise_ff + c.pins[p].cap_fall_ff)
                for p in nl.kinds[t].inputs] for t, c in cells.items()}
    flops = [t for t in nl.types if nl.kinds[t].sequential]
    d_cap = 0.0
    if flops:
        kind = nl.kinds[flops[0]]
        d_cap = caps[flops[0]][kind.inputs.index(kind.data)] if kind.data else 0.0
    wire = library.wire_load
    cap = _pin_caps(nl, caps, d_cap) + (wire.cap_ff(nl.net_fanout) if wire is not None
                                        else 0.0)
    driver, out_pin = _driver_types(nl)
    internal = np.zeros(nl.n_nets)
    for n in np.flatnonzero(driver >= 0):
        t = nl.types[nl.cell_type[driver[n]]]
        pin = nl.kinds[t].outputs[out_pin[n]]
        arcs = [p for p in cells[t].power if p.pin == pin and p.related_pin is not None]
        if not arcs:
            raise PowerDataError(f"liberty file {name!r} cell {t} output {pin} has no "
                                 f"internal_power table: switching energy needs one per output")
        internal[n] = np.mean([_transition_fj(a.tables, slew, cap[n]) for a in arcs])
    hold, data_fj = [], []
    for c in nl.ff_cells:
        t = nl.types[nl.cell_type[c]]
        kind = nl.kinds[t]
        hidden = {p.pin: [] for p in cells[t].power if p.related_pin is None}
        for p in cells[t].power:
            if p.related_pin is None:
                hidden[p.pin].append(p)
        clock = hidden.get(kind.clock, [])
        hold.append(np.mean([_cycle_fj(p.tables, slew) for p in clock]) if clock else 0.0)
        d = hidden.get(kind.data, [])
        data_fj.append(np.mean([_transition_fj(p.tables, slew, 0.0) for p in d]) if d else 0.0)
    clock_nets = sorted({int(c) for c in nl.ff_clock} - {0, 1, 2})
    comb, inputs = _classify(nl, clock_nets)
    leak = sum((cells[nl.types[t]].leakage_nw or 0.0) * count
               for t, count in enumerate(np.bincount(nl.cell_type, minlength=len(nl.types))))
    q = nl.ff_q
    return CellPrices(
        float(library.nom_voltage), cap, internal, comb, inputs, q, nl.ff_d, np.array(hold),
        np.zeros(len(q)), np.array(data_fj), float(cap[clock_nets].sum()) if clock_nets
        else 0.0, float(leak), f"liberty {library.name}",
        f"liberty {name} ({library.name}), sha256 {library.sha256[:12]}")


def _transition_fj(tables, slew, load) -> float:
    """Mean energy (fJ) of a rising and a falling transition of an internal-power group."""
    keys = [k for k in ("rise_power", "fall_power") if k in tables] or \
        [k for k in ("power",) if k in tables]
    if not keys:
        return 0.0
    return float(np.mean([float(tables[k].lookup(slew, load)) for k in keys]))


def _cycle_fj(tables, slew) -> float:
    """Energy (fJ) of one clock cycle of a clock pin's hidden power: a rise and a fall."""
    keys = [k for k in ("rise_power", "fall_power") if k in tables]
    if not keys:
        return 2 * _transition_fj(tables, slew, 0.0)
    return float(sum(float(tables[k].lookup(slew, 0.0)) for k in keys)) * 2 / len(keys)


@dataclass(frozen=True)
class DynamicEnergy:
    """Energy of one simulation, summed over its lanes and cycles (fJ), clock-independent, and
    what it needs to add leakage at any clock: ``leakage_nw`` over ``cycles`` x ``lanes``."""

    datapath_fj: float
    registers_fj: float
    clock_fj: float
    leakage_nw: float
    cycles: int
    lanes: int
    operations: int

    def per_operation_pj(self, clock_mhz: float) -> dict:
        """``{part: pJ per operation}`` with leakage over the cycle time at ``clock_mhz``."""
        ops = self.lanes * self.operations
        # nW x (1000 / MHz) ns = 1e-3 fJ per nW ns: leakage fJ = nW x cycles / MHz
        leak_fj = self.leakage_nw * self.cycles * self.lanes / clock_mhz
        parts = {"datapath": self.datapath_fj, "registers": self.registers_fj,
                 "clock": self.clock_fj, "leakage": leak_fj}
        return {k: v / ops / 1e3 for k, v in parts.items()}


def dynamic_energy(activity, prices: CellPrices) -> DynamicEnergy:
    """Price ``activity`` (module docstring)."""
    tog = activity.toggles.astype(float)
    half_cv2 = 0.5 * prices.supply_v ** 2 * prices.net_cap_ff  # fJ per transition
    comb, inputs = prices.comb_nets, prices.input_nets
    datapath = float(np.dot(tog[comb], half_cv2[comb] + prices.net_internal_fj[comb]) +
                     np.dot(tog[inputs], half_cv2[inputs]))
    q, d = prices.ff_q, prices.ff_d
    q_tog, d_tog = tog[q], tog[np.maximum(d, 0)] * (d >= 3)
    registers = float(np.dot(q_tog, half_cv2[q] + prices.net_internal_fj[q] +
                             prices.ff_change_fj) + np.dot(d_tog, prices.ff_data_fj))
    cycles_lanes = activity.cycles * activity.lanes
    clock = cycles_lanes * (float(prices.ff_hold_fj.sum()) +
                            prices.clock_cap_ff * prices.supply_v ** 2)
    return DynamicEnergy(datapath, registers, clock, prices.leakage_nw, activity.cycles,
                         activity.lanes, activity.operations)
