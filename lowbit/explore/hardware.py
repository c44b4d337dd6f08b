"""The hardware a design point describes: its MAC design (for area) and its accelerator (for
cycles and energy), both as designs of the catalogue (:mod:`lowbit.hdl.designs`).

Point axes read here (defaults in :data:`lowbit.explore.axes.AXES`): ``a_fmt`` (activations),
``b_fmt`` (weights, default ``a_fmt``), ``accumulator`` (an accumulator name,
:data:`lowbit.golden.accumulators.GRAMMAR`; default ``int32`` when both element formats are
integers, or for ``lut2`` weights; else ``fp32``), ``engine`` (``systolic``, ``adder_tree``,
``lut``, ``matrix`` or ``cube``), ``rows`` x ``cols``, ``dataflow`` (``os``/``ws``/``is``),
``lanes`` (adder tree), ``cube_k`` (cube), ``group_size`` and ``k_step`` (``mixpe``: a
MixPE array, :mod:`lowbit.hdl.mixpe_array`; ``b_fmt`` int1..int4, uint1..uint4 or
``ternary``, the accumulator a float one, default ``fp32``), ``mac_variant`` (``standard`` or ``bitweight``, every
engine but the LUT core), ``stages`` (register stages of each PE's MAC), ``lut_group``,
``clock_mhz`` (MHz, or ``"fmax"``: the MAC design's Fmax, :func:`clock_mhz`) and
``dram_gbps``.
"""

from lowbit.errors import LowbitError
from lowbit.explore import axes
from lowbit.explore.axes import LUT_FORMAT, TERNARY
from lowbit.golden import formats


class HardwareMapError(LowbitError, ValueError):
    """A point whose formats have no MAC design or accelerator in lowbit."""


def formats_of(point: dict) -> tuple:
    """``(a_fmt, b_fmt, accumulator)`` names of a point, defaults filled in."""
    a = setting(point, "a_fmt")
    b = point.get("b_fmt", a)
    if "accumulator" in point:
        return a, b, point["accumulator"]
    if setting(point, "engine") == "mixpe":  # dequantized group terms go into a float register
        return a, b, "fp32"
    integer = all(n != LUT_FORMAT and (n == TERNARY or formats.get(n).kind in ("int", "fixed"))
                  for n in (a, b))
    return a, b, "int32" if integer or b == LUT_FORMAT else "fp32"


def setting(point: dict, name: str):
    """Axis ``name`` of the point, or its default (:data:`lowbit.explore.axes.AXES`)."""
    return point[name] if name in point else axes.default(name)


def engine_dict(point: dict) -> dict:
    """The ``[engine]`` table of the point's accelerator (:class:`lowbit.sim.EngineConfig`
    fields): its kind and size, formats, accumulator and ``pe_stages`` (axis ``stages``)."""
    a, b, acc = formats_of(point)
    engine = setting(point, "engine")
    if engine == "lut" and b != LUT_FORMAT:
        raise HardwareMapError(f"engine lut runs {LUT_FORMAT} weights (b_fmt {LUT_FORMAT}), not "
                               f"b_fmt {b}")
    stages = setting(point, "stages")
    if b == LUT_FORMAT:  # whatever the engine axis says: only a LUT core runs lut2 weights
        if stages != 1:
            raise HardwareMapError(f"stages pipelines a MAC design; the LUT core of b_fmt "
                                   f"{LUT_FORMAT} has none: leave stages 1, not {stages!r}")
        return {"kind": "lut", "weight_bits": 2, "lut_group": setting(point, "lut_group"),
                "a_fmt": a, "b_fmt": "int2", "accumulator": acc}
    common = {"a_fmt": a, "b_fmt": b, "accumulator": acc, "pe_stages": stages,
              "mac_variant": setting(point, "mac_variant")}
    if engine == "adder_tree":
        return {"kind": "adder_tree", "lanes": setting(point, "lanes"), **common}
    if engine == "mixpe":
        return {"kind": "mixpe", "rows": setting(point, "rows"), "cols": setting(point, "cols"),
                "group_size": setting(point, "group_size"), "k_step": setting(point, "k_step"),
                **common}
    if engine == "cube":
        return {"kind": "cube", "rows": setting(point, "rows"), "cols": setting(point, "cols"),
                "cube_k": setting(point, "cube_k"), **common}
    return {"kind": engine, "rows": setting(point, "rows"), "cols": setting(point, "cols"),
            "dataflow": setting(point, "dataflow"), **common}


def arch_dict(point: dict) -> dict:
    """The :func:`lowbit.sim.hardware.arch_from_dict` description of the point's accelerator
    (``clock_mhz`` resolved: :func:`clock_mhz`)."""
    return {"name": "sweep point", "clock_mhz": clock_mhz(point), "engine": engine_dict(point),
            "dram": {"dram_gbps": setting(point, "dram_gbps")}}


def clock_mhz(point: dict) -> float:
    """The point's clock in MHz: axis ``clock_mhz``, or for ``"fmax"`` the Fmax of the point's
    MAC design (:func:`mac_design`; static timing of its generic netlist, synthesized and
    timed once, cached). The engine around the MACs is taken to keep that clock."""
    value = setting(point, "clock_mhz")
    if value != axes.FMAX:
        return value
    from lowbit.reports.pipelining import fmax_mhz
    return fmax_mhz(mac_design(point))


def arch(point: dict):
    """The point's accelerator as a :class:`lowbit.sim.hardware.ArchConfig` (its errors name
    the point's axis: ``accumulator``, not the engine's ``engine accumulator``)."""
    from lowbit.sim.hardware import arch_from_dict
    try:
        return arch_from_dict(arch_dict(point), "sweep point")
    except LowbitError as err:
        raise HardwareMapError(in_point_terms(str(err))) from None


def engine_design(point: dict):
    """The catalogue design of the point's engine (the cycle model's, see
    :func:`lowbit.sim.engine_model.engine_spec`)."""
    from lowbit.sim.engine_model import engine_spec
    from lowbit.sim.hardware import EngineConfig
    try:
        return engine_spec(EngineConfig(**engine_dict(point)))
    except LowbitError as err:
        a, b, acc = formats_of(point)
        raise HardwareMapError(f"a_fmt {a} x b_fmt {b} into accumulator {acc}: "
                               f"{in_point_terms(str(err))}") from None


def mac_design(point: dict):
    """The catalogue design of one processing element of the point's engine (the LUT core
    itself for ``lut2`` weights, at the catalogue's 2 x 16 tile)."""
    import dataclasses

    from lowbit.sim.engine_model import ENERGY_LUT_TILE
    spec = engine_design(point)
    pe = getattr(spec, "pe", None)
    return pe if pe is not None else dataclasses.replace(spec, tile=ENERGY_LUT_TILE)


def in_point_terms(text: str) -> str:
    """A cycle-model message in the point's axis names (``engine accumulator`` is
    ``accumulator``)."""
    for engine_term, axis in (("engine a_fmt", "a_fmt"), ("engine b_fmt", "b_fmt"),
                              ("engine accumulator", "accumulator"),
                              ("engine pe_stages", "stages"),
                              ("engine group_size", "group_size")):
        text = text.replace(engine_term, axis)
    return text
