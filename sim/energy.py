"""Energy constants of the cycle model, read from one TOML data file that names its sources.

The default file is ``sim/data/energy_45nm.toml`` (Horowitz, ISSCC 2014, 45 nm anchors). A user
replaces it with :func:`load_energy` ``(path)``; every constant must be a table
``{ value = <pJ, above 0>, source = "<where it comes from>" }`` whose key ends in ``_pj``, so
every number in an energy result traces to a line of the file.

A ``[mac_area]`` table prices MACs per design: ``<design name> = { area_ge, macs_per_cycle,
source }``, keyed by the MAC design's canonical name (:mod:`lowbit.hdl.designs`).
:meth:`EnergyData.mac_pj` scales the int8 anchor (``int8_mul_pj + int32_add_pj``, an int8 MAC
into an int32 register) by the design's gate-equivalent area per MAC over that of
``intmac_int8xint8_int32``: energy per operation taken as proportional to the switched area.
"""

import math
import tomllib
from dataclasses import dataclass
from pathlib import Path

from lowbit.errors import LowbitError

DEFAULT_FILE = Path(__file__).with_name("data") / "energy_45nm.toml"
#: Anchors the model needs; a replacement file must define each of them.
INT8_MAC_KEY = "intmac_int8xint8_int32"
#: The ``[mac_area]`` entry other MACs are scaled against.
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
    mac_area: dict = None

    def mac_pj(self, key: str) -> float:
        """Energy of one multiply-accumulate of MAC design ``key`` (``[mac_area]``), in pJ."""
        if key not in self.mac_area:
            raise EnergyDataError(f"{self.path.name} has no [mac_area] entry {key!r} to price "
                                  f"this engine's MACs; it has {', '.join(self.mac_area)}")
        anchor = self.pj("int8_mul_pj") + self.pj("int32_add_pj")
        ref, entry = self.mac_area[INT8_MAC_KEY], self.mac_area[key]
        return anchor * (entry["area_ge"] / entry["macs_per_cycle"]) / (
            ref["area_ge"] / ref["macs_per_cycle"])

    def add_pj(self, bits: int) -> float:
        """Energy of one ``bits``-wide integer add: ``int8_add_pj`` scaled by ``bits / 8``."""
        return self.pj("int8_add_pj") * bits / 8

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
    return EnergyData(path, str(meta.get("technology", "")), str(meta.get("reference", "")),
                      constants, _mac_area(path, data.get("mac_area", {})))


_MAC_FIELDS = {"area_ge", "macs_per_cycle", "source"}


def _mac_area(path, table) -> dict:
    """Check the ``[mac_area]`` table: every entry complete, areas and rates above 0."""
    if not isinstance(table, dict) or INT8_MAC_KEY not in table:
        raise EnergyDataError(f"{path.name} needs a [mac_area] table with {INT8_MAC_KEY!r}, the "
                              f"entry other MACs are scaled against")
    for key, entry in table.items():
        where = f"{path.name} mac_area.{key}"
        if not isinstance(entry, dict) or set(entry) != _MAC_FIELDS:
            raise EnergyDataError(f"{where} must have exactly {', '.join(sorted(_MAC_FIELDS))}, "
                                  f"not {entry!r}")
        for name in ("area_ge", "macs_per_cycle"):
            v = entry[name]
            if isinstance(v, bool) or not isinstance(v, (int, float)) or \
                    not math.isfinite(v) or v <= 0:
                raise EnergyDataError(f"{where} {name} must be a number above 0, not {v!r}")
        if not isinstance(entry["source"], str) or not entry["source"].strip():
            raise EnergyDataError(f"{where} source must name where the value comes from")
    return dict(table)
