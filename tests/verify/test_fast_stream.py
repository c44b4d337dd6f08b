"""The fast path's beat-stream layout (GEMM engines) reports what it finds.

The engine is the quick regression's weight-stationary 4x4 int8 array (its build is the one
``lowbit regress --quick`` makes): its partial sums go out and come back in (feedback beats),
and its output beats have padding lanes in ragged GEMMs. A corrupted expected beat and an
engine with a wrong output bit fail the run with the GEMM, beat, lane, ``C[m, n]`` and
got/expected in hex and decoded, worded as the per-cycle testbench words them; the measured
cycles still equal the closed form; a feedback beat naming a result not yet out, and a run with
no result beat, fail.
"""

import copy

import numpy as np
import pytest
from amaranth.hdl import Module
from amaranth.lib import wiring

from lowbit.verify import checker_wrapper, regression
from lowbit.verify.gemm_vectors import GemmCase, GemmVectors, operands, stream

WS = "systolic4x4_ws_intmac_int8xint8_int24"
pytestmark = pytest.mark.xdist_group("rtl")


class FlippedBit(wiring.Component):
    """``engine`` with bit ``bit`` of its ``c`` output inverted (an engine with a wrong bit)."""

    def __init__(self, engine, bit):
        self._engine, self._bit = engine, bit
        self.accumulator, self.out_bits = engine.accumulator, engine.out_bits
        super().__init__(engine.signature)

    def describe(self) -> dict:
        return {**self._engine.describe(), "flipped_c_bit": self._bit}

    def elaborate(self, platform):
        m = Module()
        m.submodules.engine = engine = self._engine
        for name, member in self.signature.members.items():
            if member.flow == wiring.In:
                m.d.comb += getattr(engine, name).eq(getattr(self, name))
            elif name == "c":
                m.d.comb += self.c.eq(engine.c ^ (1 << self._bit))
            else:
                m.d.comb += getattr(self, name).eq(getattr(engine, name))
        return m


@pytest.fixture(scope="module")
def ws():
    entry = regression.by_name(regression.GEMM)[WS]
    engine = entry.build()
    return entry, engine, entry.vectors(engine, "gemm_quick")


def _signed24(code):
    return code - (1 << 24) if code >> 23 else code


def _lane(vectors, g, b, j):
    """``(C[m, n] spot, expected code)`` of lane ``j`` of output beat ``b`` of GEMM ``g``."""
    gemm = vectors.gemms[g]
    return gemm["where"][b][j], (int(gemm["expected"][b], 16) >> (24 * j)) & (1 << 24) - 1


def _line(b, j, spot, got, want):
    """The per-cycle testbench's wording of one wrong lane (int24 lanes: decoded as signed)."""
    m, n, k_end = spot
    return (f"beat {b} lane {j}: C[{m}, {n}] over k < {k_end}: got 0x{got:x} "
            f"({_signed24(got)!r}), expected 0x{want:x} ({_signed24(want)!r})")


def _head(gemm, cycles=None):
    cycles = gemm["cycles"] if cycles is None else cycles
    return (f"{gemm['label']} {gemm['M']}x{gemm['K']}x{gemm['N']}: cycles {cycles} "
            f"(closed form {gemm['cycles']}); ")


def test_a_correct_engine_passes_in_its_closed_form_cycles(ws):
    entry, engine, vectors = ws
    row = regression.run_vectors(engine, entry.name, entry.bench, vectors, "gemm_quick")
    assert (row["driver"], row["status"], row["error"]) == ("fast", "pass", "")
    assert (row["vectors"], row["mismatches"], row["cycle_mismatches"]) == (len(vectors), 0, 0)
    assert [g["cycles"] for g in row["gemms"]] == [engine.cycles(g["M"], g["K"], g["N"])
                                                   for g in vectors.gemms]
    assert any(isinstance(v, dict) for g in vectors.gemms for beat in g["beats"] for v in beat)


def test_a_corrupted_expected_beat_is_reported_with_location_and_values(ws):
    entry, engine, vectors = ws
    bad = copy.deepcopy(vectors)
    g, b, j = 1, 3, 2  # GEMM "ragged" (5x13x5), beat 3, lane 2
    spot, true = _lane(vectors, g, b, j)
    assert spot is not None
    gemm = bad.gemms[g]
    gemm["expected"][b] = hex(int(gemm["expected"][b], 16) ^ (1 << (24 * j + 5)))
    row = regression.run_vectors(engine, entry.name, entry.bench, bad, "gemm_quick")
    assert (row["status"], row["mismatches"], row["cycle_mismatches"]) == ("fail", 1, 0)
    assert row["vectors"] == len(vectors)
    assert f"1 of 5 GEMMs failed:\n{_head(gemm)}" + _line(b, j, spot, true, true ^ 1 << 5) \
        in row["error"]


def test_an_engine_with_a_wrong_bit_is_reported(ws):
    """Bit 2 of lane 1 inverted, on GEMMs of one K pass (K <= the array's 4 rows: no partial sum
    fed back, so every received lane 1 is the golden code with that bit inverted)."""
    entry, engine, _ = ws
    rng = np.random.default_rng(7)
    cases = (GemmCase("one_tile", 4, 4, 4, "random"), GemmCase("ragged", 5, 3, 6, "random"))
    vectors = GemmVectors("one_pass", [stream(engine, case, *operands(engine, case, rng))
                                       for case in cases])
    flipped = FlippedBit(entry.build(), bit=24 + 2)
    row = regression.run_vectors(flipped, "systolic_flipped_bit26", entry.bench, vectors,
                                 "one_pass")
    assert row["status"] == "fail" and row["cycle_mismatches"] == 0
    wrong = [[b for b, where in enumerate(g["where"]) if where[1] is not None]
             for g in vectors.gemms]
    assert [len(beats) for beats in wrong] == [4, 10]
    assert row["mismatches"] == 14 and [g["mismatches"] for g in row["gemms"]] == [4, 10]
    report, kept = [], checker_wrapper.MAX_FAILS
    for g, beats in enumerate(wrong):
        lines = []
        for b in beats[:kept]:
            spot, want = _lane(vectors, g, b, 1)
            lines.append(_line(b, 1, spot, want ^ 0b100, want))
        if len(beats) > len(lines):
            lines.append(f"{len(beats)} mismatching result beats in all")
        kept -= len(lines)
        report.append(_head(vectors.gemms[g]) + "; ".join(lines))
    # the first MAX_FAILS wrong beats span both GEMMs: 4 in the first, 4 of 10 in the second
    assert report[1].count("lane 1: C[") == 4 and report[1].endswith("10 mismatching result "
                                                                       "beats in all")
    assert "2 of 2 GEMMs failed:\n" + "\n".join(report) in row["error"]


def test_a_feedback_beat_before_its_result_stops_the_run(ws):
    entry, engine, vectors = ws
    bad = copy.deepcopy(vectors)
    beats = bad.gemms[0]["beats"]
    c_in = bad.gemms[0]["ports"].index("c_in")
    i = next(i for i, beat in enumerate(beats) if isinstance(beat[c_in], dict))
    beats[i][c_in] = {"feedback": len(bad.gemms[0]["expected"]) - 1}  # the GEMM's last result
    row = regression.run_vectors(engine, entry.name, entry.bench, bad, "gemm_quick")
    assert row["status"] == "fail"
    assert f"input beat {i} needs an output beat before it left the engine" in row["error"]


def test_a_run_of_no_result_beats_fails(ws):
    entry, engine, vectors = ws
    empty = copy.deepcopy(vectors)
    empty.gemms = []
    row = regression.run_vectors(engine, entry.name, entry.bench, empty, "empty")
    assert (row["status"], row["vectors"]) == ("fail", 0)
    assert row["error"] == "the fast path needs at least one result beat, not 0"
