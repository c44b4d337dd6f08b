"""Run a workload on an accelerator: cycles, stalls, traffic and energy per op and in total.

>>> from lowbit import sim
>>> res = sim.run("edge-int8-32x32", "llama2-7b-decode")
>>> res.total["cycles"], res.total["bound"]

Each distinct op shape is simulated once (:func:`~lowbit.sim.simulator.simulate_op`, SimPy,
one event per chunk) and multiplied by its ``repeat``; ops start with empty buffers. Units are
in the column names: cycles of the engine clock, bytes, pJ, microseconds, TOPS (10^12
operations per second, one MAC = 2 operations) and TOPS/W (operations per pJ).

Energy (memory constants by key from the data file, :mod:`lowbit.sim.energy`; compute
measured on the engine's design, :mod:`lowbit.sim.mac_energy`)::

  energy_compute_pj  MACs x the dynamic energy per MAC measured on the engine's MAC design
                     (its processing element; a LUT core: the same core at the 2 x 16 tile)
                     for the energy_stream, plus the leakage power of the engine's
                     processing elements over the op's cycles at clock_mhz
  energy_sram_pj     SRAM bits read and written / 64 x sram_read_64b_8kib_pj; writes are
                     DMA fills and results (partial sums too), reads the engine's operand
                     and partial-sum reads and the results DMA reads out
  energy_dram_pj     DRAM bits / 64 x dram_access_64b_low_pj (or _high_pj)
  energy_lut_pj      0: the measured LUT core builds its activation tables itself, so their
                     energy is part of energy_compute_pj (at the measured tile's reuse)

The processing elements are priced alone: an array's operand forwarding and skew registers
are not in ``energy_compute_pj`` (the 4 x 4 arrays of the energy table show what they add).
An engine whose design has no measured energy for the stream (not in the committed table,
and no ``mac_energy`` source that measures it) gets ``nan`` compute energy (and so ``nan``
totals) and a line in :attr:`Results.notes` naming it: cycles never depend on energy data.
"""

import math
from dataclasses import dataclass, field
from pathlib import PurePath

from lowbit.sim import mac_energy as ME
from lowbit.sim.energy import EnergyData, load_energy
from lowbit.sim.engine_model import EngineModel, engine_model, engine_spec
from lowbit.sim.from_hdl import engine_config
from lowbit.sim.hardware import ArchConfig, HardwareError, load_arch
from lowbit.sim.simulator import STALL_CAUSES, simulate_op
from lowbit.sim.tiling import plan_op
from lowbit.sim.workloads import GemmOp, WorkloadError, preset, read_csv

ENERGY_KINDS = ("compute", "sram", "dram", "lut")
#: The energy split of every row: ``energy_<kind>_pj``, summing to ``energy_pj``.
ENERGY_COLUMNS = tuple(f"energy_{kind}_pj" for kind in ENERGY_KINDS)

DRAM_ENERGY = ("low", "high")
"""Which end of Horowitz's 1.3-2.6 nJ per 64 bits DRAM range prices DRAM traffic."""

_SUMMED = ("macs", "cycles", "compute_cycles", *(f"stall_{c}_cycles" for c in STALL_CAUSES),
           "dram_read_bytes", "dram_write_bytes", "sram_read_bytes", "sram_write_bytes",
           "lut_table_adds", *ENERGY_COLUMNS, "energy_pj")


@dataclass
class Results:
    """Per-op rows and the workload total (tidy dicts), with what produced them."""

    arch: ArchConfig
    workload: str
    rows: list
    total: dict
    energy_constants: dict = field(default_factory=dict)   # key -> {value, source}
    options: dict = field(default_factory=dict)
    notes: list = field(default_factory=list)

    def per(self, count: int) -> dict:
        """The total's energy and cycles divided by ``count`` (tokens, images ...)."""
        return {k: self.total[k] / count for k in ("cycles", "energy_pj", *ENERGY_COLUMNS)}


def resolve_workload(workload, a_fmt=None, b_fmt=None, **params) -> tuple:
    """``(name, ops)`` from a list of :class:`GemmOp`, a preset name or a CSV path."""
    if isinstance(workload, GemmOp):
        workload = [workload]
    if isinstance(workload, (list, tuple)):
        if not workload or not all(isinstance(op, GemmOp) for op in workload):
            raise WorkloadError("workload must be a non-empty list of GemmOp")
        return "custom", list(workload)
    text = str(workload)
    fmts = {k: v for k, v in (("a_fmt", a_fmt), ("b_fmt", b_fmt)) if v is not None}
    if text.lower().endswith(".csv"):
        return text, read_csv(text, **fmts)
    return text, preset(text, **fmts, **params)


def run(arch, workload, *, ideal_memory: bool = False, cycle_convention: str = "rtl",
        energy=None, dram_energy: str = "low", mac_energy=None,
        energy_stream: str = ME.DEFAULT_STREAM, progress=None, **workload_params) -> Results:
    """Simulate ``workload`` on ``arch``; return :class:`Results`.

    ``arch``: an :class:`~lowbit.sim.hardware.ArchConfig`, an engine built in Python (a
    :class:`~lowbit.sim.hardware.EngineConfig`, or a ``SystolicArray``, ``AdderTreeEngine``
    or ``LutTensorCore`` from :mod:`lowbit.hdl`: :func:`~lowbit.sim.from_hdl.engine_config`;
    the rest of the accelerator takes :class:`ArchConfig`'s defaults), a TOML path (str or
    Path) or a preset name.
    ``workload``: a :class:`~lowbit.sim.workloads.GemmOp` or a list of them, a preset name
    (its ``workload_params`` such as ``batch=8``; formats default to the engine's) or a CSV
    file (str or Path).
    ``ideal_memory``: no memory stalls (infinite DRAM and SRAM bandwidth).
    ``cycle_convention``: ``rtl`` (lowbit's RTL count), ``scalesim`` or
    ``scalesim_last_index`` (systolic engines only).
    ``energy``: an :class:`~lowbit.sim.energy.EnergyData` or a TOML path (default file).
    ``mac_energy``: the energy source of the engine's design (:mod:`lowbit.sim.mac_energy`;
    default the committed table), ``energy_stream`` the operand stream it was measured on.
    ``progress``: called as ``progress(done, total)`` after each distinct op shape.
    """
    arch = as_arch(arch)
    if dram_energy not in DRAM_ENERGY:
        raise HardwareError(f"dram_energy must be one of {', '.join(DRAM_ENERGY)}, not "
                            f"{dram_energy!r}")
    model = engine_model(arch.engine, cycle_convention)
    data = energy if isinstance(energy, EnergyData) else load_energy(energy)
    params = {**model.op_formats, **workload_params}
    name, ops = resolve_workload(workload, **params)
    for op in ops:
        model.check_op(op)
    if not isinstance(energy_stream, str) or not energy_stream:
        raise HardwareError(f"energy_stream must be a stream name such as gaussian, not "
                            f"{energy_stream!r}")
    source = mac_energy or ME.table_source()
    source_name = getattr(source, "describe", "a caller's energy source")
    measured = ME.looked_up(source, model.mac_energy_key(), energy_stream)
    prices, notes = _prices(arch, model, data, dram_energy, measured, energy_stream,
                            None if mac_energy is None else source_name)
    shapes = list(dict.fromkeys((op.m, op.k, op.n) for op in ops))
    one = {}
    for i, shape in enumerate(shapes):
        one[shape] = _simulate(arch, model, shape, ideal_memory, prices)
        if progress:
            progress(i + 1, len(shapes))
    rows = [_op_row(arch, model, op, one[(op.m, op.k, op.n)]) for op in ops]
    total = _finish({k: sum(r[k] for r in rows) for k in _SUMMED}, arch, model)
    total = {"op": "total", **total}
    used = {k: {"value": data.pj(k), "source": data.constants[k].source}
            for k in prices["keys"]}
    if measured is not None:
        used[f"mac_energy.{measured.design}"] = measured.constant(arch.clock_mhz)
    return Results(arch, name, rows, total, used,
                   {"ideal_memory": ideal_memory, "cycle_convention": cycle_convention,
                    "dram_energy": dram_energy, "energy_file": str(data.path),
                    "energy_stream": energy_stream,
                    "mac_energy": source_name,
                    **workload_params}, notes)


def as_arch(hardware) -> ArchConfig:
    """An :class:`ArchConfig` from what :func:`run` takes as ``arch``."""
    if isinstance(hardware, ArchConfig):
        return hardware
    if isinstance(hardware, (str, PurePath)):
        return load_arch(hardware)
    engine = engine_config(hardware)
    return ArchConfig(name=f"custom-{engine_spec(engine).name}", engine=engine)


def _prices(arch, model: EngineModel, data: EnergyData, dram_energy: str, measured,
            stream: str, custom_source: str | None = None) -> tuple:
    """Dynamic pJ per MAC, the engines' leakage (nW), pJ per 64 SRAM bits and per 64 DRAM
    bits, and the data file keys used; and the notes (a design without measured energy, named
    with the source asked: ``custom_source``, a caller's source's description, or the
    committed table; a clock above the design's Fmax)."""
    dram_key = f"dram_access_64b_{dram_energy}_pj"
    keys = ["sram_read_64b_8kib_pj", dram_key]
    key, notes = model.mac_energy_key(), []
    if measured is not None:
        mac = measured.dynamic_pj
        # leakage of every processing element: the measured design does peak_macs_per_cycle
        leak = measured.leakage_nw * model.peak_macs_per_cycle * arch.engines / \
            measured.peak_macs_per_cycle
        if measured.fmax_mhz and arch.clock_mhz > measured.fmax_mhz:
            notes.append(f"clock_mhz {arch.clock_mhz:g} is above {key}'s Fmax "
                         f"{measured.fmax_mhz:.0f} MHz (static timing of its netlist): the "
                         f"design needs pipelining for this clock")
    elif custom_source is not None:
        mac = leak = math.nan
        notes.append(f"no measured MAC energy for {key!r} on stream {stream!r} from the "
                     f"mac_energy source ({custom_source}): compute energy is nan")
    else:
        mac = leak = math.nan
        notes.append(f"no measured MAC energy for {key!r} on stream {stream!r} in "
                     f"{ME.DEFAULT_TABLE.name}: compute energy is nan (pass "
                     f"mac_energy=lowbit.reports.power.mac_energy_source() to measure it; "
                     f"lowbit sim, the sweeps and the demo do)")
    return {"mac": mac, "leak_nw": leak, "sram64": data.pj(keys[0]),
            "dram64": data.pj(dram_key), "keys": keys}, notes


def _simulate(arch: ArchConfig, model: EngineModel, shape, ideal_memory, prices) -> dict:
    """One repeat of one shape: the plan, the SimPy timing and the energy."""
    M, K, N = shape
    plan = plan_op(model, arch.buffers, arch.double_buffering, M, K, N)
    sram = plan.sram_bits
    supply = arch.sram_bytes_per_cycle * 8
    per_buffer = (sram["a_read"], sram["b_read"], sram["c_read"] + sram["c_write"])
    stretch = max(1.0, *(bits / supply / plan.compute_cycles for bits in per_buffer))
    timing = simulate_op(plan, engines=arch.engines, double_buffering=arch.double_buffering,
                         dram_bytes_per_cycle=arch.dram_bytes_per_cycle,
                         dram_latency_cycles=arch.dram.dram_latency_ns * arch.clock_mhz / 1e3,
                         sram_stretch=stretch,
                         lut_adds_per_cycle=arch.engine.lut_adds_per_cycle,
                         ideal_memory=ideal_memory)
    sram_read = sram["a_read"] + sram["b_read"] + sram["c_read"] + plan.dram_write_bits
    sram_write = plan.dram_read_bits + sram["c_write"]
    macs = M * K * N
    return {"cycles": timing.cycles, "compute_cycles": timing.compute_cycles,
            **{f"stall_{c}_cycles": timing.stalls[c] for c in STALL_CAUSES},
            "dram_read_bytes": plan.dram_read_bits / 8,
            "dram_write_bytes": plan.dram_write_bits / 8,
            "sram_read_bytes": sram_read / 8, "sram_write_bytes": sram_write / 8,
            "lut_table_adds": plan.lut_adds,
            "energy_compute_pj": macs * prices["mac"] + prices["leak_nw"] * timing.cycles /
            arch.clock_mhz * 1e-3,  # nW x ns = 1e-6 pJ
            "energy_sram_pj": (sram_read + sram_write) / 64 * prices["sram64"],
            "energy_dram_pj": (plan.dram_read_bits + plan.dram_write_bits) / 64 *
            prices["dram64"],
            "energy_lut_pj": 0.0,
            "block_shape": "x".join(map(str, plan.block_shape)), "chunks": len(plan.chunks)}


def _op_row(arch, model, op: GemmOp, one: dict) -> dict:
    """The tidy row of ``op``: one repeat's numbers times ``repeat``."""
    row = {"op": op.name, "m": op.m, "k": op.k, "n": op.n, "repeat": op.repeat,
           "a_fmt": op.a_fmt, "b_fmt": op.b_fmt, "macs": op.macs}
    for key, value in one.items():
        row[key] = value * op.repeat if isinstance(value, (int, float)) and key != "chunks" \
            else value
    row["energy_pj"] = sum(row[k] for k in ENERGY_COLUMNS)
    return _finish(row, arch, model)


def _finish(row: dict, arch: ArchConfig, model: EngineModel) -> dict:
    """Add the derived columns: utilization, time, TOPS, TOPS/W, intensity, bound."""
    peak = model.peak_macs_per_cycle * arch.engines
    seconds = row["cycles"] / (arch.clock_mhz * 1e6)
    dram = row["dram_read_bytes"] + row["dram_write_bytes"]
    stalls = {c: row[f"stall_{c}_cycles"] for c in STALL_CAUSES}
    memory = {"dram": stalls["dram_read"] + stalls["dram_write"],
              "sram": stalls["sram_bandwidth"], "lut_precompute": stalls["lut_precompute"]}
    worst = max(memory, key=memory.get)
    row.update(utilization=row["macs"] / (row["cycles"] * peak) if row["cycles"] else 0.0,
               time_us=seconds * 1e6,
               tops=2 * row["macs"] / seconds / 1e12 if seconds else 0.0,
               tops_per_w=2 * row["macs"] / row["energy_pj"] if row["energy_pj"] else math.nan,
               ops_per_dram_byte=2 * row["macs"] / dram if dram else math.inf,
               bound=worst if memory[worst] > row["compute_cycles"] else "compute")
    return row

