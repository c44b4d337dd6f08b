"""Operand streams for switching-activity energy: the data a design will see, from golden.

A stream is a GEMM's operands as codes of the design's formats: ``x`` (rows x K, the
activations, operand ``a``) and ``w`` (columns x K, the weights transposed, operand ``b``),
with block scales for block formats. :meth:`OperandStream.lanes` deals its rows and columns
out to the simulator's lanes: lane ``s`` computes an ``M x K`` by ``K x N`` GEMM of its own.

Streams (:data:`STREAMS`, all seeded):

``random``
    Uniformly random codes of every finite value of each format (NaN, Inf and NaR codes are
    left out: one NaN would freeze a float accumulator for the rest of its run). Block
    formats: random finite element codes under scales of ``2**u``, ``u`` uniform in -4..4.
``gaussian``
    LLM-like data: activations N(0, 1) with 0.1% of the K channels scaled by 50 (the outlier
    channels of :func:`lowbit.golden.tensors.synthetic`, as the sweeps' GEMM quality stage
    uses), weights N(0, 1/K); each tensor quantized as the sweeps do: scalar formats with one
    absmax scale per tensor (posits: rms), block formats with their own scales along K.
``sparse``
    ``gaussian`` with half of the activations (chosen at random) set to zero before
    quantization: the ReLU-sparse activations of a real network.
``mlp``
    A real GEMM: the first layer of lowbit's trained digits MLP
    (:mod:`lowbit.reports.digits_mlp`), the 600 test images (K = 64 pixels, many of them 0)
    times the trained 64 x 32 weights, quantized as ``gaussian``.

:func:`from_arrays` makes a stream of a user's own arrays: floats (quantized as ``gaussian``)
or integer codes of the formats (checked: a code outside the format is an error).

Group-quantized weights (MixPE: ``b_fmt`` a :class:`~lowbit.golden.mpgemm.GroupScheme`): the
float weights are quantized by :meth:`GroupScheme.quantize <lowbit.golden.mpgemm.GroupScheme.
quantize>` (a scale, and a zero point for unsigned weights, per group of K and column), the
stream carries the weight codes, their scale codes and zero points; ``random`` draws uniform
weight codes (ternary: -1, 0, +1), scales ``2**u`` and uniform zero points.
"""

from dataclasses import dataclass

import numpy as np

from lowbit.errors import LowbitError, did_you_mean
from lowbit.golden import formats as F
from lowbit.golden import tensors
from lowbit.golden.quantize import default_scaling, tensor_scale

STREAMS = ("random", "gaussian", "sparse", "mlp")
#: Elements along K of the synthetic streams unless asked otherwise (a multiple of every block
#: size: MX 32, NVFP4 16).
DEFAULT_K = 256
_SCALE_SPREAD = 4  # random block scales: 2**u, u in -4..4


class StreamError(LowbitError, ValueError):
    """An unknown stream, an empty stream, or codes outside their format."""


@dataclass(frozen=True)
class OperandStream:
    """Codes of a GEMM's operands (module docstring): ``x`` ``(rows, K)`` of ``a_fmt``, ``w``
    ``(cols, K)`` of ``b_fmt``; ``x_scale``/``w_scale`` ``(rows, K / block)`` scale codes of
    block formats (None for scalar formats). Block formats are given by their element codes
    and scales; ``a_fmt``/``b_fmt`` are the block formats themselves. Group-quantized weights:
    ``w_scale`` ``(cols, groups)`` scale codes and ``w_zero`` ``(cols, groups)`` zero points
    (None without)."""

    name: str
    a_fmt: object
    b_fmt: object
    x: np.ndarray
    w: np.ndarray
    x_scale: np.ndarray | None = None
    w_scale: np.ndarray | None = None
    seed: int = 0
    w_zero: np.ndarray | None = None

    @property
    def k(self) -> int:
        """Elements along K."""
        return self.x.shape[1]

    def lanes(self, lanes: int, m: int = 1, n: int = 1) -> "LaneOperands":
        """The operands of ``lanes`` independent ``m x K`` by ``K x n`` GEMMs: lane ``s`` takes
        rows ``s m .. s m + m - 1`` of ``x`` and columns ``s n ..`` of ``w`` (both wrapping
        around when the stream has fewer)."""
        rows = (np.arange(lanes)[:, None] * m + np.arange(m)) % self.x.shape[0]
        cols = (np.arange(lanes)[:, None] * n + np.arange(n)) % self.w.shape[0]
        pick = (lambda a, idx: None if a is None else a[idx])
        return LaneOperands(self, self.x[rows], self.w[cols], pick(self.x_scale, rows),
                            pick(self.w_scale, cols), pick(self.w_zero, cols))


@dataclass(frozen=True)
class LaneOperands:
    """Per lane ``s``: ``a[s]`` ``(M, K)`` and ``b[s]`` ``(N, K)`` codes (``b`` transposed),
    block scales ``(M, K / block)`` and ``(N, K / block)`` or None."""

    stream: OperandStream
    a: np.ndarray
    b: np.ndarray
    a_scale: np.ndarray | None
    b_scale: np.ndarray | None
    b_zero: np.ndarray | None = None

    def group_weights(self, lane: int):
        """Lane ``lane``'s ``B`` as a :class:`~lowbit.golden.mpgemm.GroupWeights` (``K x N``);
        group-quantized weights only."""
        from lowbit.golden.mpgemm import GroupWeights

        zeros = None if self.b_zero is None else self.b_zero[lane].T
        return GroupWeights(self.stream.b_fmt, self.b[lane].T, self.b_scale[lane].T, zeros)

    def block_arrays(self, lane: int) -> tuple:
        """Lane ``lane``'s ``(A, B)`` as :class:`~lowbit.golden.formats.BlockArray` objects
        (``A`` ``M x K`` blocked along K, ``B`` ``K x N`` blocked along K) for an engine's
        ``input_beats``; block formats only."""
        fa, fb = self.stream.a_fmt, self.stream.b_fmt
        a, b = self.a[lane], self.b[lane]
        return (F.BlockArray(fa, a, self.a_scale[lane], a.shape, 1),
                F.BlockArray(fb, b, self.b_scale[lane], (b.shape[1], b.shape[0]), 0))

    def matrices(self, lane: int) -> tuple:
        """Lane ``lane``'s ``(A, B)`` as code matrices ``M x K`` and ``K x N``."""
        return self.a[lane], self.b[lane].T


# --- the streams ----------------------------------------------------------------------------
def stream(name: str, a_fmt, b_fmt, *, k: int = DEFAULT_K, rows: int = 512, cols: int = 512,
           seed: int = 0) -> OperandStream:
    """The stream ``name`` (:data:`STREAMS`) for operands of ``a_fmt`` x ``b_fmt`` (formats or
    names; block formats both), ``rows`` activation rows and ``cols`` weight columns of ``k``
    elements (``mlp``: its own 600 x 64 and 32 x 64)."""
    if name not in STREAMS:
        raise StreamError(f"stream must be one of {', '.join(STREAMS)}, not {name!r}"
                          f"{did_you_mean(str(name), STREAMS)}")
    for field, value in (("k", k), ("rows", rows), ("cols", cols)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise StreamError(f"stream {field} must be a positive integer, not {value!r}")
    fa, fb = _format("a_fmt", a_fmt), _format("b_fmt", b_fmt)
    _check_pair(fa, fb)
    for fmt in (fa, fb):
        if fmt.kind == "block" and k % fmt.block_size:
            raise StreamError(f"stream k must be a multiple of {fmt.name}'s block size "
                              f"{fmt.block_size}, not {k}")
    rng = np.random.default_rng([seed, STREAMS.index(name)])
    if name == "random":
        return _random(fa, fb, rows, cols, k, rng, seed)
    if name == "mlp":
        from lowbit.reports.digits_mlp import trained

        x, _, w1, _ = trained()
        return from_arrays(x, w1, fa, fb, name="mlp", seed=seed)
    x = tensors.synthetic("outlier_channels", (rows, k), seed).astype(np.float64)
    w = rng.standard_normal((k, cols)) / np.sqrt(k)
    if name == "sparse":
        x = np.where(rng.random(x.shape) < 0.5, 0.0, x)
    return from_arrays(x, w, fa, fb, name=name, seed=seed)


def from_arrays(a, b, a_fmt, b_fmt, *, name: str = "arrays", seed: int = 0) -> OperandStream:
    """A stream of the GEMM ``a @ b`` (``a``: rows x K activations, ``b``: K x cols weights):
    float arrays are quantized (module docstring), integer arrays are codes of the formats
    (scalar formats only). An empty array or a code outside its format is an error."""
    fa, fb = _format("a_fmt", a_fmt), _format("b_fmt", b_fmt)
    a, b = np.asarray(a), np.asarray(b)
    for what, arr in (("a", a), ("b", b)):
        if arr.ndim != 2 or arr.size == 0:
            raise StreamError(f"stream {what} is empty or not a matrix (shape {arr.shape}): a "
                              f"stream needs at least one row and one column")
    if a.shape[1] != b.shape[0]:
        raise StreamError(f"stream a is {a.shape[0]} x {a.shape[1]} and b {b.shape[0]} x "
                          f"{b.shape[1]}: a's columns must equal b's rows (K)")
    _check_pair(fa, fb)
    if fb.kind == "groupwise":
        if not np.issubdtype(b.dtype, np.floating):
            raise StreamError(f"stream b: group-quantized weights ({fb.name}) come as float "
                              f"values (quantized per group), not {b.dtype} codes")
        gw = fb.quantize(b.astype(np.float64))
        zeros = None if gw.zeros is None else np.asarray(gw.zeros, np.int64).T
        return OperandStream(name, fa, fb, _codes("a", a, fa), np.asarray(gw.codes, np.int64).T,
                             None, np.asarray(gw.scales, np.int64).T, seed, zeros)
    if fa.kind == "block":
        for fmt in (fa, fb):
            if a.shape[1] % fmt.block_size:
                raise StreamError(f"stream K must be a multiple of {fmt.name}'s block size "
                                  f"{fmt.block_size}, not {a.shape[1]}")
        xa, xb = fa.encode(a.astype(np.float64), axis=1), fb.encode(b.astype(np.float64), axis=0)
        return OperandStream(name, fa, fb, xa.elements, xb.elements, xa.scales, xb.scales, seed)
    return OperandStream(name, fa, fb, _codes("a", a, fa), _codes("b", b.T, fb), seed=seed)


def _check_pair(fa, fb):
    if fb.kind == "groupwise" and fa.kind in ("block", "groupwise"):
        raise StreamError(f"a_fmt must be a scalar format beside group-quantized weights "
                          f"{fb.name}, not {fa.name}")
    if fa.kind == "groupwise" or (fb.kind != "groupwise" and
                                  (fa.kind == "block") != (fb.kind == "block")):
        raise StreamError(f"a_fmt and b_fmt must both be block formats or both scalar, not "
                          f"{fa.name} and {fb.name}")


def _format(field, fmt):
    from lowbit.golden.mpgemm import GroupScheme

    if isinstance(fmt, (F.ScalarFormat, F.BlockFormat, GroupScheme)):
        return fmt
    try:
        return F.get(fmt)
    except LowbitError as err:
        raise StreamError(f"stream {field}: {err}") from None


def _codes(what, arr, fmt) -> np.ndarray:
    """Codes of ``arr``: quantized from floats, checked when integers."""
    if np.issubdtype(arr.dtype, np.integer):
        bad = (arr < 0) | (arr >= (1 << fmt.bits))
        if bad.any():
            value = int(arr[bad].flat[0])
            raise StreamError(f"stream {what}: code {value} is outside {fmt.name} (its codes "
                              f"are 0 .. {(1 << fmt.bits) - 1})")
        return arr.astype(np.int64)
    if not np.issubdtype(arr.dtype, np.floating):
        raise StreamError(f"stream {what} must be float values or integer codes, not "
                          f"{arr.dtype}")
    x = arr.astype(np.float64)
    scale = tensor_scale(x, fmt, default_scaling(fmt))
    return fmt.encode(x / scale, overflow="saturate", on_nan="zero").astype(np.int64)


def finite_codes(fmt) -> np.ndarray:
    """Every code of a scalar format that decodes to a finite value (integers: all)."""
    codes = np.arange(1 << fmt.bits, dtype=np.int64)
    if fmt.kind in ("int", "fixed"):
        return codes
    return codes[np.isfinite(fmt.decode(codes.astype(fmt.code_dtype)))]


def _random(fa, fb, rows, cols, k, rng, seed) -> OperandStream:
    def draw(fmt, count):
        if fmt.kind == "groupwise":
            return _random_groupwise(fmt, count, k, rng)
        element = fmt.element if fmt.kind == "block" else fmt
        codes = rng.choice(finite_codes(element), size=(count, k))
        if fmt.kind != "block":
            return codes, None
        exponents = rng.integers(-_SCALE_SPREAD, _SCALE_SPREAD + 1,
                                 (count, k // fmt.block_size))
        scales = fmt.scale.encode(np.exp2(exponents.astype(np.float64))).astype(np.int64)
        return codes, scales

    (x, xs), (w, ws, *wz) = draw(fa, rows), draw(fb, cols)
    return OperandStream("random", fa, fb, x, w, xs, ws, seed, *wz)


def _random_groupwise(scheme, count, k, rng) -> tuple:
    """``(codes, scales, zeros)`` of ``count`` random group-quantized weight columns."""
    from lowbit.golden.mpgemm import TERNARY_CODES

    fmt = scheme.fmt
    choices = np.array(TERNARY_CODES) if scheme.ternary else finite_codes(fmt)
    codes = rng.choice(choices, size=(count, k))
    groups = scheme.groups(k)
    exponents = rng.integers(-_SCALE_SPREAD, _SCALE_SPREAD + 1, (count, groups))
    scales = scheme.scale.encode(np.exp2(exponents.astype(np.float64))).astype(np.int64)
    zeros = (rng.integers(fmt.min_int, fmt.max_int + 1, (count, groups))
             if scheme.zero_point else None)
    return codes, scales, zeros
