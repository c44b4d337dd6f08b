"""LUT Tensor Core: mixed-precision GEMM of integer activations by 1..4-bit weights, no multiplier.

The hardware form of :mod:`lowbit.golden.lut_gemm` (read its module docstring first): every
number below (table contents, recurrences, correction constant, padding) is taken from a
:class:`~lowbit.golden.lut_gemm.LutGemmConfig`, and every result equals
:func:`~lowbit.golden.lut_gemm.lut_gemm` bit for bit.

Tile dataflow
-------------
The engine computes an output tile of ``TM`` activation rows by ``TN`` weight columns at a
time (elongated, ``TN >> TM``: one table serves ``TN`` weights). K is walked in
``G = ceil(K / g)`` groups of ``g`` activations, and each group in ``b`` bit-planes
(*bit-serial* over the weight bits): a tile is ``L = G b`` input beats, group-major, plane
``j = 0 .. b-1`` within a group, one beat per cycle.

Precompute (the edge accepting a plane-0 beat)
    The ``TM`` rows' ``g`` activations on port ``a`` build ``TM`` tables of
    :attr:`~lowbit.golden.lut_gemm.LutGemmConfig.entries_per_table` entries with the
    recurrences of :attr:`~lowbit.golden.lut_gemm.LutGemmConfig.adds_per_table` (offset full
    tables ``T[idx] = T[idx without its top bit] + a_top``; bipolar and symmetrized tables from
    the all-plus seed, ``T[idx] = T[idx | 2**i] - 2 a_i``), in one combinational stage into
    table registers. The beat's ``w`` (the ``TN`` columns' plane-``j`` indices) and ``plane``
    are registered alongside.
Lookup and accumulate (the next edge)
    Each of the ``TM x TN`` lookups reads its row's table at its column's index (symmetrized:
    the half table at ``idx`` or ``~idx``, negated when the index's top bit is clear), shifts
    it left by ``j`` and adds it into its accumulator (cleared by a ``first`` beat). On plane-0
    beats each row also adds its table's all-plus entry, the group's activation sum, into its
    row sum ``S``.
Correct and drain
    Two edges after a tile's ``last`` beat the accumulators and row sums are copied into a
    drain of ``TM - 1`` rows and tile row 0 leaves at once; rows ``1 .. TM-1`` follow one per
    cycle: ``TM`` output beats, lane ``n`` of beat ``r`` holding ``C[m0 + r, n0 + n]``. On the
    way out each row gets ``correction_scale * S`` added, wrapped to ``acc_bits`` and, for
    symmetrized offset tables, shifted right by one (arithmetic).

The next tile's beats follow a ``last`` beat at once: the accumulators are free one edge after
it and the copy reads them in the cycle a new ``first`` beat overwrites them. ``in_ready``
drops only to hold a ``last`` beat until ``TM`` edges after the previous one, so a tile of
fewer than ``TM`` beats cannot overrun the drain (``in_ready`` depends on ``last`` and
on state, never on ``in_valid``).

Exactness: accumulators, row sums and result lanes are ``acc_bits``-bit two's complement
registers (wrapping). Every intermediate of golden is bounded by ``2 (2**b - 1) K A_max``
(``A_max``: the largest activation magnitude, 128 for int8), so results are exact for
``K <= max_k = (2**(acc_bits - 1) - 1) // (2 (2**b - 1) A_max)``: 559,240 for int8, 4-bit
weights and the default 32 bits.

Host side: tiles are streamed output-tile row-major (``m`` outer, ``n`` inner). Padding
follows golden: K is padded to ``G g`` with zero activations and weight codes ``2**b - 1``;
rows past ``M`` get zero activations and columns past ``N`` zero codes (their lanes are
padding, ``None`` in :meth:`LutTensorCore.output_map`).
"""

import numpy as np
from amaranth.hdl import Cat, Const, Module, Mux, Signal, signed
from amaranth.lib.wiring import In, Out

from lowbit.errors import OperationError, check_int
from lowbit.golden.formats import IntFormat, ScalarFormat
from lowbit.golden.lut_gemm import LutGemmConfig, lut_gemm
from lowbit.hdl.exact_term import signed_width
from lowbit.hdl.gemm_engine import GemmEngine, check_dimension, check_shape, pack, tiles
from lowbit.hdl.gemm_stream import gemm_dims, tile_output_map

MAX_ACT_BITS = 8
"""Widest activation format the tables are built for."""


class LutTensorCore(GemmEngine):
    """A LUT-based mixed-precision GEMM engine; see the module docstring.

    Parameters
    ----------
    weight_bits : int
        ``b``, bits per weight code and bit-planes (cycles) per K group, 1..4.
    group : int
        ``g``, activations per table (index width in bits), 1..8. Default 4.
    act_fmt : IntFormat, optional
        Activation format, an :class:`~lowbit.golden.formats.IntFormat` of 1 to 8 bits,
        signed or unsigned; ``None`` (default) means int8.
    tile : (int, int)
        ``(TM, TN)``: activation rows and weight columns of an output tile, 1 to 64 each.
        Default ``(2, 16)``.
    weight_encoding : {"offset", "bipolar"}
        How a code stands for a weight (:class:`~lowbit.golden.lut_gemm.LutGemmConfig`).
    symmetric_table : bool
        Store half tables (``2**(g-1)`` entries) and negate on lookup.
    offset : int, optional
        ``offset`` encoding's ``w = code - offset``; default ``2**(b-1)``.
    acc_bits : int
        Width of the accumulators, row sums and result lanes, from the width holding one
        group's largest intermediate (``2 (2**b - 1) A_max``) to 64. Default 32.

    Members
    -------
    in_valid : In(1), in_ready : Out(1)
        Input handshake; ``in_ready`` is low only while a ``last`` beat waits for the drain.
    a : In(TM * g * wa)
        Activation codes (``wa`` = the format's bits): lane ``r g + i`` holds
        ``A[m0 + r, k0 + i]`` of the beat's group ``k0 = g * group index``. Read on plane-0
        beats only.
    w : In(TN * g)
        Plane-``j`` table indices: lane ``n`` (``g`` bits) has bit ``i`` = bit ``j`` of the
        weight code ``B[k0 + i, n0 + n]``.
    plane : In(max(1, bit_length(b - 1)))
        ``j``, the weight bit-plane of the beat (0 builds the group's tables).
    first : In(1), last : In(1)
        The tile's first beat (clears the accumulators) and last beat (starts the drain).
    out_valid : Out(1), c : Out(TN * acc_bits)
        Output handshake; one tile row of ``TN`` signed ``acc_bits``-bit results per beat.
    """

    def __init__(self, weight_bits, group=4, act_fmt=None, tile=(2, 16), *,
                 weight_encoding="offset", symmetric_table=False, offset=None, acc_bits=32):
        try:
            config = LutGemmConfig(weight_bits, group, weight_encoding, symmetric_table, offset)
        except OperationError as err:  # golden's field rules, named for this engine
            raise OperationError(f"LutTensorCore {err}") from None
        if act_fmt is None:
            act_fmt = IntFormat(8)
        if not isinstance(act_fmt, IntFormat) or act_fmt.bits > MAX_ACT_BITS:
            got = (repr(act_fmt.name) if isinstance(act_fmt, ScalarFormat)
                   else f"{type(act_fmt).__name__} {act_fmt!r}")
            raise OperationError(f"LutTensorCore act_fmt must be None (int8) or an IntFormat of "
                                 f"1 to {MAX_ACT_BITS} bits, not {got}")
        if not isinstance(tile, (tuple, list)) or len(tile) != 2:
            raise OperationError(f"LutTensorCore tile must be a pair (rows, cols), not {tile!r}")
        tm = check_dimension("LutTensorCore", "tile rows", tile[0])
        tn = check_dimension("LutTensorCore", "tile cols", tile[1])
        self._config, self._act_fmt, self._tm, self._tn = config, act_fmt, tm, tn
        self._a_max = max(-act_fmt.min_int, act_fmt.max_int)
        b = config.weight_bits
        bound = 2 * ((1 << b) - 1) * self._a_max  # golden's intermediate bound per unit of K
        check_int("LutTensorCore acc_bits", acc_bits, signed_width(-bound, bound), 64,
                  OperationError)
        self._acc_bits = acc_bits
        self._plane_bits = max(1, (b - 1).bit_length())
        super().__init__({
            "in_valid": In(1), "in_ready": Out(1),
            "a": In(tm * config.group * act_fmt.bits), "w": In(tn * config.group),
            "plane": In(self._plane_bits), "first": In(1), "last": In(1),
            "out_valid": Out(1), "c": Out(tn * acc_bits)})

    # --- parameters ----------------------------------------------------------------------------
    @property
    def config(self) -> LutGemmConfig:
        """The golden datapath (weight width and encoding, group, table layout) the engine is."""
        return self._config

    @property
    def tile(self) -> tuple:
        """``(TM, TN)``: rows and columns of an output tile."""
        return self._tm, self._tn

    @property
    def acc_bits(self) -> int:
        """Width of the accumulators and result lanes."""
        return self._acc_bits

    @property
    def max_k(self) -> int:
        """Largest ``K`` whose results are exact:
        ``(2**(acc_bits - 1) - 1) // (2 (2**b - 1) A_max)``."""
        bound = 2 * ((1 << self._config.weight_bits) - 1) * self._a_max
        return ((1 << (self._acc_bits - 1)) - 1) // bound

    @property
    def accumulator(self):
        """``None``: results are golden's exact integers (no accumulator rounding)."""
        return None

    @property
    def a_fmt(self):
        """Format of ``A``: the activation format."""
        return self._act_fmt

    @property
    def b_fmt(self):
        """Format of ``B``: ``weight_bits``-bit unsigned weight codes."""
        return IntFormat(self._config.weight_bits, signed=False)

    @property
    def natural_tile(self) -> tuple:
        """``(TM, g, TN)``: one output tile, one K group per table."""
        return self._tm, self._config.group, self._tn

    @property
    def lanes_out(self) -> int:
        return self._tn

    @property
    def out_bits(self) -> int:
        return self._acc_bits

    @property
    def peak_macs_per_cycle(self) -> float:
        """``TM TN g / b``: ``TM TN`` lookups per cycle, each covering ``g`` weights of one of
        ``b`` planes (a float: bit-serial, so fractional for ``b = 3``)."""
        return self._tm * self._tn * self._config.group / self._config.weight_bits

    def describe(self) -> dict:
        """Parameters for the export sidecar and result rows."""
        cfg = self._config
        return {"weight_bits": cfg.weight_bits, "group": cfg.group,
                "weight_encoding": cfg.weight_encoding, "symmetric_table": cfg.symmetric_table,
                "offset": cfg.offset, "act_fmt": self._act_fmt.to_dict(),
                "tile": [self._tm, self._tn], "acc_bits": self._acc_bits, "max_k": self.max_k,
                "entries_per_table": cfg.entries_per_table,
                "adds_per_table": cfg.adds_per_table,
                "correction_scale": cfg.correction_scale}

    # --- cycle count ---------------------------------------------------------------------------
    def beats_per_tile(self, K: int) -> int:
        """Input beats of one output tile: ``L = ceil(K / g) b``."""
        return tiles(K, self._config.group) * self._config.weight_bits

    def cycles(self, M, K, N) -> int:
        """Cycles of an ``M x K`` by ``K x N`` GEMM, first input beat to last output beat.

        ``L + (T - 1) P + TM + 1`` with ``T = ceil(M/TM) ceil(N/TN)`` output tiles,
        ``L = ceil(K/g) b`` beats per tile and ``P = max(L, TM)`` edges between successive
        tiles' ``last`` beats (a tile's beats follow the previous one's at once; a ``last``
        beat waits until ``TM`` edges after the previous one so the drain never overflows).
        The final ``last`` beat is looked up and accumulated one edge later, the copy into the
        drain registers row 0 of the results one edge after that, and ``TM - 1`` more rows
        follow.
        """
        check_shape(M, K, N)
        T = tiles(M, self._tm) * tiles(N, self._tn)
        L = self.beats_per_tile(K)
        return L + (T - 1) * max(L, self._tm) + self._tm + 1

    # --- host side -----------------------------------------------------------------------------
    def input_beats(self, A, B) -> list:
        """The input beats of ``C = A @ B``: ``A`` activation codes (``M x K``; a negative
        integer is taken as its two's complement code), ``B`` weight codes (``K x N``, in
        ``[0, 2**b)``)."""
        A, B = np.asarray(A, np.int64), np.asarray(B, np.int64)
        M, K, N = self._shape_of(A, B)
        cfg, TM, TN = self._config, self._tm, self._tn
        b, g = cfg.weight_bits, cfg.group
        if B.min() < 0 or B.max() >> b:
            raise OperationError(f"weight codes must lie in [0, 2**{b}) for weight_bits {b}, "
                                 f"got [{B.min()}, {B.max()}]")
        G = tiles(K, g)
        wa = self._act_fmt.bits
        # Golden's padding: zero activations, codes 2**b - 1 along K; zeros past M and N.
        a = np.zeros((tiles(M, TM) * TM, G * g), np.int64)
        a[:M, :K] = A & ((1 << wa) - 1)
        w = np.zeros((G * g, tiles(N, TN) * TN), np.int64)
        w[K:, :] = (1 << b) - 1
        w[:K, :N] = B
        weights = np.int64(1) << np.arange(g, dtype=np.int64)
        beats = []
        for m0 in range(0, M, TM):
            for n0 in range(0, N, TN):
                for k in range(G):
                    group = slice(k * g, (k + 1) * g)
                    acts = pack(a[m0:m0 + TM, group].ravel(), wa)
                    codes = w[group, n0:n0 + TN]                        # (g, TN)
                    for j in range(b):
                        index = (((codes >> j) & 1) * weights[:, None]).sum(axis=0)
                        beats.append({"a": acts if j == 0 else 0, "w": pack(index, g),
                                      "plane": j, "first": int(k == 0 and j == 0),
                                      "last": int(k == G - 1 and j == b - 1)})
        return beats

    def output_map(self, M, K, N) -> list:
        """``(m, n, K)`` per lane of every output beat (``None`` for padding)."""
        check_shape(M, K, N)
        return tile_output_map(M, K, N, self._tm, self._tn)

    def golden(self, A, B, k_end) -> np.ndarray:
        """Golden results of ``A[:, :k_end] @ B[:k_end, :]``: :func:`lut_gemm` (int64)."""
        A, B = np.asarray(A), np.asarray(B)
        return lut_gemm(A[:, :k_end], B[:k_end, :], self._config, self._act_fmt)[0]

    def _shape_of(self, A, B):
        if A.ndim != 2 or B.ndim != 2:
            raise OperationError(f"A and B must be 2-D, not shapes {A.shape} and {B.shape}")
        return gemm_dims(A.shape, B.shape)

    # --- hardware ------------------------------------------------------------------------------
    def _entry_shape(self):
        """Signed shape of a table entry (a signed sum of up to ``g`` activations)."""
        g, fmt = self._config.group, self._act_fmt
        if self._config.weight_encoding == "offset" and not self._config.symmetric_table:
            return signed(signed_width(g * min(fmt.min_int, 0), g * max(fmt.max_int, 0)))
        return signed(signed_width(-g * self._a_max, g * self._a_max))

    def _build_table(self, m, acts, row):
        """Table entries of one row (comb signals) from its ``g`` activations, by the recurrences
        of :attr:`LutGemmConfig.adds_per_table`."""
        cfg, shape = self._config, self._entry_shape()
        g = cfg.group

        def entry(name, value):
            sig = Signal(shape, name=f"t{row}_{name}")
            m.d.comb += sig.eq(value)
            return sig

        if cfg.weight_encoding == "offset" and not cfg.symmetric_table:
            t = [Const(0, shape)] + [None] * ((1 << g) - 1)
            for idx in range(1, 1 << g):
                top = idx.bit_length() - 1
                rest = idx ^ (1 << top)
                t[idx] = entry(idx, acts[top] if rest == 0 else t[rest] + acts[top])
            return t
        full, size = 1 << g, cfg.entries_per_table
        base = full - size
        seed = acts[0]
        for i in range(1, g):
            seed = entry(f"seed{i}", seed + acts[i])
        t = [None] * size
        t[size - 1] = entry(full - 1, seed)
        for idx in range(full - 2, base - 1, -1):
            i = ((~idx) & (idx + 1)).bit_length() - 1
            t[idx - base] = entry(idx, t[idx + (1 << i) - base] - (acts[i] << 1))
        return t

    def _lookup(self, table, index):
        """The entry ``index`` selects from ``table`` (entries packed, entry 0 lowest):
        ``T[index]``, or the symmetrized half-table read."""
        g, width = self._config.group, self._entry_shape().width
        if not self._config.symmetric_table:
            return table.word_select(index, width).as_signed()
        top = index[g - 1]
        if g == 1:
            value = table.as_signed()
        else:
            low = index[:g - 1]
            value = table.word_select(Mux(top, low, ~low), width).as_signed()
        return Mux(top, value, -value)

    def elaborate(self, platform):
        m = Module()
        cfg, TM, TN, w = self._config, self._tm, self._tn, self._acc_bits
        g, wa = cfg.group, self._act_fmt.bits
        accept = Signal()
        m.d.comb += accept.eq(self.in_valid & self.in_ready)

        # A `last` beat waits until TM edges after the previous one (the drain is TM rows).
        if TM > 1:
            gap = Signal(range(TM))
            with m.If(accept & self.last):
                m.d.sync += gap.eq(TM - 1)
            with m.Elif(gap != 0):
                m.d.sync += gap.eq(gap - 1)
            m.d.comb += self.in_ready.eq(~(self.last & (gap != 0)))
        else:
            m.d.comb += self.in_ready.eq(1)

        # Precompute: tables registered on an accepted plane-0 beat, indices on every beat.
        tables = []
        for r in range(TM):
            acts = []
            for i in range(g):
                lane = self.a[(r * g + i) * wa:(r * g + i + 1) * wa]
                act = Signal(signed(wa + 1), name=f"act_{r}_{i}")
                m.d.comb += act.eq(lane.as_signed() if self._act_fmt.signed else lane)
                acts.append(act)
            built = self._build_table(m, acts, r)
            # One packed register per table, written by slices and read with word_select:
            # Verilator compiles this several times faster than per-entry registers read
            # through an Array (4 min down to under 1 min for g = 8 and a 4 x 8 tile).
            width = self._entry_shape().width
            table = Signal(len(built) * width, name=f"table_{r}")
            with m.If(accept & (self.plane == 0)):
                m.d.sync += [table[e * width:(e + 1) * width].eq(value)
                             for e, value in enumerate(built)]
            tables.append(table)
        index = [Signal(g, name=f"index_{n}") for n in range(TN)]
        valid1, first1, last1 = Signal(), Signal(), Signal()
        plane1 = Signal(self._plane_bits)
        m.d.sync += valid1.eq(accept)
        with m.If(accept):
            m.d.sync += [first1.eq(self.first), last1.eq(self.last), plane1.eq(self.plane)]
            m.d.sync += [index[n].eq(self.w[n * g:(n + 1) * g]) for n in range(TN)]

        # Lookup, shift by significance, accumulate; row sums from the all-plus entries.
        acc = [[Signal(signed(w), name=f"acc_{r}_{n}") for n in range(TN)] for r in range(TM)]
        row_sum = [Signal(signed(w), name=f"row_sum_{r}") for r in range(TM)]
        scale = cfg.correction_scale
        seed_at = (cfg.entries_per_table - 1) * self._entry_shape().width
        with m.If(valid1):
            for r in range(TM):
                for n in range(TN):
                    looked = self._lookup(tables[r], index[n])
                    m.d.sync += acc[r][n].eq(Mux(first1, 0, acc[r][n]) + (looked << plane1))
                if scale:
                    with m.If(plane1 == 0):
                        m.d.sync += row_sum[r].eq(Mux(first1, 0, row_sum[r])
                                                 + tables[r][seed_at:].as_signed())

        # Copy into the drain two edges after `last`; correct each row on its way out.
        copy = Signal()
        m.d.sync += copy.eq(valid1 & last1)
        halve = cfg.weight_encoding == "offset" and cfg.symmetric_table

        def corrected(x, s):
            total = x + s * scale if scale else x
            wrapped = total[:w].as_signed()
            return wrapped >> 1 if halve else wrapped

        lanes = [Signal(signed(w), name=f"c_{n}") for n in range(TN)]
        drain = [[Signal(signed(w), name=f"drain_{r}_{n}") for n in range(TN)]
                 for r in range(1, TM)]
        drain_sum = [Signal(signed(w), name=f"drain_sum_{r}") for r in range(1, TM)]
        remaining = Signal(range(TM))
        out_valid = Signal()
        with m.If(copy):
            m.d.sync += [out_valid.eq(1), remaining.eq(TM - 1)]
            m.d.sync += [lanes[n].eq(corrected(acc[0][n], row_sum[0])) for n in range(TN)]
            for r in range(TM - 1):
                m.d.sync += [drain[r][n].eq(acc[r + 1][n]) for n in range(TN)]
                m.d.sync += drain_sum[r].eq(row_sum[r + 1])
        if TM > 1:
            with m.Elif(remaining != 0):
                m.d.sync += [out_valid.eq(1), remaining.eq(remaining - 1)]
                m.d.sync += [lanes[n].eq(corrected(drain[0][n], drain_sum[0]))
                             for n in range(TN)]
                for r in range(TM - 2):
                    m.d.sync += [drain[r][n].eq(drain[r + 1][n]) for n in range(TN)]
                    m.d.sync += drain_sum[r].eq(drain_sum[r + 1])
        with m.Else():
            m.d.sync += out_valid.eq(0)
        m.d.comb += [self.out_valid.eq(out_valid), self.c.eq(Cat(*lanes))]
        return m
