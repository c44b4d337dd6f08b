"""GEMM vector sets for compute engines: shapes, operands, input beats and expected output beats.

A set is a list of whole GEMMs for one engine (:class:`~lowbit.hdl.gemm_engine.GemmEngine`).
For each GEMM the engine's host-side contract gives the input beats, what every output lane
holds and the closed-form cycle count; golden (:meth:`GemmEngine.golden`, which calls
``lowbit.golden.gemm`` or the LUT reference with the engine's own accumulator) gives the
expected codes. The cocotb testbench :mod:`lowbit.verify.testbenches.gemm_tb` streams the beats,
compares every lane's bit pattern and measures the cycles.

Shapes are relative to the engine's natural tile ``(tm, tk, tn)`` (:attr:`GemmEngine.natural_tile`):

``gemm_quick`` (5 GEMMs)
    one exact tile with K = 4 tk; every dimension one past a multiple; K far larger than the
    array (16 x the largest side, plus 3); worst-case accumulator growth (every operand the
    format's largest magnitude, one sign); a GEMV (M = 1).
``gemm_full`` (20 GEMMs)
    seeded random shapes up to 3 tiles in M and N and 24 tk in K, operands alternating
    between random, growth and random-with-specials (NaN, Inf, NaR where the format has them).
"""

import json
from dataclasses import dataclass, field

import numpy as np

from lowbit.errors import LowbitError
from lowbit.golden.formats import BlockArray, BlockFormat
from lowbit.hdl.gemm_engine import Feedback, pack
from lowbit.paths import write_atomic
from lowbit.verify.vectors import extreme_codes

GEMM_SETS = ("gemm_quick", "gemm_full")
OPERAND_KINDS = ("random", "growth", "specials")


@dataclass(frozen=True)
class GemmCase:
    """One GEMM of a set: a label, its shape and operand kind."""

    label: str
    M: int
    K: int
    N: int
    kind: str


def gemm_cases(kind: str, engine, seed: int = 0) -> list:
    """The GEMMs of set ``kind`` (:data:`GEMM_SETS`) for ``engine``."""
    tm, tk, tn = engine.natural_tile
    if kind == "gemm_quick":
        big_k = 16 * max(tm, tk, tn) + 3
        return [GemmCase("one_tile", tm, 4 * tk, tn, "random"),
                GemmCase("ragged", tm + 1, 3 * tk + 1, tn + 1, "random"),
                GemmCase("long_k", 2, big_k, 3, "random"),
                GemmCase("growth", tm, 8 * tk + 1, tn, "growth"),
                GemmCase("gemv", 1, 5 * tk + 2, 2 * tn + 1, "specials")]
    if kind == "gemm_full":
        rng = np.random.default_rng(seed)
        cases = []
        for i in range(20):
            M = int(rng.integers(1, 3 * tm + 3))
            K = int(rng.integers(1, 24 * tk + 1))
            N = int(rng.integers(1, 3 * tn + 3))
            cases.append(GemmCase(f"random_{i}", M, K, N, OPERAND_KINDS[i % 3]))
        return cases
    raise LowbitError(f"GEMM vector set must be one of {', '.join(GEMM_SETS)}, not {kind!r}")


# --- operands ---------------------------------------------------------------------------------
def _finite_codes(fmt) -> np.ndarray:
    codes = np.arange(1 << fmt.bits, dtype=np.int64)
    if fmt.kind in ("int", "fixed"):
        return codes
    values = fmt.decode(codes)
    return codes[np.isfinite(values)]


def _special_codes(fmt) -> np.ndarray:
    if fmt.kind in ("int", "fixed"):
        return np.zeros(0, np.int64)
    codes = np.arange(1 << fmt.bits, dtype=np.int64)
    return codes[~np.isfinite(fmt.decode(codes))]


def _largest_code(fmt) -> int:
    """The code of largest magnitude (most negative for signed integers)."""
    largest, most_negative = extreme_codes(fmt)
    return int(most_negative if fmt.kind in ("int", "fixed") and fmt.signed else largest)


def scalar_codes(fmt, shape, kind, rng) -> np.ndarray:
    """Codes of ``fmt`` for one operand: ``random`` (uniform finite codes), ``growth`` (the
    largest magnitude everywhere), ``specials`` (random with 2% NaN/Inf/NaR codes)."""
    if kind == "growth":
        return np.full(shape, _largest_code(fmt), np.int64)
    codes = rng.choice(_finite_codes(fmt), size=shape)
    specials = _special_codes(fmt)
    if kind == "specials" and len(specials):
        hit = rng.random(shape) < 0.02
        codes = np.where(hit, rng.choice(specials, size=shape), codes)
    return codes.astype(np.int64)


def block_operand(fmt: BlockFormat, rows: int, k: int, kind, rng) -> BlockArray:
    """A BlockArray of ``fmt`` of ``rows`` vectors of length ``k`` blocked along ``k``: element
    codes as :func:`scalar_codes`, scale codes around 1.0 (within 2**+-4)."""
    blocks = -(-k // fmt.block_size)
    padded = blocks * fmt.block_size
    elements = scalar_codes(fmt.element, (rows, padded), kind, rng)
    elements[:, k:] = 0
    log2 = rng.integers(-4, 5, size=(rows, blocks)) if kind != "growth" else \
        np.zeros((rows, blocks), np.int64)
    scales = fmt.scale.encode(np.ldexp(1.0, log2))
    return BlockArray(fmt, elements.astype(fmt.element.code_dtype),
                      scales.astype(fmt.scale.code_dtype), (rows, k), 1)


def group_operand(scheme, K: int, N: int, kind, rng):
    """Group-quantized weights (:class:`~lowbit.golden.mpgemm.GroupWeights`) of ``scheme``:
    codes as :func:`scalar_codes` (ternary: codes 0, 1, 3), scales around 1.0 (within
    2**+-6, either sign), zero points uniform over the weight format. ``growth``: the codes
    and zero points of largest ``|q - z|`` and the largest finite scale; ``specials``: 2% of
    the scales NaN or infinite."""
    from lowbit.golden.mpgemm import TERNARY_CODES, GroupWeights

    fmt, groups = scheme.fmt, scheme.groups(K)
    if scheme.ternary:
        codes = rng.choice(np.array(TERNARY_CODES), size=(K, N))
    else:
        codes = scalar_codes(fmt, (K, N), kind, rng)
    if kind == "growth":
        scales = np.full((groups, N), scheme.scale.max_code)
        zeros = np.full((groups, N), fmt.max_int if fmt.signed else fmt.min_int)
        if not fmt.signed:
            codes = np.full((K, N), (1 << fmt.bits) - 1)
    else:
        values = np.ldexp(rng.uniform(1, 2, (groups, N)), rng.integers(-6, 7, (groups, N)))
        scales = scheme.scale.encode(values * rng.choice([1.0, -1.0], (groups, N)))
        if kind == "specials":
            hit = rng.random((groups, N)) < 0.02
            specials = _special_codes(scheme.scale)
            scales = np.where(hit, rng.choice(specials, size=(groups, N)), scales)
        zeros = rng.integers(fmt.min_int, fmt.max_int + 1, (groups, N))
    return GroupWeights(scheme, codes.astype(np.int64), scales.astype(np.int64),
                        zeros.astype(np.int64) if scheme.zero_point else None)


def operands(engine, case: GemmCase, rng):
    """``(A, B)`` for ``case``: A is ``M x K``, B is ``K x N`` (BlockArrays for block formats;
    B's BlockArray is stored blocked along K, as golden ``gemm`` takes it; GroupWeights for a
    group-quantized weight scheme)."""
    a_fmt, b_fmt = engine.a_fmt, engine.b_fmt
    if getattr(b_fmt, "kind", None) == "groupwise":
        return (scalar_codes(a_fmt, (case.M, case.K), case.kind, rng),
                group_operand(b_fmt, case.K, case.N, case.kind, rng))
    if isinstance(a_fmt, BlockFormat):
        A = block_operand(a_fmt, case.M, case.K, case.kind, rng)
        Bt = block_operand(b_fmt, case.N, case.K, case.kind, rng)
        return A, BlockArray(b_fmt, Bt.elements, Bt.scales, (case.K, case.N), 0)
    return (scalar_codes(a_fmt, (case.M, case.K), case.kind, rng),
            scalar_codes(b_fmt, (case.K, case.N), case.kind, rng))


# --- the set the testbench runs ----------------------------------------------------------------
@dataclass
class GemmVectors:
    """GEMMs ready for the testbench: per GEMM its beats, expected outputs and cycle count."""

    kind: str
    gemms: list = field(default_factory=list)
    suffix = ".json"  # the file type :meth:`save` writes

    def __len__(self):
        """Output lanes compared (padding excluded)."""
        return sum(g["checked"] for g in self.gemms)

    @property
    def macs(self) -> int:
        """Multiply-accumulates of every GEMM in the set."""
        return sum(g["M"] * g["K"] * g["N"] for g in self.gemms)

    def save(self, path):
        """Write the set as JSON for :mod:`lowbit.verify.testbenches.gemm_tb`."""
        return write_atomic(path, json.dumps({"kind": self.kind, "gemms": self.gemms}))


def _beat_values(beat, ports):
    return [{"feedback": v.beat} if isinstance(v, Feedback) else int(v)
            for v in (beat[p] for p in ports)]


def stream(engine, case: GemmCase, A, B) -> dict:
    """One GEMM as the testbench takes it: beats, expected output beats, lane map, cycles."""
    M, K, N = case.M, case.K, case.N
    beats = engine.input_beats(A, B)
    ports = sorted(beats[0])
    lanes = engine.output_map(M, K, N)
    goldens = {}
    width = engine.out_bits
    expected, masks, where = [], [], []
    for lane_map in lanes:
        values, mask = [], 0
        for j, spot in enumerate(lane_map):
            if spot is None:
                values.append(0)
                continue
            m, n, k_end = spot
            if k_end not in goldens:
                goldens[k_end] = engine.golden(A, B, k_end)
            values.append(int(goldens[k_end][m, n]))
            mask |= ((1 << width) - 1) << (j * width)
        expected.append(pack(values, width))
        masks.append(mask)
        where.append([list(s) if s else None for s in lane_map])
    return {"label": case.label, "M": M, "K": K, "N": N, "kind": case.kind,
            "cycles": engine.cycles(M, K, N), "ports": ports,
            "beats": [_beat_values(b, ports) for b in beats],
            "expected": [hex(e) for e in expected], "masks": [hex(x) for x in masks],
            "where": where, "checked": sum(s is not None for row in lanes for s in row)}


def gemm_vectors(kind: str, engine, seed: int = 0) -> GemmVectors:
    """Build vector set ``kind`` for ``engine`` (seeded; see the module docstring)."""
    rng = np.random.default_rng(seed)
    vectors = GemmVectors(kind)
    for case in gemm_cases(kind, engine, seed):
        A, B = operands(engine, case, rng)
        vectors.gemms.append(stream(engine, case, A, B))
    return vectors
