"""cocotb testbench for SimdMac: one operation per cycle, every lane register compared bit for bit.

Environment: ``LOWBIT_VECTORS`` (an ``.npz`` from :meth:`SimdVectors.save`), ``LOWBIT_LATENCY``
(cycles from ``valid`` to ``out_valid``), ``LOWBIT_ACC_BITS`` (lane register widths, comma
separated, lane 0 first), optionally ``LOWBIT_RESULT`` (see the pipeline driver).
"""

import os

import cocotb
import numpy as np

from lowbit.verify.testbenches.pipeline import run_pipelined


def _widths() -> list:
    return [int(w) for w in os.environ["LOWBIT_ACC_BITS"].split(",")]


def mismatch_checker(data):
    """``(i, got) -> None or a description`` of operation ``i`` of the vector set ``data``
    (the loaded ``.npz``) whose lane registers read ``got`` (``{"acc<k>": code}``)."""
    widths = _widths()
    masks = [(1 << w) - 1 for w in widths]
    mode, clear, a, b = (data[k].tolist() for k in ("mode", "clear", "a", "b"))
    signed_expected = data["expected"].tolist()
    expected = [[x & mask for x, mask in zip(row, masks)] for row in signed_expected]

    def check(i, got):
        codes = [got[f"acc{k}"] for k in range(len(widths))]
        if codes != expected[i]:
            signed = [c - (1 << w) if c >> (w - 1) else c for c, w in zip(codes, widths)]
            return (f"op {i}: mode={mode[i]} clear={clear[i]} a=0x{a[i]:04x} b=0x{b[i]:02x}: "
                    f"acc {[hex(g) for g in codes]} ({signed}), "
                    f"expected {[hex(e) for e in expected[i]]} ({signed_expected[i]})")
        return None

    return check


def stimulus(data) -> dict:
    """The input ports' columns of the vector set ``data``, by port."""
    return {k: data[k] for k in ("mode", "clear", "a", "b")}


@cocotb.test()
async def simd_mac_matches_golden(dut):
    data = np.load(os.environ["LOWBIT_VECTORS"])
    lanes = len(_widths())
    ports = [getattr(dut, f"acc{k}") for k in range(lanes)]
    mode, clear, a, b = (data[k].tolist() for k in ("mode", "clear", "a", "b"))
    mismatch = mismatch_checker(data)

    def apply(i):
        dut.clear.value = int(clear[i])
        dut.mode.value, dut.a.value, dut.b.value = mode[i], a[i], b[i]

    def check(i):
        return mismatch(i, {f"acc{k}": port.value.to_unsigned() for k, port in enumerate(ports)})

    await run_pipelined(dut, len(a), int(os.environ["LOWBIT_LATENCY"]), apply, check)
