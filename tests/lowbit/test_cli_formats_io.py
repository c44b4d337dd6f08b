"""lowbit formats encode/decode: values and codes from a file, rows to CSV or JSON."""

import csv
import json

import numpy as np
import pytest

from lowbit import cli


def _csv(path):
    return list(csv.DictReader(open(path)))


def test_encode_reads_a_text_file_and_writes_csv_that_decode_reads_back(tmp_path, capsys):
    values = tmp_path / "values.txt"
    values.write_text("0.5, 1.5  # comment\n-2\nnan\n1e9\n")
    out = tmp_path / "codes.csv"
    assert cli.main(["formats", "encode", "fp8_e4m3", "--input", str(values),
                     "--output", str(out)]) == 0
    rows = _csv(out)
    # 0.5 = 0b0_0110_000, 1.5 = 0b0_0111_100, -2 = 0b1_1000_000, NaN = S.1111.111,
    # 1e9 saturates to 448 = 0b0_1111_110 (the default overflow of the fn format).
    assert [(r["input"], r["hex"], r["bits"], r["decoded"]) for r in rows] == [
        ("0.5", "0x30", "00110000", "0.5"), ("1.5", "0x3c", "00111100", "1.5"),
        ("-2.0", "0xc0", "11000000", "-2.0"), ("nan", "0x7f", "01111111", "nan"),
        ("1000000000.0", "0x7e", "01111110", "448.0")]
    assert "5 rows written to" in capsys.readouterr().out
    back = tmp_path / "back.json"
    assert cli.main(["formats", "decode", "fp8_e4m3", "--input", str(out),
                     "--output", str(back)]) == 0
    decoded = json.loads(back.read_text())
    assert [d["value"] for d in decoded] == [0.5, 1.5, -2.0, "nan", 448.0]
    assert [d["code"] for d in decoded] == [int(r["code"]) for r in rows]


def test_twenty_thousand_values_go_to_stdout_as_csv(tmp_path, capsys):
    # float32 values (exact in the file's float64 text), so the oracle below rounds once.
    x = np.random.default_rng(1).standard_normal(20_000).astype(np.float32)
    path = tmp_path / "x.csv"
    path.write_text("value\n" + "\n".join(repr(float(v)) for v in x) + "\n")
    assert cli.main(["formats", "encode", "bf16", "--input", str(path), "--as", "csv"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 20_001 and lines[0] == "input,code,hex,bits,decoded"
    # bf16 is the top half of float32 under round-to-nearest-even: an independent oracle.
    f32 = x.view(np.uint32).astype(np.uint64)
    expect = (f32 + 0x7FFF + ((f32 >> 16) & 1)) >> 16
    assert [int(line.split(",")[1]) for line in lines[1:]] == expect.tolist()


def test_decode_takes_hex_binary_and_decimal_codes(capsys):
    assert cli.main(["formats", "decode", "fp4_e2m1", "0x7", "0b0001", "9", "--as",
                     "json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["hex"], r["value"]) for r in rows] == [("0x7", 6.0), ("0x1", 0.5),
                                                      ("0x9", -0.5)]


def test_encode_block_format_rows_carry_block_and_scale(capsys):
    assert cli.main(["formats", "encode", "mxfp4", "1", "7", "--as", "csv"]) == 0
    rows = list(csv.DictReader(capsys.readouterr().out.splitlines()))
    assert [(r["block"], r["element_hex"], r["scale_hex"], r["decoded"]) for r in rows] == [
        ("0", "0x2", "0x7f", "1.0"), ("0", "0x7", "0x7f", "6.0")]


@pytest.mark.parametrize("args, message", [
    (["decode", "fp8_e4m3", "300"],
     "code '300' is not a code of fp8_e4m3 (8 bits: 0 to 0xff)"),
    (["decode", "fp8_e4m3", "0x7g"],
     "code '0x7g' is not an integer (use e.g. 0x7e, 0b01111110 or 126)"),
    (["decode", "mxfp4", "1"],
     "decode takes the codes of a scalar format; mxfp4 is a block format (decode its elements "
     "with fp4_e2m1 and its scales with e8m0)"),
    (["encode", "fp8_e4m3"], "no values given: name them on the command line or use --input "
     "FILE"),
    (["encode", "fp8_e4m3", "1", "--output", "OUT/codes.txt"],
     "--output must name a .csv or .json file, not 'OUT/codes.txt'"),
    (["encode", "fp8_e4m3", "--input", "OUT/codes.csv"],
     "--input OUT/codes.csv: a CSV file needs a 'value' column; its columns are input, code"),
    (["decode", "fp8_e4m3", "--input", "OUT/missing.txt"],
     "--input OUT/missing.txt: cannot read it (No such file or directory)"),
])
def test_bad_input_is_one_line_and_exit_2(tmp_path, capsys, args, message):
    (tmp_path / "codes.csv").write_text("input,code\n1,2\n")
    args = [a.replace("OUT", str(tmp_path)) for a in args]
    assert cli.main(["formats", *args]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["lowbit: error: " + message.replace("OUT", str(tmp_path))]
