"""The axes a sweep's stages read: one registry of names, defaults and value rules.

Every axis a design point may carry is here (:data:`AXES`), with its default and the rule
its values obey, taken from the layer that owns it (format names from
:mod:`lowbit.golden.formats`, engine limits from :mod:`lowbit.sim.hardware`, workload presets
from :mod:`lowbit.sim.workloads`). :func:`check_value` checks one value before any point runs
and raises one line naming the axis, the value and what is allowed. Which stage reads which
axis is declared by the stage (:data:`lowbit.explore.evaluate.STAGES`).

``stages`` pipelines the point's MAC design (:mod:`lowbit.hdl.pipeline`; each PE of its
engine), and ``clock_mhz`` may be ``"fmax"``: the MAC design's Fmax, timed from its
synthesized netlist (:mod:`lowbit.reports.pipelining`).

``b_fmt`` defaults to ``a_fmt`` and ``accumulator`` to ``int32`` for integer operands (or
``lut2`` weights) and ``fp32`` otherwise (:func:`lowbit.explore.hardware.formats_of`), so their
default here is ``None``.
"""

from dataclasses import dataclass

from lowbit.errors import LowbitError, check_int, did_you_mean

LUT_FORMAT = "lut2"
"""2-bit offset weights through the LUT GEMM: a ``b_fmt`` value, not a lowbit format."""

TERNARY = "ternary"
"""Weights -1, 0, +1 of a MixPE array (engine ``mixpe``): a ``b_fmt`` value, not a lowbit
format."""

FMAX = "fmax"
"""A ``clock_mhz`` value: the point's MAC design's Fmax (static timing of its generic
netlist, :func:`lowbit.reports.pipelining.fmax_mhz`)."""



class AxisError(LowbitError, ValueError):
    """An axis value its rule does not allow."""


@dataclass(frozen=True)
class Axis:
    """One axis: its name, default (``None``: derived from other axes) and what it means."""

    name: str
    default: object
    meaning: str


def _format(value, allow_lut=False):
    """A lowbit format name (or ``lut2`` where allowed)."""
    from lowbit.golden import formats
    if allow_lut and value == LUT_FORMAT:
        return
    known = [f.name for f in formats.catalog()] + ([LUT_FORMAT] if allow_lut else [])
    if not isinstance(value, str):
        raise AxisError(f"must be a format name (lowbit formats lists them), not {value!r}")
    try:
        formats.get(value)
    except LowbitError as err:
        if "unknown format" not in str(err):  # a family member with an impossible parameter
            raise AxisError(f"{err}") from None
        extra = f" or {LUT_FORMAT}" if allow_lut else ""
        raise AxisError(f"must be a format name (lowbit formats lists them){extra}, not "
                        f"{value!r}{did_you_mean(value, known)}") from None


def _accumulator(name):
    """An accumulator name (:data:`lowbit.golden.accumulators.GRAMMAR`); whether it suits the
    point's formats is checked with them, when the point is evaluated."""
    from lowbit.golden import accumulators
    if name in ("quire", "quire_draft"):  # the quire of the point's posit format
        return
    try:
        accumulators.get(name)
    except LowbitError as err:
        raise AxisError(str(err)) from None


def _engine(field, **values):
    """A value of an engine setting, by the cycle model's own rule."""
    from lowbit.sim.hardware import ArchConfig, DramConfig, EngineConfig
    owner = {"clock_mhz": ArchConfig, "dram_gbps": DramConfig}.get(field, EngineConfig)
    try:
        owner(**values)
    except LowbitError as err:
        raise AxisError(str(err)) from None


def _clock(value):
    """A clock in MHz, by the cycle model's rule, or :data:`FMAX`."""
    try:
        _engine("clock_mhz", clock_mhz=value)
    except AxisError as err:
        rule, _, bad = str(err).removeprefix("arch clock_mhz ").rpartition(", not ")
        raise AxisError(f"{rule} or {FMAX!r}, not {bad}") from None


def _stages(value):
    """Stages of a MAC design: the cycle model's bound; the design's kind checks its own."""
    from lowbit.sim.hardware import MAX_PE_STAGES
    _int(1, MAX_PE_STAGES)(value)


def _workload(value):
    from lowbit.sim.workloads import PRESETS
    if value not in PRESETS:
        raise AxisError(f"must be one of {', '.join(PRESETS)}, not {value!r}"
                        f"{did_you_mean(value, PRESETS)}")


def _stream(value):
    from lowbit.reports.operand_streams import STREAMS
    if value not in STREAMS:
        raise AxisError(f"must be one of {', '.join(STREAMS)}, not {value!r}"
                        f"{did_you_mean(str(value), STREAMS)}")


def _clock(value):
    if value == "fmax":
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= 1e5:
        raise AxisError(f"must be fmax or a frequency above 0 and at most 1e5 MHz, not "
                        f"{value!r}")


def _bool(value):
    if not isinstance(value, bool):
        raise AxisError(f"must be true or false, not {value!r}")


def _int(low, high):
    def check(value):
        try:
            check_int("value", value, low, high, AxisError)
        except AxisError as err:
            raise AxisError(str(err).removeprefix("value ")) from None
    return check


AXES = {a.name: a for a in (
    Axis("a_fmt", "int8", "activation format"),
    Axis("b_fmt", None, "weight format, or lut2 (default: a_fmt)"),
    Axis("accumulator", None, "the MAC's accumulator (default: int32 for integers, else fp32)"),
    Axis("k", 512, "GEMM depth of the quality stage"),
    Axis("tokens", 32, "GEMM rows (tokens) of the quality stage"),
    Axis("n", 32, "GEMM columns of the quality stage"),
    Axis("seed", 0, "seed of the quality stage's tensors"),
    Axis("engine", "systolic", "accelerator engine: systolic, adder_tree, lut, matrix, cube or "
                               "mixpe"),
    Axis("rows", 16, "array rows (systolic, matrix; cube output rows)"),
    Axis("cols", 16, "array columns (systolic, matrix; cube output columns)"),
    Axis("dataflow", "os", "systolic dataflow"),
    Axis("lanes", 16, "adder-tree lanes"),
    Axis("lut_group", 4, "activations per LUT group"),
    Axis("cube_k", 4, "products per output per cycle of a cube engine"),
    Axis("mac_variant", "standard", "MACs of the engine: standard (multipliers) or bitweight "
                                    "(carry-save partial products, integer operands)"),
    Axis("group_size", 128, "rows of K per weight quantization group (engine mixpe)"),
    Axis("k_step", 4, "products per MixPE per cycle (engine mixpe)"),
    Axis("stages", 1, "register stages of the MAC design (each PE of an engine)"),
    Axis("clock_mhz", 1000, f"engine clock (MHz), or {FMAX!r}: the MAC design's Fmax from its "
                            f"timed netlist"),
    Axis("dram_gbps", 102.4, "DRAM bandwidth (GB/s)"),
    Axis("workload", "llama2-7b-decode", "the cycle model's workload preset"),
    Axis("batch", 1, "workload batch (tokens per step for decode)"),
    Axis("context", 512, "cached tokens of a decode step"),
    Axis("attention", True, "False keeps the weight GEMMs only (as a LUT engine runs)"),
    Axis("energy_stream", "gaussian", "operand stream the MAC energy is measured on"),
    Axis("energy_clock_mhz", "fmax", "clock of the energy stage's leakage: fmax or MHz"),
)}

_RULES = {
    "a_fmt": _format,
    "b_fmt": lambda v: None if v == TERNARY else _format(v, allow_lut=True),
    "accumulator": _accumulator,
    # Quality-stage tensor sizes: bounded so a point stays seconds, not hours, of golden GEMM.
    "k": _int(1, 1 << 16),
    "tokens": _int(1, 4096),
    "n": _int(1, 4096),
    "seed": _int(0, (1 << 32) - 1),
    "engine": lambda v: _engine("kind", kind=v),
    "rows": lambda v: _engine("rows", rows=v),
    "cols": lambda v: _engine("cols", cols=v),
    "dataflow": lambda v: _engine("dataflow", dataflow=v),
    "lanes": lambda v: _engine("lanes", lanes=v),
    "lut_group": lambda v: _engine("lut_group", lut_group=v),
    "cube_k": lambda v: _engine("cube_k", cube_k=v),
    "mac_variant": lambda v: _engine("mac_variant", mac_variant=v),
    "group_size": lambda v: _engine("group_size", group_size=v),
    "k_step": lambda v: _engine("k_step", k_step=v),
    "stages": _stages,
    "clock_mhz": lambda v: None if v == FMAX else _clock(v),
    "dram_gbps": lambda v: _engine("dram_gbps", dram_gbps=v),
    "workload": _workload,
    # llama2-7b-decode's own limits (lowbit.sim.workloads).
    "batch": _int(1, 4096),
    "context": _int(1, 1 << 20),
    "attention": _bool,
    "energy_stream": _stream,
    "energy_clock_mhz": _clock,
}


def default(name: str):
    """The default of axis ``name`` (:data:`AXES`)."""
    return AXES[name].default


def check_value(name: str, value):
    """Raise :class:`AxisError` (``axis <name>: ...``) if ``value`` breaks axis ``name``'s
    rule; axes not in :data:`AXES` (declared by the user) take any value."""
    rule = _RULES.get(name)
    if rule is None:
        return
    try:
        rule(value)
    except AxisError as err:
        text = str(err)
        sep = " " if text.startswith("must ") else ": "
        raise AxisError(f"axis {name}{sep}{text}") from None
