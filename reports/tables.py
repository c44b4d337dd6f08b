"""Tidy result rows to CSV and JSON files (written atomically)."""

import csv
import io
import json

from lowbit.paths import write_atomic


def write_csv(rows, path):
    """Write a list of dicts as CSV; columns in first-seen order across all rows."""
    columns = []
    for row in rows:
        columns.extend(k for k in row if k not in columns)
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return write_atomic(path, buf.getvalue())


def write_json(obj, path):
    """Write ``obj`` as indented JSON (non-finite floats as strings "inf", "-inf", "nan")."""
    def clean(v):
        if isinstance(v, float) and v != v or v in (float("inf"), float("-inf")):
            return str(v)
        if isinstance(v, dict):
            return {k: clean(x) for k, x in v.items()}
        if isinstance(v, (list, tuple)):
            return [clean(x) for x in v]
        return v
    return write_atomic(path, json.dumps(clean(obj), indent=2) + "\n")


def markdown_table(rows, columns) -> str:
    """A GitHub Markdown table of ``rows`` over ``columns`` (missing values as ``-``)."""
    def text(v):
        if v is None:
            return "-"
        if isinstance(v, float):
            return f"{v:,.1f}" if abs(v) >= 100 else f"{v:.3g}"
        if isinstance(v, int) and not isinstance(v, bool):
            return f"{v:,}"
        return str(v).replace("|", "\\|")
    numeric = [all(isinstance(r.get(c), (int, float)) or r.get(c) is None for r in rows)
               for c in columns]
    lines = ["| " + " | ".join(columns) + " |",
             "|" + "|".join("---:" if n else "---" for n in numeric) + "|"]
    lines += ["| " + " | ".join(text(r.get(c)) for c in columns) + " |" for r in rows]
    return "\n".join(lines) + "\n"
