"""``lowbit demo [--out DIR]``: the main job (:mod:`lowbit.demo`)."""

from lowbit.cli.parsing import output_folder

NAME = "demo"
HELP = "the main job: formats, RTL, synthesis, the cycle model and a sweep into build/demo/"


def add_arguments(parser):
    """The output folder."""
    parser.add_argument("--out", default=None, help="output folder (default build/demo)")


def run(console, args) -> int:
    """Run the demo into ``--out`` (default ``build/demo``)."""
    from lowbit import demo
    from lowbit.paths import build_dir

    demo.run(output_folder(args.out, build_dir() / "demo"), console)
    return 0
