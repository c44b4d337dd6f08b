"""What ``lowbit synth`` synthesizes by name: designs of the catalogue as Verilog.

A design comes from the design catalogue (:mod:`lowbit.hdl.designs`), by its canonical name
(``build_design("floatmac_fp4_e2m1xfp4_e2m1_fp32")``) or as a unit kind with text parameters
over its defaults (``build_design("FloatMac", {"a": "fp4_e2m1", "b": "fp4_e2m1"})``, which is
``--param a=fp4_e2m1 --param b=fp4_e2m1`` on the command line). Either way the result is a
:class:`~lowbit.reports.synthesis.Design` whose name, and Verilog module name, is the design's
canonical name, so synthesis rows and the committed baselines are keyed by it.

The standard catalogue (``lowbit synth --all``, the baselines) is
:func:`lowbit.hdl.designs.standard`.
"""

from lowbit.errors import LowbitError
from lowbit.hdl import designs
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
    """The synthesis :class:`Design` of a catalogue spec (module name: its canonical name)."""
    fields = {k: v for k, v in spec.to_dict().items() if k not in ("design", "kind", "unit")}
    params = {k: (v["design"] if isinstance(v, dict) else
                  "x".join(map(str, v)) if k == "tile" else
                  ",".join(map(str, v)) if isinstance(v, list) else v)
              for k, v in fields.items() if v is not None}
    return design_from_component(spec.build(), spec.name, spec.unit, params)


def build_design(name: str, params: dict | None = None) -> Design:
    """The synthesis Design of a design name, or of a unit kind with text ``params``."""
    return design_of(spec_of(name, params))


def standard_names() -> list:
    """Design names of the standard catalogue, without building anything."""
    return list(designs.standard_names())


def standard_designs(select=None) -> list:
    """Designs of the standard catalogue (or of the design names in ``select``)."""
    return [build_design(n) for n in (designs.standard_names() if select is None else select)]
