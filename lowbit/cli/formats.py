"""``lowbit formats [list | show NAME | encode NAME V... [--rounding R] [--overflow O]
[--on-nan P]]``: the format catalogue, one format, values encoded into a format."""

import re

import numpy as np
from rich.table import Table

from lowbit.cli.parsing import Parser
from lowbit.errors import LowbitError
from lowbit.golden import formats as F
from lowbit.golden.rounding import ROUNDING_MODES, Stochastic
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
    p_enc.add_argument("values", nargs="+", help="numbers, nan, inf, -inf")
    # Let negative values in any float spelling (-1e9, -inf) be values, not options.
    p_enc._negative_number_matcher = _NEGATIVE_NUMBER
    p_enc.add_argument("--rounding", default="rne", choices=ROUNDING_MODES)
    p_enc.add_argument("--overflow", default=None,
                       help="saturate, saturate_symmetric, wrap, inf or nan (default: the format's)")
    p_enc.add_argument("--on-nan", default="raise", choices=F.NAN_POLICIES)
    p_enc.add_argument("--sr-bits", type=int, default=8,
                       help="random bits for --rounding stochastic (default 8)")
    p_enc.add_argument("--seed", type=int, default=0, help="seed for --rounding stochastic")


def run(console, args) -> int:
    """List the catalogue, show one format, or encode values."""
    if args.action in (None, "list"):
        cmd_list(console)
    elif args.action == "show":
        cmd_show(console, args.name)
    else:
        cmd_encode(console, args.name, args.values, args.rounding, args.overflow, args.on_nan,
                   args.sr_bits, args.seed)
    return 0


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


def cmd_encode(console, name, values, rounding, overflow, on_nan, sr_bits, seed):
    fmt = F.get(name)
    x = _parse_values(values)
    label = f"stochastic, {sr_bits} bits, seed {seed}" if rounding == "stochastic" else rounding
    table = Table(title=f"encode into {fmt.name} (rounding {label})")
    if rounding == "stochastic":
        rounding = Stochastic(bits=sr_bits, rng=np.random.default_rng(seed))
    if fmt.kind == "block":
        data = fmt.encode(x, rounding=rounding)
        decoded = fmt.decode(data)
        el = fmt.element
        for c in ("input", "element code", "element bits", "decoded"):
            table.add_column(c, justify="right", overflow="fold")
        for v, code, d in zip(x, data.elements.reshape(-1), decoded):
            table.add_row(_value_str(v), _hex(code, el.bits), _bin(code, el.bits), _value_str(d))
        console.print(table)
        scales = ", ".join(_hex(s, fmt.scale.bits) for s in data.scales.reshape(-1))
        console.print(f"scale codes ({fmt.scale.name}): {scales}"
                      + (f"; tensor scale (FP32): {data.tensor_scale!r}"
                         if data.tensor_scale is not None else ""))
        return
    codes = fmt.encode(x, rounding=rounding, overflow=overflow, on_nan=on_nan)
    decoded = fmt.decode(codes)
    for c in ("input", "code", "bits", "decoded"):
        table.add_column(c, justify="right", overflow="fold")
    for v, code, d in zip(x, codes, decoded):
        table.add_row(_value_str(v), _hex(code, fmt.bits), _bin(code, fmt.bits), _value_str(d))
    console.print(table)
