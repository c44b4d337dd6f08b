"""SimPy cycle and energy model of accelerators built from lowbit engines.

``lowbit.sim.run(arch, workload) -> Results``: see :mod:`lowbit.sim.accelerator`; ``arch``
may be an engine built with :mod:`lowbit.hdl` (:func:`~lowbit.sim.from_hdl.engine_config`).
Hardware configs: :mod:`lowbit.sim.hardware`; workloads: :mod:`lowbit.sim.workloads`; energy
data: :mod:`lowbit.sim.energy`; the engine's cycles: :mod:`lowbit.sim.engine_model`.
"""

from lowbit.sim.accelerator import Results, run
from lowbit.sim.from_hdl import engine_config
from lowbit.sim.hardware import ArchConfig, BufferConfig, DramConfig, EngineConfig, load_arch
from lowbit.sim.workloads import GemmOp

__all__ = ["ArchConfig", "BufferConfig", "DramConfig", "EngineConfig", "GemmOp", "Results",
           "engine_config", "load_arch", "run"]
