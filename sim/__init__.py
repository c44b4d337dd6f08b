"""SimPy cycle and energy model of accelerators built from lowbit engines.

``lowbit.sim.run(arch, workload) -> Results``: see :mod:`lowbit.sim.accelerator`. Hardware
configs: :mod:`lowbit.sim.hardware`; workloads: :mod:`lowbit.sim.workloads`; energy data:
:mod:`lowbit.sim.energy`; the engine's cycles: :mod:`lowbit.sim.engine_model`.
"""

from lowbit.sim.accelerator import Results, run
from lowbit.sim.hardware import ArchConfig, BufferConfig, DramConfig, EngineConfig, load_arch
from lowbit.sim.workloads import GemmOp

__all__ = ["ArchConfig", "BufferConfig", "DramConfig", "EngineConfig", "GemmOp", "Results",
           "load_arch", "run"]
