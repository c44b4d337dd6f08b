"""The package layering of design.md: each folder imports only what its row allows.

``lowbit.errors``, ``lowbit.paths`` and ``lowbit.state_files`` are leaf modules (they import no
lowbit code but each other) that every layer may use. Third-party imports of golden/ are
limited to NumPy.
"""

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LEAVES = {"lowbit.errors", "lowbit.paths", "lowbit.state_files"}
ALLOWED = {
    "golden": {"lowbit.golden"},
    "hdl": {"lowbit.golden", "lowbit.hdl"},
    "verify": {"lowbit.golden", "lowbit.hdl", "lowbit.verify"},
    "reports": {"lowbit.golden", "lowbit.hdl", "lowbit.sim", "lowbit.reports"},
    "sim": {"lowbit.golden", "lowbit.hdl", "lowbit.sim"},
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


@pytest.mark.parametrize("folder", sorted(ALLOWED))
def test_folder_imports_follow_the_layering(folder):
    bad = []
    for path in sorted((ROOT / folder).rglob("*.py")):
        for name in _imports(path):
            top = name.split(".")[0]
            if top == "lowbit":
                ok = name in LEAVES or any(name == a or name.startswith(a + ".")
                                           for a in ALLOWED[folder]) or name == "lowbit"
            elif folder in THIRD_PARTY:
                ok = top in THIRD_PARTY[folder] or top in STDLIB_OK
            else:
                ok = True
            if not ok:
                bad.append(f"{path.relative_to(ROOT)} imports {name}")
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize("leaf", sorted(LEAVES))
def test_leaf_modules_import_only_leaf_modules(leaf):
    path = ROOT / "lowbit" / (leaf.split(".")[1] + ".py")
    assert not [n for n in _imports(path) if n.split(".")[0] == "lowbit" and n not in LEAVES]


def test_leaf_errors_imports_nothing_of_lowbit():
    """The error family sits below every other leaf (no import cycle is possible)."""
    assert not [n for n in _imports(ROOT / "lowbit" / "errors.py") if n.split(".")[0] == "lowbit"]


def test_no_utils_modules():
    names = {p.name for p in ROOT.rglob("*.py")
             if not {".venv", "build"} & set(p.relative_to(ROOT).parts)}
    assert not names & {"utils.py", "helpers.py", "util.py", "misc.py"}


def test_fraction_oracle_imports_no_lowbit():
    """The shared exact oracle of the golden tests checks lowbit's golden code: it must not be
    built from it."""
    path = ROOT / "tests" / "golden" / "fraction_oracle.py"
    assert not [n for n in _imports(path) if n.split(".")[0] in ("lowbit", "golden")]
