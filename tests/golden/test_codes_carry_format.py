"""Codes carry their format: mixing one format's codes with another format's operation is one
clear error; plain arrays are read as the format they are given to; the tag survives slices,
copies, astype and pickling but not arithmetic on the bits."""

import pickle

import numpy as np
import pytest

from lowbit.errors import CodeFormatError
from lowbit.golden import arith, gemm
from lowbit.golden import formats as F
from lowbit.golden.accumulators import ExactAccumulator, Quire
from lowbit.golden.formats.codes import Codes

E4M3, P16, INT8 = F.get("fp8_e4m3"), F.get("posit16_1"), F.get("int8")


def _mixing(own, other, what="codes"):
    return (f"{what}: codes of {own} cannot be read as codes of {other}; decode and encode "
            f"them into {other}, or pass np.asarray(codes) to reinterpret the bit patterns")


def test_encode_and_arithmetic_return_codes_of_their_format():
    c = E4M3.encode([0.5, 1.5, -2.0])
    assert isinstance(c, Codes) and c.fmt == E4M3 and c.dtype == np.uint8
    assert repr(c) == "Codes([ 48,  60, 192], dtype=uint8, fmt=fp8_e4m3)"
    for out in (arith.add(c, c, E4M3), arith.neg(c, E4M3), arith.abs(c, E4M3),
                arith.fma(c, c, c, E4M3)):
        assert out.fmt == E4M3
    codes, fmt = arith.mul_exact(c, c, E4M3, E4M3)
    assert codes.fmt == fmt != E4M3


@pytest.mark.parametrize("call, message", [
    (lambda c: arith.fma(c, c, c, P16), _mixing("fp8_e4m3", "posit16_1", "a")),
    (lambda c: arith.add(P16.encode([1.0] * 3), c, P16), _mixing("fp8_e4m3", "posit16_1", "b")),
    (lambda c: arith.compare(c, c, INT8), _mixing("fp8_e4m3", "int8", "a")),
    (lambda c: P16.decode(c), _mixing("fp8_e4m3", "posit16_1")),
    (lambda c: INT8.to_int(c), _mixing("fp8_e4m3", "int8")),
    (lambda c: gemm.gemm(c[None, :], c[:, None], P16, P16, Quire(P16)),
     _mixing("fp8_e4m3", "posit16_1", "A")),
    (lambda c: gemm.dot(c, P16.encode([1.0] * 3), E4M3, E4M3, ExactAccumulator(F.get("fp32"))),
     _mixing("posit16_1", "fp8_e4m3", "b")),
])
def test_mixing_formats_is_one_clear_error(call, message):
    with pytest.raises(CodeFormatError) as err:
        call(E4M3.encode([0.5, 1.5, -2.0]))
    assert str(err.value) == message


def test_plain_arrays_reinterpret_bits_on_purpose():
    c = E4M3.encode([0.5, 1.5, -2.0])
    # 0x30, 0x3c, 0xc0 as int8: 48, 60, -64 (two's complement)
    assert INT8.decode(np.asarray(c)).tolist() == [48.0, 60.0, -64.0]
    assert E4M3.decode([0x30, 0x3C, 0xC0]).tolist() == [0.5, 1.5, -2.0]


def test_the_tag_follows_views_and_copies_not_arithmetic():
    c = E4M3.encode(np.linspace(-4, 4, 12).reshape(3, 4))
    for same in (c[1:], c.T, c.copy(), c.astype(np.int64), c.reshape(-1),
                 pickle.loads(pickle.dumps(c))):
        assert isinstance(same, Codes) and same.fmt == E4M3
    for plain in (c ^ 0x80, c + 1, np.maximum(c, 3)):
        assert type(plain) is np.ndarray
    assert type(c.sum()) is not Codes and int(c[0, 0]) == int(np.asarray(c)[0, 0])
