"""What every command shares: argparse with one-line errors, ``--jobs``, output folders.

A command module (:mod:`lowbit.cli`) builds its arguments on a parser of :class:`Parser`, spells
parallelism with :func:`add_jobs` and proves its output folder writable with
:func:`output_folder` before any long work.
"""

import argparse
import tempfile
from pathlib import Path

from lowbit.errors import LowbitError, did_you_mean


class Parser(argparse.ArgumentParser):
    """argparse with one-line errors (exit 2) instead of usage + message."""

    def error(self, message):
        # main() prints "lowbit: error: "; name only the subcommand ("formats encode: ...")
        command = self.prog.partition(" ")[2]
        raise LowbitError(f"{command}: {message}" if command else message)

    def _check_value(self, action, value):
        """An unknown choice in lowbit's words, with the closest known ones."""
        if action.choices is None or value in action.choices:
            return
        if isinstance(action, argparse._SubParsersAction):
            field = " ".join((*self.prog.split()[1:], "command"))
        else:
            field = "/".join(action.option_strings) or action.dest
        listed = ", ".join(map(str, action.choices))
        raise LowbitError(f"{field} must be one of {listed}, not {value!r}"
                          f"{did_you_mean(value, action.choices)}")


def add_jobs(parser, what: str, default: str = "CPU count"):
    """``--jobs N``, the one spelling of parallelism across commands (``default``: what the
    command does without it, for the help)."""
    parser.add_argument("--jobs", type=int, default=None, metavar="N",
                        help=f"parallel {what} (default: {default})")


def output_folder(out, default=None, builds=True) -> Path | None:
    """Prove the run's output folder writable before work starts and return it: ``out`` (from
    ``--out``), else ``default`` (under the build folder; None: named after the run, so the
    build folder is proved without being created). ``builds``: the command also writes into
    the build folder, which is proved too."""
    from lowbit.paths import ensure_build_dir, ensure_writable_dir

    if out is not None:
        ensure_writable_dir(out, "--out")
    if builds or out is None:
        ensure_build_dir(create=builds or default is not None)
    if out is not None:
        return Path(out)
    return None if default is None else ensure_writable_dir(default, "the output folder")


def outputs(args) -> list:
    """Every place a run of ``args`` writes: its output options, the build folder, the
    temporary folder (for :func:`lowbit.paths.write_failure`)."""
    from lowbit.paths import build_dir

    given = [getattr(args, key, None) for key in ("out", "json", "junit")]
    return [g for g in given if g] + [build_dir(), tempfile.gettempdir()]
