"""Group-wise mixed-precision GEMM (MixPE): low-bit weights, one dequantization per group.

``C = A @ W`` with ``A`` an ``M x K`` matrix of activation codes (an integer format such as int8,
or a float format such as fp16 or fp8_e4m3) and ``W`` a ``K x N`` group-quantized weight matrix
(:class:`GroupWeights`): weight codes ``q`` of a low-bit format (:data:`WEIGHT_KINDS`), and per
group ``g`` of ``group`` consecutive rows of K (the last group may be shorter) and per column
``n`` one scale code ``s[g, n]`` (default fp16) and, for unsigned weights, one integer zero point
``z[g, n]``; the weight value is ``(q - z) * s``.

Order and rounding of :func:`groupwise_gemm` (what MixPE hardware computes), exactly:

1. **Group sum**, exact: ``X[m, g, n] = sum_{k in g} (q[k, n] - z[g, n]) * a[m, k]``. Every
   activation is an integer multiple of its format's smallest LSB ``2**e_a`` (``2**-24`` for
   fp16, ``1`` for int8), so ``X`` is an integer times ``2**e_a``: no rounding. A NaN or
   infinite activation anywhere in the group makes ``X`` NaN (exact fixed point has no
   infinity), whatever its weight.
2. **Dequantization**, once per group, exact: ``T[m, g, n] = s[g, n] * X[m, g, n]`` (IEEE
   special rules for the scale: a NaN scale gives NaN, an infinite one NaN times a zero ``X``
   and +-Inf otherwise; a zero ``X`` is +0, so ``T`` has the scale's sign).
3. **Accumulation** of the group terms in K order with the accumulator ``acc``:
   ``acc.reduce(T[m, :, n])``. For ``FloatAccumulator(fp32)`` that is ``c = round_fp32(c +
   T[g])`` for ``g = 0, 1, ...`` from +0: **one rounding per group**, nothing else rounds. An
   ``ExactAccumulator`` rounds the exact sum of the terms once.

:func:`dequantize_gemm` is the usual path next to it (today's FloatMac fed dequantized weights):
every weight dequantized on its own, ``round_fmt((q - z) * s)`` (one rounding per weight, into
``weight_fmt``, default fp16), then :func:`lowbit.golden.gemm.gemm` with the same accumulator
(``FloatAccumulator(fp32)``: one rounding per product, ``K`` roundings per output).

Exactness bound: ``|X| <= group * max|q - z| * max|a| / 2**e_a`` must stay below ``2**62``
(fp16 activations, uint4 weights with zero points: groups up to 2**17); :func:`group_sums`
refuses larger groups. Terms are carried as two parts (``hi + lo``, each at most 43 bits times
the scale's significand), so a wide ``X`` times a scale is still exact.
"""

from dataclasses import dataclass, field

import numpy as np

from lowbit.errors import OperationError, check_int
from lowbit.golden import gemm
from lowbit.golden.exact import Exact, stack
from lowbit.golden.formats import FloatFormat, IntFormat, ScalarFormat, get

WEIGHT_KINDS = ("int4", "uint4", "int3", "uint3", "int2", "uint2", "ternary", "int1", "uint1")
"""Weight formats a group-wise weight matrix may use: integers of 1 to 4 bits, and ``ternary``
(int2 codes restricted to -1, 0, +1: code 0 is 0, 1 is +1, 3 is -1)."""

MAX_GROUP = 1 << 16
"""Largest group size."""

TERNARY_CODES = (0, 1, 3)
"""The int2 codes a ternary weight may take (0, +1, -1)."""

_SUM_LIMIT = 1 << 62
_PART_BITS = 32  # X is split into hi and lo parts of at most 32 + 11 significand bits each


@dataclass(frozen=True)
class GroupScheme:
    """How a weight matrix is group-quantized along K.

    Parameters
    ----------
    weight : str
        One of :data:`WEIGHT_KINDS`.
    group : int
        Rows of K sharing a scale (and zero point), 1 to 65,536.
    scale : FloatFormat or str
        Format of the scale codes; default fp16 (GPTQ / AWQ checkpoints).
    zero_point : bool, optional
        Whether each group has an integer zero point; default True for unsigned weights, False
        for signed and ternary ones.
    """

    weight: str
    group: int
    scale: object = "fp16"
    zero_point: bool | None = None
    kind = "groupwise"
    name: str = field(default="", compare=False)

    def __post_init__(self):
        if self.weight not in WEIGHT_KINDS:
            raise OperationError(f"weight must be one of {', '.join(WEIGHT_KINDS)}, not "
                                 f"{self.weight!r}")
        check_int("group", self.group, 1, MAX_GROUP, OperationError)
        scale = get(self.scale) if isinstance(self.scale, str) else self.scale
        if not isinstance(scale, FloatFormat):
            raise OperationError(f"scale must be a float format such as fp16, not "
                                 f"{getattr(scale, 'name', scale)!r}")
        object.__setattr__(self, "scale", scale)
        if self.zero_point is None:
            object.__setattr__(self, "zero_point", self.weight.startswith("uint"))
        if not isinstance(self.zero_point, bool):
            raise OperationError(f"zero_point must be True or False, not {self.zero_point!r}")
        if self.zero_point and self.weight == "ternary":
            raise OperationError("ternary weights take no zero point (their values are -1, 0, "
                                 "+1)")
        if not self.name:
            zp = "_zp" if self.zero_point != self.weight.startswith("uint") else ""
            scale_part = "" if scale.name == "fp16" else f"_{scale.name}"
            object.__setattr__(self, "name", f"{self.weight}_g{self.group}{scale_part}{zp}")

    @property
    def fmt(self) -> IntFormat:
        """The integer format of the codes (int2 for ternary)."""
        return get("int2") if self.weight == "ternary" else get(self.weight)

    @property
    def ternary(self) -> bool:
        """Whether codes are restricted to -1, 0, +1."""
        return self.weight == "ternary"

    @property
    def bits(self) -> int:
        """Bits of a weight code."""
        return self.fmt.bits

    def groups(self, K: int) -> int:
        """Groups along ``K``: ``ceil(K / group)``."""
        return -(-K // self.group)

    def values(self, codes) -> np.ndarray:
        """The integer each weight code stands for (int64); raises on a ternary code 2."""
        codes = np.asarray(codes)
        if self.ternary and np.isin(codes, TERNARY_CODES, invert=True).any():
            bad = int(codes[np.isin(codes, TERNARY_CODES, invert=True)].ravel()[0])
            raise OperationError(f"ternary weight codes are 0 (0), 1 (+1) and 3 (-1), not "
                                 f"{bad}")
        return self.fmt.to_int(codes)

    def quantize(self, w, rounding="rne") -> "GroupWeights":
        """Group-quantize float weights ``w`` (``K x N``) along K with
        :func:`lowbit.golden.quantize.quantize_int`: symmetric for signed and ternary weights,
        asymmetric with zero points otherwise; scales are then encoded into :attr:`scale`
        (round to nearest even), and those codes are the weights' scales."""
        from lowbit.golden.quantize import quantize_int

        scheme = "asymmetric" if self.zero_point else "symmetric"
        qt = quantize_int(w, self.fmt, scheme=scheme, granularity="group", axis=0,
                          group_size=self.group, rounding=rounding)
        scales = self.scale.encode(qt.scale, rounding="rne")
        zeros = qt.zero_point.astype(np.int64) if self.zero_point else None
        return GroupWeights(self, np.asarray(qt.codes), scales, zeros)


@dataclass(frozen=True, eq=False)
class GroupWeights:
    """A group-quantized ``K x N`` weight matrix.

    Attributes
    ----------
    scheme : GroupScheme
    codes : ndarray
        ``(K, N)`` weight codes of ``scheme.fmt``.
    scales : ndarray
        ``(ceil(K / group), N)`` scale codes of ``scheme.scale``.
    zeros : ndarray or None
        ``(ceil(K / group), N)`` integer zero points (int64, in the weight format's range), or
        None without zero points.
    """

    scheme: GroupScheme
    codes: np.ndarray
    scales: np.ndarray
    zeros: np.ndarray | None = None

    def __post_init__(self):
        codes = np.asarray(self.codes)
        if codes.ndim != 2:
            raise OperationError(f"weight codes must be K x N, not of shape {codes.shape}")
        K, N = codes.shape
        want = (self.scheme.groups(K), N)
        if np.shape(self.scales) != want:
            raise OperationError(f"scales must have shape {want} (groups x N), not "
                                 f"{np.shape(self.scales)}")
        if self.scheme.zero_point != (self.zeros is not None):
            raise OperationError(f"scheme {self.scheme.name} "
                                 f"{'needs' if self.scheme.zero_point else 'takes no'} zero "
                                 f"points")
        if self.zeros is not None:
            zeros = np.asarray(self.zeros)
            fmt = self.scheme.fmt
            if zeros.shape != want or zeros.min() < fmt.min_int or zeros.max() > fmt.max_int:
                raise OperationError(f"zero points must be integers of {fmt.name} "
                                     f"({fmt.min_int}..{fmt.max_int}) of shape {want}")
        self.scheme.values(codes)  # ternary codes checked

    @property
    def shape(self) -> tuple:
        """``(K, N)``."""
        return np.shape(self.codes)

    def rows(self, k_end: int) -> "GroupWeights":
        """The first ``k_end`` rows of K (with the scales of the groups they touch)."""
        g = self.scheme.groups(k_end)
        return GroupWeights(self.scheme, np.asarray(self.codes)[:k_end],
                            np.asarray(self.scales)[:g],
                            None if self.zeros is None else np.asarray(self.zeros)[:g])

    def effective(self) -> np.ndarray:
        """``q - z`` per weight (int64, ``K x N``): the integer each activation is multiplied
        by inside its group."""
        q = self.scheme.values(self.codes)
        if self.zeros is None:
            return q
        idx = np.arange(q.shape[0]) // self.scheme.group
        return q - np.asarray(self.zeros)[idx]


def activation_grid(act_fmt) -> int:
    """``e_a``: every finite value of ``act_fmt`` is an integer times ``2**e_a`` (the smallest
    LSB exponent of any code; 0 for integers)."""
    _check_activation(act_fmt)
    if act_fmt.kind in ("int", "fixed"):
        return -getattr(act_fmt, "frac_bits", 0)
    x = act_fmt.to_exact(np.arange(1 << act_fmt.bits, dtype=np.uint64))
    live = (x.sig != 0) & ~x.nan & ~x.inf
    return int(x.exp[live].min())


def activation_integers(A, act_fmt) -> tuple:
    """``(ints, finite)``: each activation as an integer in units of ``2**e_a`` (int64, 0 where
    not finite) and whether it is finite."""
    x = act_fmt.to_exact(np.asarray(A).astype(np.uint64))
    finite = ~x.nan & ~x.inf
    shift = x.exp - activation_grid(act_fmt)
    mag = np.where(finite, x.sig, 0).astype(np.int64) << np.where(finite, shift, 0)
    return np.where(x.negative, -mag, mag), finite


def _check_activation(act_fmt):
    if not isinstance(act_fmt, ScalarFormat) or act_fmt.kind not in ("int", "fixed", "float") \
            or act_fmt.bits > 16:
        raise OperationError(f"act_fmt must be an integer, fixed-point or float format of at "
                             f"most 16 bits, not {getattr(act_fmt, 'name', act_fmt)!r}")


def group_sums(A, W: GroupWeights, act_fmt) -> tuple:
    """``(X, nan)``: the exact group sums ``X[m, g, n]`` (int64, units of ``2**e_a``) and where
    a group holds a non-finite activation (step 1 of the module docstring)."""
    A = np.asarray(A)
    K, N = W.shape
    if A.ndim != 2 or A.shape[1] != K:
        raise OperationError(f"A must be M x K with K = {K} (the weights' rows), not of shape "
                             f"{A.shape}")
    G, size = W.scheme.groups(K), W.scheme.group
    ints, finite = activation_integers(A, act_fmt)
    w = W.effective()
    bound = size * int(np.abs(w).max(initial=0)) * int(np.abs(ints).max(initial=0))
    if bound >= _SUM_LIMIT:
        raise OperationError(f"group sums of {act_fmt.name} activations and {W.scheme.weight} "
                             f"weights in groups of {size} reach 2**{bound.bit_length() - 1} "
                             f"units; at most 2**62 are exact")
    pad = G * size - K
    M = A.shape[0]
    a = np.concatenate([ints, np.zeros((M, pad), np.int64)], axis=1).reshape(M, G, size)
    wp = np.concatenate([w, np.zeros((pad, N), np.int64)]).reshape(G, size, N)
    X = np.einsum("mgk,gkn->mgn", a, wp)
    bad = ~np.concatenate([finite, np.ones((M, pad), bool)], axis=1).reshape(M, G, size)
    nan = np.broadcast_to(bad.any(axis=2)[:, :, None], X.shape)
    return X, nan


def group_terms(A, W: GroupWeights, act_fmt) -> Exact:
    """The dequantized group terms ``T[m, n, g] = s[g, n] * X[m, g, n]`` (step 2), exact, as
    two parts on a last axis (``hi + lo``, for ``acc.reduce(..., split=True)``)."""
    X, nan = group_sums(A, W, act_fmt)
    e_a = activation_grid(act_fmt)
    s = W.scheme.scale.to_exact(np.asarray(W.scales).astype(np.uint64))  # (G, N)
    mag = np.abs(X).astype(np.uint64)
    negative = (X < 0) ^ s.negative[None]
    t_nan = nan | s.nan[None] | (s.inf[None] & (mag == 0))
    t_inf = s.inf[None] & (mag != 0) & ~t_nan
    special = t_nan | t_inf
    s_sig = np.broadcast_to(s.sig[None], X.shape)
    s_exp = np.broadcast_to(s.exp[None], X.shape)
    parts = []
    for piece, shift in ((mag >> np.uint64(_PART_BITS), _PART_BITS),
                         (mag & np.uint64((1 << _PART_BITS) - 1), 0)):
        sig = np.where(special, np.uint64(0), piece * s_sig)
        parts.append(Exact(negative, sig, s_exp + e_a + shift,
                           t_nan if shift else np.zeros(X.shape, bool),
                           t_inf if shift else np.zeros(X.shape, bool)))
    terms = stack(parts)  # (M, G, N, 2)
    return Exact(*(np.moveaxis(getattr(terms, f), 1, 2)
                   for f in ("negative", "sig", "exp", "nan", "inf")))


def groupwise_gemm(A, W: GroupWeights, act_fmt, acc) -> np.ndarray:
    """``C = A @ W`` as MixPE computes it (module docstring): codes ``(M, N)`` of
    ``acc.out_fmt``."""
    _check_accumulator(acc)
    return acc.reduce(group_terms(A, W, act_fmt), split=True)


def dequantized_weights(W: GroupWeights, weight_fmt="fp16", rounding="rne") -> np.ndarray:
    """``round_fmt((q - z) * s)`` per weight: codes ``(K, N)`` of ``weight_fmt``."""
    fmt = get(weight_fmt) if isinstance(weight_fmt, str) else weight_fmt
    K = W.shape[0]
    idx = np.arange(K) // W.scheme.group
    s = W.scheme.scale.to_exact(np.asarray(W.scales)[idx].astype(np.uint64))
    w = Exact.from_int(W.effective())
    from lowbit.golden.arith import mul_exact_values

    return fmt.round_exact(mul_exact_values(w, s), rounding)


def dequantize_gemm(A, W: GroupWeights, act_fmt, acc, weight_fmt="fp16") -> np.ndarray:
    """The dequantize-then-multiply path: :func:`dequantized_weights` into ``weight_fmt``, then
    ``gemm.gemm(A, W_deq, act_fmt, weight_fmt, acc)`` (one rounding per product for a
    FloatAccumulator)."""
    fmt = get(weight_fmt) if isinstance(weight_fmt, str) else weight_fmt
    return gemm.gemm(A, dequantized_weights(W, fmt), act_fmt, fmt, acc)


def _check_accumulator(acc):
    if getattr(acc, "kind", None) not in ("float", "exact"):
        raise OperationError(f"acc must be a FloatAccumulator or an ExactAccumulator, not "
                             f"{acc!r}")
