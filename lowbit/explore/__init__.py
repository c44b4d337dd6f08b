"""Design-space sweeps: a :class:`~lowbit.explore.space.Space` of named axes, results stored
per point in SQLite as they finish (:class:`~lowbit.explore.store.Store`), and Pareto fronts
(:func:`~lowbit.explore.pareto.pareto_front`)."""

from lowbit.explore.pareto import pareto_front
from lowbit.explore.space import Space, point_key
from lowbit.explore.store import Store

__all__ = ["Space", "Store", "pareto_front", "point_key"]
