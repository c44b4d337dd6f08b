"""Vector sets for block dot-product units (MxDotUnit): one block pair per operation.

A vector set is a :class:`BlockVectors`: per cycle an operation ``(clear, a, a_scale, b,
b_scale)`` (``block_size`` element codes per operand, one scale code each) and the code the
accumulator holds after it. Expected codes come from :func:`lowbit.golden.gemm.dot` on
:class:`~lowbit.golden.formats.BlockArray` objects built directly from the codes, with the
unit's own accumulator object: the dot product of the blocks since the last clear. NVFP4's FP32
tensor scales are not part of the unit (``tensor_scale=None``): the expected code is the
accumulator before that epilogue.

Sets (every one seeded; see :func:`block_vectors`):

``corners``    single-block dot products of corner blocks (zeros, -0, the largest and smallest
               magnitudes, one large product among tiny ones, exactly cancelling blocks, 1.0, NaN
               and Inf elements in either operand, Inf meeting -Inf and 0 * Inf) under corner
               scale pairs (1.0, the smallest and largest scales, NaN, zero for UE4M3), then
               pairs of opposite blocks accumulated (an exact zero sum after a nonzero one).
``random``     uniformly random finite element codes with rare NaN/Inf elements; scales spread
               around a value keeping the largest block terms inside the register (1.0 for
               fp32), with rare extremes and NaN; clear about every tenth operation.
``sequences``  runs of 64 operations: terms of 1/16 of the accumulator's largest value (the
               register overflows, for either sign), large blocks alternating in sign around
               small ones (cancellation, absorption), the smallest blocks (underflow), and random
               blocks under widely spread scales.
"""

from dataclasses import dataclass

import numpy as np

from lowbit.errors import LowbitError
from lowbit.golden import gemm
from lowbit.golden.formats import BlockArray
from lowbit.verify.vectors import MacVectors

BLOCK_VECTOR_SETS = ("corners", "random", "sequences")
_RUN = 64  # operations per run of the sequences set


@dataclass(frozen=True)
class BlockVectors(MacVectors):
    """MAC vectors whose ``a`` and ``b`` are ``(ops, block_size)`` element codes, plus the
    ``(ops,)`` block scale codes ``a_scale`` and ``b_scale``."""

    a_scale: np.ndarray
    b_scale: np.ndarray


# --- golden expectations ----------------------------------------------------------------------
def block_array(block_fmt, elements, scales) -> BlockArray:
    """A BlockArray of ``block_fmt`` holding ``elements`` ``(rows, n_blocks * block_size)`` and
    ``scales`` ``(rows, n_blocks)``, blocked along the last axis, without a tensor scale."""
    elements = np.asarray(elements).astype(block_fmt.element.code_dtype)
    scales = np.asarray(scales).astype(block_fmt.scale.code_dtype)
    return BlockArray(block_fmt, elements, scales, elements.shape, elements.ndim - 1)


def expected_block_codes(clear, a, a_scale, b, b_scale, block_fmt, acc) -> np.ndarray:
    """Register code after each operation: the golden dot product of the blocks since the last
    clear, as int64 codes of ``acc.out_fmt``.

    Prefixes are not padded (a padding block would have to leave every register value
    unchanged, and none does in general: MXINT8 blocks cannot form the -0 term that keeps a
    register holding -0 after an underflow); one golden call per prefix length instead.
    """
    idx = np.arange(len(a))
    starts = np.maximum.accumulate(np.where(clear, idx, 0))
    length = idx - starts + 1
    out = np.empty(len(a), dtype=np.int64)
    for n in np.unique(length):
        ends = idx[length == n]
        rows = ends[:, None] - n + 1 + np.arange(n)[None, :]  # the run's first n operations
        codes = gemm.dot(
            block_array(block_fmt, a[rows].reshape(len(ends), -1), a_scale[rows]),
            block_array(block_fmt, b[rows].reshape(len(ends), -1), b_scale[rows]),
            block_fmt, block_fmt, acc)
        out[ends] = codes.astype(np.int64)
    return out


# --- stimulus ---------------------------------------------------------------------------------
class _Codes:
    """Element and scale codes of a block format, sorted by role (derived from golden)."""

    def __init__(self, block_fmt):
        element, scale = block_fmt.element, block_fmt.scale
        self.size = block_fmt.block_size
        codes = np.arange(1 << element.bits)
        values = element.decode(codes)
        self.finite = codes[np.isfinite(values)]
        self.nan = codes[np.isnan(values)]
        self.pos_inf = codes[values == np.inf]
        self.neg_inf = codes[values == -np.inf]
        self.max, self.min = element.max_code, element.min_code  # min: most negative
        self.tiny = int(codes[values == element.min_positive][0])
        self.zero = 0
        self.neg_zero = (1 << (element.bits - 1)) if element.kind == "float" else 0
        self.one = (int(element.encode(np.array([1.0]))[0])
                    if element.max_value >= 1 else self.max)
        self.negate = lambda c: element.encode(-element.decode(c)).astype(np.int64)
        self.negatable = self.finite[element.decode(self.negate(self.finite))
                                     == -values[self.finite]]  # -x exact (not int min)
        scale_codes = np.arange(1 << scale.bits)
        scale_values = scale.decode(scale_codes)
        self.scale_finite = scale_codes[np.isfinite(scale_values)]
        self.scale_one = int(scale.encode(np.array([1.0]))[0])
        self.scale_min = int(scale_codes[scale_values == scale.min_positive][0])
        self.scale_max = scale.max_code
        self.scale_nan = scale.nan_code
        self.scale_zero = 0 if scale.zero else None
        self.scale = scale

    def scale_code(self, log2_value: int) -> int:
        """The scale code of ``2**log2_value``, clamped to the finite nonzero scales."""
        value = np.clip(2.0 ** log2_value, self.scale.min_positive, self.scale.max_value)
        return int(self.scale.encode(np.array([value]), rounding="rtz")[0])

    def full(self, code):
        return np.full(self.size, code, np.int64)


def _corner_blocks(c: _Codes, rng):
    """Corner element block pairs ``[(a, b), ...]`` for one block format."""
    blocks = [
        (c.full(c.zero), c.full(c.zero)),
        (c.full(c.neg_zero), c.full(c.zero)),  # every product -0 ...
        (c.full(c.min), c.full(c.zero)),  # ... also from a nonzero factor, on either side
        (c.full(c.zero), c.full(c.min)),
        (c.full(c.max), c.full(c.max)),
        (c.full(c.max), c.full(c.min)),
        (c.full(c.min), c.full(c.min)),
        (c.full(c.tiny), c.full(c.tiny)),
        (c.full(c.one), c.full(c.one)),
    ]
    span_a, span_b = c.full(c.tiny), c.full(c.tiny)  # one large product among tiny ones
    span_a[0], span_b[0] = c.max, c.max
    blocks.append((span_a, span_b))
    x = rng.choice(c.finite, c.size)
    y = rng.choice(c.finite, c.size)
    blocks.append((x, y))
    cancel_a = x.copy()
    cancel_a[1::2] = x[0::2]
    cancel_b = rng.choice(c.negatable, c.size)
    cancel_b[1::2] = c.negate(cancel_b[0::2])  # products pairwise opposite: exact zero
    blocks.append((cancel_a, cancel_b))
    specials = []
    for nan in c.nan[:1].tolist() + c.nan[-1:].tolist():
        a = x.copy()
        a[rng.integers(c.size)] = nan
        specials.append((a, y))
    if c.pos_inf.size:
        pos, neg = int(c.pos_inf[0]), int(c.neg_inf[0])
        ones = c.full(c.one)
        for infs in ([pos], [neg], [pos, neg]):  # +Inf, -Inf, +Inf meeting -Inf
            a = ones.copy()
            a[:len(infs)] = infs
            specials.append((a, ones))
        a, b = ones.copy(), ones.copy()
        a[3], b[3] = pos, c.zero  # Inf * 0
        specials.append((a, b))
        for inf, rest in ((pos, c.min), (neg, c.max)):  # the finite rest of opposite sign
            a = c.full(rest)
            a[0] = inf
            specials.append((a, c.full(c.max)))
    # Specials in either operand.
    return blocks + specials + [(b, a) for a, b in specials]


def _corner_scales(c: _Codes):
    pairs = [(c.scale_one, c.scale_one), (c.scale_min, c.scale_min),
             (c.scale_max, c.scale_max), (c.scale_min, c.scale_max),
             (c.scale_nan, c.scale_one), (c.scale_one, c.scale_nan)]
    if c.scale_zero is not None:
        pairs += [(c.scale_zero, c.scale_one), (c.scale_zero, c.scale_zero)]
    return pairs


def _corners(c: _Codes, rng):
    blocks = _corner_blocks(c, rng)
    ops = [(a, sa, b, sb, True) for a, b in blocks for sa, sb in _corner_scales(c)]
    # Opposite blocks accumulated: a nonzero sum returning to exactly zero.
    for a, b in blocks[4:11]:
        for sa, sb in _corner_scales(c)[:4]:
            ops += [(a, sa, b, sb, True), (a, sa, c.negate(b), sb, False)]
    return ops


def _random(c: _Codes, block_fmt, acc, rng, count, special_rate=0.005, extreme_rate=0.02):
    a = rng.choice(c.finite, (count, c.size))
    b = rng.choice(c.finite, (count, c.size))
    specials = np.concatenate([c.nan, c.pos_inf, c.neg_inf])
    if specials.size:
        for x in (a, b):
            rows = np.flatnonzero(rng.random(count) < special_rate)
            x[rows, rng.integers(0, c.size, rows.size)] = rng.choice(specials, rows.size)
    # Each scale within 2**+-spread of 2**(k / 2), where 2**k brings the largest block term to
    # 1/64 of the register's largest value (k <= 0), and the spread is an eighth of the
    # register's binades (2 to 16): the register overflows now and then, not mostly.
    out = acc.out_fmt
    k = min(0, _log2_scale_for(out.max_value / 64, c, block_fmt))
    spread = int(np.clip(np.log2(out.max_value / out.min_positive) // 8, 2, 16))
    if c.scale.man_bits:  # UE4M3: finite scales (zero included) up to 2**(k / 2 + spread)
        allowed = c.scale_finite[c.scale.decode(c.scale_finite) <= 2.0 ** (k // 2 + spread)]
        scales = [rng.choice(allowed, count) for _ in range(2)]
    else:  # E8M0
        scales = [np.array([c.scale_code(k // 2 + int(d))
                            for d in rng.integers(-spread, spread + 1, count)])
                  for _ in range(2)]
    extremes = np.array([c.scale_min, c.scale_max, c.scale_nan])
    for s in scales:
        rows = rng.random(count) < extreme_rate
        s[rows] = rng.choice(extremes, rows.sum())
    clear = rng.random(count) < 0.1
    clear[0] = True
    return [(a[i], scales[0][i], b[i], scales[1][i], bool(clear[i])) for i in range(count)]


def _log2_scale_for(term, c: _Codes, block_fmt) -> int:
    """``k`` such that ``2**k`` times the largest block term is at most ``term``."""
    return int(np.floor(np.log2(term / (c.size * block_fmt.element.max_value ** 2))))


def _sequences(c: _Codes, block_fmt, acc, rng):
    element = block_fmt.element
    # Scales making the largest block term 1/16 of the register's largest value.
    k = _log2_scale_for(acc.out_fmt.max_value / 16, c, block_fmt)
    big_a, big_b = c.scale_code(k // 2), c.scale_code(k - k // 2)
    ops = []

    def run(blocks):
        for i, (a, sa, b, sb) in enumerate(blocks):
            ops.append((a, sa, b, sb, i == 0))

    maxes, mins = c.full(c.max), c.full(c.min)
    run([(maxes, big_a, maxes, big_b)] * _RUN)  # overflow, positive
    run([(maxes, big_a, mins, big_b)] * _RUN)  # overflow, negative
    small = rng.choice(c.finite, (_RUN, c.size))
    blocks = []
    for i in range(_RUN):
        sign = maxes if i % 4 < 2 else mins
        blocks.append((maxes, big_a, sign, big_b) if i % 2 == 0
                      else (small[i], c.scale_one, small[i], c.scale_one))
    run(blocks)  # +big, small, -big, small, ...: cancellation and absorption
    # The smallest products, scaled to a few units of the register's smallest step: underflow
    # and gradual underflow.
    tiny = c.full(c.tiny)
    k = int(np.round(np.log2(acc.out_fmt.min_positive / (c.size * element.min_positive ** 2))))
    run([(tiny, c.scale_code((k + i % 5 - 2) // 2), tiny if i % 3 else c.negate(tiny),
          c.scale_code((k + i % 5 - 2) - (k + i % 5 - 2) // 2)) for i in range(_RUN)])
    a = rng.choice(c.finite, (_RUN, c.size))
    b = rng.choice(c.finite, (_RUN, c.size))
    spread = [rng.choice(c.scale_finite, _RUN) for _ in range(2)]
    run([(a[i], spread[0][i], b[i], spread[1][i]) for i in range(_RUN)])
    return ops


def block_stimulus(kind, block_fmt, acc, seed=0, count=2000):
    """The operations of vector set ``kind`` (one of :data:`BLOCK_VECTOR_SETS`) without their
    expected codes: ``(clear, a, a_scale, b, b_scale)`` arrays. ``acc`` sets the scale ranges
    (overflow runs); ``count`` is the length of ``random``."""
    rng = np.random.default_rng(seed)
    c = _Codes(block_fmt)
    if kind == "corners":
        ops = _corners(c, rng)
    elif kind == "random":
        ops = _random(c, block_fmt, acc, rng, count)
    elif kind == "sequences":
        ops = _sequences(c, block_fmt, acc, rng)
    else:
        raise LowbitError(f"block vector set must be one of {', '.join(BLOCK_VECTOR_SETS)}, "
                          f"not {kind!r}")
    a, a_scale, b, b_scale, clear = (np.array([op[j] for op in ops]) for j in range(5))
    a, b, a_scale, b_scale = (x.astype(np.int64) for x in (a, b, a_scale, b_scale))
    return clear.astype(bool), a, a_scale, b, b_scale


def block_vectors(kind, block_fmt, acc, seed=0, count=2000) -> BlockVectors:
    """Build vector set ``kind`` (one of :data:`BLOCK_VECTOR_SETS`) for a block dot unit of
    ``block_fmt`` accumulating into ``acc`` (``count`` operations for ``random``)."""
    clear, a, a_scale, b, b_scale = block_stimulus(kind, block_fmt, acc, seed, count)
    expected = expected_block_codes(clear, a, a_scale, b, b_scale, block_fmt, acc)
    return BlockVectors(kind, clear, a, b, expected, a_scale, b_scale)
