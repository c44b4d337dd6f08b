"""Number formats: one frozen object per format, the currency of every lowbit layer.

>>> from lowbit.golden import formats
>>> e4m3 = formats.get("fp8_e4m3")
>>> e4m3.encode([0.3, 1000.0])          # codes: uint8 bit patterns that carry their format
Codes([ 42, 126], dtype=uint8, fmt=fp8_e4m3)
>>> e4m3.decode([0x7E])
array([448.])
"""

from lowbit.golden.formats.base import NAN_POLICIES, ScalarFormat, code_dtype
from lowbit.golden.formats.block import BlockArray, BlockFormat
from lowbit.golden.formats.catalog import (CATALOG_NAMES, FAMILIES, SCALE_FORMATS, catalog,
                                           from_dict, get)
from lowbit.golden.formats.floating import FloatFormat
from lowbit.golden.formats.integer import FixedFormat, IntFormat
from lowbit.golden.formats.posit import PositFormat

__all__ = ["BlockArray", "BlockFormat", "CATALOG_NAMES", "FAMILIES", "FixedFormat",
           "FloatFormat", "IntFormat", "NAN_POLICIES", "PositFormat", "SCALE_FORMATS",
           "ScalarFormat", "catalog", "code_dtype", "from_dict", "get"]
