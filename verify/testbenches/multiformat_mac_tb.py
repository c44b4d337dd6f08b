"""cocotb testbench for MultiFormatMac: one operation per cycle, every lane output compared bit for
bit.

Environment: ``LOWBIT_VECTORS`` (an ``.npz`` from :meth:`MultiFormatVectors.save`),
``LOWBIT_LATENCY`` (cycles from ``valid`` to ``out_valid``), ``LOWBIT_ACC_BITS`` (lane output
widths, comma separated, lane 0 first), ``LOWBIT_GATING`` (``1`` when the unit has
``lane_enable``), optionally ``LOWBIT_RESULT`` (see the pipeline driver).
"""

import os

import cocotb
import numpy as np

from lowbit.verify.testbenches.pipeline import run_pipelined


def _lanes() -> int:
    return len(os.environ["LOWBIT_ACC_BITS"].split(","))


def mismatch_checker(data):
    """``(i, got) -> None or a description`` of operation ``i`` of the vector set ``data``
    (the loaded ``.npz``) whose lane outputs read ``got`` (``{"acc<k>": code}``)."""
    lanes = _lanes()
    mode, clear, a, b, enable = (data[k].tolist() for k in ("mode", "clear", "a", "b", "enable"))
    expected = data["expected"].tolist()

    def check(i, got):
        codes = [got[f"acc{k}"] for k in range(lanes)]
        if codes != expected[i]:
            return (f"op {i}: mode={mode[i]} clear={clear[i]} enable={enable[i]:b} "
                    f"a=0x{a[i]:04x} b=0x{b[i]:04x}: lanes {[hex(g) for g in codes]}, expected "
                    f"{[hex(e) for e in expected[i]]}")
        return None

    return check


def stimulus(data) -> dict:
    """The input ports' columns of the vector set ``data``, by port (``lane_enable`` is the
    set's ``enable``; a unit without lane enables has no such port and ignores it)."""
    return {"mode": data["mode"], "clear": data["clear"], "a": data["a"], "b": data["b"],
            "lane_enable": data["enable"]}


@cocotb.test()
async def multiformat_mac_matches_golden(dut):
    data = np.load(os.environ["LOWBIT_VECTORS"])
    gating = os.environ.get("LOWBIT_GATING") == "1"
    ports = [getattr(dut, f"acc{k}") for k in range(_lanes())]
    mode, clear, a, b, enable = (data[k].tolist() for k in ("mode", "clear", "a", "b", "enable"))
    mismatch = mismatch_checker(data)

    def apply(i):
        dut.clear.value, dut.mode.value = int(clear[i]), mode[i]
        dut.a.value, dut.b.value = a[i], b[i]
        if gating:
            dut.lane_enable.value = enable[i]

    def check(i):
        return mismatch(i, {f"acc{k}": port.value.to_unsigned() for k, port in enumerate(ports)})

    await run_pipelined(dut, len(a), int(os.environ["LOWBIT_LATENCY"]), apply, check)
