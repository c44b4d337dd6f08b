"""The cycle model's view of one compute engine, built from the same ``hdl`` objects the RTL uses.

:func:`engine_model` turns an :class:`~lowbit.sim.hardware.EngineConfig` into an
:class:`EngineModel`. It builds the real generator objects (never elaborated): the processing
element (IntMac, FloatMac, PositMac or MxDotUnit) from the operand formats and accumulator,
and the engine (:class:`~lowbit.hdl.systolic_array.SystolicArray`,
:class:`~lowbit.hdl.adder_tree_engine.AdderTreeEngine` or
:class:`~lowbit.hdl.lut_tensor_core.LutTensorCore`). So the hardware's own rules refuse what
it cannot build (a Kulisch PE in a weight-stationary array, a 3-lane adder tree), and
:meth:`EngineModel.cycles` is the engines' closed form, the one the RTL tests check
cycle-exactly. Systolic arrays use :func:`~lowbit.hdl.systolic_array.systolic_cycles` directly,
so they may be larger than the largest RTL array (64 x 64) and may use the model-only ``is``
dataflow; the PE and dataflow are still checked by building a (capped) array.

With ``cycle_convention="scalesim"`` a systolic engine counts cycles as SCALE-Sim does
(:mod:`lowbit.sim.scalesim_cycles`) instead.
"""

from dataclasses import dataclass

from lowbit.errors import LowbitError
from lowbit.golden import formats as F
from lowbit.golden.accumulators import ExactAccumulator, FixedAccumulator, FloatAccumulator, Quire
from lowbit.golden.lut_gemm import LutGemmConfig, op_counts
from lowbit.hdl.adder_tree_engine import AdderTreeEngine
from lowbit.hdl.float_mac import FloatMac
from lowbit.hdl.gemm_engine import MAX_ARRAY_SIDE, tiles
from lowbit.hdl.int_mac import IntMac
from lowbit.hdl.lut_tensor_core import LutTensorCore
from lowbit.hdl.mx_dot import MxDotUnit
from lowbit.hdl.posit_mac import PositMac
from lowbit.hdl.systolic_array import SystolicArray, systolic_cycles
from lowbit.sim.hardware import EngineConfig, HardwareError
from lowbit.sim.scalesim_cycles import scalesim_cycles

CYCLE_CONVENTIONS = ("rtl", "scalesim", "scalesim_last_index")
"""``rtl``: lowbit's RTL count. ``scalesim``: SCALE-Sim's compute cycles (a count).
``scalesim_last_index``: the index of SCALE-Sim's last compute cycle (count minus one)."""


def _accumulator(cfg: EngineConfig, a_fmt, b_fmt):
    """The golden accumulator the ``accumulator`` text names, for these operand formats."""
    text = cfg.accumulator
    integer = all(isinstance(f, (F.IntFormat, F.FixedFormat)) for f in (a_fmt, b_fmt))
    if text.startswith("int") != integer:
        raise HardwareError(f"engine accumulator {text!r} cannot sum {cfg.a_fmt} x {cfg.b_fmt} "
                            f"products; integer operands take int<bits>, others fp32, fp16, "
                            f"bf16, exact_<fp> or quire")
    if integer:
        return FixedAccumulator.for_products(int(text[3:]), a_fmt, b_fmt)
    if text == "quire":
        if not isinstance(a_fmt, F.PositFormat):
            raise HardwareError(f"engine accumulator 'quire' needs posit operands, not "
                                f"{cfg.a_fmt}")
        return Quire(a_fmt)
    if text.startswith("exact_"):
        return ExactAccumulator(F.get(text[len("exact_"):]))
    return FloatAccumulator(F.get(text))


def build_pe(cfg: EngineConfig):
    """The processing element (an unelaborated ``hdl`` unit) for the engine's formats."""
    a_fmt, b_fmt = F.get(cfg.a_fmt), F.get(cfg.b_fmt)
    integer = (F.IntFormat, F.FixedFormat)
    if isinstance(a_fmt, integer) and isinstance(b_fmt, integer):
        return IntMac(a_fmt, b_fmt, acc=_accumulator(cfg, a_fmt, b_fmt))
    if isinstance(a_fmt, F.FloatFormat) and isinstance(b_fmt, F.FloatFormat):
        return FloatMac(a_fmt, b_fmt, acc=_accumulator(cfg, a_fmt, b_fmt))
    if isinstance(a_fmt, F.PositFormat) and a_fmt == b_fmt:
        return PositMac(a_fmt, quire=_accumulator(cfg, a_fmt, b_fmt))
    if isinstance(a_fmt, F.BlockFormat) and a_fmt == b_fmt:
        return MxDotUnit(a_fmt, acc=_accumulator(cfg, a_fmt, b_fmt))
    raise HardwareError(f"engine a_fmt/b_fmt: no processing element multiplies {cfg.a_fmt} by "
                        f"{cfg.b_fmt}; both integer/fixed, both float, one posit or one block "
                        f"format are allowed")


def element_bits(fmt, k: int) -> float:
    """Storage bits of ``k`` elements along K (one row of A or column of B) in ``fmt``: block
    formats add one scale per started block (MXFP4: ``4 k + 8 ceil(k / 32)``)."""
    if isinstance(fmt, F.BlockFormat):
        return fmt.element.bits * k + fmt.scale_storage_bits * tiles(k, fmt.block_size)
    return fmt.bits * k


@dataclass(frozen=True)
class EngineModel:
    """One engine as the cycle model needs it: cycles, peak rate, formats, LUT op counts."""

    config: EngineConfig
    engine: object          # the hdl engine (capped at 64 x 64 for big systolic arrays)
    pe: object              # the hdl processing element (None for the LUT core)
    convention: str = "rtl"

    @property
    def a_fmt(self):
        return F.get(self.config.a_fmt)

    @property
    def b_fmt(self):
        return F.get(self.config.b_fmt)

    @property
    def acc_bits(self) -> int:
        """Bits of one result as it leaves the engine (the accumulator's output format)."""
        if self.pe is None:
            return int(self.config.accumulator[3:])
        return self.pe.accumulator.out_fmt.bits

    @property
    def block_size(self) -> int:
        """K elements per engine beat: the block size of MX PEs, else 1."""
        return self.a_fmt.block_size if isinstance(self.pe, MxDotUnit) else 1

    @property
    def peak_macs_per_cycle(self) -> float:
        """Multiply-accumulates per cycle with every multiplier busy."""
        cfg = self.config
        if cfg.kind == "systolic":
            return cfg.rows * cfg.cols * self.block_size
        return self.engine.peak_macs_per_cycle

    def cycles(self, M: int, K: int, N: int) -> int:
        """Compute cycles of one ``M x K x N`` GEMM, no memory stalls (the engine's closed form)."""
        cfg = self.config
        if cfg.kind != "systolic":
            return self.engine.cycles(M, K, N)
        if self.convention != "rtl":
            return scalesim_cycles(M, K, N, rows=cfg.rows, cols=cfg.cols,
                                   dataflow=cfg.dataflow,
                                   last_index=self.convention == "scalesim_last_index")
        return systolic_cycles(M, K, N, rows=cfg.rows, cols=cfg.cols, dataflow=cfg.dataflow,
                               pe_latency=self.pe.latency, block_size=self.block_size)

    def lut_table_adds(self, M: int, K: int) -> int:
        """Adds that build the activation tables of ``M`` rows of ``K`` (golden op counts)."""
        if self.config.kind != "lut":
            return 0
        return op_counts(M, K, 1, self.lut_config).table_adds

    @property
    def lut_config(self) -> LutGemmConfig:
        return LutGemmConfig(self.config.weight_bits, self.config.lut_group)

    def mac_energy_key(self) -> str:
        """The ``[mac]`` entry of the energy data that prices this engine's MACs."""
        cfg = self.config
        if cfg.kind == "lut":
            return f"lut_{cfg.a_fmt}_w{cfg.weight_bits}_g{cfg.lut_group}"
        return f"{cfg.a_fmt}_{cfg.b_fmt}_{cfg.accumulator}"

    def sram_operand_bits(self, M: int, K: int, N: int) -> dict:
        """Bits the engine reads from and writes to on-chip SRAM for one GEMM, by buffer.

        Systolic ``os``: every output tile streams its ``A`` rows and ``B`` columns once
        (``A`` read ``ceil(N/C)`` times, ``B`` ``ceil(M/R)`` times); ``ws``: weights read
        once, ``A`` once per column tile, partial sums read and written once per K tile
        (``ceil(K/R)`` writes, one read fewer); ``is``: ``ws`` with ``A`` and ``B`` exchanged.
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
        elif cfg.dataflow == "os":
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
        for field in ("a_fmt", "b_fmt"):
            if getattr(op, field) != getattr(self.config, field):
                raise HardwareError(
                    f"workload op {op.name}: {field} {getattr(op, field)} cannot run on this "
                    f"engine, whose {field} is {getattr(self.config, field)}; give the workload "
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
        if cfg.kind == "lut":
            return EngineModel(cfg, _lut_core(cfg), None, convention)
        pe = build_pe(cfg)
        if cfg.kind == "adder_tree":
            return EngineModel(cfg, AdderTreeEngine(cfg.lanes, pe), pe, convention)
        rows, cols = min(cfg.rows, MAX_ARRAY_SIDE), min(cfg.cols, MAX_ARRAY_SIDE)
        dataflow = "ws" if cfg.dataflow == "is" else cfg.dataflow
        return EngineModel(cfg, SystolicArray(rows, cols, pe, dataflow), pe, convention)
    except HardwareError:
        raise
    except LowbitError as err:
        raise HardwareError(f"engine ({cfg.kind}): {err}") from None


def _lut_core(cfg: EngineConfig):
    act, weight = F.get(cfg.a_fmt), F.get(cfg.b_fmt)
    if not isinstance(weight, F.IntFormat) or weight.bits != cfg.weight_bits:
        raise HardwareError(f"engine b_fmt of a LUT core must be int{cfg.weight_bits} "
                            f"(weight_bits), not {cfg.b_fmt}")
    acc = cfg.accumulator
    if not acc.startswith("int"):
        raise HardwareError(f"engine accumulator of a LUT core must be int<bits>, not {acc!r}")
    return LutTensorCore(cfg.weight_bits, cfg.lut_group, act, cfg.lut_tile, acc_bits=int(acc[3:]))
