"""The fast path (:mod:`lowbit.verify.checker_wrapper`) reports what it finds.

A corrupted expected value and a design with a deliberately wrong output bit both fail the
run with the failing index, the operands and got/expected in hex and decoded, exactly as the
per-cycle testbench words them; a run of zero operations fails. The MAC is the smallest of the
regression matrix (int2 x uint2 into a saturating int6 register) so its wrapper builds fast.
"""

import dataclasses

import numpy as np
import pytest
from amaranth.hdl import Module
from amaranth.lib import wiring

from lowbit.verify import checker_wrapper, regression
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
