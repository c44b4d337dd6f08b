"""Correctly rounded arithmetic on codes: add, sub, mul, fma, neg, abs, compare.

Every operation computes the exact result as an :class:`~lowbit.golden.exact.Exact` array and
rounds it once with the result format's own rounder (:meth:`round_exact`), so the rounding
modes, overflow policies and special values are exactly those of ``encode``. Operands are codes
of one format (``fmt``); mixed-format exact products are :func:`exact_mul` and
:func:`product_format`.

Specials: IEEE rules for floats (NaN in -> NaN out, ``inf - inf`` and ``0 * inf`` -> NaN, an
exact zero sum is +0, or -0 under ``rdn`` or when both addends are -0); posits: NaR in -> NaR
out; integers and fixed point: exact results rounded to the format's LSB with the rounding mode
(the "right shift" of a fixed-point product) and then wrapped or saturated.

Widths: exact products need ``significand_bits(a) + significand_bits(b) <= 62`` (FP32 x FP32,
posit32 x posit32, int31 x int31 fit; FP64 products do not), integer operands at most 60 bits.
"""

import functools

import numpy as np

from lowbit.errors import OperationError
from lowbit.golden.binary import highest_bit
from lowbit.golden.exact import Exact, shift_jam
from lowbit.golden.formats import FixedFormat, FloatFormat, IntFormat, PositFormat
from lowbit.golden.formats.codes import check_codes, tag

_U64 = np.uint64
MAX_PRODUCT_BITS = 62
MAX_INT_BITS = 60


def _check_operand(fmt, what):
    if getattr(fmt, "kind", None) not in ("int", "fixed", "float", "posit"):
        raise OperationError(f"{what} must be a scalar int, fixed, float or posit format, "
                               f"not {getattr(fmt, 'name', fmt)!r}")
    if fmt.kind in ("int", "fixed") and fmt.bits > MAX_INT_BITS:
        raise OperationError(f"{what} {fmt.name} has {fmt.bits} bits; integer arithmetic is "
                               f"exact up to {MAX_INT_BITS} bits")


def _operands(fmt, *codes):
    _check_operand(fmt, "format")
    return [fmt.to_exact(c) for c in codes]


def _same_format(fmt, **named):
    """Codes that carry a format must carry ``fmt`` (:func:`check_codes`, named)."""
    for name, codes in named.items():
        check_codes(codes, fmt, name)


# --- exact building blocks ------------------------------------------------------------------
def exact_mul(a, b, a_fmt, b_fmt) -> Exact:
    """Exact products of codes ``a`` (of ``a_fmt``) and ``b`` (of ``b_fmt``), broadcast."""
    for fmt, what in ((a_fmt, "a_fmt"), (b_fmt, "b_fmt")):
        _check_operand(fmt, what)
    width = a_fmt.significand_bits + b_fmt.significand_bits
    if width > MAX_PRODUCT_BITS:
        raise OperationError(
            f"product of {a_fmt.name} and {b_fmt.name} needs {width} significand bits; exact "
            f"products are supported up to {MAX_PRODUCT_BITS}")
    check_codes(a, a_fmt, "a")
    check_codes(b, b_fmt, "b")
    x, y = np.broadcast_arrays(np.asarray(a), np.asarray(b))
    return mul_exact_values(a_fmt.to_exact(x), b_fmt.to_exact(y))


def mul_exact_values(x: Exact, y: Exact) -> Exact:
    """Exact product of two Exact arrays whose significands together fit 64 bits."""
    zero_x = (x.sig == 0) & ~x.inf & ~x.nan
    zero_y = (y.sig == 0) & ~y.inf & ~y.nan
    nan = x.nan | y.nan | (x.inf & zero_y) | (y.inf & zero_x)
    inf = (x.inf | y.inf) & ~nan
    width = highest_bit(x.sig) + highest_bit(y.sig) + 2
    if (width > 64).any():
        raise OperationError(f"exact product needs {int(width.max())} significand bits; "
                             f"at most 64 are supported")
    sig = np.where(nan | inf, _U64(0), x.sig * y.sig)
    return Exact(x.negative ^ y.negative, sig, x.exp + y.exp, nan, inf)


def add_exact_values(x: Exact, y: Exact, negative_zero=False) -> Exact:
    """The sum of two Exact arrays, exact up to a jammed sticky bit.

    Both significands are aligned with their leading one at bit 61; the smaller is shifted right
    with jamming, which is exact when the shift is small and otherwise loses only bits far below
    any rounding position (at most one bit cancels then). ``negative_zero``: an exact zero sum
    of operands of opposite signs is -0 (``rdn``) instead of +0.
    """
    nan = x.nan | y.nan | (x.inf & y.inf & (x.negative != y.negative))
    inf = (x.inf | y.inf) & ~nan
    inf_negative = np.where(x.inf, x.negative, y.negative)
    xn, yn = x.normalized(), y.normalized()
    x_zero, y_zero = xn.sig == 0, yn.sig == 0
    # "big" is the operand of larger magnitude.
    x_big = (xn.exp > yn.exp) | ((xn.exp == yn.exp) & (xn.sig >= yn.sig)) | y_zero
    x_big &= ~x_zero | y_zero
    pick = lambda a, b: np.where(x_big, a, b)  # noqa: E731
    big_sig, small_sig = pick(xn.sig, yn.sig), pick(yn.sig, xn.sig)
    big_exp, small_exp = pick(xn.exp, yn.exp), pick(yn.exp, xn.exp)
    big_neg, small_neg = pick(xn.negative, yn.negative), pick(yn.negative, xn.negative)
    small_zero = pick(y_zero, x_zero)
    aligned = np.where(small_zero, _U64(0), shift_jam(small_sig, small_exp - big_exp))
    same = big_neg == small_neg
    sig = np.where(same, big_sig + aligned, big_sig - aligned)
    zero_sum = sig == 0
    both_negative_zeros = x_zero & y_zero & x.negative & y.negative
    negative = np.where(zero_sum, both_negative_zeros | (negative_zero & ~same), big_neg)
    negative = np.where(inf, inf_negative, negative)
    sig = np.where(nan | inf, _U64(0), sig)
    return Exact(negative, sig, big_exp, nan, inf)


def _negated(x: Exact) -> Exact:
    return Exact(~x.negative, x.sig, x.exp, x.nan, x.inf)


# --- operations on codes of one format ----------------------------------------------------
def add(a, b, fmt, rounding="rne", overflow=None):
    """Return the codes of ``a + b`` rounded once into ``fmt``."""
    _same_format(fmt, a=a, b=b)
    x, y = _operands(fmt, *np.broadcast_arrays(np.asarray(a), np.asarray(b)))
    return fmt.round_exact(add_exact_values(x, y, rounding == "rdn"), rounding, overflow)


def sub(a, b, fmt, rounding="rne", overflow=None):
    """Return the codes of ``a - b`` rounded once into ``fmt``."""
    _same_format(fmt, a=a, b=b)
    x, y = _operands(fmt, *np.broadcast_arrays(np.asarray(a), np.asarray(b)))
    return fmt.round_exact(add_exact_values(x, _negated(y), rounding == "rdn"), rounding,
                           overflow)


def mul(a, b, fmt, rounding="rne", overflow=None):
    """Return the codes of ``a * b`` rounded once into ``fmt``."""
    return fmt.round_exact(exact_mul(a, b, fmt, fmt), rounding, overflow)


def fma(a, b, c, fmt, rounding="rne", overflow=None):
    """Return the codes of ``a * b + c`` with one rounding into ``fmt``."""
    _same_format(fmt, a=a, b=b, c=c)
    a, b, c = np.broadcast_arrays(np.asarray(a), np.asarray(b), np.asarray(c))
    product = exact_mul(a, b, fmt, fmt)
    return fmt.round_exact(add_exact_values(product, fmt.to_exact(c), rounding == "rdn"),
                           rounding, overflow)


def _sign_bit(fmt, a):
    """Signed floats: neg and abs are bit operations on the sign (NaN payloads kept, IEEE
    754 5.5.1); None for other formats."""
    if fmt.kind != "float" or not fmt.signed:
        return None
    return np.asarray(a).astype(fmt.code_dtype), fmt.code_dtype(1 << (fmt.bits - 1))


def neg(a, fmt, overflow=None):
    """Return the codes of ``-a`` (integers: ``-min`` saturates or wraps per ``overflow``)."""
    _same_format(fmt, a=a)
    (x,) = _operands(fmt, np.asarray(a))
    bits = _sign_bit(fmt, a)
    if bits is not None:
        return tag(bits[0] ^ bits[1], fmt)
    return fmt.round_exact(_negated(x), "rtz", overflow)


def abs(a, fmt, overflow=None):  # noqa: A001 - the operation's name in the API
    """Return the codes of ``|a|`` (NaN keeps NaN; integers: ``|min|`` per ``overflow``)."""
    _same_format(fmt, a=a)
    (x,) = _operands(fmt, np.asarray(a))
    bits = _sign_bit(fmt, a)
    if bits is not None:
        return tag(bits[0] & ~bits[1], fmt)
    return fmt.round_exact(Exact(np.zeros(x.shape, bool), x.sig, x.exp, x.nan, x.inf), "rtz",
                           overflow)


UNORDERED = 2


def compare(a, b, fmt) -> np.ndarray:
    """Return int8: -1 where ``a < b``, 0 where equal, 1 where ``a > b``, 2 where unordered.

    Floats: NaN is unordered with everything, -0 == +0. Posits (2022 standard): NaR equals
    itself and is less than every real.
    """
    _check_operand(fmt, "format")
    _same_format(fmt, a=a, b=b)
    a, b = np.broadcast_arrays(np.asarray(a), np.asarray(b))
    if fmt.kind in ("int", "fixed"):
        va, vb = fmt.to_int(a), fmt.to_int(b)
        return np.sign(va - vb).astype(np.int8) if fmt.bits < 63 else (
            (va > vb).astype(np.int8) - (va < vb).astype(np.int8))
    va, vb = fmt.decode(a), fmt.decode(b)
    out = (va > vb).astype(np.int8) - (va < vb).astype(np.int8)
    na, nb = np.isnan(va), np.isnan(vb)
    if fmt.kind == "posit":
        return np.where(na | nb, nb.astype(np.int8) - na.astype(np.int8), out).astype(np.int8)
    return np.where(na | nb, np.int8(UNORDERED), out).astype(np.int8)


# --- exact products as codes of a wider format --------------------------------------------
@functools.lru_cache(maxsize=64)
def product_format(a_fmt, b_fmt):
    """The narrowest lowbit format of the same family holding every product exactly.

    int/fixed x int/fixed -> fixed (int) with ``int_bits`` and ``frac_bits`` added; float x
    float -> a float with ``p_a + p_b - 1`` mantissa bits, subnormals reaching the smallest
    product and IEEE Inf/NaN if either operand has specials; posit x posit of at most 8 bits
    each -> the smallest posit (n, es) holding all products (searched exhaustively), wider
    posits -> a float as above.
    """
    _check_operand(a_fmt, "a_fmt")
    _check_operand(b_fmt, "b_fmt")
    kinds = {a_fmt.kind, b_fmt.kind}
    if kinds <= {"int", "fixed"}:
        ia = a_fmt.bits - a_fmt.frac_bits
        ib = b_fmt.bits - b_fmt.frac_bits
        signed = a_fmt.signed or b_fmt.signed
        frac = a_fmt.frac_bits + b_fmt.frac_bits
        if frac == 0:
            return IntFormat(a_fmt.bits + b_fmt.bits, signed=signed)
        return FixedFormat(ia + ib, frac, signed=signed)
    if kinds == {"posit"} and max(a_fmt.bits, b_fmt.bits) <= 8:
        return _posit_product_format(a_fmt, b_fmt)
    if kinds <= {"float", "posit"}:
        return _float_product_format(a_fmt, b_fmt)
    raise OperationError(f"no exact product format for {a_fmt.name} x {b_fmt.name}: pairs must "
                           f"be int/fixed, float/posit or posit/posit")


def _log2_min_positive(fmt):
    return int(np.floor(np.log2(fmt.min_positive)))


def _float_product_format(a_fmt, b_fmt):
    man = a_fmt.significand_bits + b_fmt.significand_bits - 1
    low = _log2_min_positive(a_fmt) + _log2_min_positive(b_fmt)
    high = int(np.floor(np.log2(a_fmt.max_value))) + int(np.floor(np.log2(b_fmt.max_value))) + 1
    bias = 1 - man - low
    specials = a_fmt.has_nan or b_fmt.has_nan or a_fmt.has_inf or b_fmt.has_inf
    for exp_bits in range(2, 12):
        top = (1 << exp_bits) - (2 if specials else 1)
        if top - bias >= high:
            return FloatFormat(exp_bits, man, bias, inf=specials, nan=specials)
    raise OperationError(f"products of {a_fmt.name} and {b_fmt.name} exceed an 11-bit exponent")


def _posit_product_format(a_fmt, b_fmt):
    ca = np.arange(1 << a_fmt.bits, dtype=np.uint64)
    cb = np.arange(1 << b_fmt.bits, dtype=np.uint64)
    products = exact_mul(ca[:, None], cb[None, :], a_fmt, b_fmt)
    want = products.to_float64()
    for n in range(max(a_fmt.bits, b_fmt.bits) + 1, 33):
        for es in range(0, 5):
            cand = PositFormat(n, es)
            got = cand.decode(cand.round_exact(products))
            if np.array_equal(got, want, equal_nan=True):
                return cand
    return _float_product_format(a_fmt, b_fmt)


def mul_exact(a, b, a_fmt, b_fmt):
    """Return ``(codes, fmt)``: every product ``a * b`` exactly, as codes of
    :func:`product_format` (e.g. int4 x int8 -> int12, fp4_e2m1 x fp8_e4m3 -> the 11-bit
    ``fp_e5m5_b6_ieee``)."""
    out = product_format(a_fmt, b_fmt)
    return out.round_exact(exact_mul(a, b, a_fmt, b_fmt), "rtz"), out
