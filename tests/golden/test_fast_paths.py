"""The table-driven float32 encoders and the value-table decoder agree with the exact paths.

Stimulus: every top-16-bit pattern of a float32 word with the low half 0, 1, 0x7fff, 0x8000 and
0xffff (all signs, exponents, specials and sticky cases), plus random words; the fast paths only
engage on arrays of at least 65,536 elements, the exact ones on float64 input.
"""

import numpy as np
import pytest

from lowbit.golden import formats as F

_HI = np.arange(1 << 16, dtype=np.uint32) << np.uint32(16)
_WORDS = np.concatenate(
    [_HI | np.uint32(lo) for lo in (0, 1, 0x7FFF, 0x8000, 0xFFFF)]
    + [np.random.default_rng(7).integers(0, 2**32, 200_000, dtype=np.uint64).astype(np.uint32)])
_X32 = _WORDS.view(np.float32)
with np.errstate(invalid="ignore"):
    _X64 = _X32.astype(np.float64)

# Covers both table kinds: <= 6 fraction bits (17-bit table: fp8/fp6/fp4, posit8) and the
# per-binade table (fp16, bf16, posit16, an odd generic float, posits with cut-off exponents).
FORMATS = ["fp8_e4m3", "fp8_e5m2", "fp6_e3m2", "fp6_e2m3", "fp4_e2m1", "fp16", "bf16",
           "fp_e5m6", "fp_e3m9", "posit4_1", "posit6_1", "posit8_0", "posit8_2", "posit12_1",
           "posit16_1", "posit16_2"]


@pytest.mark.parametrize("name", FORMATS)
@pytest.mark.parametrize("rounding", ["rne", "rna", "rtz", "rup", "rdn", "rto"])
def test_float32_fast_encode_equals_exact(name, rounding):
    fmt = F.get(name)
    for overflow in fmt.overflow_policies:
        fast = fmt.encode(_X32, rounding=rounding, overflow=overflow, on_nan="zero")
        exact = fmt.encode(_X64, rounding=rounding, overflow=overflow, on_nan="zero")
        bad = np.flatnonzero(fast != exact)
        assert bad.size == 0, (
            f"{name} {rounding} {overflow}: {bad.size} mismatches, first word "
            f"0x{_WORDS[bad[0]]:08x}: fast 0x{int(fast[bad[0]]):x} exact 0x{int(exact[bad[0]]):x}")


@pytest.mark.parametrize("name", ["fp4_e2m1", "fp8_e4m3", "fp16", "posit16_1", "int8", "uint16"])
def test_table_decode_equals_exact_decode(name):
    fmt = F.get(name)
    codes = np.arange(1 << fmt.bits, dtype=np.uint64)
    table = fmt.decode(np.tile(codes, 1 + 4096 // codes.size))[: codes.size]
    exact = fmt._decode(codes)
    assert np.array_equal(table.view(np.uint64), exact.view(np.uint64))  # bits, NaN payloads too


def test_fast_encode_still_raises_on_nan_without_policy():
    with pytest.raises(ValueError, match="fp4_e2m1 has no NaN"):
        F.get("fp4_e2m1").encode(_X32)
