"""Dot products and GEMM on codes, with the accumulator modelled exactly.

``dot(a, b, a_fmt, b_fmt, acc)`` reduces the last axis; ``gemm(A, B, a_fmt, b_fmt, acc)``
computes ``C[m, n] = sum_k A[m, k] B[k, n]``; ``prefix_dot(a, b, ...)`` gives the result after
every product of one run (a MAC register's codes). Products are exact (:func:`arith.exact_mul`);
the accumulator model (:mod:`lowbit.golden.accumulators`) sums them in K order.

Block formats (A blocked along K, i.e. its last axis; B blocked along K, i.e. its axis 0):
each block's element products are exact and summed exactly into the block partial sum; the
partial sum times ``X_A * X_B`` (exact: the block scales' product) is one term of the
accumulator, so the accumulator sees one term per block. NVFP4's FP32 tensor scales are
applied once at the output: ``alpha = fp32(s_dec_A * s_dec_B)``, then
``round_out(value(acc result) * alpha)``.

Results are codes of ``out_fmt`` if given (rounded RNE from the accumulator's result), else of
the accumulator's own format.

Fast paths, bit-identical to the general model (tested): FP32 round-to-nearest sequential
accumulation of products that are exact in float32 runs as float32 NumPy adds in K order; exact
accumulation of integer-valued products whose sums stay below 2**53 runs as a float64 matmul.
"""

from concurrent.futures import ThreadPoolExecutor

import numpy as np

from lowbit.errors import OperationError
from lowbit.golden import arith
from lowbit.golden.accumulators import ExactAccumulator, FloatAccumulator
from lowbit.golden.binary import highest_bit
from lowbit.golden.exact import Exact, PrefixSum, exact_sum_split
from lowbit.golden.formats import BlockArray, get
from lowbit.golden.formats.codes import check_codes

_CHUNK_PRODUCTS = 1 << 22  # products materialized at once by the general path


def _check(a_fmt, b_fmt, acc):
    for fmt, what in ((a_fmt, "a_fmt"), (b_fmt, "b_fmt")):
        if not hasattr(fmt, "kind"):
            raise OperationError(f"{what} must be a lowbit format, not {fmt!r}")
    if (a_fmt.kind == "block") != (b_fmt.kind == "block"):
        raise OperationError(f"a_fmt and b_fmt must both be block formats or both scalar, not "
                             f"{a_fmt.name} and {b_fmt.name}")
    if a_fmt.kind == "block":
        if a_fmt.block_size != b_fmt.block_size:
            raise OperationError(f"block size mismatch: {a_fmt.name} has {a_fmt.block_size}, "
                                 f"{b_fmt.name} has {b_fmt.block_size}")
        acc.check_operands(a_fmt.element, b_fmt.element)
    else:
        acc.check_operands(a_fmt, b_fmt)


def _finish(codes, acc, out_fmt):
    if out_fmt is None or out_fmt == acc.out_fmt:
        return codes
    return out_fmt.round_exact(acc.out_fmt.to_exact(codes))


# --- dot ------------------------------------------------------------------------------------
def dot(a, b, a_fmt, b_fmt, acc, out_fmt=None):
    """Dot products along the last axis of ``a`` and ``b`` (codes, or BlockArrays blocked along
    their last axis); returns codes of ``out_fmt`` or the accumulator's format."""
    _check(a_fmt, b_fmt, acc)
    if a_fmt.kind == "block":
        terms, tensor_scale = _block_terms(a, b, a_fmt, b_fmt, lambda x, y: (x, y))
        return _apply_tensor_scale(acc.reduce(terms, split=True), acc, out_fmt, tensor_scale)
    check_codes(a, a_fmt, "a")
    check_codes(b, b_fmt, "b")
    a, b = np.asarray(a), np.asarray(b)
    if a.shape[-1] != b.shape[-1]:
        raise OperationError(f"dot needs equal lengths, got {a.shape[-1]} and {b.shape[-1]}")
    return _finish(acc.reduce(arith.exact_mul(a, b, a_fmt, b_fmt)), acc, out_fmt)


def prefix_dot(a, b, a_fmt, b_fmt, acc, chunk=1 << 16):
    """What a MAC register holds after each product of one run: element ``i`` of the result is
    ``dot(a[:i + 1], b[:i + 1])`` (1-D codes of scalar formats, returns accumulator codes).

    Accumulators that round the exact sum once (Kulisch, quire) stream the run through
    :class:`~lowbit.golden.exact.PrefixSum`: O(L) time, O(``chunk``) memory, so runs of
    millions of products are cheap. The others evaluate every prefix as a :func:`dot` padded
    with neutral products, ``_CHUNK_PRODUCTS // len`` prefixes per call: O(L**2) time.
    """
    _check(a_fmt, b_fmt, acc)
    a, b = np.asarray(a), np.asarray(b)
    if a.ndim != 1 or a.shape != b.shape or a_fmt.kind == "block":
        raise OperationError(f"prefix_dot takes one run: equal-length 1-D codes of scalar "
                             f"formats, got shapes {a.shape} and {b.shape}")
    out = np.empty(a.size, dtype=acc.out_fmt.code_dtype)
    if acc.rounds_exact_sum:
        def products(s):  # exact products of operations s .. s + chunk
            return arith.exact_mul(a[s:s + chunk], b[s:s + chunk], a_fmt, b_fmt)

        # The weights the run's products span, from its distinct operand codes: a product's
        # LSB weighs exp_a + exp_b, its leading one at most one above the operands' summed.
        spans = [_weight_span(a, a_fmt), _weight_span(b, b_fmt)]
        base, top = 0, 0
        if None not in spans:
            base, top = spans[0][0] + spans[1][0], spans[0][1] + spans[1][1] + 1
        sums = PrefixSum(base, top + a.size.bit_length() + 2)
        for s in range(0, a.size, chunk):
            out[s:s + chunk] = acc.finish(acc.round_sum(sums.extend(products(s))))
        return out
    pad_a, pad_b = _neutral_codes(a_fmt, b_fmt, acc)
    idx = np.arange(a.size)
    rows_per_call = max(1, _CHUNK_PRODUCTS // max(1, a.size))
    for r in range(0, a.size, rows_per_call):  # rows in blocks: memory O(rows * length)
        rows = idx[r:r + rows_per_call]
        cols = idx[:rows[-1] + 1]
        mask = cols[None, :] <= rows[:, None]  # prefix i covers elements 0..i
        av = np.where(mask, a[None, :cols.size], pad_a)
        bv = np.where(mask, b[None, :cols.size], pad_b)
        out[rows] = dot(av, bv, a_fmt, b_fmt, acc)
    return out


def _weight_span(codes, fmt):
    """``(lowest LSB exponent, highest leading-one exponent)`` of the nonzero finite values
    among ``codes``, or None when there are none."""
    x = fmt.to_exact(np.unique(codes))
    live = (x.sig != 0) & ~x.nan & ~x.inf
    if not live.any():
        return None
    return int(x.exp[live].min()), int((x.exp + highest_bit(x.sig))[live].max())


def _neutral_codes(a_fmt, b_fmt, acc) -> tuple:
    """Codes ``(a, b)`` whose product leaves every accumulator's result unchanged.

    Prefix sums are dots padded with them. Integer, fixed point and posit: 0. Floats: a
    product of -0 (``a = -0``, ``b = +0``): an exact sum ignores it (its sign rule, -0 only when
    every term is -0, too) and a rounded sum has ``x + (-0) == x`` for every ``x``, +0
    included, except under ``rdn``, where +0 is the neutral product.
    """
    sequential_rdn = acc.kind == "float" and acc.rounding == "rdn"
    if a_fmt.kind == "float" and a_fmt.signed and not sequential_rdn:
        return 1 << (a_fmt.bits - 1), 0
    return 0, 0


# --- gemm -----------------------------------------------------------------------------------
def gemm(A, B, a_fmt, b_fmt, acc, out_fmt=None):
    """``C = A @ B`` on codes: A is (M, K), B is (K, N) codes or BlockArrays (A blocked along
    axis 1, B along axis 0); returns (M, N) codes."""
    _check(a_fmt, b_fmt, acc)
    if a_fmt.kind == "block":
        terms, tensor_scale = _block_terms(A, B, a_fmt, b_fmt, _outer_pairs)
        return _apply_tensor_scale(acc.reduce(terms, split=True), acc, out_fmt, tensor_scale)
    check_codes(A, a_fmt, "A")
    check_codes(B, b_fmt, "B")
    A, B = np.asarray(A), np.asarray(B)
    if A.ndim != 2 or B.ndim != 2 or A.shape[1] != B.shape[0]:
        raise OperationError(f"gemm needs A (M, K) and B (K, N), got {A.shape} and {B.shape}")
    for fast in (_gemm_float32_sequential, _gemm_exact_float64):
        out = fast(A, B, a_fmt, b_fmt, acc)
        if out is not None:
            return _finish(out, acc, out_fmt)
    M, K = A.shape
    N = B.shape[1]
    rows = max(1, _CHUNK_PRODUCTS // max(1, N * K))
    out = np.empty((M, N), dtype=acc.out_fmt.code_dtype)
    for r in range(0, M, rows):
        products = arith.exact_mul(A[r:r + rows, None, :], B.T[None, :, :], a_fmt, b_fmt)
        out[r:r + rows] = acc.reduce(products)
    return _finish(out, acc, out_fmt)


def _outer_pairs(a_el, b_el):
    """(M, K) and (N, K) element arrays -> broadcastable (M, 1, K) and (1, N, K)."""
    return a_el[:, None, :], b_el[None, :, :]


def _block_terms(a, b, a_fmt, b_fmt, pair):
    """Exact accumulator terms, one per block: exact block sum times the two block scales.

    Each term comes as two parts on a last axis of size 2 (see
    :func:`~lowbit.golden.exact.exact_sum_split`): accumulators reduce them with
    ``split=True``."""
    for data, fmt, what in ((a, a_fmt, "a"), (b, b_fmt, "b")):
        if not isinstance(data, BlockArray) or data.fmt != fmt:
            raise OperationError(f"{what} must be a BlockArray encoded with {fmt.name}")
    k = a_fmt.block_size
    a_el, b_el = pair(a.elements, b.elements)
    a_sc, b_sc = pair(a.scales, b.scales)
    if a_el.shape[-1] != b_el.shape[-1]:
        raise OperationError(f"K mismatch: {a_el.shape[-1]} and {b_el.shape[-1]} padded elements")
    products = arith.exact_mul(a_el, b_el, a_fmt.element, b_fmt.element)
    blocks = products.shape[-1] // k
    products = Exact(*(getattr(products, f).reshape(products.shape[:-1] + (blocks, k))
                       for f in ("negative", "sig", "exp", "nan", "inf")))
    # Exact block partial sums as (hi, lo) parts: E5M2 block sums need up to 69 bits.
    partial = exact_sum_split(products).compact()
    a_sc_b, b_sc_b = np.broadcast_arrays(a_sc, b_sc)
    scales = arith.mul_exact_values(a_fmt.scale.to_exact(a_sc_b), b_fmt.scale.to_exact(b_sc_b))
    terms = arith.mul_exact_values(partial, scales[..., None])
    tensor = None
    if a.tensor_scale is not None or b.tensor_scale is not None:
        tensor = (a.tensor_scale or 1.0, b.tensor_scale or 1.0)
    return terms, tensor


def _apply_tensor_scale(codes, acc, out_fmt, tensor_scale):
    """NVFP4 epilogue: ``alpha = fp32(s_dec_A * s_dec_B)`` (one rounding, as a GEMM epilogue
    scalar), then ``round_out(value(acc result) * alpha)``."""
    if tensor_scale is None:
        return _finish(codes, acc, out_fmt)
    fp32 = get("fp32")
    alpha = arith.mul_exact_values(*(fp32.to_exact(fp32.encode(np.float64(s)))
                                     for s in tensor_scale))
    alpha = fp32.to_exact(fp32.round_exact(alpha))
    scaled = arith.mul_exact_values(acc.out_fmt.to_exact(codes), alpha)
    return (out_fmt or acc.out_fmt).round_exact(scaled)


# --- fast paths -----------------------------------------------------------------------------
def _float32_exact_products(a_fmt, b_fmt) -> bool:
    if a_fmt.significand_bits + b_fmt.significand_bits > 24:
        return False
    low = np.log2(a_fmt.min_positive) + np.log2(b_fmt.min_positive)
    high = np.log2(a_fmt.max_value) + np.log2(b_fmt.max_value)
    return low >= -149 and high < 127


def _gemm_float32_sequential(A, B, a_fmt, b_fmt, acc):
    if not (isinstance(acc, FloatAccumulator) and acc.fmt == get("fp32")
            and acc.rounding == "rne" and acc.order == "sequential"
            and acc.overflow in (None, "inf") and _float32_exact_products(a_fmt, b_fmt)):
        return None
    # Every value and product of these formats is a float32 value.
    c = _float32_loop(a_fmt.decode(A).astype(np.float32), b_fmt.decode(B).astype(np.float32))
    codes = c.view(np.uint32).copy()
    codes[np.isnan(c)] = acc.fmt.nan_code
    return codes


def _float32_loop(a, b):
    """Sequential float32 accumulation, one K step at a time, in row tiles on two threads."""
    M, K = a.shape
    c = np.zeros((M, b.shape[1]), np.float32)

    def rows(r0):
        at = np.ascontiguousarray(a[r0:r0 + _ROW_TILE].T)
        acc = c[r0:r0 + _ROW_TILE]
        prod = np.empty_like(acc)
        with np.errstate(all="ignore"):
            for k in range(K):  # K order; each add is one IEEE RNE float32 rounding
                np.multiply(at[k][:, None], b[k][None, :], out=prod)
                np.add(acc, prod, out=acc)

    with ThreadPoolExecutor(2) as pool:  # NumPy releases the GIL in ufunc loops
        list(pool.map(rows, range(0, M, _ROW_TILE)))
    return c


_ROW_TILE = 64


def _integer_grid(fmt):
    """``(q, bound)``: every finite value is an integer times ``2**q`` of magnitude <= bound."""
    q = int(np.floor(np.log2(fmt.min_positive)))
    return q, fmt.max_value / 2.0**q


def _gemm_exact_float64(A, B, a_fmt, b_fmt, acc):
    if not isinstance(acc, ExactAccumulator):
        return None
    qa, bound_a = _integer_grid(a_fmt)
    qb, bound_b = _integer_grid(b_fmt)
    K = A.shape[1]
    if K * bound_a * bound_b >= 2.0**53:
        return None
    va, vb = a_fmt.decode(A), b_fmt.decode(B)
    if not (np.isfinite(va).all() and np.isfinite(vb).all()):
        return None
    ia, ib = np.ldexp(va, -qa), np.ldexp(vb, -qb)  # exact integers
    total = ia @ ib  # every partial sum is an integer below 2**53: exact in any order
    ex = Exact.from_float64(total)
    ex = Exact(ex.negative, ex.sig, ex.exp + qa + qb, ex.nan, ex.inf)
    zero = total == 0  # an exact zero sum: +0, as the general model gives (-0 only if all -0)
    all_neg_zero = _all_negative_zero_products(va, vb)
    ex = Exact(np.where(zero, all_neg_zero, ex.negative), ex.sig, ex.exp, ex.nan, ex.inf)
    return acc.out_fmt.round_exact(ex, acc.rounding)


def _all_negative_zero_products(va, vb):
    """True where every product A[m, k] * B[k, n] is -0 (only then is the exact sum -0)."""
    za, zb = (va == 0).astype(np.float64), (vb == 0).astype(np.float64)
    sa, sb = np.signbit(va).astype(np.float64), np.signbit(vb).astype(np.float64)
    # -0 products = sign-differing products minus the nonzero sign-differing ones (counts).
    differing = sa @ (1 - sb) + (1 - sa) @ sb
    nonzero_differing = ((1 - za) * sa) @ ((1 - zb) * (1 - sb)) + \
        ((1 - za) * (1 - sa)) @ ((1 - zb) * sb)
    return (differing - nonzero_differing == va.shape[1]) & (va.shape[1] > 0)
