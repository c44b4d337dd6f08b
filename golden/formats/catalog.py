"""Canonical format names: ``get(name)``, the standard ``catalog()`` and ``from_dict``.

Families (any N, E, M, ES, K within each class's limits):

=====================  =============================================================
``int{N}``, ``uint{N}``   two's complement / unsigned integers, N = 1..64
``fixed{I}_{F}``          signed fixed point, I integer bits (sign included), F fraction bits
``ufixed{I}_{F}``         unsigned fixed point
``fp64 fp32 fp16 bf16``   IEEE 754 binary64/32/16 and bfloat16
``fp8_e4m3``              OCP E4M3 ("fn"): bias 7, no Inf, NaN = S.1111.111, max 448
``fp8_e5m2``              OCP E5M2: IEEE-like, bias 15, max 57344
``fp6_e3m2 fp6_e2m3``     OCP MX FP6: no Inf/NaN, max 28 and 7.5
``fp4_e2m1``              OCP MX FP4: no Inf/NaN, max 6
``e8m0``                  MX scale: unsigned, bias 127, 2**-127..2**127, 0xFF = NaN, no zero
``ue4m3``                 unsigned E4M3 (NVFP4 block scales): 7 bits, max 448, 0x7F = NaN
``fp_e{E}m{M}``           IEEE-style generic: bias 2**(E-1)-1, Inf, NaN, subnormals
``fp_e{E}m{M}_b{B}_{S}``  any other FloatFormat, as its ``name`` spells it: bias ``B``,
                          specials ``S`` = ``ieee`` (Inf and NaN), ``fn`` (NaN only) or
                          ``finite``, then ``_ftz``, ``_unsigned``, ``_nozero`` flags
``posit{N}_{ES}``         posit (N, ES), e.g. posit8_0, posit16_1, posit32_2
``mxfp8_e4m3 mxfp8_e5m2 mxfp6_e3m2 mxfp6_e2m3 mxfp4 mxint8``
                          OCP MX v1.0: 32 elements + E8M0 scale, FLOOR rule; append
                          ``_rceil`` for the RCEIL scale rule
``nvfp4``                 E2M1 x16 + UE4M3 scale + FP32 tensor scale (TransformerEngine);
                          ``nvfp4_torchao`` clamps block scales below at 2**-6
``bfp{M}_b{K}``           block floating point: M-bit two's complement mantissas,
                          K per block, shared E8M0 exponent (FLOOR rule)
=====================  =============================================================
"""

import functools
import re

from lowbit.errors import FormatParameterError, UnknownFormatError, did_you_mean
from lowbit.golden.formats.block import BlockFormat
from lowbit.golden.formats.floating import FloatFormat
from lowbit.golden.formats.integer import FixedFormat, IntFormat
from lowbit.golden.formats.posit import PositFormat

FAMILIES = ("int{N}", "uint{N}", "fixed{I}_{F}", "ufixed{I}_{F}", "fp64", "fp32", "fp16",
            "bf16", "fp8_e4m3", "fp8_e5m2", "fp6_e3m2", "fp6_e2m3", "fp4_e2m1", "e8m0", "ue4m3",
            "fp_e{E}m{M}", "posit{N}_{ES}", "mxfp8_e4m3", "mxfp8_e5m2", "mxfp6_e3m2",
            "mxfp6_e2m3", "mxfp4", "mxint8", "mx*_rceil", "nvfp4", "nvfp4_torchao",
            "bfp{M}_b{K}")


def _float(name, e, m, bias=None, **flags):
    return lambda: FloatFormat(e, m, bias, name=name, **flags)


_NAMED = {
    "fp64": _float("fp64", 11, 52),
    "fp32": _float("fp32", 8, 23),
    "fp16": _float("fp16", 5, 10),
    "bf16": _float("bf16", 8, 7),
    "fp8_e4m3": _float("fp8_e4m3", 4, 3, 7, inf=False),
    "fp8_e5m2": _float("fp8_e5m2", 5, 2, 15),
    "fp6_e3m2": _float("fp6_e3m2", 3, 2, 3, inf=False, nan=False),
    "fp6_e2m3": _float("fp6_e2m3", 2, 3, 1, inf=False, nan=False),
    "fp4_e2m1": _float("fp4_e2m1", 2, 1, 1, inf=False, nan=False),
    "e8m0": _float("e8m0", 8, 0, 127, inf=False, subnormals=False, signed=False, zero=False),
    "ue4m3": _float("ue4m3", 4, 3, 7, inf=False, signed=False),
}

_MX_ELEMENTS = {"mxfp8_e4m3": "fp8_e4m3", "mxfp8_e5m2": "fp8_e5m2", "mxfp6_e3m2": "fp6_e3m2",
                "mxfp6_e2m3": "fp6_e2m3", "mxfp4": "fp4_e2m1", "mxint8": None}


def _mx(name, rule):
    base = name[: -len("_rceil")] if rule == "rceil" else name
    element = (FixedFormat(2, 6, name="int8_q6") if _MX_ELEMENTS[base] is None
               else get(_MX_ELEMENTS[base]))
    return BlockFormat(element, 32, get("e8m0"), scale_rule=rule, name=name)


def _nvfp4(name, floor):
    return BlockFormat(get("fp4_e2m1"), 16, get("ue4m3"), scale_rule="nvfp4",
                       scale_floor=floor, name=name)


_PATTERNS = (
    (r"(u?)int(\d+)", lambda m: IntFormat(int(m[2]), signed=not m[1], name=m[0])),
    (r"(u?)fixed(-?\d+)_(-?\d+)",
     lambda m: FixedFormat(int(m[2]), int(m[3]), signed=not m[1], name=m[0])),
    (r"fp_e(\d+)m(\d+)", lambda m: FloatFormat(int(m[1]), int(m[2]), name=m[0])),
    (r"fp_e(\d+)m(\d+)_b(-?\d+)_(ieee|fn|finite)(_ftz)?(_unsigned)?(_nozero)?",
     lambda m: FloatFormat(int(m[1]), int(m[2]), int(m[3]), inf=m[4] == "ieee",
                           nan=m[4] != "finite", subnormals=not m[5], signed=not m[6],
                           zero=not m[7])),
    (r"posit(\d+)_(\d+)", lambda m: PositFormat(int(m[1]), int(m[2]), name=m[0])),
    (r"bfp(\d+)_b(\d+)", lambda m: BlockFormat(
        IntFormat(int(m[1])), int(m[2]), get("e8m0"), name=m[0])),
    (r"(mxfp8_e4m3|mxfp8_e5m2|mxfp6_e3m2|mxfp6_e2m3|mxfp4|mxint8)(_rceil)?",
     lambda m: _mx(m[0], "rceil" if m[2] else "floor")),
    (r"nvfp4", lambda m: _nvfp4("nvfp4", "none")),
    (r"nvfp4_torchao", lambda m: _nvfp4("nvfp4_torchao", "min_normal")),
)


@functools.lru_cache(maxsize=None)
def get(name: str):
    """Return the format with canonical name ``name`` (see the module docstring).

    Raises
    ------
    UnknownFormatError
        If the name matches no format family; the message lists the families.
    FormatParameterError
        If it matches a family with impossible parameters (``int99``, ``posit8_9``).
    """
    if not isinstance(name, str):
        raise UnknownFormatError(f"format name must be a string, not {name!r}")
    key = name.strip().lower()
    if key in _NAMED:
        return _NAMED[key]()
    for pattern, build in _PATTERNS:
        m = re.fullmatch(pattern, key)
        if m:
            try:
                return build(m)
            except FormatParameterError as err:
                raise FormatParameterError(f"format {name!r}: {err}") from None
    raise UnknownFormatError(
        f"unknown format {name!r}; known families: {', '.join(FAMILIES)}"
        f"{did_you_mean(key, _known_names())}"
    )


def _known_names() -> tuple:
    """Every format name spelled out in full (the catalogue, the named and the MX formats)."""
    return (*CATALOG_NAMES, *_NAMED, *_MX_ELEMENTS, *(f"{n}_rceil" for n in _MX_ELEMENTS),
            "nvfp4_torchao")


CATALOG_NAMES = (
    "int2", "int3", "int4", "int6", "int8", "int16", "uint4", "uint8",
    "fp64", "fp32", "fp16", "bf16", "fp8_e4m3", "fp8_e5m2", "fp6_e3m2", "fp6_e2m3", "fp4_e2m1",
    "e8m0", "ue4m3",
    "posit4_1", "posit8_0", "posit8_2", "posit16_1", "posit16_2", "posit32_2",
    "mxfp8_e4m3", "mxfp8_e5m2", "mxfp6_e3m2", "mxfp6_e2m3", "mxfp4", "mxint8", "nvfp4",
    "bfp8_b16", "bfp4_b16",
)
"""The standard catalogue listed by ``lowbit formats`` and studied by ``lowbit demo``."""

SCALE_FORMATS = ("e8m0", "ue4m3")
"""Catalogue formats meant only as block scales (no sign; not used for tensor data)."""


def catalog():
    """Return the standard catalogue of formats, in :data:`CATALOG_NAMES` order."""
    return [get(n) for n in CATALOG_NAMES]


def from_dict(d: dict):
    """Rebuild a format from :meth:`to_dict` output."""
    if not isinstance(d, dict) or "kind" not in d:
        raise FormatParameterError(f"format dict must have a 'kind' key, got {d!r}")
    d = dict(d)
    kind = d.pop("kind")
    classes = {"int": IntFormat, "fixed": FixedFormat, "float": FloatFormat,
               "posit": PositFormat}
    if kind == "block":
        d["element"] = from_dict(d["element"])
        d["scale"] = from_dict(d["scale"])
        return BlockFormat(**d)
    if kind not in classes:
        raise FormatParameterError(
            f"format kind must be one of block, {', '.join(classes)}, not {kind!r}")
    try:
        return classes[kind](**d)
    except TypeError as err:
        raise FormatParameterError(f"format dict for kind {kind!r}: {err}") from None
