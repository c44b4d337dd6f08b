"""Regression runs across worker processes: one configuration (design) per process.

Each configuration builds in its own folder (keyed by its Verilog's hash) and its vector sets
run one after the other in one worker, so configurations are independent and run side by side:
``lowbit regress --jobs N`` keeps ``N`` workers busy. A worker sends each result row as its run
finishes; a run that raises becomes a failed row with the error; a worker that dies (a signal,
a crash of the simulator's process) leaves its remaining vector sets as failed rows saying so,
and the other workers go on. Ctrl-C ends every worker and propagates.
"""

import multiprocessing
import time
from multiprocessing.connection import wait

from lowbit.errors import LowbitError, check_int

#: The most worker processes a run takes.
MAX_JOBS = 256


def _worker(name: str, vector_sets, sim: str, conn):
    """Run ``vector_sets`` of the regression entry ``name``; send each row on ``conn``."""
    from lowbit.verify import regression

    try:
        entry = {e.name: e for e in regression.entries(full=True)}[name]
        for vector_set in vector_sets:
            start = time.perf_counter()
            try:
                row = regression.run_entry(entry, vector_set, sim)
            except Exception as err:  # recorded in the row; the other sets still run
                row = failed_row(entry, vector_set, sim, f"{type(err).__name__}: {err}", start)
            conn.send(row)
    except KeyboardInterrupt:  # the parent saw Ctrl-C too and ends the run
        pass
    finally:
        conn.close()


def failed_row(entry, vector_set: str, sim: str, error: str, start: float) -> dict:
    """The failed result row of ``entry``'s ``vector_set`` that ended with ``error``."""
    from lowbit.verify import regression

    row = regression.new_row(entry.name, entry.unit, vector_set, sim,
                             regression.driver_for(entry.bench, sim))
    row.update(status="fail", error=error, seconds=round(time.perf_counter() - start, 3),
               vectors_per_s=0)
    return row


def check_jobs(jobs) -> int:
    """Return ``jobs`` if it is a worker count :func:`run_configurations` takes."""
    return check_int("--jobs", jobs, 1, MAX_JOBS, error=LowbitError)


def run_configurations(work, sim: str, jobs: int = 1, on_row=None) -> list:
    """Run ``work`` (``(entry, vector sets)`` pairs) on ``jobs`` worker processes (``1``: in
    this process); call ``on_row(row)`` as each run finishes; return the rows in ``work``'s
    order."""
    from lowbit.verify import regression

    check_jobs(jobs)
    on_row = on_row or (lambda row: None)
    if jobs == 1:
        rows = []
        for entry, vector_sets in work:
            for vector_set in vector_sets:
                rows.append(regression.run_entry(entry, vector_set, sim))
                on_row(rows[-1])
        return rows
    context = multiprocessing.get_context("spawn")  # no fork of a threaded parent
    pending, running, done = list(enumerate(work)), {}, {}
    try:
        while pending or running:
            while pending and len(running) < jobs:
                index, (entry, vector_sets) = pending.pop(0)
                receive, send = context.Pipe(duplex=False)
                worker = context.Process(target=_worker, daemon=True, name=entry.name,
                                         args=(entry.name, tuple(vector_sets), sim, send))
                worker.start()
                send.close()
                running[receive] = (index, entry, tuple(vector_sets), worker, [],
                                    time.perf_counter())
            for conn in wait(list(running)):
                index, entry, vector_sets, worker, rows, start = running[conn]
                try:
                    rows.append(conn.recv())
                    on_row(rows[-1])
                    running[conn] = (index, entry, vector_sets, worker, rows,
                                     time.perf_counter())
                    continue
                except EOFError:
                    pass
                worker.join()
                for vector_set in vector_sets[len(rows):]:
                    rows.append(failed_row(entry, vector_set, sim,
                                           f"the worker process died (exit code "
                                           f"{worker.exitcode}) before this run finished",
                                           start))
                    on_row(rows[-1])
                done[index] = rows
                del running[conn]
    finally:
        for _, _, _, worker, _, _ in running.values():  # Ctrl-C or an error: end them all
            worker.terminate()
            worker.join()
    return [row for index in sorted(done) for row in done[index]]
