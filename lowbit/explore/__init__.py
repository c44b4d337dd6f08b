"""Design-space sweeps: a :class:`~lowbit.explore.space.Space` of named axes
(:mod:`~lowbit.explore.axes` says which a stage reads and what values they take), the
:func:`~lowbit.explore.evaluate.evaluate` pipeline (golden quality, Yosys area, SimPy cycles
and energy, user metrics declared with :func:`~lowbit.explore.metric.metric`; a value that
cannot be computed is :func:`~lowbit.explore.metric.na` with a reason),
:func:`~lowbit.explore.runner.run_sweep` on a process pool or a Dask cluster with results
stored per point in SQLite (:class:`~lowbit.explore.store.Store`), Pareto fronts
(:func:`~lowbit.explore.pareto.pareto_front`) and the CSV / PNG / HTML report
(:func:`~lowbit.explore.report.write_report`)."""

from lowbit.explore.evaluate import DEFAULT_STAGES, STAGES, evaluate
from lowbit.explore.metric import metric, na
from lowbit.explore.pareto import left_out, pareto_front
from lowbit.explore.report import write_report
from lowbit.explore.runner import SweepInterrupted, run_sweep
from lowbit.explore.space import Space, point_key
from lowbit.explore.store import Store
from lowbit.explore.sweep import Sweep, load_sweep

__all__ = ["DEFAULT_STAGES", "STAGES", "Space", "Store", "Sweep", "SweepInterrupted", "evaluate",
           "left_out", "load_sweep", "metric", "na", "pareto_front", "point_key", "run_sweep",
           "write_report"]
