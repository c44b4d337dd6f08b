"""cocotb testbench for single-register MAC units (IntMac, FloatMac, PositMac): ``acc`` compared
bit for bit.

Environment: ``LOWBIT_VECTORS`` (an ``.npz`` from :meth:`MacVectors.save`), ``LOWBIT_LATENCY``
(cycles from ``valid`` to ``out_valid``), ``LOWBIT_ACC_BITS`` (register width), optionally
``LOWBIT_ACC_FMT`` (the result format as a golden ``to_dict`` JSON: mismatches then show decoded
values; without it the register reads as a signed integer) and ``LOWBIT_RESULT`` (a JSON file
receiving vectors checked, mismatches, measured latency, cycles).
"""

import json
import os

import cocotb
import numpy as np

from lowbit.verify.testbenches.pipeline import run_pipelined


def _decoder():
    """``code -> readable value`` for mismatch messages."""
    spec = os.environ.get("LOWBIT_ACC_FMT")
    if not spec:
        bits = int(os.environ["LOWBIT_ACC_BITS"])
        return lambda code: code - (1 << bits) if code >> (bits - 1) else code
    from lowbit.golden.formats import from_dict
    fmt = from_dict(json.loads(spec))
    return lambda code: float(fmt.decode(np.array([code]))[0])


def mismatch_checker(data):
    """``(i, got) -> None or a description`` of operation ``i`` of the vector set ``data``
    (the loaded ``.npz``) whose result read ``got`` (``{"acc": code}``)."""
    mask = (1 << int(os.environ["LOWBIT_ACC_BITS"])) - 1
    clear, a, b, expected = (data[k].tolist() for k in ("clear", "a", "b", "expected"))
    value = _decoder()

    def check(i, got):
        got, want = got["acc"], expected[i] & mask
        if got != want:
            return (f"op {i}: clear={clear[i]} a=0x{a[i]:x} b=0x{b[i]:x}: acc 0x{got:x} "
                    f"({value(got)!r}), expected 0x{want:x} ({value(want)!r})")
        return None

    return check


def stimulus(data) -> dict:
    """The input ports' columns of the vector set ``data``, by port."""
    return {k: data[k] for k in ("clear", "a", "b")}


@cocotb.test()
async def mac_matches_golden(dut):
    data = np.load(os.environ["LOWBIT_VECTORS"])
    clear, a, b = (data[k].tolist() for k in ("clear", "a", "b"))
    mismatch = mismatch_checker(data)

    def apply(i):
        dut.clear.value, dut.a.value, dut.b.value = int(clear[i]), int(a[i]), int(b[i])

    def check(i):
        return mismatch(i, {"acc": dut.acc.value.to_unsigned()})

    await run_pipelined(dut, len(a), int(os.environ["LOWBIT_LATENCY"]), apply, check)
