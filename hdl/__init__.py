"""Amaranth HDL generators parameterized by golden format and accumulator objects."""

from lowbit.hdl.export import ExportedRtl, export

__all__ = ["ExportedRtl", "export"]
