"""Sweep results in an embedded SQLite file: one row per design point, committed as soon as
the point finishes, so an interrupted sweep loses nothing and a rerun skips finished points.

Tables (schema ``lowbit-sweep/2`` in ``meta``):

``points``       one row per ``(sweep, key)`` (the point's
                 :func:`~lowbit.explore.space.point_key`): ``recipe`` (the stages and user
                 metrics it was computed with, :meth:`lowbit.explore.Sweep.recipe`), ``point``
                 and ``metrics`` as JSON (n/a metrics are ``null``, their reasons in the
                 ``notes`` metric), ``status`` ``ok`` or ``error`` (with the ``error`` text),
                 ``seconds`` (wall time) and when it finished. An ``ok`` row is never replaced
                 by an ``error`` row of the same recipe.
``definitions``  the last definition each sweep ran with (:meth:`lowbit.explore.Sweep.definition`)
                 and its fingerprint, so a changed sweep file is noticed and described.
``claims``       points being evaluated: owner (host, pid, run), and a lease the owner renews;
                 a claim whose lease ran out, or whose owner process on this host is gone (or
                 is this process: a run of it that ended without releasing), is free again.
                 Concurrent runs on one file evaluate each point once.

Rows of a recipe other than the store's are *stale*: :meth:`Store.rows` and
:meth:`Store.finished` never return them, and a run evaluates their points again.

Every SQLite failure becomes one :class:`StoreError` line naming the file and what to do: a
damaged file, a file that is not a lowbit sweep database, a read-only file or folder, a full
disk.
"""

import json
import math
import os
import socket
import sqlite3
import time
from contextlib import contextmanager
from pathlib import Path

from lowbit.errors import LowbitError
from lowbit.explore.space import point_key

SCHEMA = "lowbit-sweep/2"
STATUSES = ("ok", "error")
BUSY_TIMEOUT_S = 30  # how long a write waits for another process's transaction
_TABLES = ("""
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)""", """
CREATE TABLE IF NOT EXISTS definitions (
    sweep TEXT PRIMARY KEY,
    fingerprint TEXT NOT NULL,
    recipe TEXT NOT NULL,
    definition TEXT NOT NULL,
    updated_utc TEXT NOT NULL)""", """
CREATE TABLE IF NOT EXISTS points (
    sweep TEXT NOT NULL,
    key TEXT NOT NULL,
    recipe TEXT NOT NULL,
    point TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('ok', 'error')),
    metrics TEXT NOT NULL,
    error TEXT NOT NULL,
    seconds REAL NOT NULL,
    finished_unix REAL NOT NULL,
    finished_utc TEXT NOT NULL,
    PRIMARY KEY (sweep, key))""", """
CREATE TABLE IF NOT EXISTS claims (
    sweep TEXT NOT NULL,
    key TEXT NOT NULL,
    recipe TEXT NOT NULL,
    owner TEXT NOT NULL,
    host TEXT NOT NULL,
    pid INTEGER NOT NULL,
    lease_until REAL NOT NULL,
    PRIMARY KEY (sweep, key))""")
_MOVE = "move it away and run again, or use --out elsewhere"
_DAMAGED = "database disk image is malformed"  # SQLite's words for SQLITE_CORRUPT
# SQLite primary result codes (sqlite3.h) and the message of each, for errors without a code.
_KINDS = ((11, "malformed", "damaged"), (26, "not a database", "not_a_database"),
          (13, "is full", "full"), (8, "readonly", "read_only"), (5, "locked", "locked"),
          (6, "locked", "locked"), (14, "unable to open", "cannot_open"))


class StoreError(LowbitError, ValueError):
    """A results file that cannot be used (damaged, foreign, read-only, disk full) or a bad
    metric value."""


def _kind(err: sqlite3.Error) -> str:
    code = getattr(err, "sqlite_errorcode", None)
    for number, text, kind in _KINDS:
        if (code is not None and code & 0xFF == number) or text in str(err):
            return kind
    return "other"


def database_error(path, err: sqlite3.Error) -> StoreError:
    """The one-line :class:`StoreError` for SQLite's ``err`` on results file ``path``."""
    msg = str(err)
    kind = _kind(err)
    if kind == "damaged":
        return StoreError(f"results file {path} is damaged ({_DAMAGED}); {_MOVE}")
    if kind == "not_a_database":
        return StoreError(f"results file {path} is not a SQLite database ({msg}); {_MOVE}")
    if kind == "full":
        return StoreError(f"results file {path} cannot grow ({msg}); free disk space and run "
                          f"the same command to resume (finished points are kept)")
    if kind == "read_only":
        return StoreError(f"results file {path} is read-only ({msg}); make it writable or use "
                          f"--out elsewhere")
    if kind == "locked":
        return StoreError(f"results file {path} stayed locked by another process for "
                          f"{BUSY_TIMEOUT_S} s ({msg}); run the same command again later")
    if kind == "cannot_open":
        return StoreError(f"cannot open results file {path} ({msg}); use --out with a "
                          f"writable folder")
    return StoreError(f"results file {path}: {msg}; {_MOVE}")


def check_folder(folder) -> Path:
    """Create ``folder`` if needed and check it is a writable folder (one line if not)."""
    folder = Path(folder)
    if folder.exists() and not folder.is_dir():
        raise StoreError(f"sweep output folder {folder} is a file; pass a folder as --out")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / f".lowbit-write-test-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as err:
        raise StoreError(f"sweep output folder {folder} is not writable "
                         f"({err.strerror or err}); pass a writable folder as --out") from None
    return folder


def _json_metrics(metrics: dict) -> str:
    """Metrics as JSON: numbers must be finite (n/a is ``None``)."""
    for name, value in metrics.items():
        if not isinstance(name, str):
            raise StoreError(f"metric names must be strings, not {name!r}")
        if isinstance(value, float) and not math.isfinite(value):
            raise StoreError(f"metric {name} is {value!r}: a stored result is a finite number "
                             f"or n/a (None, with the reason in notes)")
    try:
        return json.dumps(metrics, sort_keys=True, allow_nan=False)
    except (TypeError, ValueError):
        bad = {k: type(v).__name__ for k, v in metrics.items()
               if not isinstance(v, (int, float, str, bool, type(None), list, dict))}
        raise StoreError(f"metrics must be numbers, strings, booleans or None; {bad}") from None


def _utc(t: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class Store:
    """The results of sweep ``sweep`` in the SQLite file ``path`` (created when missing),
    computed with ``recipe`` (rows of other recipes are stale: never returned).
    ``readonly=True`` only reads (a report from a file this process cannot write)."""

    def __init__(self, path, sweep: str, recipe: str = "", readonly: bool = False):
        self.path = Path(path)
        self.sweep = sweep
        self.recipe = recipe
        self.host = socket.gethostname()
        self._con = None
        if not readonly:
            check_folder(self.path.parent)
        elif not self.path.is_file():
            raise StoreError(f"results file {self.path} does not exist; run the sweep first")
        with self._guard():
            uri = f"file:{self.path.resolve()}?mode=ro" if readonly else str(self.path)
            self._con = sqlite3.connect(uri, uri=readonly, timeout=BUSY_TIMEOUT_S,
                                        isolation_level=None)
            self._check_file()
            if not readonly:
                self._con.execute("PRAGMA journal_mode=WAL")
                with self._write():
                    for table in _TABLES:
                        self._con.execute(table)
                    self._con.execute("INSERT OR REPLACE INTO meta VALUES ('schema', ?)",
                                      (SCHEMA,))

    def _check_file(self):
        """Refuse a damaged file, a foreign database and an older lowbit's results."""
        problems = [r[0] for r in self._con.execute("PRAGMA quick_check")]
        if problems != ["ok"]:  # SQLite's list of broken pages: the file is damaged
            raise StoreError(f"results file {self.path} is damaged ({_DAMAGED}); {_MOVE}")
        tables = {r[0] for r in self._con.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'")}
        if not tables:
            return
        schema = None
        if "meta" in tables:
            schema = next(iter(self._con.execute(
                "SELECT value FROM meta WHERE key = 'schema'")), (None,))[0]
        if schema == SCHEMA:
            return
        if "points" in tables and "meta" not in tables:
            raise StoreError(f"results file {self.path} was written by an older lowbit (no "
                             f"sweep fingerprints); {_MOVE}")
        raise StoreError(f"results file {self.path} is not a lowbit sweep database (tables "
                         f"{', '.join(sorted(tables))}); {_MOVE}")

    @contextmanager
    def _guard(self):
        """Turn any SQLite error into one :class:`StoreError` line."""
        try:
            yield
        except sqlite3.Error as err:
            raise database_error(self.path, err) from None

    @contextmanager
    def _write(self):
        """One write transaction (``BEGIN IMMEDIATE``: other writers wait up to
        :data:`BUSY_TIMEOUT_S`), committed on success, rolled back on any error."""
        with self._guard():
            self._con.execute("BEGIN IMMEDIATE")
            try:
                yield self._con
                self._con.execute("COMMIT")
            except BaseException:
                if self._con.in_transaction:
                    self._con.execute("ROLLBACK")
                raise

    def close(self):
        if self._con is not None:
            self._con.close()
            self._con = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- the definition ------------------------------------------------------------------

    def definition(self) -> dict | None:
        """The definition the sweep last ran with (``None``: never)."""
        with self._guard():
            row = self._con.execute("SELECT definition FROM definitions WHERE sweep = ?",
                                    (self.sweep,)).fetchone()
        return json.loads(row[0]) if row else None

    def set_definition(self, fingerprint: str, definition: dict):
        """Store the definition this run uses (the sweep's results now follow it)."""
        with self._write() as con:
            con.execute("INSERT OR REPLACE INTO definitions VALUES (?, ?, ?, ?, ?)",
                        (self.sweep, fingerprint, self.recipe,
                         json.dumps(definition, sort_keys=True), _utc(time.time())))

    def forget(self):
        """Delete every row, claim and the definition of this sweep (``--fresh``)."""
        with self._write() as con:
            for table in ("points", "claims", "definitions"):
                con.execute(f"DELETE FROM {table} WHERE sweep = ?", (self.sweep,))

    # -- results -------------------------------------------------------------------------

    def finished(self, include_errors=True, since=None) -> set:
        """Keys of the points stored with the store's recipe (``include_errors=False``:
        successes only; ``since``: errors stored before that Unix time count as unfinished)."""
        q = "SELECT key, status, finished_unix FROM points WHERE sweep = ? AND recipe = ?"
        with self._guard():
            rows = self._con.execute(q, (self.sweep, self.recipe)).fetchall()
        return {k for k, status, t in rows
                if status == "ok" or (include_errors and (since is None or t >= since))}

    def record(self, point: dict, metrics: dict | None = None, error: str | None = None,
               seconds: float = 0.0, owner: str | None = None) -> bool:
        """Store one finished point (its metrics, or the error it failed with), release
        ``owner``'s claim on it and commit. An ``ok`` row of the same recipe is kept over an
        ``error``; returns whether the row was written."""
        status = "ok" if error is None else "error"
        now = time.time()
        key = point_key(point)
        values = (self.sweep, key, self.recipe, json.dumps(point, sort_keys=True), status,
                  _json_metrics(metrics or {}), error or "", float(seconds), now, _utc(now))
        with self._write() as con:
            cur = con.execute(
                "INSERT INTO points VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (sweep, key) DO UPDATE SET recipe = excluded.recipe, "
                "point = excluded.point, status = excluded.status, metrics = excluded.metrics, "
                "error = excluded.error, seconds = excluded.seconds, "
                "finished_unix = excluded.finished_unix, finished_utc = excluded.finished_utc "
                "WHERE NOT (points.status = 'ok' AND excluded.status = 'error' AND "
                "points.recipe = excluded.recipe)", values)
            if owner is not None:
                con.execute("DELETE FROM claims WHERE sweep = ? AND key = ? AND owner = ?",
                            (self.sweep, key, owner))
        return cur.rowcount > 0

    def rows(self, keys=None) -> list:
        """The stored points of the sweep with the store's recipe (only those whose key is in
        ``keys``, when given) as flat dicts: the point's axes, its metrics (n/a as ``None``,
        reasons in ``notes``), ``status``, ``error`` and ``seconds``; in key order."""
        keys = None if keys is None else set(keys)
        out = []
        with self._guard():
            found = self._con.execute(
                "SELECT key, point, status, metrics, error, seconds FROM points "
                "WHERE sweep = ? AND recipe = ? ORDER BY key", (self.sweep, self.recipe))
            for key, point, status, metrics, error, seconds in found:
                if keys is None or key in keys:
                    out.append({**json.loads(point), **json.loads(metrics), "status": status,
                                "error": error, "seconds": seconds})
        return out

    def stale(self, keys) -> int:
        """How many stored rows of the sweep are not current: another recipe, or a point not
        in ``keys`` (the current space)."""
        keys = set(keys)
        with self._guard():
            found = self._con.execute("SELECT key, recipe FROM points WHERE sweep = ?",
                                      (self.sweep,)).fetchall()
        return sum(1 for k, r in found if r != self.recipe or k not in keys)

    # -- claims --------------------------------------------------------------------------

    def claim(self, key: str, owner: str, lease_s: float, since=None) -> str:
        """Claim point ``key`` for ``owner`` for ``lease_s`` seconds: ``"claimed"``, or
        ``"done"`` (stored with this recipe; errors stored before ``since`` do not count) or
        ``"busy"`` (another live owner holds it)."""
        now = time.time()
        with self._write() as con:
            row = con.execute("SELECT recipe, status, finished_unix FROM points "
                              "WHERE sweep = ? AND key = ?", (self.sweep, key)).fetchone()
            if row and row[0] == self.recipe and (row[1] == "ok" or since is None or
                                                  row[2] >= since):
                return "done"
            held = con.execute("SELECT owner, host, pid, lease_until, recipe FROM claims "
                               "WHERE sweep = ? AND key = ?", (self.sweep, key)).fetchone()
            if held and held[0] != owner and held[4] == self.recipe and held[3] > now and \
                    not (held[1] == self.host and (held[2] == os.getpid() or
                                                   not _alive(held[2]))):
                return "busy"
            con.execute("INSERT OR REPLACE INTO claims VALUES (?, ?, ?, ?, ?, ?, ?)",
                        (self.sweep, key, self.recipe, owner, self.host, os.getpid(),
                         now + lease_s))
        return "claimed"

    def renew(self, owner: str, lease_s: float):
        """Extend every claim of ``owner`` by ``lease_s`` seconds from now."""
        with self._write() as con:
            con.execute("UPDATE claims SET lease_until = ? WHERE owner = ?",
                        (time.time() + lease_s, owner))

    def release(self, owner: str):
        """Drop every claim of ``owner`` (its points are free for other runs)."""
        with self._write() as con:
            con.execute("DELETE FROM claims WHERE owner = ?", (owner,))
