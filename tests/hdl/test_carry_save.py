"""Carry-save building blocks: the Dadda compressor tree, Baugh-Wooley partial products and the
bit-weight MAC (CarrySaveDot), on Amaranth's simulator.

Oracles independent of the code under test: Python integer products and sums (every int4 /
uint4 pair, signed and unsigned on either side), the textbook adder counts of a Dadda
multiplier (``n**2 - 4 n + 3`` full and ``n - 1`` half adders for ``n x n`` unsigned bits) and
the Dadda height sequence.
"""

import numpy as np
import pytest
from amaranth.hdl import Elaboratable, Fragment, Module, Signal
from amaranth.sim import Simulator

from lowbit.errors import OperationError
from lowbit.golden import formats as F
from lowbit.golden.accumulators import FixedAccumulator
from lowbit.hdl.carry_save import BitHeap, compress, dadda_targets, resolve
from lowbit.hdl.carry_save_dot import CarrySaveDot
from lowbit.hdl.component import Component
from lowbit.hdl.partial_products import add_product
from tests.expect import raises_exactly
from tests.hdl.test_building_blocks import assert_equal, simulate

INT4, UINT4, INT8 = F.get("int4"), F.get("uint4"), F.get("int8")


def _value(code, fmt):
    return code - (1 << fmt.bits) if fmt.signed and code >> (fmt.bits - 1) else code


class _Product(Elaboratable):
    """``a x w`` through a heap, a compressor tree and a carry-propagate adder."""

    def __init__(self, a_fmt, w_fmt, width):
        self.a, self.w = Signal(a_fmt.bits), Signal(w_fmt.bits)
        self.result = Signal(width)
        self._signs = {"a_signed": a_fmt.signed, "w_signed": w_fmt.signed}

    def elaborate(self, platform):
        m = Module()
        heap = BitHeap(len(self.result))
        add_product(heap, self.a, self.w, **self._signs)
        rows = compress(m, heap, "t")
        m.d.comb += self.result.eq(resolve(m, rows.sum, rows.carry, "cpa"))
        return m


def test_dadda_heights():
    assert dadda_targets(2) == [] and dadda_targets(3) == [2]
    assert dadda_targets(8) == [6, 4, 3, 2]
    assert dadda_targets(64) == [63, 42, 28, 19, 13, 9, 6, 4, 3, 2]


@pytest.mark.parametrize("n", [4, 8, 12])
def test_unsigned_multiplier_tree_has_the_textbook_dadda_adder_counts(n):
    heap = BitHeap(2 * n)
    add_product(heap, Signal(n), Signal(n), a_signed=False, w_signed=False)
    assert heap.heights == [min(c + 1, 2 * n - 1 - c) for c in range(2 * n - 1)] + [0]
    m = Module()
    rows = compress(m, heap, "t")
    Fragment.get(m, None)  # elaborated: the tree is checked by its counts only
    assert (rows.full_adders, rows.half_adders) == (n * n - 4 * n + 3, n - 1)


@pytest.mark.parametrize("a_fmt, w_fmt", [(INT4, INT4), (UINT4, INT4), (INT4, UINT4),
                                          (UINT4, UINT4)], ids=lambda f: f.name)
@pytest.mark.parametrize("width", [8, 6, 12])
def test_every_4_bit_product_modulo_the_width(a_fmt, w_fmt, width):
    # width 8 holds every product; 6 wraps (the heap drops columns); 12 sign-extends.
    pairs = [(a, w) for a in range(16) for w in range(16)]
    got = simulate(_Product(a_fmt, w_fmt, width), [{"a": a, "w": w} for a, w in pairs],
                   ["result"])[:, 0]
    want = [(_value(a, a_fmt) * _value(w, w_fmt)) % (1 << width) for a, w in pairs]
    assert_equal(got, want, [f"{a:#x} x {w:#x}" for a, w in pairs],
                 f"{a_fmt.name} x {w_fmt.name} mod 2**{width}")


def test_signed_rows_and_constants_add_up():
    class Rows(Elaboratable):
        def __init__(self):
            self.x, self.y, self.total = Signal(5), Signal(3), Signal(10)

        def elaborate(self, platform):
            m = Module()
            heap = BitHeap(10)
            heap.add_row(self.x, signed=True, shift=2)
            heap.add_row(self.y, signed=False)
            heap.add_constant(-37)
            rows = compress(m, heap, "t")
            m.d.comb += self.total.eq(resolve(m, rows.sum, rows.carry, "cpa"))
            return m

    cases = [(x, y) for x in range(32) for y in range(8)]
    got = simulate(Rows(), [{"x": x, "y": y} for x, y in cases], ["total"])[:, 0]
    want = [((x - 32 * (x >> 4)) * 4 + y - 37) % 1024 for x, y in cases]
    assert_equal(got, want, [str(c) for c in cases], "signed row + row + constant")


# --- the bit-weight MAC ---------------------------------------------------------------------------
def _run_dot(dot, clear, a, b):
    """Resolved sums after each operation (lanes packed in a and b)."""
    got = []

    async def bench(ctx):
        for c, x, y in zip(clear, a, b):
            ctx.set(dot.valid, 1)
            ctx.set(dot.clear, int(c))
            ctx.set(dot.a, int(x))
            ctx.set(dot.b, int(y))
            await ctx.tick()
            got.append((ctx.get(dot.acc_sum) + ctx.get(dot.acc_carry)) % (1 << dot.width))

    sim = Simulator(dot)
    sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()
    return got


def test_one_lane_mac_every_int4_pair_then_a_running_sum():
    dot = CarrySaveDot(INT4, UINT4, acc=FixedAccumulator(10, 0))
    pairs = [(a, w) for a in range(16) for w in range(16)]
    clear = [i % 7 == 0 for i in range(len(pairs))]  # runs of 7 products
    got = _run_dot(dot, clear, [a for a, _ in pairs], [w for _, w in pairs])
    want, total = [], 0
    for c, (a, w) in zip(clear, pairs):
        total = (0 if c else total) + _value(a, INT4) * w
        want.append(total % 1024)
    assert got == want


@pytest.mark.parametrize("k_group", [None, 1, 2, 4])
def test_four_lane_dot_wraps_like_golden(k_group):
    # int8 x int8 into a 16-bit register: the growth run (every operand -128) wraps.
    dot = CarrySaveDot(INT8, INT8, acc=FixedAccumulator(16, 0), lanes=4, k_group=k_group)
    rng = np.random.default_rng(4)
    a = rng.integers(0, 256, (24, 4))
    b = rng.integers(0, 256, (24, 4))
    a[8:12], b[8:12] = 0x80, 0x80
    clear = np.arange(24) % 10 == 0
    pack = [sum(int(x) << (8 * i) for i, x in enumerate(row)) for row in a]
    got = _run_dot(dot, clear, pack, [sum(int(x) << (8 * i) for i, x in enumerate(row))
                                      for row in b])
    want, total = [], 0
    for c, x, y in zip(clear, a, b):
        total = (0 if c else total) + sum(_value(int(p), INT8) * _value(int(q), INT8)
                                          for p, q in zip(x, y))
        want.append(total % (1 << 16))
    assert got == want


def test_one_lane_dot_is_a_processing_element():
    dot = Component.part(CarrySaveDot(INT4, INT4, acc=FixedAccumulator(12, 0)))
    assert dot.latency == 1 and dot.result_ports == ("acc_sum", "acc_carry")
    assert dot.peak_macs_per_cycle == 1 and dot.padding_codes == (0, 0)


@pytest.mark.parametrize("call, message", [
    (lambda: CarrySaveDot(F.get("fp8_e4m3"), INT8, acc=FixedAccumulator(32, 0)),
     "CarrySaveDot a_fmt must be an IntFormat or FixedFormat: bit-weight partial products are "
     "bits of integer codes, not of 'fp8_e4m3'"),
    (lambda: CarrySaveDot(INT8, F.get("fp4_e2m1"), acc=FixedAccumulator(32, 0)),
     "CarrySaveDot b_fmt must be an IntFormat or FixedFormat: bit-weight partial products are "
     "bits of integer codes, not of 'fp4_e2m1'"),
    (lambda: CarrySaveDot(INT8, INT8, acc=FixedAccumulator(32, 0, "saturate")),
     "CarrySaveDot cannot implement FixedAccumulator overflow 'saturate': golden saturates "
     "after every addition in K order, but a carry-save sum is resolved only at the end; use "
     "overflow='wrap' or an IntMac"),
    (lambda: CarrySaveDot(INT8, INT8, acc="int32"),
     "CarrySaveDot acc must be an integer or fixed-point register (int32, fixed28_4, ...), not "
     "'int32'"),
    (lambda: CarrySaveDot(INT8, INT8, acc=FixedAccumulator(12, 0)),
     "accumulator fixed12_0 (max 2047.0) is narrower than one product of int8 x int8 (up to "
     "16384.0)"),
    (lambda: CarrySaveDot(INT8, INT8, acc=FixedAccumulator(32, 0), lanes=0),
     "CarrySaveDot lanes must be an integer from 1 to 64, not 0"),
    (lambda: CarrySaveDot(INT8, INT8, acc=FixedAccumulator(32, 0), lanes=4, k_group=8),
     "CarrySaveDot k_group must divide lanes 4 (one carry-propagate adder per group of "
     "k_group products in a cycle), not 8"),
    (lambda: CarrySaveDot(INT8, INT8, acc=FixedAccumulator(32, 0), lanes=6, k_group=4),
     "CarrySaveDot k_group must divide lanes 6 (one carry-propagate adder per group of "
     "k_group products in a cycle), not 4"),
    (lambda: CarrySaveDot(INT8, INT8, acc=FixedAccumulator(32, 0), lanes=6, k_group=3),
     "CarrySaveDot k_group must be a power of two from 1 to 64, not 3"),
])
def test_rejects_bad_parameters(call, message):
    raises_exactly(call, OperationError, message)
