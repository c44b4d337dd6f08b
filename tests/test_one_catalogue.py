"""Designs come from the catalogue and accumulators from their grammar, nowhere else.

The product code outside ``hdl/`` (``lowbit/``, ``verify/``, ``reports/``, ``sim/``) builds MAC
units and engines through :mod:`lowbit.hdl.designs` (``designs.get(name).build()``) and reads
accumulator names with :func:`lowbit.golden.accumulators.get`: it never calls a unit's or an
engine's constructor (which would take formats and invent a name of its own), never constructs
an accumulator by hand, and never parses accumulator-like names (``int24``, ``exact_fp32``,
``quire`` ...) with its own regular expressions. ``hdl/`` is exempt (the catalogue builds the
units; engines replicate their own PEs); tests and benchmarks may construct units directly.
"""

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PRODUCT = ("lowbit", "verify", "reports", "sim")
UNITS = {"IntMac", "FloatMac", "PositMac", "MxDotUnit", "SimdMac", "SystolicArray",
         "AdderTreeEngine", "LutTensorCore", "MatrixEngine", "CubeEngine", "MultiFormatMac",
         "MixPE", "MixPEArray", "CarrySaveDot"}
ACCUMULATORS = {"FixedAccumulator", "FloatAccumulator", "ExactAccumulator", "Quire",
                "for_products"}
#: A regular expression that reads accumulator or design-register names: integer or fixed
#: registers, Kulisch, quire, float register names.
NAME_PATTERN = re.compile(r"int\\d|int\(|fixed|exact|kulisch|quire|tree\d|tree\(|il\\d|fp\\d|"
                          r"fp\(|_sat|wrap")
RE_FUNCTIONS = {"compile", "match", "fullmatch", "search", "findall", "finditer", "sub",
                "split"}


def _modules():
    for folder in PRODUCT:
        yield from sorted((ROOT / folder).rglob("*.py"))


def _called_name(call):
    func = call.func
    return func.id if isinstance(func, ast.Name) else \
        func.attr if isinstance(func, ast.Attribute) else None


def _violations(path, root=ROOT):
    tree = ast.parse(path.read_text())
    where = path.relative_to(root)
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = _called_name(node)
        if name in UNITS:
            yield f"{where}:{node.lineno}: constructs {name} (use designs.get(name).build())"
        elif name in ACCUMULATORS:
            yield (f"{where}:{node.lineno}: constructs an accumulator with {name} (use "
                   f"accumulators.get(name) or the design's accumulator)")
        elif (name in RE_FUNCTIONS and isinstance(node.func, ast.Attribute)
              and isinstance(node.func.value, ast.Name) and node.func.value.id == "re"
              and node.args and isinstance(node.args[0], ast.Constant)
              and isinstance(node.args[0].value, str)
              and NAME_PATTERN.search(node.args[0].value)):
            yield (f"{where}:{node.lineno}: parses names with the pattern "
                   f"{node.args[0].value!r} (accumulator names: accumulators.get; designs: "
                   f"designs.get)")


def test_product_code_builds_designs_through_the_catalogue_only():
    found = [v for path in _modules() for v in _violations(path)]
    assert not found, "\n".join(found)


@pytest.mark.parametrize("source, expected", [
    ("u = IntMac(a, b, acc=acc)", "constructs IntMac"),
    ("e = hdl.SystolicArray(4, 4, pe, 'ws')", "constructs SystolicArray"),
    ("acc = FixedAccumulator.for_products(int(m[1]), a, b)", "constructs an accumulator"),
    ("m = re.fullmatch(r'int(\\d+)_wrap', text)", "parses names with the pattern"),
])
def test_the_scan_finds_what_it_forbids(tmp_path, source, expected):
    """The scan is not vacuous: each forbidden kind of line is reported."""
    folder = tmp_path / "sim"
    folder.mkdir()
    module = folder / "bad.py"
    module.write_text(source + "\n")
    (found,) = list(_violations(module, tmp_path))
    assert expected in found
