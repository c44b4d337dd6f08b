"""Lane multiplier: one significand multiplier array shared by 1, 2, 4 ... SIMD lanes.

XR-NPE's Reconfigurable Mantissa Multiplication (RMMEC) idea in its plainest form: a single
``width x width`` array of partial-product AND gates and one summation tree compute either one
wide product or several narrow ones, chosen per cycle by ``split``. Split ``s`` has ``lanes``
lanes of ``lane_bits``-bit unsigned operands at the stride ``stride = width // lanes``::

    x = ... | x_1 at [stride, stride + lane_bits) | x_0 at [0, lane_bits)        (y alike)

Partial product ``x[i] y[j]`` is kept only when bits ``i`` and ``j`` belong to the same lane of
the split (the block diagonal of the array); the others are masked to 0. The kept bits of lane
``k`` sum to ``x_k y_k * 2**(2 k stride)``, and since ``x_k y_k < 2**(2 lane_bits) <= 2**(2
stride)`` the lane products land in disjoint fields of the one sum::

    product = ... | x_1 y_1 at [2 stride, 2 stride + 2 lane_bits) | x_0 y_0 at [0, 2 lane_bits)

No carry crosses a field: the array, its adders and the product register (if any) are shared
by every lane of every split; only the mask differs.
"""

from amaranth.hdl import Cat, Module, Signal
from amaranth.lib.wiring import In, Out

from lowbit.errors import OperationError
from lowbit.hdl.component import Component
from lowbit.hdl.leading_zeros import check_width

MAX_WIDTH = 64
"""Widest array side: a 64 x 64 partial-product array."""


def check_split(unit: str, width: int, lanes: int, lane_bits: int, what: str = ""):
    """Raise unless ``lanes`` lanes of ``lane_bits`` bits fit a ``width``-bit array operand
    (``lanes`` a power of two, ``lanes * lane_bits <= width``).

    The message names the unit, the array and the split, e.g. ``"MultiFormatMac's 8 x 8-bit
    significand multiplier array cannot split into 2 lanes of posit8_0 (2 x 6-bit
    significands need 12 bits)"``; ``what`` names the lane operands (default: the bits).
    """
    if isinstance(lanes, bool) or not isinstance(lanes, int) or lanes < 1 or lanes & (lanes - 1):
        raise OperationError(f"{unit} lane count must be a power of two, not {lanes!r}")
    if lanes * lane_bits > width:
        of = f" of {what}" if what else ""
        raise OperationError(
            f"{unit}'s {width} x {width}-bit significand multiplier array cannot split into "
            f"{lanes} lane{'s' if lanes > 1 else ''}{of} ({lanes} x {lane_bits}-bit "
            f"significands need {lanes * lane_bits} bits)")


class LaneMultiplier(Component):
    """``lanes`` unsigned products per cycle from one shared ``width x width`` array.

    Combinational. See the module docstring for the operand and product layout.

    Parameters
    ----------
    width : int
        Array side: bits of ``x`` and ``y``, 1 to 64.
    splits : sequence of (int, int)
        ``(lanes, lane_bits)`` per split (1 to 16 splits): a power-of-two lane count and the
        lane operand width, with ``lanes * lane_bits <= width``.

    Members
    -------
    split : In(range(len(splits)))
        The split of this cycle.
    x, y : In(width)
        Packed lane operands; bits outside the split's lanes are ignored.
    product : Out(2 * width)
        Packed lane products: lane ``k`` in bits ``[2 k stride, 2 k stride + 2 lane_bits)``.
    """

    def __init__(self, width, splits):
        check_width("LaneMultiplier", "width", width, 1, MAX_WIDTH)
        if not isinstance(splits, (list, tuple)) or not 1 <= len(splits) <= 16:
            raise OperationError(f"LaneMultiplier splits must be a list of 1 to 16 (lanes, "
                                 f"lane_bits) pairs, not {splits!r}")
        for lanes, lane_bits in splits:
            check_width("LaneMultiplier", "lane_bits", lane_bits, 1, width)
            check_split("LaneMultiplier", width, lanes, lane_bits)
        self._width, self._splits = width, tuple(tuple(s) for s in splits)
        super().__init__({
            "split": In(range(max(len(splits), 2))),
            "x": In(width), "y": In(width),
            "product": Out(2 * width),
        })

    @property
    def width(self) -> int:
        """Array side in bits."""
        return self._width

    @property
    def splits(self) -> tuple:
        """``(lanes, lane_bits)`` of every split."""
        return self._splits

    def stride(self, split: int) -> int:
        """Operand bits between lane ``k`` and lane ``k + 1`` of split ``split``."""
        return self._width // self._splits[split][0]

    def lane_slices(self, split: int) -> list:
        """``[(x_lo, product_lo, product_bits)]`` of every lane of split ``split``."""
        lanes, lane_bits = self._splits[split]
        stride = self.stride(split)
        return [(k * stride, 2 * k * stride, 2 * lane_bits) for k in range(lanes)]

    def describe(self) -> dict:
        """Parameters for the export sidecar and result rows."""
        return {"width": self._width, "splits": [list(s) for s in self._splits]}

    def _lane_of(self, split: int, bit: int):
        """The lane of split ``split`` holding operand bit ``bit``, or None."""
        lanes, lane_bits = self._splits[split]
        stride = self.stride(split)
        lane, offset = divmod(bit, stride)
        return lane if lane < lanes and offset < lane_bits else None

    def elaborate(self, platform):
        m = Module()
        width = self._width
        # keep[j][i]: partial product x[i] y[j] is on the block diagonal of the current split.
        # Cells kept by every split (or none) are constants; the rest decode `split`.
        rows = []
        for j in range(width):
            keep = Signal(width, name=f"keep{j}")
            with m.Switch(self.split):
                for s in range(len(self._splits)):
                    with m.Case(s):
                        lane = self._lane_of(s, j)
                        word = 0 if lane is None else sum(
                            1 << i for i in range(width) if self._lane_of(s, i) == lane)
                        m.d.comb += keep.eq(word)
                with m.Default():
                    m.d.comb += keep.eq(0)
            row = Signal(width, name=f"row{j}")
            m.d.comb += row.eq(self.x & keep & self.y[j].replicate(width))
            rows.append(row)
        m.d.comb += self.product.eq(sum(Cat(row) << j for j, row in enumerate(rows)))
        return m
