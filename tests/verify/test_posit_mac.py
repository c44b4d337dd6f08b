"""PositMac against golden ``Quire.reduce`` on Amaranth's simulator.

Configurations: posit4_1, posit8_0 and posit8_2 with the 2022 quire (es 0, 1, 2), posit8_0
also with the 32-bit draft quire (its sequences cleared every 100 operations, as in the
regression: golden raises past 127 terms of maxpos**2); posit16_1 corners (a 256-bit quire),
posit2_0 and posit3_1 exhaustively (regimes fill the word). The exhaustive and random Verilator
runs are the regression's (tests/verify/test_regress.py and ``lowbit regress --full``).
"""

import json

import numpy as np
import pytest

from lowbit.errors import OperationError
from lowbit.golden import formats as F
from lowbit.golden.accumulators import FixedAccumulator, Quire
from lowbit.golden.formats import PositFormat
from lowbit.hdl import export
from lowbit.hdl.posit_mac import PositMac
from lowbit.verify import regression
from lowbit.verify.pysim import simulate_mac
from lowbit.verify.vectors import MacVectors, expected_codes, mac_vectors
from tests.expect import raises_exactly


def check(dut, v):
    got = simulate_mac(dut, v)
    bad = np.flatnonzero(got != v.expected)
    assert bad.size == 0, [(int(v.clear[i]), hex(v.a[i]), hex(v.b[i]), hex(got[i]),
                            hex(v.expected[i])) for i in bad[:5]]


@pytest.mark.parametrize("name", ["posit4_1", "posit8_0", "posit8_2"])
@pytest.mark.parametrize("kind", ["corners", "sequences"])
def test_posit_mac_pysim(name, kind):
    fmt = F.get(name)
    quire = Quire(fmt, "2022")
    check(PositMac(fmt, quire=quire), mac_vectors(kind, fmt, fmt, quire))


@pytest.mark.parametrize("kind", ["corners", "sequences/clear100"])
def test_posit_mac_draft_quire_pysim(kind):
    entry = regression.by_name(regression.MAC)["positmac_posit8_0_quire_draft"]
    dut = entry.build()
    assert dut.quire.width_bits == 32
    check(dut, entry.vectors(dut, kind))


@pytest.mark.parametrize("name, kind", [("posit16_1", "corners"), ("posit2_0", "exhaustive"),
                                        ("posit3_1", "exhaustive")])
def test_posit_mac_other_widths_pysim(name, kind):
    fmt = F.get(name)
    quire = Quire(fmt)
    check(PositMac(fmt, quire=quire), mac_vectors(kind, fmt, fmt, quire))


def test_nar_sticks_until_clear():
    fmt = F.get("posit8_0")
    one, nar, maxpos = 0x40, fmt.nar_code, fmt.max_code
    clear = np.array([1, 0, 0, 0, 1, 0, 0], bool)
    a = np.array([one, nar, one, maxpos, one, maxpos, fmt.min_code])
    b = np.array([one, one, one, maxpos, one, one, one])
    quire = Quire(fmt)
    v = MacVectors("nar", clear, a, b, expected_codes(clear, a, b, fmt, fmt, quire))
    assert v.expected.tolist() == [one, nar, nar, nar, one, maxpos, one]  # 1 + 64 - 64 = 1
    check(PositMac(fmt, quire=quire), v)


def test_export_sidecar(tmp_path):
    fmt = F.get("posit8_2")
    rtl = export(PositMac(fmt, quire=Quire(fmt)), name="posit_mac_test", out_dir=tmp_path)
    sidecar = rtl.sidecar
    assert sidecar["latency_cycles"] == 1
    acc = sidecar["parameters"]["acc"]
    assert {k: acc[k] for k in ("kind", "standard", "register_bits", "lsb_exponent")} == {
        "kind": "quire", "standard": "2022", "register_bits": 128, "lsb_exponent": -48}
    ports = sidecar["ports"]
    assert {k: ports[k]["width"] for k in ("a", "b", "acc")} == {"a": 8, "b": 8, "acc": 8}


def _posit64():
    """A posit(64, 2) built past golden's own n <= 32 check (the RTL keeps its own limit)."""
    fmt = object.__new__(PositFormat)
    for field, value in (("n", 64), ("es", 2), ("name", "posit64_2")):
        object.__setattr__(fmt, field, value)
    return fmt


P8 = F.get("posit8_0")
BAD = [
    (lambda: PositMac(F.get("int8"), quire=Quire(P8)),
     "PositMac fmt must be a PositFormat, not 'int8'"),
    (lambda: PositMac(_posit64(), quire=Quire(P8)),
     "PositMac supports posits of 2 to 32 bits, not posit64_2 with n = 64"),
    (lambda: PositMac(P8, quire=FixedAccumulator(20, 0)),
     "PositMac quire must be a Quire, not FixedAccumulator(int_bits=20, frac_bits=0, "
     "overflow='wrap', rounding='rne')"),
    (lambda: PositMac(P8, quire=Quire(F.get("posit8_2"))),
     "PositMac quire must be a Quire of posit8_0, not of posit8_2"),
    (lambda: PositMac(F.get("posit8_2"), quire=Quire(F.get("posit8_2"), "draft")),
     "PositMac quire Quire(posit8_2, 'draft') has 32 bits; its posit8_2 products need 99 "
     "(from 2**-48 to below 2**50, plus a sign bit)"),
    (lambda: PositMac(F.get("posit8_3"), quire=Quire(F.get("posit8_3"))),
     "PositMac quire Quire(posit8_3, '2022') has 128 bits; its posit8_3 products need 195 "
     "(from 2**-96 to below 2**98, plus a sign bit)"),
]


@pytest.mark.parametrize("call, message", BAD, ids=[m for _, m in BAD])
def test_posit_mac_rejects_bad_parameters(call, message):
    raises_exactly(call, OperationError, message)


def test_walk_saturates_at_plus_and_minus_maxpos():
    """The ``walk`` set: 2**13 largest products each way; every prefix of maxpos**2 terms
    rounds to maxpos, of -maxpos**2 terms to -maxpos (posits saturate, independent of golden's
    prefix evaluation)."""
    fmt = F.get("posit4_1")
    v = mac_vectors("walk", fmt, fmt, Quire(fmt, "2022"))
    half = len(v) // 2
    assert len(v) == 2 ** 14 and v.clear.sum() == 2 and v.clear[0] and v.clear[half]
    assert (v.expected[:half] == fmt.max_code).all()
    assert (v.expected[half:] == fmt.min_code).all()


def test_climb_is_one_run_of_the_largest_product(monkeypatch):
    """The deep ``climb`` set (``2**24`` operations in adequacy campaigns; 4,096 here): one
    clear, then maxpos x maxpos every operation; every prefix rounds to maxpos (independent
    of golden's streaming prefix sums)."""
    from lowbit.verify import vectors
    monkeypatch.setattr(vectors, "CLIMB_OPS", 1 << 12)
    fmt = F.get("posit8_0")
    v = mac_vectors("climb", fmt, fmt, Quire(fmt, "2022"))
    assert len(v) == 1 << 12 and v.clear[0] and v.clear.sum() == 1
    assert (v.a == fmt.max_code).all() and (v.b == fmt.max_code).all()
    assert (v.expected == fmt.max_code).all()
