"""Wilson intervals and sample sizes against published values (Newcombe 1998, Table I, method 3:
the Wilson score interval without continuity correction) and the 2,401-fault rule of thumb."""

import pytest

from lowbit.verify.faults.statistics import FaultStatisticsError, sample_size, wilson


@pytest.mark.parametrize("k, n, low, high", [
    (81, 263, 0.2553, 0.3662),   # Newcombe, Stat. Med. 17 (1998) 857-872, Table I
    (15, 148, 0.0624, 0.1605),
    (0, 20, 0.0, 0.1611),
    (1, 29, 0.0061, 0.1718),
])
def test_wilson_matches_newcombes_table(k, n, low, high):
    rate = wilson(k, n)
    assert (round(rate.low, 4), round(rate.high, 4)) == (low, high)
    assert rate.value == k / n


def test_wilson_edges_and_columns():
    assert (wilson(7, 7).low < 1.0, wilson(7, 7).high) == (True, 1.0)
    assert wilson(0, 0).high == 1.0
    cols = wilson(3, 10).to_dict("sdc")
    assert set(cols) == {"sdc_count", "sdc_rate", "sdc_ci_low", "sdc_ci_high"}
    assert wilson(50, 100, 0.99).high - wilson(50, 100, 0.99).low > \
        wilson(50, 100, 0.95).high - wilson(50, 100, 0.95).low


def test_sample_sizes():
    assert sample_size(0.02) == 2401          # 1.96^2 / 4 / 0.02^2 = 2400.9
    assert sample_size(0.05) == 385
    # Cochran's finite-population correction n0 / (1 + (n0 - 1) / N), worked by hand:
    assert sample_size(0.02, population=500) == 414   # 2400.9 / (1 + 2399.9 / 500) = 413.9
    assert sample_size(0.01, population=300) == 291   # 9603.6 / (1 + 9602.6 / 300) = 290.9
    # the interval at the worst case really is within the margin
    n = sample_size(0.03)
    rate = wilson(n // 2, n)
    assert (rate.high - rate.low) / 2 <= 0.03


@pytest.mark.parametrize("call, message", [
    (lambda: wilson(5, 3), "k (5) cannot exceed n (3)"),
    (lambda: wilson(-1, 3), "k must be a non-negative integer, not -1"),
    (lambda: wilson(1, 3, 0.8), "confidence must be one of 0.9, 0.95, 0.99, not 0.8"),
    (lambda: sample_size(0.0), "margin must be a number between 0 and 0.5, not 0.0"),
    (lambda: sample_size(0.02, population=0), "population must be a positive integer"),
])
def test_bad_inputs(call, message):
    with pytest.raises(FaultStatisticsError) as info:
        call()
    assert message in str(info.value)
