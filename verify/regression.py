"""Regressions: a matrix of catalogue designs x vector sets, run on a simulator.

An entry is a design of the catalogue (:mod:`lowbit.hdl.designs`: a spec or its canonical name)
plus the vector sets to run on it. The design is built with ``spec.build()`` and exported under
``spec.name`` (its build folder reused while the Verilog is unchanged); a *bench*, chosen once
per kind of design in :data:`BENCHES`, builds each golden vector set and names the testbench
that checks it. Every run gives a tidy row keyed by the design's canonical name: design, unit,
vector set, vectors checked, mismatches, cycles, measured latency, seconds, status.
``--quick`` is the slice ``make test`` runs; ``--full`` adds the long configurations.
"""

import json
import tempfile
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from lowbit.errors import LowbitError, did_you_mean
from lowbit.hdl import designs, export
from lowbit.verify import checker_wrapper, enumerated_sets, stream_wrapper
from lowbit.paths import write_atomic
from lowbit.verify.block_vectors import block_vectors
from lowbit.verify.gemm_vectors import GemmCase, GemmVectors, gemm_vectors, stream
from lowbit.verify.multiformat_vectors import multiformat_vectors
from lowbit.verify.runner import SimulationFailed, run_testbench
from lowbit.verify.simd_vectors import simd_vectors
from lowbit.verify.vectors import (MacVectors, directed_path, directed_vectors, expected_codes,
                                   mac_formats, mac_stimulus, mac_vectors)


# --- benches: how each kind of design is checked ---------------------------------------------
@dataclass(frozen=True)
class Bench:
    """How the regression checks one kind of design.

    ``vectors(design, unit, kind)`` builds vector set ``kind`` from golden (an object with
    ``save`` and ``len``); ``env(unit)`` is the testbench's extra environment (register
    widths, the result format); ``testbench`` is the cocotb module that runs it; ``sets`` and
    ``full_sets`` are the sets an entry runs unless it names its own. ``fast``: for designs
    the fast path runs (:mod:`~lowbit.verify.checker_wrapper`), ``(unit, vectors) -> (layout,
    stimulus columns, expected columns)``; the testbench then only describes mismatches.
    """

    name: str
    testbench: str
    vectors: object
    env: object
    sets: tuple = ()
    full_sets: tuple = ()
    fast: object = None


def _result_env(fmt, bits_var="LOWBIT_ACC_BITS") -> dict:
    """A result register's width, and its format for decoded values unless it is an integer."""
    env = {bits_var: fmt.bits}
    if fmt.kind not in ("int", "fixed"):
        env["LOWBIT_ACC_FMT"] = json.dumps(fmt.to_dict())
    return env


def _mac_vectors(design, unit, kind):
    """:func:`mac_vectors` of the unit's formats and accumulator; ``<set>/clear<k>``: the set's
    operations with a clear every ``k`` instead (a small draft quire overflows golden's range
    on 300-term runs of maxpos**2); ``directed``: the committed runs of the design."""
    a_fmt, b_fmt, acc = mac_formats(unit)
    if kind == "directed":
        return directed_vectors(design.name, a_fmt, b_fmt, acc)
    base, _, every = kind.partition("/clear")
    if not every:
        return mac_vectors(kind, a_fmt, b_fmt, acc)
    _, a, b = mac_stimulus(base, a_fmt, b_fmt)
    clear = np.arange(len(a)) % int(every) == 0
    return MacVectors(kind, clear, a, b, expected_codes(clear, a, b, a_fmt, b_fmt, acc))


def _simd_vectors(design, unit, kind):
    """``exhaustive/m<k>`` is mode k alone, exhaustively; other kinds mix every mode."""
    base, _, mode = kind.partition("/m")
    return simd_vectors(base, unit.modes, only=int(mode) if mode else None)


def _engine_env(engine):
    fmt = getattr(engine.accumulator, "out_fmt", None)
    env = {"LOWBIT_OUT_BITS": engine.out_bits}
    if fmt is not None and fmt.kind not in ("int", "fixed"):
        env["LOWBIT_ACC_FMT"] = json.dumps(fmt.to_dict())
    return env


def _mac_fast(unit, vectors):
    """The fast path's view of a MAC: ``clear``, ``a``, ``b`` in, ``acc`` checked."""
    layout = checker_wrapper.Layout.of(unit, ("clear", "a", "b"), ("acc",), restart="clear")
    return layout, [vectors.clear, vectors.a, vectors.b], [vectors.expected]


def _mxdot_fast(unit, vectors):
    """The fast path's view of a block dot unit: ``clear``, the blocks (element ``i`` at bits
    ``[i * w, (i + 1) * w)``) and their scales in, ``acc`` checked."""
    layout = checker_wrapper.Layout.of(unit, ("clear", "a", "b", "a_scale", "b_scale"),
                                       ("acc",), restart="clear")
    bits = unit.block_fmt.element.bits

    def blocks(codes):
        return checker_wrapper.pack(list(codes.T), [bits] * codes.shape[1])

    return layout, [vectors.clear, blocks(vectors.a), blocks(vectors.b), vectors.a_scale,
                    vectors.b_scale], [vectors.expected]


def _lanes_fast(unit, vectors):
    """The fast path's view of a lane MAC (SimdMac, MultiFormatMac): ``mode``, ``clear``,
    ``a``, ``b`` and, where the unit has it, ``lane_enable`` (the set's ``enable``) in, every
    lane ``acc<k>`` checked (``expected[:, k]``)."""
    columns = {"mode": vectors.mode, "clear": vectors.clear, "a": vectors.a, "b": vectors.b,
               "lane_enable": getattr(vectors, "enable", None)}
    inputs = tuple(p for p in columns if p in unit.signature.members)
    lanes = tuple(f"acc{k}" for k in range(len(unit.acc_ports())))
    layout = checker_wrapper.Layout.of(unit, inputs, lanes)
    return layout, [columns[p] for p in inputs], list(np.asarray(vectors.expected).T)


def _gemm_fast(engine, vectors):
    """The fast path's view of a GEMM engine: the beat-stream layout of its payload ports, the
    set's GEMMs (beats, expected beats and closed-form cycles together)."""
    ports = vectors.gemms[0]["ports"] if vectors.gemms else ()
    return checker_wrapper.StreamLayout.of(engine, ports), vectors.gemms, None


#: Single-register MACs (IntMac, FloatMac, PositMac): ``acc`` after every operation.
MAC = Bench("mac", "lowbit.verify.testbenches.mac_tb", _mac_vectors,
            lambda u: _result_env(mac_formats(u)[2].out_fmt), fast=_mac_fast)
SIMD = Bench("simd", "lowbit.verify.testbenches.simd_mac_tb", _simd_vectors,
             lambda u: {"LOWBIT_ACC_BITS": ",".join(str(p.shape().width)
                                                    for p in u.acc_ports())},
             fast=_lanes_fast)
MXDOT = Bench("mxdot", "lowbit.verify.testbenches.mx_dot_tb",
              lambda d, u, kind: block_vectors(kind, u.block_fmt, u.accumulator),
              lambda u: {"LOWBIT_ELEMENT_BITS": u.block_fmt.element.bits,
                         "LOWBIT_ACC_FMT": json.dumps(u.accumulator.out_fmt.to_dict())},
              sets=("corners", "random", "sequences"), fast=_mxdot_fast)
MULTIFORMAT = Bench("multiformat", "lowbit.verify.testbenches.multiformat_mac_tb",
                    lambda d, u, kind: multiformat_vectors(kind, u.modes),
                    lambda u: {"LOWBIT_ACC_BITS": ",".join(str(u.lane_bits(k))
                                                           for k in range(u.lanes)),
                               "LOWBIT_GATING": int(u.gating)},
                    fast=_lanes_fast)
#: GEMM engines: 5 shapes in the quick regression, 20 more in the full one.
GEMM = Bench("gemm", "lowbit.verify.testbenches.gemm_tb",
             lambda d, u, kind: gemm_vectors(kind, u), _engine_env,
             sets=("gemm_quick",), full_sets=("gemm_full",), fast=_gemm_fast)

#: The benches whose designs the fast path runs.
FAST_BENCHES = tuple(b for b in (MAC, SIMD, MXDOT, MULTIFORMAT, GEMM) if b.fast is not None)

#: The bench of each kind of design, by spec class (a subclass takes its base's bench).
BENCHES = {
    designs.IntMacSpec: MAC, designs.FloatMacSpec: MAC, designs.PositMacSpec: MAC,
    designs.SimdMacSpec: SIMD, designs.MxDotSpec: MXDOT, designs.MultiFormatSpec: MULTIFORMAT,
    designs.EngineSpec: GEMM,
}


def bench_of(design) -> Bench:
    """The bench that checks ``design`` (a spec); a design no bench runs raises."""
    for cls in type(design).__mro__:
        if cls in BENCHES:
            return BENCHES[cls]
    raise LowbitError(f"the regression has no bench for {design.unit} designs "
                      f"({design.name})")


# --- entries ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Entry:
    """A catalogue design with the vector sets to run on it.

    ``design`` is a spec or its canonical name. ``vector_sets`` default to the bench's sets,
    ``full_sets`` (added by the full regression) to the bench's full sets; a design with a
    committed ``directed`` set (:func:`~lowbit.verify.vectors.directed_path`) runs it in the
    full regression too. ``full_only``: the entry runs in the full regression only.
    ``deep_sets``: sets of millions of operations (:data:`~lowbit.verify.vectors.DEEP_SETS`),
    too long for a testbench, run by adequacy campaigns on the C++ mutant driver only.
    ``enumerated_sets``: sets of every case of the input space
    (:mod:`~lowbit.verify.enumerated_sets`, 2**32 cases), run in the full regression through
    the enumerated fast path (:mod:`~lowbit.verify.stream_wrapper`).
    """

    design: object
    vector_sets: tuple = None
    full_sets: tuple = None
    full_only: bool = False
    deep_sets: tuple = ()
    enumerated_sets: tuple = ()
    bench: Bench = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        spec = designs.get(self.design) if isinstance(self.design, str) else self.design
        object.__setattr__(self, "design", spec)
        bench = bench_of(spec)
        object.__setattr__(self, "bench", bench)
        if self.vector_sets is None:
            object.__setattr__(self, "vector_sets", bench.sets)
        for name in self.enumerated_sets:
            enumerated_sets.get(name).check(spec)
        full = bench.full_sets if self.full_sets is None else tuple(self.full_sets)
        if bench is MAC and "directed" not in full and directed_path(spec.name).exists():
            full += ("directed",)
        object.__setattr__(self, "full_sets", full)

    @property
    def name(self) -> str:
        """The design's canonical name (the Verilog module, the rows' key)."""
        return self.design.name

    @property
    def unit(self) -> str:
        """The hdl class the design builds (``FloatMac``)."""
        return self.design.unit

    def build(self):
        """A new component of the design."""
        return self.design.build()

    def vectors(self, unit, kind):
        """Vector set ``kind`` for ``unit`` (a component of the design), from golden."""
        return self.bench.vectors(self.design, unit, kind)

    def sets(self, full: bool) -> tuple:
        """Vector sets to run: ``vector_sets``, plus ``full_sets`` and ``enumerated_sets`` in
        the full regression."""
        return self.vector_sets + (self.full_sets + self.enumerated_sets if full else ())


def _full(design, vector_sets=None, **options) -> Entry:
    """An entry of the full regression only."""
    return Entry(design, vector_sets, full_only=True, **options)


ALL_SETS = ("exhaustive", "corners", "random", "sequences")
NO_EXHAUSTIVE = ("corners", "random", "sequences")  # operand pairs beyond 2**16
MATRIX = (
    Entry("intmac_int8xint8_int20", ALL_SETS),
    Entry("intmac_int8xint8_int18_sat", ALL_SETS),
    Entry("intmac_uint4xint8_int16_sat", ALL_SETS),
    Entry("simdmac_8x8_4x4_8x4_2x2_int24",
          ("exhaustive/m0", "exhaustive/m1", "exhaustive/m2", "exhaustive/m3", "corners",
           "sequences", "random")),
    Entry("floatmac_fp8_e4m3xfp8_e4m3_fp32", ALL_SETS),
    Entry("floatmac_fp4_e2m1xfp4_e2m1_fp32", ALL_SETS),
    Entry("floatmac_fp8_e4m3xfp8_e4m3_exact_fp32", NO_EXHAUSTIVE, full_sets=("exhaustive",)),
    Entry("positmac_posit8_0_quire", ALL_SETS, full_sets=("walk",), deep_sets=("climb",)),
    Entry("positmac_posit4_1_quire", ALL_SETS, full_sets=("walk",)),
    Entry("mxdot_mxfp8_e4m3_fp32"),
    Entry("mxdot_nvfp4_fp32"),
    Entry("systolic4x4_ws_intmac_int8xint8_int24"),
    Entry("systolic4x4_os_floatmac_fp8_e4m3xfp8_e4m3_fp32"),
    # FloatAccumulator in an adder tree: golden's tree(8) order, every node rounded to fp32.
    Entry("addertree8_floatmac_fp8_e4m3xfp8_e4m3_fp32"),
    _full("addertree16_intmac_int8xint8_int24"),
    _full("addertree4_floatmac_fp8_e4m3xfp8_e4m3_exact_fp32"),
    _full("addertree8_positmac_posit8_0_quire"),
    Entry("lutcore_w2_g4_int8_2x16_int32"),  # 2-bit weights, g=4
    # The 2D matrix and the 3D cube, and the bit-weight (carry-save) variant of every shape;
    # small, not square: a carry-save PE is a compressor tree of a few hundred full adders.
    Entry("matrix4x4_intmac_int8xint8_int24"),
    Entry("cube2x2x4_floatmac_fp8_e4m3xfp8_e4m3_exact_fp32"),
    Entry("systolic3x2_os_bwmac_int8xint8_int24"),
    Entry("addertree8_bwmac_int8xint8_int24"),
    Entry("matrix3x2_bwmac_int8xint8_int24"),
    Entry("cube2x3x2_bwmac_int8xint8_int24"),
    # XR-NPE's four formats, exact: every 4-bit mode exhaustively, all modes' corners, random
    # runs and mode switches; posit8_0 exhaustively (65,536 pairs) and long sums in --full.
    Entry("multiformat_fp4_e2m1_posit4_1_posit8_0_posit16_1_quire",
          ("exhaustive/m0", "exhaustive/m1", "corners", "random", "switch"),
          full_sets=("exhaustive/m2", "sequences")),
    # int4 weights, groups of 8 = 2 beats of 4: boundaries inside every tile, ragged last groups.
    Entry("mixpearray2x2_mixpe_int8xint4_g8_fp32"),
    _full("lutcore_w4_g4_int8_2x16_sym_int32"),
    _full("lutcore_w1_g8_int8_4x8_bipolar_int32"),
    _full("intmac_int16xint16_int40", NO_EXHAUSTIVE),
    _full("intmac_int2xuint2_int6_sat", ALL_SETS),
    _full("positmac_posit8_2_quire", ALL_SETS),
    # Every (fp16 register state, a, b): the accumulation path exhaustively (2**32), streamed.
    _full("floatmac_fp8_e5m2xfp8_e5m2_fp16", ALL_SETS, enumerated_sets=("every_state",)),
    _full("floatmac_fp8_e5m2xfp8_e4m3_bf16", ALL_SETS),
    _full("floatmac_fp6_e3m2xfp6_e3m2_fp32", ALL_SETS),
    _full("floatmac_fp6_e2m3xfp6_e2m3_fp32", ALL_SETS),
    _full("floatmac_fp6_e3m2xfp4_e2m1_fp16_sat_rdn", ALL_SETS),
    _full("floatmac_fp8_e5m2xfp8_e5m2_exact_fp16_rtz", ALL_SETS),
    _full("floatmac_fp4_e2m1xfp4_e2m1_exact_bf16", ALL_SETS),
    # A custom minifloat: E3M1, bias 3, no Inf or NaN codes.
    _full("floatmac_fp_e3m1_b3_finitexfp4_e2m1_fp16_rna", ALL_SETS),
    # Every posit16_1 operand pair (2**32, SoftPosit's exhaustive anchor), streamed.
    _full("positmac_posit16_1_quire", NO_EXHAUSTIVE, enumerated_sets=("every_pair",)),
    *(_full(f"mxdot_{block}_fp32")
      for block in ("mxfp8_e5m2", "mxfp6_e3m2", "mxfp6_e2m3", "mxfp4", "mxint8")),
    _full("mxdot_mxfp8_e4m3_exact_fp32"),
    _full("mxdot_mxfp8_e4m3_fp16"),
    # The draft quire8 (32 bits) holds fewer than 128 terms of maxpos**2: sequences cleared
    # every 100 operations instead of 300.
    _full("positmac_posit8_0_quire_draft", ("corners", "random", "sequences/clear100")),
    # Arrays beyond the quick pair: every PE kind in the dataflows that carry it, float WS
    # with a narrow rounding-down register, and sizes up to 16x16.
    _full("systolic4x4_ws_floatmac_fp8_e4m3xfp8_e4m3_fp32"),
    _full("systolic3x2_ws_floatmac_fp8_e5m2xfp8_e4m3_fp16_rdn"),
    _full("systolic4x4_os_intmac_int8xint8_int18_sat"),
    _full("systolic4x4_os_floatmac_fp8_e4m3xfp8_e4m3_exact_fp32"),
    _full("systolic2x3_os_positmac_posit8_0_quire"),
    _full("systolic2x2_os_mxdot_mxfp4_fp32"),
    _full("systolic4x4_os_simdmac_4x4_int16"),
    _full("systolic3x2_os_simdmac_2x2_int8_sat"),
    _full("systolic8x8_ws_intmac_int8xint8_int24"),
    _full("systolic16x16_ws_intmac_int8xint8_int24"),
    _full("systolic16x16_os_intmac_int8xint8_int24"),
    # Pipelined units (lowbit.hdl.pipeline): 2 and 3 stages of each MAC kind (4 where a
    # Kulisch register adds the result cut), the same sets as their one-stage configurations.
    # tests/verify/test_pipelined_units.py runs one stage count per kind by default.
    *(_full(f"intmac_int8xint8_int20_s{s}", ALL_SETS) for s in (2, 3)),
    *(_full(f"intmac_uint4xint8_int16_sat_s{s}", ALL_SETS) for s in (2, 3)),
    *(_full(f"floatmac_fp8_e4m3xfp8_e4m3_fp32_s{s}", ALL_SETS) for s in (2, 3)),
    *(_full(f"floatmac_fp4_e2m1xfp4_e2m1_fp32_s{s}", ALL_SETS) for s in (2, 3)),
    *(_full(f"floatmac_fp8_e4m3xfp8_e4m3_exact_fp32_s{s}", NO_EXHAUSTIVE) for s in (2, 3, 4)),
    *(_full(f"positmac_posit8_0_quire_s{s}", ALL_SETS) for s in (2, 3, 4)),
    *(_full(f"positmac_posit4_1_quire_s{s}", ALL_SETS) for s in (2, 3)),
    *(_full(f"mxdot_mxfp8_e4m3_fp32_s{s}") for s in (2, 3)),
    *(_full(f"mxdot_nvfp4_fp32_s{s}") for s in (2, 3)),
    _full("mxdot_mxint8_exact_fp32_s4"),
    # Interleaved accumulation (golden order interleaved(2)): a two-cycle float add ring.
    _full("floatmac_fp8_e4m3xfp8_e4m3_il2_fp32", ALL_SETS),
    _full("floatmac_fp8_e4m3xfp8_e4m3_il2_fp32_s2", ALL_SETS),
    _full("floatmac_fp6_e3m2xfp4_e2m1_il2_fp16_rdn", ALL_SETS),
    # Engines of pipelined PEs: output-stationary arrays count the PE latency in their drain,
    # the adder tree registers a Kulisch or quire PE's rounded result (cycles: closed forms).
    _full("systolic4x4_os_floatmac_fp8_e4m3xfp8_e4m3_fp32_s3"),
    _full("systolic3x2_os_intmac_int8xint8_int24_s2"),
    _full("systolic2x3_os_positmac_posit8_0_quire_s4"),
    _full("systolic2x2_os_mxdot_mxfp4_fp32_s3"),
    _full("addertree8_positmac_posit8_0_quire_s3"),
    _full("addertree4_floatmac_fp8_e4m3xfp8_e4m3_exact_fp32_s3"),
    _full("addertree8_floatmac_fp8_e4m3xfp8_e4m3_fp32_s2"),
    # Matrix and cube beyond the quick pair: saturating and float registers in K order (the
    # matrix's PEs), int4, an fp32-rounding cube in golden's tree(2) order, a one-product cube.
    _full("matrix3x2_intmac_int8xint8_int18_sat"),
    _full("matrix4x4_floatmac_fp8_e4m3xfp8_e4m3_exact_fp32"),
    _full("matrix2x3_floatmac_fp8_e4m3xfp8_e4m3_fp32"),
    _full("matrix4x4_intmac_int4xint4_int16"),
    _full("cube4x4x4_intmac_int8xint8_int24"),
    _full("cube2x2x8_intmac_int4xint4_int16"),
    _full("cube2x3x2_floatmac_fp8_e4m3xfp8_e4m3_fp32"),
    _full("cube3x2x1_intmac_int8xint8_int24"),
    # Bit-weight variants: int4, mixed signedness (Baugh-Wooley with one signed operand),
    # K-groups (a carry-propagate adder per 1, 2 or 4 products), larger tiles.
    _full("systolic4x4_os_bwmac_int8xint8_int24"),
    _full("matrix4x4_bwmac_int8xint8_int24"),
    _full("cube2x2x4_bwmac_int8xint8_int24"),
    _full("systolic4x4_os_bwmac_int4xint4_int16"),
    _full("systolic3x2_os_bwmac_uint4xint8_int20"),
    _full("addertree16_bwmac_int4xint4_int16_g4"),
    _full("addertree8_bwmac_int8xint8_int24_g1"),
    _full("addertree4_bwmac_int8xuint4_int20"),
    _full("matrix4x4_bwmac_int4xint4_int16"),
    _full("matrix2x3_bwmac_uint4xint8_int20"),
    _full("cube4x4x4_bwmac_int8xint8_int24"),
    _full("cube2x2x8_bwmac_int4xint4_int16_g2"),
    # The same four formats rounding every sum into FP32, with lane enables.
    _full("multiformat_fp4_e2m1_posit4_1_posit8_0_posit16_1_fp32_gated",
          ("exhaustive/m0", "exhaustive/m1", "exhaustive/m2", "corners", "sequences", "random",
           "switch", "gated")),
    # Other weights and activations: one group per beat (int2), zero points (uint4), ternary,
    # float activations on their fixed-point grid, the catalogue's g128 PE.
    _full("mixpearray1x2_mixpe_int8xint2_g4_fp32"),
    _full("mixpearray2x1_mixpe_int8xternary_g8_fp32_k2"),
    _full("mixpearray2x3_mixpe_int8xuint4_g16_fp32"),
    _full("mixpearray2x2_mixpe_fp16xuint4_g8_fp32_k2"),
    _full("mixpearray1x4_mixpe_fp8_e4m3xint4_g128_fp32"),
)
if len({e.name for e in MATRIX}) != len(MATRIX):  # one entry per design: names are the keys
    raise LowbitError("the regression matrix lists a design twice")


def entries(full: bool):
    """The matrix entries of the quick or the full regression."""
    return [e for e in MATRIX if full or not e.full_only]


def by_name(bench: Bench) -> dict:
    """Entries of the full matrix checked by ``bench`` (:data:`MAC`, :data:`GEMM`, ...), by
    their designs' canonical names."""
    return {e.name: e for e in entries(full=True) if e.bench is bench}


def lookup(name: str, bench: Bench, what: str, error=LowbitError):
    """The entry of design ``name`` among :func:`by_name`; ``error`` names the allowed ones."""
    found = by_name(bench)
    if name not in found:
        raise error(f"design must be a {what} of the regression matrix "
                    f"({', '.join(sorted(found))}), not {name!r}{did_you_mean(name, found)}")
    return found[name]


#: How a run drives the design: ``fast`` (the checker wrapper, Verilator, benches with a
#: ``fast`` view) or ``cycle`` (the cocotb driver, one Python call per cycle).
DRIVERS = ("fast", "cycle")


def driver_for(bench: Bench, sim: str, driver=None) -> str:
    """The driver of a run: ``driver`` when given (``fast`` needs a bench with a fast view and
    Verilator), else ``fast`` wherever it applies, else ``cycle``."""
    if driver is None:
        return "fast" if bench.fast is not None and sim == "verilator" else "cycle"
    if driver not in DRIVERS:
        raise LowbitError(f"driver must be one of {', '.join(DRIVERS)}, not {driver!r}")
    if driver == "fast" and (bench.fast is None or sim != "verilator"):
        raise LowbitError(f"the fast path runs {', '.join(b.name for b in FAST_BENCHES)} "
                          f"designs on verilator, not {bench.name} designs on {sim}")
    return driver


def run_entry(entry, vector_set, sim="verilator", driver=None) -> dict:
    """Run one vector set on one entry's design; return its result row."""
    if vector_set in entry.enumerated_sets:
        return run_enumerated_entry(entry, vector_set, sim)
    unit = entry.build()
    start = time.perf_counter()
    vectors = entry.vectors(unit, vector_set)
    return run_vectors(unit, entry.name, entry.bench, vectors, vector_set, sim, start, driver)


def new_row(design: str, unit: str, vector_set: str, sim: str, driver: str,
            latency_expected=None) -> dict:
    """The result row of a run that has not checked anything yet (status ``error``)."""
    return {"design": design, "unit": unit, "vector_set": vector_set, "sim": sim,
            "driver": driver, "vectors": 0, "mismatches": None, "cycles": 0, "latency": None,
            "latency_expected": latency_expected, "status": "error", "error": ""}


def run_vectors(unit, name, bench, vectors, vector_set, sim="verilator", start=None,
                driver=None, lanes=None) -> dict:
    """Run ``vectors`` (set ``vector_set``) on ``unit`` exported as ``name``, checked by
    ``bench`` through ``driver`` (:func:`driver_for`); return the result row (``design`` is
    ``name``). ``lanes``: the fast path's lanes (when None,
    :func:`~lowbit.verify.checker_wrapper.lanes_for` the set's size)."""
    start = time.perf_counter() if start is None else start
    driver = driver_for(bench, sim, driver)
    row = new_row(name, type(unit).__name__, vector_set, sim, driver,
                  getattr(unit, "latency", None))
    with tempfile.TemporaryDirectory() as tmp:
        suffix = getattr(vectors, "suffix", ".npz")
        stim, result = Path(tmp) / f"vectors{suffix}", Path(tmp) / "result.json"
        vectors.save(stim)
        env = {"LOWBIT_VECTORS": stim, "LOWBIT_LATENCY": getattr(unit, "latency", None),
               "LOWBIT_RESULT": result, **bench.env(unit)}

        def simulate():
            if driver == "fast":
                layout, inputs, outputs = bench.fast(unit, vectors)
                return layout.run(unit, name, inputs, outputs,
                                  {**env, "LOWBIT_DESCRIBE": bench.testbench}, tmp, lanes)
            return run_testbench(export(unit, name=name), bench.testbench, env, sim=sim)
        _record(row, simulate, result)
    return _timed(row, start)


def _record(row, simulate, result) -> dict:
    """``row`` after ``simulate()`` (pass, or fail with the simulation's error), with what the
    testbench wrote into the JSON file ``result``."""
    try:
        row["build_seconds"] = simulate().build_seconds
        row["status"] = "pass"
    except SimulationFailed as err:
        row["status"], row["error"] = "fail", str(err)
    if result.exists():
        row.update(json.loads(result.read_text()))
    return row


def _timed(row, start) -> dict:
    """``row`` with its ``seconds`` since ``start`` and ``vectors_per_s``."""
    row["seconds"] = round(time.perf_counter() - start, 3)
    row["vectors_per_s"] = round(row["vectors"] / row["seconds"]) if row["seconds"] else None
    return row


def run_enumerated_entry(entry, vector_set, sim="verilator") -> dict:
    """Run enumerated set ``vector_set`` of ``entry`` through the enumerated fast path
    (driver ``stream``, Verilator only); return its result row."""
    start = time.perf_counter()
    unit = enumerated_sets.get(vector_set).build(entry.design)
    row = new_row(entry.name, type(unit).__name__, vector_set, sim, "stream",
                  getattr(unit, "latency", None))
    if sim != "verilator":
        row["status"], row["error"] = "fail", (f"enumerated set {vector_set} runs on "
                                               f"verilator only, not on {sim}")
        return _timed(row, start)
    with tempfile.TemporaryDirectory() as tmp:
        result = Path(tmp) / "result.json"
        _record(row, lambda: stream_wrapper.run_enumerated(
            entry.design, vector_set, tmp, unit=unit, env={"LOWBIT_RESULT": result}), result)
    return _timed(row, start)


def run_engine_gemm(design, A, B, sim="verilator") -> dict:
    """Run one GEMM ``A @ B`` (codes or BlockArrays) on the engine ``design`` (a catalogue
    spec or name); return the result row, whose ``gemms[0]`` has the measured and the
    closed-form cycles and any mismatches."""
    spec = designs.get(design) if isinstance(design, str) else design
    engine = spec.build()
    (M, K), N = A.shape, B.shape[1]  # arrays and BlockArrays both know their shape
    single = GemmVectors("single", [stream(engine, GemmCase("gemm", M, K, N, "given"), A, B)])
    return run_vectors(engine, spec.name, GEMM, single, "single", sim)


def write_junit(rows, path):
    """Write result rows as JUnit XML (one testcase per design and vector set)."""
    suite = ET.Element("testsuite", name="lowbit-regress", tests=str(len(rows)),
                       failures=str(sum(r["status"] != "pass" for r in rows)))
    for r in rows:
        case = ET.SubElement(suite, "testcase", classname=r["design"], name=r["vector_set"],
                             time=str(r["seconds"]))
        if r["status"] != "pass":
            ET.SubElement(case, "failure", message=r["error"][:500] or "mismatch")
    return write_atomic(path, ET.tostring(suite, encoding="unicode") + "\n")
