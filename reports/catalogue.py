"""What ``lowbit synth`` synthesizes by name: designs of the catalogue as Verilog.

A design comes from the design catalogue (:mod:`lowbit.hdl.designs`), by its canonical name
(``build_design("floatmac_fp4_e2m1xfp4_e2m1_fp32")``) or as a unit kind with text parameters
over its defaults (``build_design("FloatMac", {"a": "fp4_e2m1", "b": "fp4_e2m1"})``, which is
``--param a=fp4_e2m1 --param b=fp4_e2m1`` on the command line). Either way the result is a
:class:`~lowbit.reports.synthesis.Design` whose name, and Verilog module name, is the design's
canonical name, so synthesis rows and the committed baselines are keyed by it.

The standard catalogue (``lowbit synth --all``, the baselines) is
:func:`lowbit.hdl.designs.standard`.

A design's Verilog is cached under ``<build>/verilog/<name>-<key>.v``, ``key`` hashing every
source file of the generators (``lowbit.hdl``, ``lowbit.golden``) and the Amaranth version:
any change to the generators makes new text, and a design asked for again (the timing
studies, a sweep's area stage) skips Amaranth's elaboration and export (seconds for an MX dot
unit).
"""

import functools
import hashlib
from importlib.metadata import version
from pathlib import Path

from lowbit.errors import LowbitError
from lowbit.hdl import designs
from lowbit.paths import build_dir, write_atomic
from lowbit.reports.synthesis import Design, design_from_component


class CatalogueError(LowbitError, ValueError):
    """An unknown design or unit, an unknown parameter or a value that does not parse."""


def spec_of(name: str, params: dict | None = None):
    """The catalogue spec a command line names: a design name, or a unit kind with text
    ``params`` over its defaults (a design name takes no ``params``)."""
    params = {k: str(v) for k, v in (params or {}).items()}
    units = {cls.unit.lower() for cls, _ in designs.KINDS.values()} | set(designs.KINDS)
    try:
        if str(name).lower() in units:
            return designs.of_kind(name, **params)
        if params:
            raise CatalogueError(f"--param applies to a unit kind (FloatMac, SystolicArray, "
                                 f"...), not to the design name {name!r}")
        return designs.get(name)
    except CatalogueError:
        raise
    except LowbitError as err:
        raise CatalogueError(str(err)) from None


def design_of(spec) -> Design:
    """The synthesis :class:`Design` of a catalogue spec (module name: its canonical name),
    its Verilog cached (module docstring)."""
    fields = {k: v for k, v in spec.to_dict().items() if k not in ("design", "kind", "unit")}
    params = {k: (v["design"] if isinstance(v, dict) else
                  "x".join(map(str, v)) if k == "tile" else
                  ",".join(map(str, v)) if isinstance(v, list) else v)
              for k, v in fields.items() if v is not None}
    path = build_dir() / "verilog" / f"{spec.name}-{generators_key()}.v"
    if path.is_file():
        return Design(spec.name, path.read_text(), spec.name, spec.unit, params)
    design = design_from_component(spec.build(), spec.name, spec.unit, params)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, design.verilog)
    except OSError:
        pass  # a cache that cannot be written costs time, never a result
    return design


@functools.lru_cache(maxsize=1)
def generators_key() -> str:
    """16 hex digits of SHA-256 over the generators' sources (``lowbit.hdl``,
    ``lowbit.golden``: every ``.py`` file, by relative path) and the Amaranth version."""
    import lowbit.golden
    import lowbit.hdl

    h = hashlib.sha256(version("amaranth").encode())
    for package in (lowbit.hdl, lowbit.golden):
        root = Path(package.__file__).parent
        for f in sorted(root.rglob("*.py")):
            h.update(str(f.relative_to(root)).encode() + b"\0" + f.read_bytes() + b"\0")
    return h.hexdigest()[:16]


def build_design(name: str, params: dict | None = None) -> Design:
    """The synthesis Design of a design name, or of a unit kind with text ``params``."""
    return design_of(spec_of(name, params))


def standard_names() -> list:
    """Design names of the standard catalogue, without building anything."""
    return list(designs.standard_names())


def standard_designs(select=None) -> list:
    """Designs of the standard catalogue (or of the design names in ``select``)."""
    return [build_design(n) for n in (designs.standard_names() if select is None else select)]
