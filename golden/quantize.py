"""Scaled quantization of tensors: fake quantization with one per-tensor scale, and integer
quantization with per-tensor, per-channel or per-group scales and zero points.

Fake quantization (:func:`fake_quantize`)
-----------------------------------------
Used to study what a format does to numbers. Scalar formats get one float64 scale per tensor,
chosen by ``scaling``; block formats carry their own scales and are used as they are.

::

  ``absmax``  the tensor's largest magnitude maps to the format's largest value (integers,
              fixed point, minifloats: the usual symmetric per-tensor quantizer)
  ``rms``     the tensor's RMS maps to 1, where posits are most precise
  ``none``    values are encoded as they are

Integer quantization (:func:`quantize_int`)
-------------------------------------------
A float tensor becomes the codes of a ``b``-bit :class:`~lowbit.golden.formats.IntFormat` plus
one scale and one zero point per slice: ``value = (q - zero_point) * scale``, where ``q`` is the
integer a code stands for. Scales are float64, computed in float64 from the input widened to
float64 (exact for float16/32 and integers below 2**53); ``x / scale`` is one correctly rounded
float64 division, then the rounding mode rounds it to an integer.

Schemes (``qmin``, ``qmax`` are the format's integer limits)

::

  ``symmetric``   zero point 0, ``scale = amax / qmax`` with ``amax = max |x|`` of the slice.
                  Signed formats only. The default overflow ``saturate_symmetric`` restricts
                  codes to ``[-qmax, qmax]`` (int8: [-127, 127], int4: [-7, 7]); pass
                  ``overflow="saturate"`` to let rounding reach ``qmin`` (-128).
  ``asymmetric``  the affine convention of TFLite and PyTorch's ``MinMaxObserver``: the range
                  ``[lo, hi] = [min(min x, 0), max(max x, 0)]`` always contains 0 (so 0 is exact),
                  ``scale = (hi - lo) / (qmax - qmin)`` = ``(hi - lo) / (2**b - 1)``,
                  ``zero_point = clamp(qmin - rne(lo / scale), qmin, qmax)`` (rounded to nearest,
                  ties to even, as ``torch.round``; TFLite rounds ties away from zero),
                  ``q = clamp(round(x / scale) + zero_point, qmin, qmax)`` with the zero point
                  added after rounding, in integers. Usually unsigned (uint8: codes 0..255);
                  signed formats use the same rule with ``qmin = -2**(b-1)``. Default overflow
                  ``saturate`` (the full range).

Granularity (one scale per slice)

::

  ``tensor``   one scale for the whole tensor.
  ``channel``  one scale per index of ``axis``, from all elements sharing that index (weights
               ``(out, in)``: ``axis=0``; per-token activations ``(tokens, channels)``: ``axis=0``).
  ``group``    ``axis`` is cut into consecutive groups of ``group_size`` elements; each group of
               each other index gets its own scale (weights ``(out, in)``, groups along ``in``:
               ``axis=1``). If the axis length is not a multiple of ``group_size`` the last group
               is ragged: it holds the remaining ``n % group_size`` elements and its scale comes
               from those alone.

A slice whose scale computes to 0 (all zeros, or an ``amax`` so small that ``amax / qmax``
underflows) gets scale 1.0; every integer of an all-zero slice then equals its zero point (0,
or ``qmin`` for signed asymmetric formats), so it dequantizes to exact zeros.
"""

from dataclasses import dataclass

import numpy as np

from lowbit.errors import QuantizerError, check_choice, check_int
from lowbit.golden import formats
from lowbit.golden.formats import IntFormat

SCALINGS = ("absmax", "rms", "none")
SCHEMES = ("symmetric", "asymmetric")
GRANULARITIES = ("tensor", "channel", "group")

_INT64 = IntFormat(64)  # rounds x / scale to an integer before the zero point is added


def default_scaling(fmt) -> str:
    """``none`` for block formats, ``rms`` for posits, ``absmax`` for the rest."""
    return {"block": "none", "posit": "rms"}.get(fmt.kind, "absmax")


def tensor_scale(x, fmt, scaling) -> float:
    """Return the float64 scale ``s`` such that ``x / s`` is what gets encoded."""
    check_choice("scaling", scaling, SCALINGS)
    x = np.asarray(x, dtype=np.float64)
    if scaling == "none" or x.size == 0:
        return 1.0
    ref = np.max(np.abs(x)) / fmt.max_value if scaling == "absmax" else np.sqrt(np.mean(x * x))
    return float(ref) if ref > 0 else 1.0


def fake_quantize(x, fmt, scaling=None, rounding="rne"):
    """Return ``decode(encode(x / s)) * s`` as float64 (block formats: their own scales).

    Parameters
    ----------
    x : array_like
        Tensor; scaled in float64.
    fmt : format object
        Any lowbit format.
    scaling : {"absmax", "rms", "none"}, optional
        Per-tensor scale rule for scalar formats; default :func:`default_scaling`.
    """
    x = np.asarray(x)
    if fmt.kind == "block":
        return fmt.decode(fmt.encode(x, rounding=rounding))
    s = tensor_scale(x, fmt, scaling or default_scaling(fmt))
    codes = fmt.encode(x.astype(np.float64) / s, rounding=rounding, overflow="saturate",
                       on_nan="zero")
    return fmt.decode(codes) * s


@dataclass(frozen=True, eq=False)
class QuantizedTensor:
    """An integer-quantized tensor: codes plus one scale and zero point per slice.

    Attributes
    ----------
    codes : ndarray of ``fmt.code_dtype``
        Bit patterns of ``fmt`` (two's complement for signed formats), shape of the input.
    scale : ndarray of float64
        Scales, with the input's number of axes: all ones for ``tensor``; the input's shape
        except ones on every axis but ``axis`` for ``channel`` (broadcasts against ``codes``);
        the input's shape with ``axis`` shortened to the number of groups for ``group``.
    zero_point : ndarray of int64
        Integer zero points, same shape as ``scale`` (all 0 for ``symmetric``).
    fmt : IntFormat
        Format of the codes.
    scheme : {"symmetric", "asymmetric"}
    granularity : {"tensor", "channel", "group"}
    axis : int or None
        Non-negative axis of ``channel`` and ``group`` granularity; None for ``tensor``.
    group_size : int or None
        Elements per group along ``axis`` (``group`` granularity only; the last group may be
        shorter).
    """

    codes: np.ndarray
    scale: np.ndarray
    zero_point: np.ndarray
    fmt: IntFormat
    scheme: str
    granularity: str
    axis: int | None = None
    group_size: int | None = None

    def integers(self) -> np.ndarray:
        """Return the integer each code stands for (int64)."""
        return self.fmt.to_int(self.codes)

    def dequantize(self) -> np.ndarray:
        """Return ``(q - zero_point) * scale`` in float64 (one rounding: the product)."""
        q = self.integers() - self.per_element(self.zero_point)
        return q.astype(np.float64) * self.per_element(self.scale)

    def per_element(self, per_slice) -> np.ndarray:
        """Return an array shaped like :attr:`scale` spread to one entry per element.

        For ``tensor`` and ``channel`` granularity the array is returned as it is (it already
        broadcasts against :attr:`codes`); for ``group`` each group's entry is repeated.
        """
        return _per_element(per_slice, self.granularity, self.axis, self.group_size,
                            self.codes.shape)


def quantize_int(x, fmt, *, scheme="symmetric", granularity="tensor", axis=None,
                 group_size=None, rounding="rne", overflow=None) -> QuantizedTensor:
    """Quantize a float tensor to integer codes with per-tensor, per-channel or per-group scales.

    Parameters
    ----------
    x : array_like
        Finite values (any real dtype; widened to float64).
    fmt : IntFormat or str
        Integer format of the codes, or its name (``"int8"``, ``"uint4"``). ``symmetric``
        needs a signed format of 2 to 32 bits; ``asymmetric`` any of 1 to 32 bits.
    scheme : {"symmetric", "asymmetric"}
        Scale and zero-point rule (module docstring).
    granularity : {"tensor", "channel", "group"}
        Which elements share a scale (module docstring).
    axis : int, optional
        The channel axis (``channel``) or the axis cut into groups (``group``); required for
        those two, not accepted for ``tensor``. Negative values count from the end.
    group_size : int, optional
        Elements per group along ``axis``, >= 1; ``group`` granularity only.
    rounding : str or Stochastic
        Rounding of ``x / scale`` to an integer, passed to ``IntFormat.encode``: one of
        ``rne rna rtz rup rdn rto`` or a :class:`~lowbit.golden.rounding.Stochastic` (its
        random numbers, if given as an array, broadcast to the shape of ``x``).
    overflow : {"saturate", "saturate_symmetric", "wrap"}, optional
        Overflow policy of ``fmt.encode`` for ``round(x / scale) + zero_point``. Default
        ``saturate_symmetric`` for ``symmetric``, ``saturate`` for ``asymmetric``.

    Returns
    -------
    QuantizedTensor

    Raises
    ------
    QuantizerError
        On a bad parameter, a non-IntFormat ``fmt``, or non-finite input.
    """
    check_choice("scheme", scheme, SCHEMES, QuantizerError)
    fmt = _int_format(fmt, scheme)
    check_choice("granularity", granularity, GRANULARITIES, QuantizerError)
    x = np.asarray(x)
    if x.dtype.kind not in "iufb":
        raise QuantizerError(f"values to quantize must be real numbers, not {x.dtype}")
    x = x.astype(np.float64)
    if not np.isfinite(x).all():
        raise QuantizerError("values to quantize must be finite; got NaN or infinity")
    axis, group_size = _check_granularity(x.ndim, granularity, axis, group_size)
    qmin, qmax = fmt.min_int, fmt.max_int

    if scheme == "symmetric":
        amax = _reduce(np.maximum, np.abs(x), granularity, axis, group_size)
        scale = amax / qmax
        zero_point = np.zeros(scale.shape, dtype=np.int64)
    else:
        lo = _reduce(np.minimum, x, granularity, axis, group_size)
        hi = _reduce(np.maximum, x, granularity, axis, group_size)
        with np.errstate(over="ignore"):
            scale = (hi - lo) / (qmax - qmin)
        if not np.isfinite(scale).all():
            raise QuantizerError("the range max - min of a slice overflows float64")
    scale = np.where(scale == 0, 1.0, scale)
    if scheme == "asymmetric":
        zero_point = np.clip(qmin - np.rint(lo / scale), qmin, qmax).astype(np.int64)

    def spread(a):
        return _per_element(a, granularity, axis, group_size, x.shape)

    rounded = _INT64.to_int(_INT64.encode(x / spread(scale), rounding=rounding))
    if overflow is None:
        overflow = "saturate_symmetric" if scheme == "symmetric" else "saturate"
    codes = fmt.encode(rounded + spread(zero_point), overflow=overflow)
    for a in (codes, scale, zero_point):
        a.flags.writeable = False
    return QuantizedTensor(codes, scale, zero_point, fmt, scheme, granularity, axis, group_size)


def _int_format(fmt, scheme) -> IntFormat:
    """Return ``fmt`` (an IntFormat or its name) checked against the scheme's needs."""
    if isinstance(fmt, str):
        fmt = formats.get(fmt)
    if not isinstance(fmt, IntFormat):
        raise QuantizerError(
            f"fmt must be an IntFormat or the name of one (such as 'int8'), "
            f"not {getattr(fmt, 'name', fmt)!r}"
        )
    if scheme == "symmetric" and not (fmt.signed and 2 <= fmt.bits <= 32):
        raise QuantizerError(
            f"symmetric quantization needs a signed IntFormat of 2 to 32 bits, not {fmt.name}"
        )
    if scheme == "asymmetric" and fmt.bits > 32:
        raise QuantizerError(
            f"asymmetric quantization needs an IntFormat of 1 to 32 bits, not {fmt.name}"
        )
    return fmt


def _check_granularity(ndim, granularity, axis, group_size):
    """Return the non-negative axis and the group size, checked against the granularity."""
    if granularity != "group" and group_size is not None:
        raise QuantizerError(
            f"granularity {granularity!r} takes no group_size, got group_size={group_size!r}"
        )
    if granularity == "tensor":
        if axis is not None:
            raise QuantizerError(f"granularity 'tensor' takes no axis, got axis={axis!r}")
        return None, None
    if granularity == "group":
        if isinstance(group_size, np.integer):
            group_size = int(group_size)
        if isinstance(group_size, bool) or not isinstance(group_size, int) or group_size < 1:
            raise QuantizerError(f"group_size must be a positive integer, not {group_size!r}")
    if axis is None:
        raise QuantizerError(f"granularity {granularity!r} needs an axis")
    if ndim == 0:
        raise QuantizerError(f"granularity {granularity!r} needs an array with at least one "
                             "axis, got a 0-d array")
    if isinstance(axis, np.integer):
        axis = int(axis)
    return check_int("axis", axis, -ndim, ndim - 1, QuantizerError) % ndim, group_size


def _reduce(ufunc, a, granularity, axis, group_size):
    """Reduce each slice of ``a`` with ``ufunc`` (maximum or minimum), 0 included."""
    if granularity == "group":
        n = a.shape[axis]
        if n == 0:
            return np.zeros(a.shape)
        return ufunc(ufunc.reduceat(a, np.arange(0, n, group_size), axis=axis), 0.0)
    others = None if granularity == "tensor" else tuple(i for i in range(a.ndim) if i != axis)
    return ufunc.reduce(a, axis=others, keepdims=True, initial=0.0)


def _per_element(per_slice, granularity, axis, group_size, shape):
    """Spread per-slice values to one per element (or to a shape broadcasting to ``shape``)."""
    if granularity != "group":
        return per_slice
    return np.take(per_slice, np.arange(shape[axis]) // group_size, axis=axis)
