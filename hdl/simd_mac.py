"""Precision-reconfigurable integer MAC: one 8x8 partial-product array, 1, 2 or 4 lanes per cycle.

Operand packing (``a`` is 16 bits, ``b`` is 8 bits; lane ``k`` of a mode multiplies the fields
below and accumulates into register ``acc<k>``)::

    shape  lanes  lane k operands                      example preset
    8x8    1      a[0:8]          * b[0:8]             int8 x int8
    4x4    2      a[4k:4k+4]      * b[4k:4k+4]         int4 x int4
    8x4    2      a[8k:8k+8]      * b[4k:4k+4]         int8 x int4 (two activations, two weights)
    2x2    4      a[2k:2k+2]      * b[2k:2k+2]         int2 x int2

Operand bits a shape does not list are ignored.

How the multiplier is shared: there is one array of 8x8 AND gates ``pp[j][i] = A_j[i] & b[j]``,
where row ``j`` sees ``A_j = a[0:8]``, except that rows 4..7 see ``a[8:16]`` in 8x4 modes (one
8-bit 2:1 multiplexer). The current mode selects, per partial-product bit, whether it belongs to
a lane (cross terms between lanes are masked to 0) and whether it has negative weight (the sign
bit of a signed lane operand, Baugh-Wooley: ``-x * 2**w = (~x) * 2**w - 2**w``, so the bit is
inverted and ``-2**w`` joins a per-mode constant). Rows 0..3 and rows 4..7 are summed by two
adder trees into ``L`` and ``H``; the lane products are then read off them:

* 8x8: ``p0 = L + 16 * H``;
* 4x4: ``p0 = L``, ``p1 = H / 16`` (the lane-1 block sits 4 columns to the left);
* 8x4: ``p0 = L``, ``p1 = H``;
* 2x2: ``L = p0 + 16 * p1`` and ``H = 16 * p2 + 256 * p3``; every lane product fits a 4-bit
  field, so ``p0`` is the low field of ``L`` (sign- or zero-extended per the lane's range) and
  ``p1 = (L - p0) / 16``, likewise for ``p2``, ``p3``.

All masks, signs and constants are derived from the mode's golden formats.
"""

from dataclasses import dataclass

from amaranth.hdl import Cat, Module, Mux, Signal, signed
from amaranth.lib.wiring import In, Out

from lowbit.errors import OperationError
from lowbit.golden import formats as F
from lowbit.golden.accumulators import FixedAccumulator
from lowbit.hdl.component import Component

#: Lane count and operand widths of each supported shape, ``(a_bits, b_bits) -> name``.
SHAPES = {(8, 8): "8x8", (4, 4): "4x4", (8, 4): "8x4", (2, 2): "2x2"}
_LANES = {"8x8": 1, "4x4": 2, "8x4": 2, "2x2": 4}
_FIELD_2X2 = 4  # bits of one lane's field inside L or H in 2x2 modes


@dataclass(frozen=True)
class SimdMode:
    """One mode of a :class:`SimdMac`: lane operand formats and the lanes' accumulator.

    Parameters
    ----------
    a_fmt, b_fmt : IntFormat or FixedFormat
        Formats of one lane's operands; their widths pick the shape (8x8, 4x4, 8x4 or 2x2, see
        :data:`SHAPES`) and so the lane count.
    acc : FixedAccumulator
        Every lane's register in this mode (``frac_bits`` equal to the product's; ``wrap`` or
        ``saturate``); the golden model of one lane is ``gemm.dot(..., a_fmt, b_fmt, acc)``.
    """

    a_fmt: object
    b_fmt: object
    acc: FixedAccumulator

    def __post_init__(self):
        for fmt, what in ((self.a_fmt, "a_fmt"), (self.b_fmt, "b_fmt")):
            if getattr(fmt, "kind", None) not in ("int", "fixed"):
                raise OperationError(f"SimdMode {what} must be an IntFormat or FixedFormat, not "
                                     f"{getattr(fmt, 'name', fmt)!r}")
        key = (self.a_fmt.bits, self.b_fmt.bits)
        if key not in SHAPES:
            raise OperationError(f"SimdMode operand widths must be one of 8x8, 4x4, 8x4, 2x2 "
                                 f"(a bits x b bits), not {key[0]}x{key[1]}")
        if not isinstance(self.acc, FixedAccumulator):
            raise OperationError(f"SimdMode acc must be an integer register (int24, ...), not "
                                 f"{getattr(self.acc, 'name', self.acc)!r}")
        product_frac = self.a_fmt.frac_bits + self.b_fmt.frac_bits
        if self.acc.frac_bits != product_frac:
            raise OperationError(f"SimdMode acc frac_bits must equal the product's "
                                 f"{product_frac} (products are not rounded), not "
                                 f"{self.acc.frac_bits}")
        self.acc.check_operands(self.a_fmt, self.b_fmt)

    @classmethod
    def preset(cls, shape: str, *, acc: FixedAccumulator) -> "SimdMode":
        """Return the signed-integer mode of ``shape``: int8 x int8, int4 x int4, int8 x int4
        or int2 x int2."""
        by_name = {name: key for key, name in SHAPES.items()}
        if shape not in by_name:
            raise OperationError(f"SimdMode shape must be one of {', '.join(by_name)}, "
                                 f"not {shape!r}")
        a_bits, b_bits = by_name[shape]
        return cls(F.IntFormat(a_bits), F.IntFormat(b_bits), acc)

    @property
    def shape(self) -> str:
        """The shape name: ``"8x8"``, ``"4x4"``, ``"8x4"`` or ``"2x2"``."""
        return SHAPES[(self.a_fmt.bits, self.b_fmt.bits)]

    @property
    def lanes(self) -> int:
        """Products per cycle."""
        return _LANES[self.shape]

    @property
    def acc_bits(self) -> int:
        """Width of one lane register in this mode."""
        return self.acc.int_bits + self.acc.frac_bits

    def lane_fields(self, lane: int):
        """The ``(a_lo, a_bits, b_lo, b_bits)`` bit fields of lane ``lane``'s operands."""
        a_bits, b_bits = self.a_fmt.bits, self.b_fmt.bits
        return lane * a_bits, a_bits, lane * b_bits, b_bits

    def to_dict(self) -> dict:
        """Parameters for the export sidecar."""
        return {"shape": self.shape, "lanes": self.lanes, "a_fmt": self.a_fmt.to_dict(),
                "b_fmt": self.b_fmt.to_dict(),
                "acc": {"kind": "fixed", "int_bits": self.acc.int_bits,
                        "frac_bits": self.acc.frac_bits, "overflow": self.acc.overflow}}


def _array_map(mode: SimdMode):
    """Per partial-product bit ``(j, i)`` (b bit, array column): ``(lane, negative)`` or None."""
    cells = {}
    for lane in range(mode.lanes):
        a_lo, a_bits, b_lo, b_bits = mode.lane_fields(lane)
        if mode.shape == "8x4":
            a_lo = 0  # rows 4..7 are fed a[8:16] instead of a[0:8]
        for lj in range(b_bits):
            for li in range(a_bits):
                neg = ((mode.a_fmt.signed and li == a_bits - 1)
                       != (mode.b_fmt.signed and lj == b_bits - 1))
                cells[(b_lo + lj, a_lo + li)] = (lane, neg)
    return cells


def _cell_weight(j: int, i: int) -> int:
    """Column weight of bit ``(j, i)`` inside its half sum (rows 4..7 are shifted down by 4)."""
    return i + j - (4 if j >= 4 else 0)


def _lane_range(mode: SimdMode):
    """``(min, max)`` of one lane product in integer codes."""
    a, b = mode.a_fmt, mode.b_fmt
    ends = [x * y for x in (a.min_int, a.max_int) for y in (b.min_int, b.max_int)]
    return min(ends), max(ends)


class SimdMac(Component):
    """A multiply-accumulate unit whose one 8x8 multiplier array computes 1, 2 or 4 products per
    cycle per ``mode``: ``acc<k> <= (clear ? 0 : acc<k>) + a_k * b_k`` for every lane ``k``.

    Parameters
    ----------
    modes : sequence of SimdMode
        1 to 8 modes; input ``mode == m`` selects ``modes[m]``. Operand packing: see the module
        docstring.

    Members
    -------
    valid : In(1)
        An operation this cycle.
    clear : In(1)
        With ``valid``: start new sums (the registers take the products alone). Change the mode
        only together with ``clear``: otherwise a register carries its old value into the new
        mode's accumulator width (wrapped or clamped).
    mode : In(max(1, ceil(log2(len(modes)))))
        Index into ``modes``. Codes past the last mode are no operation: registers hold and
        ``out_valid`` stays low.
    a : In(16), b : In(8)
        Packed lane operand codes.
    out_valid : Out(1)
        The registers hold the results of the operation issued :attr:`latency` cycles earlier.
    acc0 .. acc<n-1> : Out(signed(w_k))
        Lane registers, one per lane of the widest mode; ``w_k`` is the largest ``acc_bits`` of
        the modes using lane ``k``. In a mode, ``acc<k>`` holds a code of that mode's
        ``acc.out_fmt`` (sign-extended); lanes the mode does not use are written 0.
    """

    latency = 1

    def __init__(self, modes):
        if not isinstance(modes, (list, tuple)):
            raise OperationError(f"SimdMac modes must be a list or tuple of SimdMode, not "
                                 f"{modes!r}")
        if not 1 <= len(modes) <= 8:
            raise OperationError(f"SimdMac needs 1 to 8 modes, not {len(modes)}")
        for k, mode in enumerate(modes):
            if not isinstance(mode, SimdMode):
                raise OperationError(f"SimdMac modes[{k}] must be a SimdMode, not {mode!r}")
        self._modes = tuple(modes)
        self._lanes = max(mode.lanes for mode in modes)
        self._acc_bits = [max(mode.acc_bits for mode in modes if mode.lanes > k)
                          for k in range(self._lanes)]
        members = {
            "valid": In(1), "clear": In(1), "mode": In(max(1, (len(modes) - 1).bit_length())),
            "a": In(16), "b": In(8), "out_valid": Out(1),
        }
        for k, width in enumerate(self._acc_bits):
            members[f"acc{k}"] = Out(signed(width))
        super().__init__(members)

    @property
    def modes(self) -> tuple:
        """The modes, indexed by the ``mode`` input."""
        return self._modes

    @property
    def lanes(self) -> int:
        """Number of lane registers (the widest mode's lane count)."""
        return self._lanes

    def acc_ports(self):
        """Return the lane register ports, lane 0 first."""
        return [getattr(self, f"acc{k}") for k in range(self._lanes)]

    def describe(self) -> dict:
        """Parameters for the export sidecar and result rows."""
        return {"modes": [mode.to_dict() for mode in self._modes],
                "packing": {"a_bits": 16, "b_bits": 8}, "lanes": self._lanes,
                "acc_bits": list(self._acc_bits)}

    def elaborate(self, platform):
        m = Module()

        # Per-mode control words of the shared array, derived from the formats.
        keep = Signal(64)  # bit 8*j + i: partial product (j, i) belongs to a lane
        invert = Signal(64)  # ... and has negative weight (Baugh-Wooley)
        const_lo, const_hi = Signal(signed(16)), Signal(signed(16))
        a_hi_rows = Signal()  # rows 4..7 multiply a[8:16] (8x4 modes)
        mode_ok = Signal()
        with m.Switch(self.mode):
            for index, mode in enumerate(self._modes):
                with m.Case(index):
                    cells = _array_map(mode)
                    keep_word = sum(1 << (8 * j + i) for (j, i) in cells)
                    inv_word = sum(1 << (8 * j + i) for (j, i), (_, neg) in cells.items() if neg)
                    k_lo = -sum(1 << _cell_weight(j, i)
                                for (j, i), (_, neg) in cells.items() if neg and j < 4)
                    k_hi = -sum(1 << _cell_weight(j, i)
                                for (j, i), (_, neg) in cells.items() if neg and j >= 4)
                    m.d.comb += [keep.eq(keep_word), invert.eq(inv_word),
                                 const_lo.eq(k_lo), const_hi.eq(k_hi),
                                 a_hi_rows.eq(mode.shape == "8x4"), mode_ok.eq(1)]
            with m.Default():  # codes past the last mode: no operation
                m.d.comb += mode_ok.eq(0)

        # The 8x8 partial-product array and its two half-array adder trees.
        a_lo, a_hi = self.a[:8], self.a[8:16]
        row_a = [a_lo] * 4 + [Mux(a_hi_rows, a_hi, a_lo)] * 4
        pp = Cat(*(row_a[j] & self.b[j].replicate(8) for j in range(8)))
        bits = Signal(64)
        m.d.comb += bits.eq((pp ^ invert) & keep)
        half_lo, half_hi = Signal(signed(16)), Signal(signed(16))
        m.d.comb += [
            half_lo.eq(sum(bits[8 * j + i] << _cell_weight(j, i)
                           for j in range(4) for i in range(8)) + const_lo),
            half_hi.eq(sum(bits[8 * j + i] << _cell_weight(j, i)
                           for j in range(4, 8) for i in range(8)) + const_hi),
        ]

        # Lane products read off the half sums (see the module docstring).
        products = [Signal(signed(18), name=f"product{k}") for k in range(self._lanes)]
        with m.Switch(self.mode):
            for index, mode in enumerate(self._modes):
                with m.Case(index):
                    m.d.comb += [p.eq(v) for p, v in
                                 zip(products, self._lane_products(mode, half_lo, half_hi))]
            with m.Default():
                m.d.comb += [p.eq(0) for p in products]

        # Lane registers: the mode's FixedAccumulator, wrap or saturate at its width.
        go = self.valid & mode_ok
        for k, (acc, product) in enumerate(zip(self.acc_ports(), products)):
            total = Signal(signed(max(self._acc_bits[k], 18) + 2), name=f"total{k}")
            m.d.comb += total.eq(Mux(self.clear, 0, acc) + product)
            update = Signal.like(acc, name=f"update{k}")
            with m.Switch(self.mode):
                for index, mode in enumerate(self._modes):
                    with m.Case(index):
                        if k >= mode.lanes:
                            m.d.comb += update.eq(0)
                        else:
                            m.d.comb += update.eq(self._overflow(mode, total))
                with m.Default():
                    m.d.comb += update.eq(acc)
            with m.If(go):
                m.d.sync += acc.eq(update)
        m.d.sync += self.out_valid.eq(go)
        return m

    @staticmethod
    def _lane_products(mode, half_lo, half_hi):
        if mode.shape == "8x8":
            return [half_lo + (half_hi << 4)]
        if mode.shape == "4x4":
            return [half_lo, half_hi[4:].as_signed()]
        if mode.shape == "8x4":
            return [half_lo, half_hi]
        lo, hi = _lane_range(mode)
        field = _FIELD_2X2
        fits_signed = -(1 << (field - 1)) <= lo and hi < 1 << (field - 1)
        assert fits_signed or (lo >= 0 and hi < 1 << field), "2x2 lane exceeds its field"

        def low_field(x):
            return x[:field].as_signed() if fits_signed else x[:field]

        p0 = low_field(half_lo)
        p1 = ((half_lo - p0) >> field)
        p2 = low_field(half_hi[field:])
        p3 = ((half_hi - (p2 << field)) >> (2 * field))
        return [p0, p1, p2, p3]

    @staticmethod
    def _overflow(mode, total):
        width = mode.acc_bits
        if mode.acc.overflow == "wrap":
            return total[:width].as_signed()
        top, bottom = (1 << (width - 1)) - 1, -(1 << (width - 1))
        return Mux(total > top, top, Mux(total < bottom, bottom, total))
