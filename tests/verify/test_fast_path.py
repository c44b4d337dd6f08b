"""The fast path (:mod:`lowbit.verify.checker_wrapper`) reports what it finds.

A corrupted expected value and a design with a deliberately wrong output bit both fail the
run with the failing index, the operands and got/expected in hex and decoded, exactly as the
per-cycle testbench words them; a run of zero operations fails. With lanes, a set of
accumulation runs passes (segments start at clears) and wrong values in lanes 1 and 2 are
reported with their global indices, the set's first ones whichever lane kept them. The MAC is
the smallest of the regression matrix (int2 x uint2 into a saturating int6 register) so its
wrappers build fast.
"""

import dataclasses

import numpy as np
import pytest
from amaranth.hdl import Module
from amaranth.lib import wiring

from lowbit.verify import checker_wrapper, memory_words, regression
from lowbit.verify.vectors import mac_formats

SMALL = "intmac_int2xuint2_int6_sat"
pytestmark = pytest.mark.xdist_group("fast_path_int2")


def _signed6(code):
    return code - 64 if code >> 5 else code


class FlippedBit(wiring.Component):
    """``unit`` with bit ``bit`` of its ``acc`` output inverted (a design with a wrong bit)."""

    def __init__(self, unit, bit):
        self._unit, self._bit = unit, bit
        self.latency = unit.latency
        self.a_fmt, self.b_fmt, self.accumulator = mac_formats(unit)
        super().__init__(unit.signature)

    def describe(self) -> dict:
        return {**self._unit.describe(), "flipped_acc_bit": self._bit}

    def elaborate(self, platform):
        m = Module()
        m.submodules.unit = unit = self._unit
        for name, member in self.signature.members.items():
            if member.flow == wiring.In:
                m.d.comb += getattr(unit, name).eq(getattr(self, name))
            elif name == "acc":
                m.d.comb += self.acc.eq(unit.acc ^ (1 << self._bit))
            else:
                m.d.comb += getattr(self, name).eq(getattr(unit, name))
        return m


@pytest.fixture(scope="module")
def small():
    entry = regression.by_name(regression.MAC)[SMALL]
    unit = entry.build()
    return entry, unit, entry.vectors(unit, "corners")


def _line(vectors, i, got, want):
    """The per-cycle testbench's wording of one mismatch (int6 register: decoded as signed)."""
    return (f"op {i}: clear={bool(vectors.clear[i])} a=0x{int(vectors.a[i]):x} "
            f"b=0x{int(vectors.b[i]):x}: acc 0x{got:x} ({_signed6(got)!r}), expected "
            f"0x{want:x} ({_signed6(want)!r})")


def test_the_fast_path_passes_a_correct_design(small):
    entry, unit, vectors = small
    row = regression.run_vectors(unit, entry.name, entry.bench, vectors, "corners")
    assert (row["driver"], row["status"], row["error"]) == ("fast", "pass", "")
    assert (row["vectors"], row["mismatches"]) == (len(vectors), 0)
    assert row["latency"] == unit.latency and row["cycles"] == len(vectors) + unit.latency


def test_a_corrupted_expected_value_is_reported_with_index_operands_and_values(small):
    entry, unit, vectors = small
    i = 7
    true = int(vectors.expected[i]) & 63
    expected = vectors.expected.copy()
    expected[i] = expected[i] ^ 0b100  # one wrong bit in golden's value
    bad = dataclasses.replace(vectors, expected=expected)
    row = regression.run_vectors(unit, entry.name, entry.bench, bad, "corners")
    assert (row["status"], row["mismatches"], row["vectors"]) == ("fail", 1, len(vectors))
    assert f"1 mismatches of {len(vectors)}:\n" + _line(vectors, i, true, true ^ 0b100) \
        in row["error"]


def test_a_design_with_a_wrong_bit_is_reported(small):
    entry, unit, vectors = small
    flipped = FlippedBit(entry.build(), bit=0)
    row = regression.run_vectors(flipped, "intmac_flipped_bit0", entry.bench, vectors, "corners")
    assert (row["status"], row["mismatches"]) == ("fail", len(vectors))  # every result wrong
    want = [int(x) & 63 for x in vectors.expected[:checker_wrapper.MAX_FAILS]]
    lines = [_line(vectors, i, w ^ 1, w) for i, w in enumerate(want)]
    assert f"{len(vectors)} mismatches of {len(vectors)}:\n" + "\n".join(lines) in row["error"]


def test_a_run_of_zero_operations_fails(small):
    entry, unit, vectors = small
    empty = dataclasses.replace(vectors, clear=vectors.clear[:0], a=vectors.a[:0],
                                b=vectors.b[:0], expected=vectors.expected[:0])
    row = regression.run_vectors(unit, entry.name, entry.bench, empty, "empty")
    assert (row["status"], row["vectors"]) == ("fail", 0)
    assert row["error"] == "the fast path needs at least one operation, not 0"


def test_pack_and_unpack_place_the_first_field_lowest():
    words = checker_wrapper.pack([np.array([1, 0]), np.array([0x3, 0x2]), [0xAB, 0x1FF]],
                                 [1, 2, 8])
    assert words == [0b1 | 0x3 << 1 | 0xAB << 3, 0x2 << 1 | 0xFF << 3]  # 0x1FF masked to 8 bits
    assert checker_wrapper.unpack(words[1], [("c", 1), ("a", 2), ("b", 8)]) == \
        {"c": 0, "a": 2, "b": 0xFF}


LANES = 3  # one lane-wrapper build for the lane tests; an odd count leaves uneven segments


@pytest.fixture(scope="module")
def runs():
    """The random set of the small MAC: 4,096 operations in runs of about ten, one clear each."""
    entry = regression.by_name(regression.MAC)[SMALL]
    unit = entry.build()
    return entry, unit, entry.vectors(unit, "random")


def _lanes_of(vectors):
    """The lanes' ``(start, end)`` operations, from the clears (as the fast path splits)."""
    restarts = np.union1d([0], np.flatnonzero(vectors.clear))
    return checker_wrapper.segments(restarts, len(vectors), LANES)


def test_lanes_pass_a_set_of_accumulation_runs(runs):
    entry, unit, vectors = runs
    lanes = _lanes_of(vectors)
    assert all(vectors.clear[s] for s, _ in lanes[1:])  # lanes 1 and 2 start at a clear
    row = regression.run_vectors(unit, entry.name, entry.bench, vectors, "random", lanes=LANES)
    assert (row["status"], row["error"], row["lanes"]) == ("pass", "", LANES)
    assert (row["vectors"], row["mismatches"]) == (len(vectors), 0)
    longest = int((lanes[:, 1] - lanes[:, 0]).max())
    assert row["latency"] == unit.latency and row["cycles"] == longest + unit.latency
    assert row["cycles"] < len(vectors) // 2  # the lanes ran side by side


def test_wrong_values_in_later_lanes_are_reported_with_global_indices(runs):
    entry, unit, vectors = runs
    (_, end0), (start1, end1), (start2, _) = _lanes_of(vectors)
    one = (start1 + end1) // 2  # one wrong value in lane 1, ten early in lane 2
    wrong = [one, *range(start2 + 5, start2 + 15)]
    expected = vectors.expected.copy()
    expected[wrong] ^= 0b1000
    bad = dataclasses.replace(vectors, expected=expected)
    row = regression.run_vectors(unit, entry.name, entry.bench, bad, "random", lanes=LANES)
    assert (row["status"], row["mismatches"], row["vectors"]) == ("fail", 11, len(vectors))
    true = [int(vectors.expected[i]) & 63 for i in wrong]
    lines = [_line(vectors, i, t, t ^ 0b1000) for i, t in zip(wrong, true)]
    # lane 2 kept its first eight; the report is the set's first eight: lane 1's, then lane 2's
    assert f"11 mismatches of {len(vectors)}:\n" + "\n".join(lines[:8]) in row["error"]
    assert _line(vectors, wrong[8], true[8], true[8] ^ 0b1000) not in row["error"]


@pytest.mark.parametrize("clears, operations, lanes, expected", [
    ([0, 3, 5, 9], 12, 3, [(0, 5), (5, 9), (9, 12)]),  # each lane from the next clear on
    ([0], 12, 3, [(0, 12), (12, 12), (12, 12)]),  # no clear after the first: one lane works
    ([0, 1, 2], 3, 5, [(0, 1), (1, 2), (2, 3), (3, 3), (3, 3)]),  # more lanes than operations
    ([0, 11], 12, 2, [(0, 11), (11, 12)]),
])
def test_segments_start_at_clears(clears, operations, lanes, expected):
    assert checker_wrapper.segments(clears, operations, lanes).tolist() == \
        [list(e) for e in expected]


def test_segments_cover_every_operation_once():
    rng = np.random.default_rng(21)
    for _ in range(200):
        n, lanes = int(rng.integers(1, 300)), int(rng.integers(1, 9))
        clears = np.union1d([0], np.flatnonzero(rng.random(n) < rng.random()))
        got = checker_wrapper.segments(clears, n, lanes)
        assert got.shape == (lanes, 2)
        used = got[got[:, 0] < got[:, 1]]
        assert used[0, 0] == 0 and used[-1, 1] == n and (used[1:, 0] == used[:-1, 1]).all()
        assert np.isin(used[:, 0], clears).all() and (got[len(used):] == n).all()


def test_layout_restarts_are_the_clears():
    layout = checker_wrapper.Layout((("clear", 1), ("a", 2)), (("acc", 6),), restart="clear")
    clear = np.array([0, 1, 0, 1, 1], dtype=bool)
    assert layout.restarts([clear, np.zeros(5)]).tolist() == [0, 1, 3, 4]
    assert checker_wrapper.Layout(layout.inputs, layout.outputs).restarts([clear]).tolist() == [0]


def test_binary_words_are_big_endian_and_match_python_formatting():
    columns = [np.array([1, 0, 1]), np.array([-1, 5, -8]), np.array([0x1FF, 3, 0x80])]
    widths = [1, 4, 9]  # 14 bits: two bytes a word; -1 masked to 0xF
    words = memory_words.pack(columns, widths)
    assert words == [1 | 0xF << 1 | 0x1FF << 5, 5 << 1 | 3 << 5, 1 | 8 << 1 | 0x80 << 5]
    assert memory_words.binary_words(memory_words.pack_array(columns, widths), 14) == \
        b"".join(w.to_bytes(2, "big") for w in words)
    assert memory_words.binary_words(words, 14) == b"".join(w.to_bytes(2, "big") for w in words)
    assert memory_words.hex_lines(memory_words.pack_array(columns, widths), 14) == \
        "".join(f"{w:04x}\n" for w in words).encode()
    wide = [(1 << 70) | 5]  # past 64 bits: Python integers
    assert memory_words.binary_words(wide, 71) == wide[0].to_bytes(9, "big")


def test_long_runs_build_at_o2_in_lanes_unless_the_environment_says(monkeypatch):
    from lowbit.verify.runner import verilator_opt

    short, long = checker_wrapper.LANE_OPERATIONS - 1, checker_wrapper.LANE_OPERATIONS
    assert (checker_wrapper.lanes_for(short), checker_wrapper.lanes_for(long)) == \
        (1, checker_wrapper.LANES)
    assert (checker_wrapper.run_opt(short), checker_wrapper.run_opt(long)) == ("-O0", "-O2")
    monkeypatch.delenv("LOWBIT_VERILATOR_OPT", raising=False)
    assert verilator_opt(checker_wrapper.run_opt(long)) == "-O2"
    monkeypatch.setenv("LOWBIT_VERILATOR_OPT", "-O1")
    assert verilator_opt(checker_wrapper.run_opt(long)) == "-O1"
