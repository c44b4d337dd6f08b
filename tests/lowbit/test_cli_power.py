"""``lowbit power``: energy per operation of one design by stream, split into datapath,
registers, clock and leakage, written as CSV, JSON, Markdown and a plot; bad input is one line
on stderr and exit 2 (issue 23, acceptance 2 and 6)."""

import csv
import json

import numpy as np
import pytest

from lowbit import cli

DESIGN = "intmac_int4xint4_int32"  # small: synthesized and simulated in seconds


def test_power_writes_every_stream_split_into_parts(tmp_path, capsys):
    rng = np.random.default_rng(0)
    user = tmp_path / "user.npz"
    np.savez(user, a=rng.standard_normal((64, 32)), b=rng.standard_normal((32, 8)))
    out = tmp_path / "out"
    assert cli.main(["power", DESIGN, "--stream", "random,sparse", "--stream", str(user),
                     "--lanes", "64", "--k", "32", "--clock-mhz", "500", "--out",
                     str(out)]) == 0
    printed = capsys.readouterr().out
    assert f"{DESIGN}: energy per MAC at 500.0 MHz (given)" in printed
    rows = {r["stream"]: r for r in csv.DictReader(open(out / "power.csv"))}
    assert list(rows) == ["random", "sparse", str(user)]
    for r in rows.values():
        parts = [float(r[f"{p}_pj"]) for p in ("datapath", "registers", "clock", "leakage")]
        assert all(p > 0 for p in parts)
        assert float(r["total_pj"]) == pytest.approx(sum(parts), rel=1e-12)
        assert float(r["clock_mhz"]) == 500.0 and r["operation"] == "MAC"
    # data dependence, measured: half the activations zero moves fewer datapath nets
    assert float(rows["sparse"]["datapath_pj"]) < float(rows["random"]["datapath_pj"])
    # the clock costs the same per cycle whatever the data
    assert float(rows["sparse"]["clock_pj"]) == pytest.approx(float(rows["random"]["clock_pj"]))
    data = json.loads((out / "power.json").read_text())
    assert data["design"] == DESIGN and len(data["rows"]) == 3
    md = (out / "power.md").read_text()
    assert "| stream | part | pj_per_op | pj_per_mac | share |" in md
    assert md.count("| total |") == 3
    assert (out / "energy_breakdown.png").read_bytes()[:4] == b"\x89PNG"


def _npz(path, a, b):
    np.savez(path, a=np.asarray(a), b=np.asarray(b))
    return str(path)


@pytest.mark.parametrize("args, message", [
    (["--stream", "gausian"], "--stream must be one of random, gaussian, sparse, mlp or an .npz "
     "file, not 'gausian'; did you mean 'gaussian'?"),
    (["--clock-mhz", "fast"], "--clock-mhz must be a frequency in MHz or fmax, not 'fast'"),
    (["--clock-mhz", "-5"], "clock_mhz must be 'fmax' or a frequency above 0 and at most 1e5 "
     "MHz, not -5.0"),
    (["--lanes", "100"], "lanes must be a positive multiple of 64, not 100"),
    (["--k", "0"], "stream k must be a positive integer, not 0"),
    (["--stream", "missing.npz"], "--stream file 'missing.npz' does not exist"),
    (["--stream", "EMPTY"], "stream a is empty or not a matrix (shape (0, 4)): a stream needs "
     "at least one row and one column"),
    (["--stream", "CODES"], "stream a: code 300 is outside int4 (its codes are 0 .. 15)"),
    (["--stream", "SHAPES"], "stream a is 2 x 3 and b 2 x 2: a's columns must equal b's rows "
     "(K)"),
])
def test_bad_input_is_one_line_and_exit_2(args, message, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("LOWBIT_BUILD", str(tmp_path / "build"))
    monkeypatch.chdir(tmp_path)
    files = {"EMPTY": _npz(tmp_path / "empty.npz", np.zeros((0, 4)), np.zeros((4, 2))),
             "CODES": _npz(tmp_path / "codes.npz", [[300, 1], [2, 3]], [[1, 2], [3, 4]]),
             "SHAPES": _npz(tmp_path / "shapes.npz", np.ones((2, 3)), np.ones((2, 2)))}
    args = [files.get(a, a) for a in args]
    assert cli.main(["power", DESIGN, *args, "--out", str(tmp_path / "out")]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines == [f"lowbit: error: {message}"]


def test_an_unknown_design_is_one_line(capsys):
    assert cli.main(["power", "intmac_int9"]) == 2
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert line.startswith("lowbit: error: unknown design 'intmac_int9'")
