"""How ``reports/data/cells_nangate45.toml`` is derived from the NanGate FreePDK45 liberty file.

The generic cells of the ``generic`` target are priced on the NanGate FreePDK45 Open Cell
Library (typical corner), as their gate-equivalent areas are
(:mod:`lowbit.reports.gate_equivalents`). The library itself is not part of lowbit; this module
reads a copy of it and writes the numbers lowbit carries over, each with its source::

    python -m lowbit.reports.nangate_cells NangateOpenCellLibrary_typical.lib \\
        > reports/data/cells_nangate45.toml

:data:`CELLS` maps each generic cell and its pins onto the X1 cell that implements it;
:func:`derive` applies the rules stated in the written file's header (nominal slew and load,
rise/fall combined by max, least-squares delay lines). A test regenerates the file when
``LOWBIT_NANGATE_LIB`` points at the library and checks it is unchanged.
"""

import sys

import numpy as np

from lowbit.reports.liberty import LibertyError, read_liberty

#: Generic cell -> (NanGate X1 cell, {generic pin: NanGate pin}, output pin, Boolean function).
CELLS = {
    "$_BUF_": ("BUF_X1", {"A": "A"}, "Z", "Y = A"),
    "$_NOT_": ("INV_X1", {"A": "A"}, "ZN", "Y = !A"),
    "$_AND_": ("AND2_X1", {"A": "A1", "B": "A2"}, "ZN", "Y = A & B"),
    "$_NAND_": ("NAND2_X1", {"A": "A1", "B": "A2"}, "ZN", "Y = !(A & B)"),
    "$_OR_": ("OR2_X1", {"A": "A1", "B": "A2"}, "ZN", "Y = A | B"),
    "$_NOR_": ("NOR2_X1", {"A": "A1", "B": "A2"}, "ZN", "Y = !(A | B)"),
    "$_XOR_": ("XOR2_X1", {"A": "A", "B": "B"}, "Z", "Y = A ^ B"),
    "$_XNOR_": ("XNOR2_X1", {"A": "A", "B": "B"}, "ZN", "Y = !(A ^ B)"),
    "$_MUX_": ("MUX2_X1", {"A": "A", "B": "B", "S": "S"}, "Z", "Y = S ? B : A"),
    # AOI21: ZN = !(A | (B1 & B2)); Yosys $_AOI3_: Y = !((A & B) | C)
    "$_AOI3_": ("AOI21_X1", {"A": "B1", "B": "B2", "C": "A"}, "ZN", "Y = !((A & B) | C)"),
    # OAI21: ZN = !(A & (B1 | B2)); Yosys $_OAI3_: Y = !((A | B) & C)
    "$_OAI3_": ("OAI21_X1", {"A": "B1", "B": "B2", "C": "A"}, "ZN", "Y = !((A | B) & C)"),
    "$_AOI4_": ("AOI22_X1", {"A": "A1", "B": "A2", "C": "B1", "D": "B2"}, "ZN",
                "Y = !((A & B) | (C & D))"),
    "$_OAI4_": ("OAI22_X1", {"A": "A1", "B": "A2", "C": "B1", "D": "B2"}, "ZN",
                "Y = !((A | B) & (C | D))"),
}
#: Generic flip-flop -> (NanGate cell, {generic pin: NanGate pin}); C is the clock, Q the output.
FLIP_FLOPS = {
    "$_DFF_P_": ("DFF_X1", {"C": "CK", "D": "D"}),
    "$_DFF_PN0_": ("DFFR_X1", {"C": "CK", "D": "D", "R": "RN"}),
    "$_DFF_PN1_": ("DFFS_X1", {"C": "CK", "D": "D", "S": "SN"}),
}
#: Input transition at which every table is read (ps): index_1 point 3 of the library's
#: Timing_7_7/Power_7_7 tables, about the output transition of an X1 gate driving a few X1
#: inputs (INV_X1 into 3.8 fF: 12.0 ps rising, 7.8 ps falling; NAND2_X1 into 3.7 fF: 16.4 ps).
NOMINAL_SLEW_PS = 17.1859
#: Output load at which internal energy is read (fF): about the mean load of a net in lowbit's
#: generic netlists (fanout pins plus the default wire load).
NOMINAL_LOAD_FF = 4.0
#: Loads (fF) over which each delay line is fitted: fanout 1 to about 8 X1 inputs.
FIT_LOADS_FF = (1.0, 2.0, 4.0, 8.0, 16.0)
_SOURCE = "NangateOpenCellLibrary_typical.lib"


def _line(delays) -> tuple:
    """``(intrinsic, slope, max residual)`` of the least-squares line through ``delays``."""
    loads = np.array(FIT_LOADS_FF)
    slope, intrinsic = np.polyfit(loads, delays, 1)
    return intrinsic, slope, float(np.max(np.abs(intrinsic + slope * loads - delays)))


def _delays(arcs, table) -> np.ndarray:
    """The worst ``table`` ('cell_rise' or 'cell_fall') over ``arcs`` at the nominal slew, at
    each fit load."""
    out = np.full(len(FIT_LOADS_FF), -np.inf)
    for arc in arcs:
        out = np.maximum(out, arc.tables[table].lookup(NOMINAL_SLEW_PS, FIT_LOADS_FF))
    return out


def _lines(arcs) -> tuple:
    """``(text of the rise and fall delay lines, largest residual)`` of ``arcs``."""
    rise = _line(_delays(arcs, "cell_rise"))
    fall = _line(_delays(arcs, "cell_fall"))
    text = (f"rise_ps = {_num(rise[0], 3)}, rise_ps_per_ff = {_num(rise[1])}, "
            f"fall_ps = {_num(fall[0], 3)}, fall_ps_per_ff = {_num(fall[1])}")
    return text, max(rise[2], fall[2])


def _sense(arcs) -> str:
    """The pin's unateness: its arcs' common ``timing_sense``, else non_unate (an XOR's
    state-dependent arcs of both senses)."""
    senses = {a.sense for a in arcs}
    return senses.pop() if len(senses) == 1 else "non_unate"


def _energy(tables, load=NOMINAL_LOAD_FF) -> float:
    """Mean of rise and fall energy (fJ) of one internal-power group at the nominal point."""
    vals = [float(tables[k].lookup(NOMINAL_SLEW_PS, load)) for k in ("rise_power", "fall_power")
            if k in tables]
    return sum(vals) / len(vals)


def _num(x, digits=4) -> str:
    return f"{float(x):.{digits}f}".rstrip("0").rstrip(".")


def _gate(name, lib) -> str:
    cell_name, pins, out, function = CELLS[name]
    cell = lib.cell(cell_name)
    lines = [f'[cells."{name}"]', f'cell = "{cell_name}"', f'function = "{function}"',
             f"leakage_nw = {_num(cell.leakage_nw)}"]
    pin_lines, energies, worst = [], [], 0.0
    for generic, lib_pin in pins.items():
        arcs = [a for a in cell.arcs if a.related_pin == lib_pin and a.pin == out]
        delay, residual = _lines(arcs)
        worst = max(worst, residual)
        power = [p for p in cell.power if p.related_pin == lib_pin and p.pin == out]
        energy = sum(_energy(p.tables) for p in power) / len(power)
        energies.append(energy)
        pin = cell.pins[lib_pin]
        pin_lines.append(f'{generic} = {{ lib_pin = "{lib_pin}", cap_ff = '
                         f'{_num(max(pin.cap_rise_ff, pin.cap_fall_ff))}, sense = '
                         f'"{_sense(arcs)}", {delay}, internal_fj = {_num(energy)} }}')
    lines.append(f"internal_fj = {_num(sum(energies) / len(energies))}")
    lines.append(f'source = "{_SOURCE} cell {cell_name}: pin capacitance; timing_sense, '
                 f'cell_rise and cell_fall of the {out} arcs, fitted (max residual {worst:.2f} '
                 f'ps); internal_power of {out}; cell_leakage_power"')
    lines.append(f'[cells."{name}".pins]')
    return "\n".join(lines + pin_lines) + "\n"


def _flip_flop(name, lib) -> str:
    cell_name, pins = FLIP_FLOPS[name]
    cell = lib.cell(cell_name)
    clock, data = pins["C"], pins["D"]
    launch = [a for a in cell.arcs if a.pin == "Q" and a.kind == "rising_edge"]
    delay, residual = _lines(launch)
    checks = [a for a in cell.arcs if a.pin == data and a.kind == "setup_rising"]
    setup = [max(float(a.tables[t].lookup(NOMINAL_SLEW_PS, NOMINAL_SLEW_PS)) for a in checks)
             for t in ("rise_constraint", "fall_constraint")]
    hidden = [p for p in cell.power if p.pin == clock and p.related_pin is None]

    def state_energy(holds):
        chosen = [p for p in hidden if _q_follows_d(p.when) == holds]
        return sum(sum(float(p.tables[k].lookup(NOMINAL_SLEW_PS, 0.0)) for k in p.tables
                       if k in ("rise_power", "fall_power")) for p in chosen) / len(chosen)

    outputs = [p for p in cell.power if p.pin in ("Q", "QN") and p.related_pin == clock]
    q_arcs = sum(_energy(p.tables) for p in outputs)
    d_power = [p for p in cell.power if p.pin == data and p.related_pin is None]
    d_energy = sum(_energy(p.tables) for p in d_power) / len(d_power)  # 1-D: slew only
    lines = [f'[cells."{name}"]', f'cell = "{cell_name}"',
             'function = "Q <= D at the rising edge of C"',
             f"leakage_nw = {_num(cell.leakage_nw)}",
             f"clock_to_q = {{ {delay} }}",
             f"setup_rise_ps = {_num(setup[0], 3)}",
             f"setup_fall_ps = {_num(setup[1], 3)}",
             f"clock_hold_fj = {_num(state_energy(True))}",
             f"clock_toggle_fj = {_num(state_energy(False) + q_arcs)}",
             f"data_fj = {_num(d_energy)}",
             f'source = "{_SOURCE} cell {cell_name}: pin capacitance; CK->Q rising_edge '
             f'cell_rise and cell_fall, fitted (max residual {residual:.2f} ps); '
             f'setup_rising rise_constraint and fall_constraint of {data}; internal_power of '
             f'{clock} (hidden, by state), Q and QN (related {clock}) and {data} (hidden); '
             f'cell_leakage_power"',
             f'[cells."{name}".pins]']
    for generic, lib_pin in pins.items():
        pin = cell.pins[lib_pin]
        lines.append(f'{generic} = {{ lib_pin = "{lib_pin}", cap_ff = '
                     f'{_num(max(pin.cap_rise_ff, pin.cap_fall_ff))} }}')
    return "\n".join(lines) + "\n"


def _q_follows_d(when: str) -> bool:
    """Whether a flip-flop state condition (``"!D & !Q & QN"``) has Q equal to D."""
    terms = {t.strip().lstrip("!"): not t.strip().startswith("!") for t in when.split("&")}
    return terms.get("D") == terms.get("Q")


HEADER = f'''# Per-cell timing, capacitance and energy data of the generic cells (reports/targets.py,
# target "generic"): one technology, NanGate FreePDK45 Open Cell Library, typical corner.
# Written by `python -m lowbit.reports.nangate_cells {_SOURCE}`;
# do not edit by hand.
#
# Why this library: lowbit's gate-equivalent areas already come from its X1 cells
# (reports/gate_equivalents.py), so area, delay and energy describe the same gates. Each generic
# cell is the X1 cell named in its table; Yosys pins map onto the cell's pins as listed.
#
# Rules (lowbit.reports.nangate_cells):
# - Units: ps, fF, fJ, nW, V.
# - cap_ff: the pin's `capacitance` attribute (the larger of rise and fall capacitance).
# - Delay of an input pin to the output, for a rising and for a falling output: the worst
#   cell_rise (cell_fall) over the pin's timing arcs (every `when` condition), read at the
#   nominal input slew, as a line rise_ps + rise_ps_per_ff x load (fall_ps, fall_ps_per_ff),
#   fitted by least squares at loads 1, 2, 4, 8 and 16 fF (fanout 1 to about 8); the source
#   line of each cell gives the largest residual. `sense` is the pin's timing_sense
#   (non_unate where its arcs differ, as an XOR's do): timing follows rise and fall through
#   it. Slews are not propagated (every input sees the nominal slew), so a slow, heavily
#   loaded net slows its driver (slope x load) but not the gates it drives. On the same
#   netlists (IntMac int8 and int4, FloatMac fp8 and a 2x2 array, each mapped onto these X1
#   cells) this model's critical delay is 0.990-0.998 of the library's full NLDM timing with
#   slew propagation (lowbit's liberty path); combining rise and fall by max at every gate
#   instead came out 11-19% slower.
# - Load of a net: the cap_ff of every pin it drives plus the library's default wire load
#   ([wire_load]) for its fanout; a primary output drives one flip-flop D pin. Nets with more
#   than 8 loads are timed through a tree of $_BUF_ (lowbit.reports.timing.MAX_FANOUT).
# - Flip-flops: clock-to-Q as rise and fall lines in the Q load like a gate; setup_rise_ps and
#   setup_fall_ps are the setup_rising constraints for a rising and a falling D at nominal
#   data and clock slews. Asynchronous reset/set pins are not timed.
# - internal_fj: internal energy per output transition, the mean of rise_power and fall_power
#   at the nominal slew and load, averaged over the pin's internal_power groups (`when`
#   conditions); the cell value is the mean over its pins. It excludes the energy of charging
#   the load (C x V^2 / 2 per transition, from cap_ff, the wire load and supply_v).
# - Flip-flop energy per clock cycle: clock_hold_fj when Q keeps its value (hidden power of
#   the clock pin, rise + fall, in the states with D == Q), clock_toggle_fj when Q changes
#   (clock pin in the states with D != Q, plus the Q and QN output groups); data_fj per
#   transition of D (hidden power of D, mean over states).
# - leakage_nw: cell_leakage_power (the library's state-averaged leakage).

[library]
name = "NanGate FreePDK45 Open Cell Library, typical corner (TypTyp, 25 C, 1.1 V), rev. 1.0"
technology = "45 nm (FreePDK45)"
file = "{_SOURCE}"
source = "{_SOURCE} (supply_v: its nom_voltage), from github The-OpenROAD-Project/OpenSTA examples/nangate45_typ.lib.gz, identical in characterization to github Max-astro/dp-buffer-insertion {_SOURCE}; nominal slew and load: lowbit's choice (header)"
supply_v = 1.1
nominal_slew_ps = {NOMINAL_SLEW_PS}
nominal_load_ff = {NOMINAL_LOAD_FF}
rise_fall = "separate"
'''


def derive(path) -> str:
    """The text of ``cells_nangate45.toml`` from the NanGate liberty file at ``path``."""
    lib = read_liberty(path)
    if lib.name != "NangateOpenCellLibrary" or lib.nom_voltage != 1.1:
        raise LibertyError(f"{path} is not the NanGate typical library (library "
                           f"{lib.name!r}, nom_voltage {lib.nom_voltage})")
    wl = lib.wire_load
    header = HEADER + (f'\n[wire_load]\n'
                       f'model = "{wl.name}"\n'
                       f"cap_per_length_ff = {_num(wl.cap_per_length_ff)}\n"
                       f"slope = {_num(wl.slope)}\n"
                       f"fanout_length = {[[int(f), _num(x)] for f, x in wl.fanout_length]}\n"
                       f'source = "{_SOURCE}: default_wire_load {wl.name} (capacitance, '
                       f'slope, fanout_length)"\n').replace("'", "")
    parts = [header] + [_gate(n, lib) for n in CELLS] + [_flip_flop(n, lib) for n in FLIP_FLOPS]
    return "\n".join(parts)


if __name__ == "__main__":  # pragma: no cover - a maintenance command
    if len(sys.argv) != 2:
        sys.exit("usage: python -m lowbit.reports.nangate_cells NangateOpenCellLibrary_typical.lib")
    sys.stdout.write(derive(sys.argv[1]))
