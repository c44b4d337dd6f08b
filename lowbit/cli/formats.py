"""``lowbit formats [list | show NAME | encode NAME [V...] [--input FILE] [--rounding R]
[--overflow O] [--on-nan P] [--output FILE.csv|FILE.json | --as csv|json] | decode NAME
[CODE...] [--input FILE] [--output ... | --as ...]]``: the format catalogue, one format, values
encoded into a format and codes decoded from it.

``--input`` reads values (or codes) from a file: a ``.csv`` file's ``value`` (or ``code``)
column, so a CSV written by ``encode`` decodes as is, or any other text file's numbers
separated by spaces, commas or newlines (``#`` starts a comment). ``--output`` writes CSV or
JSON by the file's suffix; ``--as csv|json`` prints that to stdout instead of a table.
"""

import csv
import io
import json
import math
import re
import sys
from pathlib import Path

import numpy as np
from rich.table import Table

from lowbit.cli.parsing import Parser
from lowbit.errors import LowbitError
from lowbit.golden import formats as F
from lowbit.golden.rounding import ROUNDING_MODES, Stochastic
from lowbit.paths import ensure_writable_file, write_atomic
from lowbit.terminal import cell_text

NAME = "formats"
HELP = "list, show and try number formats"
_NEGATIVE_NUMBER = re.compile(r"^-(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$|^-(inf|infinity|nan)$", re.I)


def add_arguments(parser):
    """``list`` (default), ``show NAME``, ``encode NAME V...`` and their options."""
    fsub = parser.add_subparsers(dest="action", parser_class=Parser)
    fsub.add_parser("list", help="list the catalogue (default)")
    p_show = fsub.add_parser("show", help="everything about one format")
    p_show.add_argument("name")
    p_enc = fsub.add_parser("encode", help="encode values and show their codes")
    p_enc.add_argument("name")
    p_enc.add_argument("values", nargs="*", default=[], help="numbers, nan, inf, -inf")
    # Let negative values in any float spelling (-1e9, -inf) be values, not options.
    p_enc._negative_number_matcher = _NEGATIVE_NUMBER
    _add_io(p_enc, "value")
    p_enc.add_argument("--rounding", default="rne", choices=ROUNDING_MODES)
    p_enc.add_argument("--overflow", default=None,
                       help="saturate, saturate_symmetric, wrap, inf or nan (default: the format's)")
    p_enc.add_argument("--on-nan", default="raise", choices=F.NAN_POLICIES)
    p_enc.add_argument("--sr-bits", type=int, default=8,
                       help="random bits for --rounding stochastic (default 8)")
    p_enc.add_argument("--seed", type=int, default=0, help="seed for --rounding stochastic")
    p_dec = fsub.add_parser("decode", help="decode codes (0x.., 0b.. or decimal) to values")
    p_dec.add_argument("name")
    p_dec.add_argument("codes", nargs="*", default=[], help="codes: 0x7e, 0b01111110 or 126")
    _add_io(p_dec, "code")


def _add_io(parser, column):
    parser.add_argument("--input", metavar="FILE", default=None,
                        help=f"read {column}s from FILE (.csv: its '{column}' column; other "
                             f"files: numbers separated by spaces, commas or newlines)")
    out = parser.add_mutually_exclusive_group()
    out.add_argument("--output", metavar="FILE", default=None,
                     help="write the rows to FILE.csv or FILE.json")
    out.add_argument("--as", dest="as_", choices=("table", "csv", "json"), default="table",
                     help="print a table (default), CSV or JSON")


def run(console, args) -> int:
    """List the catalogue, show one format, or encode values."""
    if args.action in (None, "list"):
        cmd_list(console)
    elif args.action == "show":
        cmd_show(console, args.name)
    elif args.action == "decode":
        fmt = F.get(args.name)
        target = _target(args)
        texts = _texts(args.codes, args.input, "code")
        _emit(console, target, *decode_rows(fmt, texts))
    else:
        fmt = F.get(args.name)
        target = _target(args)
        x = _parse_values(_texts(args.values, args.input, "value"))
        _emit(console, target, *encode_rows(fmt, x, args.rounding, args.overflow, args.on_nan,
                                            args.sr_bits, args.seed))
    return 0


def _target(args):
    """Where rows go: a checked ``--output`` path, or ``table``/``csv``/``json`` on stdout."""
    if args.output is None:
        return args.as_
    path = Path(args.output)
    if path.suffix.lower() not in (".csv", ".json"):
        raise LowbitError(f"--output must name a .csv or .json file, not {args.output!r}")
    return ensure_writable_file(path, "--output")


def _texts(given, input_path, column) -> list:
    """The values (or codes) as text: from the command line and then from ``--input``."""
    texts = list(given)
    if input_path is not None:
        path = Path(input_path)
        try:
            text = path.read_text()
        except OSError as err:
            raise LowbitError(f"--input {input_path}: cannot read it "
                              f"({err.strerror or err})") from None
        if path.suffix.lower() == ".csv":
            reader = csv.DictReader(io.StringIO(text))
            if column not in (reader.fieldnames or ()):
                raise LowbitError(f"--input {input_path}: a CSV file needs a {column!r} "
                                  f"column; its columns are "
                                  f"{', '.join(reader.fieldnames or ()) or 'none'}")
            texts += [row[column].strip() for row in reader]
        else:
            for line in text.splitlines():
                texts += [t for t in re.split(r"[\s,]+", line.split("#")[0]) if t]
    if not texts:
        raise LowbitError(f"no {column}s given: name them on the command line or use --input "
                          f"FILE")
    return texts


def _json_number(v):
    """A float as JSON has it: nan and the infinities as the strings Python spells them."""
    return v if math.isfinite(v) else repr(v)


def _emit(console, target, title, columns, rows, footer=None):
    """Print ``rows`` as a table, CSV or JSON, or write them to a .csv/.json file."""
    if target == "table":
        table = Table(title=title)
        for c in columns:
            table.add_column(c.replace("_", " "), justify="right", overflow="fold")
        for row in rows:
            table.add_row(*(_value_str(v) if isinstance(v, float) else str(v)
                            for v in row.values()))
        console.print(table)
        if footer:
            console.print(footer)
        return
    as_json = target == "json" or (isinstance(target, Path) and target.suffix.lower() == ".json")
    if as_json:
        text = "[\n" + ",\n".join(json.dumps({k: _json_number(v) if isinstance(v, float) else v
                                              for k, v in row.items()}) for row in rows) + "\n]\n"
    else:
        buf = io.StringIO()
        writer = csv.DictWriter(buf, columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows({k: _value_str(v) if isinstance(v, float) else v
                          for k, v in row.items()} for row in rows)
        text = buf.getvalue()
    if isinstance(target, Path):
        write_atomic(target, text)
        console.print(f"{len(rows)} rows written to {target}")
    else:
        sys.stdout.write(text)


def _value_str(v) -> str:
    if np.isnan(v):
        return "nan"
    return repr(float(v))


def _hex(code, bits) -> str:
    return f"0x{int(code):0{(bits + 3) // 4}x}"


def _bin(code, bits) -> str:
    return format(int(code), f"0{bits}b")


def cmd_list(console):
    from lowbit.format_study import describe

    table = Table(title="lowbit format catalogue (any family member works: lowbit formats show int7)")
    cols = ("format", "kind", "bits", "max_value", "min_normal", "min_subnormal", "has_inf",
            "has_nan")
    for c in cols:
        table.add_column(c.replace("_", " "), overflow="fold",
                         justify="left" if c in ("format", "kind") else "right")
    for fmt in F.catalog():
        d = describe(fmt)
        table.add_row(*(cell_text(d[c]) for c in cols))
    console.print(table)
    console.print("families: " + ", ".join(F.FAMILIES))


def cmd_show(console, name):
    from lowbit.format_study import describe

    fmt = F.get(name)
    table = Table(title=f"{fmt.name}", show_header=False)
    table.add_column("property")
    table.add_column("value")
    for k, v in describe(fmt).items():
        table.add_row(k, cell_text(v))
    for k, v in fmt.to_dict().items():
        if k not in ("name", "kind"):
            table.add_row(f"param {k}", v["name"] if isinstance(v, dict) else cell_text(v))
    if fmt.kind != "block":
        table.add_row("default overflow", fmt.default_overflow)
        table.add_row("overflow policies", ", ".join(fmt.overflow_policies))
        table.add_row("max code", _hex(fmt.max_code, fmt.bits))
        for special in ("nan_code", "inf_code", "nar_code"):
            code = getattr(fmt, special, None)
            if code is not None:
                table.add_row(special.replace("_", " "), _hex(code, fmt.bits))
    console.print(table)
    if fmt.kind != "block" and fmt.bits <= 6:
        vals = fmt.values()
        grid = Table(title=f"every {fmt.name} code")
        grid.add_column("code")
        grid.add_column("bits")
        grid.add_column("value", justify="right")
        for c, v in enumerate(vals):
            grid.add_row(_hex(c, fmt.bits), _bin(c, fmt.bits), _value_str(v))
        console.print(grid)


def _parse_values(texts):
    out = []
    for t in texts:
        try:
            out.append(float(t))
        except ValueError:
            raise LowbitError(f"value {t!r} is not a number (use e.g. 0.3, -1e9, nan, inf)") from None
    return np.array(out, dtype=np.float64)


def _parse_codes(fmt, texts) -> np.ndarray:
    """Codes of ``fmt`` from text (``0x7e``, ``0b01111110``, ``126``), each in range."""
    out = []
    for t in texts:
        try:
            code = int(t, 0)
        except ValueError:
            raise LowbitError(f"code {t!r} is not an integer (use e.g. 0x7e, 0b01111110 or "
                              f"126)") from None
        if not 0 <= code < 1 << fmt.bits:
            raise LowbitError(f"code {t!r} is not a code of {fmt.name} ({fmt.bits} bits: 0 to "
                              f"{_hex((1 << fmt.bits) - 1, fmt.bits)})")
        out.append(code)
    return np.array(out, dtype=np.uint64)


def encode_rows(fmt, x, rounding, overflow, on_nan, sr_bits=8, seed=0) -> tuple:
    """``(title, columns, rows, footer)`` of ``x`` (float64) encoded into ``fmt``."""
    label = f"stochastic, {sr_bits} bits, seed {seed}" if rounding == "stochastic" else rounding
    title = f"encode into {fmt.name} (rounding {label})"
    if rounding == "stochastic":
        rounding = Stochastic(bits=sr_bits, rng=np.random.default_rng(seed))
    if fmt.kind == "block":
        data = fmt.encode(x, rounding=rounding)
        decoded = fmt.decode(data)
        el, scales = fmt.element, data.scales.reshape(-1)
        columns = ["input", "block", "element_code", "element_hex", "element_bits",
                   "scale_hex", "decoded"]
        rows = [{"input": float(v), "block": i // fmt.block_size, "element_code": int(code),
                 "element_hex": _hex(code, el.bits), "element_bits": _bin(code, el.bits),
                 "scale_hex": _hex(scales[i // fmt.block_size], fmt.scale.bits),
                 "decoded": float(d)}
                for i, (v, code, d) in enumerate(zip(x, data.elements.reshape(-1), decoded))]
        footer = (f"scale codes ({fmt.scale.name}): "
                  + ", ".join(_hex(c, fmt.scale.bits) for c in scales)
                  + (f"; tensor scale (FP32): {data.tensor_scale!r}"
                     if data.tensor_scale is not None else ""))
        return title, columns, rows, footer
    codes = fmt.encode(x, rounding=rounding, overflow=overflow, on_nan=on_nan)
    decoded = fmt.decode(codes)
    columns = ["input", "code", "hex", "bits", "decoded"]
    rows = [{"input": float(v), "code": int(c), "hex": _hex(c, fmt.bits),
             "bits": _bin(c, fmt.bits), "decoded": float(d)}
            for v, c, d in zip(x, codes, decoded)]
    return title, columns, rows, None


def decode_rows(fmt, texts) -> tuple:
    """``(title, columns, rows, footer)`` of the codes ``texts`` decoded from ``fmt``."""
    if fmt.kind == "block":
        raise LowbitError(f"decode takes the codes of a scalar format; {fmt.name} is a block "
                          f"format (decode its elements with {fmt.element.name} and its scales "
                          f"with {fmt.scale.name})")
    codes = _parse_codes(fmt, texts)
    values = fmt.decode(codes)
    columns = ["code", "hex", "bits", "value"]
    rows = [{"code": int(c), "hex": _hex(c, fmt.bits), "bits": _bin(c, fmt.bits),
             "value": float(v)} for c, v in zip(codes, values)]
    return f"decode from {fmt.name}", columns, rows, None
