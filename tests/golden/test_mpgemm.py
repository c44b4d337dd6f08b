"""Group-wise mpGEMM reference (MixPE) against an exact Fraction computation.

The oracle below shares nothing with golden but the decoded values of codes: group sums and
dequantized terms are Fractions, and the FP32 / FP16 roundings are a Fraction round-to-nearest-
even written here (binade, subnormal grid, overflow to infinity), so both the order (one
rounding per group, then the accumulator) and the roundings are checked independently.
Configurations: int8 activations with int4 (symmetric), uint4 (zero points), int2, uint2 and
ternary weights; fp16 and fp8_e4m3 activations (float inputs on an exact fixed-point grid);
group sizes dividing K, larger than K and leaving a ragged last group; FP32 and exact
accumulators.
"""

from fractions import Fraction

import numpy as np
import pytest

from lowbit.errors import OperationError
from lowbit.golden import formats as F
from lowbit.golden import mpgemm
from lowbit.golden.accumulators import ExactAccumulator, FloatAccumulator
from tests.expect import raises_exactly

FP32, FP16 = F.get("fp32"), F.get("fp16")


def round_fraction(x: Fraction, fmt) -> Fraction:
    """``x`` rounded to nearest even in binary float ``fmt`` (IEEE: subnormals, overflow to
    infinity, returned as a float inf)."""
    if x == 0:
        return x
    p = fmt.man_bits + 1
    emin = 1 - fmt.bias  # exponent of the smallest normal binade
    top = (1 << fmt.exp_bits) - 2 - fmt.bias
    mag = abs(x)
    e = mag.numerator.bit_length() - mag.denominator.bit_length()
    if Fraction(2) ** e > mag:
        e -= 1
    lsb = Fraction(2) ** (max(e, emin) - (p - 1))
    q, r = divmod(mag, lsb)
    if r * 2 > lsb or (r * 2 == lsb and q % 2):
        q += 1
    out = q * lsb
    if out >= Fraction(2) ** (top + 1):
        return float("inf") if x > 0 else float("-inf")
    return out if x > 0 else -out


def value(fmt, code) -> Fraction:
    return Fraction(float(fmt.decode(np.array([code]))[0]))


def oracle(A, W, act_fmt, acc):
    """Fractions: exact group sums times the scale, then the accumulator (None: exact)."""
    K, N = W.shape
    G = W.scheme.groups(K)
    out = np.empty((A.shape[0], N), dtype=object)
    for m in range(A.shape[0]):
        a = [value(act_fmt, c) for c in A[m]]
        for n in range(N):
            total = Fraction(0)
            for g in range(G):
                rows = range(g * W.scheme.group, min((g + 1) * W.scheme.group, K))
                z = 0 if W.zeros is None else int(W.zeros[g, n])
                q = W.scheme.values(W.codes[:, n])
                X = sum((Fraction(int(q[k]) - z) * a[k] for k in rows), Fraction(0))
                term = value(W.scheme.scale, W.scales[g, n]) * X
                total = total + term if acc is None else round_fraction(total + term, acc)
            out[m, n] = total if acc is not None else round_fraction(total, FP32)
    return out


def random_weights(scheme, K, N, rng):
    fmt = scheme.fmt
    codes = rng.integers(0, 1 << fmt.bits, (K, N))
    if scheme.ternary:
        codes = rng.choice(mpgemm.TERNARY_CODES, (K, N))
    G = scheme.groups(K)
    scales = FP16.encode(rng.uniform(0.001, 0.1, (G, N)) * rng.choice([1, -1], (G, N)))
    zeros = rng.integers(fmt.min_int, fmt.max_int + 1, (G, N)) if scheme.zero_point else None
    return mpgemm.GroupWeights(scheme, codes, scales, zeros)


def finite_codes(fmt, shape, rng):
    codes = np.arange(1 << fmt.bits)
    if fmt.kind == "float":
        codes = codes[np.isfinite(fmt.decode(codes))]
    return rng.choice(codes, shape)


CASES = [("int8", "int4", 4, 12), ("int8", "uint4", 5, 12), ("int8", "int2", 3, 8),
         ("int8", "uint2", 16, 10), ("int8", "ternary", 4, 9), ("fp16", "int4", 4, 11),
         ("fp16", "uint4", 8, 8), ("fp8_e4m3", "ternary", 2, 7), ("fp8_e4m3", "uint2", 3, 9)]


@pytest.mark.parametrize("act, weight, group, K", CASES)
@pytest.mark.parametrize("exact", [False, True], ids=["fp32", "exact"])
def test_groupwise_gemm_equals_fraction_oracle(act, weight, group, K, exact):
    rng = np.random.default_rng(hash((act, weight, group, K)) % 2**32)
    act_fmt = F.get(act)
    W = random_weights(mpgemm.GroupScheme(weight, group), K, 3, rng)
    A = finite_codes(act_fmt, (4, K), rng)
    acc = ExactAccumulator(FP32) if exact else FloatAccumulator(FP32)
    got = FP32.decode(mpgemm.groupwise_gemm(A, W, act_fmt, acc))
    want = oracle(A, W, act_fmt, None if exact else FP32)
    assert got.tolist() == [[float(v) for v in row] for row in want]


def test_one_rounding_per_group_differs_from_per_product_rounding():
    """A group whose exact sum cancels: per-group rounding keeps the small term, the
    dequantize-then-multiply path (one rounding per product into FP32) loses it."""
    act = F.get("fp16")
    scheme = mpgemm.GroupScheme("int4", 3)
    big, small = 32768.0, 2.0 ** -12  # FP32 keeps 2**-8 at 2**15: 7 * 2**-12 is lost
    A = act.encode(np.array([[big, small, big]]))
    W = mpgemm.GroupWeights(scheme, np.array([[1], [7], [15]]),  # 1, 7, -1
                            FP16.encode(np.array([[1.0]])))
    acc = FloatAccumulator(FP32)
    assert FP32.decode(mpgemm.groupwise_gemm(A, W, act, acc))[0, 0] == 7 * small
    assert FP32.decode(mpgemm.dequantize_gemm(A, W, act, acc))[0, 0] == 0.0


@pytest.mark.parametrize("weight", ["int4", "uint4"])
def test_dequantize_gemm_equals_fraction_oracle(weight):
    rng = np.random.default_rng(3)
    act = F.get("int8")
    W = random_weights(mpgemm.GroupScheme(weight, 4), 10, 3, rng)
    A = finite_codes(act, (3, 10), rng)
    got = FP32.decode(mpgemm.dequantize_gemm(A, W, act, FloatAccumulator(FP32)))
    q = W.scheme.values(W.codes)
    for m in range(3):
        for n in range(3):
            c = Fraction(0)
            for k in range(10):
                z = 0 if W.zeros is None else int(W.zeros[k // 4, n])
                w = round_fraction(Fraction(int(q[k, n]) - z) * value(FP16, W.scales[k // 4, n]),
                                   FP16)
                c = round_fraction(c + w * value(act, A[m, k]), FP32)
            assert got[m, n] == float(c)


def test_non_finite_activation_makes_its_group_nan():
    act = F.get("fp16")
    scheme = mpgemm.GroupScheme("int4", 2)
    A = act.encode(np.array([[1.0, np.inf, 1.0, 1.0], [1.0, 1.0, 1.0, 1.0]]))
    W = mpgemm.GroupWeights(scheme, np.zeros((4, 1), int), FP16.encode(np.ones((2, 1))))
    C = FP32.decode(mpgemm.groupwise_gemm(A, W, act, FloatAccumulator(FP32)))
    assert np.isnan(C[0, 0]) and C[1, 0] == 0.0  # a zero weight does not hide the infinity


def test_infinite_scale():
    act = F.get("int8")
    scheme = mpgemm.GroupScheme("int4", 2)
    W = mpgemm.GroupWeights(scheme, np.array([[1], [0], [0], [0]]),
                            FP16.encode(np.array([[np.inf], [np.inf]])))
    C = FP32.decode(mpgemm.groupwise_gemm(np.array([[3, 0, 0, 0]]), W, act,
                                          FloatAccumulator(FP32)))
    assert np.isnan(C[0, 0])  # group 0: inf * 3; group 1: inf * 0 = NaN
    W2 = mpgemm.GroupWeights(scheme, np.array([[1], [0], [0], [0]]),
                             FP16.encode(np.array([[np.inf], [1.0]])))
    C2 = FP32.decode(mpgemm.groupwise_gemm(np.array([[3, 0, 0, 0]]), W2, act,
                                           FloatAccumulator(FP32)))
    assert C2[0, 0] == np.inf


@pytest.mark.parametrize("weight", ["int4", "uint4", "int2", "ternary"])
def test_quantize_reconstructs_weights(weight):
    rng = np.random.default_rng(5)
    w = rng.standard_normal((64, 5))
    scheme = mpgemm.GroupScheme(weight, 16)
    W = scheme.quantize(w)
    if weight == "ternary":
        assert set(np.unique(W.codes).tolist()) <= set(mpgemm.TERNARY_CODES)
    idx = np.arange(64) // 16
    deq = W.effective() * FP16.decode(W.scales)[idx]
    err = np.abs(deq - w).max()
    amax = np.abs(w).max()
    assert err <= amax / (1 << (W.scheme.bits - 1)) + 1e-3


def test_rows_keeps_the_groups_it_touches():
    """``rows(7)`` of groups of 4: rows 0..6, groups 0 and 1 (the second now ragged)."""
    rng = np.random.default_rng(9)
    act = F.get("int8")
    W = random_weights(mpgemm.GroupScheme("uint4", 4), 10, 2, rng)
    A = finite_codes(act, (2, 10), rng)
    part = W.rows(7)
    assert part.shape == (7, 2) and part.scales.shape == part.zeros.shape == (2, 2)
    got = FP32.decode(mpgemm.groupwise_gemm(A[:, :7], part, act, FloatAccumulator(FP32)))
    want = oracle(A[:, :7], part, act, FP32)
    assert got.tolist() == [[float(v) for v in row] for row in want]


BAD = [
    (lambda: mpgemm.GroupScheme("int8", 128),
     "weight must be one of int4, uint4, int3, uint3, int2, uint2, ternary, int1, uint1, not "
     "'int8'"),
    (lambda: mpgemm.GroupScheme("int4", 0), "group must be an integer from 1 to 65536, not 0"),
    (lambda: mpgemm.GroupScheme("int4", 8, scale="int8"),
     "scale must be a float format such as fp16, not 'int8'"),
    (lambda: mpgemm.GroupScheme("ternary", 8, zero_point=True),
     "ternary weights take no zero point (their values are -1, 0, +1)"),
    (lambda: mpgemm.GroupWeights(mpgemm.GroupScheme("ternary", 2), np.array([[2], [0]]),
                                 np.zeros((1, 1), int)),
     "ternary weight codes are 0 (0), 1 (+1) and 3 (-1), not 2"),
    (lambda: mpgemm.GroupWeights(mpgemm.GroupScheme("int4", 2), np.zeros((4, 2), int),
                                 np.zeros((1, 2), int)),
     "scales must have shape (2, 2) (groups x N), not (1, 2)"),
    (lambda: mpgemm.GroupWeights(mpgemm.GroupScheme("uint4", 2), np.zeros((4, 2), int),
                                 np.zeros((2, 2), int)),
     "scheme uint4_g2 needs zero points"),
    (lambda: mpgemm.groupwise_gemm(np.zeros((1, 3), int), mpgemm.GroupWeights(
        mpgemm.GroupScheme("int4", 2), np.zeros((4, 1), int), np.zeros((2, 1), int)),
        F.get("int8"), FloatAccumulator(FP32)),
     "A must be M x K with K = 4 (the weights' rows), not of shape (1, 3)"),
    (lambda: mpgemm.groupwise_gemm(np.zeros((1, 2), int), mpgemm.GroupWeights(
        mpgemm.GroupScheme("int4", 2), np.zeros((2, 1), int), np.zeros((1, 1), int)),
        F.get("posit8_0"), FloatAccumulator(FP32)),
     "act_fmt must be an integer, fixed-point or float format of at most 16 bits, not "
     "'posit8_0'"),
]


@pytest.mark.parametrize("call, message", BAD, ids=[m for _, m in BAD])
def test_bad_input(call, message):
    raises_exactly(call, OperationError, message)
