"""Terminal output shared by the CLI commands: the console and how table cells read."""

import sys

from rich.console import Console
from rich.table import Table


def make_console() -> Console:
    """A console that never cuts values short: 200 columns wide when not a terminal."""
    return Console() if sys.stdout.isatty() else Console(width=200)


def cell_text(v) -> str:
    """Text of one table cell: ``-`` for None, yes/no, floats to 5 significant digits."""
    if v is None:
        return "-"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        if v != v:
            return "nan"
        if abs(v) == float("inf"):
            return "exact" if v > 0 else "-inf"
        return f"{v:.5g}"
    return str(v)


def rows_table(title: str, rows, columns, right=()) -> Table:
    """A table of tidy result rows: one column per key (``_`` shown as space, long values
    folded), ``right`` columns right-justified, cells by :func:`cell_text`."""
    table = Table(title=title)
    for c in columns:
        table.add_column(c.replace("_", " "), overflow="fold",
                         justify="right" if c in right else "left")
    for r in rows:
        table.add_row(*(cell_text(r.get(c)) for c in columns))
    return table
