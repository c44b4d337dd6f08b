"""Walsh-Hadamard rotations: the fast transform, applied whole or in blocks along one axis.

The Hadamard matrix is Sylvester's, in natural order: ``H_1 = [[1]]``,
``H_2n = [[H_n, H_n], [H_n, -H_n]]``; it is symmetric and ``H_n @ H_n = n * I``. The fast
Walsh-Hadamard transform computes ``H_n @ v`` with ``n log2 n`` additions and subtractions
(``log2 n`` vectorized butterfly stages). Normalized, ``H_n / sqrt(n)`` is orthonormal and its
own inverse; unnormalized, the inverse is ``H_n / n``.

A block-wise rotation (QuaRot/SpinQuant-style rotations, "INT v.s. FP" NVINT4, FP4 training)
cuts an axis into consecutive blocks of ``B`` elements (``B`` a power of two) and transforms each
block. It spreads an outlier channel over its block, lowering a tensor's amax/RMS (crest factor)
before quantization; the RMS is unchanged when normalized.

Results are float64 (inputs are widened to float64). Each output element is a sum of ``n``
signed inputs, then (normalized) one division by ``sqrt(n)``: for integer-valued inputs with
``|x| * n < 2**53`` the unnormalized transform is exact.
"""

import numpy as np

from lowbit.errors import QuantizerError, check_choice, check_int

RAGGED_POLICIES = ("error", "pad")
"""What :func:`block_hadamard` does with an axis length that is not a multiple of the block:
``error`` raises; ``pad`` appends zeros up to the next multiple, so the result is longer and
:func:`inverse_block_hadamard` takes ``length=`` to cut them off again."""


def fwht(x, *, axis=-1, normalize=True) -> np.ndarray:
    """Return the Walsh-Hadamard transform of ``x`` along the whole of ``axis``.

    Parameters
    ----------
    x : array_like
        Real values; the length of ``axis`` must be a power of two.
    axis : int
        Axis to transform.
    normalize : bool
        Multiply by ``1 / sqrt(n)`` (orthonormal, its own inverse) or not (``H_n @ v``; the
        inverse is this transform divided by ``n``).

    Returns
    -------
    ndarray of float64
        Same shape as ``x``.
    """
    x = _real_array(x)
    axis = _check_axis(axis, x.ndim)
    n = x.shape[axis]
    if not _is_power_of_two(n):
        raise QuantizerError(f"fwht needs an axis length that is a power of two, not {n}")
    return _blocks(x, n, axis, normalize)


def block_hadamard(x, block_size, *, axis=-1, normalize=True, ragged="error") -> np.ndarray:
    """Rotate ``x`` by a Hadamard transform of each block of ``block_size`` along ``axis``.

    Equivalent to multiplying ``axis`` by the block-diagonal matrix ``I (x) H_B`` (divided by
    ``sqrt(B)`` if ``normalize``).

    Parameters
    ----------
    x : array_like
        Real values.
    block_size : int
        Block length ``B``, a power of two (1, 2, 4, ...).
    axis : int
        Axis cut into blocks.
    normalize : bool
        Orthonormal blocks ``H_B / sqrt(B)`` (default) or plain ``H_B``.
    ragged : {"error", "pad"}
        Axis length not a multiple of ``B``: raise, or zero-pad the last block (the result is
        then longer than ``x`` along ``axis``; see :data:`RAGGED_POLICIES`).

    Returns
    -------
    ndarray of float64
    """
    x = _real_array(x)
    block_size = _check_block_size(block_size)
    axis = _check_axis(axis, x.ndim)
    check_choice("ragged", ragged, RAGGED_POLICIES, QuantizerError)
    n = x.shape[axis]
    if n % block_size:
        if ragged == "error":
            raise QuantizerError(
                f"axis {axis} has length {n}, not a multiple of block_size {block_size}; pass "
                "ragged='pad' to zero-pad the last block"
            )
        pad = [(0, 0)] * x.ndim
        pad[axis] = (0, -n % block_size)
        x = np.pad(x, pad)
    return _blocks(x, block_size, axis, normalize)


def inverse_block_hadamard(y, block_size, *, axis=-1, normalize=True, length=None) -> np.ndarray:
    """Undo :func:`block_hadamard` with the same ``block_size``, ``axis`` and ``normalize``.

    Parameters
    ----------
    y : array_like
        A rotated tensor; the length of ``axis`` must be a multiple of ``block_size``.
    block_size, axis, normalize
        As given to :func:`block_hadamard`.
    length : int, optional
        Keep only the first ``length`` elements along ``axis`` (the original length of a
        tensor rotated with ``ragged="pad"``).

    Returns
    -------
    ndarray of float64
        ``x`` up to float64 rounding (exact for the unnormalized transform of integer-valued
        data, and for normalized blocks whose size is a power of 4, within the 2**53 limit).
    """
    y = _real_array(y)
    block_size = _check_block_size(block_size)
    axis = _check_axis(axis, y.ndim)
    n = y.shape[axis]
    if n % block_size:
        raise QuantizerError(f"axis {axis} has length {n}, not a multiple of block_size "
                             f"{block_size}")
    x = _blocks(y, block_size, axis, normalize)
    if not normalize:
        x /= block_size
    if length is not None:
        check_int("length", length, 0, n, QuantizerError)
        x = np.take(x, np.arange(length), axis=axis)
    return x


def _blocks(x, block_size, axis, normalize):
    """Transform consecutive blocks of ``block_size`` along ``axis`` (length a multiple)."""
    moved = np.moveaxis(x, axis, -1)
    lead = moved.shape[:-1]
    blocks = moved.shape[-1] // block_size
    v = moved
    h = 1
    while h < block_size:  # butterfly stage h: pairs (i, i + h) inside each run of 2h
        v = v.reshape(*lead, blocks, block_size // (2 * h), 2, h)
        a, b = v[..., 0, :], v[..., 1, :]
        v = np.stack((a + b, a - b), axis=-2)
        h *= 2
    v = v.reshape(moved.shape)
    if normalize:
        v = v / np.sqrt(block_size)
    return np.moveaxis(v, -1, axis)


def _real_array(x) -> np.ndarray:
    x = np.asarray(x)
    if x.dtype.kind not in "iufb":
        raise QuantizerError(f"values to rotate must be real numbers, not {x.dtype}")
    return x.astype(np.float64)


def _is_power_of_two(n) -> bool:
    return n >= 1 and n & (n - 1) == 0


def _check_block_size(block_size) -> int:
    if isinstance(block_size, np.integer):
        block_size = int(block_size)
    if (isinstance(block_size, bool) or not isinstance(block_size, int)
            or not _is_power_of_two(block_size)):
        raise QuantizerError(f"block_size must be a power of two (1, 2, 4, ...), "
                             f"not {block_size!r}")
    return block_size


def _check_axis(axis, ndim) -> int:
    if ndim == 0:
        raise QuantizerError("a Hadamard rotation needs an array with at least one axis, got a "
                             "0-d array")
    if isinstance(axis, np.integer):
        axis = int(axis)
    return check_int("axis", axis, -ndim, ndim - 1, QuantizerError) % ndim
