"""Segmented Kulisch register: one wide exact accumulator shared by 1, 2, 4 ... SIMD lanes.

The register of ``blocks x block_bits`` bits is cut into lane segments by the current *split*:
a split of ``L`` lanes (a power of two dividing ``blocks``) gives lane ``k`` the ``blocks / L``
blocks ``[k blocks / L, (k + 1) blocks / L)``, a two's complement Kulisch register of
``S = block_bits blocks / L`` bits of its own. The Posit Standard 2022 quire of posit(n, es) is
``16 n`` bits, so one 256-bit register holds exactly one posit16 quire, two posit8 quires or
four posit4 quires: the flip-flops, the adder and the read-out normalizer exist once.

Write side (one operation per cycle)
    Each lane's signed addend (the exact product, already aligned to its segment's LSB) is
    sign-extended over its segment; every block adds its slice in its own ``block_bits``-bit
    adder, and a block's carry goes on into the next block only when both belong to the same
    lane in the split (elsewhere the carry chain is cut). A lane writes only when its
    ``lane_enable`` bit is set: a held lane's flip-flops keep their value (no toggle).
Runs
    The register remembers the split of its run (:attr:`run_split`). An operation in another
    split starts new sums (an implicit clear), since a segment means nothing across splits.
Read side (combinational, for the run's split)
    Each lane's magnitude (a segmented negation: the same cut carry chain), the leading-zero
    count of every block (:class:`~lowbit.hdl.leading_zeros.LeadingZeroCount`) merged into
    lane counts, one shared logarithmic left shifter whose bits cross a block boundary only
    inside a lane, and per split the top ``read_bits - 1`` bits of each normalized lane with
    the OR of the bits below jammed into a sticky LSB (the block ORs are shared between lanes
    and splits). Rounding a value from this short form is exact for any rounding mode whose
    result keeps at most ``read_bits - 2`` bits below the leading one.

Special values per lane follow :func:`lowbit.golden.exact.exact_sum`, as
:class:`~lowbit.hdl.kulisch.KulischAccumulator` does: NaN if a term is NaN or +Inf meets -Inf,
+-Inf if a term is infinite, and an exact zero sum is -0 only when every term was -0.
"""

from dataclasses import dataclass

from amaranth.hdl import Cat, Const, Module, Mux, Signal, signed
from amaranth.lib.wiring import In, Out

from lowbit.errors import OperationError, check_int
from lowbit.hdl.component import Component
from lowbit.hdl.leading_zeros import MAX_WIDTH, LeadingZeroCount


@dataclass(frozen=True)
class SegmentSplit:
    """One split of a :class:`SegmentedKulisch`.

    Parameters
    ----------
    lanes : int
        Lane segments, a power of two dividing the register's blocks.
    addend_bits : int
        Width of every lane's signed addend in this split (at most the segment).
    read_bits : int
        Bits of each lane's normalized read-out ``sig``: the leading one, ``read_bits - 2``
        bits below it and a sticky bit (3 or more).
    """

    lanes: int
    addend_bits: int
    read_bits: int


class SegmentedKulisch(Component):
    """A Kulisch register cut into ``split.lanes`` lane registers per split; see the module
    docstring.

    Parameters
    ----------
    blocks : int
        Blocks of the register, a power of two from 1 to 64.
    block_bits : int
        Bits per block; ``blocks * block_bits`` at most 4096.
    splits : sequence of SegmentSplit
        1 to 16 splits; ``split == s`` selects ``splits[s]``.

    Members
    -------
    valid, clear : In(1)
        Add the lane terms this cycle; with ``valid``, start new sums (an operation in another
        split than :attr:`run_split` does so too).
    split : In(range(len(splits)))
        The split of the operation (a valid index).
    lane_enable : In(lanes)
        Lanes that write this cycle (``lanes``: the most of any split); others hold.
    addend<k> : In(signed(a_k))
        Lane ``k``'s term in units of its segment's LSB (``a_k``: the widest ``addend_bits`` of
        the splits with lane ``k``); ignored when the term is NaN or infinite.
    negative<k>, nan<k>, inf<k> : In(1)
        Lane ``k``'s term sign (the sign of a zero or an infinite term), NaN, infinity.
    run_split : Out(range(len(splits)))
        The split of the register's current sums (0 after reset).
    value : Out(blocks * block_bits)
        The register.
    sum_negative<k> : Out(1), sum_sig<k> : Out(r_k), sum_shift<k> : Out(range)
        Read-out of lane ``k`` in the run split: the sign of its sum, its magnitude normalized
        to ``read_bits`` bits (right-aligned in ``r_k``, the widest ``read_bits``; the sticky
        bit at bit 0) and the left shift that normalized it (leading zeros of the segment; the
        segment width for a zero sum). Lanes past the run split's read 0.
    sum_nan<k>, sum_inf<k>, sum_inf_negative<k>, sum_negative_zero<k> : Out(1)
        Lane ``k``'s flags: the sum is NaN; infinite, negative if ``sum_inf_negative``; every
        term since the clear was -0.
    """

    def __init__(self, blocks, block_bits, splits):
        check_int("SegmentedKulisch blocks", blocks, 1, 64, OperationError)
        if blocks & (blocks - 1):
            raise OperationError(f"SegmentedKulisch blocks must be a power of two, not {blocks}")
        check_int("SegmentedKulisch block_bits", block_bits, 1, MAX_WIDTH // blocks,
                  OperationError)
        if not isinstance(splits, (list, tuple)) or not 1 <= len(splits) <= 16:
            raise OperationError(f"SegmentedKulisch splits must be a list of 1 to 16 "
                                 f"SegmentSplit, not {splits!r}")
        for s, split in enumerate(splits):
            if not isinstance(split, SegmentSplit):
                raise OperationError(f"SegmentedKulisch splits[{s}] must be a SegmentSplit, "
                                     f"not {split!r}")
            if split.lanes < 1 or split.lanes & (split.lanes - 1) or blocks % split.lanes:
                raise OperationError(f"SegmentedKulisch splits[{s}] lanes must be a power of "
                                     f"two dividing {blocks} blocks, not {split.lanes}")
            segment = blocks // split.lanes * block_bits
            check_int(f"SegmentedKulisch splits[{s}] addend_bits", split.addend_bits, 2,
                      segment, OperationError)
            check_int(f"SegmentedKulisch splits[{s}] read_bits", split.read_bits, 3,
                      MAX_WIDTH, OperationError)
        self._blocks, self._block_bits, self._splits = blocks, block_bits, tuple(splits)
        self._lanes = max(s.lanes for s in splits)
        members = {
            "valid": In(1), "clear": In(1), "split": In(range(max(len(splits), 2))),
            "lane_enable": In(self._lanes),
            "run_split": Out(range(max(len(splits), 2))),
            "value": Out(blocks * block_bits),
        }
        for k in range(self._lanes):
            users = [s for s in splits if s.lanes > k]
            members.update({
                f"addend{k}": In(signed(max(s.addend_bits for s in users))),
                f"negative{k}": In(1), f"nan{k}": In(1), f"inf{k}": In(1),
                f"sum_negative{k}": Out(1),
                f"sum_sig{k}": Out(max(s.read_bits for s in users)),
                f"sum_shift{k}": Out(range(max(self.segment_bits(s) for s in users) + 1)),
                f"sum_nan{k}": Out(1), f"sum_inf{k}": Out(1), f"sum_inf_negative{k}": Out(1),
                f"sum_negative_zero{k}": Out(1),
            })
        super().__init__(members)

    @property
    def lanes(self) -> int:
        """Lane registers: the most lanes of any split."""
        return self._lanes

    @property
    def width(self) -> int:
        """Register bits: ``blocks * block_bits``."""
        return self._blocks * self._block_bits

    def segment_bits(self, split: SegmentSplit) -> int:
        """Bits of one lane register in ``split``."""
        return self._blocks // split.lanes * self._block_bits

    def describe(self) -> dict:
        """Parameters for the export sidecar and result rows."""
        return {"blocks": self._blocks, "block_bits": self._block_bits,
                "splits": [{"lanes": s.lanes, "addend_bits": s.addend_bits,
                            "read_bits": s.read_bits} for s in self._splits]}

    def lane_port(self, name: str, lane: int):
        """The port ``<name><lane>``."""
        return getattr(self, f"{name}{lane}")

    # --- structure -----------------------------------------------------------------------------
    def _group(self, split: SegmentSplit) -> int:
        """Blocks per lane in ``split``."""
        return self._blocks // split.lanes

    def _select(self, m, selector, name, shape, value_of):
        """A signal equal to ``value_of(s, split)`` for the split ``selector`` selects."""
        sig = Signal(shape, name=name)
        with m.Switch(selector):
            for s, split in enumerate(self._splits):
                with m.Case(s):
                    m.d.comb += sig.eq(value_of(s, split))
            with m.Default():
                m.d.comb += sig.eq(0)
        return sig

    def _joined(self, m, selector, prefix):
        """``joined[b]``: block ``b`` continues the lane of block ``b - 1`` in the split
        ``selector`` selects (the carry passes)."""
        return [None] + [self._select(m, selector, f"{prefix}_joined{b}", 1,
                                      lambda s, split, b=b: int(b % self._group(split) != 0))
                         for b in range(1, self._blocks)]

    def _segmented_add(self, m, x, y, carry_in, joined, prefix):
        """Per block ``x_b + y_b + c_b`` where ``c_b`` is the previous block's carry when the
        block continues its lane, else ``carry_in[b]``; return the B-bit block sums."""
        B = self._block_bits
        sums, carry = [], None
        for b in range(self._blocks):
            c = carry_in[b] if b == 0 else Mux(joined[b], carry, carry_in[b])
            total = Signal(B + 1, name=f"{prefix}_block{b}")
            m.d.comb += total.eq(x[b * B:(b + 1) * B] + y[b * B:(b + 1) * B] + c)
            sums.append(total[:B])
            carry = total[B]
        return sums

    # --- hardware ------------------------------------------------------------------------------
    def elaborate(self, platform):
        m = Module()
        ops = Signal()
        restart = Signal()
        m.d.comb += [ops.eq(self.valid),
                     restart.eq(self.clear | (self.split != self.run_split))]
        with m.If(ops):
            m.d.sync += self.run_split.eq(self.split)
        self._write(m, ops, restart)
        self._read(m)
        return m

    def _write(self, m, ops, restart):
        B, blocks = self._block_bits, self._blocks
        live = [~self.lane_port("nan", k) & ~self.lane_port("inf", k) for k in range(self._lanes)]
        terms = []
        for k in range(self._lanes):
            term = Signal(self.lane_port("addend", k).shape(), name=f"term{k}")
            m.d.comb += term.eq(Mux(live[k], self.lane_port("addend", k), 0))
            terms.append(term)

        def addend_word(s, split):
            seg = self.segment_bits(split)
            return Cat(*(_sign_extend(terms[k], seg) for k in range(split.lanes)))

        addend = self._select(m, self.split, "addend", self.width, addend_word)
        # Block b's lane in the operation's split, and whether that lane writes.
        write = [self._select(m, self.split, f"write{b}", 1,
                              lambda s, split, b=b: self.lane_enable[b // self._group(split)])
                 for b in range(blocks)]
        base = Signal(self.width)
        m.d.comb += base.eq(Mux(restart, 0, self.value))
        joined = self._joined(m, self.split, "add")
        sums = self._segmented_add(m, base, addend, [0] * blocks, joined, "add")
        for b in range(blocks):
            with m.If(ops & write[b]):
                m.d.sync += self.value[b * B:(b + 1) * B].eq(sums[b])
        for k in range(self._lanes):
            self._write_flags(m, k, ops & self.lane_enable[k], restart, live[k])

    def _write_flags(self, m, k, write, restart, live):
        """Lane ``k``'s special-value flags (golden ``exact_sum``'s rules)."""
        port = self.lane_port
        nan, inf = port("sum_nan", k), port("sum_inf", k)
        inf_neg, neg_zero = port("sum_inf_negative", k), port("sum_negative_zero", k)
        negative, term_nan, term_inf = port("negative", k), port("nan", k), port("inf", k)
        keep = ~restart
        pos = (keep & inf & ~inf_neg) | (term_inf & ~negative & ~term_nan)
        neg = (keep & inf & inf_neg) | (term_inf & negative & ~term_nan)
        total_nan = Signal(name=f"lane{k}_total_nan")
        m.d.comb += total_nan.eq((keep & nan) | term_nan | (pos & neg))
        term_neg_zero = negative & (port("addend", k) == 0) & live
        with m.If(write):
            m.d.sync += [
                nan.eq(total_nan),
                inf.eq((pos | neg) & ~total_nan),
                inf_neg.eq(neg),
                neg_zero.eq((restart | neg_zero) & term_neg_zero),
            ]

    def _read(self, m):
        B, blocks = self._block_bits, self._blocks
        run = self.run_split
        value = self.value
        # Sign of each block's lane (its segment's top bit) in the run split.
        sign = [self._select(m, run, f"sign{b}", 1,
                             lambda s, split, b=b: value[self._top(split, b // self._group(
                                 split)) - 1])
                for b in range(blocks)]
        flip = Cat(*(sign[b].replicate(B) for b in range(blocks)))
        joined = self._joined(m, run, "read")
        magnitude = Cat(*self._segmented_add(m, value ^ flip, Const(0, self.width), sign,
                                             joined, "abs"))
        counts, zeros = [], []
        for b in range(blocks):
            lzc = LeadingZeroCount(B)
            m.submodules[f"lzc{b}"] = lzc
            m.d.comb += lzc.value.eq(magnitude[b * B:(b + 1) * B])
            counts.append(lzc.count)
            zeros.append(lzc.zero)
        lane_counts = {}
        for s, split in enumerate(self._splits):
            g = self._group(split)
            for k in range(split.lanes):
                lane_counts[s, k] = self._merge_counts(m, counts, zeros, k * g, g, f"s{s}_l{k}")
        shift_bits = max(self.segment_bits(s) for s in self._splits).bit_length()
        shifts = [self._select(m, run, f"shift{b}", shift_bits,
                               lambda s, split, b=b: lane_counts[s, b // self._group(split)])
                  for b in range(blocks)]
        normalized = self._normalize(m, magnitude, shifts, joined_all=self._joined_pairs(m))
        sticky = _PieceOr(m, normalized, B)
        # Every split's read-out first: the shared OR pieces are driven outside any Switch.
        read = {(s, k): self._read_out(normalized, sticky, split, k)
                for s, split in enumerate(self._splits) for k in range(split.lanes)}
        for k in range(self._lanes):
            sig = self.lane_port("sum_sig", k)

            with m.Switch(run):
                for s, split in enumerate(self._splits):
                    with m.Case(s):
                        if k < split.lanes:
                            m.d.comb += [
                                sig.eq(read[s, k]),
                                self.lane_port("sum_shift", k).eq(lane_counts[s, k]),
                                self.lane_port("sum_negative", k).eq(
                                    value[self._top(split, k) - 1]),
                            ]

    def _top(self, split, lane) -> int:
        """One past the top bit of ``lane``'s segment in ``split``."""
        return (lane + 1) * self.segment_bits(split)

    def _merge_counts(self, m, counts, zeros, first, count, name):
        """Leading zeros of blocks ``first .. first + count - 1`` read as one number (the last
        block holds the top bits): the top nonzero block's count plus ``B`` per zero block
        above it; ``count * B`` when all are zero."""
        B = self._block_bits
        total = Signal(range(count * B + 1), name=f"count_{name}")
        value = Const(count * B)
        for b in range(first, first + count):  # from the bottom block up: the top one wins
            above = first + count - 1 - b  # zero blocks above b when b holds the leading one
            value = Mux(zeros[b], value, counts[b] + above * B)
        m.d.comb += total.eq(value)
        return total

    def _joined_pairs(self, m):
        """``joined[(src, dst)]``: blocks ``src < dst`` lie in one lane of the run split."""
        pairs = {}
        for dst in range(self._blocks):
            for src in range(dst):
                pairs[src, dst] = self._select(
                    m, self.run_split, f"same{src}_{dst}", 1,
                    lambda s, split, a=src, b=dst: int(a // self._group(split)
                                                       == b // self._group(split)))
        return pairs

    def _normalize(self, m, magnitude, shifts, joined_all):
        """Shift every lane segment of ``magnitude`` left by its block's ``shifts`` (a log
        shifter; a bit moves into another block only within one lane)."""
        B = self._block_bits
        level = magnitude
        for step in range(len(shifts[0])):
            distance = 1 << step
            bits = []
            for i in range(self.width):
                b, src = i // B, i - distance
                if src < 0:
                    moved = Const(0, 1)
                elif src // B == b:
                    moved = level[src]
                else:
                    moved = level[src] & joined_all[src // B, b]
                bits.append(Mux(shifts[b][step], moved, level[i]))
            nxt = Signal(self.width, name=f"normalize{step}")
            m.d.comb += nxt.eq(Cat(*bits))
            level = nxt
        return level

    def _read_out(self, normalized, sticky, split, k):
        """Lane ``k``'s normalized top ``read_bits - 1`` bits and a sticky bit (a signal)."""
        top = self._top(split, k)
        seg = self.segment_bits(split)
        keep = split.read_bits - 1
        out = Signal(split.read_bits, name=f"read_{split.lanes}_{k}")
        if keep >= seg:  # the whole segment, zeros below: nothing to jam
            value = Cat(Const(0, 1 + keep - seg), normalized[top - seg:top])
        else:
            value = Cat(sticky.any_of(top - seg, top - keep), normalized[top - keep:top])
        sticky.module.d.comb += out.eq(value)
        return out


def _sign_extend(value, width):
    """``value`` (a signed expression) sign-extended or truncated to ``width`` bits."""
    return value.as_signed()[:width] if len(value) >= width else \
        Cat(value, value[-1].replicate(width - len(value)))


class _PieceOr:
    """OR reductions of bit ranges of one vector, built from memoized pieces: whole blocks and
    the pieces between the cut points asked for, so lanes and splits share their OR trees."""

    def __init__(self, m, bits, block_bits):
        self.module, self._bits, self._B = m, bits, block_bits
        self._memo = {}

    def _piece(self, lo, hi):
        if (lo, hi) not in self._memo:
            sig = Signal(name=f"or_{lo}_{hi}")
            self.module.d.comb += sig.eq(self._bits[lo:hi].any())
            self._memo[lo, hi] = sig
        return self._memo[lo, hi]

    def any_of(self, lo, hi):
        """OR of bits ``[lo, hi)``: whole blocks plus the partial pieces at both ends."""
        B = self._B
        parts = []
        start = lo
        while start < hi:
            block_end = (start // B + 1) * B
            end = min(block_end, hi)
            parts.append(self._piece(start, end))
            start = end
        return Cat(*parts).any()
