"""Energy per operation of a design, measured from its own netlist on the data it will see.

``measure(design, stream)`` synthesizes the design (cached, :mod:`lowbit.reports.synthesis`),
compiles its netlist for the bit-parallel simulator (:mod:`lowbit.reports.activity`), drives it
with an operand stream from golden (:mod:`lowbit.reports.operand_streams`) through its own
port protocol (:mod:`lowbit.reports.stimulus`), counts every net's transitions and prices them
with the sourced per-cell data or a liberty (:mod:`lowbit.reports.switching_energy`)::

    from lowbit.reports import power
    r = power.measure("intmac_int8xint8_int32", "sparse")       # at Fmax
    r.parts_pj            # {"datapath": ..., "registers": ..., "clock": ..., "leakage": ...}
    r.total_pj, r.per_mac_pj
    power.measure("mxdot_mxfp4_fp32", "gaussian", clock_mhz=100.0)  # pJ per block pair
    power.measure("my_unit.v"...)  # no: designs of the catalogue (their protocol is known)

``clock_mhz``: ``"fmax"`` (static timing of the same netlist, :mod:`lowbit.reports.timing`) or
a frequency; it sets the cycle time leakage is charged over (dynamic energy does not depend
on it). Each measurement is cached in the design's synthesis work folder
(``energy-<key>.json``, key: the netlist, the cell data or liberty, the stream and its
settings, :data:`ENERGY_VERSION`), so the same question costs a file read the second time.

:func:`mac_energy_source` is the energy source the cycle model takes from the top floor
(``lowbit.sim.run(..., mac_energy=...)``): the committed table first, a measurement (cached)
for anything else.
"""

import functools
import hashlib
import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from lowbit.errors import LowbitError
from lowbit.hdl import designs
from lowbit.paths import write_atomic
from lowbit.reports import activity, operand_streams, stimulus, switching_energy
from lowbit.reports.switching_energy import PARTS, DynamicEnergy

#: Bumped when the simulator, the stimulus or the pricing change results; part of cache keys.
ENERGY_VERSION = 1
#: Lanes (independent streams) and elements along K of a measurement, by kind of design: MAC
#: units 512 lanes of one 256-product dot product; block dot units 256 lanes of 1,024
#: elements (32 blocks); engines 64 lanes, each a GEMM of the engine's natural output tile
#: (:func:`lane_tile`) by K = 256 (about 130,000 to 1,000,000 MACs per measurement).
DEFAULTS = {"mac": (512, 256), "block": (256, 1024), "engine": (64, 256)}


class PowerError(LowbitError, ValueError):
    """A bad measurement request: clock, stream settings, arrays."""


@dataclass(frozen=True)
class EnergyReport:
    """Energy of one design on one stream at one clock (module docstring).

    ``parts_pj``: pJ per ``operation`` (a MAC, or a block pair for MX / NVFP4 dot units) by
    part (:data:`~lowbit.reports.switching_energy.PARTS`); ``energy``: the raw totals;
    ``settings``: lanes, K, tile and seed of the stream."""

    design: str
    stream: str
    operation: str
    macs_per_operation: int
    clock_mhz: float
    clock: str
    fmax_mhz: float | None
    peak_macs_per_cycle: float
    parts_pj: dict
    energy: DynamicEnergy
    technology: str
    source: str
    settings: dict = field(default_factory=dict)
    cache: str = ""
    seconds: float = 0.0

    @property
    def total_pj(self) -> float:
        """pJ per operation, all parts."""
        return sum(self.parts_pj.values())

    @property
    def per_mac_pj(self) -> float:
        """pJ per multiply-accumulate, all parts."""
        return self.total_pj / self.macs_per_operation

    @property
    def cycles_per_mac(self) -> float:
        """Cycles per MAC per lane of the measurement (idle and drain cycles included)."""
        e = self.energy
        return e.cycles / (e.operations * self.macs_per_operation)

    def row(self) -> dict:
        """A tidy row: the parts per operation and per MAC, totals, clock, activity."""
        m = self.macs_per_operation
        return {"design": self.design, "stream": self.stream, "operation": self.operation,
                "clock_mhz": round(self.clock_mhz, 3), "clock": self.clock,
                "fmax_mhz": None if self.fmax_mhz is None else round(self.fmax_mhz, 1),
                **{f"{p}_pj": self.parts_pj[p] for p in PARTS},
                "total_pj": self.total_pj,
                **{f"{p}_pj_per_mac": self.parts_pj[p] / m for p in PARTS},
                "pj_per_mac": self.per_mac_pj, "leakage_nw": self.energy.leakage_nw,
                "lanes": self.energy.lanes, "cycles": self.energy.cycles,
                "operations": self.energy.lanes * self.energy.operations,
                "technology": self.technology, "source": self.source}

    def measured_mac(self):
        """This measurement as the cycle model's :class:`~lowbit.sim.mac_energy.MeasuredMac`."""
        from lowbit.sim.mac_energy import MeasuredMac

        m = self.macs_per_operation
        return MeasuredMac(self.design, self.stream, *(self.parts_pj[p] / m for p in PARTS[:3]),
                           self.energy.leakage_nw, self.peak_macs_per_cycle,
                           self.cycles_per_mac, self.fmax_mhz, self.source,
                           f"measured {self.cache}" if self.cache else "measured")


def _kind(spec) -> str:
    if isinstance(spec, designs.EngineSpec):
        return "engine"
    return "block" if isinstance(spec, designs.MxDotSpec) else "mac"


def lane_tile(spec) -> tuple:
    """``(M, N)`` of each lane's GEMM: the engine's natural output tile (a weight-stationary
    array streams ``8 x rows`` rows of A past each weight tile, so that preloading and
    draining it are a fraction of the work, as in a real GEMM), a MAC's one output."""
    if isinstance(spec, designs.EngineSpec):
        tm, _, tn = spec.prototype.natural_tile
        if isinstance(spec, designs.SystolicSpec) and spec.dataflow == "ws":
            tm *= 8
        return tm, tn
    return 1, 1


def stream_formats(spec, mode: int = 0) -> tuple:
    """The ``(a, b)`` formats a stream for ``spec`` is made of (a LUT core's weights:
    ``int{b}``; a SimdMac's or MultiFormatMac's: those of its mode ``mode``; a MixPE's
    weights: its :class:`~lowbit.golden.mpgemm.GroupScheme`)."""
    from lowbit.golden import formats as F

    if isinstance(spec, designs.LutCoreSpec):
        return spec.act, F.get(f"int{spec.weight_bits}")
    if isinstance(spec, designs.MultiFormatSpec):
        modes = spec.modes
        if not 0 <= mode < len(modes):
            raise PowerError(f"{spec.name} mode must be 0 to {len(modes) - 1}, not {mode}")
        return modes[mode].fmt, modes[mode].fmt
    if isinstance(spec, designs.SimdMacSpec):
        modes = spec.prototype.modes
        if not 0 <= mode < len(modes):
            raise PowerError(f"{spec.name} mode must be 0 to {len(modes) - 1}, not {mode}")
        return modes[mode].a_fmt, modes[mode].b_fmt
    return spec.a_fmt, spec.b_fmt


def measure(design, stream: str = "gaussian", *, clock_mhz="fmax", liberty=None,
            arrays=None, lanes: int | None = None, k: int | None = None, seed: int = 0,
            mode: int = 0, lane_enable: int | None = None, cache: bool = True,
            cache_dir=None) -> EnergyReport:
    """Energy of ``design`` (a catalogue name or spec) on ``stream`` (a name of
    :data:`~lowbit.reports.operand_streams.STREAMS`, or ``"arrays"`` with ``arrays = (a, b)``:
    a user's GEMM operands, see :func:`~lowbit.reports.operand_streams.from_arrays`).

    ``clock_mhz``: ``"fmax"`` or a frequency in MHz; ``liberty``: a .lib path to synthesize
    onto and price with (else the generic gates and the NanGate FreePDK45 cell data);
    ``lanes``/``k``: independent streams and elements along K (defaults :data:`DEFAULTS`);
    ``mode``: a SimdMac's or MultiFormatMac's mode; ``lane_enable``: a gated MultiFormatMac's
    enabled lanes (a bit mask, default the mode's lanes)."""
    from lowbit.reports import synthesis, timing

    spec = designs.get(design) if isinstance(design, str) else design
    if not isinstance(spec, designs.DesignSpec):
        raise PowerError(f"design must be a catalogue design name or spec, not {design!r}")
    kind = _kind(spec)
    lanes = DEFAULTS[kind][0] if lanes is None else lanes
    k = DEFAULTS[kind][1] if k is None else k
    if isinstance(lanes, bool) or not isinstance(lanes, int) or lanes < 64 or lanes % 64:
        raise PowerError(f"lanes must be a positive multiple of 64, not {lanes!r}")
    clock = _check_clock(clock_mhz)
    formats = stream_formats(spec, mode)
    m, n = lane_tile(spec)
    source = _stream(stream, arrays, formats, k, lanes * m, lanes * n, seed)
    folder = _synthesized(spec, None if liberty is None else str(liberty),
                          None if cache_dir is None else str(cache_dir))
    lib_copy = folder / synthesis.LIBERTY_COPY if liberty is not None else None
    report = timing.time_folder(folder, lib_copy)
    fmax = report.fmax_mhz if report.ffs and report.delay_ps else None
    if clock == "fmax" and fmax is None:
        raise PowerError(f"{spec.name} has no registers, so no Fmax: give clock_mhz")
    freq = fmax if clock == "fmax" else clock
    settings = {"lanes": lanes, "k": source.k, "m": m, "n": n, "seed": seed, "mode": mode,
                "stream_sha256_12": _digest(source)}
    if lane_enable is not None:
        settings["lane_enable"] = lane_enable
    netlist_path = folder / "netlist.json"
    key = hashlib.sha256()
    for part in (netlist_path.read_bytes(), str(ENERGY_VERSION).encode(),
                 json.dumps(settings, sort_keys=True).encode(), stream.encode(),
                 _pricing_fingerprint(lib_copy).encode()):
        key.update(part)
        key.update(b"\0")
    path = folder / f"energy-{key.hexdigest()[:16]}.json"
    start = time.perf_counter()
    stored = _read(path) if cache else None
    if stored is None:
        stored = _simulate(spec, folder, lib_copy, source, lanes, m, n, mode, lane_enable)
        stored["seconds"] = round(time.perf_counter() - start, 3)
        if cache:
            write_atomic(path, json.dumps(stored, indent=1) + "\n")
    energy = DynamicEnergy(**stored["energy"])
    parts = energy.per_operation_pj(freq)
    return EnergyReport(spec.name, stream, stored["operation"], stored["macs_per_operation"],
                        float(freq), "fmax" if clock == "fmax" else "given", fmax,
                        float(spec.peak_macs_per_cycle), parts, energy, stored["technology"],
                        stored["source"], settings, str(path) if cache else "",
                        stored.get("seconds", 0.0))


@functools.lru_cache(maxsize=64)
def _synthesized(spec, liberty, cache_dir) -> Path:
    """The synthesis work folder of ``spec`` (synthesized once per process: exporting a large
    engine's Verilog to find its cache entry takes seconds)."""
    from lowbit.reports import synthesis

    target = "liberty" if liberty is not None else "generic"
    synthesis.synth(spec, [] if liberty is not None else ["generic"], liberty=liberty,
                    cache_dir=cache_dir, timing=False)
    return synthesis.work_folder(spec, target, liberty=liberty, cache_dir=cache_dir)


@functools.lru_cache(maxsize=4)
def _prepared(folder: Path, liberty) -> tuple:
    """``(program, prices)`` of the netlist in ``folder`` (compiled once per process)."""
    from lowbit.reports.netlist import read_netlist

    if liberty is not None:
        from lowbit.reports.liberty import read_liberty
        from lowbit.reports.timing import LibertyKinds

        library = read_liberty(liberty)
        nl = read_netlist(folder, LibertyKinds(library))
        return (activity.compile_netlist(nl, activity.liberty_functions(library, nl)),
                switching_energy.liberty_prices(nl, library))
    nl = read_netlist(folder)
    return activity.compile_netlist(nl), switching_energy.generic_prices(nl)


def _check_clock(clock_mhz):
    if clock_mhz == "fmax":
        return "fmax"
    if isinstance(clock_mhz, bool) or not isinstance(clock_mhz, (int, float)) or \
            not np.isfinite(clock_mhz) or not 0 < clock_mhz <= 1e5:
        raise PowerError(f"clock_mhz must be 'fmax' or a frequency above 0 and at most 1e5 MHz, "
                         f"not {clock_mhz!r}")
    return float(clock_mhz)


def _stream(stream, arrays, formats, k, rows, cols, seed):
    a_fmt, b_fmt = formats
    if arrays is not None:
        if stream != "arrays":
            raise PowerError(f"arrays come with stream 'arrays', not {stream!r}")
        if not isinstance(arrays, (tuple, list)) or len(arrays) != 2:
            raise PowerError("arrays must be a pair (a, b): activations rows x K, weights K x "
                             "cols")
        return operand_streams.from_arrays(*arrays, a_fmt, b_fmt, name="arrays", seed=seed)
    if stream == "arrays":
        raise PowerError("stream 'arrays' needs arrays=(a, b)")
    return operand_streams.stream(stream, a_fmt, b_fmt, k=k, rows=rows, cols=cols, seed=seed)


def _digest(source) -> str:
    h = hashlib.sha256()
    for arr in (source.x, source.w, source.x_scale, source.w_scale):
        if arr is not None:
            h.update(np.ascontiguousarray(arr, np.int64).tobytes())
        h.update(b"\0")
    if source.w_zero is not None:  # zero points: hashed only when present (older digests stay)
        h.update(np.ascontiguousarray(source.w_zero, np.int64).tobytes())
    return h.hexdigest()[:12]


def _pricing_fingerprint(liberty) -> str:
    from lowbit.reports.cell_data import load_cell_data

    if liberty is not None:
        return "liberty:" + hashlib.sha256(Path(liberty).read_bytes()).hexdigest()
    return "cells:" + load_cell_data().sha256


def _read(path):
    try:
        data = json.loads(path.read_text())
        DynamicEnergy(**data["energy"])
        return data
    except (OSError, ValueError, TypeError, KeyError):
        return None  # missing or damaged: measured again


def _simulate(spec, folder, liberty, source, lanes, m, n, mode, lane_enable) -> dict:
    """One simulation: the stored form of its :class:`DynamicEnergy` and labels."""
    program, prices = _prepared(folder, liberty)
    protocol = stimulus.stimulus_for(spec, source.lanes(lanes, m, n), mode=mode,
                                     lane_enable=lane_enable)
    act = activity.simulate(program, protocol.stimulus)
    energy = switching_energy.dynamic_energy(act, prices)
    nets = act.netlist.n_nets
    return {"energy": asdict(energy), "operation": protocol.operation,
            "macs_per_operation": protocol.macs_per_operation,
            "technology": prices.technology, "source": prices.source,
            "toggle_rate": float(act.toggles.sum() / max(1, act.cycles * act.lanes * nets))}


def mac_energy_source(table=None, **settings):
    """The cycle model's energy source (:mod:`lowbit.sim.mac_energy`): the committed table
    (or ``table``), else a measurement of the design on that stream (cached; ``settings``
    go to :func:`measure`); None for a design no stimulus protocol drives."""
    from lowbit.sim.mac_energy import table_source

    from_table = table_source(table)

    def lookup(design: str, stream: str):
        found = from_table(design, stream)
        if found is not None:
            return found
        try:
            return measure(design, stream, **settings).measured_mac()
        except stimulus.StimulusError:
            return None
    lookup.describe = f"{from_table.describe}, else measured on demand (lowbit.reports.power)"
    return lookup


def breakdown_plot(reports, path, title=None, label_key="stream"):
    """An energy breakdown plot: stacked bars of pJ per MAC by part, one bar per report
    (labelled by its ``label_key`` column: the stream, or the design)."""
    from lowbit.reports.plots import stacked_bars

    rows = [r.row() for r in reports]
    title = title or f"{reports[0].design}: energy per MAC by part ({reports[0].technology})"
    return stacked_bars(rows, [[f"{p}_pj_per_mac" for p in PARTS]], ["pJ per MAC"], path,
                        title, label_key=label_key)
