"""The bit-weight MAC: partial products of several multiplications compressed together into a
carry-save accumulator, resolved by one carry-propagate adder only when the result leaves.

A baseline integer MAC resolves every product with its own carry-propagate adder (CPA) and adds
it to the register with another. Rewritten along the bit-weight dimension of the weight
operand (HPCA 2025, "Exploring the Performance Improvement of Tensor Processing Engines through
Transformation in the Bit-weight Dimension of MACs", arXiv 2503.06342), the ``n m`` partial
products of each of the ``lanes`` multiplications that feed one output, the two rows of the
carry-save accumulator and the Baugh-Wooley constants of every product all enter one Dadda
tree of full adders (:mod:`lowbit.hdl.carry_save`); the tree's two output rows are the new
accumulator (``acc_sum``, ``acc_carry``). The value is ``acc_sum + acc_carry`` modulo
``2**W`` (``W``: the accumulator's bits), which is exactly golden's wrapping
``FixedAccumulator``: one CPA per output (:meth:`CarrySaveDot.resolve`), used by the engine
when the result leaves.

``k_group`` puts a CPA back every ``G`` products: each group's partial products are
compressed and resolved on their own (a group sum of just the bits it needs), and the group
sums, not their partial products, join the accumulator's tree. ``G = 1`` is one CPA per
product, the baseline's arithmetic order kept in a carry-save register.

Only wrapping integer accumulators: a saturating register clamps after every addition, in K
order, which a sum held in carry-save form cannot see.
"""

from amaranth.hdl import Module, Mux, Signal
from amaranth.lib.wiring import In, Out

from lowbit.errors import OperationError
from lowbit.hdl.carry_save import BitHeap, compress, resolve
from lowbit.hdl.component import Component
from lowbit.hdl.exact_term import signed_width
from lowbit.hdl.gemm_engine import MAX_ARRAY_SIDE
from lowbit.hdl.int_mac import check_integer_mac
from lowbit.hdl.partial_products import add_product, product_range

UNIT = "CarrySaveDot"


class CarrySaveDot(Component):
    """``(acc_sum, acc_carry) <= compress((clear ? 0 : acc) + sum_i a_i b_i)`` per ``valid``.

    Parameters
    ----------
    a_fmt, b_fmt : IntFormat or FixedFormat
        Operand formats, 2..16 bits, signed or unsigned; ``b`` is the weight whose bits select
        the partial-product rows.
    acc : FixedAccumulator
        ``overflow="wrap"``, ``frac_bits`` the product's, at least one product wide (as
        :class:`~lowbit.hdl.int_mac.IntMac`); ``W = int_bits + frac_bits`` bits per row.
    lanes : int
        Products per cycle, 1 to 64 (1: the processing element of an array; more: the
        multipliers feeding one output of an adder tree or cube).
    k_group : int, optional
        Products per carry-propagate adder inside a cycle: a power of two dividing ``lanes``.
        Default: none, every partial product goes into the accumulator's tree.

    Members
    -------
    valid, clear : In(1)
        Add this cycle's products; with ``valid``, start a new sum with them.
    last : In(1)
        The products are an output's last (for :attr:`done`; arrays leave it low).
    a : In(lanes * wa), b : In(lanes * wb)
        Lane ``i`` (``wa = a_fmt.bits`` bits, ``wb = b_fmt.bits``) holds ``a_i`` and ``b_i``.
    out_valid : Out(1)
        The registers hold the sum including the operation issued :attr:`latency` cycles ago.
    done : Out(1)
        High in the cycle after the registers added products marked ``last``.
    acc_sum, acc_carry : Out(W)
        The carry-save accumulator; its value is :meth:`resolve` of the two (modulo ``2**W``).
    """

    latency = 1

    def __init__(self, a_fmt, b_fmt, *, acc, lanes=1, k_group=None):
        for fmt, what in ((a_fmt, "a_fmt"), (b_fmt, "b_fmt")):
            if getattr(fmt, "kind", None) not in ("int", "fixed"):
                raise OperationError(
                    f"{UNIT} {what} must be an IntFormat or FixedFormat: bit-weight partial "
                    f"products are bits of integer codes, not of {getattr(fmt, 'name', fmt)!r}")
        check_integer_mac(UNIT, a_fmt, b_fmt, acc)
        if acc.overflow != "wrap":
            raise OperationError(
                f"{UNIT} cannot implement FixedAccumulator overflow {acc.overflow!r}: golden "
                f"saturates after every addition in K order, but a carry-save sum is resolved "
                f"only at the end; use overflow='wrap' or an IntMac")
        if (isinstance(lanes, bool) or not isinstance(lanes, int)
                or not 1 <= lanes <= MAX_ARRAY_SIDE):
            raise OperationError(f"{UNIT} lanes must be an integer from 1 to {MAX_ARRAY_SIDE}, "
                                 f"not {lanes!r}")
        if k_group is not None:
            if (isinstance(k_group, bool) or not isinstance(k_group, int)
                    or not 1 <= k_group <= MAX_ARRAY_SIDE or k_group & (k_group - 1)):
                raise OperationError(f"{UNIT} k_group must be a power of two from 1 to "
                                     f"{MAX_ARRAY_SIDE}, not {k_group!r}")
            if lanes % k_group:
                raise OperationError(
                    f"{UNIT} k_group must divide lanes {lanes} (one carry-propagate adder per "
                    f"group of k_group products in a cycle), not {k_group}")
        self._a_fmt, self._b_fmt, self._acc = a_fmt, b_fmt, acc
        self._lanes, self._k_group = lanes, k_group
        self._width = acc.int_bits + acc.frac_bits
        super().__init__({
            "valid": In(1), "clear": In(1), "last": In(1),
            "a": In(lanes * a_fmt.bits), "b": In(lanes * b_fmt.bits),
            "out_valid": Out(1), "done": Out(1),
            "acc_sum": Out(self._width), "acc_carry": Out(self._width),
        })

    # --- parameters ----------------------------------------------------------------------------
    @property
    def a_fmt(self):
        """Format of the ``a`` lanes."""
        return self._a_fmt

    @property
    def b_fmt(self):
        """Format of the ``b`` lanes (the weights)."""
        return self._b_fmt

    @property
    def accumulator(self):
        """The golden accumulator the resolved sum implements."""
        return self._acc

    @property
    def lanes(self) -> int:
        """Products per cycle."""
        return self._lanes

    @property
    def k_group(self):
        """Products per carry-propagate adder inside a cycle, or None (none inside)."""
        return self._k_group

    @property
    def width(self) -> int:
        """Bits of each accumulator row: ``W``."""
        return self._width

    @property
    def peak_macs_per_cycle(self) -> int:
        """``lanes`` products per cycle."""
        return self._lanes

    @property
    def pipeline_depth(self) -> int:
        """Edges from the one taking products to the one adding them into the registers: 0
        (the same edge)."""
        return 0

    @property
    def padding_codes(self) -> tuple:
        """``(a, b)`` codes of a lane past ``K``: ``(0, 0)``, a zero product."""
        return 0, 0

    @property
    def result_ports(self) -> tuple:
        """The ports holding the result, to be resolved together: ``("acc_sum", "acc_carry")``."""
        return "acc_sum", "acc_carry"

    def describe(self) -> dict:
        """Parameters for the export sidecar and result rows."""
        acc = self._acc
        return {"a_fmt": self._a_fmt.to_dict(), "b_fmt": self._b_fmt.to_dict(),
                "acc": {"kind": "fixed", "int_bits": acc.int_bits, "frac_bits": acc.frac_bits,
                        "overflow": acc.overflow, "carry_save": True},
                "lanes": self._lanes, "k_group": self._k_group}

    # --- hardware ------------------------------------------------------------------------------
    @staticmethod
    def resolve(m, values, name: str):
        """The carry-propagate adder of a result: ``(acc_sum + acc_carry) mod 2**W`` of the
        ``values`` (the two rows, or registers holding them) as a signal named ``name``."""
        return resolve(m, *values, name)

    def _group_width(self) -> int:
        """Bits of an exact group sum of ``k_group`` products (at most ``W``)."""
        low, high = product_range(self._a_fmt, self._b_fmt)
        return min(self._width, signed_width(low * self._k_group, high * self._k_group))

    def elaborate(self, platform):
        m = Module()
        wa, wb = self._a_fmt.bits, self._b_fmt.bits
        signs = {"a_signed": self._a_fmt.signed, "w_signed": self._b_fmt.signed}
        lanes = [(self.a[i * wa:(i + 1) * wa], self.b[i * wb:(i + 1) * wb])
                 for i in range(self._lanes)]
        heap = BitHeap(self._width)
        if self._k_group is None:
            for a, b in lanes:
                add_product(heap, a, b, **signs)
        else:
            width, size = self._group_width(), self._k_group
            for g in range(self._lanes // size):
                group = BitHeap(width)
                for a, b in lanes[g * size:(g + 1) * size]:
                    add_product(group, a, b, **signs)
                rows = compress(m, group, f"group{g}")
                total = resolve(m, rows.sum, rows.carry, f"group{g}_total")
                heap.add_row(total, signed=width < self._width)  # the exact group sum
        keep = Signal(self._width)  # all ones unless a new sum starts
        m.d.comb += keep.eq(Mux(self.clear, 0, (1 << self._width) - 1))
        heap.add_row(self.acc_sum & keep, signed=False)
        heap.add_row(self.acc_carry & keep, signed=False)
        rows = compress(m, heap, "acc")
        with m.If(self.valid):
            m.d.sync += [self.acc_sum.eq(rows.sum), self.acc_carry.eq(rows.carry)]
        m.d.sync += [self.out_valid.eq(self.valid), self.done.eq(self.valid & self.last)]
        return m
