"""Lookup-table mixed-precision GEMM (T-MAC, LUT-GEMM, LUT Tensor Core): the bit-exact reference.

``C = A @ W`` with ``A`` an ``M x K`` matrix of activations (int8, or any integer, fixed-point or
floating-point format, summed exactly) and ``W`` a ``K x N`` matrix of ``b``-bit weight codes
(``b = weight_bits``, 1..4), computed with no multiplier, the way LUT hardware does:

1. Split ``K`` into ``G = ceil(K / g)`` groups of ``g`` activations (``g = group``, 1..8). The
   last group is padded with zero activations when ``g`` does not divide ``K``; the padded weight
   codes are ``2**b - 1`` (every plane bit 1, so a symmetrized table never negates for them).
   A zero activation adds nothing, so padding never changes ``C``.
2. For each row ``m`` and group, build once a table of the signed sums of the group's
   activations ``a[0..g-1]``, one entry per ``g``-bit index.
3. For each weight bit-plane ``j`` (``0 .. b-1``), the ``g`` plane bits of a group's weights
   (bit ``i`` of the index = plane ``j`` of weight ``i``) index the table.
4. Add the looked-up entries of every group per plane, shift each plane sum left by ``j``, add
   the planes, then apply the encoding's constant correction (below).

Weight encodings (:attr:`LutGemmConfig.weight_encoding`; ``p_j`` is bit ``j`` of code ``u``):

``offset``   ``w = u - offset`` with ``u = sum_j 2**j p_j`` in ``[0, 2**b)`` and ``offset`` in
             ``[0, 2**b)`` (default ``2**(b-1)``: int``b`` range ``-2**(b-1) .. 2**(b-1)-1``).
             Table ``T[idx] = sum_i (bit i of idx) * a_i``; ``C = sum_j 2**j L_j - offset * S``
             where ``L_j`` is the plane-``j`` lookup sum and ``S`` the row's activation sum.
``bipolar``  every plane bit stands for ``2 p_j - 1`` in ``{-1, +1}``, so
             ``w = sum_j 2**j (2 p_j - 1) = 2 u - (2**b - 1)``: the odd integers of
             ``[-(2**b - 1), 2**b - 1]`` (LUT-GEMM, BiQGEMM). Table
             ``T[idx] = sum_i (bit i of idx ? +a_i : -a_i)``; ``C = sum_j 2**j L_j``.

Symmetrized tables (``symmetric_table=True``, the LUT Tensor Core trick) hold only the
``2**(g-1)`` bipolar entries whose index has its top bit (bit ``g-1``) set,
``H[e] = T[2**(g-1) + e]``. Since ``T[~idx] = -T[idx]``, a lookup whose index has the top bit
clear reads ``H[~idx & (2**(g-1) - 1)]`` and negates it. Offset weights use the same bipolar
half table through the exact transform ``p_j = (s_j + 1) / 2`` with ``s_j = 2 p_j - 1``:
``u = (sum_j 2**j s_j + 2**b - 1) / 2``, hence

    ``2 C = sum_j 2**j L_j + (2**b - 1 - 2 offset) * S``     (``L_j`` from the bipolar table)

and ``C`` is that sum shifted right by one: always exact, since ``2 C`` is even by construction.
The group sum needed for ``S`` is a table entry in every case (``T[2**g - 1]`` or
``H[2**(g-1) - 1]``: all activations with sign +), so ``S`` costs only the adds across groups.

Activations and exactness: with ``act_fmt=None`` the activations are integers in the int8 range.
With an :class:`~lowbit.golden.formats.IntFormat`, ``FixedFormat`` or ``FloatFormat`` they are
that format's codes, decoded exactly and scaled by ``2**frac_bits`` (see
:func:`result_frac_bits`; 24 for fp16, whose smallest subnormal is ``2**-24``) so that every
value is an integer (below ``2**40`` for fp16). All arithmetic is int64 and exact: every
intermediate is bounded by ``2 (2**b - 1) K A_max`` (``A_max``: the largest scaled activation
magnitude), and :func:`lut_gemm` refuses a ``K`` for which that bound reaches ``2**63``
(fp16 with ``b = 4``: ``K`` up to 279,756). ``C`` is returned as int64 in units of
``2**-frac_bits``; ``np.ldexp(C, -frac_bits)`` is its exact float64 value while ``|C| < 2**53``.

Operation counts (:class:`OpCounts`) describe the dataflow above; :func:`op_counts` gives them
from the shapes alone for the cycle model, :func:`lut_gemm` returns them for its operands.
"""

import math
from dataclasses import asdict, dataclass, fields

import numpy as np

from lowbit.errors import OperationError, check_choice, check_int

WEIGHT_ENCODINGS = ("offset", "bipolar")
"""``offset``: ``w = code - offset``. ``bipolar``: each plane bit ``p`` stands for ``2p - 1``."""

_TILE_ELEMENTS = 1 << 22  # lookup temporaries of at most this many int64 (32 MiB) per N-tile


@dataclass(frozen=True)
class LutGemmConfig:
    """A LUT mpGEMM datapath: weight width and encoding, activation group, table layout.

    Parameters
    ----------
    weight_bits : int
        ``b``, bits per weight code and number of bit-planes, 1..4.
    group : int
        ``g``, activations per table (the table index width in bits), 1..8. Default 4.
    weight_encoding : {"offset", "bipolar"}
        How a code ``u`` stands for a weight (module docstring). Default ``"offset"``.
    symmetric_table : bool
        Store only the ``2**(g-1)`` entries with the index's top bit set and negate for the
        other half. For ``offset`` weights this uses the bipolar transform (module docstring).
    offset : int, optional
        ``offset`` encoding only: ``w = u - offset``, an integer in ``[0, 2**b)``; default
        ``2**(b-1)``. Must be left ``None`` for ``bipolar`` weights.
    """

    weight_bits: int
    group: int = 4
    weight_encoding: str = "offset"
    symmetric_table: bool = False
    offset: int | None = None

    def __post_init__(self):
        check_int("weight_bits", self.weight_bits, 1, 4, OperationError)
        check_int("group", self.group, 1, 8, OperationError)
        check_choice("weight_encoding", self.weight_encoding, WEIGHT_ENCODINGS, OperationError)
        if not isinstance(self.symmetric_table, bool):
            raise OperationError(
                f"symmetric_table must be True or False, not {self.symmetric_table!r}")
        if self.weight_encoding == "bipolar":
            if self.offset is not None:
                raise OperationError(
                    f"offset applies only to weight_encoding 'offset', not 'bipolar' "
                    f"(got offset={self.offset!r})")
            return
        if self.offset is None:
            object.__setattr__(self, "offset", 1 << (self.weight_bits - 1))
        check_int("offset", self.offset, 0, (1 << self.weight_bits) - 1, OperationError)

    # --- the weights ---------------------------------------------------------------------------
    @property
    def code_count(self) -> int:
        """Number of weight codes, ``2**weight_bits``."""
        return 1 << self.weight_bits

    def decode(self, codes) -> np.ndarray:
        """Return the integer weight (int64) each code stands for.

        ``offset``: ``code - offset``; ``bipolar``: ``2 code - (2**b - 1)``.
        """
        u = _weight_codes(codes, self).astype(np.int64)
        if self.weight_encoding == "offset":
            return u - self.offset
        return 2 * u - (self.code_count - 1)

    # --- the tables ----------------------------------------------------------------------------
    @property
    def entries_per_table(self) -> int:
        """Entries stored per table: ``2**g``, or ``2**(g-1)`` when symmetrized."""
        return 1 << (self.group - self.symmetric_table)

    @property
    def adds_per_table(self) -> int:
        """Two-input adds (or subtracts) that build one table.

        Copies of an activation and doublings ``2 a_i`` (wiring) are free.

        * offset, full table: ``2**g - 1 - g``. ``T[0] = 0`` and ``T[2**i] = a_i`` are copies;
          every other entry is ``T[idx without its top set bit] + a_(that bit)``.
        * bipolar, full table: ``2**g + g - 2``. The seed ``T[2**g - 1] = a_0 + ... + a_(g-1)``
          takes ``g - 1`` adds; each of the other ``2**g - 1`` entries is
          ``T[idx | 2**i] - 2 a_i`` (``i``: the lowest clear bit of ``idx``), one add.
        * symmetrized (either encoding): ``2**(g-1) + g - 2``: the same seed and recurrence,
          for the ``2**(g-1) - 1`` other entries with the top bit set only.
        """
        g = self.group
        if self.symmetric_table:
            return (1 << (g - 1)) + g - 2
        if self.weight_encoding == "offset":
            return (1 << g) - 1 - g
        return (1 << g) + g - 2

    @property
    def correction_scale(self) -> int:
        """The constant the row's activation sum ``S`` is multiplied by and added to each output.

        ``-offset`` for full offset tables; ``2**b - 1 - 2 offset`` (odd, never 0) for
        symmetrized offset tables, added before the final shift right by one; 0 for bipolar
        weights, and for offset weights with ``offset = 0`` (no correction is then made).
        """
        if self.weight_encoding == "bipolar":
            return 0
        if self.symmetric_table:
            return self.code_count - 1 - 2 * self.offset
        return -self.offset


@dataclass(frozen=True)
class OpCounts:
    """Operations of one LUT GEMM, by kind, for the cycle and energy models.

    Formulas use ``M, K, N`` (shapes), ``b = weight_bits``, ``g = group``,
    ``G = ceil(K / g)`` (groups per row, the last one padded), ``E`` =
    :attr:`LutGemmConfig.entries_per_table`, ``A`` = :attr:`LutGemmConfig.adds_per_table`, and
    ``c = 1`` if the encoding needs the offset correction (offset weights with a symmetrized
    table or a nonzero ``offset``), else 0.

    Attributes
    ----------
    table_builds : int
        Tables built, one per row and group: ``M G``.
    table_entries : int
        Table entries computed and stored: ``M G E``.
    table_adds : int
        Adds building the tables: ``M G A``.
    lookups : int
        Table reads, one per output, group and bit-plane: ``M N G b``.
    negations : int
        Symmetrized lookups whose index has its top bit clear, so the entry is negated.
        From :func:`lut_gemm`: the count its weights need (``M`` times the number of 0 bits, over
        every plane and column, of the weights in the last position of each complete group).
        From :func:`op_counts`: the most any weights can need, ``M N b floor(K / g)``. 0 for
        full tables.
    adds : int
        Accumulation adds: per output, ``b (G - 1)`` to sum each plane's lookups over the
        groups and ``b - 1`` to add the shifted plane sums: ``M N (G b - 1)``.
    shifts : int
        Shifts by bit significance, one per plane sum with ``j >= 1``, plus the final shift
        right by one per output with symmetrized offset tables:
        ``M N (b - 1 + [offset and symmetric])``.
    offset_row_adds : int
        Adds summing a row's group sums (table entries) into ``S``: ``c M (G - 1)``.
    offset_row_scales : int
        Multiplications of ``S`` by the constant :attr:`LutGemmConfig.correction_scale`, once
        per row: ``c M``.
    offset_corrections : int
        Adds of the scaled row sum into an output: ``c M N``.
    """

    table_builds: int
    table_entries: int
    table_adds: int
    lookups: int
    negations: int
    adds: int
    shifts: int
    offset_row_adds: int
    offset_row_scales: int
    offset_corrections: int

    def __add__(self, other):
        """Return the counts of both operations together (a workload's total)."""
        if not isinstance(other, OpCounts):
            return NotImplemented
        return OpCounts(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(self)))

    def to_dict(self) -> dict:
        """Return the counts as a dict (one tidy row; keys are the attribute names)."""
        return asdict(self)


def op_counts(m: int, k: int, n: int, config: LutGemmConfig) -> OpCounts:
    """Return the operation counts of an ``m x k`` by ``k x n`` LUT GEMM from its shapes alone.

    ``negations`` is the most any weights can need; every other count is exact (see
    :class:`OpCounts` for the formulas).
    """
    _check_config(config)
    check_int("M", m, 0, 1 << 40, OperationError)
    check_int("K", k, 1, 1 << 40, OperationError)
    check_int("N", n, 0, 1 << 40, OperationError)
    return _counts(m, k, n, config, negations=(
        m * n * config.weight_bits * (k // config.group) if config.symmetric_table else 0))


def result_frac_bits(act_fmt=None) -> int:
    """Return the fraction bits of :func:`lut_gemm`'s result: ``value = C * 2**-frac_bits``.

    This is the exponent of the activation format's LSB, so every activation scaled by
    ``2**frac_bits`` is an integer: 0 for integers, ``frac_bits`` for fixed point, and
    ``man_bits - emin`` for floats (24 for fp16, 9 for fp8_e4m3). :func:`lut_gemm` takes a
    format only if its largest value is below ``2**53`` in these units (not bf16 or fp32).
    """
    if act_fmt is None:
        return 0
    kind = getattr(act_fmt, "kind", None)
    if kind in ("int", "fixed"):
        return act_fmt.frac_bits
    if kind == "float":
        emin = math.frexp(act_fmt.min_normal)[1] - 1
        return act_fmt.man_bits - emin
    raise OperationError(f"act_fmt must be an IntFormat, FixedFormat or FloatFormat, not "
                       f"{getattr(act_fmt, 'name', act_fmt)!r}")


def lut_gemm(A, W_codes, config: LutGemmConfig, act_fmt=None) -> tuple[np.ndarray, OpCounts]:
    """Multiply activations by bit-plane weight codes through lookup tables, exactly.

    Parameters
    ----------
    A : array_like, shape (M, K)
        Activations. With ``act_fmt=None``: integers (any integer dtype) in the int8 range
        ``[-128, 127]``. With a format: that format's codes (unsigned bit patterns).
    W_codes : array_like, shape (K, N)
        Weight codes, integers in ``[0, 2**weight_bits)`` (uint8 typically), decoded as
        ``config`` says (:meth:`LutGemmConfig.decode`).
    config : LutGemmConfig
        Weight width and encoding, group size, table layout.
    act_fmt : IntFormat, FixedFormat or FloatFormat, optional
        Format of the activation codes; finite values only (Inf and NaN codes raise).

    Returns
    -------
    C : ndarray of int64, shape (M, N)
        ``A @ decode(W_codes)`` exactly, in units of ``2**-result_frac_bits(act_fmt)`` (plain
        integers for int8 or ``IntFormat`` activations).
    counts : OpCounts
        The operations this product took (:class:`OpCounts`).

    Raises
    ------
    OperationError
        Bad config or operands: not 2-D, non-integer dtypes, values or codes out of range, K of
        ``A`` and ``W_codes`` differing, Inf/NaN activations, or a ``K`` too large for exact
        int64 accumulation.
    """
    _check_config(config)
    a, a_max, a_name = _activations(A, act_fmt)
    w = np.asarray(W_codes)
    if w.ndim != 2:
        raise OperationError(f"W_codes must be a 2-D (K, N) array, not shape {w.shape}")
    m, k = a.shape
    if w.shape[0] != k:
        raise OperationError(f"A is {m} x {k} (M x K) but W_codes is {w.shape[0]} x {w.shape[1]} "
                           f"(K x N): their K must match")
    w = _weight_codes(w, config)
    n = w.shape[1]
    b, g = config.weight_bits, config.group
    k_max = ((1 << 63) - 1) // (2 * ((1 << b) - 1) * a_max)
    check_int(f"K for exact int64 accumulation of {a_name} activations with weight_bits {b}",
              k, 1, k_max, OperationError)

    groups = -(-k // g)
    pad = groups * g - k
    a = np.pad(a, ((0, 0), (0, pad))).reshape(m, groups, g)
    w = np.pad(w.astype(np.int64), ((0, pad), (0, 0)), constant_values=(1 << b) - 1)
    w = w.reshape(groups, g, n)

    tables = _build_tables(a, config)                       # (M, G, E)
    index = [_plane_index(w, j) for j in range(b)]          # b x (G, N), g-bit indices
    acc = np.zeros((m, n), np.int64)
    tile = max(1, _TILE_ELEMENTS // max(1, m * groups))
    for n0 in range(0, n, tile):
        cols = slice(n0, n0 + tile)
        for j in range(b):
            acc[:, cols] += _lookup(tables, index[j][:, cols], config).sum(axis=1) << j

    scale = config.correction_scale
    if scale:
        row_sum = tables[..., -1].sum(axis=1)                # entry "every activation with +"
        acc += (scale * row_sum)[:, None]
    if config.weight_encoding == "offset" and config.symmetric_table:
        acc >>= 1                                            # exact: acc holds 2 C

    negations = 0
    if config.symmetric_table:
        negations = m * sum(int(np.count_nonzero((ix >> (g - 1)) == 0)) for ix in index)
    return acc, _counts(m, k, n, config, negations)


# --- internals ---------------------------------------------------------------------------------
def _check_config(config):
    if not isinstance(config, LutGemmConfig):
        raise OperationError(f"config must be a LutGemmConfig, not {type(config).__name__}")


def _counts(m, k, n, config, negations) -> OpCounts:
    b = config.weight_bits
    groups = -(-k // config.group)
    tables = m * groups
    corrected = int(config.correction_scale != 0)
    halving = int(config.weight_encoding == "offset" and config.symmetric_table)
    return OpCounts(
        table_builds=tables,
        table_entries=tables * config.entries_per_table,
        table_adds=tables * config.adds_per_table,
        lookups=m * n * groups * b,
        negations=negations,
        adds=m * n * (groups * b - 1),
        shifts=m * n * (b - 1 + halving),
        offset_row_adds=corrected * m * (groups - 1),
        offset_row_scales=corrected * m,
        offset_corrections=corrected * m * n,
    )


def _activations(A, act_fmt):
    """Return ``(a, a_max, name)``: int64 activations scaled to integers, their bound, name."""
    a = np.asarray(A)
    if a.ndim != 2:
        raise OperationError(f"A must be a 2-D (M, K) array, not shape {a.shape}")
    if act_fmt is None:
        if a.dtype.kind not in "iu":
            raise OperationError(f"A must hold integers in the int8 range, not {a.dtype} values "
                               f"(pass act_fmt to give codes of another format)")
        if a.size and (a.min() < -128 or a.max() > 127):
            raise OperationError(f"activations must lie in [-128, 127] (int8), "
                               f"got [{a.min()}, {a.max()}]")
        return a.astype(np.int64), 128, "int8"
    frac = result_frac_bits(act_fmt)
    a_max = int(math.ldexp(max(abs(act_fmt.max_value), abs(act_fmt.min_value)), frac))
    if a_max >= 1 << 53:
        raise OperationError(
            f"act_fmt {act_fmt.name} has values of up to {a_max.bit_length()} bits in units of "
            f"its LSB 2**{-frac}; lut_gemm handles at most 53")
    v = act_fmt.decode(a)
    bad = ~np.isfinite(v)
    if bad.any():
        raise OperationError(f"activations must be finite; {np.count_nonzero(bad)} of the "
                           f"{act_fmt.name} codes are Inf or NaN")
    return np.ldexp(v, frac).astype(np.int64), a_max, act_fmt.name


def _weight_codes(codes, config):
    """Return ``codes`` as an integer array after checking they are ``weight_bits``-bit codes."""
    w = np.asarray(codes)
    if w.dtype.kind not in "iu":
        raise OperationError(f"weight codes must be an integer array, not {w.dtype}")
    b = config.weight_bits
    if w.size and (w.min() < 0 or w.max() >= 1 << b):
        raise OperationError(f"weight codes must lie in [0, 2**{b}) for weight_bits {b}, "
                           f"got [{w.min()}, {w.max()}]")
    return w


def _build_tables(a, config):
    """Return the tables ``(M, G, E)`` of groups ``a`` ``(M, G, g)``, built as counted."""
    g = config.group
    m, groups = a.shape[:2]
    if config.weight_encoding == "offset" and not config.symmetric_table:
        t = np.zeros((m, groups, 1 << g), np.int64)
        for idx in range(1, 1 << g):
            top = idx.bit_length() - 1
            rest = idx ^ (1 << top)
            t[..., idx] = a[..., top] if rest == 0 else t[..., rest] + a[..., top]
        return t
    # Bipolar sums: seed the all-plus entry, then T[idx] = T[idx | 2**i] - 2 a_i, i the lowest
    # clear bit of idx, going down. A symmetrized table stops at the entries with the top bit set.
    full, size = 1 << g, config.entries_per_table
    base = full - size                      # stored entry e holds index base + e
    t = np.empty((m, groups, size), np.int64)
    t[..., size - 1] = a.sum(axis=-1)
    twice = 2 * a
    for idx in range(full - 2, base - 1, -1):
        i = ((~idx) & (idx + 1)).bit_length() - 1
        t[..., idx - base] = t[..., idx + (1 << i) - base] - twice[..., i]
    return t


def _plane_index(w, j):
    """Return the ``g``-bit table indices ``(G, N)`` of bit-plane ``j`` of weights ``(G, g, N)``."""
    weights = np.int64(1) << np.arange(w.shape[1], dtype=np.int64)[:, None]
    return (((w >> j) & 1) * weights).sum(axis=1)


def _lookup(tables, index, config):
    """Return the looked-up entries ``(M, G, N)`` of ``tables`` at ``index`` ``(G, N)``."""
    rows = np.arange(tables.shape[1])[:, None]
    if not config.symmetric_table:
        return tables[:, rows, index]
    low_mask = config.entries_per_table - 1
    top = (index >> (config.group - 1)) == 1
    low = index & low_mask
    values = tables[:, rows, np.where(top, low, low_mask - low)]
    return np.where(top, values, -values)
