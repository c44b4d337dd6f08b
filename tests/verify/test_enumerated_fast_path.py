"""The enumerated fast path (:mod:`lowbit.verify.stream_wrapper`) on slices of the 2**32 sets.

The same mechanism as ``lowbit regress --full`` runs on the whole sets (counter-driven lanes,
golden streamed through a FIFO in chunks), on the first 65,536 cases of each set: several
chunks and lanes, 0 mismatches. Then what it must report: a corrupted expected chunk and a
design with a wrong output bit (case index, operands, got/expected in hex and decoded, and
golden's value when the stream is the wrong one), a stream that ends early, and a run of zero
cases. The error cases use the FloatMac set (its chained fp8 x fp8 -> fp16 unit builds
fastest); every run of one module shares one wrapper build.
"""

import json

import numpy as np
import pytest

from lowbit.hdl import designs
from lowbit.verify import enumerated_sets, stream_wrapper
from lowbit.verify.runner import SimulationFailed
from lowbit.verify.stream_wrapper import StreamError
from lowbit.verify.testbenches.stream_tb import describe

from tests.verify.test_fast_path import FlippedBit

pytestmark = pytest.mark.xdist_group("enumerated_fp16")

FLOAT = designs.get("floatmac_fp8_e5m2xfp8_e5m2_fp16")
POSIT = designs.get("positmac_posit16_1_quire")
CASES, LANES, CHUNK = 1 << 16, 8, 1 << 13


def _run(spec, vector_set, tmp_path, **options):
    result = tmp_path / "result.json"
    stream_wrapper.run_enumerated(spec, vector_set, tmp_path, cases=CASES, lanes=LANES,
                                  chunk=CHUNK, env={"LOWBIT_RESULT": result}, **options)
    return json.loads(result.read_text())


@pytest.mark.parametrize("spec, vector_set", [(FLOAT, "every_state"), (POSIT, "every_pair")],
                         ids=["every_state", "every_pair"])
def test_slice_of_each_set_matches_golden(spec, vector_set, tmp_path):
    r = _run(spec, vector_set, tmp_path)
    assert (r["vectors"], r["mismatches"], r["streamed"], r["latency"]) == (CASES, 0, CASES, 1)


def _golden_stream(corrupt=None, keep=None):
    """Golden's chunks of the FloatMac slice, with word ``corrupt`` flipped in its low bit or
    only the first ``keep`` words."""
    s = enumerated_sets.get("every_state")
    values = s.expected(FLOAT, 0, CASES)
    if corrupt is not None:
        values[corrupt] ^= 1
    values = values[:keep]

    def source():
        for start in range(0, len(values), CHUNK):
            yield stream_wrapper.to_stream(values[start:start + CHUNK], 16)

    return values, source


def _run_context(cases=CASES):
    return {"set": "every_state", "design": FLOAT.name, "first": 0, "cases": cases}


def test_corrupted_expected_value_is_reported_with_golden(tmp_path):
    values, source = _golden_stream(corrupt=20_000)
    with pytest.raises(SimulationFailed) as err:
        _run(FLOAT, "every_state", tmp_path, source=source)
    (code,) = enumerated_sets.get("every_state").codes(FLOAT, 20_000, 1).tolist()
    golden = int(values[20_000]) ^ 1
    line = describe(_run_context(), 20_000, code, golden, int(values[20_000]))
    assert line.endswith("the expected stream is wrong")
    assert f"1 mismatches of 65,536 cases:\n{line}" in str(err.value)
    fmt = FLOAT.accumulator.fmt
    a, b, st = code & 0xFF, (code >> 8) & 0xFF, code >> 16
    value = float(fmt.decode(np.array([golden]))[0])
    assert line.startswith(f"case 20000 (code 0x{code:x}): clear=0 a=0x{a:02x} (")
    assert f"acc_in=0x{st:04x} (" in line and f": acc 0x{golden:04x} ({value!r}), expected " \
        f"0x{golden ^ 1:04x} (" in line


def test_design_with_a_wrong_bit_is_reported(tmp_path):
    unit = FlippedBit(enumerated_sets.get("every_state").build(FLOAT), 3)
    with pytest.raises(SimulationFailed) as err:
        _run(FLOAT, "every_state", tmp_path, unit=unit)
    message = str(err.value)
    values = enumerated_sets.get("every_state").expected(FLOAT, 0, 8)
    codes = enumerated_sets.get("every_state").codes(FLOAT, 0, 8).tolist()
    assert "65,536 mismatches of 65,536 cases:" in message
    for i in range(8):  # the first 8, lane order within a cycle
        want = int(values[i])
        line = describe(_run_context(), i, codes[i], want ^ 8, want)
        assert "golden gives" not in line
        assert line in message


def test_stream_that_ends_early_fails(tmp_path):
    _, source = _golden_stream(keep=40_000)
    with pytest.raises(SimulationFailed) as err:
        _run(FLOAT, "every_state", tmp_path, source=source)
    assert ("the expected stream ended after 40,000 values; cases 0 to 65,535 need 65,536 "
            "(32,768 checked)") in str(err.value)


def test_empty_or_misaligned_runs_are_refused(tmp_path):
    with pytest.raises(StreamError) as err:
        stream_wrapper.run_enumerated(FLOAT, "every_state", tmp_path, cases=0)
    assert str(err.value) == ("cases must be 1 to 4,294,967,296 from case 0 of every_state on "
                              "floatmac_fp8_e5m2xfp8_e5m2_fp16, not 0")
    with pytest.raises(StreamError) as err:
        stream_wrapper.run_enumerated(FLOAT, "every_state", tmp_path, cases=100, lanes=8)
    assert str(err.value) == "cases must be a multiple of lanes (8), not 100"


def test_stream_bytes_are_big_endian_whole_bytes():
    assert stream_wrapper.to_stream([0x1234, 0xABCD], 16) == bytes([0x12, 0x34, 0xAB, 0xCD])
    assert stream_wrapper.to_stream([0x5_1234], 20) == bytes([0x05, 0x12, 0x34])
    assert stream_wrapper.word_bytes(33) == 5
