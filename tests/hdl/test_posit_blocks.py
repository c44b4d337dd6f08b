"""PositDecoder and PositEncoder against golden PositFormat, on Amaranth's Python simulator.

Formats: the four PositMac configurations posit4_1, posit8_0, posit8_2 and posit16_1 (es 0, 1
and 2; regimes that cut off exponent bits), plus posit2_0 (no fraction, no regime terminator),
posit3_4 and posit5_3 (exponent fields wider than what follows the regime). The decoder runs
every code of every format; the encoder runs every 6-bit magnitude at every exponent from below
minpos to beyond maxpos, every tie ``2p + 1`` and its neighbours, the MAC's quire-wide
magnitudes (128 and 256 bits), and decode -> encode of every code.
"""

import numpy as np
import pytest
from amaranth.hdl import Elaboratable, Module

from lowbit.errors import OperationError
from lowbit.golden import formats as F
from lowbit.golden.accumulators import Quire
from lowbit.golden.exact import Exact, exact_sum
from lowbit.golden.formats import PositFormat
from lowbit.hdl.posit_decoder import PositDecoder, posit_exp_range
from lowbit.hdl.posit_encoder import PositEncoder
from tests.expect import raises_exactly
from tests.hdl.test_building_blocks import assert_equal, port_widths, simulate

MAC_FORMATS = ("posit4_1", "posit8_0", "posit8_2", "posit16_1")
EDGE_FORMATS = ("posit2_0", "posit3_4", "posit5_3")


def every_code(fmt):
    return np.arange(1 << fmt.n, dtype=np.uint64)


@pytest.mark.parametrize("name", MAC_FORMATS + EDGE_FORMATS)
def test_decoder_every_code(name):
    fmt = F.get(name)
    dut = PositDecoder(fmt)
    codes = every_code(fmt)
    got = simulate(dut, [{"code": c} for c in codes], ["negative", "sig", "exp", "zero", "nar"])
    ex = fmt.to_exact(codes)
    names = [hex(c) for c in codes]
    nar = codes == fmt.nar_code
    assert ex.nan.tolist() == nar.tolist()
    assert_equal(got[:, 4], nar, names, f"nar, {name}")
    assert_equal(got[:, 3], codes == 0, names, f"zero, {name}")
    assert_equal(got[:, 0], codes >> np.uint64(fmt.n - 1), names, f"negative, {name}")
    # Values as exact integers in units of minpos (every posit is a multiple of it); NaR
    # decodes to sig 0 like zero.
    exp_min, exp_max = dut.exp_min, dut.exp_max
    want = [0 if n or s == 0 else (-1 if neg else 1) * (int(s) << (int(e) - exp_min))
            for neg, s, e, n in zip(ex.negative, ex.sig, ex.exp, ex.nan)]
    value = [(-1 if neg else 1) * (int(s) << (int(e) - exp_min)) for neg, s, e in
             zip(got[:, 0], got[:, 1], got[:, 2])]
    assert_equal(value, want, names, f"value / minpos, {name}")
    exps, sigs = got[:, 2].astype(np.int64), got[:, 1].astype(np.int64)
    assert exp_min <= exps.min() and exps.max() <= exp_max
    assert sigs.max() < 1 << fmt.significand_bits
    # The hidden bit sits at sig's MSB except where exp is held at log2(minpos).
    hidden = (sigs >> (fmt.significand_bits - 1)) == 1
    assert (hidden | (exps == exp_min) | (sigs == 0)).all()


def test_decoder_exp_range_from_golden():
    assert posit_exp_range(F.get("posit8_0")) == (-6, 1)  # maxpos 2**6, 5 fraction bits
    assert posit_exp_range(F.get("posit8_2")) == (-24, 21)  # minpos 2**-24, maxpos 2**24
    assert posit_exp_range(F.get("posit16_1")) == (-28, 16)
    assert port_widths(PositDecoder(F.get("posit8_2"))) == {
        "code": 8, "negative": 1, "sig": 4, "exp": 6, "zero": 1, "nar": 1}


def run_encoder(fmt, rows, sig_width, exp_min, exp_max):
    """Encode ``rows`` of (negative, sig, exp) on a PositEncoder; compare with golden."""
    neg = np.array([r[0] for r in rows], bool)
    exp = np.array([r[2] for r in rows], np.int64)
    sig = [int(r[1]) for r in rows]
    want = fmt.round_exact(golden_exact(neg, sig, exp, sig_width)).astype(np.int64)
    dut = PositEncoder(fmt, sig_width=sig_width, exp_min=exp_min, exp_max=exp_max)
    got = simulate(dut, [{"negative": n, "sig": s, "exp": e, "nar": 0}
                         for n, s, e in zip(neg, sig, exp)], ["code"])[:, 0]
    names = [f"{'-' if n else '+'}{s:#x}*2**{e}" for n, s, e in zip(neg, sig, exp)]
    assert_equal(got, want, names, f"{fmt.name} from {sig_width}-bit magnitudes")
    return want


def golden_exact(negative, sig, exp, sig_width):
    """Exact values of Python-int magnitudes of any width: a sum of 32-bit limbs."""
    limbs = max(1, -(-sig_width // 32))
    parts = np.array([[(s >> (32 * j)) & 0xFFFF_FFFF for j in range(limbs)] for s in sig],
                     dtype=np.uint64).reshape(len(sig), limbs)
    shape = parts.shape
    return exact_sum(Exact(np.broadcast_to(negative[:, None], shape), parts,
                           exp[:, None] + 32 * np.arange(limbs), np.zeros(shape, bool),
                           np.zeros(shape, bool)))


@pytest.mark.parametrize("name", MAC_FORMATS + EDGE_FORMATS)
def test_encoder_every_small_magnitude(name):
    # Every 6-bit magnitude at every exponent from 2**-7 below minpos's to beyond maxpos's,
    # both signs: zero, below minpos, exponent bits cut off, saturation at maxpos.
    fmt = F.get(name)
    lo, hi = posit_exp_range(fmt)
    lo, hi = lo - 7, hi + fmt.max_fraction_bits + 2
    rows = [(neg, sig, exp) for neg in (False, True) for exp in range(lo, hi + 1)
            for sig in range(64)]
    run_encoder(fmt, rows, 6, lo, hi)


@pytest.mark.parametrize("name", MAC_FORMATS + EDGE_FORMATS)
def test_encoder_ties_and_neighbours(name):
    # The tie between patterns p and p + 1 is the (n + 1)-bit pattern 2p + 1; one unit of the
    # 4th bit below it on either side must round away from it.
    fmt = F.get(name)
    wide = PositFormat(fmt.n + 1, fmt.es)
    p = np.arange(fmt.max_code + 1, dtype=np.uint64)
    if p.size > 2048:  # posit16_1: a seeded sample, plus the codes around every regime change
        rng = np.random.default_rng(20261122)
        ends = np.flatnonzero(np.diff(decoded_k(fmt, p)) != 0)
        p = np.unique(np.concatenate([rng.choice(p, 2048, replace=False), p[ends], p[ends + 1],
                                      p[:4], p[-4:]]))
    ties = wide.to_exact(2 * p + np.uint64(1))
    sig = [int(s) << 4 for s in ties.sig]
    rows = [(neg, s + d, int(e) - 4) for neg in (False, True) for d in (0, 1, -1)
            for s, e in zip(sig, ties.exp)]
    exps = [r[2] for r in rows]
    want = run_encoder(fmt, rows, fmt.n + 6, min(exps), max(exps))
    # Golden's own rule: a positive tie goes to the even code, or to minpos instead of 0.
    even = np.where(p % np.uint64(2) == 0, p, p + np.uint64(1))
    even = np.where(p == fmt.max_code, p, np.maximum(even, 1))
    assert want[:len(p)].tolist() == even.astype(np.int64).tolist()


def decoded_k(fmt, codes):
    """Regime k of positive codes, from golden values: floor(log2(value) / 2**es)."""
    return np.floor(np.log2(fmt.decode(np.maximum(codes, 1))) / fmt.useed_log2)


@pytest.mark.parametrize("name", MAC_FORMATS)
def test_encoder_quire_wide_magnitudes(name):
    # The MAC's configuration: |quire| of 16n bits at the quire's LSB. Random words of random
    # length (most beyond maxpos or near the top), every power of two, every all-ones run.
    fmt = F.get(name)
    quire = Quire(fmt)
    width, lsb = quire.width_bits, quire.lsb_exponent
    rng = np.random.default_rng(20261123)
    words = [int.from_bytes(rng.bytes(width // 8), "little") >> int(rng.integers(0, width))
             for _ in range(1500)]
    words += [1 << j for j in range(width)] + [(1 << j) - 1 for j in range(width + 1)]
    rows = [(bool(rng.integers(0, 2)), w, lsb) for w in words]
    run_encoder(fmt, rows, width, lsb, lsb)


class _RoundTrip(Elaboratable):
    """PositDecoder feeding a PositEncoder of its sig width and exponent range."""

    def __init__(self, fmt):
        self.decoder = PositDecoder(fmt)
        self.encoder = PositEncoder(fmt, sig_width=self.decoder.sig_width,
                                    exp_min=self.decoder.exp_min, exp_max=self.decoder.exp_max)
        self.code, self.out = self.decoder.code, self.encoder.code

    def elaborate(self, platform):
        m = Module()
        m.submodules.decoder, m.submodules.encoder = self.decoder, self.encoder
        d, e = self.decoder, self.encoder
        m.d.comb += [e.negative.eq(d.negative), e.sig.eq(d.sig), e.exp.eq(d.exp),
                     e.nar.eq(d.nar)]
        return m


@pytest.mark.parametrize("name", MAC_FORMATS + EDGE_FORMATS)
def test_decode_then_encode_every_code(name):
    fmt = F.get(name)
    codes = every_code(fmt)
    if codes.size > 4096:  # posit16_1: a seeded sample
        codes = np.unique(np.concatenate([np.random.default_rng(20261124).choice(codes, 4096),
                                          codes[:8], codes[-8:],
                                          codes[[fmt.nar_code]]]))
    got = simulate(_RoundTrip(fmt), [{"code": c} for c in codes], ["out"])[:, 0]
    assert_equal(got, codes, [hex(c) for c in codes], f"encode(decode(c)), {name}")


def test_encoder_nar_and_zero():
    fmt = F.get("posit8_2")
    dut = PositEncoder(fmt, sig_width=8, exp_min=-40, exp_max=40)
    rows = [{"negative": n, "sig": s, "exp": e, "nar": nar}
            for n in (0, 1) for s in (0, 1, 255) for e in (-40, 0, 40) for nar in (0, 1)]
    got = simulate(dut, rows, ["code"])[:, 0]
    assert all(g == fmt.nar_code for g, r in zip(got, rows) if r["nar"])
    assert all(g == 0 for g, r in zip(got, rows) if not r["nar"] and r["sig"] == 0)
    # Nonzero never rounds to 0 nor finite to NaR: +-minpos, +-maxpos.
    extremes = {(r["negative"], r["exp"]): g for g, r in zip(got, rows)
                if not r["nar"] and r["sig"] == 1 and r["exp"] != 0}
    assert extremes == {(0, -40): 1, (1, -40): 0xFF, (0, 40): 0x7F, (1, 40): 0x81}


BAD = [
    (lambda: PositDecoder(F.get("int8")), "PositDecoder fmt must be a PositFormat, not 'int8'"),
    (lambda: PositEncoder(F.get("fp8_e4m3"), sig_width=8, exp_min=0, exp_max=0),
     "PositEncoder fmt must be a PositFormat, not 'fp8_e4m3'"),
    (lambda: PositEncoder(F.get("posit8_0"), sig_width=0, exp_min=0, exp_max=0),
     "PositEncoder sig_width must be an integer from 1 to 4096, not 0"),
    (lambda: PositEncoder(F.get("posit8_0"), sig_width=8, exp_min=3, exp_max=2),
     "PositEncoder exp_max must be an integer from 3 to 65536, not 2"),
    (lambda: PositEncoder(F.get("posit8_0"), sig_width=8, exp_min=-70000, exp_max=2),
     "PositEncoder exp_min must be an integer from -65536 to 65536, not -70000"),
]


@pytest.mark.parametrize("call, message", BAD, ids=[m for _, m in BAD])
def test_bad_parameters(call, message):
    raises_exactly(call, OperationError, message)


def test_ties_are_geometric_where_exponent_bits_are_cut_off():
    # posit(8, 2): 0x7E is 2**20 (the regime leaves no exponent bit), 0x7F is maxpos 2**24;
    # their tie, the 9-bit pattern 0xFD, is 2**22, so 2**23 rounds to maxpos (numerics.md).
    fmt = F.get("posit8_2")
    assert PositFormat(9, 2).decode(np.array([0xFD], np.uint64)).tolist() == [2.0 ** 22]
    rows = [(False, 1 << 8, 14), (False, (1 << 8) + 1, 14), (False, (1 << 8) - 1, 14),
            (False, 1 << 8, 15)]  # 2**22, just above, just below, 2**23
    assert run_encoder(fmt, rows, 9, 14, 15).tolist() == [0x7E, 0x7F, 0x7E, 0x7F]
