"""Where lowbit writes generated files, how it writes them (atomically, and under a folder lock
where processes share a build folder), and the check that an output folder can take them, made
before any long work starts.

Every command calls :func:`ensure_writable_dir` (or :func:`ensure_writable_file`,
:func:`ensure_build_dir`) on each place it will write before it starts work, so a file in the
way or a folder it may not write is one line naming the option, never a traceback after an
hour of work. What can still fail while writing (a disk that fills up) is named in one line by
:func:`write_failure`, which the CLI asks about every ``OSError`` it catches.
"""

import errno
import fcntl
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path

from lowbit.errors import OutputError

#: ``OSError`` numbers that say the disk is full: never a bug of lowbit's, wherever they occur.
FULL_DISK = (errno.ENOSPC, errno.EDQUOT)
#: ``OSError`` numbers that say a place may not be written (no permission, a read-only disk, a
#: file where a folder should be); a user's choice of place when it is an output of the run.
REFUSED = (errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOTDIR, errno.EISDIR)


def build_dir() -> Path:
    """The build folder: ``$LOWBIT_BUILD`` if set, else ``./build`` under the working directory."""
    return Path(os.environ.get("LOWBIT_BUILD", "build"))


def write_atomic(path, data) -> Path:
    """Write ``data`` (str or bytes) to ``path`` via a temporary file and a rename.

    An ``OSError`` raised while writing carries ``path`` as its filename (a full disk fails
    in ``write``, whose error names no file), so the error can say which output failed.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = "wb" if isinstance(data, bytes) else "w"
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, mode) as f:
            f.write(data)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the usual permissions
        os.replace(tmp, path)
    except OSError as err:
        Path(tmp).unlink(missing_ok=True)
        if err.filename is None:
            raise OSError(err.errno, err.strerror, str(path)) from err
        raise
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


#: The lock file :func:`folder_lock` creates in a folder.
LOCK_NAME = ".lowbit.lock"


@contextmanager
def folder_lock(folder):
    """Hold an exclusive lock on ``folder`` (created if missing) while the block runs.

    Processes (and threads) that build into or run from one shared folder, such as a
    Verilator build or a Yosys work folder keyed by a Verilog hash, take turns: each waits
    for the one before it, then finds its finished work. The lock is ``fcntl.flock`` on
    ``folder/.lowbit.lock``: the system releases it when its holder exits or dies, so a
    crashed run never leaves a folder locked. Yields ``folder`` as a Path.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / LOCK_NAME, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield folder
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def ensure_writable_dir(path, field: str = "--out", create: bool = True) -> Path:
    """Create folder ``path`` if it is missing and prove it writable; return it as a Path.

    The proof creates and removes a probe file (permission bits alone say nothing when
    running as root, and nothing about a read-only disk). ``create=False`` leaves a missing
    folder missing and probes the closest folder that exists above it instead (for a check
    made before the input is known to be valid: a typo leaves no folder behind).

    Raises
    ------
    OutputError
        One line naming ``field`` (the option or variable that chose the folder), the path
        and why: ``--out /x/y is a file, not a folder``, ``--out /x/y is not writable
        (permission denied)``, ``--out /x/y/z cannot be created: /x/y is a file, not a
        folder``.
    """
    path = Path(path)
    problem = _folder_problem(path, create)
    if problem:
        raise OutputError(f"{field} {path} {problem}")
    return path


def ensure_writable_file(path, field: str = "--json") -> Path:
    """Prove a file can be written at ``path`` (its folder is created if missing); return it.

    Raises
    ------
    OutputError
        ``--json /x/r is a folder, not a file``, or ``--json /x/r.json: its folder /x is not
        writable (permission denied)`` and the other reasons of :func:`ensure_writable_dir`.
    """
    path = Path(path)
    if path.is_dir():
        raise OutputError(f"{field} {path} is a folder, not a file")
    problem = _folder_problem(path.parent)
    if problem:
        raise OutputError(f"{field} {path}: its folder {path.parent} {problem}")
    return path


def ensure_build_dir(create: bool = True) -> Path:
    """:func:`ensure_writable_dir` of :func:`build_dir`, named ``LOWBIT_BUILD`` when that
    variable chose it, else ``the build folder`` with its absolute path."""
    if "LOWBIT_BUILD" in os.environ:
        return ensure_writable_dir(build_dir(), "LOWBIT_BUILD", create)
    ensure_writable_dir(build_dir().absolute(), "the build folder", create)
    return build_dir()


def write_failure(err: OSError, outputs) -> str | None:
    """One line saying why output could not be written, or None when ``err`` is not that.

    A full disk (:data:`FULL_DISK`) is named wherever it happens; a refusal (:data:`REFUSED`)
    only on a file under one of the folders or files ``outputs`` (the run's ``--out``, the
    build folder, ...). Any other ``OSError`` gets None: it is a bug and keeps its traceback.
    """
    where = err.filename
    if err.errno in FULL_DISK:
        return (f"cannot write {where or 'an output file'}: {_reason(err)}; free some space or "
                f"write elsewhere (--out, LOWBIT_BUILD)")
    if err.errno in REFUSED and where is not None and _is_under(where, outputs):
        return f"cannot write {where}: {_reason(err)}"
    return None


def _folder_problem(path: Path, create: bool = True) -> str | None:
    """Why folder ``path`` cannot take files (words after the path), or None: it can."""
    if path.exists() and not path.is_dir():
        return "is a file, not a folder"
    existing = path if path.is_dir() else next(
        (p for p in path.absolute().parents if p.exists()), None)
    if existing is not None and not existing.is_dir():
        return f"cannot be created: {existing} is a file, not a folder"
    verb = "is not writable" if path.is_dir() else "cannot be created"
    try:
        if create:
            path.mkdir(parents=True, exist_ok=True)
            verb = "is not writable"
            _probe(path)
        elif existing is not None:
            _probe(existing)
    except OSError as err:
        return f"{verb} ({_reason(err)})"
    return None


def _probe(folder: Path):
    """Create and remove a file in ``folder``: the one proof that it takes files."""
    fd, probe = tempfile.mkstemp(dir=folder, prefix=".lowbit-probe-")
    os.close(fd)
    os.unlink(probe)


def _reason(err: OSError) -> str:
    text = err.strerror or type(err).__name__
    return text[:1].lower() + text[1:]


def _is_under(filename, outputs) -> bool:
    target = Path(os.path.abspath(os.fsdecode(filename)))
    return any(target.is_relative_to(os.path.abspath(o)) for o in outputs if o)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
