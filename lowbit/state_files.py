"""Reading back the files a long run resumes from: one line naming a damaged file, never a
traceback and never a damaged row mixed into the results.

A run writes its state with :func:`lowbit.paths.write_atomic` (a JSON file) or appends one
JSON line per finished piece of work (a JSON-lines file); an interruption can cut only the last
line short. :func:`read_jsonl_state` drops that line, as the work it stood for is simply done
again, and refuses every other damage with :class:`~lowbit.errors.DamagedStateError`: the file,
the line and what to do, so the intact results are kept and nothing wrong is counted.
"""

import json
from pathlib import Path

from lowbit.errors import DamagedStateError
from lowbit.paths import write_atomic


def read_json_state(path, fix: str) -> dict | None:
    """The JSON object in ``path``; None when the file does not exist.

    Raises
    ------
    DamagedStateError
        ``<path> is damaged (not valid JSON: cut short?); <fix>`` or ``... (a JSON list, not
        an object); <fix>``.
    """
    path = Path(path)
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise DamagedStateError(f"{path} is damaged (not valid JSON: cut short?); {fix}") \
            from None
    if not isinstance(data, dict):
        raise DamagedStateError(f"{path} is damaged (a JSON {_kind(data)}, not an object); {fix}")
    return data


def read_jsonl_state(path, check, what: str, fix: str) -> list:
    """The rows of JSON-lines file ``path`` (``[]`` when it does not exist), in file order.

    ``check(row)`` returns None for a good row (a dict), else the reason it is not one, such
    as ``missing field 'beats'``. A last line that is not valid JSON was cut short by an
    interruption: it is dropped and removed from the file, and a last line without its newline
    gets one, so rows appended next start on a line of their own.

    Raises
    ------
    DamagedStateError
        ``<path> line 7 is not <what> (missing field 'beats'); <fix>`` for any other line that
        is not valid JSON, not an object, or that ``check`` rejects.
    """
    path = Path(path)
    if not path.exists():
        return []
    text = path.read_text(errors="replace")
    lines = text.splitlines()
    rows, repair = [], not text.endswith("\n") and bool(text)
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            if number == len(lines):  # cut short by an interruption: the work is done again
                lines.pop()
                repair = True
                break
            raise DamagedStateError(f"{path} line {number} is damaged (not valid JSON); {fix}") \
                from None
        reason = (f"a JSON {_kind(row)}, not an object" if not isinstance(row, dict)
                  else check(row))
        if reason:
            raise DamagedStateError(f"{path} line {number} is not {what} ({reason}); {fix}")
        rows.append(row)
    if repair:
        write_atomic(path, "".join(line + "\n" for line in lines))
    return rows


def missing_field(row: dict, fields) -> str | None:
    """``missing field 'x'`` for the first of ``fields`` not in ``row``; None when all are."""
    absent = next((f for f in fields if f not in row), None)
    return None if absent is None else f"missing field {absent!r}"


def _kind(value) -> str:
    return {list: "list", str: "string", int: "number", float: "number", bool: "boolean",
            type(None): "null"}.get(type(value), type(value).__name__)
