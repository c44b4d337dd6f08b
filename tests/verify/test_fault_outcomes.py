"""Fault outcomes: codes compared bit for bit, errors from decoded values."""

import math

import pytest

from lowbit.golden import formats as F
from lowbit.verify.faults.outcomes import FaultOutcomeError, classify


def test_masked_and_hang():
    assert classify([1, 2, 3], [1, 2, 3], F.get("int8")).kind == "masked"
    assert classify([1, 2, 3], None, F.get("int8")).kind == "hang"


def test_sdc_in_fp8_reports_the_worst_relative_error_and_flipped_bits():
    e4m3 = F.get("fp8_e4m3")
    one, two, half = 0x38, 0x40, 0x30          # 1.0, 2.0, 0.5 in e4m3
    out = classify([one, one], [one ^ 0x01, two], e4m3)  # mantissa LSB flip; exponent flip
    assert out.kind == "sdc" and out.wrong_results == 2
    assert out.rel_error == 1.0 and out.abs_error == 1.0         # 1.0 -> 2.0 is the worst
    assert out.flipped_bits == (0x01 | (one ^ two))
    low = classify([one], [one ^ 0x01], e4m3)
    assert low.rel_error == pytest.approx(0.125)                # 1.0 -> 1.125
    assert classify([half], [0x7F], e4m3).abs_error == math.inf   # 0x7F is NaN in e4m3


def test_signed_integers_and_zero_expected():
    i8 = F.get("int8")
    out = classify([0x00], [0x80], i8)    # 0 -> -128
    assert (out.abs_error, out.rel_error, out.flipped_bits) == (128.0, math.inf, 0x80)


def test_mismatched_shapes_are_refused():
    with pytest.raises(FaultOutcomeError, match="expected 2 result codes, got 1"):
        classify([1, 2], [1], F.get("int8"))
