"""Energy constants of the cycle model, read from one TOML data file that names its sources.

The default file is ``sim/data/energy_45nm.toml`` (Horowitz, ISSCC 2014, 45 nm anchors). A user
replaces it with :func:`load_energy` ``(path)``; every constant must be a table
``{ value = <pJ, above 0>, source = "<where it comes from>" }`` whose key ends in ``_pj``, so
every number in an energy result traces to a line of the file.

The cycle model prices SRAM and DRAM with these constants; compute is measured on each
engine's own netlist (:mod:`lowbit.sim.mac_energy`). The arithmetic anchors stay in the file as
the published reference the measured MAC energies are compared with (the calibration table,
:mod:`lowbit.reports.energy_calibration`).
"""

import math
import tomllib
from dataclasses import dataclass
from pathlib import Path

from lowbit.errors import LowbitError

DEFAULT_FILE = Path(__file__).with_name("data") / "energy_45nm.toml"
#: Anchors a replacement file must define.
REQUIRED = ("int8_add_pj", "int8_mul_pj", "int32_add_pj", "int32_mul_pj", "fp16_add_pj",
            "fp16_mul_pj", "fp32_add_pj", "fp32_mul_pj", "sram_read_64b_8kib_pj",
            "dram_access_64b_low_pj", "dram_access_64b_high_pj")


class EnergyDataError(LowbitError, ValueError):
    """An energy data file that is missing, malformed or has a constant without a source."""


@dataclass(frozen=True)
class EnergyConstant:
    """One constant: ``value`` in pJ and the ``source`` it is taken from."""

    key: str
    value: float
    source: str


@dataclass(frozen=True)
class EnergyData:
    """The constants of one file, by key, with the file's technology and reference."""

    path: Path
    technology: str
    reference: str
    constants: dict

    def pj(self, key: str) -> float:
        """The value of constant ``key`` in pJ."""
        if key not in self.constants:
            raise EnergyDataError(f"{self.path.name} has no energy constant {key!r}; it has "
                                  f"{', '.join(self.constants)}")
        return self.constants[key].value


def load_energy(path=None) -> EnergyData:
    """Read and check an energy data file (default: :data:`DEFAULT_FILE`)."""
    path = Path(path) if path is not None else DEFAULT_FILE
    if not path.is_file():
        raise EnergyDataError(f"energy data file {str(path)!r} does not exist")
    try:
        data = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as err:
        raise EnergyDataError(f"{path.name} is not valid TOML: {err}") from None
    meta, anchors = data.get("meta", {}), data.get("anchors")
    if not isinstance(anchors, dict):
        raise EnergyDataError(f"{path.name} needs an [anchors] table of constants")
    constants = {}
    for key, entry in anchors.items():
        where = f"{path.name} anchors.{key}"
        if not key.endswith("_pj"):
            raise EnergyDataError(f"{where}: constant names end in _pj (the unit), not {key!r}")
        if not isinstance(entry, dict) or set(entry) != {"value", "source"}:
            raise EnergyDataError(f"{where} must be {{ value = <pJ>, source = \"...\" }}, not "
                                  f"{entry!r}")
        value, source = entry["value"], entry["source"]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or \
                not math.isfinite(value) or value <= 0:
            raise EnergyDataError(f"{where} value must be a number of pJ above 0, not {value!r}")
        if not isinstance(source, str) or not source.strip():
            raise EnergyDataError(f"{where} source must name where the value comes from")
        constants[key] = EnergyConstant(key, float(value), source)
    missing = [k for k in REQUIRED if k not in constants]
    if missing:
        raise EnergyDataError(f"{path.name} lacks energy constants {', '.join(missing)}")
    if "mac_area" in data:
        raise EnergyDataError(f"{path.name} has a [mac_area] table: MAC energy is measured on "
                              f"each design's netlist now (lowbit.sim.mac_energy); remove it")
    return EnergyData(path, str(meta.get("technology", "")), str(meta.get("reference", "")),
                      constants)
