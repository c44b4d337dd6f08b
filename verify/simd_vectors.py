"""Vector sets for :class:`~lowbit.hdl.simd_mac.SimdMac`: packed operand words, a mode per cycle
and the golden register code of every lane after each operation.

Each lane's expectation is the golden FixedAccumulator dot product of that lane's operand codes
in that mode's formats (the same computation as :mod:`lowbit.verify.vectors`), so nothing here
re-derives the arithmetic. Operand bits a mode does not use are filled with random bits, to show
they are ignored. Lanes a mode does not use are expected to read 0.
"""

from dataclasses import dataclass

import numpy as np

from lowbit.errors import LowbitError
from lowbit.verify.vectors import VECTOR_SETS, MacVectors, expected_codes


@dataclass(frozen=True)
class SimdVectors(MacVectors):
    """MAC vectors plus the ``mode`` of every operation; ``a``/``b`` are packed words and
    ``expected[:, k]`` is the register code of lane ``k`` (``acc<k>``)."""

    mode: np.ndarray


def _pack(mode, lane_a, lane_b, rng):
    """Pack per-lane codes ``(lanes, n)`` into ``a`` (16-bit) and ``b`` (8-bit) words; unused
    bits random."""
    n = lane_a.shape[1]
    a = rng.integers(0, 1 << 16, n, dtype=np.int64)
    b = rng.integers(0, 1 << 8, n, dtype=np.int64)
    for lane in range(mode.lanes):
        a_lo, a_bits, b_lo, b_bits = mode.lane_fields(lane)
        a = (a & ~(((1 << a_bits) - 1) << a_lo)) | (lane_a[lane] << a_lo)
        b = (b & ~(((1 << b_bits) - 1) << b_lo)) | (lane_b[lane] << b_lo)
    return a, b


def _lane_stimulus(kind, mode, rng):
    """Per-lane codes ``(lanes, n)`` and clear flags for one mode."""
    na, nb, lanes = 1 << mode.a_fmt.bits, 1 << mode.b_fmt.bits, mode.lanes
    if kind == "exhaustive":
        if (na * nb) ** lanes <= 1 << 16:  # every combination of every lane's operand bits
            combos = np.arange((na * nb) ** lanes, dtype=np.int64)
            pairs = [(combos // (na * nb) ** k) % (na * nb) for k in range(lanes)]
        else:  # each lane sees all its pairs once, lanes in different orders
            pairs = [np.arange(na * nb, dtype=np.int64)]
            pairs += [rng.permutation(na * nb) for _ in range(lanes - 1)]
        lane_a = np.array([p // nb for p in pairs])
        lane_b = np.array([p % nb for p in pairs])
        clear = np.ones(lane_a.shape[1], bool)
    elif kind == "corners":
        ca = np.array(sorted({0, 1, na - 1, na // 2, na // 2 - 1, na // 2 + 1}))
        cb = np.array(sorted({0, 1, nb - 1, nb // 2, nb // 2 - 1, nb // 2 + 1}))
        a0, b0 = (x.ravel() for x in np.meshgrid(ca, cb, indexing="ij"))
        lane_a = np.array([np.roll(a0, 7 * k) for k in range(lanes)])
        lane_b = np.array([np.roll(b0, 3 * k) for k in range(lanes)])
        clear = np.ones(a0.size, bool)
    elif kind == "sequences":
        # Long runs of the extreme codes (overflow / saturation) and of cancelling pairs.
        run = 300
        ext_a = np.array([na // 2 - 1, na // 2])
        ext_b = np.array([nb // 2 - 1, nb // 2])
        a0 = np.concatenate([np.full(run, ext_a[0]), np.full(run, ext_a[1]),
                             np.tile(ext_a, run // 2)])
        b0 = np.concatenate([np.full(run, ext_b[0]), np.full(run, ext_b[0]),
                             np.tile(ext_b[::-1], run // 2)])
        lane_a = np.array([np.roll(a0, run * k) for k in range(lanes)])
        lane_b = np.array([np.roll(b0, run * k) for k in range(lanes)])
        clear = np.zeros(a0.size, bool)
        clear[::run] = True
    else:
        raise LowbitError(f"vector set must be one of {', '.join(VECTOR_SETS)}, "
                          f"not {kind!r}")
    return lane_a.astype(np.int64), lane_b.astype(np.int64), clear


def _random_stimulus(mode, length, rng):
    lane_a = rng.integers(0, 1 << mode.a_fmt.bits, (mode.lanes, length))
    lane_b = rng.integers(0, 1 << mode.b_fmt.bits, (mode.lanes, length))
    clear = rng.random(length) < 0.1
    clear[0] = True
    return lane_a, lane_b, clear


def simd_vectors(kind, modes, *, only=None, seed=0) -> SimdVectors:
    """Build vector set ``kind`` (one of :data:`VECTOR_SETS`) for a SimdMac of ``modes``.

    ``only`` restricts the set to one mode index. ``random`` interleaves runs of random modes of
    random lengths (a mode changes only with ``clear``); the other kinds go mode by mode.
    """
    rng = np.random.default_rng(seed)
    lanes = max(mode.lanes for mode in modes)
    indices = list(range(len(modes))) if only is None else [only]
    segments = []
    if kind == "random":
        for _ in range(24):
            index = int(rng.choice(indices))
            segments.append((index, *_random_stimulus(modes[index], int(rng.integers(1, 200)),
                                                      rng)))
    else:
        segments = [(index, *_lane_stimulus(kind, modes[index], rng)) for index in indices]
    parts = {key: [] for key in ("mode", "clear", "a", "b", "expected")}
    for index, lane_a, lane_b, clear in segments:
        mode = modes[index]
        a, b = _pack(mode, lane_a, lane_b, rng)
        expected = np.zeros((len(clear), lanes), np.int64)
        for lane in range(mode.lanes):
            expected[:, lane] = expected_codes(clear, lane_a[lane], lane_b[lane],
                                          mode.a_fmt, mode.b_fmt, mode.acc)
        parts["mode"].append(np.full(len(clear), index, np.int64))
        parts["clear"].append(clear)
        parts["a"].append(a)
        parts["b"].append(b)
        parts["expected"].append(expected)
    return SimdVectors(kind, **{key: np.concatenate(value) for key, value in parts.items()})
