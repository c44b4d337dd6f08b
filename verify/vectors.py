"""Vector sets for MAC units, defined once: stimulus codes and golden expected register codes.

A vector set is a :class:`MacVectors`: per cycle an operation ``(clear, a, b)`` and the code the
accumulator holds after it, computed by :mod:`lowbit.golden` with the unit's own accumulator
object. The same arrays drive the Amaranth simulator, the cocotb testbenches and (later) the
cycle model.
"""

import json
from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np

from lowbit.errors import LowbitError
from lowbit.golden import gemm

VECTOR_SETS = ("exhaustive", "corners", "random", "sequences")
#: Sets for the full regression only: ``walk`` is two runs of ``2**13`` largest products.
LONG_SETS = ("walk",)
WALK_OPS = 1 << 13
#: Sets too long for a cocotb testbench, for the C++ mutant driver only (adequacy campaigns,
#: which check the unmutated netlist against golden on every operation): ``climb`` is one run
#: of ``2**24`` largest products, a quire's sum climbing to ``2**24 * maxpos**2``.
DEEP_SETS = ("climb",)
CLIMB_OPS = 1 << 24
#: Committed fault-directed operation runs, one JSON file per exported MAC configuration.
DIRECTED = Path(__file__).with_name("data") / "directed"


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
    """Register code after each operation: golden's dot of the run since the last clear
    (:func:`~lowbit.golden.gemm.prefix_dot`).

    Codes are returned as integers: signed for integer and fixed-point registers (``to_int``),
    the unsigned code otherwise.
    """
    out = np.empty(len(a), dtype=np.int64)
    starts = np.flatnonzero(clear)
    ends = np.append(starts[1:], len(a))
    fmt = acc.out_fmt
    as_int = fmt.to_int if fmt.kind in ("int", "fixed") else (lambda c: c.astype(np.int64))
    single = starts[ends - starts == 1]  # one-operation runs: all in one call
    out[single] = as_int(gemm.dot(a[single, None], b[single, None], a_fmt, b_fmt, acc))
    for s, e in zip(starts, ends):  # longer runs: every prefix
        if e - s > 1:
            out[s:e] = as_int(gemm.prefix_dot(a[s:e], b[s:e], a_fmt, b_fmt, acc))
    return out


def extreme_codes(fmt) -> np.ndarray:
    """Codes of the largest and the most negative finite values (the smallest if unsigned)."""
    if fmt.kind in ("int", "fixed"):
        n = 1 << fmt.bits
        return np.array([n // 2 - 1, n // 2]) if fmt.signed else np.array([n - 1, 0])
    return np.array([fmt.max_code, fmt.min_code])


def corner_codes(fmt) -> np.ndarray:
    """Zeros, +-1 LSB codes, extremes, the sign boundary; specials and 1.0 where they exist."""
    n = 1 << fmt.bits
    codes = {0, 1, n - 1, n // 2, n // 2 - 1, n // 2 + 1, *extreme_codes(fmt).tolist()}
    for special in ("nan_code", "inf_code", "nar_code"):
        code = getattr(fmt, special, None)
        if code is not None:
            codes |= {code, code | (n // 2)} if fmt.signed else {code}
    if fmt.kind in ("float", "posit"):
        codes |= {int(c) for c in fmt.encode(np.array([1.0, -1.0 if fmt.signed else 1.0]))}
    return np.array(sorted(c for c in codes if 0 <= c < n))


def mac_stimulus(kind, a_fmt, b_fmt, seed=0, count=4096) -> tuple:
    """The operations ``(clear, a, b)`` of vector set ``kind`` (one of :data:`VECTOR_SETS`,
    :data:`LONG_SETS` or :data:`DEEP_SETS`) for a MAC of these operand formats (``count``
    operations for the ``random`` set, clearing about every tenth); int64 codes, bool clears."""
    rng = np.random.default_rng(seed)
    na, nb = 1 << a_fmt.bits, 1 << b_fmt.bits
    if kind == "exhaustive":
        if na * nb > 1 << 16:
            raise LowbitError(f"exhaustive vectors need at most 2**16 operand pairs, "
                              f"{a_fmt.name} x {b_fmt.name} has {na * nb}")
        a, b = (x.ravel() for x in np.meshgrid(np.arange(na), np.arange(nb), indexing="ij"))
        clear = np.ones(a.size, bool)
    elif kind == "corners":
        ca, cb = corner_codes(a_fmt), corner_codes(b_fmt)
        a, b = (x.ravel() for x in np.meshgrid(ca, cb, indexing="ij"))
        clear = np.ones(a.size, bool)
    elif kind == "random":
        a, b = rng.integers(0, na, count), rng.integers(0, nb, count)
        clear = rng.random(count) < 0.1
        clear[0] = True
    elif kind == "sequences":
        # Long runs of the extreme codes (overflow / saturation), of cancelling pairs, of
        # random codes, and a large sum followed by random small terms (sticky alignment).
        ext_a, ext_b = extreme_codes(a_fmt), extreme_codes(b_fmt)
        run = 300
        half = run // 2
        a = np.concatenate([np.full(run, ext_a[0]), np.full(run, ext_a[1]),
                            np.tile(ext_a, half), rng.integers(0, na, run),
                            np.full(half, ext_a[0]), rng.integers(0, na, half)])
        b = np.concatenate([np.full(run, ext_b[0]), np.full(run, ext_b[0]),
                            np.tile(ext_b[::-1], half), rng.integers(0, nb, run),
                            np.full(half, ext_b[0]), rng.integers(0, nb, half)])
        clear = np.zeros(a.size, bool)
        clear[::run] = True
    elif kind == "walk":
        # The largest product WALK_OPS times, positive then negative: a wide accumulator's
        # high bits, its carries and the output normalizer see every leading-one position
        # such a sum reaches (a quire's carry-guard bits stay out of reach of short runs).
        ext_a, ext_b = extreme_codes(a_fmt), extreme_codes(b_fmt)
        a = np.full(2 * WALK_OPS, ext_a[0])
        b = np.concatenate([np.full(WALK_OPS, ext_b[0]), np.full(WALK_OPS, ext_b[1])])
        clear = np.zeros(a.size, bool)
        clear[::WALK_OPS] = True
    elif kind == "climb":
        ext_a, ext_b = extreme_codes(a_fmt), extreme_codes(b_fmt)
        a, b = np.full(CLIMB_OPS, ext_a[0]), np.full(CLIMB_OPS, ext_b[0])
        clear = np.zeros(a.size, bool)
        clear[0] = True
    else:
        raise LowbitError(f"vector set must be one of "
                          f"{', '.join(VECTOR_SETS + LONG_SETS + DEEP_SETS)}, not {kind!r}")
    return clear, a.astype(np.int64), b.astype(np.int64)


def mac_vectors(kind, a_fmt, b_fmt, acc, seed=0, count=4096) -> MacVectors:
    """Build vector set ``kind`` (:func:`mac_stimulus`) for a MAC of these formats, its
    expected codes from golden with ``acc``."""
    clear, a, b = mac_stimulus(kind, a_fmt, b_fmt, seed, count)
    return MacVectors(kind, clear, a, b, expected_codes(clear, a, b, a_fmt, b_fmt, acc))


def mac_formats(unit) -> tuple:
    """``(a_fmt, b_fmt, accumulator)`` of a MAC unit; a PositMac has one format and its quire."""
    if hasattr(unit, "quire"):
        return unit.fmt, unit.fmt, unit.quire
    return unit.a_fmt, unit.b_fmt, unit.accumulator


def directed_path(name: str) -> Path:
    """Where the directed runs of configuration ``name`` are committed."""
    return DIRECTED / f"{name}.json"


def directed_vectors(name, a_fmt, b_fmt, acc) -> MacVectors:
    """The ``directed`` set of configuration ``name``: operation runs a SAT search found to
    expose mutants the other sets miss (:mod:`lowbit.verify.faults.adequacy`), each run
    starting with a clear; expected codes come from golden like every other set."""
    runs = json.loads(directed_path(name).read_text())["runs"]
    return ops_vectors("directed", [op for run in runs for op in run["ops"]], a_fmt, b_fmt, acc)


def ops_vectors(kind, ops, a_fmt, b_fmt, acc) -> MacVectors:
    """A set from operations ``(clear, a, b)`` (the first must clear), expected from golden."""
    clear, a, b = (np.array(x, dtype=np.int64) for x in zip(*ops))
    if not clear[0]:
        raise LowbitError(f"vector set {kind!r} must start with a clearing operation")
    clear = clear.astype(bool)
    return MacVectors(kind, clear, a, b, expected_codes(clear, a, b, a_fmt, b_fmt, acc))
