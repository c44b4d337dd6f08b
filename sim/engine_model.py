"""The cycle model's view of one compute engine: its design in the catalogue, and what it costs.

:func:`engine_model` turns an :class:`~lowbit.sim.hardware.EngineConfig` into an
:class:`EngineModel` holding the engine's design spec (:mod:`lowbit.hdl.designs`): the same
named design the regression checks, the synthesis report sizes and the energy data prices.
The spec is checked by the hardware's own rules (a Kulisch PE in a weight-stationary array, a
3-lane adder tree are refused), and :meth:`EngineModel.cycles` is the spec's closed form, the
one the RTL tests check cycle-exactly. Systolic arrays may be larger than the largest RTL array
(64 x 64) and may use the model-only ``is`` dataflow: the spec knows their cycles without RTL.

Matrix and cube engines are :func:`shape_spec`'s; ``mac_variant="bitweight"`` gives any
engine but the LUT core and the MixPE array bit-weight PEs (:func:`pe_spec`). A ``mixpe``
engine is a :class:`~lowbit.hdl.designs.MixPEArraySpec` (:func:`mixpe_spec`): its weights
are a group-quantization scheme (:class:`~lowbit.golden.mpgemm.GroupScheme`) whose scales
(and zero points) memory holds beside the codes (:func:`element_bits`).

With ``cycle_convention="scalesim"`` a systolic engine counts cycles as SCALE-Sim does
(:mod:`lowbit.sim.scalesim_cycles`) instead.
"""

import dataclasses
from dataclasses import dataclass

from lowbit.errors import LowbitError
from lowbit.golden import accumulators
from lowbit.golden import formats as F
from lowbit.golden.lut_gemm import LutGemmConfig, op_counts
from lowbit.hdl import designs
from lowbit.hdl.gemm_stream import tiles
from lowbit.sim.hardware import EngineConfig, HardwareError
from lowbit.sim.scalesim_cycles import scalesim_cycles

CYCLE_CONVENTIONS = ("rtl", "scalesim", "scalesim_last_index")
"""``rtl``: lowbit's RTL count. ``scalesim``: SCALE-Sim's compute cycles (a count).
``scalesim_last_index``: the index of SCALE-Sim's last compute cycle (count minus one)."""


#: The tile of the LUT core whose energy data prices every LUT core's MACs.
ENERGY_LUT_TILE = (2, 16)


def engine_spec(cfg: EngineConfig) -> designs.EngineSpec:
    """The catalogue design of the engine ``cfg`` describes (its PE from the operand formats
    and accumulator, :func:`pe_spec`, with ``pe_stages`` stages)."""
    check_mac_variant(cfg)
    if cfg.kind == "mixpe":
        return mixpe_spec(cfg)
    if cfg.kind == "lut":
        weight = F.get(cfg.b_fmt)
        if not isinstance(weight, F.IntFormat) or weight.bits != cfg.weight_bits:
            raise HardwareError(f"engine b_fmt of a LUT core must be int{cfg.weight_bits} "
                                f"(weight_bits), not {cfg.b_fmt}")
        return designs.LutCoreSpec(cfg.weight_bits, cfg.lut_group, cfg.a_fmt, cfg.lut_tile,
                                   acc=cfg.accumulator)
    pe = pe_spec(cfg)
    if cfg.kind in SHAPE_KINDS:
        return shape_spec(cfg, pe)
    if cfg.kind == "adder_tree":
        return designs.AdderTreeSpec(cfg.lanes, pe)
    return designs.SystolicSpec(cfg.rows, cfg.cols, cfg.dataflow, pe)


# --- tensor-engine shapes and their bit-weight rewrites (issue 25) ---------------------------
#: Engine kinds of broadcast shapes: the 2D matrix and the 3D cube (output-stationary tiles).
SHAPE_KINDS = ("matrix", "cube")


def check_mac_variant(cfg: EngineConfig) -> None:
    """Raise unless ``cfg``'s ``mac_variant`` and ``k_group`` suit its kind (the design
    catalogue checks the formats and sizes)."""
    bitweight = cfg.mac_variant == "bitweight"
    if cfg.kind in ("lut", "mixpe") and bitweight:
        raise HardwareError(f"engine mac_variant 'bitweight' applies to systolic, adder_tree, "
                            f"matrix and cube engines, not kind {cfg.kind!r}")
    if cfg.k_group and not bitweight:
        raise HardwareError(f"engine k_group {cfg.k_group} applies to mac_variant "
                            f"'bitweight' only (products per carry-propagate adder); use 0")
    if bitweight and cfg.pe_stages != 1:
        raise HardwareError(f"engine pe_stages applies to mac_variant 'standard' (a bit-weight "
                            f"MAC has no pipeline cut points); leave it 1, not {cfg.pe_stages!r}")


def pe_spec(cfg: EngineConfig) -> designs.MacSpec:
    """The processing element of a systolic, adder-tree, matrix or cube engine: the MAC of
    the operand formats and accumulator (:func:`lowbit.hdl.designs.mac_for`), or with
    ``mac_variant="bitweight"`` a :class:`~lowbit.hdl.designs.BitWeightMacSpec` of them;
    a standard MAC with ``pe_stages`` register stages."""
    if cfg.mac_variant == "bitweight":
        return designs.BitWeightMacSpec(cfg.a_fmt, cfg.b_fmt, cfg.accumulator,
                                        cfg.k_group or None)
    pe = designs.mac_for(cfg.a_fmt, cfg.b_fmt, cfg.accumulator)
    if cfg.pe_stages != 1:
        pe = dataclasses.replace(pe, stages=cfg.pe_stages)
    return pe


#: Weights a MixPE shift-adds: integer codes of 1 to 4 bits, or ternary (int2 codes).
MIXPE_WEIGHTS = ("int1", "int2", "int3", "int4", "uint1", "uint2", "uint3", "uint4", "ternary")


def mixpe_spec(cfg: EngineConfig) -> designs.MixPEArraySpec:
    """The catalogue design of a ``mixpe`` engine: ``rows x cols`` MixPEs of ``a_fmt``
    activations and ``b_fmt`` weights in groups of ``group_size``, ``k_step`` products per
    cycle, into ``accumulator`` (the design checks every value and the combination)."""
    if cfg.pe_stages != 1:
        raise HardwareError(f"engine pe_stages applies to MAC pipelines; a MixPE has fixed "
                            f"stages (align, shift-add, dequantize): leave it 1, not "
                            f"{cfg.pe_stages!r}")
    if cfg.dataflow != "os":
        raise HardwareError(f"engine dataflow of a MixPE array is 'os' (output tiles, one "
                            f"dequantization per group), not {cfg.dataflow!r}")
    if cfg.b_fmt not in MIXPE_WEIGHTS:
        raise HardwareError(f"engine b_fmt of a MixPE array must be one of "
                            f"{', '.join(MIXPE_WEIGHTS)} (one shifted copy of the activation "
                            f"per weight bit), not {cfg.b_fmt!r}")
    if cfg.group_size % cfg.k_step:
        raise HardwareError(f"engine group_size {cfg.group_size} is not a multiple of k_step "
                            f"{cfg.k_step}: a quantization group must end on a beat boundary")
    acc = accumulators.get(cfg.accumulator)
    if acc.kind != "float" or acc.order != "sequential":
        raise HardwareError(f"engine accumulator of a MixPE array must be a float accumulator "
                            f"such as fp32, fp16 or bf16 (the dequantized group terms are "
                            f"rounded into it), not {cfg.accumulator!r}")
    pe = designs.MixPESpec(cfg.a_fmt, cfg.b_fmt, cfg.group_size, cfg.accumulator, cfg.k_step)
    return designs.MixPEArraySpec(cfg.rows, cfg.cols, pe)


def shape_spec(cfg: EngineConfig, pe: designs.MacSpec) -> designs.EngineSpec:
    """The catalogue design of a matrix or cube engine of ``pe``."""
    if cfg.kind == "matrix":
        return designs.MatrixSpec(cfg.rows, cfg.cols, pe)
    return designs.CubeSpec(cfg.rows, cfg.cols, cfg.cube_k, pe)


def element_bits(fmt, k: int) -> float:
    """Storage bits of ``k`` elements along K (one row of A or column of B) in ``fmt``: block
    formats add one scale per started block (MXFP4: ``4 k + 8 ceil(k / 32)``), a MixPE's
    group scheme one scale (and zero point) per started group (int4, groups of 128, fp16
    scales: ``4 k + 16 ceil(k / 128)``)."""
    if getattr(fmt, "kind", None) == "groupwise":
        per_group = fmt.scale.bits + (fmt.bits if fmt.zero_point else 0)
        return fmt.bits * k + per_group * fmt.groups(k)
    if isinstance(fmt, F.BlockFormat):
        return fmt.element.bits * k + fmt.scale_storage_bits * tiles(k, fmt.block_size)
    return fmt.bits * k


@dataclass(frozen=True)
class EngineModel:
    """One engine as the cycle model needs it: its design, cycles, peak rate, formats."""

    config: EngineConfig
    spec: designs.EngineSpec
    convention: str = "rtl"

    @property
    def a_fmt(self):
        return F.get(self.config.a_fmt)

    @property
    def b_fmt(self):
        """The weights' format (a MixPE array's: its group scheme)."""
        if self.config.kind == "mixpe":
            return self.spec.pe.b_fmt
        return F.get(self.config.b_fmt)

    @property
    def op_formats(self) -> dict:
        """``{"a_fmt": ..., "b_fmt": ...}``: the format names of the ops this engine runs
        (ternary weights are int2 codes)."""
        return {f: self.config.storage_fmt(f) for f in ("a_fmt", "b_fmt")}

    @property
    def pe(self):
        """The MAC design of each processing element (None for a LUT core)."""
        return getattr(self.spec, "pe", None)

    @property
    def acc_bits(self) -> int:
        """Bits of one result as it leaves the engine (the accumulator's output format)."""
        if self.pe is None:
            return self.spec.acc.int_bits
        return self.pe.accumulator.out_fmt.bits

    @property
    def block_size(self) -> int:
        """K elements per engine beat: the block size of MX PEs, else 1."""
        return self.a_fmt.block_size if isinstance(self.pe, designs.MxDotSpec) else 1

    @property
    def peak_macs_per_cycle(self) -> float:
        """Multiply-accumulates per cycle with every multiplier busy (the design's)."""
        return self.spec.peak_macs_per_cycle

    def cycles(self, M: int, K: int, N: int) -> int:
        """Compute cycles of one ``M x K x N`` GEMM, no memory stalls (the design's closed
        form, or SCALE-Sim's count under that convention)."""
        cfg = self.config
        if cfg.kind == "systolic" and self.convention != "rtl":
            return scalesim_cycles(M, K, N, rows=cfg.rows, cols=cfg.cols,
                                   dataflow=cfg.dataflow,
                                   last_index=self.convention == "scalesim_last_index")
        return self.spec.cycles(M, K, N)

    def lut_table_adds(self, M: int, K: int) -> int:
        """Adds that build the activation tables of ``M`` rows of ``K`` (golden op counts)."""
        if self.config.kind != "lut":
            return 0
        return op_counts(M, K, 1, self.lut_config).table_adds

    @property
    def lut_config(self) -> LutGemmConfig:
        return LutGemmConfig(self.config.weight_bits, self.config.lut_group)

    def mac_energy_key(self) -> str:
        """The energy data entry that prices this engine's MACs: the name of its MAC design.

        A LUT core is priced per MAC by the same core at the catalogue's 2 x 16 tile
        (:data:`ENERGY_LUT_TILE`): the data file holds one entry per weight width, group and
        activation format, and a lookup's cost per MAC is taken as independent of the tile."""
        if self.pe is not None:
            return self.pe.name
        return dataclasses.replace(self.spec, tile=ENERGY_LUT_TILE).name

    def sram_operand_bits(self, M: int, K: int, N: int) -> dict:
        """Bits the engine reads from and writes to on-chip SRAM for one GEMM, by buffer.

        Systolic ``os``: every output tile streams its ``A`` rows and ``B`` columns once
        (``A`` read ``ceil(N/C)`` times, ``B`` ``ceil(M/R)`` times); ``ws``: weights read
        once, ``A`` once per column tile, partial sums read and written once per K tile
        (``ceil(K/R)`` writes, one read fewer); ``is``: ``ws`` with ``A`` and ``B`` exchanged.
        Matrix, cube and MixPE engines (output tiles of ``rows x cols``): as ``os`` (a MixPE
        array's weights with their group scales and zero points).
        Adder tree: both operands once per output. LUT core: ``A`` once (table builds), each
        weight plane once per row tile. Results (``c_write``) are written once.
        """
        cfg, a, b, acc = self.config, self.a_fmt, self.b_fmt, self.acc_bits
        out = {"a_read": 0.0, "b_read": 0.0, "c_read": 0.0, "c_write": float(M * N * acc)}
        if cfg.kind == "adder_tree":
            out["a_read"] = M * N * element_bits(a, K)
            out["b_read"] = M * N * element_bits(b, K)
        elif cfg.kind == "lut":
            tm = cfg.lut_tile[0]
            out["a_read"] = M * element_bits(a, K)
            out["b_read"] = tiles(M, tm) * N * K * cfg.weight_bits
        elif cfg.kind in (*SHAPE_KINDS, "mixpe") or cfg.dataflow == "os":  # output tiles
            out["a_read"] = tiles(N, cfg.cols) * M * element_bits(a, K)
            out["b_read"] = tiles(M, cfg.rows) * N * element_bits(b, K)
        else:
            kt = tiles(K, cfg.rows)
            stream, still = (("a_read", "b_read") if cfg.dataflow == "ws"
                             else ("b_read", "a_read"))
            stream_rows, still_rows = (M, N) if cfg.dataflow == "ws" else (N, M)
            stream_fmt, still_fmt = (a, b) if cfg.dataflow == "ws" else (b, a)
            out[still] = still_rows * element_bits(still_fmt, K)
            out[stream] = tiles(still_rows, cfg.cols) * stream_rows * element_bits(stream_fmt, K)
            out["c_write"] = float(M * N * acc * kt)
            out["c_read"] = float(M * N * acc * (kt - 1))
        return out

    def check_op(self, op) -> None:
        """Raise unless this engine runs ``op``'s operand formats (named by field)."""
        for field, want in self.op_formats.items():
            if getattr(op, field) != want:
                raise HardwareError(
                    f"workload op {op.name}: {field} {getattr(op, field)} cannot run on this "
                    f"engine, whose {field} is {want}; give the workload "
                    f"the engine's formats or an engine for {op.a_fmt} x {op.b_fmt}")


def engine_model(cfg: EngineConfig, convention: str = "rtl") -> EngineModel:
    """Build the :class:`EngineModel` of ``cfg``; errors name the engine field at fault."""
    if convention not in CYCLE_CONVENTIONS:
        raise HardwareError(f"cycle_convention must be one of {', '.join(CYCLE_CONVENTIONS)}, "
                            f"not {convention!r}")
    if convention != "rtl" and cfg.kind != "systolic":
        raise HardwareError(f"cycle_convention {convention!r} applies to systolic engines, "
                            f"not kind {cfg.kind!r}")
    try:
        return EngineModel(cfg, engine_spec(cfg), convention)
    except HardwareError:
        raise
    except LowbitError as err:
        raise HardwareError(f"engine ({cfg.kind}): {err}") from None
