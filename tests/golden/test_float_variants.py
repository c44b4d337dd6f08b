"""Float variants no outside library models the same way, checked against an exact reference:
flush-to-zero, unsigned formats, zero-less E8M0; plus dict round trips of the whole catalogue.

The reference rounds with Fractions to the nearest finite value of ``fmt.values()`` (ties to the
even code; posits excluded), saturating beyond the largest magnitude.
"""

import bisect
from fractions import Fraction

import numpy as np
import pytest

from lowbit.golden import formats as F


def nearest_even_codes(fmt, xs):
    """Exact RNE reference: the nearest finite value by Fraction distance; on a tie between two
    values the even code; between +0 and -0 the one with the input's sign."""
    vals = fmt.values()
    by_value = {}
    for c, v in enumerate(vals):
        if np.isfinite(v):
            by_value.setdefault(Fraction(float(v)), []).append(c)
    keys = sorted(by_value)
    out = []
    for x in xs:
        fx = Fraction(float(x))
        i = bisect.bisect_left(keys, fx)
        near = [keys[j] for j in (i - 1, i) if 0 <= j < len(keys)]
        best = min(abs(k - fx) for k in near)
        tied = [k for k in near if abs(k - fx) == best]
        if len(tied) == 2:
            codes = [c for k in tied for c in by_value[k] if c % 2 == 0]
            if len(codes) > 1:  # flush to zero: 0 and min_normal codes are both even
                codes = by_value[Fraction(0)]  # documented: such ties go to zero
        else:
            codes = by_value[tied[0]]
        if len(codes) > 1:  # +0 and -0
            codes = [c for c in codes if np.signbit(vals[c]) == np.signbit(x)] or codes
        out.append(codes[0])
    return np.array(out)


def stimulus(fmt, rng):
    v = fmt.values()
    v = np.unique(v[np.isfinite(v)])
    mids = (v[1:] + v[:-1]) / 2
    near = np.concatenate([np.nextafter(mids, np.inf), np.nextafter(mids, -np.inf)])
    rand = rng.uniform(v.min() * 1.2, v.max() * 1.2, 3000)
    tiny = rng.uniform(-4, 4, 2000) * fmt.min_normal
    xs = np.concatenate([v, mids, near, rand, tiny])
    return xs[(xs >= 0) | fmt.signed]


FTZ = [F.FloatFormat(4, 3, 7, inf=False, subnormals=False),
       F.FloatFormat(5, 2, subnormals=False),
       F.FloatFormat(3, 2, inf=False, nan=False, subnormals=False)]


@pytest.mark.parametrize("fmt", FTZ + [F.get("ue4m3"), F.get("e8m0")], ids=lambda f: f.name)
def test_rne_matches_exact_nearest_even(fmt):
    xs = stimulus(fmt, np.random.default_rng(3))
    if not fmt.zero:
        xs = xs[xs >= fmt.min_normal]  # below the smallest value: clamps (tested below)
    got = fmt.encode(xs, overflow="saturate")
    want = nearest_even_codes(fmt, xs)
    bad = np.flatnonzero(got != want)
    assert bad.size == 0, [(xs[i], hex(int(got[i])), hex(int(want[i]))) for i in bad[:5]]


@pytest.mark.parametrize("fmt", FTZ, ids=lambda f: f.name)
def test_flush_to_zero_codes(fmt):
    # Exponent-0 codes with a nonzero mantissa decode to zero and are never produced.
    codes = np.arange(1, 1 << fmt.man_bits, dtype=np.uint64)
    assert (fmt.decode(codes) == 0).all()
    xs = np.linspace(-2 * fmt.min_normal, 2 * fmt.min_normal, 4001)
    got = fmt.encode(xs)
    mag = got.astype(np.int64) & ((1 << (fmt.bits - 1)) - 1)
    assert not ((mag > 0) & (mag < (1 << fmt.man_bits))).any()
    assert fmt.min_subnormal is None and fmt.min_positive == fmt.min_normal


def test_ue4m3_is_the_positive_half_of_e4m3():
    u, e = F.get("ue4m3"), F.get("fp8_e4m3")
    assert np.array_equal(u.values(), e.values()[:128], equal_nan=True)
    x = np.random.default_rng(0).uniform(0, 500, 5000)
    assert np.array_equal(u.encode(x), e.encode(x))


def test_e8m0_has_no_zero_and_clamps_below():
    e = F.get("e8m0")
    assert e.decode([0, 127, 254]).tolist() == [2.0**-127, 1.0, 2.0**127]
    assert np.isnan(e.decode([255])[0])
    assert e.encode([0.0, 2.0**-140, 2.0**-127]).tolist() == [0, 0, 0]
    # Ties go to the even code (even exponent field), as gfloat does; ml_dtypes rounds E8M0
    # ties up instead (1.5 * 2**k -> 2**(k+1) for every k), a convention lowbit does not copy.
    assert e.encode([1.4, 1.5, 1.6, 3.0, 2.0**128]).tolist() == [127, 128, 128, 128, 254]
    import gfloat
    from gfloat.formats import format_info_ocp_e8m0
    ties = 1.5 * np.exp2(np.arange(-126.0, 127.0))
    want = gfloat.round_ndarray(format_info_ocp_e8m0, ties)
    assert np.array_equal(e.decode(e.encode(ties)), want)


@pytest.mark.parametrize("name", F.CATALOG_NAMES + ("fixed4_4", "ufixed2_6", "fp_e5m6",
                                                    "posit6_1", "mxfp8_e4m3_rceil",
                                                    "nvfp4_torchao", "bfp6_b8"))
def test_dict_round_trip_and_name(name):
    fmt = F.get(name)
    again = F.from_dict(fmt.to_dict())
    assert again == fmt and again.name == fmt.name == name
    import json
    assert F.from_dict(json.loads(json.dumps(fmt.to_dict()))) == fmt
