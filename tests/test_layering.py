"""The layering of docs/architecture.md, floor by floor: a module imports only from its own
floor and the floors below it.

=======  ======================================================  ==========================
floor    modules                                                 may import (lowbit)
=======  ======================================================  ==========================
ground   ``lowbit.errors``, ``paths``, ``state_files``,          the ground floor (errors:
         ``tool_runs``                                           nothing)
golden   ``golden/`` (``lowbit.golden``)                         ground
hdl      ``hdl/`` (``lowbit.hdl``, the design catalogue)         golden
verify   ``verify/`` (``lowbit.verify``)                         hdl, golden
sim      ``sim/`` (``lowbit.sim``)                               hdl, golden
reports  ``reports/`` (``lowbit.reports``)                       sim, hdl, golden
top      ``lowbit.cli``, ``explore``, ``demo``, ``format_study``,  everything
         ``terminal``
=======  ======================================================  ==========================

Every floor may use the ground floor. ``lowbit/`` holds the ground floor and the top floor
side by side; every module in it is one or the other (a test says which), so the folder loop
is only apparent. Third-party imports of golden/ are limited to NumPy.
"""

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
GROUND = {"lowbit.errors", "lowbit.paths", "lowbit.state_files", "lowbit.tool_runs"}
TOP = {"lowbit.cli", "lowbit.explore", "lowbit.demo", "lowbit.format_study", "lowbit.terminal"}
ALLOWED = {
    "golden": {"lowbit.golden"},
    "hdl": {"lowbit.golden", "lowbit.hdl"},
    "verify": {"lowbit.golden", "lowbit.hdl", "lowbit.verify"},
    "sim": {"lowbit.golden", "lowbit.hdl", "lowbit.sim"},
    "reports": {"lowbit.golden", "lowbit.hdl", "lowbit.sim", "lowbit.reports"},
}
THIRD_PARTY = {"golden": {"numpy"}}
STDLIB_OK = set(sys.stdlib_module_names)


def _imports(path):
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            yield from (a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module


def _within(name, packages) -> bool:
    return any(name == p or name.startswith(p + ".") for p in packages)


@pytest.mark.parametrize("folder", sorted(ALLOWED))
def test_folder_imports_follow_the_layering(folder):
    bad = []
    for path in sorted((ROOT / folder).rglob("*.py")):
        for name in _imports(path):
            top = name.split(".")[0]
            if top == "lowbit":
                ok = name in GROUND or _within(name, ALLOWED[folder])
            elif folder in THIRD_PARTY:
                ok = top in THIRD_PARTY[folder] or top in STDLIB_OK
            else:
                ok = True
            if not ok:
                bad.append(f"{path.relative_to(ROOT)} imports {name}")
    assert not bad, "\n".join(bad)


def test_every_module_of_the_lowbit_folder_is_ground_or_top_floor():
    names = {f"lowbit.{p.stem}" for p in (ROOT / "lowbit").glob("*.py") if p.stem != "__init__"}
    names |= {f"lowbit.{p.name}" for p in (ROOT / "lowbit").iterdir()
              if p.is_dir() and (p / "__init__.py").exists()}
    assert names == GROUND | TOP, "classify new modules of lowbit/ in tests/test_layering.py"


@pytest.mark.parametrize("module", sorted(GROUND))
def test_the_ground_floor_imports_only_the_ground_floor(module):
    path = ROOT / "lowbit" / (module.split(".")[1] + ".py")
    assert not [n for n in _imports(path) if n.split(".")[0] == "lowbit" and n not in GROUND]


def test_errors_imports_nothing_of_lowbit():
    """The error family sits below every other ground module (no import cycle is possible)."""
    assert not [n for n in _imports(ROOT / "lowbit" / "errors.py") if n.split(".")[0] == "lowbit"]


def test_the_package_root_imports_no_floor():
    """``import lowbit`` is the version only: importing a ground module never drags in the
    top floor through ``lowbit/__init__.py``."""
    assert not [n for n in _imports(ROOT / "lowbit" / "__init__.py")
                if n.split(".")[0] == "lowbit"]


def test_no_utils_modules():
    names = {p.name for p in ROOT.rglob("*.py")
             if not {".venv", "build"} & set(p.relative_to(ROOT).parts)}
    assert not names & {"utils.py", "helpers.py", "util.py", "misc.py"}


def test_fraction_oracle_imports_no_lowbit():
    """The shared exact oracle of the golden tests checks lowbit's golden code: it must not be
    built from it."""
    path = ROOT / "tests" / "golden" / "fraction_oracle.py"
    assert not [n for n in _imports(path) if n.split(".")[0] in ("lowbit", "golden")]
