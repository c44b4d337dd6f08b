"""Numerical quality of a design point, from the golden model.

Two measurements, both on codes through :mod:`lowbit.golden` (never float emulation):

* :func:`gemm_quality`: ``Y = X @ W`` with LLM-like activations ``X`` (tokens x K, N(0, 1)
  with 0.1% outlier channels scaled by 50, :func:`lowbit.golden.tensors.synthetic`) and
  N(0, 1/K) weights ``W`` (K x N), both quantized to the point's formats, multiplied by
  ``golden.gemm`` with the point's accumulator; SQNR (dB) and max absolute error against the
  float64 product.
* :func:`mlp_accuracy`: a 64-32-10 ReLU MLP trained in float64 NumPy on scikit-learn's bundled
  8x8 digits (seeded, the same weights every run: :mod:`lowbit.reports.digits_mlp`), evaluated
  on the held-out third with weights and activations quantized and both layers run through
  ``golden.gemm``.

Element formats are lowbit format names (``int8``, ``fp8_e4m3``, ``mxfp4``, ``nvfp4``, ...) or
``lut2``: 2-bit offset weights through the LUT GEMM (``golden.lut_gemm``, groups of
``lut_group``) with int8 activations. With a weight ``group`` (a MixPE array's), the weights
(int1..int4, uint1..uint4 or ``ternary``) are group-quantized along K
(:meth:`lowbit.golden.mpgemm.GroupScheme.quantize`, fp16 scales) and multiplied by golden's
group-wise GEMM (:func:`lowbit.golden.mpgemm.groupwise_gemm`) into a float accumulator. Scalar formats take one absmax (posits: rms) scale per
tensor; block formats carry their own scales (blocked along K).
"""

import numpy as np

from lowbit.errors import LowbitError
from lowbit.explore.axes import LUT_FORMAT
from lowbit.explore.metric import na
from lowbit.golden import accumulators, formats, gemm, lut_gemm, metrics, tensors
from lowbit.golden.quantize import default_scaling, tensor_scale
from lowbit.reports import digits_mlp


class QualityError(LowbitError, ValueError):
    """A format or accumulator name the quality stage cannot evaluate, or a product the
    accumulator cannot hold."""


def accumulator(name: str, a_fmt, b_fmt):
    """The golden accumulator called ``name`` (:func:`lowbit.golden.accumulators.get`) for
    products of these formats (block formats: of their elements). An integer or fixed-point
    register must keep every product bit: its LSB is the product's (``int32`` for int8 x int8,
    ``fixed20_12`` for MXINT8's 2**-6 x 2**-6 elements), as the RTL's IntMac requires."""
    elements = [f.element if f.kind == "block" else f for f in (a_fmt, b_fmt)]
    try:
        acc = accumulators.get(name, elements)
    except LowbitError as err:
        raise QualityError(str(err)) from None
    if acc.kind == "fixed":
        if any(e.kind not in ("int", "fixed") for e in elements):
            raise QualityError(f"accumulator {name} sums integer or fixed-point products, not "
                               f"a_fmt {a_fmt.name} x b_fmt {b_fmt.name}; use exact_fp32 or a "
                               f"float format")
        frac = sum(e.frac_bits for e in elements)
        if acc.frac_bits != frac:
            bits = acc.int_bits + acc.frac_bits
            fix = f"int{bits}" if frac == 0 else f"fixed{bits - frac}_{frac}"
            raise QualityError(f"accumulator {name} has LSB 2**-{acc.frac_bits}, but products "
                               f"of a_fmt {a_fmt.name} x b_fmt {b_fmt.name} have LSB "
                               f"2**-{frac}; a {bits}-bit register keeping every product bit "
                               f"is {fix}")
    return acc


def element_format(name: str):
    """The lowbit format called ``name`` (``lut2`` has none: it is handled by the LUT path)."""
    try:
        return formats.get(name)
    except LowbitError as err:
        raise QualityError(f"element format {name!r}: {err}") from None


def headroom_targets(a_fmt, b_fmt, acc, k: int, scaled=(True, True)) -> tuple:
    """The magnitudes an absmax scale maps each tensor's largest value to: the format's max,
    or lower where ``k`` products of the two largest values could overflow the accumulator
    (``t_a * t_w * k <= acc max``; worst case, so no sum ever overflows). Only the tensors
    ``scaled`` (absmax-scaled) are lowered; another keeps its format's max. Wide formats need
    this: absmax-scaling bf16 or fp32 to their max makes every product infinite."""
    t_a, t_w = a_fmt.max_value, b_fmt.max_value
    budget = acc.out_fmt.max_value / k
    if t_a * t_w <= budget:
        return t_a, t_w
    if scaled[0] and scaled[1]:
        t_a = min(t_a, max(budget ** 0.5, budget / t_w))
        return t_a, min(t_w, budget / t_a)
    if scaled[0]:
        return min(t_a, budget / t_w), t_w
    if scaled[1]:
        return t_a, min(t_w, budget / t_a)
    return t_a, t_w


def quantized_matmul(x, w, a_name, b_name, acc_name, lut_group=4, group=None) -> np.ndarray:
    """``x @ w`` (float64 arrays, (M, K) and (K, N)) with ``x`` quantized to ``a_name``,
    ``w`` to ``b_name`` and the products summed by golden's accumulator ``acc_name``;
    returns the float64 result. Scalar formats scale by absmax (posits: rms) with the
    accumulator's headroom (:func:`headroom_targets`); block formats carry their own scales.
    A result the accumulator cannot hold (an infinity or NaN) raises :class:`QualityError`."""
    if b_name == LUT_FORMAT:
        out = _lut_matmul(x, w, a_name, acc_name, lut_group)
    elif group is not None:
        try:
            out = _group_matmul(x, w, a_name, b_name, acc_name, group)
        except LowbitError as err:
            raise QualityError(f"a_fmt {a_name} x b_fmt {b_name} in groups of {group} into "
                               f"accumulator {acc_name}: {err}") from None
    else:
        try:
            out = _format_matmul(x, w, a_name, b_name, acc_name)
        except QualityError:
            raise
        except LowbitError as err:  # from golden: say which point fields it is about
            raise QualityError(f"a_fmt {a_name} x b_fmt {b_name} into accumulator {acc_name}: "
                               f"{err}") from None
    bad = int(np.count_nonzero(~np.isfinite(out)))
    if bad:
        raise QualityError(f"accumulator {acc_name} overflows: {bad} of {out.size} outputs of "
                           f"a_fmt {a_name} x b_fmt {b_name} (K = {x.shape[1]}) are not finite")
    return out


def _format_matmul(x, w, a_name, b_name, acc_name) -> np.ndarray:
    a_fmt, b_fmt = element_format(a_name), element_format(b_name)
    if (a_fmt.kind == "block") != (b_fmt.kind == "block"):
        raise QualityError(f"a_fmt and b_fmt must both be block formats or both scalar, not "
                           f"{a_name} and {b_name}")
    acc = accumulator(acc_name, a_fmt, b_fmt)
    if a_fmt.kind == "block":
        codes = gemm.gemm(a_fmt.encode(x, axis=1), b_fmt.encode(w, axis=0), a_fmt, b_fmt, acc)
        return acc.out_fmt.decode(codes).astype(np.float64)
    scaling = (default_scaling(a_fmt), default_scaling(b_fmt))
    absmax = tuple(s == "absmax" for s in scaling)
    targets = headroom_targets(a_fmt, b_fmt, acc, x.shape[1], absmax)
    sa, sw = (_absmax(v) / t if by_absmax else tensor_scale(v, f, how)
              for v, t, by_absmax, f, how in zip((x, w), targets, absmax, (a_fmt, b_fmt),
                                                 scaling))
    ca = a_fmt.encode(x / sa, overflow="saturate", on_nan="zero")
    cw = b_fmt.encode(w / sw, overflow="saturate", on_nan="zero")
    codes = gemm.gemm(ca, cw, a_fmt, b_fmt, acc)
    return acc.out_fmt.decode(codes).astype(np.float64) * (sa * sw)


def _group_matmul(x, w, a_name, b_name, acc_name, group) -> np.ndarray:
    """Activations absmax-scaled (posits: rms) into ``a_name``, weights group-quantized;
    golden's group-wise GEMM, rescaled by the activation scale."""
    from lowbit.golden.mpgemm import GroupScheme, groupwise_gemm

    a_fmt = element_format(a_name)
    acc = accumulators.get(acc_name)
    sa = tensor_scale(x, a_fmt, default_scaling(a_fmt))
    ca = a_fmt.encode(x / sa, overflow="saturate", on_nan="zero")
    weights = GroupScheme(b_name, group).quantize(w)
    codes = groupwise_gemm(ca, weights, a_fmt, acc)
    return acc.out_fmt.decode(codes).astype(np.float64) * sa


def _absmax(v) -> float:
    m = float(np.max(np.abs(v))) if v.size else 0.0
    return m if m > 0 else 1.0


def _lut_matmul(x, w, a_name, acc_name, group):
    """2-bit offset weights (codes 0..3 for -2..1 steps of ``sw``), int8 activations; the LUT
    core's ``int<bits>`` accumulator must hold K products of -128 x -2 (golden's LUT GEMM is
    exact, the core wraps)."""
    if a_name != "int8":
        raise QualityError(f"a_fmt for {LUT_FORMAT} weights must be int8, not {a_name!r}")
    try:
        acc = accumulators.get(acc_name)
    except LowbitError:
        acc = None
    if acc is None or acc.kind != "fixed" or acc.frac_bits or \
            x.shape[1] * 256 > (1 << (acc.int_bits - 1)) - 1:
        raise QualityError(f"accumulator for {LUT_FORMAT} weights must be int<bits> holding "
                           f"{x.shape[1]} products of int8 x int2 (up to {x.shape[1] * 256}), "
                           f"not {acc_name!r}")
    int8 = formats.get("int8")
    sa = tensor_scale(x, int8, "absmax")
    ca = np.clip(np.rint(x / sa), -128, 127).astype(np.int64)
    sw = max(float(np.max(np.abs(w))) / 2.0, 1e-300)
    cw = (np.clip(np.rint(w / sw), -2, 1) + 2).astype(np.uint8)
    out, _ = lut_gemm.lut_gemm(ca, cw, lut_gemm.LutGemmConfig(2, group))
    return out.astype(np.float64) * (sa * sw)


def gemm_quality(a_fmt, b_fmt, accumulator="fp32", k=512, tokens=32, n=32, seed=0,
                 lut_group=4, group=None) -> dict:
    """``sqnr_db`` and ``max_abs_error`` of a quantized (tokens x k) @ (k x n) GEMM on
    outlier-channel activations (module docstring; ``group``: group-quantized weights).
    ``sqnr_db`` is n/a when the result is exact (no noise: the ratio is infinite)."""
    x = tensors.synthetic("outlier_channels", (tokens, k), seed).astype(np.float64)
    w = np.random.default_rng([seed, 7]).standard_normal((k, n)) / np.sqrt(k)
    ref = x @ w
    got = quantized_matmul(x, w, a_fmt, b_fmt, accumulator, lut_group, group)
    sqnr = metrics.sqnr_db(ref, got)
    return {"sqnr_db": round(sqnr, 4) if np.isfinite(sqnr) else
            na("the quantized GEMM equals the float64 product exactly: no noise to measure"),
            "max_abs_error": float(metrics.max_abs_error(ref, got))}


def mlp_accuracy(a_fmt, b_fmt, accumulator="fp32", lut_group=4, group=None) -> dict:
    """Test accuracy of the digits MLP with both layers quantized (``mlp_accuracy``), and the
    float64 model's (``mlp_accuracy_fp64``) for reference."""
    x, y, w1, w2 = digits_mlp.trained()
    reference = float(np.mean(np.argmax(np.maximum(x @ w1, 0) @ w2, 1) == y))
    h = np.maximum(quantized_matmul(x, w1, a_fmt, b_fmt, accumulator, lut_group, group), 0)
    logits = quantized_matmul(h, w2, a_fmt, b_fmt, accumulator, lut_group, group)
    return {"mlp_accuracy": round(float(np.mean(np.argmax(logits, 1) == y)), 4),
            "mlp_accuracy_fp64": round(reference, 4)}
