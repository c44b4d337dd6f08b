"""LUT mpGEMM reference (``lowbit.golden.lut_gemm``) against a direct integer GEMM, bit for bit.

Oracles, written here independently of the module:

* ``decode_weights``: the weight each code stands for, summed plane by plane from the spec
  (offset: ``sum_j 2**j p_j - offset``; bipolar: ``sum_j 2**j (2 p_j - 1)``).
* ``direct_gemm``: NumPy's int64 matmul of the activations and the decoded weights (integer
  matmul does not go through BLAS and is exact while no sum reaches 2**63).
* fp16 activations: Python ``Fraction`` sums, and Python-int sums of the values times 2**24.
* Operation counts: the closed forms of the issue, restated in ``expected_counts``.
"""

import itertools
import math
from fractions import Fraction

import numpy as np
import pytest

from lowbit.errors import EncodeError, LowbitError, OperationError
from lowbit.golden import formats
from lowbit.golden.lut_gemm import (LutGemmConfig, OpCounts, lut_gemm, op_counts,
                                    result_frac_bits)

FP16 = formats.get("fp16")


# --- independent references ----------------------------------------------------------------------
def decode_weights(codes, cfg):
    """Integer weights of ``codes`` per the spec, one bit-plane at a time (int64)."""
    u = np.asarray(codes).astype(np.int64)
    w = np.zeros(u.shape, np.int64)
    for j in range(cfg.weight_bits):
        p = (u >> j) & 1
        w += (1 << j) * (p if cfg.weight_encoding == "offset" else 2 * p - 1)
    return w - cfg.offset if cfg.weight_encoding == "offset" else w


def direct_gemm(a, w_codes, cfg):
    """The direct integer GEMM: int64 activations times decoded weights."""
    return np.asarray(a).astype(np.int64) @ decode_weights(w_codes, cfg)


def all_configs(groups=(2, 4, 8)):
    """Every weight width and encoding, symmetrized or not, for the given group sizes."""
    for b, g, enc, sym in itertools.product(range(1, 5), groups, ("offset", "bipolar"),
                                            (False, True)):
        yield LutGemmConfig(b, g, enc, sym)


def config_id(cfg):
    return (f"b{cfg.weight_bits}-g{cfg.group}-{cfg.weight_encoding}"
            f"{'-sym' if cfg.symmetric_table else ''}")


def random_fp16_codes(rng, shape):
    """Finite fp16 codes, uniform over bit patterns (exponent field 31, Inf/NaN, redrawn)."""
    codes = rng.integers(0, 1 << 16, shape, dtype=np.uint16)
    bad = (codes & 0x7C00) == 0x7C00
    codes[bad] = codes[bad] & 0x83FF  # same sign and mantissa, exponent field 0: subnormal
    return codes


# Shapes (M, K, N): GEMV (M = 1), K below, equal to, and not a multiple of every g, 1 x 1 x 1.
SHAPES = [(1, 1, 1), (1, 37, 5), (3, 8, 4), (4, 13, 6), (2, 3, 5), (7, 64, 9), (5, 100, 3)]
CONFIGS = list(all_configs())


# --- 1. LUT GEMM equals the direct GEMM ----------------------------------------------------------
@pytest.mark.parametrize("cfg", CONFIGS, ids=config_id)
def test_random_shapes_match_direct_gemm(cfg):
    rng = np.random.default_rng([cfg.weight_bits, cfg.group, cfg.symmetric_table,
                                 len(cfg.weight_encoding)])
    for m, k, n in SHAPES:
        a = rng.integers(-128, 128, (m, k), dtype=np.int8)
        w = rng.integers(0, 1 << cfg.weight_bits, (k, n), dtype=np.uint8)
        c, _ = lut_gemm(a, w, cfg)
        assert c.dtype == np.int64 and c.shape == (m, n)
        assert np.array_equal(c, direct_gemm(a, w, cfg)), (m, k, n)


@pytest.mark.parametrize("cfg", CONFIGS, ids=config_id)
def test_worst_case_values_match_direct_gemm(cfg):
    """All activations -128 or 127 times all-lowest or all-highest codes, and a checkerboard of
    both extremes: the largest magnitudes every table entry, plane sum and correction reach."""
    top = (1 << cfg.weight_bits) - 1
    m, k, n = 3, 4099, 4  # K = 4099: not a multiple of any g, many groups
    checker = np.indices((k, n)).sum(axis=0) % 2
    for act in (-128, 127):
        a = np.full((m, k), act, np.int64)
        for w in (np.zeros((k, n), np.uint8), np.full((k, n), top, np.uint8),
                  (checker * top).astype(np.uint8)):
            c, _ = lut_gemm(a, w, cfg)
            assert np.array_equal(c, direct_gemm(a, w, cfg)), (act, w[0, :2])
    a = np.where(np.indices((m, k)).sum(axis=0) % 2 == 1, 127, -128)
    w = (checker * top).astype(np.uint8)
    assert np.array_equal(lut_gemm(a, w, cfg)[0], direct_gemm(a, w, cfg))


@pytest.mark.parametrize("b, g", list(itertools.product(range(1, 5), range(1, 5))))
def test_every_group_pattern_matches_direct_gemm(b, g):
    """One group (K = g) against every combination of its g codes (N = 2**(b g) columns), so
    every table index of every plane is looked up, in every encoding and table layout."""
    w = np.array(list(itertools.product(range(1 << b), repeat=g)), np.uint8).T  # (g, 2**(b g))
    a = np.array([[-128] * g, [127] * g, list(range(-g, 0)),
                  [(-1) ** i * (7 + i) for i in range(g)]])
    for enc, sym in itertools.product(("offset", "bipolar"), (False, True)):
        cfg = LutGemmConfig(b, g, enc, sym)
        assert np.array_equal(lut_gemm(a, w, cfg)[0], direct_gemm(a, w, cfg)), config_id(cfg)


@pytest.mark.parametrize("b", range(1, 5))
@pytest.mark.parametrize("sym", (False, True))
def test_every_offset_matches_direct_gemm(b, sym):
    """Offsets 0 (unsigned weights, no correction) to 2**b - 1, not only the default."""
    rng = np.random.default_rng([b, sym])
    a = rng.integers(-128, 128, (4, 21))
    w = rng.integers(0, 1 << b, (21, 5), dtype=np.uint8)
    for offset in range(1 << b):
        cfg = LutGemmConfig(b, 4, "offset", sym, offset=offset)
        assert np.array_equal(lut_gemm(a, w, cfg)[0], direct_gemm(a, w, cfg)), offset


@pytest.mark.parametrize("g", (1, 3, 5, 6, 7))
def test_other_group_sizes_match_direct_gemm(g):
    rng = np.random.default_rng(g)
    for cfg in all_configs(groups=(g,)):
        a = rng.integers(-128, 128, (3, 2 * g + 1))
        w = rng.integers(0, 1 << cfg.weight_bits, (2 * g + 1, 4), dtype=np.uint8)
        assert np.array_equal(lut_gemm(a, w, cfg)[0], direct_gemm(a, w, cfg)), config_id(cfg)


def test_decode_gives_the_spec_weights():
    for cfg in all_configs(groups=(4,)):
        codes = np.arange(1 << cfg.weight_bits, dtype=np.uint8)
        assert np.array_equal(cfg.decode(codes), decode_weights(codes, cfg))
    half = [LutGemmConfig(b).offset for b in range(1, 5)]
    assert half == [1, 2, 4, 8]  # default offset 2**(b-1): int4 is -8..7
    assert list(LutGemmConfig(2, weight_encoding="bipolar").decode([0, 1, 2, 3])) == [-3, -1, 1, 3]


def test_empty_m_and_n():
    cfg = LutGemmConfig(2)
    c, counts = lut_gemm(np.zeros((0, 5), np.int8), np.zeros((5, 3), np.uint8), cfg)
    assert c.shape == (0, 3) and counts.lookups == 0
    c, counts = lut_gemm(np.ones((2, 5), np.int8), np.zeros((5, 0), np.uint8), cfg)
    assert c.shape == (2, 0) and counts.table_builds == 2 * 2


def test_int_and_fixed_format_codes_equal_integer_activations():
    """act_fmt=IntFormat(8): two's complement codes give the same C as integer values."""
    rng = np.random.default_rng(8)
    a = rng.integers(-128, 128, (3, 19))
    w = rng.integers(0, 16, (19, 4), dtype=np.uint8)
    cfg = LutGemmConfig(4, symmetric_table=True)
    codes = (a & 0xFF).astype(np.uint8)
    assert np.array_equal(lut_gemm(codes, w, cfg, act_fmt=formats.IntFormat(8))[0],
                          direct_gemm(a, w, cfg))
    q = formats.FixedFormat(4, 4)  # value = integer(code) / 16
    c, _ = lut_gemm(codes, w, cfg, act_fmt=q)
    assert result_frac_bits(q) == 4
    assert np.array_equal(c, direct_gemm(a, w, cfg))  # in units of 2**-4


# --- 2. fp16 activations, exact ------------------------------------------------------------------
FP16_CONFIGS = [LutGemmConfig(4), LutGemmConfig(3, 8, symmetric_table=True),
                LutGemmConfig(2, 4, "bipolar", True), LutGemmConfig(1, 2, "bipolar")]


@pytest.mark.parametrize("cfg", FP16_CONFIGS, ids=config_id)
def test_fp16_equals_fraction_reference(cfg):
    rng = np.random.default_rng(16)
    m, k, n = 3, 11, 4
    codes = random_fp16_codes(rng, (m, k))
    codes[0, :4] = [0x7BFF, 0xFBFF, 0x0001, 0x8000]  # 65504, -65504, 2**-24, -0
    w = rng.integers(0, 1 << cfg.weight_bits, (k, n), dtype=np.uint8)
    c, _ = lut_gemm(codes, w, cfg, act_fmt=FP16)
    assert result_frac_bits(FP16) == 24
    vals = codes.view(np.float16).astype(np.float64)
    wd = decode_weights(w, cfg)
    for i, j in itertools.product(range(m), range(n)):
        exact = sum(Fraction(float(vals[i, t])) * int(wd[t, j]) for t in range(k))
        assert Fraction(int(c[i, j]), 1 << 24) == exact, (i, j)


def test_fp16_large_k_equals_exact_integer_reference():
    """K = 4096 with values up to 65504 and subnormals: exact with Python integers."""
    rng = np.random.default_rng(4096)
    cfg = LutGemmConfig(4, 4, symmetric_table=True)
    codes = random_fp16_codes(rng, (2, 4096))
    codes[1] = 0x7BFF  # the largest value everywhere: the largest sums
    w = rng.integers(0, 16, (4096, 3), dtype=np.uint8)
    w[:, 2] = 0  # weight -8 everywhere
    c, _ = lut_gemm(codes, w, cfg, act_fmt=FP16)
    scaled = [[int(Fraction(float(x)) * 2**24) for x in row]
              for row in codes.view(np.float16).astype(np.float64)]
    ref = np.array(scaled, dtype=object) @ decode_weights(w, cfg).astype(object)
    assert np.array_equal(c.astype(object), ref)
    small = np.abs(c) < 2**53
    exact_f64 = np.ldexp(c.astype(np.float64), -24)
    assert all(Fraction(float(x)) == Fraction(int(y), 2**24)
               for x, y in zip(exact_f64[small], c[small]))


def test_fp8_activations_are_exact():
    e4m3 = formats.get("fp8_e4m3")
    rng = np.random.default_rng(3)
    codes = rng.integers(0, 256, (3, 9), dtype=np.uint8)
    codes[(codes & 0x7F) == 0x7F] = 0x01  # no NaN
    w = rng.integers(0, 4, (9, 2), dtype=np.uint8)
    cfg = LutGemmConfig(2, 3, "bipolar", True)
    c, _ = lut_gemm(codes, w, cfg, act_fmt=e4m3)
    scaled = np.ldexp(e4m3.decode(codes), 9).astype(np.int64)  # 2**-9: e4m3's smallest value
    assert np.array_equal(c, scaled @ decode_weights(w, cfg))


# --- 3. Operation counts -------------------------------------------------------------------------
def expected_counts(m, k, n, cfg, w):
    """The closed forms, restated; ``w`` gives the data-dependent negation count."""
    b, g = cfg.weight_bits, cfg.group
    G = math.ceil(k / g)
    sym, offset_enc = cfg.symmetric_table, cfg.weight_encoding == "offset"
    entries = 2 ** (g - 1) if sym else 2**g
    if sym:  # seed sum (g-1 adds) then one add per other stored entry
        per_table = (g - 1) + (2 ** (g - 1) - 1)
    elif offset_enc:  # one add per index with two or more bits set
        per_table = sum(1 for idx in range(2**g) if bin(idx).count("1") >= 2)
    else:
        per_table = (g - 1) + (2**g - 1)
    corrected = int(offset_enc and (sym or cfg.offset != 0))
    if sym:  # 0 plane bits of the last weight of each complete group, every plane and column
        last = np.asarray(w)[g - 1::g][: k // g].astype(np.int64)
        zeros = sum(int(np.count_nonzero(((last >> j) & 1) == 0)) for j in range(b))
        negations = m * zeros
    else:
        negations = 0
    return dict(
        table_builds=m * G,
        table_entries=m * G * entries,
        table_adds=m * G * per_table,
        lookups=m * n * G * b,
        negations=negations,
        adds=m * n * (G * b - 1),
        shifts=m * n * (b - 1 + int(offset_enc and sym)),
        offset_row_adds=corrected * m * (G - 1),
        offset_row_scales=corrected * m,
        offset_corrections=corrected * m * n,
    )


COUNT_SHAPES = [(1, 1, 1), (1, 37, 5), (2, 13, 3), (5, 64, 7), (3, 10, 1), (4, 9, 8)]
COUNT_CONFIGS = list(all_configs(groups=(1, 2, 3, 4, 8))) + [
    LutGemmConfig(3, 4, offset=0), LutGemmConfig(3, 4, offset=0, symmetric_table=True),
    LutGemmConfig(2, 2, offset=3)]


@pytest.mark.parametrize("cfg", COUNT_CONFIGS, ids=lambda c: f"{config_id(c)}-o{c.offset}")
def test_op_counts_equal_closed_forms(cfg):
    rng = np.random.default_rng([cfg.weight_bits, cfg.group])
    for m, k, n in COUNT_SHAPES:
        a = rng.integers(-128, 128, (m, k))
        w = rng.integers(0, 1 << cfg.weight_bits, (k, n), dtype=np.uint8)
        _, counts = lut_gemm(a, w, cfg)
        want = expected_counts(m, k, n, cfg, w)
        assert counts.to_dict() == want, (m, k, n)
        static = op_counts(m, k, n, cfg).to_dict()
        worst = m * n * cfg.weight_bits * (k // cfg.group) if cfg.symmetric_table else 0
        assert static == dict(want, negations=worst), (m, k, n)


def test_negations_reach_the_worst_case_and_zero():
    """Code 0 (all plane bits 0) negates every lookup of a complete group; the top code none."""
    cfg = LutGemmConfig(3, 4, "bipolar", True)
    a = np.ones((2, 10), np.int64)
    _, counts = lut_gemm(a, np.zeros((10, 3), np.uint8), cfg)
    assert counts.negations == op_counts(2, 10, 3, cfg).negations == 2 * 3 * 3 * 2
    _, counts = lut_gemm(a, np.full((10, 3), 7, np.uint8), cfg)
    assert counts.negations == 0


def test_op_counts_add_up():
    cfg = LutGemmConfig(2, symmetric_table=True)
    one, two = op_counts(4, 64, 8, cfg), op_counts(1, 16, 3, cfg)
    total = one + two
    assert isinstance(total, OpCounts)
    assert total.to_dict() == {k: one.to_dict()[k] + two.to_dict()[k] for k in one.to_dict()}


# --- 4. Bad configs and operands -----------------------------------------------------------------
A2x5 = np.zeros((2, 5), np.int8)
W5x3 = np.zeros((5, 3), np.uint8)
INF16 = np.full((1, 4), 0x7C00, np.uint16)
BIG_K = 279_757  # (2**63 - 1) // (2 * 15 * 65504 * 2**24) + 1

# (id, callable, exact message)
BAD = [
    ("weight_bits 0", lambda: LutGemmConfig(0),
     "weight_bits must be an integer from 1 to 4, not 0"),
    ("weight_bits 5", lambda: LutGemmConfig(5),
     "weight_bits must be an integer from 1 to 4, not 5"),
    ("weight_bits float", lambda: LutGemmConfig(2.0),
     "weight_bits must be an integer from 1 to 4, not 2.0"),
    ("group 0", lambda: LutGemmConfig(2, 0), "group must be an integer from 1 to 8, not 0"),
    ("group 9", lambda: LutGemmConfig(2, 9), "group must be an integer from 1 to 8, not 9"),
    ("encoding", lambda: LutGemmConfig(2, 4, "signed"),
     "weight_encoding must be one of 'offset', 'bipolar', not 'signed'"),
    ("symmetric str", lambda: LutGemmConfig(2, symmetric_table="yes"),
     "symmetric_table must be True or False, not 'yes'"),
    ("offset 16", lambda: LutGemmConfig(4, offset=16),
     "offset must be an integer from 0 to 15, not 16"),
    ("offset -1", lambda: LutGemmConfig(1, offset=-1),
     "offset must be an integer from 0 to 1, not -1"),
    ("bipolar offset", lambda: LutGemmConfig(2, weight_encoding="bipolar", offset=1),
     "offset applies only to weight_encoding 'offset', not 'bipolar' (got offset=1)"),
    ("codes too big", lambda: lut_gemm(A2x5, np.full((5, 3), 16, np.uint8), LutGemmConfig(4)),
     "weight codes must lie in [0, 2**4) for weight_bits 4, got [16, 16]"),
    ("codes negative", lambda: lut_gemm(A2x5, np.array([[-1], [0], [1], [2], [3]]),
                                        LutGemmConfig(2)),
     "weight codes must lie in [0, 2**2) for weight_bits 2, got [-1, 3]"),
    ("codes float", lambda: lut_gemm(A2x5, W5x3.astype(float), LutGemmConfig(2)),
     "weight codes must be an integer array, not float64"),
    ("K mismatch", lambda: lut_gemm(A2x5, np.zeros((6, 3), np.uint8), LutGemmConfig(2)),
     "A is 2 x 5 (M x K) but W_codes is 6 x 3 (K x N): their K must match"),
    ("A 1-D", lambda: lut_gemm(np.zeros(5, np.int8), W5x3, LutGemmConfig(2)),
     "A must be a 2-D (M, K) array, not shape (5,)"),
    ("W 1-D", lambda: lut_gemm(A2x5, np.zeros(5, np.uint8), LutGemmConfig(2)),
     "W_codes must be a 2-D (K, N) array, not shape (5,)"),
    ("A beyond int8", lambda: lut_gemm(np.full((2, 5), 128), W5x3, LutGemmConfig(2)),
     "activations must lie in [-128, 127] (int8), got [128, 128]"),
    ("A float", lambda: lut_gemm(A2x5.astype(np.float16), W5x3, LutGemmConfig(2)),
     "A must hold integers in the int8 range, not float16 values (pass act_fmt to give codes "
     "of another format)"),
    ("K 0", lambda: lut_gemm(np.zeros((2, 0), np.int8), np.zeros((0, 3), np.uint8),
                             LutGemmConfig(2)),
     "K for exact int64 accumulation of int8 activations with weight_bits 2 must be an integer "
     "from 1 to 12009599006321322, not 0"),
    ("fp16 K too large", lambda: lut_gemm(np.zeros((1, BIG_K), np.uint16),
                                          np.zeros((BIG_K, 1), np.uint8), LutGemmConfig(4),
                                          act_fmt=FP16),
     "K for exact int64 accumulation of fp16 activations with weight_bits 4 must be an integer "
     "from 1 to 279756, not 279757"),
    ("fp16 inf", lambda: lut_gemm(INF16, np.zeros((4, 1), np.uint8), LutGemmConfig(2),
                                  act_fmt=FP16),
     "activations must be finite; 4 of the fp16 codes are Inf or NaN"),
    ("posit act_fmt", lambda: lut_gemm(A2x5, W5x3, LutGemmConfig(2),
                                       act_fmt=formats.get("posit8_0")),
     "act_fmt must be an IntFormat, FixedFormat or FloatFormat, not 'posit8_0'"),
    ("bf16 act_fmt", lambda: lut_gemm(A2x5, W5x3, LutGemmConfig(2), act_fmt=formats.get("bf16")),
     "act_fmt bf16 has values of up to 261 bits in units of its LSB 2**-133; lut_gemm handles "
     "at most 53"),
    ("config type", lambda: lut_gemm(A2x5, W5x3, {"weight_bits": 2}),
     "config must be a LutGemmConfig, not dict"),
    ("op_counts K 0", lambda: op_counts(1, 0, 1, LutGemmConfig(2)),
     "K must be an integer from 1 to 1099511627776, not 0"),
]


@pytest.mark.parametrize("make, message", [c[1:] for c in BAD], ids=[c[0] for c in BAD])
def test_bad_input_raises_exact_message(make, message):
    with pytest.raises(OperationError) as info:
        make()
    assert isinstance(info.value, LowbitError) and isinstance(info.value, ValueError)
    assert str(info.value) == message


def test_fp16_codes_out_of_range_raise_encode_error():
    """Codes wider than the format are the format's own check (EncodeError), left as is."""
    with pytest.raises(EncodeError, match=r"codes for fp16 must lie in \[0, 2\*\*16\)"):
        lut_gemm(np.full((1, 2), 1 << 16), np.zeros((2, 1), np.uint8), LutGemmConfig(2),
                 act_fmt=FP16)
