"""A sweep: its name, design space, stages, user metrics, plots and Pareto objectives; loaded
from a Python file (which defines ``sweep = Sweep(...)``) or a TOML file.

TOML layout::

    [sweep]
    name = "array-size-vs-dataflow"
    stages = ["area", "sim"]
    [axes]
    rows = [8, 16, 32]
    dataflow = ["os", "ws"]
    [objectives]          # metric = "min" | "max"; the Pareto front is over these
    energy_per_token_uj = "min"
    array_area_ge = "min"
    [[plot]]              # x, y, and optionally color (an axis or metric)
    x = "array_area_ge"
    y = "energy_per_token_uj"
    color = "dataflow"

Everything is checked when the file loads, before any point runs; errors name the field.
"""

import hashlib
import importlib.util
import re
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from lowbit.errors import LowbitError
from lowbit.explore.evaluate import DEFAULT_STAGES, check_stages
from lowbit.explore.pareto import SENSES
from lowbit.explore.space import Space, SpaceError

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


class SweepError(LowbitError, ValueError):
    """A malformed sweep definition or file."""


@dataclass
class Sweep:
    """What to sweep and what to report. ``metrics``: user functions ``f(point, metrics) ->
    dict``; ``objectives``: metric -> ``min``/``max`` (2 or 3 for a Pareto front);
    ``plots``: ``(x, y, color or None)`` triples of axis or metric names."""

    name: str
    space: Space
    stages: tuple = DEFAULT_STAGES
    metrics: tuple = ()
    objectives: dict = field(default_factory=dict)
    plots: list = field(default_factory=list)
    title: str = ""

    def __post_init__(self):
        if not isinstance(self.name, str) or not _NAME.match(self.name):
            raise SweepError(f"sweep name must be 1-64 letters, digits, '_', '.', '-', not "
                             f"{self.name!r}")
        if not isinstance(self.space, Space):
            raise SweepError(f"sweep space must be a lowbit.explore.Space, not "
                             f"{type(self.space).__name__}")
        try:
            self.stages = check_stages(self.stages)
        except LowbitError as err:
            raise SweepError(f"sweep stages: {err}") from None
        self.metrics = tuple(self.metrics)
        for fn in self.metrics:
            if not callable(fn):
                raise SweepError(f"sweep metrics must be functions f(point, metrics) -> dict, "
                                 f"not {fn!r}")
        for metric, sense in dict(self.objectives).items():
            if sense not in SENSES:
                raise SweepError(f"objective {metric}: must be 'min' or 'max', not {sense!r}")
        if self.objectives and len(self.objectives) not in (2, 3):
            raise SweepError(f"objectives: a Pareto front needs 2 or 3 metrics, not "
                             f"{len(self.objectives)}")
        plots = []
        for plot in self.plots:
            if isinstance(plot, dict):
                plot = (plot.get("x"), plot.get("y"), plot.get("color"))
            if not isinstance(plot, (tuple, list)) or len(plot) not in (2, 3) or \
                    not all(isinstance(p, str) for p in plot[:2]):
                raise SweepError(f"plot must be (x, y) or (x, y, color) names, not {plot!r}")
            plots.append((plot[0], plot[1], plot[2] if len(plot) == 3 else None))
        self.plots = plots
        if len(self.space) == 0:
            raise SweepError(f"sweep {self.name}: the space has no points (check where=)")


def load_sweep(path) -> Sweep:
    """The sweep defined in ``path`` (``.py`` defining ``sweep``, or ``.toml``)."""
    path = Path(path)
    if not path.is_file():
        raise SweepError(f"sweep file {str(path)!r} does not exist")
    if path.suffix == ".toml":
        return _from_toml(path)
    if path.suffix != ".py":
        raise SweepError(f"sweep file must be .py or .toml, not {path.name!r}")
    # Registered under a name unique to the file, so its functions pickle by reference to
    # forked pool workers (which inherit the module).
    digest = hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:8]
    stem = re.sub(r"\W", "_", path.stem)
    name = f"lowbit_sweep_{stem}_{digest}"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except LowbitError as err:
        raise SweepError(f"{path.name}: {err}") from None
    except Exception as err:  # a user's file: say where, in one line
        raise SweepError(f"{path.name} failed to load: {type(err).__name__}: {err}") from None
    sweep = getattr(module, "sweep", None)
    if not isinstance(sweep, Sweep):
        raise SweepError(f"{path.name} must define sweep = lowbit.explore.Sweep(...), "
                         f"found {type(sweep).__name__ if sweep is not None else 'nothing'}")
    return sweep


def _from_toml(path) -> Sweep:
    try:
        data = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as err:
        raise SweepError(f"{path.name} is not valid TOML: {err}") from None
    unknown = sorted(set(data) - {"sweep", "axes", "objectives", "plot"})
    if unknown:
        raise SweepError(f"{path.name}: unknown table {unknown[0]!r}; allowed: sweep, axes, "
                         f"objectives, plot")
    head = data.get("sweep", {})
    bad = sorted(set(head) - {"name", "stages", "title"})
    if bad:
        raise SweepError(f"{path.name} [sweep]: unknown key {bad[0]!r}; allowed: name, "
                         f"stages, title")
    if "axes" not in data:
        raise SweepError(f"{path.name}: needs an [axes] table")
    try:
        space = Space(data["axes"])
    except SpaceError as err:
        raise SweepError(f"{path.name} [axes]: {err}") from None
    return Sweep(head.get("name", path.stem), space, tuple(head.get("stages", DEFAULT_STAGES)),
                 objectives=data.get("objectives", {}), plots=data.get("plot", []),
                 title=head.get("title", ""))
