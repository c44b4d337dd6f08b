"""Quantizers of design-space sweeps: integer quantization with per-tensor, per-channel and
per-group scales; dyadic requantization; block-wise Hadamard rotations.

References, all written here and independent of the code under test
-------------------------------------------------------------------
* ``ref_round``: exact rounding of a Fraction to an integer in every mode.
* ``ref_quantize``: the quantizer spelled out per element in Python (Python floats for the
  scales, Python ints for codes), grouping elements into slices by their index.
* ``ref_requantize``: ``Fraction(acc * m, 2**s)`` rounded by ``ref_round``, then clamped or
  wrapped with Python ints.
* ``sylvester``: the Hadamard matrix built by Sylvester's construction, multiplied in.
"""

import math
from fractions import Fraction

import numpy as np
import pytest

from tests.expect import raises_exactly

from lowbit.errors import (AccumulatorOverflowError, EncodeError, QuantizerError,
                           RoundingError)
from lowbit.golden.formats import IntFormat
from lowbit.golden.hadamard import block_hadamard, fwht, inverse_block_hadamard
from lowbit.golden.metrics import crest_factor, sqnr_db
from lowbit.golden.quantize import quantize_int
from lowbit.golden.requantize import (SHIFT_ROUNDINGS, DyadicScale, dyadic_scale, requantize,
                                      shift_round)
from lowbit.golden.rounding import Stochastic
from lowbit.golden.tensors import synthetic

QUANT_ROUNDINGS = ("rne", "rna", "rtz", "rup", "rdn", "rto")


# --- references -------------------------------------------------------------------------------
def ref_round(v: Fraction, mode: str) -> int:
    """Round an exact rational to an integer."""
    fl = math.floor(v)
    r = v - fl
    half = Fraction(1, 2)
    return fl + int({
        "rdn": False,
        "rup": r != 0,
        "rtz": r != 0 and v < 0,
        "rto": r != 0 and fl % 2 == 0,
        "rne": r > half or (r == half and fl % 2 == 1),
        "rna": r > half or (r == half and v > 0),
        "rnu": r >= half,
    }[mode])


def ref_clamp(q: int, bits: int, signed: bool, overflow: str) -> int:
    """Apply an overflow policy to an integer and return its ``bits``-bit pattern."""
    qmin, qmax = (-(1 << bits - 1), (1 << bits - 1) - 1) if signed else (0, (1 << bits) - 1)
    if overflow == "saturate_symmetric" and signed:
        qmin = -qmax
    if overflow != "wrap":
        q = min(max(q, qmin), qmax)
    return q & ((1 << bits) - 1)


def ref_quantize(x, bits, signed, scheme, granularity, axis, group_size, rounding, overflow):
    """Return (codes, scale, zero_point) computed slice by slice with Python numbers."""
    x = np.asarray(x, dtype=np.float64)
    qmin, qmax = (-(1 << bits - 1), (1 << bits - 1) - 1) if signed else (0, (1 << bits) - 1)
    slices = {}
    for i in np.ndindex(x.shape):
        if granularity == "tensor":
            key = (0,) * x.ndim
        elif granularity == "channel":
            key = tuple(i[axis] if d == axis else 0 for d in range(x.ndim))
        else:
            key = tuple(i[d] // group_size if d == axis else i[d] for d in range(x.ndim))
        slices.setdefault(key, []).append(i)
    if granularity == "tensor":
        shape = (1,) * x.ndim
    elif granularity == "channel":
        shape = tuple(n if d == axis else 1 for d, n in enumerate(x.shape))
    else:
        shape = tuple(-(-n // group_size) if d == axis else n for d, n in enumerate(x.shape))
    codes = np.zeros(x.shape, dtype=np.uint64)
    scale = np.zeros(shape)
    zero_point = np.zeros(shape, dtype=np.int64)
    for key, members in slices.items():
        vals = [float(x[i]) for i in members]
        if scheme == "symmetric":
            s = max(abs(v) for v in vals) / qmax
            z = 0
        else:
            lo, hi = min(min(vals), 0.0), max(max(vals), 0.0)
            s = (hi - lo) / (qmax - qmin)
        if s == 0:
            s = 1.0
        if scheme == "asymmetric":
            z = min(max(qmin - round(lo / s), qmin), qmax)  # Python round: ties to even
        scale[key], zero_point[key] = s, z
        for i, v in zip(members, vals):
            codes[i] = ref_clamp(ref_round(Fraction(v / s), rounding) + z, bits, signed, overflow)
    return codes, scale, zero_point


def ref_requantize(acc, m, s, zp, bits, signed, rounding, overflow):
    """Return the code of one requantized accumulator (all arguments Python ints)."""
    return ref_clamp(ref_round(Fraction(acc * m, 1 << s), rounding) + zp, bits, signed, overflow)


def sylvester(n: int) -> np.ndarray:
    """Return the n x n Hadamard matrix in Sylvester (natural) order."""
    h = np.ones((1, 1))
    while h.shape[0] < n:
        h = np.block([[h, h], [h, -h]])
    return h


# --- integer quantizers -----------------------------------------------------------------------
def sweep_data():
    """(6, 37) values: Gaussian rows with an outlier, an all-zero row, a constant row, a
    negative constant row and a row of tiny values."""
    rng = np.random.default_rng(1234)
    x = rng.standard_normal((6, 37))
    x[0, 5] = 9.0
    x[1] = 0.0
    x[2] = 2.5
    x[3] = -0.75
    x[4] *= 1e-3
    return x


# (format, scheme): int4/int8 symmetric (signed); uint4/uint8 asymmetric (TFLite/PyTorch);
# int8 asymmetric (signed codes, TFLite int8 activations).
SCHEMES = [("int4", "symmetric"), ("int8", "symmetric"), ("uint4", "asymmetric"),
           ("uint8", "asymmetric"), ("int8", "asymmetric")]
# Every granularity; groups of 1, ragged groups (37 = 7 * 5 + 2 and 2 * 16 + 5), a group longer
# than the axis (one ragged group), groups along axis 0 (6 = 4 + 2).
GRANULARITIES = [("tensor", None, None), ("channel", 0, None), ("channel", 1, None),
                 ("channel", -1, None), ("group", 1, 1), ("group", 1, 5), ("group", -1, 16),
                 ("group", 1, 64), ("group", 0, 4)]


@pytest.mark.parametrize("fmt, scheme", SCHEMES, ids=[f"{f}-{s}" for f, s in SCHEMES])
@pytest.mark.parametrize("granularity, axis, group_size", GRANULARITIES,
                         ids=[f"{g}-{a}-{n}" for g, a, n in GRANULARITIES])
def test_codes_scales_and_zero_points_equal_reference(fmt, scheme, granularity, axis, group_size):
    x = sweep_data()
    f = IntFormat(int(fmt.lstrip("uint")), signed=not fmt.startswith("u"))
    overflow = "saturate_symmetric" if scheme == "symmetric" else "saturate"
    for rounding in QUANT_ROUNDINGS:
        q = quantize_int(x, fmt, scheme=scheme, granularity=granularity, axis=axis,
                         group_size=group_size, rounding=rounding)
        codes, scale, zp = ref_quantize(x, f.bits, f.signed, scheme, granularity,
                                        None if axis is None else axis % 2, group_size,
                                        rounding, overflow)
        assert q.codes.dtype == f.code_dtype
        assert np.array_equal(q.codes, codes), rounding
        assert q.scale.dtype == np.float64 and np.array_equal(q.scale, scale)
        assert q.zero_point.dtype == np.int64 and np.array_equal(q.zero_point, zp)
        assert (q.fmt, q.scheme, q.granularity, q.group_size) == (f, scheme, granularity,
                                                                  group_size)
        assert q.axis == (None if axis is None else axis % 2)


@pytest.mark.parametrize("granularity, axis, group_size",
                         [("tensor", None, None), ("channel", 1, None), ("group", 2, 3),
                          ("group", 1, 3)])
def test_three_axis_tensor_equals_reference(granularity, axis, group_size):
    x = np.random.default_rng(7).laplace(size=(3, 4, 10))
    for fmt, scheme in (("int4", "symmetric"), ("uint8", "asymmetric")):
        f = IntFormat(4 if fmt == "int4" else 8, signed=fmt == "int4")
        q = quantize_int(x, fmt, scheme=scheme, granularity=granularity, axis=axis,
                         group_size=group_size)
        overflow = "saturate_symmetric" if scheme == "symmetric" else "saturate"
        codes, scale, zp = ref_quantize(x, f.bits, f.signed, scheme, granularity, axis,
                                        group_size, "rne", overflow)
        assert np.array_equal(q.codes, codes)
        assert np.array_equal(q.scale, scale) and np.array_equal(q.zero_point, zp)


def test_symmetric_range_is_restricted_unless_overflow_says_full():
    x = np.array([-1.1, 0.5])  # -1.1 / (1.1 / 127) = -127.00000000000001: rdn gives -128
    q = quantize_int(x, "int8", rounding="rdn")
    assert q.integers().tolist() == [-127, 57]
    assert q.codes.tolist() == [0x81, 0x39]
    full = quantize_int(x, "int8", rounding="rdn", overflow="saturate")
    assert full.integers().tolist() == [-128, 57]
    assert quantize_int(x, "int8").integers().tolist() == [-127, 58]


def test_zero_slices_get_scale_one_and_dequantize_to_zero():
    x = np.zeros((2, 5))
    x[0] = [1.0, -2.0, 0.5, 0.0, 4.0]
    for fmt, scheme, zp in (("int8", "symmetric", 0), ("uint8", "asymmetric", 0),
                            ("int8", "asymmetric", -128), ("uint4", "asymmetric", 0)):
        q = quantize_int(x, fmt, scheme=scheme, granularity="channel", axis=0)
        assert q.scale[1, 0] == 1.0 and q.zero_point[1, 0] == zp
        assert q.integers()[1].tolist() == [zp] * 5
        assert np.array_equal(q.dequantize()[1], np.zeros(5))
        whole = quantize_int(np.zeros(3), fmt, scheme=scheme)
        assert whole.scale.tolist() == [1.0] and whole.codes.tolist() == [zp & 0xFF] * 3
    # An amax so small that amax / 127 underflows to 0 gets scale 1 too.
    q = quantize_int(np.array([5e-324, 0.0]), "int8")
    assert q.scale.tolist() == [1.0] and q.codes.tolist() == [0, 0]


def test_asymmetric_constant_rows():
    x = np.array([[5.0] * 4, [-3.0] * 4, [0.0] * 4])
    q = quantize_int(x, "uint8", scheme="asymmetric", granularity="channel", axis=0)
    # [lo, hi] always contains 0: a positive constant maps to 255, a negative one to 0.
    assert np.array_equal(q.scale[:, 0], [5.0 / 255, 3.0 / 255, 1.0])
    assert q.zero_point[:, 0].tolist() == [0, 255, 0]
    assert q.codes[:, 0].tolist() == [255, 0, 0]
    assert np.allclose(q.dequantize(), x, rtol=1e-15, atol=0)


def test_zero_point_rounds_ties_to_even():
    # scale = 255 / 255 = 1 exactly; -lo / scale = 0.5 and 1.5: ties go to 0 and 2 (TFLite's
    # round-half-away would give 1 and 2).
    q = quantize_int(np.array([[-0.5, 254.5], [-1.5, 253.5]]), "uint8", scheme="asymmetric",
                     granularity="channel", axis=0)
    assert q.scale[:, 0].tolist() == [1.0, 1.0]
    assert q.zero_point[:, 0].tolist() == [0, 2]


def test_ragged_last_group_uses_its_own_elements():
    x = np.array([[1.0, -2.0, 3.0, 4.0, 70.0, -0.5, 0.25]])
    q = quantize_int(x, "int8", granularity="group", axis=1, group_size=3)
    assert q.scale.shape == (1, 3)
    assert np.array_equal(q.scale[0], [3.0 / 127, 70.0 / 127, 0.25 / 127])
    assert q.integers()[0, 6] == 127
    assert np.array_equal(q.per_element(q.scale)[0], np.repeat(q.scale[0], 3)[:7])


def test_dequantize_error_is_at_most_half_a_step():
    x = sweep_data()
    for fmt, scheme in SCHEMES:
        q = quantize_int(x, fmt, scheme=scheme, granularity="group", axis=1, group_size=8)
        err = np.abs(q.dequantize() - x)
        assert np.all(err <= q.per_element(q.scale) * (0.5 + 1e-9))


def test_stochastic_rounding_passes_through():
    x = sweep_data()
    zeros = Stochastic(bits=8, random=np.zeros(x.shape, dtype=np.int64))
    for fmt, scheme in (("int4", "symmetric"), ("uint8", "asymmetric")):
        q = quantize_int(x, fmt, scheme=scheme, granularity="channel", axis=0, rounding=zeros)
        rtz = quantize_int(x, fmt, scheme=scheme, granularity="channel", axis=0, rounding="rtz")
        assert np.array_equal(q.codes, rtz.codes)  # zero random bits: truncation


def test_empty_and_zero_dimensional_inputs():
    q = quantize_int(np.zeros((0, 5)), "int8", granularity="channel", axis=1)
    assert q.codes.shape == (0, 5) and q.scale.shape == (1, 5) and q.dequantize().shape == (0, 5)
    q = quantize_int(np.zeros((3, 0)), "uint8", scheme="asymmetric", granularity="group", axis=1,
                     group_size=4)
    assert q.codes.shape == (3, 0) and q.scale.shape == (3, 0)
    q = quantize_int(np.float32(-0.25), "int4")
    assert q.codes.shape == () and q.integers() == -7 and q.dequantize() == -0.25


# --- dyadic requantization --------------------------------------------------------------------
@pytest.mark.parametrize("m_bits", [1, 4, 8, 15, 16, 31, 32])
def test_dyadic_scale_is_nearest_and_within_bound(m_bits):
    rng = np.random.default_rng(m_bits)
    # Every exponent the 0..63 shift range allows: scale in [2**(m_bits-64), 2**m_bits - 0.5).
    scales = np.exp2(rng.uniform(m_bits - 64, m_bits - 1, size=400))
    d = dyadic_scale(scales, m_bits)
    assert d.multiplier.shape == d.shift.shape == (400,) and d.m_bits == m_bits
    for sc, m, s, value in zip(scales.tolist(), d.multiplier.tolist(), d.shift.tolist(),
                               d.value.tolist()):
        exact, approx = Fraction(sc), Fraction(m, 1 << s)
        assert 1 << (m_bits - 1) <= m < 1 << m_bits and 0 <= s <= 63
        assert m == round(exact * (1 << s))  # nearest, ties to even
        assert abs(approx - exact) <= Fraction(1, 1 << (s + 1))
        assert abs(approx - exact) <= exact / (1 << m_bits)
        assert Fraction(value) == approx


def test_dyadic_scale_examples():
    d = dyadic_scale(0.5, 16)
    assert (int(d.multiplier), int(d.shift)) == (0x8000, 16)
    d = dyadic_scale(0.1, 8)  # 0.1 = 0.8 * 2**-3; 0.8 * 256 = 204.8 -> 205
    assert (int(d.multiplier), int(d.shift)) == (205, 11) and float(d.value) == 205 / 2048
    d = dyadic_scale(1 - 2.0**-40, 16)  # rounds up to 2**16: carried into the shift
    assert (int(d.multiplier), int(d.shift)) == (0x8000, 15)
    d = dyadic_scale(255.49, 8)  # the largest scales need no shift at all
    assert (int(d.multiplier), int(d.shift)) == (255, 0)
    d = dyadic_scale([0.25, 3.0], 4)
    assert d.multiplier.tolist() == [8, 12] and d.shift.tolist() == [5, 2]


# acc / 2 for acc = -5..5, i.e. -2.5 .. 2.5 in halves, rounded by each mode.
HALVES = {
    "rne": [-2, -2, -2, -1, 0, 0, 0, 1, 2, 2, 2],
    "rna": [-3, -2, -2, -1, -1, 0, 1, 1, 2, 2, 3],
    "rnu": [-2, -2, -1, -1, 0, 0, 1, 1, 2, 2, 3],
    "rtz": [-2, -2, -1, -1, 0, 0, 0, 1, 1, 2, 2],
    "rup": [-2, -2, -1, -1, 0, 0, 1, 1, 2, 2, 3],
    "rdn": [-3, -2, -2, -1, -1, 0, 0, 1, 1, 2, 2],
    "rto": [-3, -2, -1, -1, -1, 0, 1, 1, 1, 2, 3],
}


@pytest.mark.parametrize("rounding", SHIFT_ROUNDINGS)
def test_shift_rounding_of_ties_and_negative_ties(rounding):
    acc = np.arange(-5, 6, dtype=np.int32)
    codes = requantize(acc, DyadicScale(1, 1, 8), "int8", rounding=rounding)
    assert IntFormat(8).to_int(codes).tolist() == HALVES[rounding]
    assert shift_round(acc, 1, rounding).tolist() == HALVES[rounding]


# Output formats: int8 saturating, uint8 with a zero point (asymmetric activations), int4 with
# the symmetric range, int16 wrapping; multipliers of 8, 16, 31 and 32 bits.
REQUANT_CASES = [("int8", "saturate", 0, 32), ("uint8", "saturate", 128, 16),
                 ("int4", "saturate_symmetric", -3, 8), ("int16", "wrap", 5, 31)]


@pytest.mark.parametrize("out, overflow, zp, m_bits", REQUANT_CASES,
                         ids=[c[0] for c in REQUANT_CASES])
@pytest.mark.parametrize("rounding", SHIFT_ROUNDINGS)
def test_requantize_equals_exact_reference(out, overflow, zp, m_bits, rounding):
    rng = np.random.default_rng([m_bits, SHIFT_ROUNDINGS.index(rounding)])
    info = np.iinfo(np.int32)
    edges = [0, 1, -1, 2, -2, info.max, info.min, info.max - 1, info.min + 1]
    for scale in (3 / 8, 1 / 1000, 2.0**-20, 0.7, 1.0, 12.0):
        acc = np.concatenate([
            rng.integers(info.min, info.max, size=300, endpoint=True, dtype=np.int32),
            rng.integers(-2000, 2000, size=100, dtype=np.int32),
            8 * rng.integers(-1000, 1000, size=50, dtype=np.int32) + 4,  # ties for 3 / 8
            np.array(edges, dtype=np.int32),
        ])
        d = dyadic_scale(scale, m_bits)
        m, s = int(d.multiplier), int(d.shift)
        f = IntFormat(int(out.lstrip("uint")), signed=not out.startswith("u"))
        codes = requantize(acc, d, out, rounding=rounding, overflow=overflow, zero_point=zp)
        want = [ref_requantize(a, m, s, zp, f.bits, f.signed, rounding, overflow)
                for a in acc.tolist()]
        assert codes.dtype == f.code_dtype
        assert np.array_equal(codes, want), (scale, m, s)


@pytest.mark.parametrize("rounding", SHIFT_ROUNDINGS)
def test_per_channel_requantize_and_extreme_shift(rounding):
    rng = np.random.default_rng(99)
    acc = rng.integers(-2**31, 2**31, size=(20, 4), dtype=np.int64)
    acc[0] = -2**31
    d = dyadic_scale(np.array([0.02, 1.5, 3e-5, 2.0**-31]), 32)
    codes = requantize(acc, d, "int16", rounding=rounding, zero_point=np.array([0, 1, -1, 7]))
    for (i, c), a in np.ndenumerate(acc):
        want = ref_requantize(int(a), int(d.multiplier[c]), int(d.shift[c]), [0, 1, -1, 7][c],
                              16, True, rounding, "saturate")
        assert int(codes[i, c]) == want
    # The widest case: int32 min * (2**32 - 1), shifted by 63 (the product fits int64).
    big = DyadicScale(2**32 - 1, 63, 32)
    acc = np.array([-2**31, 2**31 - 1, -1, 0], dtype=np.int32)
    got = requantize(acc, big, "int8", rounding=rounding)
    assert got.tolist() == [ref_requantize(a, 2**32 - 1, 63, 0, 8, True, rounding, "saturate")
                            for a in acc.tolist()]


def test_requantize_saturation_and_wrap():
    d = dyadic_scale(1 / 64, 32)
    acc = np.array([10**6, -10**6, 8128, -8192, -8256], dtype=np.int32)  # /64: 15625, 127, -128
    assert IntFormat(8).to_int(requantize(acc, d)).tolist() == [127, -128, 127, -128, -128]
    sym = requantize(acc, d, overflow="saturate_symmetric")
    assert IntFormat(8).to_int(sym).tolist() == [127, -127, 127, -127, -127]
    wrapped = requantize(acc, d, overflow="wrap")
    assert wrapped.tolist() == [15625 % 256, -15625 % 256, 127, 128, 127]
    u = requantize(np.array([0, 640, -640, -9000]), d, "uint8", zero_point=128)
    assert u.tolist() == [128, 138, 118, 0]


def test_zero_point_after_a_full_width_product():
    # With s = 0 the rounded product may sit at the int64 limits; adding the zero point must
    # neither wrap (saturate) nor lose low bits (wrap).
    acc = np.array([2**63 - 1, -2**63, 2**63 - 1])
    one = DyadicScale(1, 0, 1)
    zp = np.array([1, -1, -128])
    assert IntFormat(8).to_int(requantize(acc, one, zero_point=zp)).tolist() == [127, -128, 127]
    assert requantize(acc, one, zero_point=zp, overflow="wrap").tolist() == [
        (2**63) % 256, (-2**63 - 1) % 256, (2**63 - 129) % 256]


def test_product_register_width():
    d = DyadicScale(2**28, 30, 32)
    assert requantize(np.array([-2**19]), d, "int32", product_bits=48).tolist() == [
        (-2**17) & 0xFFFFFFFF]  # -2**47 fits a 48-bit product register exactly
    with pytest.raises(AccumulatorOverflowError) as info:
        requantize(np.array([5, 2**19]), d, "int32", product_bits=48)
    assert str(info.value) == ("acc * multiplier must fit in int48: 524288 * 268435456 = "
                               "140737488355328 does not")


# --- Hadamard rotations -----------------------------------------------------------------------
SIZES = [1 << k for k in range(9)]  # 1 .. 256


@pytest.mark.parametrize("n", SIZES)
def test_fwht_equals_sylvester_matrix(n):
    rng = np.random.default_rng(n)
    x = rng.integers(-1000, 1000, size=(3, n)).astype(np.float64)  # sums stay exact
    h = sylvester(n)
    assert np.array_equal(fwht(x, normalize=False), x @ h)
    assert np.array_equal(fwht(x), (x @ h) / np.sqrt(n))
    assert np.array_equal(fwht(x.T, axis=0, normalize=False), (x @ h).T)
    assert np.array_equal(fwht(x.astype(np.int32), normalize=False), x @ h)
    real = rng.standard_normal((2, n))
    assert np.allclose(fwht(fwht(real)), real, rtol=0, atol=1e-13)
    assert np.allclose(fwht(fwht(real, normalize=False), normalize=False) / n, real,
                       rtol=0, atol=1e-13)


@pytest.mark.parametrize("block", [1, 2, 4, 8, 16, 32])
def test_block_hadamard_along_both_axes_equals_block_diagonal(block):
    rng = np.random.default_rng(block)
    x = rng.integers(-500, 500, size=(64, 96)).astype(np.float64)
    k0, k1 = (np.kron(np.eye(n // block), sylvester(block)) for n in x.shape)
    assert np.array_equal(block_hadamard(x, block, axis=-1, normalize=False), x @ k1)
    assert np.array_equal(block_hadamard(x, block, axis=0, normalize=False), k0 @ x)
    assert np.array_equal(block_hadamard(x, block, axis=1), (x @ k1) / np.sqrt(block))
    cube = x.reshape(4, 16, 96)
    k = np.kron(np.eye(16 // block), sylvester(block)) if block <= 16 else None
    if k is not None:
        assert np.array_equal(block_hadamard(cube, block, axis=1, normalize=False),
                              np.einsum("ij,ajb->aib", k, cube))


@pytest.mark.parametrize("block", [1, 2, 4, 8, 16, 64])
def test_inverse_round_trip(block):
    rng = np.random.default_rng(block)
    x = rng.standard_normal((5, 128))
    for axis in (0, -1):
        if x.shape[axis] % block:
            continue
        for normalize in (True, False):
            y = block_hadamard(x, block, axis=axis, normalize=normalize)
            back = inverse_block_hadamard(y, block, axis=axis, normalize=normalize)
            assert np.allclose(back, x, rtol=0, atol=1e-13)
    ints = rng.integers(-1000, 1000, size=(5, 128)).astype(np.float64)
    y = block_hadamard(ints, block, normalize=False)
    assert np.array_equal(inverse_block_hadamard(y, block, normalize=False), ints)
    if block in (1, 4, 16, 64):  # sqrt(block) is a power of two: the normalized one is exact
        assert np.array_equal(inverse_block_hadamard(block_hadamard(ints, block), block), ints)


def test_ragged_axis_pads_with_zeros():
    x = np.random.default_rng(3).standard_normal((3, 20))
    y = block_hadamard(x, 8, ragged="pad")
    assert y.shape == (3, 24)
    assert np.array_equal(y, block_hadamard(np.pad(x, ((0, 0), (0, 4))), 8))
    back = inverse_block_hadamard(y, 8, length=20)
    assert back.shape == x.shape and np.allclose(back, x, rtol=0, atol=1e-14)
    y0 = block_hadamard(x.T, 8, axis=0, ragged="pad", normalize=False)
    assert y0.shape == (24, 3)
    assert np.allclose(inverse_block_hadamard(y0, 8, axis=0, normalize=False, length=20), x.T,
                       rtol=0, atol=1e-14)


def test_rotation_lowers_crest_factor_of_outlier_channels():
    x = synthetic("outlier_channels", (16, 1024)).astype(np.float64)
    rotated = block_hadamard(x, 64)
    assert crest_factor(x) > 50 and crest_factor(rotated) < crest_factor(x) / 5
    assert np.isclose(np.sqrt(np.mean(rotated**2)), np.sqrt(np.mean(x**2)), rtol=1e-12)
    # ... and so helps 4-bit group quantization (the NVINT4-after-rotation effect).
    plain = quantize_int(x, "int4", granularity="group", axis=1, group_size=32).dequantize()
    q = quantize_int(rotated, "int4", granularity="group", axis=1, group_size=32)
    assert sqnr_db(x, inverse_block_hadamard(q.dequantize(), 64)) > sqnr_db(x, plain) + 2.0


def test_crest_factor():
    assert crest_factor([3.0, -3.0, 3.0]) == 1.0
    assert crest_factor([4.0, 0.0, 0.0, 0.0]) == 2.0
    assert np.isnan(crest_factor(np.zeros(4))) and np.isnan(crest_factor([]))


# --- bad input --------------------------------------------------------------------------------
X = np.ones((2, 3))

# (id, callable, error class, exact message)
CASES = [
    ("group size 0", lambda: quantize_int(X, "int4", granularity="group", axis=1, group_size=0),
     QuantizerError, "group_size must be a positive integer, not 0"),
    ("group size float", lambda: quantize_int(X, "int4", granularity="group", axis=1,
                                              group_size=2.0),
     QuantizerError, "group_size must be a positive integer, not 2.0"),
    ("axis out of range", lambda: quantize_int(X, "int8", granularity="channel", axis=2),
     QuantizerError, "axis must be an integer from -2 to 1, not 2"),
    ("axis too negative", lambda: quantize_int(X, "int8", granularity="group", axis=-3,
                                               group_size=2),
     QuantizerError, "axis must be an integer from -2 to 1, not -3"),
    ("channel without axis", lambda: quantize_int(X, "int8", granularity="channel"),
     QuantizerError, "granularity 'channel' needs an axis"),
    ("tensor with axis", lambda: quantize_int(X, "int8", axis=0),
     QuantizerError, "granularity 'tensor' takes no axis, got axis=0"),
    ("group size without group", lambda: quantize_int(X, "int8", granularity="channel", axis=0,
                                                      group_size=4),
     QuantizerError, "granularity 'channel' takes no group_size, got group_size=4"),
    ("channel of a scalar", lambda: quantize_int(1.0, "int8", granularity="channel", axis=0),
     QuantizerError, "granularity 'channel' needs an array with at least one axis, got a 0-d "
     "array"),
    ("unknown granularity", lambda: quantize_int(X, "int8", granularity="row"),
     QuantizerError, "granularity must be one of 'tensor', 'channel', 'group', not 'row'"),
    ("unknown scheme", lambda: quantize_int(X, "int8", scheme="affine"),
     QuantizerError, "scheme must be one of 'symmetric', 'asymmetric', not 'affine'"),
    ("symmetric unsigned", lambda: quantize_int(X, "uint8"),
     QuantizerError, "symmetric quantization needs a signed IntFormat of 2 to 32 bits, not uint8"),
    ("symmetric int1", lambda: quantize_int(X, IntFormat(1)),
     QuantizerError, "symmetric quantization needs a signed IntFormat of 2 to 32 bits, not int1"),
    ("asymmetric int64", lambda: quantize_int(X, "int64", scheme="asymmetric"),
     QuantizerError, "asymmetric quantization needs an IntFormat of 1 to 32 bits, not int64"),
    ("float format", lambda: quantize_int(X, "fp8_e4m3"),
     QuantizerError, "fmt must be an IntFormat or the name of one (such as 'int8'), not "
     "'fp8_e4m3'"),
    ("NaN input", lambda: quantize_int([1.0, np.nan], "int8"),
     QuantizerError, "values to quantize must be finite; got NaN or infinity"),
    ("unknown overflow", lambda: quantize_int(X, "int8", overflow="clip"),
     EncodeError, "overflow must be one of 'saturate', 'saturate_symmetric', 'wrap', not 'clip'"),
    ("block size 48", lambda: block_hadamard(np.ones(96), 48),
     QuantizerError, "block_size must be a power of two (1, 2, 4, ...), not 48"),
    ("block size 0", lambda: inverse_block_hadamard(np.ones(96), 0),
     QuantizerError, "block_size must be a power of two (1, 2, 4, ...), not 0"),
    ("fwht length 12", lambda: fwht(np.ones((2, 12))),
     QuantizerError, "fwht needs an axis length that is a power of two, not 12"),
    ("ragged block", lambda: block_hadamard(np.ones((2, 20)), 8),
     QuantizerError, "axis 1 has length 20, not a multiple of block_size 8; pass ragged='pad' to "
     "zero-pad the last block"),
    ("ragged inverse", lambda: inverse_block_hadamard(np.ones((20, 2)), 8, axis=0),
     QuantizerError, "axis 0 has length 20, not a multiple of block_size 8"),
    ("unknown ragged", lambda: block_hadamard(np.ones(8), 8, ragged="trim"),
     QuantizerError, "ragged must be one of 'error', 'pad', not 'trim'"),
    ("hadamard axis", lambda: block_hadamard(np.ones((2, 8)), 2, axis=-3),
     QuantizerError, "axis must be an integer from -2 to 1, not -3"),
    ("length too long", lambda: inverse_block_hadamard(np.ones(8), 8, length=9),
     QuantizerError, "length must be an integer from 0 to 8, not 9"),
    ("m_bits 33", lambda: dyadic_scale(0.1, m_bits=33),
     QuantizerError, "m_bits must be an integer from 1 to 32, not 33"),
    ("m_bits 0", lambda: DyadicScale(1, 0, 0),
     QuantizerError, "m_bits must be an integer from 1 to 32, not 0"),
    ("negative scale", lambda: dyadic_scale([0.1, -0.5]),
     QuantizerError, "scale must be positive and finite, not -0.5"),
    ("NaN scale", lambda: dyadic_scale(np.nan),
     QuantizerError, "scale must be positive and finite, not nan"),
    ("scale too large", lambda: dyadic_scale(255.5, 8),
     QuantizerError, "scale 255.5 is too large for a 8-bit multiplier: m / 2**s with s >= 0 "
     "needs scale < 2**8 - 0.5"),
    ("scale too small", lambda: dyadic_scale(2.0**-40, 32),
     QuantizerError, "scale 9.094947017729282e-13 is too small for a 32-bit multiplier: it "
     "needs a right shift of 71 bits, more than 63"),
    ("multiplier too wide", lambda: DyadicScale(256, 3, 8),
     QuantizerError, "multiplier must lie in [0, 2**8), got [256, 256]"),
    ("shift 64", lambda: DyadicScale(1, [3, 64], 8),
     QuantizerError, "shift must lie in [0, 63], got [3, 64]"),
    ("accumulator overflow", lambda: requantize(np.array([1, 2**40], dtype=np.int64),
                                                dyadic_scale(0.5, 32)),
     AccumulatorOverflowError, "acc * multiplier must fit in int64: 1099511627776 * 2147483648 "
     "= 2361183241434822606848 does not"),
    ("negative accumulator overflow", lambda: requantize(-2**32, DyadicScale(2**31 + 1, 40, 32)),
     AccumulatorOverflowError, "acc * multiplier must fit in int64: -4294967296 * 2147483649 = "
     "-9223372041149743104 does not"),
    ("float accumulator", lambda: requantize(np.ones(3), dyadic_scale(0.5)),
     QuantizerError, "acc must be an integer or integer array, not float64"),
    ("unknown shift rounding", lambda: requantize(np.ones(3, int), dyadic_scale(0.5),
                                                  rounding="rnd"),
     RoundingError, "rounding must be one of 'rne', 'rna', 'rnu', 'rtz', 'rup', 'rdn', 'rto', "
     "not 'rnd'"),
    ("zero point out of range", lambda: requantize(np.ones(3, int), dyadic_scale(0.5),
                                                   zero_point=200),
     QuantizerError, "zero_point must lie in [-128, 127] (int8), got [200, 200]"),
    ("float output format", lambda: requantize(np.ones(3, int), dyadic_scale(0.5), "fp8_e4m3"),
     QuantizerError, "out must be an IntFormat of at most 32 bits (or its name, such as 'int8'), "
     "not 'fp8_e4m3'"),
    ("product_bits 65", lambda: requantize(np.ones(3, int), dyadic_scale(0.5), product_bits=65),
     QuantizerError, "product_bits must be an integer from 2 to 64, not 65"),
    ("scale shape", lambda: requantize(np.ones((2, 3), int), dyadic_scale([0.5, 0.25])),
     QuantizerError, "acc shape (2, 3), scale shape (2,) and zero_point shape () do not "
     "broadcast together"),
]


@pytest.mark.parametrize("call, error, message", [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_invalid_input_raises_named_error(call, error, message):
    raises_exactly(call, error, message)
