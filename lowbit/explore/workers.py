"""The processes that evaluate sweep points, one point at a time each, so that a process that
dies (``os._exit``, a segfault, ``sys.exit``, the out-of-memory killer) is charged to the one
point it was running: that point is recorded as failed (``worker died: exit code 3``,
``worker died: killed by SIGSEGV``) and the sweep goes on with a new process.

Every worker leads its own process group, so killing the group also kills what the point
started (Yosys, Verilator, make); a worker whose parent disappears kills its group within
:data:`WATCH_S` (no orphans even when the parent is killed with SIGKILL). Workers ignore
SIGINT: the run that owns them decides (Ctrl-C kills them).

* :class:`LocalPool`: ``jobs`` forked workers on this machine (a fork inherits the sweep, so
  its functions need not pickle).
* :class:`DaskPool`: points as Dask tasks; each task hands its point to a worker subprocess
  that the Dask worker thread keeps (:func:`dask_task`), so a dying point never takes a Dask
  worker down, and Ctrl-C reaches running tasks through a Dask ``Event``.

A finished point is the tuple ``(point, metrics, error or None, seconds)``.
"""

import hashlib
import multiprocessing
import os
import pickle
import signal
import subprocess
import sys
import threading
import time
import traceback
import uuid
from multiprocessing.connection import Connection, wait
from pathlib import Path

from lowbit.errors import LowbitError

WATCH_S = 0.5  # how often a worker checks that its parent is alive
_LOADED = {}  # sweep source -> Sweep, per worker process


class WorkerError(LowbitError, ValueError):
    """A Dask scheduler that cannot be reached."""


def describe_exit(exitcode) -> str:
    """``worker died: exit code 3`` or ``worker died: killed by SIGSEGV``."""
    if exitcode is None:
        return "worker died: connection lost"
    if exitcode < 0:
        try:
            return f"worker died: killed by {signal.Signals(-exitcode).name}"
        except ValueError:
            return f"worker died: killed by signal {-exitcode}"
    return f"worker died: exit code {exitcode}"


def _sweep_of(source):
    """The sweep of ``source``: a sweep file path, a pickled sweep, or the Sweep itself."""
    from lowbit.explore.sweep import load_sweep
    if isinstance(source, (str, bytes)):
        key = source if isinstance(source, str) else hashlib.sha256(source).hexdigest()
        if key not in _LOADED:
            _LOADED[key] = load_sweep(source) if isinstance(source, str) else \
                pickle.loads(source)
        return _LOADED[key]
    return source


def evaluate_task(source, point: dict) -> tuple:
    """Evaluate one point: ``(point, metrics, error text or None, seconds)``. An exception is
    the point's error (``Type: message (file:line)``); the process survives it."""
    from lowbit.explore.evaluate import evaluate
    start = time.perf_counter()
    try:
        sweep = _sweep_of(source)
        metrics = evaluate(point, sweep.stages, sweep.metrics)
        return point, metrics, None, time.perf_counter() - start
    except Exception as err:  # recorded per point; the sweep goes on
        where = traceback.extract_tb(err.__traceback__)[-1]
        text = f"{type(err).__name__}: {err} ({Path(where.filename).name}:{where.lineno})"
        return point, {}, text, time.perf_counter() - start


def _watch_parent():
    """Kill this process group when the parent goes (reparenting changes ``getppid``)."""
    parent = os.getppid()

    def watch():
        while os.getppid() == parent:
            time.sleep(WATCH_S)
        os.killpg(0, signal.SIGKILL)
    threading.Thread(target=watch, name="lowbit-parent-watch", daemon=True).start()


def _serve(inbox: Connection, outbox: Connection, source=None):
    """A worker's loop: ``(point, source or None)`` in, the finished point out, until
    ``None`` or the parent closes the pipe."""
    try:
        os.setpgid(0, 0)
    except OSError:  # already a group leader
        pass
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # SIGTERM (multiprocessing's terminate) takes the point's tools down with the worker.
    signal.signal(signal.SIGTERM, lambda *_: os.killpg(0, signal.SIGKILL))
    _watch_parent()
    while True:
        try:
            message = inbox.recv()
        except (EOFError, OSError):
            return
        if message is None:
            return
        point, given = message
        outbox.send(evaluate_task(given if given is not None else source, point))


def _fork_main(conn, source):
    _serve(conn, conn, source)


class _Worker:
    """The parent's handle on one worker: the point it runs and how to hear from it.
    ``wait_exit(timeout)`` returns the exit code (negative: killed by that signal) once the
    process has ended, ``None`` while it runs."""

    def __init__(self, inbox, outbox, pid, wait_exit):
        self.inbox, self.outbox = inbox, outbox  # parent -> worker, worker -> parent
        self.pid, self._wait_exit_code = pid, wait_exit
        self.point, self.started, self.reaped = None, 0.0, False
        try:
            os.setpgid(pid, pid)  # also here: the group exists before anyone kills it
        except OSError:
            pass

    def send(self, point, source=None):
        self.point, self.started = point, time.perf_counter()
        self.inbox.send((point, source))

    def finished(self):
        """The finished point (a death counts: ``worker died: ...``), or ``None`` while the
        point still runs."""
        lost = False
        try:
            if self.outbox.poll():
                result = self.outbox.recv()
                self.point = None
                return result
        except (EOFError, OSError, pickle.UnpicklingError):
            lost = True  # the pipe closed: the worker is gone or going
        if not lost and self.alive():
            return None
        self.kill()  # before reaping it: its pid (the group's id) cannot be reused meanwhile
        code = self.wait_exit(5.0)
        point, self.point = self.point, None
        return point, {}, describe_exit(code), time.perf_counter() - self.started

    def wait_exit(self, timeout: float):
        """The exit code once the worker has ended (it is reaped then), else ``None``."""
        code = self._wait_exit_code(timeout)
        self.reaped = self.reaped or code is not None
        return code

    def alive(self) -> bool:
        """Whether the worker still runs (asked without reaping it)."""
        try:
            return os.waitid(os.P_PID, self.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is None
        except ChildProcessError:  # reaped already
            return False

    def kill(self):
        """SIGKILL the worker's process group (the worker and every tool it started); nothing
        once it is reaped (its pid may belong to another process by then)."""
        if self.reaped:
            return
        for target in (lambda: os.killpg(self.pid, signal.SIGKILL),
                       lambda: os.kill(self.pid, signal.SIGKILL)):
            try:
                target()
            except (ProcessLookupError, PermissionError):
                pass


def _process_exit(proc):
    def wait_exit(timeout):
        proc.join(timeout)
        return proc.exitcode
    return wait_exit


class LocalPool:
    """Up to ``jobs`` forked workers on this machine, started as points arrive."""

    def __init__(self, source, jobs: int):
        self.source, self.slots = source, jobs
        self._ctx = multiprocessing.get_context("fork")
        self._idle, self._busy, self._procs = [], [], {}

    def _start(self) -> _Worker:
        parent, child = self._ctx.Pipe()
        proc = self._ctx.Process(target=_fork_main, args=(child, self.source),
                                 name="lowbit-sweep-worker")
        proc.start()
        child.close()
        worker = _Worker(parent, parent, proc.pid, _process_exit(proc))
        worker.sentinel = proc.sentinel
        self._procs[worker] = proc
        return worker

    def submit(self, point):
        while self._idle and not self._idle[-1].alive():  # died between points: no blame
            self._reap(self._idle.pop())
        worker = self._idle.pop() if self._idle else self._start()
        worker.send(point)
        self._busy.append(worker)

    def wait(self, timeout: float) -> list:
        """Finished points (including deaths), waiting up to ``timeout`` seconds for one."""
        if not self._busy:
            time.sleep(timeout)
            return []
        ready = set(wait([w.outbox for w in self._busy] + [w.sentinel for w in self._busy],
                         timeout))
        out = []
        for worker in list(self._busy):
            if worker.outbox in ready or worker.sentinel in ready:
                result = worker.finished()
                if result is None:
                    continue
                self._busy.remove(worker)
                if worker.point is None and worker.alive():
                    self._idle.append(worker)
                else:
                    self._reap(worker)
                out.append(result)
        return out

    def _reap(self, worker):
        worker.kill()
        worker.wait_exit(5.0)
        self._procs.pop(worker, None)
        worker.inbox.close()

    def close(self, kill: bool = False):
        """Stop every worker: idle ones are told to finish (up to 2 s), busy ones (or all,
        ``kill``) are killed with their process groups."""
        if not kill:
            for worker in self._idle:
                try:
                    worker.inbox.send(None)
                except OSError:
                    pass
            waiting, deadline = [w.sentinel for w in self._idle], time.monotonic() + 2
            while waiting and time.monotonic() < deadline:
                for ready in wait(waiting, deadline - time.monotonic()):
                    waiting.remove(ready)
        for worker in self._busy + self._idle:
            self._reap(worker)
        self._busy, self._idle = [], []


# -- Dask ------------------------------------------------------------------------------------

_THREAD_WORKERS = {}  # Dask worker thread id -> its worker subprocess
_THREAD_LOCK = threading.Lock()


class _SubprocessWorker(_Worker):
    """A worker in a fresh interpreter (:func:`subprocess_main`): usable from a
    Dask worker, which may not fork children of its own through multiprocessing."""

    def __init__(self):
        to_child_r, to_child_w = os.pipe()
        from_child_r, from_child_w = os.pipe()
        self.proc = subprocess.Popen(
            [sys.executable, "-c", "from lowbit.explore.workers import subprocess_main; "
             f"subprocess_main({to_child_r}, {from_child_w})"],
            pass_fds=(to_child_r, from_child_w), stdin=subprocess.DEVNULL, process_group=0)
        os.close(to_child_r)
        os.close(from_child_w)
        super().__init__(Connection(to_child_w, readable=False),
                         Connection(from_child_r, writable=False), self.proc.pid,
                         self._returncode)

    def _returncode(self, timeout):
        try:
            return self.proc.wait(timeout) if timeout else self.proc.poll()
        except subprocess.TimeoutExpired:
            return None

    def run(self, point, source, stop) -> tuple:
        """Evaluate ``point``; poll ``stop()`` every second (True: kill, report interrupted)."""
        self.send(point, source)
        last = time.monotonic()
        while True:
            if self.outbox.poll(0.2) or not self.alive():
                result = self.finished()
                if result is not None:
                    return result
            if time.monotonic() - last >= 1.0:
                last = time.monotonic()
                if stop():
                    self.kill()
                    self.wait_exit(5.0)
                    return point, {}, "interrupted", time.perf_counter() - self.started


def dask_task(source, point: dict, stop_event: str) -> tuple:
    """A Dask task: evaluate ``point`` in this Dask worker thread's worker subprocess
    (started on first use, replaced after a death); stop when the Dask ``Event`` named
    ``stop_event`` is set."""
    from distributed import Event
    key = threading.get_ident()
    with _THREAD_LOCK:
        worker = _THREAD_WORKERS.get(key)
        if worker is None or not worker.alive():
            worker = _THREAD_WORKERS[key] = _SubprocessWorker()
    event = Event(stop_event)
    result = worker.run(point, source, event.is_set)
    if not worker.alive():
        with _THREAD_LOCK:
            _THREAD_WORKERS.pop(key, None)
    return result


class DaskPool:
    """Points as tasks on the Dask cluster at ``scheduler`` (slots: its worker threads)."""

    def __init__(self, source, scheduler: str):
        import cloudpickle
        from distributed import Client, Event
        try:
            self.client = Client(scheduler, timeout="10s")
        except OSError as err:
            raise WorkerError(f"cannot reach the Dask scheduler at {scheduler}: {err}") from None
        self.source = source if isinstance(source, str) else cloudpickle.dumps(source)
        self.stop_name = f"lowbit-sweep-stop-{uuid.uuid4().hex}"
        self._stop = Event(self.stop_name, client=self.client)
        self.slots = max(1, sum(self.client.nthreads().values()))
        self._futures = {}

    def submit(self, point):
        future = self.client.submit(dask_task, self.source, point, self.stop_name, pure=False)
        self._futures[future] = (point, time.perf_counter())

    def wait(self, timeout: float) -> list:
        deadline = time.monotonic() + timeout
        while True:
            done = [f for f in self._futures if f.done()]
            if done or time.monotonic() >= deadline:
                break
            time.sleep(0.05)
        out = []
        for future in done:
            point, started = self._futures.pop(future)
            try:
                out.append(future.result())
            except Exception as err:  # the Dask worker itself died (KilledWorker) or similar
                out.append((point, {}, f"Dask task failed: {type(err).__name__}: {err}",
                            time.perf_counter() - started))
        return out

    def close(self, kill: bool = False):
        try:
            if kill and self._futures:
                self._stop.set()
                self.client.cancel(list(self._futures))
        finally:
            self._futures = {}
            self.client.close(timeout=5)


def subprocess_main(inbox_fd: int, outbox_fd: int):
    """The loop of a :class:`_SubprocessWorker`, on the pipe ends its parent passed."""
    _serve(Connection(inbox_fd, writable=False), Connection(outbox_fd, readable=False))
