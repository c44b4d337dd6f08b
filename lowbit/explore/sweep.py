"""A sweep: its name, design space, stages, user metrics, plots and Pareto objectives; loaded
from a Python file (which defines ``sweep = Sweep(...)``) or a TOML file.

TOML layout::

    [sweep]
    name = "array-size-vs-dataflow"
    stages = ["area", "sim"]
    extra_axes = []       # axes no stage reads (labels, inputs of derive): declared here
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

Everything is checked when the sweep is made, before any point runs, and each problem is one
line naming the field: every field of every point must be an axis a chosen stage reads
(:data:`lowbit.explore.evaluate.STAGES`), one a user metric declares it reads
(``@metric(..., reads=...)``) or one listed in ``extra_axes``; every value must pass its axis's
rule (:mod:`lowbit.explore.axes`); objectives and plot columns must be axes, metrics of the
chosen stages or metrics a user metric declares.

A sweep's :meth:`~Sweep.definition` (axes, ``derive`` and ``where`` by name, extra axes,
stages, user metrics by qualified name, objectives) has a :meth:`~Sweep.fingerprint`; its
:meth:`~Sweep.recipe` (stages and user metrics) is what a stored row was computed with.
"""

import hashlib
import importlib.util
import json
import re
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from lowbit.errors import LowbitError, did_you_mean
from lowbit.explore import axes as axis_rules
from lowbit.explore.evaluate import DEFAULT_STAGES, STAGES, check_stages, stage_axes, \
    stage_metrics
from lowbit.explore.metric import declared_names, function_name
from lowbit.explore.pareto import SENSES
from lowbit.explore.space import Space, SpaceError

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


class SweepError(LowbitError, ValueError):
    """A malformed sweep definition or file."""


@dataclass
class Sweep:
    """What to sweep and what to report. ``metrics``: user functions ``f(point, metrics) ->
    dict`` (declare what they return with :func:`lowbit.explore.metric` to use it in objectives
    and plots); ``objectives``: metric -> ``min``/``max`` (2 or 3 for a Pareto front);
    ``plots``: ``(x, y, color or None)`` triples of axis or metric names; ``extra_axes``: axis
    names no stage reads that the sweep uses anyway (a label, the input of ``derive``)."""

    name: str
    space: Space
    stages: tuple = DEFAULT_STAGES
    metrics: tuple = ()
    objectives: dict = field(default_factory=dict)
    plots: list = field(default_factory=list)
    title: str = ""
    extra_axes: tuple = ()

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
        self.extra_axes = (self.extra_axes,) if isinstance(self.extra_axes, str) else \
            tuple(self.extra_axes)
        for name in self.extra_axes:
            if not isinstance(name, str) or not name.isidentifier():
                raise SweepError(f"extra_axes must be axis names, not {name!r}")
        if not isinstance(self.objectives, dict):
            raise SweepError(f"objectives must map metric names to 'min' or 'max', not "
                             f"{self.objectives!r}")
        for metric, sense in self.objectives.items():
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
                    not all(isinstance(p, str) for p in plot[:2]) or \
                    (len(plot) == 3 and not isinstance(plot[2], (str, type(None)))):
                raise SweepError(f"plot must be (x, y) or (x, y, color) names, not {plot!r}")
            plots.append((plot[0], plot[1], plot[2] if len(plot) == 3 else None))
        self.plots = plots
        self._check_points()

    def _check_points(self):
        """Every point's fields read by someone and their values allowed; objectives and
        plots name columns the sweep will have. One pass over the space."""
        values, count = {}, 0
        try:
            for point in self.space:
                count += 1
                for name, value in point.items():
                    values.setdefault(name, {})[json.dumps(value, sort_keys=True)] = value
        except LowbitError as err:
            raise SweepError(f"sweep {self.name} space: {err}") from None
        except Exception as err:  # a user's derive or where: say where, in one line
            raise SweepError(f"sweep {self.name} space: derive or where failed: "
                             f"{type(err).__name__}: {err}") from None
        if count == 0:
            raise SweepError(f"sweep {self.name}: the space has no points (check where=)")
        read = stage_axes(self.stages)
        declared = set(self.extra_axes) | {a for fn in self.metrics
                                           for a in getattr(fn, "axes_read", ())}
        for name in values:
            if name in read or name in declared:
                continue
            if name in axis_rules.AXES:
                readers = [s for s in STAGES if name in STAGES[s].axes]
                which = "stage" if len(readers) == 1 else "stages"
                raise SweepError(f"axis {name!r} is read by {which} {', '.join(readers)}, not by "
                                 f"this sweep's stages {', '.join(self.stages)}; add the stage "
                                 f"or remove the axis")
            raise SweepError(f"axis {name!r} is read by no stage"
                             f"{did_you_mean(name, [*axis_rules.AXES, *declared])} (an axis "
                             f"that derive or a user metric reads goes in extra_axes or "
                             f"@metric(reads=...))")
        for name, seen in values.items():
            for value in seen.values():
                try:
                    axis_rules.check_value(name, value)
                except LowbitError as err:
                    raise SweepError(str(err)) from None
        for fn in self.metrics:
            for name in declared_names(fn) or ():
                if name in values or name in stage_metrics(self.stages):
                    raise SweepError(f"metric {function_name(fn)} declares {name!r}, which is "
                                     f"already {'an axis' if name in values else 'a stage metric'}"
                                     f"; give it another name")
        columns = set(values) | set(self.metric_names())
        for metric in self.objectives:
            self._check_column(f"objective {metric!r}", metric, columns)
        for i, plot in enumerate(self.plots, 1):
            for role, name in zip(("x", "y", "color"), plot):
                if name is not None:
                    self._check_column(f"plot {i} {role} {name!r}", name, columns)

    def _check_column(self, what, name, columns):
        if name in columns:
            return
        producer = next((s for s in STAGES if name in STAGES[s].metrics), None)
        if producer is not None:
            raise SweepError(f"{what} comes from stage {producer}, which this sweep does not "
                             f"run (stages {', '.join(self.stages)})")
        raise SweepError(f"{what} is not an axis, a metric of stages {', '.join(self.stages)} "
                         f"or a metric a user metric declares (@metric)"
                         f"{did_you_mean(name, sorted(columns))}")

    def metric_names(self) -> list:
        """The metric columns the stages and the declared user metrics produce (undeclared
        user metrics add columns only known after they run)."""
        names = list(stage_metrics(self.stages))
        for fn in self.metrics:
            names += [n for n in declared_names(fn) or () if n not in names]
        return names

    def definition(self) -> dict:
        """What the sweep's results depend on, as JSON-ready data: axes, ``derive`` and
        ``where`` (by name), extra axes, stages, user metrics (by qualified name), objectives."""
        return {"axes": self.space.axes,
                "derive": self.space.derive and function_name(self.space.derive),
                "where": self.space.where and function_name(self.space.where),
                "extra_axes": list(self.extra_axes), "stages": list(self.stages),
                "metrics": [function_name(fn) for fn in self.metrics],
                "objectives": dict(self.objectives)}

    def fingerprint(self) -> str:
        """16 hex digits of SHA-256 over :meth:`definition`."""
        return _digest(self.definition())

    def recipe(self) -> str:
        """16 hex digits naming how a point's row is computed: the stages and the user metrics
        (by qualified name). A stored row with another recipe is stale."""
        d = self.definition()
        return _digest({"stages": d["stages"], "metrics": d["metrics"]})


def _digest(data) -> str:
    text = json.dumps(data, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def describe_changes(old: dict, new: dict) -> list:
    """What changed from definition ``old`` to ``new`` (:meth:`Sweep.definition`), as short
    phrases: ``axis rows lost 32``, ``stages gained rtl``, ``objectives changed``."""
    out = []
    old_axes, new_axes = old.get("axes", {}), new.get("axes", {})
    for name in [*old_axes, *(a for a in new_axes if a not in old_axes)]:
        if name not in new_axes:
            out.append(f"axis {name} removed")
        elif name not in old_axes:
            out.append(f"axis {name} added")
        else:
            was = [json.dumps(v, sort_keys=True) for v in old_axes[name]]
            now = [json.dumps(v, sort_keys=True) for v in new_axes[name]]
            lost, gained = [v for v in was if v not in now], [v for v in now if v not in was]
            out += [f"axis {name} {verb} {', '.join(vals)}" for verb, vals in
                    (("lost", lost), ("gained", gained)) if vals]
    for key in ("stages", "metrics", "extra_axes"):
        was, now = old.get(key, []), new.get(key, [])
        out += [f"{key} {verb} {', '.join(vals)}" for verb, vals in
                (("lost", [v for v in was if v not in now]),
                 ("gained", [v for v in now if v not in was])) if vals]
    for key in ("derive", "where", "objectives"):
        if old.get(key) != new.get(key):
            out.append(f"{key} changed")
    return out


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
    allowed = ("name", "stages", "title", "extra_axes")
    bad = sorted(set(head) - set(allowed))
    if bad:
        raise SweepError(f"{path.name} [sweep]: unknown key {bad[0]!r}; allowed: "
                         f"{', '.join(allowed)}{did_you_mean(bad[0], allowed)}")
    if "axes" not in data:
        raise SweepError(f"{path.name}: needs an [axes] table")
    try:
        space = Space(data["axes"])
    except SpaceError as err:
        raise SweepError(f"{path.name} [axes]: {err}") from None
    try:
        return Sweep(head.get("name", path.stem), space, head.get("stages", DEFAULT_STAGES),
                     objectives=data.get("objectives", {}), plots=data.get("plot", []),
                     title=head.get("title", ""), extra_axes=head.get("extra_axes", ()))
    except SweepError as err:
        raise SweepError(f"{path.name}: {err}") from None
