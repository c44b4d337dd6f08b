"""cocotb testbench for block dot-product units (MxDotUnit): ``acc`` compared bit for bit.

Environment: ``LOWBIT_VECTORS`` (an ``.npz`` from :meth:`BlockVectors.save`), ``LOWBIT_LATENCY``
(cycles from ``valid`` to ``out_valid``), ``LOWBIT_ELEMENT_BITS`` (element code width: element
``i`` of a block is bits ``[i * w, (i + 1) * w)`` of ``a`` and ``b``), ``LOWBIT_ACC_FMT`` (the
result format as a golden ``to_dict`` JSON, to print decoded values), optionally
``LOWBIT_RESULT`` (a JSON file receiving vectors checked, mismatches, measured latency, cycles).
"""

import json
import os

import cocotb
import numpy as np

from lowbit.golden.formats import from_dict
from lowbit.verify.testbenches.pipeline import run_pipelined


def pack(codes, bits: int) -> int:
    """Element codes as one integer: element ``i`` at bits ``[i * bits, (i + 1) * bits)``."""
    return sum(int(c) << (i * bits) for i, c in enumerate(codes))


def mismatch_checker(data):
    """``(i, got) -> None or a description`` of operation ``i`` of the vector set ``data``
    (the loaded ``.npz``) whose result read ``got`` (``{"acc": code}``)."""
    acc_fmt = from_dict(json.loads(os.environ["LOWBIT_ACC_FMT"]))
    inputs = stimulus(data)
    clear, a_scale, b_scale, a, b = (inputs[k] for k in ("clear", "a_scale", "b_scale", "a", "b"))
    expected = data["expected"].tolist()
    decode = lambda code: float(acc_fmt.decode(np.array([code], np.uint64))[0])  # noqa: E731

    def check(i, got):
        got, want = got["acc"], expected[i]
        if got != want:
            return (f"op {i}: clear={clear[i]} a=0x{a[i]:x} a_scale=0x{a_scale[i]:x} "
                    f"b=0x{b[i]:x} b_scale=0x{b_scale[i]:x}: acc 0x{got:x} ({decode(got)!r}), "
                    f"expected 0x{want:x} ({decode(want)!r})")
        return None

    return check


def stimulus(data) -> dict:
    """The input ports' values of the vector set ``data``, by port (blocks packed, Python
    integers)."""
    bits = int(os.environ["LOWBIT_ELEMENT_BITS"])
    values = {k: data[k].tolist() for k in ("clear", "a_scale", "b_scale")}
    values["a"] = [pack(row, bits) for row in data["a"]]
    values["b"] = [pack(row, bits) for row in data["b"]]
    return values


@cocotb.test()
async def mx_dot_matches_golden(dut):
    data = np.load(os.environ["LOWBIT_VECTORS"])
    inputs = stimulus(data)
    clear, a_scale, b_scale, a, b = (inputs[k] for k in ("clear", "a_scale", "b_scale", "a", "b"))
    mismatch = mismatch_checker(data)

    def apply(i):
        dut.clear.value, dut.a.value, dut.b.value = int(clear[i]), a[i], b[i]
        dut.a_scale.value, dut.b_scale.value = int(a_scale[i]), int(b_scale[i])

    def check(i):
        return mismatch(i, {"acc": dut.acc.value.to_unsigned()})

    await run_pipelined(dut, len(a), int(os.environ["LOWBIT_LATENCY"]), apply, check)
