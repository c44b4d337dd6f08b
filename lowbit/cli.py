"""The ``lowbit`` command line.

``lowbit formats``                          list the catalogue with limits
``lowbit formats show NAME``                everything about one format
``lowbit formats encode NAME V... [--rounding rtz] [--overflow saturate] [--on-nan zero]``
``lowbit demo [--out DIR]``                 the main job (see :mod:`lowbit.demo`)

User errors print one line on stderr and exit with status 2; no traceback.
"""

import argparse
import re
import sys

import numpy as np
from rich.table import Table

from lowbit.errors import LowbitError
from lowbit.golden import formats as F
from lowbit.golden.rounding import ROUNDING_MODES, Stochastic
from lowbit.terminal import cell_text, make_console

EXIT_USAGE = 2
_NEGATIVE_NUMBER = re.compile(r"^-(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$|^-(inf|infinity|nan)$", re.I)


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors (exit 2) instead of usage + message."""

    def error(self, message):
        raise LowbitError(f"{self.prog}: {message}")


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


def cmd_regress(console, full, sim, json_path, junit_path) -> int:
    """Run the regression matrix; exit status 1 on any mismatch or failure."""
    import json

    from rich.progress import Progress

    from lowbit.paths import write_atomic
    from lowbit.verify import regression

    jobs = [(e, vs) for e in regression.entries(full) for vs in e.sets(full)]
    rows = []
    with Progress(console=console) as progress:
        task = progress.add_task("regression", total=len(jobs))
        for entry, vector_set in jobs:
            progress.update(task, description=f"{entry.unit} {entry.config} {vector_set}")
            rows.append(regression.run_entry(entry, vector_set, sim))
            progress.advance(task)
    table = Table(title=f"lowbit regress ({'full' if full else 'quick'}, {sim})")
    cols = ("unit", "config", "vector_set", "vectors", "mismatches", "cycles", "latency",
            "seconds", "status")
    for c in cols:
        table.add_column(c.replace("_", " "), overflow="fold")
    for r in rows:
        table.add_row(*(cell_text(r.get(c)) for c in cols))
    console.print(table)
    total = sum(r["vectors"] for r in rows)
    failed = [r for r in rows if r["status"] != "pass"]
    console.print(f"{total:,} vectors checked in {len(rows)} runs, {len(failed)} failed")
    if json_path:
        write_atomic(json_path, json.dumps({"rows": rows, "vectors": total,
                                            "failed": len(failed)}, indent=2) + "\n")
    if junit_path:
        regression.write_junit(rows, junit_path)
    return 1 if failed else 0


def build_parser():
    parser = _Parser(prog="lowbit", description="Bit-accurate low-precision arithmetic toolkit.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    p_formats = sub.add_parser("formats", help="list, show and try number formats")
    fsub = p_formats.add_subparsers(dest="action", parser_class=_Parser)
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

    p_reg = sub.add_parser("regress", help="RTL units against golden on a simulator")
    level = p_reg.add_mutually_exclusive_group()
    level.add_argument("--quick", action="store_true", help="the make-test slice (default)")
    level.add_argument("--full", action="store_true", help="every configuration")
    p_reg.add_argument("--sim", default="verilator", choices=("verilator", "icarus"))
    p_reg.add_argument("--json", default=None, help="write the result rows as JSON here")
    p_reg.add_argument("--junit", default=None, help="write JUnit XML here")

    p_demo = sub.add_parser("demo", help="the main job: format study into build/demo/")
    p_demo.add_argument("--out", default=None, help="output folder (default build/demo)")
    return parser


def main(argv=None) -> int:
    console = make_console()
    try:
        args = build_parser().parse_args(argv)
        if args.command == "formats":
            if args.action in (None, "list"):
                cmd_list(console)
            elif args.action == "show":
                cmd_show(console, args.name)
            else:
                cmd_encode(console, args.name, args.values, args.rounding, args.overflow,
                           args.on_nan, args.sr_bits, args.seed)
        elif args.command == "regress":
            return cmd_regress(console, args.full, args.sim, args.json, args.junit)
        elif args.command == "demo":
            from lowbit import demo

            demo.run(args.out, console)
    except LowbitError as err:
        message = " ".join(str(err).split())
        print(f"lowbit: error: {message}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("lowbit: interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
