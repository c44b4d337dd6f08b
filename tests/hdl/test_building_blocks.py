"""Shared RTL building blocks against golden, exhaustively, on Amaranth's Python simulator.

Configurations: LeadingZeroCount for every width 1..12 (powers of two, odd widths and widths
one past a power of two, where the tree pads), Normalizer at 8 and 11 bits (padded and
unpadded trees), Rounder 10 -> 4 bits in every deterministic mode for both signs, plus shift
1 (no sticky bits) and 6 -> 4 (stochastic with R = 3 wider than the 2 discarded bits, which
golden pads with zeros); stochastic runs every random value for R = 2 and 3.
"""


import numpy as np
import pytest
from amaranth.back import verilog
from amaranth.sim import Simulator

from lowbit.errors import OperationError
from lowbit.golden.binary import highest_bit
from lowbit.golden.rounding import ROUNDING_MODES, Stochastic, shift_round
from lowbit.hdl.leading_zeros import LeadingZeroCount
from lowbit.hdl.normalizer import Normalizer
from lowbit.hdl.rounder import DETERMINISTIC_MODES, Rounder, RoundingMode
from tests.expect import raises_exactly


def simulate(dut, rows, outputs):
    """Drive each ``{port: value}`` row into combinational ``dut``; return outputs per row.

    Returns an array of Python ints (any width) of shape ``(len(rows), len(outputs))``.
    """
    got = []

    async def bench(ctx):
        for row in rows:
            for port, value in row.items():
                ctx.set(getattr(dut, port), int(value))
            # Testbenches see settled combinational values after ctx.set.
            got.append([ctx.get(getattr(dut, name)) for name in outputs])

    sim = Simulator(dut)
    sim.add_testbench(bench)
    sim.run()
    return np.array(got, dtype=object).reshape(len(rows), len(outputs))


def assert_equal(got, expected, inputs, what):
    """Compare as Python ints (any width); fail listing the first mismatches in hex."""
    got, expected = [int(g) for g in got], [int(e) for e in expected]
    bad = [i for i, (g, e) in enumerate(zip(got, expected, strict=True)) if g != e]
    assert not bad, f"{what}: {len(bad)} mismatches, first " + ", ".join(
        f"{inputs[i]} -> {int(got[i]):#x}, expected {int(expected[i]):#x}" for i in bad[:5])


@pytest.mark.parametrize("width", range(1, 13))
def test_leading_zero_count_every_value(width):
    values = np.arange(1 << width, dtype=np.uint64)
    got = simulate(LeadingZeroCount(width), [{"value": v} for v in values], ["count", "zero"])
    expected_count = width - 1 - highest_bit(values)
    assert_equal(got[:, 0], expected_count, [hex(v) for v in values], f"count, width {width}")
    assert_equal(got[:, 1], values == 0, [hex(v) for v in values], f"zero, width {width}")


@pytest.mark.parametrize("width", [8, 11])
def test_normalizer_every_value(width):
    values = np.arange(1 << width, dtype=np.uint64)
    got = simulate(Normalizer(width), [{"value": v} for v in values],
                   ["normalized", "shift", "zero"])
    shift = (width - 1 - highest_bit(values)).astype(np.int64)
    normalized = np.array([(int(v) << int(s)) & ((1 << width) - 1)
                           for v, s in zip(values, shift)])
    names = [hex(v) for v in values]
    assert_equal(got[:, 0], normalized, names, f"normalized, width {width}")
    assert_equal(got[:, 1], shift, names, f"shift, width {width}")
    assert_equal(got[:, 2], values == 0, names, f"zero, width {width}")
    # The leading one lands on the MSB of every nonzero value.
    assert (got[values != 0, 0] >> (width - 1) == 1).all()


def test_normalizer_64_bits_sampled():
    # A six-level tree: zero, every single-bit value, the all-ones run below it, the two-bit
    # run from it, and random words of random length.
    rng = np.random.default_rng(20261121)
    ones = np.uint64(1) << np.arange(64, dtype=np.uint64)
    words = rng.integers(0, 1 << 63, 500, dtype=np.uint64) << np.uint64(1)
    lengths = rng.integers(0, 64, 500).astype(np.uint64)
    values = np.concatenate([np.zeros(1, np.uint64), ones, ones - np.uint64(1),
                             ones | (ones >> np.uint64(1)), words >> lengths])
    got = simulate(Normalizer(64), [{"value": v} for v in values], ["normalized", "shift"])
    shift = (63 - highest_bit(values)).astype(np.int64)
    normalized = [(int(v) << int(s)) & ((1 << 64) - 1) for v, s in zip(values, shift)]
    names = [hex(v) for v in values]
    assert_equal(got[:, 0], normalized, names, "normalized, width 64")
    assert_equal(got[:, 1], shift, names, "shift, width 64")


@pytest.mark.parametrize("make", [lambda: LeadingZeroCount(1024), lambda: Normalizer(200),
                                  lambda: Rounder(130, out_width=24,
                                                  modes=ROUNDING_MODES, random_bits=32)],
                         ids=["lzc1024", "normalizer200", "rounder130to24"])
def test_wide_instances_convert_to_verilog(make):
    assert "endmodule" in verilog.convert(make(), name="dut", emit_src=False)


def check_rounder(in_width, out_width, rounding, modes, random_bits=None):
    """Run every magnitude x sign (x random value) through a Rounder; compare with golden."""
    dut = Rounder(in_width, out_width=out_width, modes=modes, random_bits=random_bits)
    shift = in_width - out_width
    if random_bits is None:
        mag, neg = map(np.ravel, np.meshgrid(np.arange(1 << in_width, dtype=np.uint64),
                                             [False, True], indexing="ij"))
        rand = None
        golden = rounding
    else:
        mag, neg, rand = map(np.ravel, np.meshgrid(np.arange(1 << in_width, dtype=np.uint64),
                                                   [False, True],
                                                   np.arange(1 << random_bits),
                                                   indexing="ij"))
        golden = Stochastic(bits=random_bits, random=rand)
    kept, inexact = shift_round(mag, np.full(mag.shape, shift), neg, golden)
    code = RoundingMode[rounding.upper() if isinstance(rounding, str) else "STOCHASTIC"]
    rows = [{"magnitude": m, "negative": n, "mode": code} for m, n in zip(mag, neg)]
    if rand is not None:
        for row, r in zip(rows, rand):
            row["random"] = r
    got = simulate(dut, rows, ["rounded", "inexact"])
    names = [f"{'-' if n else '+'}{int(m):#x}" + ("" if rand is None else f" r={int(rand[i])}")
             for i, (m, n) in enumerate(zip(mag, neg))]
    what = f"{in_width}->{out_width} {code.name}"
    assert_equal(got[:, 0], kept, names, f"rounded, {what}")
    assert_equal(got[:, 1], inexact, names, f"inexact, {what}")


@pytest.mark.parametrize("rounding", DETERMINISTIC_MODES)
@pytest.mark.parametrize("in_width, out_width", [(10, 4), (6, 5)])
def test_rounder_every_magnitude(in_width, out_width, rounding):
    check_rounder(in_width, out_width, rounding, DETERMINISTIC_MODES)


@pytest.mark.parametrize("random_bits", [2, 3])
@pytest.mark.parametrize("in_width, out_width", [(10, 4), (6, 4)])
def test_rounder_stochastic_every_random_value(in_width, out_width, random_bits):
    check_rounder(in_width, out_width, "stochastic", ("rne", "stochastic"), random_bits)


def test_rounder_single_mode_and_unlisted_codes_truncate():
    # A Rounder built for rne only: its own code rounds, every other code truncates.
    dut = Rounder(4, out_width=2, modes="rne")
    rows = [{"magnitude": m, "negative": 0, "mode": c} for m in range(16) for c in RoundingMode]
    got = simulate(dut, rows, ["rounded"])[:, 0]
    mags = np.array([r["magnitude"] for r in rows], dtype=np.uint64)
    codes = np.array([r["mode"] for r in rows])
    rne, _ = shift_round(mags, 2, False, "rne")
    rtz, _ = shift_round(mags, 2, False, "rtz")
    expected = np.where(codes == RoundingMode.RNE, rne, rtz)
    assert_equal(got, expected, rows, "rne-only rounder")


def test_rounding_mode_codes_follow_golden_names():
    assert [m.name.lower() for m in RoundingMode] == list(ROUNDING_MODES)
    assert [int(m) for m in RoundingMode] == list(range(len(ROUNDING_MODES)))
    rounder = Rounder(8, out_width=3)
    port_widths(rounder)
    assert rounder.signature.members["mode"].shape == RoundingMode


def port_widths(component):
    """Return ``{port name: width}`` of a component (inspected only, never elaborated)."""
    component._MustUse__silence = True
    return {n: len(getattr(component, n)) for n in component.signature.members}


def test_component_signatures():
    assert port_widths(LeadingZeroCount(12)) == {"value": 12, "count": 4, "zero": 1}
    assert port_widths(LeadingZeroCount(16)) == {"value": 16, "count": 5, "zero": 1}
    assert port_widths(Normalizer(8)) == {"value": 8, "normalized": 8, "shift": 4, "zero": 1}
    stochastic = Rounder(10, out_width=4, modes=("rne", "stochastic"), random_bits=3)
    assert {n: m.flow.name for n, m in stochastic.signature.members.items()} == {
        "magnitude": "In", "negative": "In", "mode": "In", "random": "In",
        "rounded": "Out", "inexact": "Out"}
    assert port_widths(stochastic) == {"magnitude": 10, "negative": 1, "mode": 3, "random": 3,
                                       "rounded": 5, "inexact": 1}
    assert "random" not in port_widths(Rounder(10, out_width=4))


MODE_LIST = ", ".join(ROUNDING_MODES)
BAD = [
    (lambda: LeadingZeroCount(0),
     "LeadingZeroCount width must be an integer from 1 to 4096, not 0"),
    (lambda: LeadingZeroCount(8.0),
     "LeadingZeroCount width must be an integer from 1 to 4096, not 8.0"),
    (lambda: Normalizer(0), "Normalizer width must be an integer from 1 to 4096, not 0"),
    (lambda: Rounder(1, out_width=1),
     "Rounder in_width must be an integer from 2 to 4096, not 1"),
    (lambda: Rounder(10, out_width=10),
     "Rounder out_width must be an integer from 1 to 9, not 10"),
    (lambda: Rounder(10, out_width=0),
     "Rounder out_width must be an integer from 1 to 9, not 0"),
    (lambda: Rounder(10, out_width=4, modes=("rne", "nearest")),
     f"Rounder modes must be drawn from {MODE_LIST}, not 'nearest'"),
    (lambda: Rounder(10, out_width=4, modes=()),
     "Rounder modes must name at least one rounding mode"),
    (lambda: Rounder(10, out_width=4, modes=("stochastic",)),
     "Rounder modes include 'stochastic', which needs random_bits=R (1 to 32)"),
    (lambda: Rounder(10, out_width=4, modes=("stochastic",), random_bits=0),
     "Rounder random_bits must be an integer from 1 to 32, not 0"),
    (lambda: Rounder(10, out_width=4, random_bits=2),
     "Rounder random_bits=2 needs 'stochastic' in modes"),
]


@pytest.mark.parametrize("call, message", BAD, ids=[m for _, m in BAD])
def test_bad_parameters(call, message):
    raises_exactly(call, OperationError, message)
