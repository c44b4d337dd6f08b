"""Oracle tests for the accumulator models, ``gemm.dot`` and ``gemm.gemm``.

The reference here is an exact :class:`fractions.Fraction` model written independently of
lowbit's arithmetic:

* Operand codes are decoded by the shared oracle :mod:`tests.golden.fraction_oracle`
  (IEEE-style / OCP minifloats, two's complement integers, fixed point, posits from the bit
  string, E8M0 and UE4M3 scales), which also rounds and encodes results; one test
  cross-checks its decoders against ``fmt.decode``.
* Products are exact Fractions with IEEE special rules (NaN, Inf, ``0 * Inf``, signed zeros:
  the sign of a product is the XOR of the operand signs, also for a zero product).
* Each accumulator model is then applied step by step (module docstring of
  ``lowbit.golden.accumulators``): ExactAccumulator / Quire = exact sum, one rounding;
  FixedAccumulator = each product rounded onto the ``2**-frac_bits`` grid, then a register
  that wraps modulo ``2**bits`` or saturates after every addition in K order;
  FloatAccumulator = ``acc = round(acc + p_k)`` from +0, or ``tree(f)``: leaves rounded into
  the format, groups of ``f`` reduced pairwise ``(0,1), (2,3), ...`` with a rounding at every
  node, the last group padded with +0, group sums accumulated sequentially from +0.
* Rounding into IEEE formats (fp64/fp32/fp16/bf16) is exact rounding of a Fraction on the
  format's grid (all five directed / nearest modes, IEEE 754 overflow directions); rounding
  into posits is nearest-even over the posit value set, with the tie between adjacent
  patterns ``p`` and ``p+1`` taken as the value of the (n+1)-bit pattern ``2p+1``, never to 0
  or NaR.
* Exact zero sums follow IEEE 754 6.3 for every two-operand addition (+0 unless both are -0,
  or opposite signs under ``rdn``); an exact (Kulisch) sum is -0 only if every term is -0.
* NaN results are compared as "is a NaN of the output format" (IEEE leaves the NaN sign
  open), except where lowbit itself promises bit-identical paths.

External oracles: plain ``np.float32`` loops (FloatAccumulator(fp32) sequential) and
SoftPosit's quire8 / quire16 (``q.qma(a, b)`` then ``q.toPosit()``).
"""

import re
import zlib
from fractions import Fraction as Q
from functools import lru_cache

import numpy as np
import pytest
import softposit as sp

from lowbit.errors import LowbitError, OperationError
from lowbit.golden import arith, formats, gemm
from lowbit.golden.accumulators import (ExactAccumulator, FixedAccumulator, FloatAccumulator,
                                        Quire, tree)
from tests.golden.fraction_oracle import (POSITS, PZERO, V, decode, encode, fin, floor_log2, pow2,
                                          products, round_ieee, round_int, round_posit, round_to,
                                          vadd, value_table, vmul, vsum_exact)


def _rng(*key):
    """A generator seeded from a readable key, so each test is reproducible on its own."""
    return np.random.default_rng(zlib.crc32(repr(key).encode()))


# ==========================================================================================
# The accumulator models, step by step with Fractions
# ==========================================================================================

def oracle_value(acc, terms) -> V:
    """The value the accumulator ``acc`` produces from exact terms (list of V), in K order."""
    if isinstance(acc, ExactAccumulator):
        return round_to(vsum_exact(terms), acc.out_fmt.name, acc.rounding)
    if isinstance(acc, Quire):
        return round_posit(vsum_exact(terms), acc.posit_fmt.name)
    if isinstance(acc, FixedAccumulator):
        bits = acc.int_bits + acc.frac_bits
        lo, hi = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
        r = 0
        for t in terms:
            assert t.kind == "fin", "fixed accumulators take finite products only"
            i = round_int(t.q * (1 << acc.frac_bits), acc.rounding)
            assert lo <= i <= hi, "check_operands guarantees one product fits"
            r += i
            if acc.overflow == "saturate":
                r = min(max(r, lo), hi)
        if acc.overflow == "wrap":
            r = (r + (1 << (bits - 1))) % (1 << bits) - (1 << (bits - 1))
        return fin(Q(r, 1 << acc.frac_bits))
    assert isinstance(acc, FloatAccumulator)
    name, mode = acc.fmt.name, acc.rounding
    ov = acc.overflow or "inf"

    def rnd(x):
        return round_ieee(x, name, mode, ov)

    def sequential(seq):
        r = PZERO
        for t in seq:
            r = rnd(vadd(r, t, mode))
        return r

    if acc.order == "sequential":
        return sequential(terms)
    f = acc.order.fan_in
    leaves = [rnd(t) for t in terms]
    leaves += [PZERO] * (-len(leaves) % f)
    sums = []
    for g in range(0, len(leaves), f):
        level = leaves[g:g + f]
        while len(level) > 1:
            level = [rnd(vadd(level[i], level[i + 1], mode)) for i in range(0, len(level), 2)]
        sums.append(level[0])
    return sequential(sums)


def oracle_code(acc, terms, out_fmt=None):
    v = oracle_value(acc, terms)
    name = acc.out_fmt.name
    if out_fmt is not None and out_fmt != acc.out_fmt:
        name = out_fmt.name
        v = round_to(v, name, "rne")
    return encode(v, name), v, name


# ==========================================================================================
# Comparison with readable failure messages
# ==========================================================================================

def _hex(codes, limit=12):
    codes = [int(c) for c in np.ravel(codes)]
    s = " ".join(f"{c:x}" for c in codes[:limit])
    return s + (f" ... ({len(codes)} codes)" if len(codes) > limit else "")


def _is_nan_code(name, code):
    return decode(name, int(code)).kind == "nan"


def compare(got, expected, describe, what=""):
    """``got``: array of lowbit codes; ``expected``: list of (code or None=NaN, V, fmt name)."""
    got = np.ravel(got)
    bad = []
    for i, (g, (code, v, name)) in enumerate(zip(got, expected)):
        ok = _is_nan_code(name, g) if code is None else int(g) == code
        if not ok:
            bad.append(i)
    if bad:
        lines = [f"{what}: {len(bad)} of {len(expected)} results differ from the oracle"]
        for i in bad[:6]:
            code, v, name = expected[i]
            g = int(got[i])
            want = "any NaN" if code is None else f"0x{code:x}"
            lines.append(f"  [{i}] {describe(i)}\n      lowbit 0x{g:x} = {decode(name, g)}"
                         f"   oracle {want} = {v}  ({name})")
        pytest.fail("\n".join(lines))


# ==========================================================================================
# Operand formats, accumulators, stimulus
# ==========================================================================================

OPERANDS = ["fp8_e4m3", "fp8_e5m2", "fp4_e2m1", "int8", "int4", "posit8_0", "posit16_1"]

# (int_bits, frac_bits): one bit above the largest product magnitude (so sums overflow soon),
# fraction bits below which products round.
FIXED_WIDTH = {"fp8_e4m3": (19, 4), "fp8_e5m2": (33, 10), "fp4_e2m1": (7, 1), "int8": (16, 0),
               "int4": (8, 0), "posit8_0": (14, 8), "posit16_1": (58, 4)}

FP = {n: formats.get(n) for n in ("fp64", "fp32", "fp16", "bf16")}


def _acc_id(acc):
    if isinstance(acc, ExactAccumulator):
        return f"exact-{acc.out_fmt.name}-{acc.rounding}"
    if isinstance(acc, Quire):
        return f"quire-{acc.posit_fmt.name}-{acc.standard}"
    if isinstance(acc, FixedAccumulator):
        return f"fixed{acc.int_bits}_{acc.frac_bits}-{acc.overflow}-{acc.rounding}"
    order = "seq" if acc.order == "sequential" else str(acc.order).replace("(", "").replace(")", "")
    sat = f"-{acc.overflow}" if acc.overflow else ""
    return f"float-{acc.fmt.name}-{acc.rounding}-{order}{sat}"


def accumulators_for(fmt_name):
    accs = [ExactAccumulator(FP[n]) for n in ("fp32", "fp16", "bf16")]
    accs.append(ExactAccumulator(FP["fp16"], "rtz"))
    ib, fb = FIXED_WIDTH[fmt_name]
    accs += [FixedAccumulator(ib, fb, "wrap", "rne"), FixedAccumulator(ib, fb, "saturate", "rne"),
             FixedAccumulator(ib, fb, "saturate", "rdn")]
    for n in ("fp32", "fp16", "bf16"):
        for mode in ("rne", "rtz"):
            for order in ("sequential", tree(4), tree(8)):
                accs.append(FloatAccumulator(FP[n], mode, order))
    # extra directed modes: exact-zero signs under rdn, overflow directions
    accs += [FloatAccumulator(FP["fp16"], "rdn", "sequential"),
             FloatAccumulator(FP["fp16"], "rup", tree(4)),
             FloatAccumulator(FP["fp16"], "rne", "sequential", "saturate"),
             FloatAccumulator(FP["fp16"], "rtz", tree(8), "saturate")]
    if fmt_name in POSITS:
        for std in ("2022", "draft"):
            accs.append(Quire(formats.get(fmt_name), std))
    return accs


@lru_cache(maxsize=None)
def catalog(name):
    """Code lists by category, from the independent decoder."""
    table = value_table(name)
    finite = [c for c, v in enumerate(table) if v.kind == "fin"]
    nonzero = [c for c in finite if table[c].q != 0]
    pos = sorted((c for c in nonzero if table[c].q > 0), key=lambda c: table[c].q)
    neg = sorted((c for c in nonzero if table[c].q < 0), key=lambda c: -table[c].q)
    code_of = {}
    for c in nonzero:
        code_of.setdefault(table[c].q, c)
    zeros = [c for c in finite if table[c].q == 0]
    pz = next(c for c in zeros if not table[c].neg)
    nz = next((c for c in zeros if table[c].neg), None)
    return dict(finite=finite, pos=pos, neg=neg, code_of=code_of, pz=pz, nz=nz,
                max=pos[-1], nmax=code_of[-table[pos[-1]].q], minpos=pos[0],
                nminpos=code_of[-table[pos[0]].q],
                nan=[c for c, v in enumerate(table) if v.kind == "nan"],
                pinf=[c for c, v in enumerate(table) if v.kind == "inf" and not v.neg],
                ninf=[c for c, v in enumerate(table) if v.kind == "inf" and v.neg])


def _rows(pairs_rows, pad_pair):
    """List of rows of (a, b) code pairs -> A, B arrays padded to one K with ``pad_pair``."""
    k = max(len(r) for r in pairs_rows)
    rows = [list(r) + [pad_pair] * (k - len(r)) for r in pairs_rows]
    a = np.array([[p[0] for p in r] for r in rows], dtype=np.uint64)
    b = np.array([[p[1] for p in r] for r in rows], dtype=np.uint64)
    return a, b


def stimulus(name, case):
    """``(A, B)`` code arrays of one shape (R, K) for dot products along the last axis."""
    cat = catalog(name)
    rng = _rng(name, case)
    fin_codes = np.array(cat["finite"], dtype=np.uint64)
    pz = cat["pz"]
    big, nbig = (cat["max"], cat["max"]), (cat["nmax"], cat["max"])
    tiny, ntiny = (cat["minpos"], cat["minpos"]), (cat["nminpos"], cat["minpos"])

    def rand_pair():
        return tuple(int(x) for x in rng.choice(fin_codes, 2))

    if case in ("random", "k1", "k2", "k31", "long"):
        r, k = {"random": (8, 13), "k1": (8, 1), "k2": (8, 2), "k31": (4, 31),
                "long": (3, 1024)}[case]
        a, b = rng.choice(fin_codes, (r, k)), rng.choice(fin_codes, (r, k))
        if case == "long":  # one row with only positive products: large, inexact sums
            a[2] = rng.choice(np.array(cat["pos"], np.uint64), k)
            b[2] = rng.choice(np.array(cat["pos"], np.uint64), k)
        return a.astype(np.uint64), b.astype(np.uint64)
    if case == "cancel":
        mids = [rand_pair() for _ in range(6)]
        rows = [[big, tiny, tiny, nbig, tiny],
                [big, ntiny, nbig, tiny, tiny],
                [tiny, big, tiny, nbig, ntiny],
                [big, big, tiny, nbig, nbig],
                [big, mids[0], mids[1], nbig, mids[2]],
                [nbig, tiny, mids[3], big, ntiny, mids[4]],
                [big, tiny, nbig],
                [tiny, big, nbig],
                [big, nbig, tiny],
                [big, ntiny, nbig, tiny]]
        for _ in range(6):
            row = [big] * 3 + [nbig] * 3 + [rand_pair() for _ in range(2)] + [tiny, ntiny]
            rng.shuffle(row)
            rows.append(row)
        return _rows(rows, (pz, pz))
    if case == "subnormal":
        small_pos, small_neg = cat["pos"][:4], cat["neg"][:4]
        pool = np.array(small_pos + small_neg, dtype=np.uint64)
        rows = [[tiny] * 16, [tiny, ntiny] * 8, [ntiny] * 16, [tiny] * 15 + [nbig]]
        for _ in range(6):
            rows.append([tuple(int(x) for x in rng.choice(pool, 2)) for _ in range(16)])
        return _rows(rows, (pz, pz))
    if case == "zeros":
        nz = cat["nz"]
        negs, poss = cat["neg"], cat["pos"]
        x, nx = cat["code_of"][decode(name, poss[len(poss) // 2]).q], None
        nx = cat["code_of"][-decode(name, x).q]
        y = poss[len(poss) // 3]
        mzero = (pz, negs[3])  # +0 * negative = -0 (also for formats without a -0 code)
        pzero = (pz, poss[3])
        rows = [[mzero] * 4, [pzero] * 4, [mzero, pzero, mzero], [pzero, mzero],
                [(x, y), (nx, y)], [(x, y), (nx, y), mzero], [mzero, (x, y), (nx, y)],
                [(nx, y), (x, y), mzero, mzero], [ntiny], [ntiny, mzero], [ntiny, pzero],
                [tiny, ntiny], [mzero] * 9]
        if nz is not None:
            rows += [[(nz, pz)] * 3, [(nz, nz)], [(nz, nz), (nz, pz)], [(pz, nz), (nz, pz)],
                     [(nz, poss[0])] * 5]
        return _rows(rows, mzero)
    if case == "specials":
        nan = cat["nan"]
        one_pair = rand_pair()
        rows = [[(nan[0], one_pair[1])], [one_pair, (nan[-1], cat["max"])],
                [(nan[0], pz)], [big, (nan[-1], nan[0])]]
        if cat["pinf"]:
            pi, ni = cat["pinf"][0], cat["ninf"][0]
            rows += [[(pi, cat["max"])], [(ni, cat["max"]), big], [(pi, pz)], [(pz, ni)],
                     [(pi, cat["max"]), (ni, cat["max"])], [(pi, cat["nmax"]), big, nbig],
                     [(pi, pi), (ni, ni)], [(ni, pi), nbig], [(pi, cat["max"]), (nan[0], pz)],
                     [big, (pi, cat["minpos"]), tiny]]
        return _rows(rows, (pz, pz))
    if case == "overflow":
        rows = [[big] * 24, [nbig] * 24, [big] * 12 + [nbig] * 12, [big, nbig] * 12,
                [big] * 4 + [nbig] * 8 + [big] * 4, [nbig] * 3 + [big] * 20 + [tiny],
                [big] * 7 + [nbig] * 7 + [big] * 7]
        return _rows(rows, (pz, pz))
    raise AssertionError(case)


# FloatAccumulators that also run K = 1024 (the others run K <= 31).
LONG_FLOAT = {("fp32", "rne", "sequential"), ("fp16", "rtz", "sequential"),
              ("bf16", "rne", "tree(4)"), ("fp16", "rne", "tree(8)"), ("fp32", "rtz", "tree(8)")}

CASES = ["random", "k1", "k2", "k31", "cancel", "subnormal", "zeros", "specials", "overflow",
         "long"]


def _dot_params():
    out = []
    for name in OPERANDS:
        has_specials = bool(catalog(name)["nan"] or catalog(name)["pinf"])
        for acc in accumulators_for(name):
            for case in CASES:
                if case == "specials" and (not has_specials or isinstance(acc, FixedAccumulator)
                                           or getattr(acc, "overflow", None) == "saturate"):
                    continue  # fixed: NaN raises (own test); saturate: Inf operands unspecified
                if case == "long" and isinstance(acc, FloatAccumulator) and (
                        acc.fmt.name, acc.rounding, str(acc.order)) not in LONG_FLOAT:
                    continue  # K = 1024 costs 1024 vector steps in lowbit: a subset
                out.append(pytest.param(name, acc, case, id=f"{name}-{_acc_id(acc)}-{case}"))
    return out


def _describe_rows(name, a, b):
    def describe(i):
        return (f"row {i}: a=[{_hex(a[i])}] b=[{_hex(b[i])}] ({name}); products "
                f"[{', '.join(str(p) for p in products(name, name, a[i][:6], b[i][:6]))}"
                f"{', ...' if a.shape[-1] > 6 else ''}]")
    return describe


# ==========================================================================================
# 0. The test's own decoders agree with lowbit's (so the oracle's inputs are the same values)
# ==========================================================================================

@pytest.mark.parametrize("name", OPERANDS + ["e8m0", "ue4m3", "fp16", "bf16"])
def test_oracle_decoders_match_lowbit_decode(name):
    fmt = formats.get(name)
    codes = np.arange(1 << fmt.bits, dtype=np.uint64)
    got = fmt.decode(codes)
    for c, v in enumerate(value_table(name)):
        if v.kind == "nan":
            assert np.isnan(got[c]), (name, hex(c))
        elif v.kind == "inf":
            assert got[c] == (-np.inf if v.neg else np.inf), (name, hex(c))
        else:
            assert Q(float(got[c])) == v.q and bool(np.signbit(got[c])) == v.neg, (name, hex(c))


def test_oracle_rounding_sanity():
    """Spot checks of the test's own rounding against known IEEE / posit facts."""
    assert encode(round_ieee(fin(Q(65520)), "fp16"), "fp16") == 0x7C00  # ties to Inf
    assert encode(round_ieee(fin(Q(65519)), "fp16"), "fp16") == 0x7BFF
    assert encode(round_ieee(fin(Q(-70000)), "fp16", "rtz"), "fp16") == 0xFBFF
    assert encode(round_ieee(fin(Q(-70000)), "fp16", "rdn"), "fp16") == 0xFC00
    assert encode(round_ieee(fin(pow2(-25)), "fp16"), "fp16") == 0x0000  # tie to even 0
    assert encode(round_ieee(fin(-pow2(-25) * Q(3, 2)), "fp16"), "fp16") == 0x8001
    assert encode(round_ieee(fin(1 + pow2(-8)), "bf16"), "bf16") == 0x3F80
    third = int(np.float32(1 / 3).view(np.uint32))
    assert encode(round_ieee(fin(Q(1, 3)), "fp32"), "fp32") == third
    # posit(8,0): maxpos 64, minpos 1/64; posit16_1 maxpos 2**28
    assert encode(round_posit(fin(Q(1000)), "posit8_0"), "posit8_0") == 0x7F
    assert encode(round_posit(fin(Q(1, 10**6)), "posit8_0"), "posit8_0") == 0x01
    assert encode(round_posit(fin(-pow2(40)), "posit16_1"), "posit16_1") == 0x8001
    # Between 32 (0x7E) and 64 (0x7F) the bit-string tie is the posit(9,0) pattern 0xFD = 48.
    assert encode(round_posit(fin(Q(48)), "posit8_0"), "posit8_0") == 0x7E
    assert encode(round_posit(fin(Q(49)), "posit8_0"), "posit8_0") == 0x7F
    for c in range(1, 255):
        if c != 0x80:
            assert encode(round_posit(decode("posit8_0", c), "posit8_0"), "posit8_0") == c


# ==========================================================================================
# 1. Every accumulator model on random and adversarial dot products
# ==========================================================================================

@pytest.mark.parametrize("name,acc,case", _dot_params())
def test_dot_matches_fraction_oracle(name, acc, case):
    fmt = formats.get(name)
    a, b = stimulus(name, case)
    got = gemm.dot(a.astype(fmt.code_dtype), b.astype(fmt.code_dtype), fmt, fmt, acc)
    assert got.shape == a.shape[:-1]
    assert got.dtype == acc.out_fmt.code_dtype
    expected = [oracle_code(acc, products(name, name, a[i], b[i])) for i in range(a.shape[0])]
    compare(got, expected, _describe_rows(name, a, b), f"{name} {_acc_id(acc)} {case}")


# Every prefix of one run (what a MAC register holds after each operation): the streaming
# exact path (Kulisch, quire) and the padded-dot path (the others), against the oracle per prefix.
PREFIX_ACCS = [ExactAccumulator(FP["fp32"]), ExactAccumulator(FP["fp16"], "rtz"),
               FloatAccumulator(FP["fp16"], "rne", "sequential"),
               FloatAccumulator(FP["fp16"], "rdn", "sequential"),
               FloatAccumulator(FP["bf16"], "rne", tree(4))]


def _prefix_params():
    out = []
    for name in ("fp8_e4m3", "fp4_e2m1", "int8", "posit8_0", "posit16_1"):
        accs = PREFIX_ACCS + [FixedAccumulator(*FIXED_WIDTH[name], "saturate", "rne")]
        accs += [Quire(formats.get(name))] if name in POSITS else []
        for acc in accs:
            for case in ("cancel", "zeros", "specials", "overflow"):
                if case == "specials" and (isinstance(acc, FixedAccumulator)
                                           or not catalog(name)["nan"]):
                    continue
                out.append(pytest.param(name, acc, case, id=f"{name}-{_acc_id(acc)}-{case}"))
    return out


@pytest.mark.parametrize("name,acc,case", _prefix_params())
def test_prefix_dot_matches_fraction_oracle_on_every_prefix(name, acc, case):
    """The rows of a stimulus case joined into one run; ``chunk=5`` streams the exact path
    through several chunks."""
    fmt = formats.get(name)
    a, b = stimulus(name, case)
    a, b = a.ravel()[:160], b.ravel()[:160]
    got = gemm.prefix_dot(a.astype(fmt.code_dtype), b.astype(fmt.code_dtype), fmt, fmt, acc,
                          chunk=5)
    assert got.shape == a.shape and got.dtype == acc.out_fmt.code_dtype
    terms = products(name, name, a, b)
    expected = [oracle_code(acc, terms[:i + 1]) for i in range(a.size)]
    compare(got, expected, lambda i: f"prefix {i}: a=[{_hex(a[:i + 1])}] b=[{_hex(b[:i + 1])}]",
            f"{name} {_acc_id(acc)} {case} prefixes")


@pytest.mark.parametrize("name", ["posit8_0", "posit16_1"])
def test_quire_prefix_dot_matches_softposit_step_by_step(name):
    """Runs of random codes (one with a NaR) and runs of +-maxpos**2 that climb and come back
    (as far as SoftPosit's 32-bit quire8 holds: 127 steps), SoftPosit's quire read after
    every ``qma``."""
    fmt = formats.get(name)
    rng = _rng("quire prefixes", name)
    n = 1 << fmt.bits
    rand_a, rand_b = rng.integers(0, n, 8000), rng.integers(0, n, 8000)
    rand_b[4000] = n // 2  # one NaR: every later prefix is NaR
    top, bottom = fmt.max_code, fmt.min_code
    steps = 100 if name == "posit8_0" else 3000
    walk_a = np.full(4 * steps, top)
    walk_b = np.repeat([top, bottom, bottom, top], steps)
    for a, b in ((rand_a[:4000], rand_b[:4000]), (rand_a, rand_b), (walk_a, walk_b)):
        got = gemm.prefix_dot(a.astype(fmt.code_dtype), b.astype(fmt.code_dtype), fmt, fmt,
                              Quire(fmt), chunk=4096)
        posit, quire = SOFTPOSIT[name]
        q = quire()
        for i, (x, y) in enumerate(zip(a, b)):
            q.qma(posit(bits=int(x)), posit(bits=int(y)))
            want = int(q.toPosit().v.v)
            assert int(got[i]) == want, (f"{name} prefix {i}: lowbit 0x{int(got[i]):x} "
                                         f"softposit 0x{want:x}")


def test_prefix_dot_rejects_what_is_not_one_run():
    e4 = formats.get("fp8_e4m3")
    acc = ExactAccumulator(FP["fp32"])
    with pytest.raises(OperationError, match="prefix_dot takes one run"):
        gemm.prefix_dot(np.zeros((2, 3), np.uint8), np.zeros((2, 3), np.uint8), e4, e4, acc)


def test_fixed_accumulator_nan_product_raises():
    """A NaN cannot enter a two's complement register: the dot product raises."""
    e4 = formats.get("fp8_e4m3")
    for overflow in ("wrap", "saturate"):
        with pytest.raises(LowbitError):
            gemm.dot(np.array([0x7F, 0x38], np.uint8), np.array([0x38, 0x38], np.uint8), e4, e4,
                     FixedAccumulator(19, 4, overflow))


@pytest.mark.parametrize("acc", [
    ExactAccumulator(FP["fp32"]), ExactAccumulator(FP["fp16"], "rtz"),
    FloatAccumulator(FP["fp32"]), FloatAccumulator(FP["fp16"], "rdn"),
    FloatAccumulator(FP["bf16"], "rne", tree(4)), FixedAccumulator(19, 4),
    Quire(formats.get("posit8_0"))], ids=_acc_id)
def test_empty_reduction_is_positive_zero(acc):
    """K = 0: the empty sum is +0 (a FloatAccumulator starts at +0; an exact sum is -0 only
    when there are terms and all of them are -0)."""
    fmt = formats.get("posit8_0" if isinstance(acc, Quire) else "fp8_e4m3")
    empty_a = np.zeros((2, 0), fmt.code_dtype)
    for what, got in (("dot", gemm.dot(empty_a, empty_a, fmt, fmt, acc)),
                      ("gemm", gemm.gemm(empty_a, np.zeros((0, 3), fmt.code_dtype), fmt, fmt,
                                         acc))):
        assert (got == 0).all(), f"{_acc_id(acc)} {what}: K=0 gives codes {_hex(got)}, want +0"


def test_fp8_e4m3_min_subnormal_products_are_exact():
    """2**-9 * 2**-9 = 2**-18 reaches the accumulators unrounded (fp16 min subnormal 2**-24)."""
    e4 = formats.get("fp8_e4m3")
    a = np.array([[0x01] * 3 + [0x81]], np.uint8)
    b = np.array([[0x01] * 4], np.uint8)
    for acc in (ExactAccumulator(FP["fp16"]), FloatAccumulator(FP["fp16"]),
                FloatAccumulator(FP["bf16"], "rtz", tree(4)), FixedAccumulator(19, 18)):
        got = gemm.dot(a, b, e4, e4, acc)
        want = encode(fin(2 * pow2(-18)), acc.out_fmt.name)
        assert int(got[0]) == want, (_acc_id(acc), hex(int(got[0])), hex(want))


# ==========================================================================================
# 2. FloatAccumulator(fp32, sequential) == a float32 loop; gemm fast paths == general path
# ==========================================================================================

FP32_EXACT_PRODUCTS = ["fp8_e4m3", "fp8_e5m2", "fp4_e2m1", "int8", "int4", "posit8_0"]
FP32_PARAMS = [pytest.param(n, s, id=f"{n}-{'nan-inf' if s else 'finite'}")
               for n in FP32_EXACT_PRODUCTS for s in (False, True)
               if not s or n in ("fp8_e4m3", "fp8_e5m2", "posit8_0")]  # formats with NaN/Inf/NaR


def _gemm_operands(name, m, k, n, specials=False, key=""):
    """Random codes with blocks of adversarial rows/columns (max, -max, tiny, zeros)."""
    cat = catalog(name)
    rng = _rng(name, m, k, n, specials, key)
    pool = list(cat["finite"]) * 4 + [cat["max"], cat["nmax"], cat["minpos"], cat["nminpos"]] * 40
    if cat["nz"] is not None:
        pool += [cat["nz"]] * 30
    if specials:
        pool += (cat["nan"] + cat["pinf"] + cat["ninf"]) * 10
    pool = np.array(pool, dtype=np.uint64)
    A = rng.choice(pool, (m, k))
    B = rng.choice(pool, (k, n))
    if m > 2 and n > 2:  # a row of zeros against a column of negatives: -0 products
        A[0] = cat["pz"]
        B[:, 0] = rng.choice(np.array(cat["neg"], np.uint64), k)
        A[1, : k // 2] = cat["max"]
        A[1, k // 2:] = cat["nmax"]
        B[:, 1] = cat["max"]
    fmt = formats.get(name)
    return A.astype(fmt.code_dtype), B.astype(fmt.code_dtype)


def _compare_f32(got, ref, label):
    got = np.asarray(got, np.uint32).ravel()
    ref = np.asarray(ref, np.float32).ravel()
    ref_bits = ref.view(np.uint32)
    nan_got = np.isnan(got.view(np.float32))
    bad = np.flatnonzero(np.where(np.isnan(ref), ~nan_got, got != ref_bits))
    assert bad.size == 0, (f"{label}: {bad.size} mismatches; first [{bad[0]}]: lowbit "
                           f"0x{int(got[bad[0]]):08x} float32 loop 0x{int(ref_bits[bad[0]]):08x}"
                           f" ({ref[bad[0]]!r})")


@pytest.mark.parametrize("name,specials", FP32_PARAMS)
def test_fp32_sequential_equals_float32_loop(name, specials):
    fmt = formats.get(name)
    acc = FloatAccumulator(FP["fp32"])
    A, B = _gemm_operands(name, 5, 37, 4, specials)
    a, b = fmt.decode(A).astype(np.float32), fmt.decode(B).astype(np.float32)
    with np.errstate(all="ignore"):
        # dot: a scalar float32 loop, one row by one column, from +0
        ref_dot = np.empty((5, 4), np.float32)
        for i in range(5):
            for j in range(4):
                c = np.float32(0.0)
                for k in range(37):
                    c = np.float32(c + np.float32(a[i, k] * b[k, j]))  # product exact
                ref_dot[i, j] = c
        # gemm: a vector float32 loop in K order
        ref = np.zeros((5, 4), np.float32)
        for k in range(37):
            ref = ref + np.outer(a[:, k], b[k, :]).astype(np.float32)
    _compare_f32(ref.view(np.uint32), ref_dot, f"{name} vector loop vs scalar loop")
    got_dot = gemm.dot(A[:, None, :], B.T[None, :, :], fmt, fmt, acc)
    _compare_f32(got_dot, ref_dot, f"{name} dot")
    got_gemm = gemm.gemm(A, B, fmt, fmt, acc)
    _compare_f32(got_gemm, ref, f"{name} gemm (fast path)")
    general = acc.reduce(arith.exact_mul(A[:, None, :], B.T[None], fmt, fmt))
    _compare_f32(general, ref, f"{name} acc.reduce (general path)")


@pytest.mark.parametrize("name,specials", FP32_PARAMS)
def test_fp32_gemm_fast_path_bit_identical_to_general_path(name, specials):
    """gemm's float32 fast path promises bit-identical codes to the general model, NaNs
    included (docstring of lowbit.golden.gemm)."""
    fmt = formats.get(name)
    acc = FloatAccumulator(FP["fp32"])
    for m, k, n in [(1, 1, 1), (4, 19, 3), (6, 64, 5)]:
        A, B = _gemm_operands(name, m, k, n, specials, "fast")
        assert gemm._gemm_float32_sequential(A, B, fmt, fmt, acc) is not None  # fast path on
        fast = gemm.gemm(A, B, fmt, fmt, acc)
        general = acc.reduce(arith.exact_mul(A[:, None, :], B.T[None], fmt, fmt))
        bad = np.argwhere(fast != general)
        assert bad.size == 0, (
            f"{name} {m}x{k}x{n}: {len(bad)} differ; first {tuple(bad[0])}: fast "
            f"0x{int(fast[tuple(bad[0])]):08x} general 0x{int(general[tuple(bad[0])]):08x}; "
            f"row a=[{_hex(A[bad[0][0]])}] col b=[{_hex(B[:, bad[0][1]])}]")


@pytest.mark.parametrize("acc", [ExactAccumulator(FP["fp32"]), ExactAccumulator(FP["fp16"]),
                                 ExactAccumulator(FP["bf16"], "rtz"),
                                 ExactAccumulator(FP["fp16"], "rdn")], ids=_acc_id)
@pytest.mark.parametrize("name", ["fp8_e4m3", "fp4_e2m1", "int8", "int4", "posit8_0"])
def test_exact_gemm_fast_path_equals_general_path_and_oracle(name, acc):
    fmt = formats.get(name)
    for m, k, n in [(1, 1, 1), (4, 3, 5), (5, 40, 4), (3, 257, 3)]:
        A, B = _gemm_operands(name, m, k, n, False, "exact")
        assert gemm._gemm_exact_float64(A, B, fmt, fmt, acc) is not None  # fast path on
        fast = gemm.gemm(A, B, fmt, fmt, acc)
        general = acc.reduce(arith.exact_mul(A[:, None, :], B.T[None], fmt, fmt))
        assert np.array_equal(fast, general), (
            f"{name} {_acc_id(acc)} {m}x{k}x{n}: fast [{_hex(fast)}] general [{_hex(general)}]")
        expected = [oracle_code(acc, products(name, name, A[i], B[:, j]))
                    for i in range(m) for j in range(n)]
        compare(fast, expected, lambda i: f"C[{i // n}, {i % n}]",
                f"{name} {_acc_id(acc)} {m}x{k}x{n}")


# ==========================================================================================
# 3. Quire dot products against SoftPosit's quire8 / quire16
# ==========================================================================================

SOFTPOSIT = {"posit8_0": (sp.posit8, sp.quire8), "posit16_1": (sp.posit16, sp.quire16)}


def softposit_dot(name, a_row, b_row):
    posit, quire = SOFTPOSIT[name]
    q = quire()
    for x, y in zip(a_row, b_row):
        q.qma(posit(bits=int(x)), posit(bits=int(y)))
    return int(q.toPosit().v.v)


@pytest.mark.parametrize("standard", ["2022", "draft"])
@pytest.mark.parametrize("k", [1, 2, 31, 1024])
@pytest.mark.parametrize("name", ["posit8_0", "posit16_1"])
def test_quire_matches_softposit(name, k, standard):
    fmt = formats.get(name)
    rng = _rng("quire", name, k)
    rows = 6 if k < 1024 else 3
    a = rng.integers(0, 1 << fmt.bits, (rows, k), dtype=np.uint64)
    b = rng.integers(0, 1 << fmt.bits, (rows, k), dtype=np.uint64)
    nar = 1 << (fmt.bits - 1)
    a[a == nar] = 0  # NaR gets its own rows below
    b[b == nar] = 0
    if k >= 2:  # exact cancellation and a NaR row
        a[0, 1], b[0, 1] = (-int(a[0, 0])) % (1 << fmt.bits), b[0, 0]
        a[1, k - 1] = nar
    got = gemm.dot(a.astype(fmt.code_dtype), b.astype(fmt.code_dtype), fmt, fmt,
                   Quire(fmt, standard))
    for i in range(rows):
        want = softposit_dot(name, a[i], b[i])
        assert int(got[i]) == want, (
            f"{name} K={k} row {i}: lowbit 0x{int(got[i]):x} softposit 0x{want:x}; "
            f"a=[{_hex(a[i])}] b=[{_hex(b[i])}]")
        oracle, _, _ = oracle_code(Quire(fmt, standard), products(name, name, a[i], b[i]))
        assert int(got[i]) == oracle, (name, k, i, hex(int(got[i])), hex(oracle))


@pytest.mark.parametrize("name", ["posit8_0", "posit16_1"])
def test_quire_adversarial_matches_softposit(name):
    """maxpos**2 against -maxpos**2 with minpos**2 terms in between, and rounding ties."""
    fmt = formats.get(name)
    cat = catalog(name)
    mx, nmx, mn, nmn = cat["max"], cat["nmax"], cat["minpos"], cat["nminpos"]
    rows = [[(mx, mx), (mn, mn), (nmx, mx), (mn, mn)],
            [(mx, mx)] * 50 + [(mn, nmn)] + [(nmx, mx)] * 50,
            [(mx, mn), (mn, mn), (nmx, mn)],
            [(mn, mn)] * 200,
            [(mn, mn), (nmn, mn)],
            [(mx, mx), (nmx, mx), (mn, nmn)]]
    a, b = _rows(rows, (0, 0))
    got = gemm.dot(a.astype(fmt.code_dtype), b.astype(fmt.code_dtype), fmt, fmt, Quire(fmt))
    for i in range(len(rows)):
        want = softposit_dot(name, a[i], b[i])
        assert int(got[i]) == want, (name, i, hex(int(got[i])), hex(want))


def test_quire_posit16_geometric_ties():
    """posit(16,1) drops its exponent bit next to maxpos and minpos, so the rounding tie between
    0x7FFE (2**26) and 0x7FFF (2**28) is 2**27 (not the arithmetic 1.25 * 2**27), and between
    0x0001 (2**-28) and 0x0002 (2**-26) it is 2**-27."""
    name = "posit16_1"
    fmt = formats.get(name)
    co, mn = catalog(name)["code_of"], catalog(name)["minpos"]
    c = lambda q: co[Q(q)]  # noqa: E731
    rows = [  # (sum, expected code)
        ([(c(2**14), c(2**13))], 0x7FFE),                            # 2**27: tie -> even
        ([(c(2**14), c(2**13)), (mn, mn)], 0x7FFF),                  # just above the tie
        ([(c(2**14), c(9216))], 0x7FFF),                             # 1.125 * 2**27
        ([(c(-(2**14)), c(9216))], 0x8001),
        ([(c(pow2(-14)), c(pow2(-13)))], 0x0002),                    # 2**-27: tie -> even
        ([(c(pow2(-14)), c(pow2(-13))), (c(-pow2(-28)), mn)], 0x0001),  # just below
        ([(c(pow2(-14)), c(Q(9, 8) * pow2(-13)))], 0x0002),          # 1.125 * 2**-27
        ([(c(-pow2(-14)), c(Q(9, 8) * pow2(-13)))], 0xFFFE),
    ]
    a, b = _rows([r for r, _ in rows], (0, 0))
    got = gemm.dot(a.astype(np.uint16), b.astype(np.uint16), fmt, fmt, Quire(fmt))
    for i, (_, want) in enumerate(rows):
        oracle, v, _ = oracle_code(Quire(fmt), products(name, name, a[i], b[i]))
        assert oracle == want, (i, hex(oracle))  # the test's own rounding
        assert softposit_dot(name, a[i], b[i]) == want, i
        assert int(got[i]) == want, (f"row {i}: sum {vsum_exact(products(name, name, a[i], b[i]))}"
                                     f" lowbit 0x{int(got[i]):04x} want 0x{want:04x}")


def test_draft_quire8_overflow_matches_softposit_or_raises():
    """SoftPosit's quire8 is 32 bits (n*n/2, lowbit's standard="draft" width): 128 terms of
    maxpos**2 = 2**12 overflow it. lowbit's Quire models the sum exactly, justified by
    "overflowing a quire takes over 2**30 terms of maxpos**2" -- true for 16n-bit quires, not
    for the draft quire8. The model should either reproduce the draft register or refuse."""
    p8 = formats.get("posit8_0")
    for k in (127, 128, 1024):
        a = np.full(k, 0x7F, np.uint8)
        want = softposit_dot("posit8_0", a, a)
        try:
            got = int(gemm.dot(a, a, p8, p8, Quire(p8, "draft")))
        except LowbitError:
            continue
        assert got == want, (f"K={k} x maxpos**2 into Quire(posit8_0, 'draft') "
                             f"(width {Quire(p8, 'draft').width_bits} bits): lowbit 0x{got:x}, "
                             f"SoftPosit quire8 0x{want:x}")


# ==========================================================================================
# 4. gemm == dot row by column; shapes; out_fmt is one more rounding of the acc result
# ==========================================================================================

GEMM_ACCS = [ExactAccumulator(FP["fp32"]), ExactAccumulator(FP["bf16"], "rtz"),
             FixedAccumulator(19, 4, "wrap"), FixedAccumulator(19, 4, "saturate", "rdn"),
             FloatAccumulator(FP["fp32"]), FloatAccumulator(FP["fp16"], "rtz"),
             FloatAccumulator(FP["fp16"], "rne", tree(4)),
             FloatAccumulator(FP["bf16"], "rtz", tree(8))]
SHAPES = [(1, 1, 1), (1, 7, 1), (3, 1, 5), (5, 33, 3), (2, 17, 9), (1, 70, 4)]


def _shape_id(s):
    return "x".join(map(str, s))


@pytest.mark.parametrize("shape", SHAPES, ids=_shape_id)
@pytest.mark.parametrize("acc", GEMM_ACCS, ids=_acc_id)
def test_gemm_equals_dot_row_by_column_and_oracle(acc, shape):
    name = "fp8_e4m3"
    fmt = formats.get(name)
    m, k, n = shape
    A, B = _gemm_operands(name, m, k, n, False, "shape")
    C = gemm.gemm(A, B, fmt, fmt, acc)
    assert C.shape == (m, n) and C.dtype == acc.out_fmt.code_dtype
    for i in range(m):
        for j in range(n):
            d = gemm.dot(A[i], B[:, j], fmt, fmt, acc)
            assert d.shape == () and int(d) == int(C[i, j]), (
                f"C[{i},{j}] 0x{int(C[i, j]):x} != dot 0x{int(d):x}")
    expected = [oracle_code(acc, products(name, name, A[i], B[:, j]))
                for i in range(m) for j in range(n)]
    compare(C, expected, lambda i: f"C[{i // n}, {i % n}]", f"gemm {_acc_id(acc)} {shape}")


@pytest.mark.parametrize("name,acc", [
    ("posit16_1", Quire(formats.get("posit16_1"))),
    ("posit8_0", Quire(formats.get("posit8_0"), "draft")),
    ("posit16_1", ExactAccumulator(FP["fp32"])),
    ("int8", FixedAccumulator(16, 0, "wrap")),
    ("int4", FloatAccumulator(FP["fp16"], "rne", tree(8))),
    ("fp8_e5m2", FloatAccumulator(FP["bf16"])),
], ids=lambda x: x if isinstance(x, str) else _acc_id(x))
@pytest.mark.parametrize("shape", [(1, 1, 1), (4, 9, 3), (3, 65, 2)], ids=_shape_id)
def test_gemm_other_operands_equal_dot_and_oracle(name, acc, shape):
    fmt = formats.get(name)
    m, k, n = shape
    A, B = _gemm_operands(name, m, k, n, False, "other")
    C = gemm.gemm(A, B, fmt, fmt, acc)
    D = gemm.dot(A[:, None, :], B.T[None, :, :], fmt, fmt, acc)
    assert np.array_equal(C, D), (f"gemm [{_hex(C)}] dot [{_hex(D)}]")
    expected = [oracle_code(acc, products(name, name, A[i], B[:, j]))
                for i in range(m) for j in range(n)]
    compare(C, expected, lambda i: f"C[{i // n}, {i % n}]", f"{name} {_acc_id(acc)} {shape}")


MIXED = [("fp8_e4m3", "fp4_e2m1"), ("int8", "int4"), ("fp8_e5m2", "fp8_e4m3"),
         ("posit8_0", "fp8_e4m3"), ("int8", "fp8_e4m3"), ("posit16_1", "int4")]


def _mixed_accs(a_name, b_name):
    va = [v.q for v in value_table(a_name) if v.kind == "fin" and v.q != 0]
    vb = [v.q for v in value_table(b_name) if v.kind == "fin" and v.q != 0]
    top = max(abs(x * y) for x in (min(va), max(va)) for y in (min(vb), max(vb)))
    low = min(map(abs, va)) * min(map(abs, vb))
    int_bits = floor_log2(top) + 2
    frac_bits = max(0, min(-floor_log2(low) - 2, 62 - int_bits))
    return [ExactAccumulator(FP["fp32"]), ExactAccumulator(FP["bf16"], "rtz"),
            FloatAccumulator(FP["fp32"]), FloatAccumulator(FP["fp16"], "rne", tree(4)),
            FixedAccumulator(int_bits, frac_bits, "wrap"),
            FixedAccumulator(int_bits, frac_bits, "saturate", "rdn")]


@pytest.mark.parametrize("a_name,b_name,acc", [
    pytest.param(a, b, acc, id=f"{a}-x-{b}-{_acc_id(acc)}")
    for a, b in MIXED for acc in _mixed_accs(a, b)])
def test_mixed_operand_formats_match_oracle(a_name, b_name, acc):
    """a_fmt != b_fmt: gemm (fast paths where they apply), dot and the general path agree with
    the oracle."""
    fa, fb = formats.get(a_name), formats.get(b_name)
    m, k, n = 4, 29, 3
    A = _gemm_operands(a_name, m, k, n, False, "mixed")[0]
    B = _gemm_operands(b_name, m, k, n, False, "mixed")[1]
    C = gemm.gemm(A, B, fa, fb, acc)
    D = gemm.dot(A[:, None, :], B.T[None, :, :], fa, fb, acc)
    G = acc.reduce(arith.exact_mul(A[:, None, :], B.T[None], fa, fb))
    assert np.array_equal(C, D) and np.array_equal(C, G), (_hex(C), _hex(D), _hex(G))
    expected = [oracle_code(acc, products(a_name, b_name, A[i], B[:, j]))
                for i in range(m) for j in range(n)]
    compare(C, expected, lambda i: f"C[{i // n}, {i % n}]",
            f"{a_name} x {b_name} {_acc_id(acc)}")


def test_gemm_general_path_in_chunks():
    """M * N * K above gemm's 2**22-product chunk: rows are reduced in several chunks.
    Reference: posit(8,0) products are multiples of 2**-12 below 2**12, so a float64 matmul of
    1024 terms is exact; then the test's posit rounding."""
    name = "posit8_0"
    fmt = formats.get(name)
    rng = _rng("chunks")
    m, k, n = 5, 1024, 1000
    A = rng.integers(0, 256, (m, k), dtype=np.uint64).astype(np.uint8)
    B = rng.integers(0, 256, (k, n), dtype=np.uint64).astype(np.uint8)
    A[A == 0x80] = 0x40
    B[B == 0x80] = 0xC0
    assert m * n * k > gemm._CHUNK_PRODUCTS
    C = gemm.gemm(A, B, fmt, fmt, Quire(fmt))
    exact = fmt.decode(A) @ fmt.decode(B)
    want = np.array([[encode(round_posit(fin(Q(float(x))), name), name) for x in row]
                     for row in exact])
    bad = np.argwhere(C != want)
    assert bad.size == 0, (f"{len(bad)} differ, first {tuple(bad[0])}: lowbit "
                           f"0x{int(C[tuple(bad[0])]):x} oracle 0x{int(want[tuple(bad[0])]):x}")


OUT_CASES = [
    ("fp8_e4m3", ExactAccumulator(FP["fp32"]), "fp16"),
    ("fp8_e4m3", ExactAccumulator(FP["fp32"]), "bf16"),
    ("fp8_e5m2", ExactAccumulator(FP["fp32"]), "fp16"),
    ("fp8_e4m3", FloatAccumulator(FP["fp32"]), "fp16"),
    ("fp8_e4m3", FloatAccumulator(FP["fp32"], "rtz", tree(4)), "bf16"),
    ("fp8_e4m3", FloatAccumulator(FP["fp16"], "rtz"), "fp32"),
    ("int8", FixedAccumulator(16, 0, "wrap"), "fp16"),
    ("fp8_e4m3", FixedAccumulator(19, 4, "saturate"), "bf16"),
    ("posit16_1", Quire(formats.get("posit16_1")), "fp16"),
    ("posit16_1", Quire(formats.get("posit16_1")), "fp32"),
    ("posit8_0", ExactAccumulator(FP["fp32"]), "posit8_0"),
]


@pytest.mark.parametrize("name,acc,out", OUT_CASES,
                         ids=[f"{n}-{_acc_id(a)}-to-{o}" for n, a, o in OUT_CASES])
def test_out_fmt_rounds_the_accumulator_result(name, acc, out):
    fmt, out_fmt = formats.get(name), formats.get(out)
    for m, k, n in [(3, 20, 4), (2, 1, 2)]:
        A, B = _gemm_operands(name, m, k, n, False, "out")
        for C in (gemm.gemm(A, B, fmt, fmt, acc, out_fmt),
                  gemm.dot(A[:, None, :], B.T[None, :, :], fmt, fmt, acc, out_fmt)):
            assert C.dtype == out_fmt.code_dtype
            expected = [oracle_code(acc, products(name, name, A[i], B[:, j]), out_fmt)
                        for i in range(m) for j in range(n)]
            compare(C, expected, lambda i: f"C[{i // n}, {i % n}]",
                    f"{name} {_acc_id(acc)} -> {out}")


def test_out_fmt_double_rounding_is_by_definition():
    """Exact sum 1 + 2**-11 + 2**-30: fp32 drops 2**-30 (a tie for fp16 remains), fp16 RNE then
    goes to even 1.0; one direct rounding would give 1 + 2**-10. out_fmt rounds the fp32 result."""
    e5 = formats.get("fp8_e5m2")
    a = np.array([0x3C, 0x24, 0x01], np.uint8)  # 1, 2**-6, 2**-16
    b = np.array([0x3C, 0x28, 0x04], np.uint8)  # 1, 2**-5, 2**-14
    terms = products("fp8_e5m2", "fp8_e5m2", a, b)
    assert vsum_exact(terms).q == 1 + pow2(-11) + pow2(-30)
    assert encode(round_ieee(vsum_exact(terms), "fp16"), "fp16") == 0x3C01  # single rounding
    got = gemm.dot(a, b, e5, e5, ExactAccumulator(FP["fp32"]), FP["fp16"])
    assert int(got) == 0x3C00, hex(int(got))
    got = gemm.gemm(a[None], b[:, None], e5, e5, ExactAccumulator(FP["fp32"]), FP["fp16"])
    assert int(got[0, 0]) == 0x3C00, hex(int(got[0, 0]))
    assert int(gemm.dot(a, b, e5, e5, ExactAccumulator(FP["fp16"]))) == 0x3C01


# ==========================================================================================
# 5. Block formats: MX and NVFP4, one accumulator term per block
# ==========================================================================================

BLOCK_ELEMENT = {"mxfp8_e4m3": "fp8_e4m3", "mxfp8_e5m2": "fp8_e5m2", "mxfp4": "fp4_e2m1",
                 "mxint8": "int8_q6", "nvfp4": "fp4_e2m1"}


def block_oracle(fmt, a_el, a_sc, a_ts, b_el, b_sc, b_ts, acc, out_fmt=None):
    """One result from element codes (K padded), scale codes and NVFP4 tensor scales."""
    en, sn, k = BLOCK_ELEMENT[fmt.name], fmt.scale.name, fmt.block_size
    terms = []
    for j in range(len(a_sc)):
        sl = slice(j * k, (j + 1) * k)
        partial = vsum_exact(products(en, en, a_el[sl], b_el[sl]))
        terms.append(vmul(partial, vmul(decode(sn, a_sc[j]), decode(sn, b_sc[j]))))
    v = oracle_value(acc, terms)
    if a_ts is not None or b_ts is not None:
        alpha = round_ieee(vmul(fin(Q(a_ts if a_ts is not None else 1.0)),
                                fin(Q(b_ts if b_ts is not None else 1.0))), "fp32")
        name = (out_fmt or acc.out_fmt).name
        v = round_to(vmul(v, alpha), name)
        return encode(v, name), v, name
    name = acc.out_fmt.name
    if out_fmt is not None and out_fmt != acc.out_fmt:
        name = out_fmt.name
        v = round_to(v, name)
    return encode(v, name), v, name


def _block_data(fmt_name, m, k, n, key):
    """X (m, k), Y (k, n) float64 with per-block magnitude spread, zero blocks, ties."""
    rng = _rng(fmt_name, m, k, n, key)
    X = rng.normal(size=(m, k)) * 2.0 ** rng.integers(-12, 12, (m, 1))
    Y = rng.normal(size=(k, n)) * 2.0 ** rng.integers(-12, 12, (1, n))
    X[:, : k // 3] *= 2.0 ** rng.integers(-20, 20)
    if m > 1:
        X[1, :] = 0.0
        X[1, 2:5] = [-0.0, 3.0, -3.0]
    if n > 1:
        Y[:, -1] = rng.integers(-6, 7, k) * 0.5  # values that are exact in E2M1
    if key == "extreme":
        X[0, :32] = rng.normal(size=min(k, 32)) * 2.0**-130  # MX: scale clamps at 2**-127
        if m > 1:  # products near 2**130: fp32 accumulators overflow
            X[-1] *= 2.0**110 / np.abs(X[-1]).max()
            Y[:, 0] *= 2.0**20 / np.abs(Y[:, 0]).max()
        if fmt_name != "nvfp4" and n > 1:
            Y[0, -1] = np.nan  # NaN scale: the whole block term is NaN
    if key == "cancel" and k >= 64:
        # Block 0 holds -big, block 1 big plus products up to 2**64 smaller: E5M2 block sums
        # span 69 bits, and only their exact value survives the cancellation.
        top = float(formats.get(fmt_name).element.max_value)
        X[0, :64], Y[:64, 0] = 0.0, 0.0
        X[0, [0, 32, 33, 34]] = [-top, top, top * 2.0**-32, -top * 2.0**-30]
        Y[[0, 32, 33, 34], 0] = [top, top, top * 2.0**-32, top * 2.0**-29]
    return X, Y


BLOCK_ACCS = [ExactAccumulator(FP["fp64"]), FloatAccumulator(FP["fp32"]),
              FloatAccumulator(FP["fp32"], "rtz", tree(4)), ExactAccumulator(FP["fp32"])]
BLOCK_SHAPES = [(1, 7, 1), (3, 45, 4), (2, 64, 3), (2, 100, 2), (1, 161, 2)]


@pytest.mark.parametrize("key", ["random", "extreme", "cancel"])
@pytest.mark.parametrize("shape", BLOCK_SHAPES, ids=_shape_id)
@pytest.mark.parametrize("acc", BLOCK_ACCS, ids=_acc_id)
@pytest.mark.parametrize("fmt_name", ["mxfp8_e4m3", "mxfp8_e5m2", "mxfp4", "mxint8", "nvfp4"])
def test_block_gemm_matches_fraction_oracle(fmt_name, acc, shape, key):
    fmt = formats.get(fmt_name)
    m, k, n = shape
    X, Y = _block_data(fmt_name, m, k, n, key)
    A, B = fmt.encode(X, axis=1), fmt.encode(Y, axis=0)
    C = gemm.gemm(A, B, fmt, fmt, acc)
    assert C.shape == (m, n)
    expected = [block_oracle(fmt, A.elements[i], A.scales[i], A.tensor_scale, B.elements[j],
                             B.scales[j], B.tensor_scale, acc) for i in range(m) for j in range(n)]
    compare(C, expected,
            lambda i: (f"C[{i // n}, {i % n}] A el [{_hex(A.elements[i // n], 8)}] sc "
                       f"[{_hex(A.scales[i // n])}] B sc [{_hex(B.scales[i % n])}] tensor "
                       f"{A.tensor_scale!r} {B.tensor_scale!r}"),
            f"{fmt_name} {_acc_id(acc)} {shape} {key}")


@pytest.mark.parametrize("out", ["fp16", "bf16", "fp32"])
@pytest.mark.parametrize("fmt_name", ["mxfp8_e4m3", "mxint8", "nvfp4"])
def test_block_dot_and_out_fmt_match_fraction_oracle(fmt_name, out):
    """dot on BlockArrays blocked along the last axis; out_fmt rounding (NVFP4: of
    value(acc result) * alpha)."""
    fmt, out_fmt = formats.get(fmt_name), formats.get(out)
    acc = ExactAccumulator(FP["fp64"])
    X, Y = _block_data(fmt_name, 3, 77, 3, "dot")
    a, b = fmt.encode(X, axis=-1), fmt.encode(Y.T, axis=-1)
    got = gemm.dot(a, b, fmt, fmt, acc, out_fmt)
    assert got.shape == (3,) and got.dtype == out_fmt.code_dtype
    expected = [block_oracle(fmt, a.elements[i], a.scales[i], a.tensor_scale, b.elements[i],
                             b.scales[i], b.tensor_scale, acc, out_fmt) for i in range(3)]
    compare(got, expected, lambda i: f"row {i}", f"{fmt_name} dot -> {out}")
    C = gemm.gemm(fmt.encode(X, axis=1), fmt.encode(Y, axis=0), fmt, fmt, acc, out_fmt)
    assert np.array_equal(np.diag(C), got), (_hex(np.diag(C)), _hex(got))


def test_nvfp4_alpha_is_rounded_to_fp32_once():
    """alpha = fp32_rne(s_dec_A * s_dec_B): with tensor scales whose product is inexact in fp32
    the result differs from using the exact product (checked on the oracle, then lowbit)."""
    fmt = formats.get("nvfp4")
    rng = _rng("alpha")
    for trial in range(20):
        X = rng.normal(size=(1, 16)) * rng.uniform(0.1, 10)
        Y = rng.normal(size=(16, 1)) * rng.uniform(0.1, 10)
        A, B = fmt.encode(X, axis=1), fmt.encode(Y, axis=0)
        exact_alpha = Q(A.tensor_scale) * Q(B.tensor_scale)
        if round_ieee(fin(exact_alpha), "fp32").q == exact_alpha:
            continue
        acc = ExactAccumulator(FP["fp64"])
        C = gemm.gemm(A, B, fmt, fmt, acc)
        code, v, _ = block_oracle(fmt, A.elements[0], A.scales[0], A.tensor_scale,
                                  B.elements[0], B.scales[0], B.tensor_scale, acc)
        assert int(C[0, 0]) == code, (trial, hex(int(C[0, 0])), hex(code), str(v))
        return
    pytest.fail("no trial with an inexact fp32 alpha")


# ==========================================================================================
# 6. Invalid combinations: one clear error each
# ==========================================================================================

E4, P8 = formats.get("fp8_e4m3"), formats.get("posit8_0")
U8 = np.zeros((2, 4), np.uint8)


def _raises(msg, fn, *args, **kw):
    with pytest.raises(OperationError, match="^" + re.escape(msg) + "$"):
        fn(*args, **kw)


def test_error_fixed_accumulator_narrower_than_one_product():
    msg = ("accumulator fixed18_4 (max 131071.9375) is narrower than one product of fp8_e4m3 "
           "x fp8_e4m3 (up to 200704.0)")
    _raises(msg, gemm.dot, U8, U8, E4, E4, FixedAccumulator(18, 4))
    _raises(msg, gemm.gemm, U8, U8.T, E4, E4, FixedAccumulator(18, 4))
    gemm.dot(U8, U8, E4, E4, FixedAccumulator(19, 4))  # one more bit holds 200704
    i8 = formats.get("int8")  # -128 * -128 = 16384 needs 16 bits
    _raises("accumulator fixed15_0 (max 16383.0) is narrower than one product of int8 x int8 "
            "(up to 16384.0)", gemm.dot, U8, U8, i8, i8, FixedAccumulator(15, 0))
    gemm.dot(U8, U8, i8, i8, FixedAccumulator(16, 0))


def test_error_block_size_mismatch():
    mx, nv = formats.get("mxfp4"), formats.get("nvfp4")
    X = np.ones((2, 32))
    _raises("block size mismatch: mxfp4 has 32, nvfp4 has 16", gemm.gemm,
            mx.encode(X, axis=1), nv.encode(X.T, axis=0), mx, nv, ExactAccumulator(FP["fp32"]))
    _raises("block size mismatch: mxfp4 has 32, nvfp4 has 16", gemm.dot,
            mx.encode(X), nv.encode(X), mx, nv, ExactAccumulator(FP["fp32"]))


def test_error_block_k_mismatch():
    mx = formats.get("mxfp8_e4m3")
    _raises("K mismatch: 32 and 64 padded elements", gemm.gemm, mx.encode(np.ones((2, 30)), 1),
            mx.encode(np.ones((40, 3)), 0), mx, mx, ExactAccumulator(FP["fp32"]))


def test_error_quire_with_non_posit_operands_or_format():
    _raises("Quire(posit8_0) accumulates products of posit8_0 only, not fp8_e4m3 x fp8_e4m3",
            gemm.dot, U8, U8, E4, E4, Quire(P8))
    _raises("Quire(posit8_0) accumulates products of posit8_0 only, not fp8_e4m3 x fp8_e4m3",
            gemm.gemm, U8, U8.T, E4, E4, Quire(P8))
    p16 = formats.get("posit16_1")
    _raises("Quire(posit8_0) accumulates products of posit8_0 only, not posit16_1 x posit8_0",
            gemm.dot, U8.astype(np.uint16), U8, p16, P8, Quire(P8))
    _raises("Quire needs a posit format, not 'fp8_e4m3'", Quire, E4)


def test_error_tree_fan_in_not_power_of_two():
    for f in (3, 6, 12):
        _raises(f"fan_in must be a power of two, not {f}", tree, f)
    for f in (2, 4, 4096):
        assert tree(f).fan_in == f


def test_error_fixed_accumulator_unknown_overflow():
    _raises("overflow must be one of 'wrap', 'saturate', not 'clamp'", FixedAccumulator, 19, 4,
            "clamp")


def test_error_k_mismatch():
    _raises("dot needs equal lengths, got 4 and 3", gemm.dot, U8, U8[:, :3], E4, E4,
            ExactAccumulator(FP["fp32"]))
    _raises("gemm needs A (M, K) and B (K, N), got (2, 4) and (3, 2)", gemm.gemm, U8,
            np.zeros((3, 2), np.uint8), E4, E4, ExactAccumulator(FP["fp32"]))


def test_error_block_with_scalar_operands():
    mx = formats.get("mxfp4")
    _raises("a_fmt and b_fmt must both be block formats or both scalar, not mxfp4 and fp8_e4m3",
            gemm.gemm, mx.encode(np.ones((2, 32)), 1), U8.T, mx, E4,
            ExactAccumulator(FP["fp32"]))
