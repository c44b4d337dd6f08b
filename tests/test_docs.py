"""The documentation: the site builds with warnings as errors, every Python example in the
docs and the README runs, and the README stays a short front page.

Each page's ```python blocks run in order in one namespace (a page is one session), in a
temporary folder, so an example can never rot unnoticed. The pages share one ``LOWBIT_BUILD``
folder per test process (a design synthesized for one page is cached for the next), whose
content-keyed caches (:data:`SHARED_CACHES`) are those of the run's build folder: a design
another test built or synthesized is not built again for a page. A block
whose first line is ``# long example`` (whole-catalogue comparisons, minutes of Yosys) runs
only with ``--full``; the functions it calls have their own tests in the default run.
"""

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
README = ROOT / "README.md"
PAGES = [README, *sorted(DOCS.rglob("*.md"))]
README_MAX_BYTES = 8 * 1024
BUILD_TIMEOUT_S = 900  # a hang guard, not a speed goal

LONG_MARK = "# long example"
_PYTHON_BLOCK = re.compile(r"^```python\n(.*?)^```\s*$", re.M | re.S)


def python_blocks(text: str) -> list:
    """``(first line number, code)`` of every fenced ```python block of a Markdown page."""
    return [(text.count("\n", 0, m.start(1)) + 1, m.group(1))
            for m in _PYTHON_BLOCK.finditer(text)]


@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(ROOT)) for p in PAGES])
def test_every_python_example_runs(page, tmp_path, tmp_path_factory, monkeypatch, request,
                                   synthesis_cache):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LOWBIT_BUILD",
                       str(_shared_build(tmp_path_factory, synthesis_cache.parent)))
    full = request.config.getoption("--full")
    namespace = {"__name__": "__docs_example__"}
    for line, code in python_blocks(page.read_text()):
        if code.startswith(LONG_MARK) and not full:
            continue
        # Pad so that a traceback names the page's own line numbers.
        exec(compile("\n" * (line - 1) + code, str(page), "exec"), namespace)


#: Folders of a build folder that are caches keyed by content (Verilog hash, generators' sources,
#: Yosys script and version; written atomically or under a folder lock), never outputs.
SHARED_CACHES = ("rtl", "synth", "verilog", "verilator-runtime")


def _shared_build(factory, run_build: Path) -> Path:
    """One build folder for every page of this test process, its :data:`SHARED_CACHES` linked
    to those of ``run_build`` (the run's build folder, tests/conftest.py)."""
    folder = factory.getbasetemp() / "docs-build"
    if not folder.exists():
        folder.mkdir()
        for name in SHARED_CACHES:
            (run_build / name).mkdir(parents=True, exist_ok=True)
            (folder / name).symlink_to(run_build / name, target_is_directory=True)
    return folder


def test_python_blocks_are_found_with_their_line_numbers():
    text = "# t\n\n```python\nx = 1\n```\n\n```sh\nls\n```\n```python\ny = 2\n\n```\n"
    assert python_blocks(text) == [(4, "x = 1\n"), (11, "y = 2\n\n")]


def test_readme_is_a_short_front_page():
    text = README.read_text()
    assert len(text.encode()) < README_MAX_BYTES
    assert text.startswith("# lowbit\n\n```sh\nmake demo ")
    lines = text.splitlines()
    assert lines[3].startswith("make demo ") and lines[4].startswith("make test ")
    for target in re.findall(r"\]\((docs/[^)#]+)", text):
        assert (ROOT / target).is_file(), target


def test_site_builds_with_warnings_as_errors(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html",
         "-d", str(tmp_path / "doctrees"), str(DOCS), str(tmp_path / "html")],
        capture_output=True, text=True, timeout=BUILD_TIMEOUT_S, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "html" / "index.html").is_file()
    assert (tmp_path / "html" / "api" / "sim.html").is_file()
