"""Vector sets for :class:`~lowbit.hdl.multiformat_mac.MultiFormatMac`: packed operand words, a
mode and lane enables per cycle, and the golden code of every lane output after each operation.

Each lane's expectation is golden's dot product of that lane's codes in the mode's format with
the mode's accumulator (:func:`~lowbit.verify.vectors.expected_codes`, the computation every MAC
vector set uses), over the lane's run: a run starts at a ``clear``, or at an operation whose mode
differs from the previous one (the unit's implicit clear). With lane enables, a lane's run is
the operations that enable it, and a held lane keeps its last code; the first operation of every
run in a new mode enables every lane (a held lane's register would mean nothing in another
format). Lanes the mode does not use read 0. Operand bits no lane uses are random, to show they
are ignored.

Sets (``<set>/m<i>``: mode ``i`` alone)

``exhaustive``
    Every operand pair of the mode's format on lane 0 (one operation each, cleared), the other
    lanes the same pairs in other orders, so lanes mix NaR, NaN, zeros and extremes: 256
    operations for a 4-bit format, 65,536 for an 8-bit one. Refused for wider formats.
``corners``
    Corner codes of the format (zeros, +-1 LSB, extremes, sign boundary, NaR / NaN / Inf, 1.0)
    paired every way, rotated across lanes.
``sequences``
    Runs of 300: largest products (sums growing to the register's reach), cancelling pairs,
    random codes, a large sum followed by random small terms.
``random``
    24 runs of random modes and lengths (1 to 200), clearing about every tenth operation; a
    new run's mode is random, so runs often start by a mode change without ``clear``.
``switch``
    Runs of 1 to 3 operations, each in another mode than the one before (400 runs), random
    codes, half the operations clearing: every mode change is an implicit clear.
``gated``
    Like ``random`` with random lane enables (a unit with ``gating``).
"""

from dataclasses import dataclass

import numpy as np

from lowbit.errors import LowbitError
from lowbit.verify.vectors import MacVectors, corner_codes, expected_codes, extreme_codes

SETS = ("exhaustive", "corners", "sequences", "random", "switch", "gated")


@dataclass(frozen=True)
class MultiFormatVectors(MacVectors):
    """MAC vectors plus the ``mode`` and ``enable`` (lane bit mask) of every operation; ``a`` and
    ``b`` are packed words and ``expected[:, k]`` is lane ``k``'s output code."""

    mode: np.ndarray
    enable: np.ndarray


def _pack(mode, lane_codes, rng):
    """16-bit words holding ``lane_codes`` ``(lanes, n)``; bits no lane uses are random."""
    n = lane_codes.shape[1]
    word = rng.integers(0, 1 << 16, n, dtype=np.int64)
    for k in range(mode.lanes):
        lo, bits = mode.lane_field(k)
        word = (word & ~(((1 << bits) - 1) << lo)) | (lane_codes[k] << lo)
    return word


def _lane_stimulus(kind, mode, rng):
    """Per-lane codes ``(lanes, n)`` of a and b and clear flags for one mode."""
    fmt, lanes = mode.fmt, mode.lanes
    codes = 1 << fmt.bits
    if kind == "exhaustive":
        if codes * codes > 1 << 16:
            raise LowbitError(f"exhaustive vectors need at most 2**16 operand pairs per lane, "
                              f"{fmt.name} has {codes * codes}")
        pairs = [np.arange(codes * codes)] + [rng.permutation(codes * codes)
                                              for _ in range(lanes - 1)]
        a = np.array([p // codes for p in pairs])
        b = np.array([p % codes for p in pairs])
        clear = np.ones(a.shape[1], bool)
    elif kind == "corners":
        c = corner_codes(fmt)
        a0, b0 = (x.ravel() for x in np.meshgrid(c, c, indexing="ij"))
        a = np.array([np.roll(a0, 5 * k) for k in range(lanes)])
        b = np.array([np.roll(b0, 3 * k) for k in range(lanes)])
        clear = np.ones(a0.size, bool)
    elif kind == "sequences":
        run, half = 300, 150
        ext = extreme_codes(fmt)
        a0 = np.concatenate([np.full(run, ext[0]), np.full(run, ext[1]), np.tile(ext, half),
                             rng.integers(0, codes, run), np.full(half, ext[0]),
                             rng.integers(0, codes, half)])
        b0 = np.concatenate([np.full(run, ext[0]), np.full(run, ext[0]),
                             np.tile(ext[::-1], half), rng.integers(0, codes, run),
                             np.full(half, ext[0]), rng.integers(0, codes, half)])
        a = np.array([np.roll(a0, run * k) for k in range(lanes)])
        b = np.array([np.roll(b0, run * k) for k in range(lanes)])
        clear = np.zeros(a0.size, bool)
        clear[::run] = True
    else:
        raise LowbitError(f"vector set must be one of {', '.join(SETS)}, not {kind!r}")
    return a.astype(np.int64), b.astype(np.int64), clear


def _random_runs(indices, rng, runs=24, longest=200):
    """``(mode index, run length)`` of random runs."""
    return [(int(rng.choice(indices)), int(rng.integers(1, longest + 1))) for _ in range(runs)]


def multiformat_vectors(kind, modes, *, only=None, seed=0) -> MultiFormatVectors:
    """Build vector set ``kind`` (``<set>`` of :data:`SETS`, ``/m<i>`` for mode ``i`` alone)
    for a MultiFormatMac of ``modes`` (its :attr:`~MultiFormatMac.modes`)."""
    base, _, index = kind.partition("/m")
    if index:
        only = int(index)
    rng = np.random.default_rng(seed)
    indices = list(range(len(modes))) if only is None else [only]
    lanes = max(mode.lanes for mode in modes)
    mode_of, clear, a, b, enable = [], [], [], [], []
    if base in ("random", "gated", "switch"):
        if base == "switch":
            if len(indices) < 2:
                raise LowbitError("vector set 'switch' needs at least two modes")
            order = [indices[i % len(indices)] for i in range(400)]
            rng.shuffle(order)
            order = [m for i, m in enumerate(order) if i == 0 or m != order[i - 1]]
            runs = [(m, int(rng.integers(1, 4))) for m in order]
        else:
            runs = _random_runs(indices, rng)
        for index, length in runs:
            mode = modes[index]
            la = rng.integers(0, 1 << mode.fmt.bits, (mode.lanes, length))
            lb = rng.integers(0, 1 << mode.fmt.bits, (mode.lanes, length))
            c = rng.random(length) < (0.5 if base == "switch" else 0.1)
            mode_of.append(np.full(length, index))
            clear.append(c)
            a.append(_pack(mode, la, rng))
            b.append(_pack(mode, lb, rng))
            e = rng.integers(0, 1 << lanes, length) if base == "gated" else \
                np.full(length, (1 << lanes) - 1)
            enable.append(e)
    else:
        for index in indices:
            mode = modes[index]
            la, lb, c = _lane_stimulus(base, mode, rng)
            mode_of.append(np.full(len(c), index))
            clear.append(c)
            a.append(_pack(mode, la, rng))
            b.append(_pack(mode, lb, rng))
            enable.append(np.full(len(c), (1 << lanes) - 1))
    mode_of, clear, a, b, enable = (np.concatenate(x).astype(np.int64)
                                    for x in (mode_of, clear, a, b, enable))
    clear = clear.astype(bool)
    restart = clear | np.concatenate([[True], mode_of[1:] != mode_of[:-1]])
    changed = np.concatenate([[True], mode_of[1:] != mode_of[:-1]])
    enable[changed] = (1 << lanes) - 1  # a run in a new mode starts on every lane
    expected = expected_lanes(modes, mode_of, restart, a, b, enable, lanes)
    return MultiFormatVectors(kind, clear, a, b, expected, mode_of, enable)


def expected_lanes(modes, mode_of, restart, a, b, enable, lanes) -> np.ndarray:
    """Golden output codes ``(n, lanes)``: per mode segment and lane, the lane's enabled
    operations as MAC runs (:func:`expected_codes`), a held lane repeating its last code."""
    n = len(a)
    out = np.zeros((n, lanes), np.int64)
    starts = np.flatnonzero(np.concatenate([[True], mode_of[1:] != mode_of[:-1]]))
    ends = np.append(starts[1:], n)
    for s, e in zip(starts, ends):
        mode = modes[mode_of[s]]
        for k in range(mode.lanes):
            lo, bits = mode.lane_field(k)
            on = np.flatnonzero((enable[s:e] >> k) & 1) + s
            codes_a = (a[on] >> lo) & ((1 << bits) - 1)
            codes_b = (b[on] >> lo) & ((1 << bits) - 1)
            got = expected_codes(restart[on], codes_a, codes_b, mode.fmt, mode.fmt, mode.acc)
            # Held operations repeat the code of the lane's last enabled one (s is enabled).
            last = np.searchsorted(on, np.arange(s, e), side="right") - 1
            out[s:e, k] = got[last]
    return out
