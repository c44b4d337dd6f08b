"""Deterministic tool crashes for tests: a command prefix that runs the tool, then kills itself
with a signal, a given number of times per working folder.

``crashing(tmp_path, times=1)`` returns ``[path of a shell script]``; put it in front of a
tool's command line (monkeypatch the launcher's command builder). Each run in a folder whose
path matches ``where``, with arguments matching ``args`` (shell ``case`` patterns), runs the
command to the end, so its logs are written, and then, while fewer than ``times`` runs in that
folder were killed, the script kills itself with ``SIG<signal>``: the launcher sees exactly
what a crashed tool gives (return code -N). No sleeps, no timing: which runs crash is fixed by
the count files in ``tmp_path``. Prefixes compose: ``crashing(a) + crashing(b)``.
"""

import stat


def crashing(tmp_path, *, times=1, where="*", args="*", signal="BUS") -> list:
    """The command prefix (see the module docstring); ``calls(tmp_path)`` counts the runs."""
    counts = tmp_path / "crash-counts"
    counts.mkdir(parents=True, exist_ok=True)
    script = tmp_path / f"crash-{len(list(tmp_path.glob('crash-*.sh')))}.sh"
    script.write_text(f"""#!/bin/sh
echo x >> '{counts}/calls'
case "$PWD" in {where}) ;; *) exec "$@" ;; esac
case "$*" in {args}) ;; *) exec "$@" ;; esac
count='{counts}'/$(pwd | tr / _)
n=$(cat "$count" 2>/dev/null || echo 0)
[ "$n" -ge {times} ] && exec "$@"
echo $((n + 1)) > "$count"
"$@"
kill -s {signal} $$
""")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return [str(script)]


def calls(tmp_path) -> int:
    """How many runs went through :func:`crashing` prefixes made in ``tmp_path``."""
    path = tmp_path / "crash-counts" / "calls"
    return len(path.read_text().split()) if path.exists() else 0
