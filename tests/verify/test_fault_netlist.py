"""Fault sites of a synthesized netlist and its instrumentation (the resilience groundwork)."""

import re

import pytest

from lowbit.hdl import export
from lowbit.verify.faults import adequacy
from lowbit.verify.faults.netlist import (FaultNetlistError, InstrumentedNetlist, draw_sites,
                                          enumerate_sites)

pytestmark = pytest.mark.xdist_group("rtl")

SMALL = "intmac_int2xuint2_int6_sat"


@pytest.fixture(scope="module")
def netlist():
    unit = adequacy.entry(SMALL).build()
    rtl = export(unit, SMALL)
    return unit, InstrumentedNetlist.prepare(
        rtl, [({"const0": 5, "const1": 5, "upset": 4}, None)], 7, select_key="test")


def test_every_flip_flop_is_an_upset_candidate(netlist):
    unit, net = netlist
    # dffunmap leaves plain flip-flops: the 6-bit accumulator and the output valid
    assert net.candidates["upset"] >= len(unit.acc) + 1
    assert net.candidates["const0"] == net.candidates["const1"] > net.candidates["upset"]


def test_draw_is_seeded_and_numbered_from_one(netlist):
    _, net = netlist
    assert [s.id for s in net.sites] == list(range(1, 15))
    assert [s.mode for s in net.sites] == ["const0"] * 5 + ["const1"] * 5 + ["upset"] * 4
    assert all(s.port == "D" and s.cell_type == "$_DFF_P_" for s in net.sites[10:])


def test_instrumented_netlist_has_the_fault_select_input(netlist):
    _, net = netlist
    text = net.verilog.read_text()
    assert re.search(r"input \[3:0\] fault_sel;", text)


def test_draw_refuses_an_empty_selection():
    candidates = {"const0": [("c", "Y", 0, None, None, "$_AND_")], "const1": [], "upset": []}
    with pytest.raises(FaultNetlistError, match="no upset fault site"):
        draw_sites(candidates, {"upset": 1}, 0)


def test_enumerate_names_the_register_a_flop_holds():
    module = {"netnames": {"acc": {"bits": [5, 6]}, "$auto$1": {"bits": [5]}},
              "cells": {"$ff": {"type": "$_DFF_P_", "port_directions": {"D": "input",
                                                                         "Q": "output"},
                                "connections": {"D": [9], "Q": [6]}}}}
    sites = enumerate_sites(module)
    assert sites["upset"] == [("$ff", "D", 0, "acc", 1, "$_DFF_P_")]
    assert sites["const0"] == [("$ff", "Q", 0, "acc", 1, "$_DFF_P_")]
