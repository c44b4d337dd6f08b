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
from lowbit.hdl.simd_mac import SimdMac, SimdMode
from lowbit.verify.runner import SimulationFailed, run_testbench
from lowbit.paths import write_atomic
from lowbit.verify.simd_vectors import simd_vectors
from lowbit.verify.vectors import mac_vectors


@dataclass(frozen=True)
class Entry:
    """One configuration of one unit, with the vector sets to run on it.

    ``vectors(unit, kind)`` builds a vector set (an object with ``save`` and ``len``) from
    golden; ``env(unit)`` gives the testbench's extra environment (register widths).
    """

    unit: str
    config: str
    build: object
    vector_sets: tuple
    vectors: object
    env: object
    testbench: str
    full_only: bool = False


def _int_mac_entry(a, b, int_bits, overflow, sets, full_only=False):
    a_fmt, b_fmt = F.get(a), F.get(b)
    acc = FixedAccumulator(int_bits, a_fmt.frac_bits + b_fmt.frac_bits, overflow)
    return Entry(
        "IntMac", f"{a}x{b}_{'wrap' if overflow == 'wrap' else 'sat'}{int_bits}",
        lambda: IntMac(a_fmt, b_fmt, acc=acc), sets,
        vectors=lambda u, kind: mac_vectors(kind, u.a_fmt, u.b_fmt, u.accumulator),
        env=lambda u: {"LOWBIT_ACC_BITS": u.accumulator.int_bits + u.accumulator.frac_bits},
        testbench="lowbit.verify.testbenches.mac_tb", full_only=full_only)


def _simd_vectors(unit, kind):
    """``exhaustive/m<k>`` is mode k alone, exhaustively; other kinds mix every mode."""
    base, _, mode = kind.partition("/m")
    return simd_vectors(base, unit.modes, only=int(mode) if mode else None)


def _simd_mac_entry(config, modes, sets, full_only=False):
    return Entry(
        "SimdMac", config, lambda: SimdMac(modes), sets, vectors=_simd_vectors,
        env=lambda u: {"LOWBIT_ACC_BITS": ",".join(str(p.shape().width) for p in u.acc_ports())},
        testbench="lowbit.verify.testbenches.simd_mac_tb", full_only=full_only)


ALL_SETS = ("exhaustive", "corners", "random", "sequences")
_SIMD_PRESETS = tuple(SimdMode.preset(shape, acc=FixedAccumulator(24, 0, "wrap"))
                      for shape in ("8x8", "4x4", "8x4", "2x2"))
MATRIX = (
    _int_mac_entry("int8", "int8", 20, "wrap", ALL_SETS),
    _int_mac_entry("int8", "int8", 18, "saturate", ALL_SETS),
    _int_mac_entry("uint4", "int8", 16, "saturate", ALL_SETS),
    _simd_mac_entry("presets_wrap24", _SIMD_PRESETS,
                    ("exhaustive/m0", "exhaustive/m1", "exhaustive/m2", "exhaustive/m3",
                     "corners", "sequences", "random")),
    _int_mac_entry("int16", "int16", 40, "wrap", ("corners", "random", "sequences"),
                   full_only=True),
    _int_mac_entry("int2", "uint2", 6, "saturate", ALL_SETS, full_only=True),
)


def entries(full: bool):
    """The matrix entries of the quick or the full regression."""
    return [e for e in MATRIX if full or not e.full_only]


def run_entry(entry, vector_set, sim="verilator") -> dict:
    """Run one vector set on one configuration; return its result row."""
    unit = entry.build()
    start = time.perf_counter()
    vectors = entry.vectors(unit, vector_set)
    rtl = export(unit, name=f"{entry.unit.lower()}_{entry.config}")
    row = {"unit": entry.unit, "config": entry.config, "vector_set": vector_set, "sim": sim,
           "vectors": 0, "mismatches": None, "cycles": 0, "latency": None,
           "latency_expected": unit.latency, "status": "error", "error": ""}
    with tempfile.TemporaryDirectory() as tmp:
        stim, result = Path(tmp) / "vectors.npz", Path(tmp) / "result.json"
        vectors.save(stim)
        env = {"LOWBIT_VECTORS": stim, "LOWBIT_LATENCY": unit.latency,
               "LOWBIT_RESULT": result, **entry.env(unit)}
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
