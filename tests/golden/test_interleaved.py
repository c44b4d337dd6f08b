"""Golden's interleaved(L) accumulation order against independent oracles.

Two oracles, neither using lowbit's rounding: the exact Fraction model of
tests/golden/fraction_oracle.py (partials summed step by step with one IEEE rounding per add,
then the balanced reduction), and for FP32 round-to-nearest a float32 NumPy loop (FP8 products
are exact in float32, so every add is one IEEE rounding). Covered: L = 2, 4, 8; fp32, fp16,
bf16; rne, rtz, rdn (the sign of exact zero sums) and saturating overflow; runs shorter than L
(empty partials are +0), NaN and infinite products; every prefix of a run (what the MAC outputs
after each operation); the canonical names ``il{L}_{fp}``.
"""

import numpy as np
import pytest

from lowbit.errors import OperationError
from lowbit.golden import accumulators as A
from lowbit.golden import formats, gemm
from lowbit.golden.accumulators import FloatAccumulator, interleaved
from tests.expect import raises_exactly
from tests.golden.fraction_oracle import PZERO, decode, encode, products, round_ieee, vadd

E4M3 = formats.get("fp8_e4m3")


def oracle_interleaved(acc, terms):
    """The Fraction model: partial ``k mod L`` gets term ``k`` (each add rounded once, from
    +0), then ``[round(p0 + p1), round(p2 + p3), ...]`` until one value is left."""
    name, mode, ov = acc.fmt.name, acc.rounding, acc.overflow or "inf"
    L = acc.order.partials
    partials = [PZERO] * L
    for k, t in enumerate(terms):
        partials[k % L] = round_ieee(vadd(partials[k % L], t, mode), name, mode, ov)
    while len(partials) > 1:
        partials = [round_ieee(vadd(partials[i], partials[i + 1], mode), name, mode, ov)
                    for i in range(0, len(partials), 2)]
    code = encode(partials[0], name)
    return acc.fmt.nan_code if code is None else code  # a NaN result is the canonical NaN


def _runs(seed, count, length):
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 256, (count, length))
    b = rng.integers(0, 256, (count, length))
    # Large, cancelling and tiny products: partials that differ from a sequential sum.
    a[: count // 2, ::3] = 0x7E  # 448
    b[: count // 2, ::3] = 0x7E
    a[: count // 2, 1::3] = 0xFE  # -448
    b[: count // 2, 1::3] = 0x7E
    return a, b


ACCS = [FloatAccumulator(formats.get(f), mode, interleaved(L), ov)
        for f, mode, L, ov in [("fp32", "rne", 2, None), ("fp32", "rne", 4, None),
                               ("fp16", "rtz", 2, None), ("fp16", "rdn", 4, None),
                               ("bf16", "rne", 8, None), ("fp16", "rne", 2, "saturate")]]


@pytest.mark.parametrize("acc", ACCS, ids=lambda acc: acc.name)
@pytest.mark.parametrize("length", [1, 3, 8, 13])
def test_interleaved_dot_matches_fraction_oracle(acc, length):
    a, b = _runs(length, 24, length)
    if length > 1:  # specials: a NaN product in one run, +-Inf in others
        a[-1, 0], a[-2, 0], b[-2, 0] = 0x7F, 0x7E, 0x7E
    got = gemm.dot(a, b, E4M3, E4M3, acc)
    for row in range(len(a)):
        want = oracle_interleaved(acc, products("fp8_e4m3", "fp8_e4m3", a[row], b[row]))
        assert int(got[row]) == want, (row, hex(int(got[row])), hex(want))


@pytest.mark.parametrize("L", [2, 4])
def test_interleaved_fp32_equals_float32_partials_loop(L):
    a, b = _runs(7, 64, 40)
    fa, fb = E4M3.decode(a).astype(np.float32), E4M3.decode(b).astype(np.float32)
    with np.errstate(all="ignore"):
        partials = np.zeros((64, L), np.float32)
        for k in range(40):
            partials[:, k % L] = partials[:, k % L] + fa[:, k] * fb[:, k]
        while partials.shape[1] > 1:
            partials = partials[:, 0::2] + partials[:, 1::2]
    want = partials[:, 0].view(np.uint32).copy()
    want[np.isnan(partials[:, 0])] = formats.get("fp32").nan_code  # lowbit's canonical NaN
    got = gemm.dot(a, b, E4M3, E4M3, A.get(f"il{L}_fp32"))
    assert np.array_equal(got, want)
    sequential = gemm.dot(a, b, E4M3, E4M3, A.get("fp32"))
    assert not np.array_equal(got, sequential), "the order must matter on these runs"


def test_interleaved_prefix_dot_is_the_oracle_on_every_prefix():
    a, b = _runs(3, 2, 30)
    acc = A.get("il2_fp16_rdn")
    got = gemm.prefix_dot(a[0], b[0], E4M3, E4M3, acc)
    for i in range(30):
        want = oracle_interleaved(acc, products("fp8_e4m3", "fp8_e4m3", a[0, :i + 1],
                                                b[0, :i + 1]))
        assert int(got[i]) == want, (i, hex(int(got[i])), hex(want))


def test_one_product_run_matches_sequential_signs():
    """A single -0 product: +0 rounding to nearest (+0 + -0), -0 rounding down."""
    nz = np.array([[0x80]]), np.array([[0x00]])
    for name, want in (("il2_fp32", 0x00000000), ("il2_fp32_rdn", 0x80000000)):
        assert int(gemm.dot(*nz, E4M3, E4M3, A.get(name))[0]) == want
        assert encode(decode("fp32", want), "fp32") == want


@pytest.mark.parametrize("name", ["il2_fp32", "il4_fp16_rtz", "il8_bf16_sat", "il64_fp32_rdn"])
def test_interleaved_names_round_trip(name):
    acc = A.get(name)
    assert acc.name == name and A.get(acc.name) == acc
    assert A.from_dict(acc.to_dict()) == acc


@pytest.mark.parametrize("call, message", [
    (lambda: interleaved(3), "interleaved partials must be a power of two, not 3"),
    (lambda: interleaved(1), "interleaved partials must be an integer from 2 to 64, not 1"),
    (lambda: A.get("il128_fp32"),
     "unknown accumulator 'il128_fp32' (interleaved partials must be an integer from 2 to 64, "
     "not 128); accumulator names are {fp}[_{overflow}][_{rounding}], "
     "tree{K}_{fp}[_{overflow}][_{rounding}], il{L}_{fp}[_{overflow}][_{rounding}], "
     "exact_{fmt}[_{rounding}], int{B}[_sat][_{rounding}], fixed{I}_{F}[_sat][_{rounding}], "
     "quire, quire_draft"),
    (lambda: FloatAccumulator(formats.get("fp32"), order="interleaved"),
     "order must be 'sequential', tree(fan_in) or interleaved(partials), not 'interleaved'"),
])
def test_interleaved_rejects_bad_partials(call, message):
    raises_exactly(call, OperationError, message)
