"""Regressions: a matrix of unit x configuration x vector set, run on a simulator.

Each entry exports the unit (reusing its build folder while the Verilog is unchanged), builds
the golden vector set, runs the cocotb testbench and records a tidy row: unit, config, vector
set, vectors checked, mismatches, cycles, measured latency, seconds, status. ``--quick`` is the
slice ``make test`` runs; ``--full`` adds the long configurations.
"""

import dataclasses
import json
import tempfile
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lowbit.errors import LowbitError, did_you_mean
from lowbit.golden import formats as F
from lowbit.golden.formats import FloatFormat
from lowbit.golden.accumulators import (ExactAccumulator, FixedAccumulator, FloatAccumulator,
                                        Interleaved, Quire, interleaved)
from lowbit.hdl import export
from lowbit.hdl.adder_tree_engine import AdderTreeEngine
from lowbit.hdl.float_mac import FloatMac
from lowbit.hdl.int_mac import IntMac
from lowbit.hdl.lut_tensor_core import LutTensorCore
from lowbit.hdl.mx_dot import MxDotUnit
from lowbit.hdl.posit_mac import PositMac
from lowbit.hdl.simd_mac import SimdMac, SimdMode
from lowbit.hdl.systolic_array import SystolicArray
from lowbit.verify.block_vectors import block_vectors
from lowbit.verify.gemm_vectors import GemmCase, GemmVectors, gemm_vectors, stream
from lowbit.verify.runner import SimulationFailed, run_testbench
from lowbit.paths import write_atomic
from lowbit.verify.simd_vectors import simd_vectors
from lowbit.verify.vectors import (MacVectors, directed_path, directed_vectors, expected_codes,
                                   mac_formats, mac_vectors)


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
    full_sets: tuple = ()
    #: Sets of millions of operations (:data:`~lowbit.verify.vectors.DEEP_SETS`): too long for
    #: a cocotb testbench, so only adequacy campaigns run them, on the C++ mutant driver.
    deep_sets: tuple = ()

    def sets(self, full: bool) -> tuple:
        """Vector sets to run: ``vector_sets``, plus ``full_sets`` in the full regression."""
        return self.vector_sets + (self.full_sets if full else ())


def _staged(stages) -> str:
    """Config suffix of a pipelined unit: ``_s{stages}``, nothing for one stage."""
    return f"_s{stages}" if stages > 1 else ""


def _int_mac_entry(a, b, int_bits, overflow, sets, full_only=False, stages=1):
    a_fmt, b_fmt = F.get(a), F.get(b)
    acc = FixedAccumulator(int_bits, a_fmt.frac_bits + b_fmt.frac_bits, overflow)
    return Entry(
        "IntMac", f"{a}x{b}_{'wrap' if overflow == 'wrap' else 'sat'}{int_bits}{_staged(stages)}",
        lambda: IntMac(a_fmt, b_fmt, acc=acc, stages=stages), sets,
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


def _posit_vectors(unit, kind):
    """``<set>/clear<k>``: the set's stimulus with a clear every k operations instead (a
    small draft quire overflows golden's range on 300-term runs of maxpos**2); other kinds are
    :func:`mac_vectors` of the unit's quire."""
    base, _, every = kind.partition("/clear")
    fmt, quire = unit.fmt, unit.quire
    if not every:
        return mac_vectors(kind, fmt, fmt, quire)
    stimulus = mac_vectors(base, fmt, fmt, Quire(fmt, "2022"))  # same codes, a wide quire
    clear = np.arange(len(stimulus)) % int(every) == 0
    return MacVectors(kind, clear, stimulus.a, stimulus.b,
                      expected_codes(clear, stimulus.a, stimulus.b, fmt, fmt, quire))


def _posit_mac_entry(fmt, standard, sets, full_only=False, full_sets=(), deep_sets=(),
                     stages=1):
    posit = F.get(fmt)
    quire = Quire(posit, standard)
    return Entry(
        "PositMac", f"{fmt}_q{standard}{_staged(stages)}",
        lambda: PositMac(posit, quire=quire, stages=stages), sets,
        full_sets=full_sets, deep_sets=deep_sets,
        vectors=_posit_vectors,
        env=lambda u: {"LOWBIT_ACC_BITS": u.fmt.n, "LOWBIT_ACC_FMT": json.dumps(u.fmt.to_dict())},
        testbench="lowbit.verify.testbenches.mac_tb", full_only=full_only)


def _float_mac_entry(a, b, acc, sets, full_only=False, stages=1):
    """FloatMac ``a x b`` into ``acc``; ``a``/``b`` are catalogue names or FloatFormats."""
    a_fmt, b_fmt = (F.get(x) if isinstance(x, str) else x for x in (a, b))
    kind = "kulisch" if isinstance(acc, ExactAccumulator) else "acc"
    if isinstance(getattr(acc, "order", None), Interleaved):
        kind = f"il{acc.order.partials}"
    options = "".join(f"_{x}" for x in (acc.rounding, getattr(acc, "overflow", None))
                      if x not in (None, "rne"))
    return Entry(
        "FloatMac",
        f"{a_fmt.name}x{b_fmt.name}_{kind}_{acc.out_fmt.name}{options}{_staged(stages)}",
        lambda: FloatMac(a_fmt, b_fmt, acc=acc, stages=stages), sets,
        vectors=lambda u, kind: mac_vectors(kind, u.a_fmt, u.b_fmt, u.accumulator),
        env=lambda u: {"LOWBIT_ACC_BITS": u.accumulator.out_fmt.bits,
                       "LOWBIT_ACC_FMT": json.dumps(u.accumulator.out_fmt.to_dict())},
        testbench="lowbit.verify.testbenches.mac_tb", full_only=full_only)


def _mx_dot_entry(block, acc, full_only=False, stages=1):
    """MxDotUnit of catalogue block format ``block`` into ``acc`` (corners, random, sequences)."""
    block_fmt = F.get(block)
    kind = "kulisch" if isinstance(acc, ExactAccumulator) else "acc"
    return Entry(
        "MxDotUnit", f"{block}_{kind}_{acc.out_fmt.name}{_staged(stages)}",
        lambda: MxDotUnit(block_fmt, acc=acc, stages=stages),
        ("corners", "random", "sequences"),
        vectors=lambda u, kind: block_vectors(kind, u.block_fmt, u.accumulator),
        env=lambda u: {"LOWBIT_ELEMENT_BITS": u.block_fmt.element.bits,
                       "LOWBIT_ACC_FMT": json.dumps(u.accumulator.out_fmt.to_dict())},
        testbench="lowbit.verify.testbenches.mx_dot_tb", full_only=full_only)


def _engine_env(engine):
    fmt = getattr(engine.accumulator, "out_fmt", None)
    env = {"LOWBIT_OUT_BITS": engine.out_bits}
    if fmt is not None and fmt.kind not in ("int", "fixed"):
        env["LOWBIT_ACC_FMT"] = json.dumps(fmt.to_dict())
    return env


def _engine_entry(unit, config, build, full_only=False):
    """A GEMM engine: 5 shapes in the quick regression, 20 more in the full one."""
    return Entry(unit, config, build, ("gemm_quick",),
                 vectors=lambda engine, kind: gemm_vectors(kind, engine),
                 env=_engine_env, testbench="lowbit.verify.testbenches.gemm_tb",
                 full_only=full_only, full_sets=("gemm_full",))


def _array_entry(rows, cols, dataflow, pe_name, make_pe, full_only=False):
    return _engine_entry("SystolicArray", f"{rows}x{cols}_{dataflow}_{pe_name}",
                         lambda: SystolicArray(rows, cols, make_pe(), dataflow),
                         full_only=full_only)


def _lut_entry(weight_bits, group, tile, encoding="offset", symmetric=False, full_only=False):
    """LutTensorCore with int8 activations, ``weight_bits``-bit weights, groups of ``group``."""
    config = (f"w{weight_bits}_g{group}_int8_{encoding}{'_sym' if symmetric else ''}"
              f"_{tile[0]}x{tile[1]}")
    return _engine_entry("LutTensorCore", config,
                         lambda: LutTensorCore(weight_bits, group, None, tile,
                                               weight_encoding=encoding,
                                               symmetric_table=symmetric),
                         full_only=full_only)


def _tree_entry(lanes, pe_name, make_pe, full_only=False):
    return _engine_entry("AdderTreeEngine", f"{lanes}lanes_{pe_name}",
                         lambda: AdderTreeEngine(lanes, make_pe()), full_only=full_only)


def _int8_mac(int_bits, overflow):
    """A factory of int8 x int8 IntMacs into a FixedAccumulator (an engine's PE)."""
    return lambda: IntMac(F.get("int8"), F.get("int8"),
                          acc=FixedAccumulator(int_bits, 0, overflow))


def _fp8_mac(acc, stages=1):
    """A factory of fp8_e4m3 x fp8_e4m3 FloatMacs into ``acc`` (an engine's PE)."""
    return lambda: FloatMac(F.get("fp8_e4m3"), F.get("fp8_e4m3"), acc=acc, stages=stages)


ALL_SETS = ("exhaustive", "corners", "random", "sequences")
_FP32, _FP16, _BF16 = F.get("fp32"), F.get("fp16"), F.get("bf16")
_SIMD_PRESETS = tuple(SimdMode.preset(shape, acc=FixedAccumulator(24, 0, "wrap"))
                      for shape in ("8x8", "4x4", "8x4", "2x2"))
MATRIX = (
    _int_mac_entry("int8", "int8", 20, "wrap", ALL_SETS),
    _int_mac_entry("int8", "int8", 18, "saturate", ALL_SETS),
    _int_mac_entry("uint4", "int8", 16, "saturate", ALL_SETS),
    _simd_mac_entry("presets_wrap24", _SIMD_PRESETS,
                    ("exhaustive/m0", "exhaustive/m1", "exhaustive/m2", "exhaustive/m3",
                     "corners", "sequences", "random")),
    _float_mac_entry("fp8_e4m3", "fp8_e4m3", FloatAccumulator(_FP32), ALL_SETS),
    _float_mac_entry("fp4_e2m1", "fp4_e2m1", FloatAccumulator(_FP32), ALL_SETS),
    _float_mac_entry("fp8_e4m3", "fp8_e4m3", ExactAccumulator(_FP32),
                     ("corners", "random", "sequences")),
    _posit_mac_entry("posit8_0", "2022", ALL_SETS, full_sets=("walk",), deep_sets=("climb",)),
    _posit_mac_entry("posit4_1", "2022", ALL_SETS, full_sets=("walk",)),
    _mx_dot_entry("mxfp8_e4m3", FloatAccumulator(_FP32)),
    _mx_dot_entry("nvfp4", FloatAccumulator(_FP32)),
    _array_entry(4, 4, "ws", "int8_wrap24", _int8_mac(24, "wrap")),
    _array_entry(4, 4, "os", "fp8_e4m3_fp32", _fp8_mac(FloatAccumulator(_FP32))),
    # FloatAccumulator in an adder tree: golden's tree(8) order, every node rounded to fp32.
    _tree_entry(8, "fp8_e4m3_fp32", _fp8_mac(FloatAccumulator(_FP32))),
    _tree_entry(16, "int8_wrap24", _int8_mac(24, "wrap"), full_only=True),
    _tree_entry(4, "fp8_e4m3_kulisch_fp32", _fp8_mac(ExactAccumulator(_FP32)), full_only=True),
    _tree_entry(8, "posit8_0_q2022", lambda: PositMac(
        F.get("posit8_0"), quire=Quire(F.get("posit8_0"), "2022")), full_only=True),
    _lut_entry(2, 4, (2, 16)),  # 2-bit weights, g=4
    _lut_entry(4, 4, (2, 16), symmetric=True, full_only=True),
    _lut_entry(1, 8, (4, 8), encoding="bipolar", full_only=True),
    _int_mac_entry("int16", "int16", 40, "wrap", ("corners", "random", "sequences"),
                   full_only=True),
    _int_mac_entry("int2", "uint2", 6, "saturate", ALL_SETS, full_only=True),
    _posit_mac_entry("posit8_2", "2022", ALL_SETS, full_only=True),
    _float_mac_entry("fp8_e5m2", "fp8_e5m2", FloatAccumulator(_FP16), ALL_SETS, full_only=True),
    _float_mac_entry("fp8_e5m2", "fp8_e4m3", FloatAccumulator(_BF16), ALL_SETS, full_only=True),
    _float_mac_entry("fp6_e3m2", "fp6_e3m2", FloatAccumulator(_FP32), ALL_SETS, full_only=True),
    _float_mac_entry("fp6_e2m3", "fp6_e2m3", FloatAccumulator(_FP32), ALL_SETS, full_only=True),
    _float_mac_entry("fp6_e3m2", "fp4_e2m1", FloatAccumulator(_FP16, "rdn", overflow="saturate"),
                     ALL_SETS, full_only=True),
    _float_mac_entry("fp8_e4m3", "fp8_e4m3", ExactAccumulator(_FP32), ("exhaustive",),
                     full_only=True),
    _float_mac_entry("fp8_e5m2", "fp8_e5m2", ExactAccumulator(_FP16, "rtz"), ALL_SETS,
                     full_only=True),
    _float_mac_entry("fp4_e2m1", "fp4_e2m1", ExactAccumulator(_BF16), ALL_SETS, full_only=True),
    _float_mac_entry(FloatFormat(3, 1, inf=False, nan=False), "fp4_e2m1",
                     FloatAccumulator(_FP16, "rna"), ALL_SETS, full_only=True),
    _posit_mac_entry("posit16_1", "2022", ("corners", "random", "sequences"), full_only=True),
    *(_mx_dot_entry(block, FloatAccumulator(_FP32), full_only=True)
      for block in ("mxfp8_e5m2", "mxfp6_e3m2", "mxfp6_e2m3", "mxfp4", "mxint8")),
    _mx_dot_entry("mxfp8_e4m3", ExactAccumulator(_FP32), full_only=True),
    _mx_dot_entry("mxfp8_e4m3", FloatAccumulator(_FP16), full_only=True),
    # The draft quire8 (32 bits) holds fewer than 128 terms of maxpos**2: sequences cleared
    # every 100 operations instead of 300.
    _posit_mac_entry("posit8_0", "draft", ("corners", "random", "sequences/clear100"),
                     full_only=True),
    # Arrays beyond the quick pair: every PE kind in the dataflows that carry it, float WS
    # with a narrow rounding-down register, and sizes up to 16x16.
    _array_entry(4, 4, "ws", "fp8_e4m3_fp32", _fp8_mac(FloatAccumulator(_FP32)), full_only=True),
    _array_entry(3, 2, "ws", "e5m2xe4m3_fp16_rdn", lambda: FloatMac(
        F.get("fp8_e5m2"), F.get("fp8_e4m3"), acc=FloatAccumulator(_FP16, "rdn")),
        full_only=True),
    _array_entry(4, 4, "os", "int8_sat18", _int8_mac(18, "saturate"), full_only=True),
    _array_entry(4, 4, "os", "fp8_e4m3_kulisch_fp32", _fp8_mac(ExactAccumulator(_FP32)), full_only=True),
    _array_entry(2, 3, "os", "posit8_0_q2022", lambda: PositMac(
        F.get("posit8_0"), quire=Quire(F.get("posit8_0"), "2022")), full_only=True),
    _array_entry(2, 2, "os", "mxfp4_fp32", lambda: MxDotUnit(
        F.get("mxfp4"), acc=FloatAccumulator(_FP32)), full_only=True),
    _array_entry(4, 4, "os", "simd_int4_wrap16", lambda: SimdMac(
        [SimdMode.preset("4x4", acc=FixedAccumulator(16, 0, "wrap"))]), full_only=True),
    _array_entry(3, 2, "os", "simd_int2_sat8", lambda: SimdMac(
        [SimdMode.preset("2x2", acc=FixedAccumulator(8, 0, "saturate"))]), full_only=True),
    _array_entry(8, 8, "ws", "int8_wrap24", _int8_mac(24, "wrap"), full_only=True),
    _array_entry(16, 16, "ws", "int8_wrap24", _int8_mac(24, "wrap"), full_only=True),
    _array_entry(16, 16, "os", "int8_wrap24", _int8_mac(24, "wrap"), full_only=True),
    # Pipelined units (lowbit.hdl.pipeline): 2 and 3 stages of each MAC kind (4 where a
    # Kulisch register adds the result cut), the same sets as their one-stage configurations.
    # tests/verify/test_pipelined_units.py runs one stage count per kind by default.
    *(_int_mac_entry("int8", "int8", 20, "wrap", ALL_SETS, full_only=True, stages=s)
      for s in (2, 3)),
    *(_int_mac_entry("uint4", "int8", 16, "saturate", ALL_SETS, full_only=True, stages=s)
      for s in (2, 3)),
    *(_float_mac_entry("fp8_e4m3", "fp8_e4m3", FloatAccumulator(_FP32), ALL_SETS,
                       full_only=True, stages=s) for s in (2, 3)),
    *(_float_mac_entry("fp4_e2m1", "fp4_e2m1", FloatAccumulator(_FP32), ALL_SETS,
                       full_only=True, stages=s) for s in (2, 3)),
    *(_float_mac_entry("fp8_e4m3", "fp8_e4m3", ExactAccumulator(_FP32),
                       ("corners", "random", "sequences"), full_only=True, stages=s)
      for s in (2, 3, 4)),
    *(_posit_mac_entry("posit8_0", "2022", ALL_SETS, full_only=True, stages=s)
      for s in (2, 3, 4)),
    *(_posit_mac_entry("posit4_1", "2022", ALL_SETS, full_only=True, stages=s)
      for s in (2, 3)),
    *(_mx_dot_entry("mxfp8_e4m3", FloatAccumulator(_FP32), full_only=True, stages=s)
      for s in (2, 3)),
    *(_mx_dot_entry("nvfp4", FloatAccumulator(_FP32), full_only=True, stages=s)
      for s in (2, 3)),
    _mx_dot_entry("mxint8", ExactAccumulator(_FP32), full_only=True, stages=4),
    # Interleaved accumulation (golden order interleaved(2)): a two-cycle float add ring.
    *(_float_mac_entry("fp8_e4m3", "fp8_e4m3", FloatAccumulator(_FP32, order=interleaved(2)),
                       ALL_SETS, full_only=True, stages=s) for s in (1, 2)),
    _float_mac_entry("fp6_e3m2", "fp4_e2m1", FloatAccumulator(_FP16, "rdn", interleaved(2)),
                     ALL_SETS, full_only=True),
    # Engines of pipelined PEs: output-stationary arrays count the PE latency in their drain,
    # the adder tree registers a Kulisch or quire PE's rounded result (cycles: closed forms).
    _array_entry(4, 4, "os", "fp8_e4m3_fp32_s3", _fp8_mac(FloatAccumulator(_FP32), 3),
                 full_only=True),
    _array_entry(3, 2, "os", "int8_wrap24_s2", lambda: IntMac(
        F.get("int8"), F.get("int8"), acc=FixedAccumulator(24, 0, "wrap"), stages=2),
        full_only=True),
    _array_entry(2, 3, "os", "posit8_0_q2022_s4", lambda: PositMac(
        F.get("posit8_0"), quire=Quire(F.get("posit8_0"), "2022"), stages=4), full_only=True),
    _array_entry(2, 2, "os", "mxfp4_fp32_s3", lambda: MxDotUnit(
        F.get("mxfp4"), acc=FloatAccumulator(_FP32), stages=3), full_only=True),
    _tree_entry(8, "posit8_0_q2022_s3", lambda: PositMac(
        F.get("posit8_0"), quire=Quire(F.get("posit8_0"), "2022"), stages=3), full_only=True),
    _tree_entry(4, "fp8_e4m3_kulisch_fp32_s3", _fp8_mac(ExactAccumulator(_FP32), 3),
                full_only=True),
    _tree_entry(8, "fp8_e4m3_fp32_s2", _fp8_mac(FloatAccumulator(_FP32), 2), full_only=True),
)



def _with_directed(entry):
    """``entry`` with its committed ``directed`` set in the full regression, when it has one."""
    name = f"{entry.unit.lower()}_{entry.config}"
    if not directed_path(name).exists():
        return entry
    build_set = entry.vectors

    def vectors(unit, kind):
        if kind != "directed":
            return build_set(unit, kind)
        return directed_vectors(name, *mac_formats(unit))

    return dataclasses.replace(entry, vectors=vectors, full_sets=entry.full_sets + ("directed",))


MATRIX = tuple(_with_directed(e) for e in MATRIX)

def entries(full: bool):
    """The matrix entries of the quick or the full regression."""
    return [e for e in MATRIX if full or not e.full_only]


def by_name(testbench: str) -> dict:
    """Entries of the full matrix run by ``testbench`` (``mac_tb``, ``gemm_tb``, ...), by their
    exported name (``intmac_int8xint8_wrap20``)."""
    return {f"{e.unit.lower()}_{e.config}": e for e in entries(full=True)
            if e.testbench.endswith("." + testbench)}


def lookup(name: str, testbench: str, what: str, error=LowbitError):
    """The entry exported as ``name`` among :func:`by_name`; ``error`` names the allowed ones."""
    found = by_name(testbench)
    if name not in found:
        raise error(f"unit must be a {what} of the regression matrix "
                    f"({', '.join(sorted(found))}), not {name!r}{did_you_mean(name, found)}")
    return found[name]


def run_entry(entry, vector_set, sim="verilator") -> dict:
    """Run one vector set on one configuration; return its result row."""
    unit = entry.build()
    start = time.perf_counter()
    vectors = entry.vectors(unit, vector_set)
    rtl = export(unit, name=f"{entry.unit.lower()}_{entry.config}")
    row = {"unit": entry.unit, "config": entry.config, "vector_set": vector_set, "sim": sim,
           "vectors": 0, "mismatches": None, "cycles": 0, "latency": None,
           "latency_expected": getattr(unit, "latency", None), "status": "error", "error": ""}
    with tempfile.TemporaryDirectory() as tmp:
        suffix = getattr(vectors, "suffix", ".npz")
        stim, result = Path(tmp) / f"vectors{suffix}", Path(tmp) / "result.json"
        vectors.save(stim)
        env = {"LOWBIT_VECTORS": stim, "LOWBIT_LATENCY": getattr(unit, "latency", None),
               "LOWBIT_RESULT": result, **entry.env(unit)}
        try:
            row["build_seconds"] = run_testbench(rtl, entry.testbench, env, sim=sim).build_seconds
            row["status"] = "pass"
        except SimulationFailed as err:
            row["status"], row["error"] = "fail", str(err)
        if result.exists():
            row.update(json.loads(result.read_text()))
    row["seconds"] = round(time.perf_counter() - start, 3)
    return row


def run_engine_gemm(engine, config, A, B, sim="verilator") -> dict:
    """Run one GEMM ``A @ B`` (codes or BlockArrays) on ``engine`` (exported as
    ``<unit>_<config>``); return the result row, whose ``gemms[0]`` has the measured and the
    closed-form cycles and any mismatches."""
    (M, K), N = A.shape, B.shape[1]  # arrays and BlockArrays both know their shape
    single = GemmVectors("single", [stream(engine, GemmCase("gemm", M, K, N, "given"), A, B)])
    entry = _engine_entry(type(engine).__name__, config, lambda: engine)
    return run_entry(dataclasses.replace(entry, vectors=lambda unit, kind: single), "single",
                     sim)


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
