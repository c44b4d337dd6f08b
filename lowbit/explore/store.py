"""Sweep results in an embedded SQLite file: one row per design point, committed as soon as
the point finishes, so an interrupted sweep loses nothing and a rerun skips finished points.

Table ``points``: ``sweep`` and ``key`` (the point's :func:`~lowbit.explore.space.point_key`)
identify a row; ``point`` and ``metrics`` are JSON objects; ``status`` is ``ok`` or
``error`` (with the ``error`` text); ``seconds`` is the point's wall time and ``finished_utc``
when it was stored. Several sweeps can share one file.
"""

import json
import math
import sqlite3
import time
from pathlib import Path

from lowbit.errors import LowbitError
from lowbit.explore.space import point_key

STATUSES = ("ok", "error")
_SCHEMA = """
CREATE TABLE IF NOT EXISTS points (
    sweep TEXT NOT NULL,
    key TEXT NOT NULL,
    point TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('ok', 'error')),
    metrics TEXT NOT NULL,
    error TEXT NOT NULL,
    seconds REAL NOT NULL,
    finished_utc TEXT NOT NULL,
    PRIMARY KEY (sweep, key)
)
"""


class StoreError(LowbitError, ValueError):
    """A results file that is not a lowbit sweep database, or a bad metric value."""


def _json_metrics(metrics: dict) -> str:
    """Metrics as JSON; non-finite floats are stored as strings ("inf", "nan")."""
    clean = {}
    for name, value in metrics.items():
        if not isinstance(name, str):
            raise StoreError(f"metric names must be strings, not {name!r}")
        if isinstance(value, float) and not math.isfinite(value):
            value = repr(value)
        clean[name] = value
    try:
        return json.dumps(clean, sort_keys=True, allow_nan=False)
    except (TypeError, ValueError):
        bad = {k: type(v).__name__ for k, v in clean.items()
               if not isinstance(v, (int, float, str, bool, type(None), list, dict))}
        raise StoreError(f"metrics must be numbers, strings, booleans or None; {bad}") from None


def _load_metrics(text: str) -> dict:
    out = {}
    for name, value in json.loads(text).items():
        out[name] = float(value) if value in ("inf", "-inf", "nan") else value
    return out


class Store:
    """The results of sweep ``sweep`` in the SQLite file ``path`` (created when missing)."""

    def __init__(self, path, sweep: str):
        self.path = Path(path)
        self.sweep = sweep
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._con = sqlite3.connect(self.path)
            self._con.execute("PRAGMA journal_mode=WAL")
            self._con.execute(_SCHEMA)
            self._con.commit()
        except sqlite3.DatabaseError as err:
            raise StoreError(f"results file {self.path} is not a lowbit sweep database "
                             f"({err})") from None

    def close(self):
        self._con.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def finished(self, include_errors=True) -> set:
        """Keys of the points already stored (``include_errors=False``: successes only)."""
        q = "SELECT key FROM points WHERE sweep = ?" + ("" if include_errors else
                                                        " AND status = 'ok'")
        return {k for (k,) in self._con.execute(q, (self.sweep,))}

    def record(self, point: dict, metrics: dict | None = None, error: str | None = None,
               seconds: float = 0.0):
        """Store one finished point (its metrics, or the error it failed with) and commit."""
        status = "ok" if error is None else "error"
        finished = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        self._con.execute(
            "INSERT OR REPLACE INTO points VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (self.sweep, point_key(point), json.dumps(point, sort_keys=True), status,
             _json_metrics(metrics or {}), error or "", float(seconds), finished))
        self._con.commit()

    def rows(self) -> list:
        """Every stored point of the sweep as a flat dict: the point's axes, its metrics,
        ``status``, ``error`` and ``seconds``; in key order (independent of finishing order)."""
        out = []
        for point, status, metrics, error, seconds in self._con.execute(
                "SELECT point, status, metrics, error, seconds FROM points WHERE sweep = ? "
                "ORDER BY key", (self.sweep,)):
            out.append({**json.loads(point), **_load_metrics(metrics), "status": status,
                        "error": error, "seconds": seconds})
        return out
