"""Pipelining to a clock: the fewest register stages of a catalogue design that meet a target
clock, by the static timing of its synthesized netlist.

:func:`stages_for_clock` is :func:`lowbit.hdl.pipeline.stages_for` with the timing model of
:mod:`lowbit.reports.timing` as its delay: each stage count's design (the spec with
``stages=S``) is synthesized for the generic target (NanGate FreePDK45 X1 cell delays), or
for a user's ``liberty`` cells (that library's NLDM tables), and its critical path (flop to
flop, I/O registered) is compared with the clock period. Stage counts are tried from 1 up, so
a clock the one-cycle unit meets synthesizes nothing more. Synthesis and timing are cached on
disk by Verilog text (:mod:`lowbit.reports.synthesis`, ``timing-<key>.json``), and a design's
timing within one process by its name (:func:`timed`).

Pipelined designs are the MAC units with a ``stages`` field (IntMac, FloatMac, PositMac,
MxDotUnit); engines take a pipelined PE by name (``systolic4x4_os_intmac_int8xint8_int32_s2``).
"""

import dataclasses
import functools
from pathlib import Path

from lowbit.errors import LowbitError
from lowbit.hdl import designs
from lowbit.hdl.pipeline import max_stages, stages_for
from lowbit.reports import timing


class PipeliningError(LowbitError, ValueError):
    """A design without stages, an unreachable clock, a clock that is not a positive number."""


def _spec(design):
    """The catalogue spec of a spec or a design name."""
    return design if isinstance(design, designs.DesignSpec) else designs.get(design)


def _pipelined(spec):
    """``spec`` checked to have a ``stages`` field."""
    if "stages" not in {f.name for f in dataclasses.fields(spec)}:
        units = ", ".join(cls.unit for cls, _ in designs.KINDS.values()
                          if "stages" in {f.name for f in dataclasses.fields(cls)})
        raise PipeliningError(f"design {spec.name} ({spec.unit}) has no stages: the units "
                              f"pipelined to a clock are {units}")
    return spec


def with_stages(design, stages: int):
    """The design (a spec or a name) with ``stages`` register stages (its own errors name the
    unit, the value and the allowed range)."""
    spec = _pipelined(_spec(design))
    return dataclasses.replace(spec, stages=stages)


def timed(design, *, liberty=None, cache_dir=None) -> timing.TimingReport:
    """The :class:`~lowbit.reports.timing.TimingReport` of a catalogue design (a spec or a
    name), synthesized for the generic target or for ``liberty`` (cached)."""
    spec = _spec(design)
    return _timed(spec.name, None if liberty is None else str(Path(liberty).resolve()),
                  None if cache_dir is None else str(cache_dir))


@functools.lru_cache(maxsize=256)
def _timed(name, liberty, cache_dir):
    from lowbit.reports.catalogue import design_of  # Verilog cached by name

    return timing.time_design(design_of(designs.get(name)), liberty, cache_dir=cache_dir)


def fmax_mhz(design, *, liberty=None, cache_dir=None) -> float:
    """Fmax in MHz of a catalogue design (a spec or a name): ``1e6 / delay_ps`` of its
    registered critical path."""
    return timed(design, liberty=liberty, cache_dir=cache_dir).fmax_mhz


def stages_for_clock(design, clock_mhz, *, liberty=None, cache_dir=None) -> int:
    """The fewest register stages with which ``design`` (a spec or a name with a ``stages``
    field; its own stage count is ignored) meets a clock of ``clock_mhz`` MHz.

    Raises :class:`PipeliningError` naming the design and the clock when no stage count
    meets it (the accumulator loop, which no cut shortens, bounds the clock), or when
    ``clock_mhz`` is not a positive number; a ``liberty`` without delay tables raises
    :class:`~lowbit.reports.timing.TimingError`.
    """
    spec = _pipelined(_spec(design))
    base = dataclasses.replace(spec, stages=1)
    try:
        return stages_for(lambda s: dataclasses.replace(base, stages=s), clock_mhz,
                          lambda d: timed(d, liberty=liberty, cache_dir=cache_dir).delay_ps)
    except timing.TimingError:
        raise
    except LowbitError as err:
        raise PipeliningError(f"{base.name}: {err}") from None


def at_clock(design, clock_mhz, *, liberty=None, cache_dir=None):
    """``design`` with :func:`stages_for_clock` stages: the spec that meets ``clock_mhz``."""
    spec = _pipelined(_spec(design))
    return dataclasses.replace(spec, stages=stages_for_clock(spec, clock_mhz, liberty=liberty,
                                                             cache_dir=cache_dir))


def stage_range(design) -> range:
    """Every stage count the design's kind takes: ``range(1, max + 1)``."""
    spec = _pipelined(_spec(design))
    return range(1, max_stages(dataclasses.replace(spec, stages=1).prototype) + 1)
