"""lowbit: bit-accurate simulation and RTL co-design of low-precision arithmetic hardware.

One format definition (:mod:`lowbit.golden.formats`) drives the NumPy reference model
(``lowbit.golden``), the Amaranth generators (``lowbit.hdl``), the cocotb testbenches
(``lowbit.verify``), synthesis reports (``lowbit.reports``) and the cycle model (``lowbit.sim``).
"""

__version__ = "0.1.0"
