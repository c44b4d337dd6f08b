"""Regressions: a matrix of unit x configuration x vector set, run on a simulator.

Each entry exports the unit (reusing its build folder while the Verilog is unchanged), builds
the golden vector set, runs the cocotb testbench and records a tidy row: unit, config, vector
set, vectors checked, mismatches, cycles, measured latency, seconds, status. ``--quick`` is the
slice ``make test`` runs; ``--full`` adds the long configurations.
"""

import json
import tempfile
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

from lowbit.golden import formats as F
from lowbit.golden.accumulators import FixedAccumulator
from lowbit.hdl import export
from lowbit.hdl.int_mac import IntMac
from lowbit.verify.runner import SimulationFailed, run_testbench
from lowbit.paths import write_atomic
from lowbit.verify.vectors import mac_vectors


@dataclass(frozen=True)
class Entry:
    """One configuration of one unit, with the vector sets to run on it."""

    unit: str
    config: str
    build: object  # () -> component
    vector_sets: tuple
    testbench: str = "lowbit.verify.testbenches.mac_tb"
    full_only: bool = False


def _int_mac(a, b, int_bits, overflow):
    a_fmt, b_fmt = F.get(a), F.get(b)
    acc = FixedAccumulator(int_bits, a_fmt.frac_bits + b_fmt.frac_bits, overflow)
    return lambda: IntMac(a_fmt, b_fmt, acc=acc)


ALL_SETS = ("exhaustive", "corners", "random", "sequences")
MATRIX = (
    Entry("IntMac", "int8xint8_wrap20", _int_mac("int8", "int8", 20, "wrap"), ALL_SETS),
    Entry("IntMac", "int8xint8_sat18", _int_mac("int8", "int8", 18, "saturate"), ALL_SETS),
    Entry("IntMac", "uint4xint8_sat16", _int_mac("uint4", "int8", 16, "saturate"), ALL_SETS),
    Entry("IntMac", "int16xint16_wrap40", _int_mac("int16", "int16", 40, "wrap"),
          ("corners", "random", "sequences"), full_only=True),
    Entry("IntMac", "int2xuint2_sat6", _int_mac("int2", "uint2", 6, "saturate"), ALL_SETS,
          full_only=True),
)


def entries(full: bool):
    """The matrix entries of the quick or the full regression."""
    return [e for e in MATRIX if full or not e.full_only]


def run_entry(entry, vector_set, sim="verilator") -> dict:
    """Run one vector set on one configuration; return its result row."""
    unit = entry.build()
    start = time.perf_counter()
    vectors = mac_vectors(vector_set, unit.a_fmt, unit.b_fmt, unit.accumulator)
    rtl = export(unit, name=f"{entry.unit.lower()}_{entry.config}")
    row = {"unit": entry.unit, "config": entry.config, "vector_set": vector_set, "sim": sim,
           "vectors": 0, "mismatches": None, "cycles": 0, "latency": None,
           "latency_expected": unit.latency, "status": "error", "error": ""}
    with tempfile.TemporaryDirectory() as tmp:
        stim, result = Path(tmp) / "vectors.npz", Path(tmp) / "result.json"
        vectors.save(stim)
        env = {"LOWBIT_VECTORS": stim, "LOWBIT_LATENCY": unit.latency,
               "LOWBIT_ACC_BITS": unit.accumulator.int_bits + unit.accumulator.frac_bits,
               "LOWBIT_RESULT": result}
        try:
            run_testbench(rtl, entry.testbench, env, sim=sim)
            row["status"] = "pass"
        except SimulationFailed as err:
            row["status"], row["error"] = "fail", str(err)
        if result.exists():
            row.update(json.loads(result.read_text()))
    row["seconds"] = round(time.perf_counter() - start, 3)
    return row


def write_junit(rows, path):
    """Write result rows as JUnit XML (one testcase per unit/config/vector set)."""
    suite = ET.Element("testsuite", name="lowbit-regress", tests=str(len(rows)),
                       failures=str(sum(r["status"] != "pass" for r in rows)))
    for r in rows:
        case = ET.SubElement(suite, "testcase", classname=f"{r['unit']}.{r['config']}",
                             name=r["vector_set"], time=str(r["seconds"]))
        if r["status"] != "pass":
            ET.SubElement(case, "failure", message=r["error"][:500] or "mismatch")
    return write_atomic(path, ET.tostring(suite, encoding="unicode") + "\n")
