"""Carry-save arithmetic: weighted bits summed by trees of 3:2 compressors (full adders).

A :class:`BitHeap` is a multi-operand sum modulo ``2**width`` before any carry has propagated:
for every bit weight ``2**c`` a column of one-bit signals (partial-product bits, the bits of
words added as rows, the bits of a carry-save register), plus an integer constant (the
corrections of signed operands, which all fold into one number). :func:`compress` reduces the
columns to two rows with a Dadda tree of explicit full and half adders, so synthesis sees the
compressor structure as built; ``sum + carry`` (one carry-propagate adder, :func:`resolve`) is
the heap's value modulo ``2**width``.

Everything is modulo ``2**width``: a column at or above ``width`` is dropped, which is how a
wrapping two's complement register behaves, and signed rows need no sign extension beyond the
``2**(w - 1)`` correction of :meth:`BitHeap.add_row`.
"""

from typing import NamedTuple

from amaranth.hdl import Cat, Const, Signal, Value

from lowbit.errors import OperationError, check_int

MAX_HEAP_WIDTH = 128
"""Widest heap built (a 2**64-term int64 sum still fits)."""


class BitHeap:
    """Weighted one-bit signals and an integer constant, summed modulo ``2**width``.

    Parameters
    ----------
    width : int
        Bits of the sum (the heap's columns ``0 .. width - 1``), 1 to 128.
    """

    def __init__(self, width: int):
        self._width = check_int("BitHeap width", width, 1, MAX_HEAP_WIDTH, OperationError)
        self._columns = [[] for _ in range(width)]
        self._constant = 0

    @property
    def width(self) -> int:
        """Bits of the sum."""
        return self._width

    @property
    def constant(self) -> int:
        """The constant part of the sum, modulo ``2**width``."""
        return self._constant

    @property
    def heights(self) -> list:
        """Signals in each column, LSB column first (the constant not counted)."""
        return [len(c) for c in self._columns]

    def add_bit(self, column: int, bit):
        """Add ``bit * 2**column`` (a one-bit value); columns past the width are dropped."""
        if column < self._width:
            self._columns[column].append(Value.cast(bit))

    def add_constant(self, value: int):
        """Add the integer ``value`` (any sign)."""
        self._constant = (self._constant + value) % (1 << self._width)

    def add_row(self, word, *, signed: bool, shift: int = 0):
        """Add the word ``word`` (its bits, LSB first) times ``2**shift``, read as two's
        complement when ``signed``: its sign bit ``s`` weighs ``-2**(w - 1)``, added as
        ``(1 - s) 2**(w - 1) - 2**(w - 1)``, the inverted bit plus a constant."""
        word = Value.cast(word)
        w = len(word)
        for i in range(w):
            if signed and i == w - 1:
                self.add_bit(shift + i, ~word[i])
                self.add_constant(-(1 << (shift + i)))
            else:
                self.add_bit(shift + i, word[i])

    def extend(self, other: "BitHeap"):
        """Add every bit and the constant of ``other`` (of the same width)."""
        if other.width != self._width:
            raise OperationError(f"BitHeap widths differ: {self._width} and {other.width}")
        for column, bits in zip(self._columns, other._columns):
            column.extend(bits)
        self.add_constant(other.constant)

    def columns_with_constant(self) -> list:
        """The columns with the constant's one bits appended as ``Const(1)`` signals."""
        columns = [list(c) for c in self._columns]
        for c in range(self._width):
            if self._constant >> c & 1:
                columns[c].append(Const(1, 1))
        return columns


def dadda_targets(height: int) -> list:
    """The Dadda column heights ``d_j`` below ``height``, largest first, ending at 2:
    ``d_1 = 2``, ``d_{j+1} = floor(1.5 d_j)``."""
    targets = [2]
    while targets[-1] * 3 // 2 < height:
        targets.append(targets[-1] * 3 // 2)
    return [t for t in reversed(targets) if t < height] or ([2] if height > 2 else [])


def full_adder(m, x, y, z, name: str):
    """A 3:2 compressor: ``(sum, carry)`` with ``x + y + z = sum + 2 carry``."""
    s, c = Signal(name=f"{name}_s"), Signal(name=f"{name}_c")
    half = x ^ y
    m.d.comb += [s.eq(half ^ z), c.eq((x & y) | (z & half))]
    return s, c


def half_adder(m, x, y, name: str):
    """A 2:2 compressor: ``(sum, carry)`` with ``x + y = sum + 2 carry``."""
    s, c = Signal(name=f"{name}_s"), Signal(name=f"{name}_c")
    m.d.comb += [s.eq(x ^ y), c.eq(x & y)]
    return s, c


class Compressed(NamedTuple):
    """A heap reduced to two rows, and the tree that did it."""

    sum: Value
    carry: Value
    full_adders: int
    half_adders: int
    stages: int


def compress(m, heap: BitHeap, name: str) -> Compressed:
    """Reduce ``heap`` to two rows with a Dadda tree of full and half adders added to ``m``;
    return them (``sum`` and ``carry``, two ``width``-bit signals whose sum modulo
    ``2**width`` is the heap's) with the tree's adder and stage counts.

    Each stage brings every column down to the next Dadda height, columns LSB first: a full
    adder takes three bits of the column (its carry goes one column up, in the same stage)
    while the column is at least two above the target, a half adder while it is one above.
    """
    columns = heap.columns_with_constant()
    width = heap.width
    targets = dadda_targets(max(len(c) for c in columns))
    counts = {"fa": 0, "ha": 0}
    for stage, target in enumerate(targets):
        out = [[] for _ in range(width)]
        for c in range(width):
            bits = columns[c]
            k = 0
            while len(bits) - k + len(out[c]) > target:
                tag = f"{name}_st{stage}_c{c}_{k}"
                if len(bits) - k + len(out[c]) - target >= 2 and len(bits) - k >= 3:
                    s, carry = full_adder(m, bits[k], bits[k + 1], bits[k + 2], f"fa_{tag}")
                    k += 3
                    counts["fa"] += 1
                elif len(bits) - k >= 2:
                    s, carry = half_adder(m, bits[k], bits[k + 1], f"ha_{tag}")
                    k += 2
                    counts["ha"] += 1
                else:  # carries alone exceed the target: impossible below Dadda heights
                    raise AssertionError(f"Dadda stage {stage} overfilled column {c}")
                out[c].append(s)
                if c + 1 < width:
                    out[c + 1].append(carry)
            out[c].extend(bits[k:])
        columns = out
    assert all(len(c) <= 2 for c in columns), "Dadda reduction left a column above two"
    rows = []
    for r in range(2):
        row = Signal(width, name=f"{name}_{('sum', 'carry')[r]}")
        m.d.comb += row.eq(Cat(*(c[r] if len(c) > r else Const(0, 1) for c in columns)))
        rows.append(row)
    return Compressed(*rows, counts["fa"], counts["ha"], len(targets))


def resolve(m, sum_row, carry_row, name: str):
    """The carry-propagate adder: ``(sum_row + carry_row) mod 2**width`` as a signal."""
    total = Signal(len(sum_row), name=name)
    m.d.comb += total.eq(sum_row + carry_row)  # truncated to the width: modulo 2**width
    return total
