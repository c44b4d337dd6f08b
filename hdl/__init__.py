"""Amaranth HDL generators parameterized by golden format and accumulator objects.

The units and engines a user builds by hand, the Verilog export and the design catalogue::

    from lowbit.hdl import FloatMac, SystolicArray, export, designs

Names are imported on first use, so ``import lowbit.hdl.designs`` (the cycle model reads
designs' cycles and rates) does not load every generator.
"""

import importlib

_PUBLIC = {
    "IntMac": "int_mac", "FloatMac": "float_mac", "PositMac": "posit_mac",
    "MxDotUnit": "mx_dot", "SimdMac": "simd_mac", "SimdMode": "simd_mac",
    "SystolicArray": "systolic_array", "AdderTreeEngine": "adder_tree_engine",
    "LutTensorCore": "lut_tensor_core", "ExportedRtl": "rtl_export", "export": "rtl_export",
}

__all__ = sorted([*_PUBLIC, "designs"])


def __getattr__(name):
    if name in _PUBLIC:
        return getattr(importlib.import_module(f"lowbit.hdl.{_PUBLIC[name]}"), name)
    if name == "designs":
        return importlib.import_module("lowbit.hdl.designs")
    raise AttributeError(f"module 'lowbit.hdl' has no attribute {name!r}")
