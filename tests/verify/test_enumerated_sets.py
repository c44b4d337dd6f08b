"""Golden's expected values of the 2**32-case enumerated sets, against independent oracles.

The full sets are checked against golden only (in the simulator); here golden's fast chunks are
checked on samples against SoftPosit (posit16_1 products) and Berkeley SoftFloat (fp16 fused
multiply-add: an e5m2 code is the top byte of the fp16 code of the same value, so
``f16_mul_add(a << 8, b << 8, state)`` is ``round(state + a * b)`` in one rounding), and
against golden's own exact arithmetic (``arith.mul``, the accumulator's exact add). The samples
are the first cases of the set's enumeration (what the slice in the simulator runs) plus every
special and extreme code against a spread of others.
"""

import numpy as np
import pytest
import softfloatpy as sf
import softposit as sp

from lowbit.golden import arith
from lowbit.golden.arith import add_exact_values, exact_mul
from lowbit.hdl import designs
from lowbit.verify import enumerated_sets
from lowbit.verify.enumerated_sets import EnumeratedSetError

POSIT = designs.get("positmac_posit16_1_quire")
FLOAT = designs.get("floatmac_fp8_e5m2xfp8_e5m2_fp16")


def test_enumeration_is_a_bijection_of_the_case_codes():
    s = enumerated_sets.get("every_pair")
    assert s.bits(POSIT) == 32 and s.cases(POSIT) == 1 << 32
    # an odd multiplier mod 2**32: case i and i + 2**31 never share a code; small check of
    # the map on a full 2**16-code space (a 16-bit slice of the same arithmetic)
    i = np.arange(1 << 16, dtype=np.uint64)
    assert np.unique((i * np.uint64(enumerated_sets.MULTIPLIER)) & np.uint64(0xFFFF)).size \
        == 1 << 16
    codes = s.codes(POSIT, (1 << 32) - 2, 2)
    assert codes.tolist() == [((1 << 32) - 2) * enumerated_sets.MULTIPLIER % (1 << 32),
                              ((1 << 32) - 1) * enumerated_sets.MULTIPLIER % (1 << 32)]
    columns = s.columns(POSIT, [0x1234_ABCD])
    assert (int(columns["a"][0]), int(columns["b"][0])) == (0xABCD, 0x1234)


def _sample(s, spec, count, extremes):
    """Port columns of the set's first ``count`` cases plus every extreme code of the first
    port against random codes of the others."""
    first = s.columns(spec, s.codes(spec, 0, count))
    rng = np.random.default_rng(21)
    n = len(extremes) * 64
    extra = {p: rng.integers(0, 1 << fmt.bits, n).astype(fmt.code_dtype)
             for p, fmt in s.fields(spec)}
    port0, fmt0 = s.fields(spec)[0]
    extra[port0] = np.repeat(np.asarray(extremes), 64).astype(fmt0.code_dtype)
    return {p: np.concatenate([first[p], extra[p]]) for p in first}


def test_posit16_products_match_softposit_and_golden_arith():
    s = enumerated_sets.get("every_pair")
    fmt = POSIT.a_fmt
    extremes = [0, 0x8000, 0x4000, 0xC000, 0x0001, 0xFFFF, 0x7FFF, 0x8001, 0x0002, 0x7FFE]
    c = _sample(s, POSIT, 1 << 14, extremes)
    got = np.asarray(s.golden(POSIT, c)).astype(np.uint64)
    assert np.array_equal(got, np.asarray(arith.mul(c["a"], c["b"], fmt)).astype(np.uint64))
    objs = {}

    def posit(code):
        if code not in objs:
            objs[code] = sp.posit16_t()
            objs[code].v = code
        return objs[code]

    want = np.fromiter((sp.p16_mul(posit(a), posit(b)).v for a, b in
                        zip(c["a"].tolist(), c["b"].tolist())), np.uint64, got.size)
    bad = np.flatnonzero(got != want)
    assert bad.size == 0, [(hex(c["a"][i]), hex(c["b"][i]), hex(got[i]), hex(want[i]))
                           for i in bad[:5]]


def test_fp16_next_state_matches_softfloat_fma_and_golden_add():
    s = enumerated_sets.get("every_state")
    acc = FLOAT.accumulator
    extremes = [0x00, 0x80, 0x01, 0x81, 0x7B, 0xFB, 0x7C, 0xFC, 0x7D, 0x7F, 0x3C, 0x04]
    c = _sample(s, FLOAT, 1 << 14, extremes)
    # register states at the fp16 extremes too: +-0, +-min subnormal, +-max, +-Inf, NaN
    n = 12 * 64
    c["acc_in"][-n:] = np.tile([0x0000, 0x8000, 0x0001, 0x8001, 0x7BFF, 0xFBFF, 0x7C00, 0xFC00,
                                0x7E00, 0x0400, 0x3C00, 0xBC00], 64)
    got = np.asarray(s.golden(FLOAT, c)).astype(np.uint64)
    fmt = acc.fmt
    exact = fmt.round_exact(add_exact_values(fmt.to_exact(c["acc_in"]),
                                             exact_mul(c["a"], c["b"], FLOAT.a_fmt,
                                                       FLOAT.b_fmt)), acc.rounding)
    assert np.array_equal(got, np.asarray(acc.finish(exact)).astype(np.uint64))

    def f16(code):
        return sf.Float16.from_bytes(int(code).to_bytes(2, "big"))

    want = np.fromiter((int.from_bytes(sf.f16_mul_add(f16(a << 8), f16(b << 8),
                                                      f16(st)).to_bytes(), "big")
                        for a, b, st in zip(c["a"].tolist(), c["b"].tolist(),
                                            c["acc_in"].tolist())), np.uint64, got.size)
    nan = fmt.decode(want)
    assert np.array_equal(np.isnan(fmt.decode(got)), np.isnan(nan))
    ok = np.isnan(nan) | (got == want)
    bad = np.flatnonzero(~ok)
    assert bad.size == 0, [(hex(c["acc_in"][i]), hex(c["a"][i]), hex(c["b"][i]), hex(got[i]),
                            hex(want[i])) for i in bad[:5]]


def test_next_state_takes_the_exact_path_where_float64_rounds():
    """A sum spanning more than 53 bits: tiny subnormal state plus a huge product (fp16
    overflows to Inf either way); and rdn's -0 for x + (-x)."""
    from lowbit.golden import accumulators, formats

    e5, fp16 = formats.get("fp8_e5m2"), formats.get("fp16")
    for rounding, state, a, b in (("rne", 0x0001, 0x7B, 0x7B), ("rdn", 0x3C00, 0xBC, 0x3C),
                                  ("rtz", 0x0001, 0x7B, 0x7B)):
        acc = accumulators.FloatAccumulator(fp16, rounding)
        st, aa, bb = (np.array([v], dtype=np.uint64) for v in (state, a, b))
        want = acc.finish(fp16.round_exact(add_exact_values(
            fp16.to_exact(st), exact_mul(aa, bb, e5, e5), rounding == "rdn"), rounding))
        assert enumerated_sets.next_state_codes(acc, e5, e5, st, aa, bb).tolist() == \
            np.asarray(want).tolist()


def test_sets_refuse_designs_they_do_not_fit():
    with pytest.raises(EnumeratedSetError) as err:
        enumerated_sets.get("every_pair").check(FLOAT)
    assert str(err.value) == ("vector set 'every_pair' (every operand pair of a one-stage "
                              "PositMac into a cleared quire) does not apply to "
                              "floatmac_fp8_e5m2xfp8_e5m2_fp16")
    with pytest.raises(EnumeratedSetError, match=r"^enumerated set must be one of every_pair, "
                                                 r"every_state, not 'every_pairs'"):
        enumerated_sets.get("every_pairs")


def test_full_regression_lists_the_enumerated_sets():
    from lowbit.verify import regression

    entries = regression.by_name(regression.MAC)
    for name, vector_set in (("positmac_posit16_1_quire", "every_pair"),
                             ("floatmac_fp8_e5m2xfp8_e5m2_fp16", "every_state")):
        assert entries[name].sets(full=True)[-1] == vector_set
        assert vector_set not in entries[name].sets(full=False)
    row = regression.run_entry(entries["floatmac_fp8_e5m2xfp8_e5m2_fp16"], "every_state",
                               sim="icarus")
    assert (row["status"], row["driver"], row["vectors"]) == ("fail", "stream", 0)
    assert row["error"] == "enumerated set every_state runs on verilator only, not on icarus"
