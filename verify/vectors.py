"""Vector sets for MAC units, defined once: stimulus codes and golden expected register codes.

A vector set is a :class:`MacVectors`: per cycle an operation ``(clear, a, b)`` and the code the
accumulator holds after it, computed by :mod:`lowbit.golden` with the unit's own accumulator
object. The same arrays drive the Amaranth simulator, the cocotb testbenches and (later) the
cycle model.
"""

from dataclasses import dataclass, fields

import numpy as np

from lowbit.errors import LowbitError
from lowbit.golden import gemm

VECTOR_SETS = ("exhaustive", "corners", "random", "sequences")


@dataclass(frozen=True)
class MacVectors:
    """One operation per element: ``clear``, ``a``, ``b`` codes and the expected ``acc`` code."""

    name: str
    clear: np.ndarray
    a: np.ndarray
    b: np.ndarray
    expected: np.ndarray

    def __len__(self):
        return len(self.a)

    def save(self, path):
        """Write the arrays to an ``.npz`` file (for testbenches in another process)."""
        np.savez(path, **{f.name: getattr(self, f.name) for f in fields(self) if f.name != "name"})


def expected_codes(clear, a, b, a_fmt, b_fmt, acc) -> np.ndarray:
    """Register code after each operation: golden dot of the run since the last clear."""
    out = np.empty(len(a), dtype=np.int64)
    starts = np.flatnonzero(clear)
    ends = np.append(starts[1:], len(a))
    fmt = acc.out_fmt
    single = starts[ends - starts == 1]  # one-operation runs: all in one call
    out[single] = fmt.to_int(gemm.dot(a[single, None], b[single, None], a_fmt, b_fmt, acc))
    for s, e in zip(starts, ends):  # longer runs: every prefix
        if e - s == 1:
            continue
        length = e - s
        idx = np.arange(length)
        mask = idx[None, :] <= idx[:, None]  # prefix i covers elements 0..i
        av = np.where(mask, a[s:e][None, :], 0)
        bv = np.where(mask, b[s:e][None, :], 0)  # code 0 is the value 0 in int/fixed formats
        out[s:e] = fmt.to_int(gemm.dot(av, bv, a_fmt, b_fmt, acc))
    return out


def mac_vectors(kind, a_fmt, b_fmt, acc, seed=0, count=4096) -> MacVectors:
    """Build vector set ``kind`` (one of :data:`VECTOR_SETS`) for a MAC of these formats
    (``count`` operations for the ``random`` set, clearing about every tenth)."""
    rng = np.random.default_rng(seed)
    na, nb = 1 << a_fmt.bits, 1 << b_fmt.bits
    if kind == "exhaustive":
        if na * nb > 1 << 16:
            raise LowbitError(f"exhaustive vectors need at most 2**16 operand pairs, "
                              f"{a_fmt.name} x {b_fmt.name} has {na * nb}")
        a, b = (x.ravel() for x in np.meshgrid(np.arange(na), np.arange(nb), indexing="ij"))
        clear = np.ones(a.size, bool)
    elif kind == "corners":
        ca = np.array(sorted({0, 1, na - 1, na // 2, na // 2 - 1, na // 2 + 1}))
        cb = np.array(sorted({0, 1, nb - 1, nb // 2, nb // 2 - 1, nb // 2 + 1}))
        a, b = (x.ravel() for x in np.meshgrid(ca, cb, indexing="ij"))
        clear = np.ones(a.size, bool)
    elif kind == "random":
        a, b = rng.integers(0, na, count), rng.integers(0, nb, count)
        clear = rng.random(count) < 0.1
        clear[0] = True
    elif kind == "sequences":
        # Long runs of the extreme codes (overflow / saturation) and of cancelling pairs.
        ext_a = np.array([na // 2 - 1, na // 2])  # max and min for signed codes
        ext_b = np.array([nb // 2 - 1, nb // 2])
        run = 300
        a = np.concatenate([np.full(run, ext_a[0]), np.full(run, ext_a[1]),
                            np.tile(ext_a, run // 2), rng.integers(0, na, run)])
        b = np.concatenate([np.full(run, ext_b[0]), np.full(run, ext_b[0]),
                            np.tile(ext_b[::-1], run // 2), rng.integers(0, nb, run)])
        clear = np.zeros(a.size, bool)
        clear[::run] = True
    else:
        raise LowbitError(f"vector set must be one of {', '.join(VECTOR_SETS)}, not {kind!r}")
    a, b = a.astype(np.int64), b.astype(np.int64)
    return MacVectors(kind, clear, a, b, expected_codes(clear, a, b, a_fmt, b_fmt, acc))
