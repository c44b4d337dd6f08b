"""Running a sweep: every point not yet in the results database is evaluated on a local process
pool, or on a Dask distributed cluster given its scheduler address, and committed to SQLite
the moment it finishes. A rerun skips finished points, so an interrupted sweep (Ctrl-C, a
crash, a killed job) resumes where it stopped and loses nothing; a point that raises is stored
with its error and the sweep goes on.

Workers get the sweep *file* when there is one (each loads it once), so user metrics need not
pickle; a :class:`~lowbit.explore.sweep.Sweep` built in a script is sent as an object (Dask
pickles it with cloudpickle). On a cluster, workers need lowbit installed and, for a sweep
file, the same path readable.
"""

import sys
import time
import traceback
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn,
                           TimeElapsedColumn, TimeRemainingColumn)

from lowbit.errors import LowbitError, check_int
from lowbit.explore.evaluate import evaluate
from lowbit.explore.space import point_key
from lowbit.explore.store import Store
from lowbit.explore.sweep import Sweep, load_sweep
from lowbit.paths import build_dir

_LOADED = {}  # sweep file path -> Sweep, per worker process


class RunnerError(LowbitError, ValueError):
    """A bad scheduler address or worker count."""


@dataclass
class SweepRun:
    """What a run did: the database, the points evaluated now, skipped and failed."""

    sweep: Sweep
    database: Path
    evaluated: int
    skipped: int
    failed: int
    seconds: float

    def rows(self) -> list:
        with Store(self.database, self.sweep.name) as store:
            return store.rows()


def database_path(sweep: Sweep, out=None) -> Path:
    """``<out>/<name>.sqlite``, default ``build/sweeps/<name>.sqlite``."""
    return Path(out or build_dir() / "sweeps") / f"{sweep.name}.sqlite"


def evaluate_task(source, point: dict) -> tuple:
    """Evaluate one point in a worker: ``(point, metrics, error text or None, seconds)``."""
    start = time.perf_counter()
    try:
        if isinstance(source, str):
            if source not in _LOADED:
                _LOADED[source] = load_sweep(source)
            sweep = _LOADED[source]
        else:
            sweep = source
        metrics = evaluate(point, sweep.stages, sweep.metrics)
        return point, metrics, None, time.perf_counter() - start
    except Exception as err:  # recorded per point; the sweep goes on
        where = traceback.extract_tb(err.__traceback__)[-1]
        text = f"{type(err).__name__}: {err} ({Path(where.filename).name}:{where.lineno})"
        return point, {}, text, time.perf_counter() - start


def run_sweep(sweep, out=None, scheduler=None, workers=None, progress=None,
              retry_errors=False) -> SweepRun:
    """Evaluate every point of ``sweep`` (a :class:`Sweep` or a sweep file path) missing from
    its database; ``scheduler``: a Dask scheduler address (``tcp://host:8786``), else a local
    pool of ``workers`` processes (default: CPU count). ``retry_errors`` reruns failed points.
    ``progress``: show a bar with ETA (default when on a terminal)."""
    start = time.perf_counter()
    source = str(Path(sweep).resolve()) if isinstance(sweep, (str, Path)) else sweep
    sweep = load_sweep(sweep) if isinstance(sweep, (str, Path)) else sweep
    if workers is not None:
        check_int("workers", workers, 1, 1024, RunnerError)
    if scheduler is not None and (not isinstance(scheduler, str) or "://" not in scheduler):
        raise RunnerError(f"scheduler must be an address such as tcp://host:8786, not "
                          f"{scheduler!r}")
    db = database_path(sweep, out)
    failed = 0
    with Store(db, sweep.name) as store:
        done = store.finished(include_errors=not retry_errors)
        points = sweep.space.points()
        todo = [p for p in points if point_key(p) not in done]
        with _progress(progress) as bar:
            task = bar.add_task(f"sweep {sweep.name}", total=len(points),
                                completed=len(points) - len(todo))
            for point, metrics, error, seconds in _results(source, todo, scheduler, workers):
                store.record(point, metrics, error, seconds)
                failed += error is not None
                bar.advance(task)
    return SweepRun(sweep, db, len(todo), len(points) - len(todo), failed,
                    round(time.perf_counter() - start, 2))


def _results(source, todo, scheduler, workers):
    """Yield finished ``evaluate_task`` results in completion order."""
    if not todo:
        return
    if scheduler is not None:
        from distributed import Client, as_completed as dask_completed
        try:
            client = Client(scheduler, timeout="10s")
        except OSError as err:
            raise RunnerError(f"cannot reach the Dask scheduler at {scheduler}: {err}") from None
        with client:
            futures = [client.submit(evaluate_task, source, p, pure=False) for p in todo]
            for future in dask_completed(futures):
                yield future.result()
        return
    with ProcessPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(evaluate_task, source, p) for p in todo]
        try:
            for future in as_completed(futures):
                yield future.result()
        except BaseException:
            for f in futures:
                f.cancel()
            raise


def _progress(show):
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(),
                    disable=not (sys.stderr.isatty() if show is None else show))
