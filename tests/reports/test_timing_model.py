"""Timing without Yosys: the Liberty reader, the cell data file, the netlist model and the STA
engine on hand-built netlists whose delays are computed here by hand from the data."""

import math
import os
from pathlib import Path

import numpy as np
import pytest

from lowbit.reports import cell_data, liberty, netlist, timing
from tests.reports import timing_lib
from tests.reports.hand_netlists import Builder

HERE = Path(__file__).parent
DATA = cell_data.load_cell_data()


def chain(n, cut=None, fanout=1):
    """clk, d -> FF -> n inverters -> FF -> q; a flip-flop after inverter ``cut``; the first
    inverter's output drives ``fanout`` inverters (the extra ones into flip-flops)."""
    b = Builder().port("clk", "input").port("d", "input").port("q", "output")
    b.cell("ff_in", "$_DFF_P_", C="clk", D="d", Q="s0")
    prev = "s0"
    for i in range(1, n + 1):
        b.cell(f"inv{i}", "$_NOT_", A=prev, Y=f"s{i}")
        prev = f"s{i}"
        if i == cut:
            b.cell("ff_cut", "$_DFF_P_", C="clk", D=prev, Q=f"c{i}")
            prev = f"c{i}"
    for k in range(1, fanout):
        b.cell(f"load{k}", "$_NOT_", A="s1", Y=f"l{k}")
        b.cell(f"ff_load{k}", "$_DFF_P_", C="clk", D=f"l{k}", Q=f"lq{k}")
    b.cell("ff_out", "$_DFF_P_", C="clk", D=prev, Q="q")
    return b


def wire(fanout):
    return float(DATA.wire_load.cap_ff(np.array([fanout]))[0])


NOT = DATA.gates["$_NOT_"].pins["A"]
DFF = DATA.flip_flops["$_DFF_P_"]
C_NOT, C_D = NOT.cap_ff, DFF.pins["D"].cap_ff


def line(lines, load):
    """(rise, fall) delay of a pin's or a clock-to-Q's delay lines into ``load`` fF."""
    return (lines.rise_ps + lines.rise_ps_per_ff * load,
            lines.fall_ps + lines.fall_ps_per_ff * load)


def by_hand(launch_load, inverter_loads):
    """Flop -> inverters (each into its load) -> flop D: (rise, fall) arrivals, then setup."""
    rise, fall = line(DFF.clock_to_q, launch_load)
    for load in inverter_loads:  # an inverter is negative unate: a rise comes from a fall
        d_rise, d_fall = line(NOT.delay, load)
        rise, fall = fall + d_rise, rise + d_fall
    return max(rise + DFF.setup_rise_ps, fall + DFF.setup_fall_ps)


MODEL = timing.generic_model()


def test_an_inverter_chain_takes_the_sum_of_its_stages_by_hand():
    n = 5
    report = timing.analyze(chain(n).netlist(MODEL.kinds), MODEL)
    # flop -> 4 inverters each driving one inverter -> an inverter driving a flop's D -> setup
    expected = by_hand(C_NOT + wire(1), [C_NOT + wire(1)] * (n - 1) + [C_D + wire(1)])
    assert report.reg_to_reg_ps == pytest.approx(expected, abs=1e-9)
    assert report.delay_ps == report.reg_to_reg_ps
    assert report.fmax_mhz == pytest.approx(1e6 / expected)
    path = report.path
    assert (path.kind, path.start, path.end, path.cells) == ("reg_to_reg", "s0", "q", n)
    assert [s.cell for s in path.steps] == ["ff_in"] + [f"inv{i}" for i in range(1, n + 1)]
    last = line(NOT.delay, C_D + wire(1))[("rise", "fall").index(path.steps[-1].edge)]
    assert path.steps[-1].delay_ps == pytest.approx(last, abs=1e-3)
    assert [s.edge for s in path.steps[1:-1]] == [
        {"rise": "fall", "fall": "rise"}[s.edge] for s in path.steps[2:]]
    # the port-bounded classes: an input flip-flop into ff_in, ff_out into an output flip-flop
    assert report.in_to_reg_ps == pytest.approx(by_hand(C_D + wire(1), []))
    assert report.reg_to_out_ps == pytest.approx(by_hand(C_D + wire(1), []))
    assert report.in_to_out_ps is None
    assert report.logic_depth == n and report.ffs == 2


def test_delay_grows_by_a_rise_and_a_fall_per_two_inverters():
    lengths = (2, 4, 6, 10)
    delays = [timing.analyze(chain(n).netlist(MODEL.kinds), MODEL).delay_ps for n in lengths]
    steps = np.diff(delays) / np.diff(lengths) * 2
    assert steps == pytest.approx([sum(line(NOT.delay, C_NOT + wire(1)))] * 3)


def test_a_register_cut_lowers_the_delay():
    whole = timing.analyze(chain(8).netlist(MODEL.kinds), MODEL)
    cut = timing.analyze(chain(8, cut=4).netlist(MODEL.kinds), MODEL)
    half = timing.analyze(chain(4).netlist(MODEL.kinds), MODEL)
    assert cut.delay_ps < whole.delay_ps
    assert cut.delay_ps == pytest.approx(half.delay_ps)  # two 4-inverter stages
    assert cut.ffs == whole.ffs + 1


def test_more_fanout_on_a_net_raises_the_delay():
    fanouts = (1, 2, 4, 8)
    delays = [timing.analyze(chain(3, fanout=k).netlist(MODEL.kinds), MODEL).delay_ps
              for k in fanouts]
    assert all(a < b for a, b in zip(delays, delays[1:]))
    for k, d in zip(fanouts, delays):  # inv1 drives inv2 and k - 1 load inverters
        assert d == pytest.approx(by_hand(C_NOT + wire(1), [k * C_NOT + wire(k), C_NOT + wire(1),
                                                             C_D + wire(1)]))


def test_a_high_fanout_net_is_timed_through_a_buffer_tree():
    nl = chain(3, fanout=200).netlist(MODEL.kinds)
    buffered = timing.analyze(nl, MODEL)
    bare = timing.analyze(nl, MODEL, max_fanout=None)
    eight = timing.analyze(chain(3, fanout=8).netlist(MODEL.kinds), MODEL)
    assert eight.delay_ps < buffered.delay_ps < bare.delay_ps
    (step,) = [s for s in buffered.path.steps if s.net == "s1"]
    assert step.fanout == 200 and step.buffers == 2  # 200 loads: 8 x 8 x 4


def test_the_critical_path_starts_at_a_port_when_the_input_side_is_slowest():
    b = Builder().port("clk", "input").port("a", "input").port("q", "output")
    for i in range(1, 7):
        b.cell(f"inv{i}", "$_NOT_", A="a" if i == 1 else f"s{i - 1}", Y=f"s{i}")
    b.cell("ff", "$_DFF_P_", C="clk", D="s6", Q="q")
    report = timing.analyze(b.netlist(MODEL.kinds), MODEL)
    assert report.path.kind == "in_to_reg" and report.path.start == "a"
    assert report.path.steps[0].cell == "(input flip-flop)"
    ideal = timing.analyze(b.netlist(MODEL.kinds), MODEL, io="ideal")
    # registered inputs arrive one clock-to-Q (of the edge that ends up worst) later
    launch = line(DFF.clock_to_q, C_NOT + wire(1))
    assert min(abs(report.in_to_reg_ps - ideal.in_to_reg_ps - x) for x in launch) < 1e-9


def test_fmax_of_a_netlist_without_registers_is_one_clear_error():
    b = Builder().port("a", "input").port("y", "output")
    b.cell("inv", "$_NOT_", A="a", Y="y")
    report = timing.analyze(b.netlist(MODEL.kinds), MODEL)
    assert report.ffs == 0 and report.in_to_out_ps == report.delay_ps
    assert report.row()["fmax_mhz"] is None
    with pytest.raises(timing.TimingError) as info:
        report.fmax_mhz
    assert str(info.value) == ("m has no registers: Fmax needs a clock, and a purely "
                               f"combinational design has none (its input-to-output delay is "
                               f"{report.delay_ps:.1f} ps)")


def test_an_unknown_cell_type_is_one_clear_error():
    b = Builder().port("a", "input").port("y", "output")
    b.cell("u1", "$_DLATCH_P_", E="a", D="a", Q="y")
    with pytest.raises(netlist.NetlistError) as info:
        b.netlist(MODEL.kinds)
    assert str(info.value) == ("hand netlist: unsupported cell type $_DLATCH_P_ (cell u1); the "
                               "cell model knows " + ", ".join(MODEL.kinds))


def test_a_combinational_loop_is_refused():
    b = Builder().port("a", "input").port("y", "output")
    b.cell("g1", "$_NAND_", A="a", B="y", Y="w").cell("g2", "$_NOT_", A="w", Y="y")
    with pytest.raises(netlist.NetlistError, match=r"combinational loop through 2 cells"):
        b.netlist()


def test_an_unknown_io_convention_is_refused():
    with pytest.raises(timing.TimingError) as info:
        timing.analyze(chain(2).netlist(MODEL.kinds), MODEL, io="clocked")
    assert str(info.value) == "io must be one of registered, ideal, not 'clocked'"


def test_the_netlist_model_orders_cells_and_names_nets():
    nl = chain(4, cut=2).netlist()
    assert nl.n_cells == 7 and list(nl.cell_names[i] for i in nl.ff_cells) == \
        ["ff_in", "ff_cut", "ff_out"]
    assert [nl.level[nl.cell_names.index(f"inv{i}")] for i in range(1, 5)] == [1, 2, 1, 2]
    assert nl.depth == 2
    # comb_order is topological: every driver of a cell's input comes earlier
    position = {c: k for k, c in enumerate(nl.comb_order)}
    for c in nl.comb_order:
        for net in nl.in_net[nl.in_ptr[c]:nl.in_ptr[c + 1]]:
            drv = nl.net_driver[net]
            if drv >= 0 and not nl.sequential[nl.out_cell[drv]]:
                assert position[nl.out_cell[drv]] < position[c]
    assert [nl.net_name(n) for n in nl.ff_q] == ["s0", "c2", "q"]
    assert [nl.net_name(n) for n in nl.ff_d] == ["d", "s2", "s4"]
    pins = nl.cell_pins(nl.cell_names.index("inv1"))
    assert set(pins) == {"A", "Y"} and pins["A"] == nl.ff_q[0]
    assert nl.net_fanout[pins["Y"]] == 1 and nl.net_name(pins["Y"]) == "s1"


# --- the liberty model ------------------------------------------------------------------------
@pytest.fixture(scope="module")
def test_lib(tmp_path_factory):
    return liberty.read_liberty(timing_lib.write(tmp_path_factory.mktemp("lib") / "t.lib"))


def test_liberty_tables_read_in_ps_and_ff_and_interpolate_exactly(test_lib):
    cell = test_lib.cell("T_NAND2")
    assert cell.area == 2.0 and cell.inputs == ("A", "B") and cell.outputs == ("Y",)
    assert (cell.pins["A"].cap_rise_ff, cell.pins["A"].cap_fall_ff) == (1.5, 1.5)
    arc = [a for a in cell.arcs if a.related_pin == "B"][0]
    assert arc.sense == "negative_unate" and arc.kind == "combinational"
    table = arc.tables["cell_rise"]
    assert table.index_1.tolist() == pytest.approx([5.0, 20.0, 80.0, 300.0])  # ns -> ps
    # inside the grid, between points and past both edges: the generating bilinear formula
    for slew, load in ((20.0, 2.0), (33.3, 5.5), (1.0, 0.1), (500.0, 64.0)):
        assert float(table.lookup(slew, load)) == pytest.approx(
            timing_lib.expected("T_NAND2", 1, "cell_rise", slew, load), abs=1e-9)
    dff = test_lib.cell("T_DFF")
    assert dff.ff == {"next_state": "D", "clocked_on": "CK"}


def test_nldm_sta_tracks_rise_fall_unateness_and_slew_by_hand(test_lib):
    b = Builder().port("a", "input").port("y", "output")
    b.cell("i1", "T_INV", A="a", Y="n1").cell("i2", "T_INV", A="n1", Y="y")
    model = timing.TableModel(test_lib)
    report = timing.analyze(b.netlist(model.kinds), model, io="ideal", max_fanout=None)

    def t(table, slew, load):
        return timing_lib.expected("T_INV", 0, table, slew, load)

    cap_rise, cap_fall = 1.6, 1.4  # i2's input, as written in the library
    # i1 (negative unate) from a switching at t = 0 with slew 0
    n1_rise, n1_fall = t("cell_rise", 0, cap_rise), t("cell_fall", 0, cap_fall)
    s_rise, s_fall = t("rise_transition", 0, cap_rise), t("fall_transition", 0, cap_fall)
    # i2 drives the output port: no load in the ideal convention
    y_rise = n1_fall + t("cell_rise", s_fall, 0.0)
    y_fall = n1_rise + t("cell_fall", s_rise, 0.0)
    assert report.in_to_out_ps == pytest.approx(max(y_rise, y_fall), abs=1e-9)
    edge = "rise" if y_rise > y_fall else "fall"
    assert report.path.steps[-1].edge == edge and len(report.path.steps) == 3


def test_a_liberty_without_timing_tables_is_one_clear_error():
    lib = liberty.read_liberty(HERE / "tiny.lib")
    with pytest.raises(timing.TimingError) as info:
        timing.TableModel(lib)
    assert str(info.value) == ("liberty file 'tiny.lib' has no timing tables (cell_rise/"
                               "cell_fall): timing needs the library's NLDM delay tables; "
                               "synthesize with timing=False (--no-timing) for area alone")


def test_a_file_that_is_not_liberty_is_refused(tmp_path):
    bad = tmp_path / "x.lib"
    bad.write_text("cell (X) { area : 1; }")
    with pytest.raises(liberty.LibertyError) as info:
        liberty.read_liberty(bad)
    assert str(info.value) == (f"{bad} is not a Liberty library (it must start with "
                               f"'library (name) {{')")


# --- the cell data file -----------------------------------------------------------------------
def test_every_generic_cell_has_sourced_data():
    assert set(DATA.types) == set(netlist.GENERIC_CELLS)
    for t in DATA.types:
        entry = DATA.cell(t)
        assert entry.source.startswith("NangateOpenCellLibrary_typical.lib cell ")
        assert entry.leakage_nw > 0 and all(p.cap_ff > 0 for p in entry.pins.values())
    assert DATA.supply_v == 1.1 and DATA.nominal_slew_ps == pytest.approx(17.1859)
    # an inverter is faster than a NAND2, which is faster than an XOR2 (same load)
    at = {t: DATA.gates[t].pins["A"] for t in ("$_NOT_", "$_NAND_", "$_XOR_")}
    delays = [max(line(p.delay, 4.0)) for p in at.values()]
    assert delays == sorted(delays)
    assert [p.sense for p in at.values()] == ["negative_unate", "negative_unate", "non_unate"]
    assert min(line(DFF.clock_to_q, 0.0)) > max(DFF.setup_rise_ps, DFF.setup_fall_ps) > 0
    assert DFF.clock_toggle_fj > DFF.clock_hold_fj > 0


def test_a_cell_data_table_without_its_source_is_refused(tmp_path):
    text = cell_data.DEFAULT_PATH.read_text()
    start = text.index('[cells."$_AND_"]')
    line = text.index("source = ", start)
    broken = tmp_path / "cells.toml"
    broken.write_text(text[:line] + text[text.index("\n", line) + 1:])
    with pytest.raises(cell_data.CellDataError) as info:
        cell_data.load_cell_data(broken)
    assert str(info.value) == (f'cell data file {broken} [cells."$_AND_"] has no source: every '
                               f'table of numbers must name where they come from '
                               f'(source = "...")')


@pytest.mark.skipif(not os.environ.get("LOWBIT_NANGATE_LIB"),
                    reason="set LOWBIT_NANGATE_LIB to the NanGate typical .lib to re-derive")
def test_the_committed_cell_data_is_what_the_library_gives():
    from lowbit.reports import nangate_cells

    assert nangate_cells.derive(os.environ["LOWBIT_NANGATE_LIB"]) == \
        cell_data.DEFAULT_PATH.read_text()


def test_timing_report_round_trips_through_json():
    report = timing.analyze(chain(3).netlist(MODEL.kinds), MODEL)
    again = timing.TimingReport.from_dict(report.to_dict())
    assert again == report and again.path.summary() == "s0 -> q (3 cells)"
    assert math.isclose(again.row()["delay_ps"], round(report.delay_ps, 1))


def test_wire_load_interpolates_and_extrapolates_like_liberty():
    wl = DATA.wire_load  # NanGate 5K_hvratio_1_1: length 25.4842 at fanout 9, 27.032 at 11
    caps = wl.cap_ff(np.array([0, 1, 10, 13]))
    assert caps == pytest.approx([0.0, 1.746 * 0.1774, (25.4842 + 27.032) / 2 * 0.1774,
                                  (27.032 + 5 * 2) * 0.1774])


def test_pin_load_counts_every_driven_pin_and_the_output_flip_flop():
    nl = chain(2, fanout=3).netlist(MODEL.kinds)
    load = timing.pin_load_ff(nl, MODEL)
    s1 = nl.out_net[nl.out_ptr[nl.cell_names.index("inv1")]]
    q = nl.outputs["q"][0]
    assert load[:, s1] == pytest.approx([3 * C_NOT] * 2)  # inv2 and two load inverters
    assert load[:, q] == pytest.approx([C_D] * 2)  # the output flip-flop's D
    assert timing.pin_load_ff(nl, MODEL, io="ideal")[:, q] == pytest.approx([0.0, 0.0])
