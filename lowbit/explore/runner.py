"""Running a sweep: every point without a current row in the results database is claimed,
evaluated on a local pool of worker processes or on a Dask distributed cluster given its
scheduler address, and committed to SQLite the moment it finishes.

* Resume: a rerun skips finished points, so an interrupted sweep (Ctrl-C, a crash, a killed
  job) resumes where it stopped and loses nothing; a point that raises is stored with its
  error and the sweep goes on; so is a point whose worker process dies (``worker died: exit
  code 3``, ``worker died: killed by SIGSEGV``).
* A changed sweep: the database keeps the definition each sweep last ran with. Rows computed
  with other stages or user metrics (another :meth:`~lowbit.explore.Sweep.recipe`) are stale:
  their points are evaluated again; rows of points no longer in the space stay in the file
  but never reach :attr:`SweepRun.rows`, the CSV, the plots or the Pareto front. ``fresh``
  deletes the sweep's rows first.
* Concurrent runs on one database claim each point before evaluating it (a lease renewed
  every :data:`LEASE_S` / 4 seconds; a crashed owner's claims expire), so every point is
  evaluated once; a run waits for points other runs hold, so its report is complete.
* Ctrl-C (SIGINT): the run kills its workers' process groups (with the tools they started),
  releases its claims, and raises :class:`SweepInterrupted` within about a second; a second
  Ctrl-C changes nothing. The database holds every point finished before.

Workers get the sweep *file* when there is one (each loads it once), so user metrics need not
pickle; a :class:`~lowbit.explore.sweep.Sweep` built in a script is inherited by the forked
local workers, or sent to Dask with cloudpickle. On a cluster, workers need lowbit installed
and, for a sweep file, the same path readable.
"""

import os
import signal
import socket
import sys
import threading
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn,
                           TimeElapsedColumn, TimeRemainingColumn)

from lowbit.errors import LowbitError, check_int
from lowbit.explore.report import write_report
from lowbit.explore.space import point_key
from lowbit.explore.store import Store
from lowbit.explore.sweep import Sweep, describe_changes, load_sweep
from lowbit.explore.workers import DaskPool, LocalPool, evaluate_task  # noqa: F401
from lowbit.paths import build_dir

LEASE_S = 60.0  # a claim's lease; renewed every LEASE_S / 4 by a live run
POLL_S = 0.2  # how often the run looks at its workers, claims and Ctrl-C


class RunnerError(LowbitError, ValueError):
    """A bad scheduler address or worker count."""


class SweepInterrupted(KeyboardInterrupt):
    """Ctrl-C stopped a sweep; the message says what is stored and how to resume."""


@dataclass
class SweepRun:
    """What a run did: the database, the points evaluated now, skipped (already stored),
    evaluated by another run meanwhile, and failed; what changed in the definition; and
    ``rows``, the current rows (a list of dicts, one per point of the sweep, computed with its
    stages and metrics, as :attr:`lowbit.sim.Results.rows` is a list of dicts)."""

    sweep: Sweep
    database: Path
    evaluated: int
    skipped: int
    failed: int
    seconds: float
    by_others: int = 0
    changes: tuple = ()
    stale: int = 0
    rows: list = field(default_factory=list, repr=False)

    def write_report(self, out=None) -> dict:
        """Write the sweep's CSV, Pareto CSV, plots and HTML report into folder ``out`` (str
        or Path; default: the database's folder); return ``{kind: path}``."""
        folder = Path(out) if out is not None else self.database.parent
        return write_report(self.sweep, self.rows, folder)


def current_rows(sweep: Sweep, database: Path, keys) -> list:
    """The rows of the points ``keys`` stored in ``database`` with ``sweep``'s recipe."""
    with Store(database, sweep.name, sweep.recipe(), readonly=True) as store:
        return store.rows(keys)


def database_path(sweep: Sweep, out=None) -> Path:
    """``<out>/<name>.sqlite``, default ``build/sweeps/<name>.sqlite``."""
    return Path(out or build_dir() / "sweeps") / f"{sweep.name}.sqlite"


class _Interrupt:
    """SIGINT sets a flag the run loop reads (no exception in the middle of a commit)."""

    def __init__(self):
        self.stop = False
        self._old = None

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            self._old = signal.signal(signal.SIGINT, self._on_signal)
        return self

    def _on_signal(self, *_):
        self.stop = True

    def __exit__(self, *exc):
        if self._old is not None:
            signal.signal(signal.SIGINT, self._old)


def run_sweep(sweep, out=None, scheduler=None, workers=None, progress=None,
              retry_errors=False, fresh=False, log=None) -> SweepRun:
    """Evaluate every point of ``sweep`` (a :class:`Sweep` or a sweep file path, str or Path)
    without a current row in its database ``<out>/<name>.sqlite`` (``out``: str or Path,
    default ``build/sweeps``); return the :class:`SweepRun` with every current row
    (``.rows``; ``.write_report()`` writes the report). ``scheduler``: a Dask scheduler address
    (``tcp://host:8786``), else a local pool of ``workers`` processes (default: CPU count).
    ``retry_errors`` reruns failed points; ``fresh`` deletes the sweep's stored rows first.
    ``progress``: show a bar with ETA (default when on a terminal); ``log(line)``: told what
    changed since the stored definition. Ctrl-C raises :class:`SweepInterrupted`."""
    start_unix, start = time.time(), time.perf_counter()
    source = str(Path(sweep).resolve()) if isinstance(sweep, (str, Path)) else sweep
    sweep = load_sweep(sweep) if isinstance(sweep, (str, Path)) else sweep
    if workers is not None:
        check_int("jobs", workers, 1, 1024, RunnerError)
    if scheduler is not None and (not isinstance(scheduler, str) or "://" not in scheduler):
        raise RunnerError(f"scheduler must be an address such as tcp://host:8786, not "
                          f"{scheduler!r}")
    db = database_path(sweep, out)
    points = {point_key(p): p for p in sweep.space.points()}
    with Store(db, sweep.name, sweep.recipe()) as store:
        if fresh:
            store.forget()
        old = store.definition()
        changes = tuple(describe_changes(old, sweep.definition())) if old else ()
        store.set_definition(sweep.fingerprint(), sweep.definition())
        since = start_unix if retry_errors else None
        done = store.finished(since=since)
        todo = [k for k in points if k not in done]
        stale = store.stale(points)
        if changes and log is not None:
            log(f"sweep {sweep.name} changed since {db.name} was written "
                f"({'; '.join(changes)}): {len(todo)} points to evaluate, {stale} stored rows "
                f"of other definitions left out of the reports (--fresh deletes them)")
        counts = _evaluate(store, source, points, todo, scheduler, workers, progress, since,
                           sweep.name)
    return SweepRun(sweep, db, counts["evaluated"], len(points) - len(todo), counts["failed"],
                    round(time.perf_counter() - start, 2), counts["by_others"], changes, stale,
                    current_rows(sweep, db, tuple(points)))


def _evaluate(store, source, points, todo, scheduler, workers, progress, since, name) -> dict:
    """Claim, evaluate and record the ``todo`` keys; return the counts."""
    counts = {"evaluated": 0, "failed": 0, "by_others": 0}
    if not todo:
        return counts
    owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
    pending, elsewhere, inflight = deque(todo), [], set()
    pool, ok = None, False
    with _Interrupt() as interrupt, _progress(progress) as bar:
        task = bar.add_task(f"sweep {name}", total=len(points),
                            completed=len(points) - len(todo))
        renewed = time.monotonic()
        try:
            while not interrupt.stop:
                if pool is None:
                    pool = DaskPool(source, scheduler) if scheduler else \
                        LocalPool(source, workers or os.cpu_count() or 1)
                while pending and len(inflight) < pool.slots and not interrupt.stop:
                    key = pending.popleft()
                    state = store.claim(key, owner, LEASE_S, since)
                    if state == "claimed":
                        pool.submit(points[key])
                        inflight.add(key)
                    elif state == "busy":
                        elsewhere.append(key)
                    else:
                        counts["by_others"] += 1
                        bar.advance(task)
                if not inflight and not pending:
                    if not elsewhere:
                        break
                    time.sleep(POLL_S)  # other runs hold the rest: look again
                    pending.extend(elsewhere)
                    elsewhere.clear()
                for point, metrics, error, seconds in pool.wait(POLL_S):
                    store.record(point, metrics, error, seconds, owner)
                    inflight.discard(point_key(point))
                    counts["evaluated"] += 1
                    counts["failed"] += error is not None
                    bar.advance(task)
                if time.monotonic() - renewed > LEASE_S / 4:
                    store.renew(owner, LEASE_S)
                    renewed = time.monotonic()
                bar.refresh()
            ok = not interrupt.stop
        finally:
            if pool is not None:
                pool.close(kill=not ok)
            try:
                store.release(owner)
            except LowbitError:
                pass  # the claims expire with their lease
        if interrupt.stop:
            stored = len(store.finished() & set(points))
            raise SweepInterrupted(
                f"interrupted: {stored} of {len(points)} points of sweep {name} are stored in "
                f"{store.path}; run the same command to resume")
    return counts


def _progress(show):
    # auto_refresh off: no refresh thread, so forking a worker never copies a held lock.
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(),
                    auto_refresh=False,
                    disable=not (sys.stderr.isatty() if show is None else show))
