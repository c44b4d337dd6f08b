"""Bad input: every invalid parameter raises one LowbitError naming the field, value and range."""

import numpy as np
import pytest

from lowbit.errors import (EncodeError, FormatParameterError, RoundingError,
                           UnknownFormatError)
from lowbit.golden import formats as F
from lowbit.golden.rounding import Stochastic
from tests.expect import raises_exactly

# (id, callable, error class, exact message)
CASES = [
    ("exp_bits 0", lambda: F.FloatFormat(0, 3), FormatParameterError,
     "exp_bits must be an integer from 1 to 11, not 0"),
    ("exp_bits 12", lambda: F.FloatFormat(12, 3), FormatParameterError,
     "exp_bits must be an integer from 1 to 11, not 12"),
    ("man_bits 53", lambda: F.FloatFormat(5, 53), FormatParameterError,
     "man_bits must be an integer from 0 to 52, not 53"),
    ("man_bits float", lambda: F.FloatFormat(5, 2.0), FormatParameterError,
     "man_bits must be an integer from 0 to 52, not 2.0"),
    ("inf without nan", lambda: F.FloatFormat(4, 3, inf=True, nan=False), FormatParameterError,
     "inf=True needs nan=True: IEEE infinities and NaNs share the all-ones exponent"),
    ("bias out of float64", lambda: F.FloatFormat(11, 52, bias=0), FormatParameterError,
     "bias 0 with exp_bits 11, man_bits 52 gives values from 2**-51 to 2**2047; lowbit needs "
     "them inside float64 (2**-1074 .. 2**1024)"),
    ("posit n=1", lambda: F.PositFormat(1, 0), FormatParameterError,
     "n must be an integer from 2 to 32, not 1"),
    ("posit es 9", lambda: F.PositFormat(8, 9), FormatParameterError,
     "es must be an integer from 0 to 4, not 9"),
    ("int bits 0", lambda: F.IntFormat(0), FormatParameterError,
     "bits must be an integer from 1 to 64, not 0"),
    ("int bits 65", lambda: F.IntFormat(65), FormatParameterError,
     "bits must be an integer from 1 to 64, not 65"),
    ("int signed str", lambda: F.IntFormat(8, signed="yes"), FormatParameterError,
     "signed must be True or False, not 'yes'"),
    ("fixed total 0", lambda: F.FixedFormat(0, 0), FormatParameterError,
     "int_bits + frac_bits must be an integer from 1 to 64, not 0"),
    ("block 0", lambda: F.BlockFormat(F.get("fp4_e2m1"), 0, F.get("e8m0")), FormatParameterError,
     "block_size must be an integer from 1 to 4096, not 0"),
    ("block scale rule", lambda: F.BlockFormat(F.get("fp4_e2m1"), 32, F.get("e8m0"),
                                               scale_rule="ceil"), FormatParameterError,
     "scale_rule must be one of 'floor', 'rceil', 'nvfp4', not 'ceil'; did you mean 'rceil'?"),
    ("block pow2 scale", lambda: F.BlockFormat(F.get("fp4_e2m1"), 32, F.get("ue4m3")),
     FormatParameterError,
     "scale_rule 'floor' needs an unsigned power-of-two scale (man_bits 0, like e8m0), not ue4m3"),
    ("block posit element", lambda: F.BlockFormat(F.get("posit8_0"), 32, F.get("e8m0")),
     FormatParameterError,
     "element must be a FloatFormat, IntFormat or FixedFormat, not 'posit8_0'"),
    ("unknown rounding", lambda: F.get("fp8_e4m3").encode([1.0], rounding="nearest"),
     RoundingError, "rounding must be one of rne, rna, rtz, rup, rdn, rto, stochastic, not "
     "'nearest'"),
    ("stochastic without source", lambda: F.get("fp8_e4m3").encode([1.0], rounding="stochastic"),
     RoundingError, "rounding 'stochastic' needs its random source: pass "
     "rounding=Stochastic(bits=R, rng=numpy.random.default_rng(seed)) or random=array"),
    ("stochastic bits 0", lambda: Stochastic(bits=0, rng=np.random.default_rng(0)),
     RoundingError, "Stochastic bits must be an integer from 1 to 32, not 0"),
    ("stochastic random range", lambda: F.get("int8").encode(
        [0.5], rounding=Stochastic(bits=2, random=np.array([4]))), RoundingError,
     "Stochastic random values must lie in [0, 2**2), got [4, 4]"),
    ("unknown overflow", lambda: F.get("int8").encode([1.0], overflow="clip"), EncodeError,
     "overflow must be one of 'saturate', 'saturate_symmetric', 'wrap', not 'clip'"),
    ("inf policy without inf", lambda: F.get("fp8_e4m3").encode([1.0], overflow="inf"),
     EncodeError, "overflow must be one of 'saturate', 'nan', not 'inf'"),
    ("NaN into fp4", lambda: F.get("fp4_e2m1").encode([np.nan]), EncodeError,
     "fp4_e2m1 has no NaN: got NaN input; pass on_nan='zero' to encode it as 0"),
    ("NaN into int8", lambda: F.get("int8").encode([1.0, np.nan]), EncodeError,
     "int8 has no NaN: got NaN input; pass on_nan='zero' to encode it as 0"),
    ("unknown on_nan", lambda: F.get("fp4_e2m1").encode([np.nan], on_nan="max"), EncodeError,
     "on_nan must be one of 'raise', 'zero', not 'max'"),
    ("negative into unsigned float", lambda: F.get("ue4m3").encode([-1.0]), EncodeError,
     "ue4m3 is unsigned: cannot encode negative value -1.0"),
    ("wrap infinity", lambda: F.get("int8").encode([np.inf], overflow="wrap"), EncodeError,
     "overflow 'wrap' cannot wrap an infinite value into int8"),
    ("code out of range", lambda: F.get("fp4_e2m1").decode([16]), EncodeError,
     "codes for fp4_e2m1 must lie in [0, 2**4), got [16, 16]"),
    ("float codes", lambda: F.get("fp4_e2m1").decode([1.0]), EncodeError,
     "codes for fp4_e2m1 must be an integer array, not float64"),
    ("nvfp4 beyond float32", lambda: F.get("nvfp4").encode([1.0, 1e39]), EncodeError,
     "nvfp4 input must be finite in float32 (|x| <= 3.4028235e38; the FP32 tensor scale has no "
     "Inf/NaN rule), got 1e+39"),
    ("block axis", lambda: F.get("mxfp4").encode(np.zeros((2, 3)), axis=2), EncodeError,
     "axis must be an integer from -2 to 1, not 2"),
    ("unknown format", lambda: F.get("fp7"), UnknownFormatError,
     "unknown format 'fp7'; known families: " + ", ".join(F.FAMILIES)),
    ("family with bad parameter", lambda: F.get("posit8_9"), FormatParameterError,
     "format 'posit8_9': es must be an integer from 0 to 4, not 9"),
    ("int99", lambda: F.get("int99"), FormatParameterError,
     "format 'int99': bits must be an integer from 1 to 64, not 99"),
    ("from_dict kind", lambda: F.from_dict({"kind": "decimal"}), FormatParameterError,
     "format kind must be one of block, int, fixed, float, posit, not 'decimal'"),
]


@pytest.mark.parametrize("call, error, message", [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_invalid_input_raises_named_error(call, error, message):
    err = raises_exactly(call, error, message)
    assert isinstance(err, ValueError)  # Amaranth-style: also a ValueError


def test_nan_policy_zero_encodes_nan_as_zero():
    assert F.get("fp4_e2m1").encode([np.nan], on_nan="zero").tolist() == [0]
    assert F.get("int8").encode([np.nan], on_nan="zero").tolist() == [0]


def test_nan_into_formats_with_nan_is_quiet_nan_code():
    e4m3 = F.get("fp8_e4m3")
    assert e4m3.encode([np.nan]).tolist() == [0x7F]
    assert F.get("fp16").encode([np.nan]).tolist() == [0x7E00]
    assert F.get("posit8_0").encode([np.nan]).tolist() == [0x80]
