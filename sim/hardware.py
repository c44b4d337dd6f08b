"""Hardware configurations of the cycle model: frozen dataclasses with units in field names.

An :class:`ArchConfig` is ``engines`` identical compute engines at ``clock_mhz``, on-chip SRAM
buffers for A, B and C (:class:`BufferConfig`), DRAM (:class:`DramConfig`) and double
buffering on or off. The compute engine (:class:`EngineConfig`) is a systolic array
(``rows`` x ``cols``, dataflow ``ws``/``os``/``is``), an adder tree (``lanes`` products per
cycle), both of processing elements pipelined with ``pe_stages`` register stages
(:mod:`lowbit.hdl.pipeline`; 1: the one-cycle MAC), or a LUT tensor core (``weight_bits``-bit
weights, groups of ``lut_group`` activations, a ``lut_tile`` of TM x TN outputs, tables built
by a precompute unit doing ``lut_adds_per_cycle`` adds per cycle), a 2D matrix (``rows`` x
``cols`` outer-product array), a 3D cube (``rows`` x ``cols`` outputs summing ``cube_k``
products each per cycle) or a MixPE array (``rows`` x ``cols`` shift-add MixPEs, each doing
``k_step`` products of ``b_fmt`` weights (int1..int4, uint1..uint4 with zero points, or
``ternary``) and ``a_fmt`` activations per cycle, one dequantization per quantization group
of ``group_size`` rows of K, fp16 scales, the group terms into a float ``accumulator``;
:mod:`lowbit.hdl.mixpe_array`), with its operand formats and accumulator. ``mac_variant =
"bitweight"`` gives the systolic (``os``), adder-tree, matrix and cube engines bit-weight
(carry-save) MACs instead of multipliers (integer operands, a wrapping ``int{B}`` accumulator;
``k_group`` products per carry-propagate adder, 0 for one per output).

Every value is checked when the object is made; a bad one raises :class:`HardwareError`
naming the field, the value and what is allowed. :func:`load_arch` reads a TOML file::

    name = "edge-int8"
    clock_mhz = 800
    engines = 1
    double_buffering = true

    [engine]
    kind = "systolic"
    rows = 32
    cols = 32
    dataflow = "os"
    a_fmt = "int8"
    b_fmt = "int8"
    accumulator = "int32"      # an accumulator name: int32, fp32, fp16_rtz, exact_fp32, quire ...
    pe_stages = 1              # register stages of each PE's MAC (its latency grows with them)

    [buffers]
    a_sram_kib = 256
    b_sram_kib = 256
    c_sram_kib = 128
    sram_banks = 8
    sram_bytes_per_cycle = 64  # per bank: each buffer delivers 8 x 64 bytes per cycle

    [dram]
    dram_gbps = 25.6
    dram_latency_ns = 100

Presets (:data:`PRESETS`) name a few common design points.
"""

import dataclasses
import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from lowbit.errors import LowbitError, check_choice, check_int, did_you_mean
from lowbit.golden import accumulators
from lowbit.golden import formats as F


class HardwareError(LowbitError, ValueError):
    """An impossible or malformed hardware configuration."""


ENGINE_KINDS = ("systolic", "adder_tree", "lut", "matrix", "cube", "mixpe")
#: ``b_fmt`` of a MixPE array that is no lowbit format: weights -1, 0, +1 stored as int2 codes.
TERNARY = "ternary"
#: Above any MAC kind's most stages (1 + its cut points); the PE's own rule says exactly.
MAX_PE_STAGES = 8
DATAFLOWS = ("ws", "os", "is")
#: MAC micro-architectures of the systolic, adder-tree, matrix and cube engines: ``standard``
#: (a multiplier per product, :func:`lowbit.hdl.designs.mac_for`) or ``bitweight`` (partial
#: products compressed in carry-save form, :class:`lowbit.hdl.designs.BitWeightMacSpec`).
MAC_VARIANTS = ("standard", "bitweight")


def _positive(owner, name, value, high=1e9):
    """Check a positive finite number (int or float); return it as given."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or \
            not math.isfinite(value) or not 0 < value <= high:
        raise HardwareError(f"{owner} {name} must be a number above 0 and at most {high:g}, "
                            f"not {value!r}")
    return value


@dataclass(frozen=True)
class EngineConfig:
    """One compute engine: kind, size, dataflow, operand formats and accumulator."""

    kind: str = "systolic"
    rows: int = 32
    cols: int = 32
    dataflow: str = "os"
    lanes: int = 16
    a_fmt: str = "int8"
    b_fmt: str = "int8"
    accumulator: str = "int32"
    pe_stages: int = 1
    weight_bits: int = 2
    lut_group: int = 4
    lut_tile: tuple = (2, 16)
    lut_adds_per_cycle: int = 64
    # tensor-engine shapes and their bit-weight rewrites (issue 25)
    cube_k: int = 4
    mac_variant: str = "standard"
    k_group: int = 0
    # MixPE arrays (issue 24): rows of K per quantization group, products per PE and cycle
    group_size: int = 128
    k_step: int = 4

    def __post_init__(self):
        check_choice("engine kind", self.kind, ENGINE_KINDS, HardwareError)
        check_int("engine rows", self.rows, 1, 4096, HardwareError)
        check_int("engine cols", self.cols, 1, 4096, HardwareError)
        check_choice("engine dataflow", self.dataflow, DATAFLOWS, HardwareError)
        check_int("engine lanes", self.lanes, 1, 4096, HardwareError)
        if self.b_fmt == TERNARY and self.kind != "mixpe":
            raise HardwareError(f"engine b_fmt {TERNARY!r} applies to kind 'mixpe' (shift-add "
                                f"weights), not kind {self.kind!r}; give a format name")
        for name in ("a_fmt", "b_fmt"):
            try:
                F.get(self.storage_fmt(name))
            except LowbitError as err:
                raise HardwareError(f"engine {name}: {err}") from None
        try:
            accumulators.get(self.accumulator, (F.get(self.a_fmt),
                                                F.get(self.storage_fmt("b_fmt"))))
        except LowbitError as err:
            raise HardwareError(f"engine accumulator: {err}") from None
        check_int("engine pe_stages", self.pe_stages, 1, MAX_PE_STAGES, HardwareError)
        if self.kind == "lut" and self.pe_stages != 1:
            raise HardwareError(f"engine pe_stages applies to systolic and adder_tree engines "
                                f"(their MACs), not kind 'lut'; leave it 1, not "
                                f"{self.pe_stages!r}")
        check_int("engine weight_bits", self.weight_bits, 1, 4, HardwareError)
        check_int("engine lut_group", self.lut_group, 1, 8, HardwareError)
        tile = tuple(self.lut_tile) if isinstance(self.lut_tile, (list, tuple)) else None
        if tile is None or len(tile) != 2:
            raise HardwareError(f"engine lut_tile must be [TM, TN], not {self.lut_tile!r}")
        for i, name in enumerate(("TM", "TN")):
            check_int(f"engine lut_tile {name}", tile[i], 1, 4096, HardwareError)
        object.__setattr__(self, "lut_tile", tile)
        check_int("engine lut_adds_per_cycle", self.lut_adds_per_cycle, 1, 1 << 20,
                  HardwareError)
        # tensor-engine shapes (issue 25); the design catalogue checks the combination
        check_int("engine cube_k", self.cube_k, 1, 64, HardwareError)
        check_choice("engine mac_variant", self.mac_variant, MAC_VARIANTS, HardwareError)
        check_int("engine k_group", self.k_group, 0, 64, HardwareError)
        # the MixPE design checks the combination (a group that is a multiple of k_step ...)
        check_int("engine group_size", self.group_size, 1, 1 << 16, HardwareError)
        check_int("engine k_step", self.k_step, 1, 64, HardwareError)

    def storage_fmt(self, field: str) -> str:
        """The format name of operand ``field``'s codes as memory holds them (``ternary``
        weights: ``int2``): the name a workload op carries."""
        value = getattr(self, field)
        return "int2" if value == TERNARY else value


@dataclass(frozen=True)
class BufferConfig:
    """On-chip SRAM for the A, B and C operands (KiB each); each buffer has ``sram_banks``
    banks of ``sram_bytes_per_cycle`` bytes per cycle (a buffer delivers their product)."""

    a_sram_kib: float = 256
    b_sram_kib: float = 256
    c_sram_kib: float = 128
    sram_banks: int = 8
    sram_bytes_per_cycle: int = 64

    def __post_init__(self):
        for name in ("a_sram_kib", "b_sram_kib", "c_sram_kib"):
            _positive("buffers", name, getattr(self, name), 1 << 30)
        check_int("buffers sram_banks", self.sram_banks, 1, 1024, HardwareError)
        check_int("buffers sram_bytes_per_cycle", self.sram_bytes_per_cycle, 1, 1 << 20,
                  HardwareError)


@dataclass(frozen=True)
class DramConfig:
    """Off-chip memory: bandwidth in GB/s (10^9 bytes per second) and access latency in ns."""

    dram_gbps: float = 25.6
    dram_latency_ns: float = 100.0

    def __post_init__(self):
        _positive("dram", "dram_gbps", self.dram_gbps, 1e6)
        lat = self.dram_latency_ns
        if isinstance(lat, bool) or not isinstance(lat, (int, float)) or \
                not math.isfinite(lat) or not 0 <= lat <= 1e6:
            raise HardwareError(f"dram dram_latency_ns must be a number from 0 to 1e+06, "
                                f"not {lat!r}")


@dataclass(frozen=True)
class ArchConfig:
    """A whole accelerator: ``engines`` copies of ``engine`` sharing buffers and DRAM."""

    name: str = "custom"
    clock_mhz: float = 1000.0
    engines: int = 1
    double_buffering: bool = True
    engine: EngineConfig = field(default_factory=EngineConfig)
    buffers: BufferConfig = field(default_factory=BufferConfig)
    dram: DramConfig = field(default_factory=DramConfig)

    def __post_init__(self):
        if not isinstance(self.name, str) or not self.name:
            raise HardwareError(f"arch name must be a non-empty string, not {self.name!r}")
        _positive("arch", "clock_mhz", self.clock_mhz, 1e5)
        check_int("arch engines", self.engines, 1, 4096, HardwareError)
        if not isinstance(self.double_buffering, bool):
            raise HardwareError(f"arch double_buffering must be true or false, not "
                                f"{self.double_buffering!r}")

    @property
    def sram_bytes_per_cycle(self) -> int:
        """Bytes per cycle one SRAM buffer delivers: banks x bytes per bank."""
        return self.buffers.sram_banks * self.buffers.sram_bytes_per_cycle

    @property
    def dram_bytes_per_cycle(self) -> float:
        """DRAM bandwidth in bytes per engine clock cycle."""
        return self.dram.dram_gbps * 1e9 / (self.clock_mhz * 1e6)

    def to_dict(self) -> dict:
        """Nested plain values (TOML-shaped), for results files."""
        return dataclasses.asdict(self)


_SECTIONS = {"engine": EngineConfig, "buffers": BufferConfig, "dram": DramConfig}


def arch_from_dict(data: dict, source: str = "arch") -> ArchConfig:
    """An :class:`ArchConfig` from nested dicts (a parsed TOML file); unknown keys refused."""
    if not isinstance(data, dict):
        raise HardwareError(f"{source} must be a table of settings, not {type(data).__name__}")
    top = {f.name for f in dataclasses.fields(ArchConfig)} - set(_SECTIONS)
    unknown = [k for k in data if k not in top and k not in _SECTIONS]
    if unknown:
        raise HardwareError(f"{source}: unknown setting {unknown[0]!r}; allowed: "
                            f"{', '.join(sorted(top | set(_SECTIONS)))}")
    kwargs = {k: v for k, v in data.items() if k in top}
    for section, cls in _SECTIONS.items():
        table = data.get(section, {})
        if not isinstance(table, dict):
            raise HardwareError(f"{source}: [{section}] must be a table, not {table!r}")
        allowed = {f.name for f in dataclasses.fields(cls)}
        bad = [k for k in table if k not in allowed]
        if bad:
            raise HardwareError(f"{source}: unknown setting {section}.{bad[0]}; allowed: "
                                f"{', '.join(sorted(allowed))}")
        kwargs[section] = cls(**table)
    return ArchConfig(**kwargs)


PRESETS = {
    "edge-int8-32x32": {"name": "edge-int8-32x32", "clock_mhz": 800,
                        "engine": {"rows": 32, "cols": 32, "dataflow": "os"},
                        "dram": {"dram_gbps": 25.6}},
    "tpu-like-128x128": {"name": "tpu-like-128x128", "clock_mhz": 940,
                         "engine": {"rows": 128, "cols": 128, "dataflow": "ws"},
                         "buffers": {"a_sram_kib": 12288, "b_sram_kib": 4096,
                                     "c_sram_kib": 4096, "sram_bytes_per_cycle": 512},
                         "dram": {"dram_gbps": 614}},
    "lut-w2-core": {"name": "lut-w2-core", "clock_mhz": 1000,
                    "engine": {"kind": "lut", "weight_bits": 2, "lut_group": 4,
                               "lut_tile": [32, 64], "a_fmt": "int8", "b_fmt": "int2"},
                    "dram": {"dram_gbps": 102.4}},
}


def load_arch(path_or_preset) -> ArchConfig:
    """An :class:`ArchConfig` from a TOML file path or a preset name (:data:`PRESETS`)."""
    text = str(path_or_preset)
    if text in PRESETS:
        return arch_from_dict(PRESETS[text], f"preset {text}")
    path = Path(text)
    if not path.is_file():
        raise HardwareError(f"arch must be a TOML file or one of {', '.join(PRESETS)}, not "
                            f"{text!r}{did_you_mean(text, PRESETS)}")
    try:
        data = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as err:
        raise HardwareError(f"{path.name} is not valid TOML: {err}") from None
    return arch_from_dict(data, path.name)
