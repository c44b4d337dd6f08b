"""``lowbit compare``: the published comparisons by name (the comparisons themselves are
tested in tests/reports/: test_seed_pe_comparisons, test_tpe_comparisons, and the demo's)."""

import json

import pytest

from lowbit import cli
from lowbit.cli import compare


def test_list_names_every_comparison(capsys):
    assert cli.main(["compare", "--list"]) == 0
    out = capsys.readouterr().out
    for name, comparison in compare.COMPARISONS.items():
        assert name in out and comparison.source in out


@pytest.mark.parametrize("args, message", [
    (["compare"], "compare: name at least one comparison (area, seed-pes, tensor-engines), "
                  "or --list"),
    (["compare", "seed-pe"], "compare: NAME must be one of area, seed-pes, tensor-engines, not "
                             "'seed-pe'; did you mean 'seed-pes'?"),
    (["compare", "area", "--jobs", "0"], "--jobs must be at least 1, not 0"),
])
def test_bad_input_is_one_line(args, message, capsys):
    assert cli.main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"lowbit: error: {message}"]


def test_a_comparison_writes_markdown_and_json_and_prints_it(tmp_path, monkeypatch, capsys):
    """The command's plumbing with a stand-in comparison: each named one runs once (a name
    given twice too), in order, into --out."""
    ran = []

    def fake(name, out, console, jobs):
        ran.append((name, jobs))
        (out / f"{name}.json").write_text(json.dumps([{"ratio": 1.5}]))
        return f"# {name}\n\n| ratio |\n|---|\n| 1.5 |\n"

    monkeypatch.setitem(compare.COMPARISONS, "area",
                        compare.Comparison("stand-in", "docs/x.md", fake))
    out = tmp_path / "cmp"
    assert cli.main(["compare", "area", "area", "--out", str(out), "--jobs", "1"]) == 0
    assert ran == [("area", 1)]
    assert (out / "area.md").read_text().startswith("# area")
    assert json.loads((out / "area.json").read_text()) == [{"ratio": 1.5}]
    assert "1.5" in capsys.readouterr().out
