"""Terminal output shared by the CLI commands: the console and how table cells read."""

import sys

from rich.console import Console


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
