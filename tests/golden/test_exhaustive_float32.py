"""Every float32 bit pattern into the minifloats, RNE, against ml_dtypes / numpy.float16.

``--full`` runs all 2**32 words (about a minute per format on 2 cores); ``make test`` runs a
strided slice of about 1M words per format that still visits every exponent and sign. ml_dtypes
casts from float32 round once, so it is a valid oracle here; its overflow policy is selected
(NaN for e4m3, Inf for e5m2/fp16/bf16, saturation for FP6/FP4). NaN inputs into FP6/FP4 are
left out: ml_dtypes gives -0 where lowbit raises or, with ``on_nan="zero"``, gives +0.
"""

import ml_dtypes
import numpy as np
import pytest

from lowbit.golden import formats as F

ORACLES = {  # lowbit name: (reference dtype, overflow policy matching the reference)
    "fp8_e4m3": (ml_dtypes.float8_e4m3fn, "nan"),
    "fp8_e5m2": (ml_dtypes.float8_e5m2, "inf"),
    "fp6_e3m2": (ml_dtypes.float6_e3m2fn, "saturate"),
    "fp6_e2m3": (ml_dtypes.float6_e2m3fn, "saturate"),
    "fp4_e2m1": (ml_dtypes.float4_e2m1fn, "saturate"),
    "bf16": (ml_dtypes.bfloat16, "inf"),
    "fp16": (np.float16, "inf"),
}
CHUNK = 1 << 24


def check_words(name, words):
    fmt = F.get(name)
    dtype, overflow = ORACLES[name]
    x = words.view(np.float32)
    with np.errstate(invalid="ignore", over="ignore"):
        ref = x.astype(dtype)
    got = fmt.encode(x, overflow=overflow, on_nan="zero")
    ref_bits = ref.view(np.uint16 if fmt.bits == 16 else np.uint8)
    keep = np.ones(x.shape, bool) if fmt.has_nan else ~np.isnan(x)
    # NaN as a class (payloads differ: numpy keeps them, lowbit gives the quiet NaN), sign kept.
    nan = np.isnan(x) & keep
    sign = np.uint64(1 << (fmt.bits - 1))
    nan_ok = np.isnan(fmt.decode(got)) & ((got.astype(np.uint64) & sign) ==
                                          (ref_bits.astype(np.uint64) & sign))
    bad = np.flatnonzero(np.where(nan, ~nan_ok, got != ref_bits) & keep)
    assert bad.size == 0, (f"{name}: {bad.size} mismatches; first float32 0x{words[bad[0]]:08x}: "
                           f"lowbit 0x{int(got[bad[0]]):x}, reference 0x{int(ref_bits[bad[0]]):x}")


@pytest.mark.parametrize("name", ORACLES)
def test_float32_slice(name):
    # Stride 4093 (prime) visits every sign/exponent and varied mantissas: ~1.05M words.
    check_words(name, np.arange(0, 1 << 32, 4093, dtype=np.uint64).astype(np.uint32))


@pytest.mark.full
@pytest.mark.parametrize("name", ORACLES)
def test_float32_exhaustive(name):
    for start in range(0, 1 << 32, CHUNK):
        check_words(name, np.arange(start, start + CHUNK, dtype=np.uint64).astype(np.uint32))
