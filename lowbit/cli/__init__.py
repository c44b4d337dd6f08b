"""The ``lowbit`` command line.

``lowbit formats``                          list the catalogue with limits
``lowbit formats show NAME``                everything about one format
``lowbit formats encode NAME V... [--rounding rtz] [--overflow saturate] [--on-nan zero]``
``lowbit regress [--quick|--full]``         RTL units against golden on Verilator
``lowbit synth UNIT|FILE.v [--param k=v ...] [--target T ...] [--liberty FILE] [--out DIR]``
``lowbit synth --all [--write-baselines]``  the standard catalogue (see :mod:`lowbit.reports`)
``lowbit power DESIGN [--stream NAME|FILE.npz] [--clock-mhz F|fmax] [--liberty FILE] [--out DIR]``
                                            energy per operation from the netlist's switching
                                            activity (see :mod:`lowbit.reports.power`)
``lowbit sim --arch FILE|PRESET --workload PRESET|CSV [--batch N] [--out DIR]``
                                            cycles and energy (see :mod:`lowbit.sim`)
``lowbit faults UNIT --mode adequacy|resilience [--faults N] [--margin 0.02] [--out DIR]``
                                            mutation score of a MAC's vector sets over the
                                            detectable faults, or masked/SDC/hang rates of an
                                            engine (see :mod:`lowbit.verify.faults`)
``lowbit sweep FILE.py|FILE.toml [--out DIR] [--scheduler ADDR] [--jobs N] [--fresh]``
                                            a design-space sweep, resumable, with CSV, plots
                                            and an HTML report (see :mod:`lowbit.explore`);
                                            Ctrl-C exits 130 saying how to resume
``lowbit compare NAME ... [--out DIR]``     published comparisons redone (area, seed-pes,
                                            tensor-engines; see :mod:`lowbit.cli.compare`)
``lowbit demo [--out DIR]``                 the main job (see :mod:`lowbit.demo`)
``lowbit --version``                        ``lowbit <version>``

One module per command (:data:`COMMANDS`), each adding its own arguments (``add_arguments``)
and running itself (``run(console, args) -> exit status``); a new command is one module here
and one line in :data:`COMMANDS`.

User errors print one line on stderr and exit with status 2; no traceback. Every command proves
the folders and files it will write writable before it starts work
(:func:`lowbit.paths.ensure_writable_dir`); a disk that fills up or refuses a write later is one
line too (:func:`lowbit.paths.write_failure`). Parallelism is ``--jobs N`` (default: CPU count).
"""

import sys

import lowbit
from lowbit.cli import compare, demo, faults, formats, power, regress, sim, sweep, synth
from lowbit.cli.parsing import Parser, outputs
from lowbit.errors import LowbitError
from lowbit.terminal import make_console

EXIT_USAGE = 2
#: Every command by name, in the order ``lowbit --help`` lists them.
COMMANDS = {module.NAME: module for module in (formats, regress, synth, power, sim, faults,
                                                sweep, compare, demo)}


def build_parser() -> Parser:
    """The ``lowbit`` parser: ``--version`` and one subcommand per :data:`COMMANDS` entry."""
    parser = Parser(prog="lowbit", description="Bit-accurate low-precision arithmetic toolkit.")
    parser.add_argument("--version", action="version", version=f"lowbit {lowbit.__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    for name, module in COMMANDS.items():
        module.add_arguments(sub.add_parser(name, help=module.HELP))
    return parser


def main(argv=None) -> int:
    """Run the ``lowbit`` command line; return the exit status (2 for a user error)."""
    from lowbit.paths import write_failure

    console = make_console()
    args = None
    try:
        try:
            args = build_parser().parse_args(argv)
        except SystemExit as done:  # --help, --version: printed, nothing else to do
            return done.code or 0
        return COMMANDS[args.command].run(console, args)
    except LowbitError as err:
        message = " ".join(str(err).split())
        print(f"lowbit: error: {message}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as err:  # a full disk or a refused output: one line; anything else: a bug
        message = write_failure(err, outputs(args) if args is not None else [])
        if message is None:
            raise
        print(f"lowbit: error: {message}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("lowbit: interrupted", file=sys.stderr)
        return 130
