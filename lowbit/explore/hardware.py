"""The hardware a design point describes: its MAC design (for area) and its accelerator (for
cycles and energy).

Point axes read here (defaults in :data:`lowbit.explore.axes.AXES`): ``a_fmt`` (activations),
``w_fmt`` (weights, default ``a_fmt``), ``accumulator`` (``int32`` when both element formats
are integers, or for ``lut2`` weights; else ``fp32``), ``engine`` (``systolic``,
``adder_tree`` or ``lut``), ``rows`` x ``cols``, ``dataflow`` (``os``/``ws``/``is``),
``lanes`` (adder tree), ``lut_group``, ``clock_mhz`` and ``dram_gbps``.
"""

from lowbit.errors import LowbitError
from lowbit.explore import axes
from lowbit.explore.axes import LUT_FORMAT
from lowbit.golden import formats


class HardwareMapError(LowbitError, ValueError):
    """A point whose formats have no MAC design or accelerator in lowbit."""


def formats_of(point: dict) -> tuple:
    """``(a_fmt, w_fmt, accumulator)`` names of a point, defaults filled in."""
    a = setting(point, "a_fmt")
    w = point.get("w_fmt", a)
    if "accumulator" in point:
        return a, w, point["accumulator"]
    integer = all(n != LUT_FORMAT and formats.get(n).kind in ("int", "fixed") for n in (a, w))
    return a, w, "int32" if integer or w == LUT_FORMAT else "fp32"


def setting(point: dict, name: str):
    """Axis ``name`` of the point, or its default (:data:`lowbit.explore.axes.AXES`)."""
    return point[name] if name in point else axes.default(name)


def mac_design(point: dict) -> tuple:
    """``(unit, params)`` of the catalogue MAC design (:mod:`lowbit.reports.catalogue`) that
    multiplies the point's formats, and how many multiply-accumulates it does per cycle."""
    a, w, acc = formats_of(point)
    if w == LUT_FORMAT:
        if a != "int8":
            raise HardwareMapError(f"a_fmt for {LUT_FORMAT} weights must be int8, not {a!r}")
        group = setting(point, "lut_group")
        return ("LutTensorCore", {"weight_bits": "2", "group": str(group), "act": a},
                2 * 16 * group // 2)
    fa, fw = formats.get(a), formats.get(w)
    if fa.kind == "block" or fw.kind == "block":
        if a != w:
            raise HardwareMapError(f"a block-format MAC needs a_fmt == w_fmt, not {a} x {w}")
        return "MxDotUnit", {"block": a, "acc": _float_acc(acc)}, fa.block_size
    if fa.kind == "int" and fw.kind == "int":
        if axes.accumulator_kind(acc) != "int":
            raise HardwareMapError(f"an integer MAC needs an int<bits> accumulator, not "
                                   f"{acc!r}")
        return "IntMac", {"a": a, "b": w, "acc_bits": acc[3:]}, 1
    if fa.kind == "float" and fw.kind == "float":
        params = {"a": a, "b": w}
        params |= {"accumulator": "exact"} if acc == "exact" else {"acc": _float_acc(acc)}
        return "FloatMac", params, 1
    if fa.kind == "posit" and a == w:
        return "PositMac", {"fmt": a}, 1
    raise HardwareMapError(f"no MAC design multiplies a_fmt {a} x w_fmt {w} into accumulator "
                           f"{acc} (lowbit has int x int, float x float, posit x the same "
                           f"posit, block x the same block and int8 x lut2 MACs)")


def _float_acc(acc: str) -> str:
    """A float MAC's register format: any float format name (``fp32``, ``fp_e8m10``, ...)."""
    if axes.accumulator_kind(acc) == "float":
        return acc
    raise HardwareMapError(f"a float MAC's accumulator must be a float format (fp32, bf16, "
                           f"fp_e8m10, ...) or exact, not {acc!r}")


def arch_dict(point: dict) -> dict:
    """The :func:`lowbit.sim.hardware.arch_from_dict` description of the point's accelerator."""
    a, w, acc = formats_of(point)
    engine = setting(point, "engine")
    if engine == "lut" and w != LUT_FORMAT:
        raise HardwareMapError(f"engine lut runs {LUT_FORMAT} weights (w_fmt {LUT_FORMAT}), not "
                               f"w_fmt {w}")
    if w == LUT_FORMAT:  # whatever the engine axis says: only a LUT core runs lut2 weights
        spec = {"kind": "lut", "weight_bits": 2, "lut_group": setting(point, "lut_group"),
                "a_fmt": a, "b_fmt": "int2"}
    elif engine == "adder_tree":
        spec = {"kind": "adder_tree", "lanes": setting(point, "lanes"), "a_fmt": a, "b_fmt": w,
                "accumulator": acc}
    else:
        spec = {"kind": engine, "rows": setting(point, "rows"), "cols": setting(point, "cols"),
                "dataflow": setting(point, "dataflow"), "a_fmt": a, "b_fmt": w,
                "accumulator": "exact_fp32" if acc == "exact" else acc}
    return {"name": "sweep point", "clock_mhz": setting(point, "clock_mhz"), "engine": spec,
            "dram": {"dram_gbps": setting(point, "dram_gbps")}}


def arch(point: dict):
    """The point's accelerator as a :class:`lowbit.sim.hardware.ArchConfig` (its errors name
    the point's axis: ``accumulator``, not the engine's ``engine accumulator``)."""
    from lowbit.sim.hardware import arch_from_dict
    try:
        return arch_from_dict(arch_dict(point), "sweep point")
    except LowbitError as err:
        raise HardwareMapError(in_point_terms(str(err))) from None


def in_point_terms(text: str) -> str:
    """A cycle-model message in the point's axis names (``engine b_fmt`` is ``w_fmt``)."""
    for engine_term, axis in (("engine a_fmt/b_fmt", "a_fmt/w_fmt"), ("engine a_fmt", "a_fmt"),
                              ("engine b_fmt", "w_fmt"), ("engine accumulator", "accumulator")):
        text = text.replace(engine_term, axis)
    return text


def engine_macs(point: dict, macs_per_cycle: int) -> int:
    """Peak MACs per cycle of the point's engine as the cycle model counts them: a systolic
    array has rows x cols PEs of the MAC design (an MX PE does a block per cycle), an adder
    tree ``lanes`` multipliers, a LUT core is the design itself."""
    spec = arch_dict(point)["engine"]
    if spec["kind"] == "systolic":
        return spec["rows"] * spec["cols"] * macs_per_cycle
    if spec["kind"] == "adder_tree":
        return spec["lanes"]
    return macs_per_cycle
