"""The hardware a design point describes: its MAC design (for area) and its accelerator (for
cycles and energy).

Point axes read here, with defaults: ``a_fmt`` (activations, ``int8``), ``w_fmt`` (weights,
``a_fmt``), ``accumulator`` (``int32`` when both element formats are integers, or for ``lut2``
weights; else ``fp32``), ``engine``
(``systolic``, ``adder_tree`` or ``lut``), ``rows`` x ``cols`` (16 x 16), ``dataflow``
(``os``/``ws``), ``lanes`` (adder tree, 16), ``lut_group`` (4), ``clock_mhz`` (1000) and
``dram_gbps`` (102.4).
"""

from lowbit.errors import LowbitError
from lowbit.explore.quality import LUT_FORMAT
from lowbit.golden import formats

DEFAULTS = {"engine": "systolic", "rows": 16, "cols": 16, "dataflow": "os", "lanes": 16,
            "lut_group": 4, "clock_mhz": 1000, "dram_gbps": 102.4}


class HardwareMapError(LowbitError, ValueError):
    """A point whose formats have no MAC design or accelerator in lowbit."""


def formats_of(point: dict) -> tuple:
    """``(a_fmt, w_fmt, accumulator)`` names of a point, defaults filled in."""
    a = point.get("a_fmt", "int8")
    w = point.get("w_fmt", a)
    if "accumulator" in point:
        return a, w, point["accumulator"]
    integer = all(n != LUT_FORMAT and formats.get(n).kind in ("int", "fixed") for n in (a, w))
    return a, w, "int32" if integer or w == LUT_FORMAT else "fp32"


def setting(point: dict, name: str):
    """Axis ``name`` of the point, or its default (:data:`DEFAULTS`)."""
    return point.get(name, DEFAULTS[name])


def mac_design(point: dict) -> tuple:
    """``(unit, params)`` of the catalogue MAC design (:mod:`lowbit.reports.catalogue`) that
    multiplies the point's formats, and how many multiply-accumulates it does per cycle."""
    a, w, acc = formats_of(point)
    if w == LUT_FORMAT:
        group = setting(point, "lut_group")
        return ("LutTensorCore", {"weight_bits": "2", "group": str(group), "act": a},
                2 * 16 * group // 2)
    fa, fw = formats.get(a), formats.get(w)
    if fa.kind == "block" or fw.kind == "block":
        if a != w:
            raise HardwareMapError(f"a block-format MAC needs a_fmt == w_fmt, not {a} x {w}")
        return "MxDotUnit", {"block": a, "acc": _float_acc(acc)}, fa.block_size
    if fa.kind == "int" and fw.kind == "int":
        bits = int(acc[3:]) if acc.startswith("int") and acc[3:].isdigit() else None
        if bits is None:
            raise HardwareMapError(f"an integer MAC needs an int<bits> accumulator, not {acc!r}")
        return "IntMac", {"a": a, "b": w, "acc_bits": str(bits)}, 1
    if fa.kind == "float" and fw.kind == "float":
        params = {"a": a, "b": w}
        params |= {"accumulator": "exact"} if acc == "exact" else {"acc": _float_acc(acc)}
        return "FloatMac", params, 1
    if fa.kind == "posit" and a == w:
        return "PositMac", {"fmt": a}, 1
    raise HardwareMapError(f"no MAC design multiplies {a} x {w} into {acc}")


def _float_acc(acc: str) -> str:
    """A float MAC's register format: any float format name (``fp32``, ``fp_e8m10``, ...)."""
    try:
        if formats.get(acc).kind == "float":
            return acc
    except LowbitError:
        pass
    raise HardwareMapError(f"a float MAC accumulates into a float format (fp32, bf16, "
                           f"fp_e8m10, ...) or exact, not {acc!r}")


def arch_dict(point: dict) -> dict:
    """The :func:`lowbit.sim.hardware.arch_from_dict` description of the point's accelerator."""
    a, w, acc = formats_of(point)
    engine = setting(point, "engine")
    if w == LUT_FORMAT:
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
