"""Where lowbit writes generated files, and how it writes them (atomically)."""

import os
import tempfile
from pathlib import Path


def build_dir() -> Path:
    """The build folder: ``$LOWBIT_BUILD`` if set, else ``./build`` under the working directory."""
    return Path(os.environ.get("LOWBIT_BUILD", "build"))


def write_atomic(path, data) -> Path:
    """Write ``data`` (str or bytes) to ``path`` via a temporary file and a rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = "wb" if isinstance(data, bytes) else "w"
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, mode) as f:
            f.write(data)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the usual permissions
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
