"""cocotb testbench of the enumerated fast path (:mod:`lowbit.verify.stream_wrapper`): the
wrapper counts the cases, reads golden's expected values from a stream and checks every lane
itself; this test waits for its ``done``, reads its counters and reports the first mismatches
with the case index, the operands and got/expected in hex and decoded, plus golden's value of
the case (so a wrong expected stream reads differently from a wrong design).

Environment: ``LOWBIT_ENUMERATED`` (JSON: ``set``, ``design``, ``first``, ``cases``, ``lanes``,
``code_bits``, ``outputs``), ``LOWBIT_LATENCY``, optionally ``LOWBIT_RESULT`` (a JSON file
receiving vectors checked, mismatches, measured latency, cycles, values streamed).
"""

import json
import os

import cocotb
import numpy as np
from cocotb.triggers import RisingEdge

from lowbit.hdl import designs
from lowbit.verify import enumerated_sets
from lowbit.verify.checker_wrapper import MAX_FAILS, unpack


def _show(fmt, code) -> str:
    """``0x..`` and the decoded value of ``code`` in ``fmt``."""
    return f"0x{code:0{(fmt.bits + 3) // 4}x} ({float(fmt.decode(np.array([code]))[0])!r})"


def describe(run: dict, index: int, code: int, got: int, want: int) -> str:
    """One mismatch of case ``index`` (case code ``code``): operands, received and expected
    ``acc``, and golden's value where the streamed expected value differs from it."""
    spec = designs.get(run["design"])
    enumerated = enumerated_sets.get(run["set"])
    fields = dict(enumerated.fields(spec))
    operands = enumerated.columns(spec, [code])
    out_fmt = spec.accumulator.out_fmt
    golden = int(enumerated.golden(spec, operands)[0])
    text = " ".join([f"case {index} (code 0x{code:x}):",
                     *(f"{p}={v}" for p, v in enumerated.constants),
                     *(f"{p}={_show(fields[p], int(operands[p][0]))}" for p in fields)])
    text += f": acc {_show(out_fmt, got)}, expected {_show(out_fmt, want)}"
    if golden != want:
        text += f"; golden gives {_show(out_fmt, golden)}: the expected stream is wrong"
    return text


@cocotb.test()
async def stream_matches_golden(dut):
    run = json.loads(os.environ["LOWBIT_ENUMERATED"])
    outputs = [tuple(p) for p in run["outputs"]]
    ew, kb = sum(w for _, w in outputs), run["code_bits"]
    if not int(dut.done.value):
        await RisingEdge(dut.done)
    checked, bad = int(dut.checked.value), int(dut.mismatches.value)
    latency = int(dut.latency.value) if int(dut.seen.value) else None
    streamed = int(dut.streamed.value)
    if os.environ.get("LOWBIT_RESULT"):
        with open(os.environ["LOWBIT_RESULT"], "w") as f:
            json.dump({"vectors": checked, "mismatches": bad, "latency": latency,
                       "cycles": int(dut.cycles.value), "streamed": streamed}, f)
    cases = run["cases"]
    lines = []
    if bad:
        index_bits, code_bits, got_bits, want_bits = (
            dut.fail_index.value.to_unsigned(), dut.fail_code.value.to_unsigned(),
            dut.fail_got.value.to_unsigned(), dut.fail_expected.value.to_unsigned())
        spec = designs.get(run["design"])
        for k in range(min(bad, MAX_FAILS)):
            index = (index_bits >> (64 * k)) & ((1 << 64) - 1)
            code = (code_bits >> (kb * k)) & ((1 << kb) - 1)
            # the checker kept the code of case ``index``: the set's own enumeration
            (own,) = enumerated_sets.get(run["set"]).codes(spec, index, 1).tolist()
            assert code == own, f"checker kept code 0x{code:x} for case {index}, not 0x{own:x}"
            got = unpack((got_bits >> (ew * k)) & ((1 << ew) - 1), outputs)["acc"]
            want = unpack((want_bits >> (ew * k)) & ((1 << ew) - 1), outputs)["acc"]
            lines.append(describe(run, index, code, got, want))
    if int(dut.short_stream.value):
        raise AssertionError(f"the expected stream ended after {streamed:,} values; cases "
                             f"{run['first']:,} to {run['first'] + cases - 1:,} need "
                             f"{cases:,} ({checked:,} checked)" + "".join(f"\n{s}"
                                                                         for s in lines))
    expected_latency = int(os.environ["LOWBIT_LATENCY"])
    assert latency == expected_latency, \
        f"measured latency {latency} cycles, component says {expected_latency}"
    assert checked == cases, f"checked {checked:,} of {cases:,} cases"
    if bad:
        raise AssertionError(f"{bad:,} mismatches of {cases:,} cases:\n" + "\n".join(lines))
    dut._log.info("checked %d cases, latency %d, 0 mismatches", checked, latency)
