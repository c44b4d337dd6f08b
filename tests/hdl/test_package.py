"""The ``lowbit.hdl`` package: host-side modules import without Amaranth, and the public
``export`` stays the function whatever was imported before.

The import checks run in a fresh interpreter: in this one, other tests have long loaded
Amaranth.
"""

import subprocess
import sys

import pytest

from lowbit.errors import OperationError
from lowbit.hdl.systolic_schedule import SystolicSchedule
from tests.expect import raises_exactly

# The host side a cycle model or a testbench needs without the RTL, and the cycle model's
# modules that count with it.
HOST_SIDE = ("lowbit.hdl.gemm_stream", "lowbit.hdl.systolic_schedule",
             "lowbit.hdl.broadcast_schedule", "lowbit.hdl.designs", "lowbit.sim.engine_model",
             "lowbit.sim.tiling", "lowbit.sim.scalesim_cycles")


@pytest.mark.parametrize("module", HOST_SIDE)
def test_host_side_modules_import_no_amaranth(module):
    code = (f"import sys, {module}\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'amaranth'))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]", f"{module} loads {out.strip()}"


def test_export_stays_the_function_after_the_rtl_modules_are_imported():
    code = ("import lowbit.hdl.rtl_export, lowbit.verify.regression\n"
            "from lowbit.hdl import export, ExportedRtl\n"
            "print(callable(export), ExportedRtl.__name__)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.split() == ["True", "ExportedRtl"]


@pytest.mark.parametrize("call, message", [
    (lambda: SystolicSchedule(4, 4, "is", (8,), (8,)),
     "SystolicSchedule dataflow must be one of 'os', 'ws', not 'is'"),
    (lambda: SystolicSchedule(0, 4, "os", (8,), (8,)),
     "SystolicSchedule rows must be an integer from 1 to 65536, not 0"),
])
def test_schedule_checks_its_parameters(call, message):
    raises_exactly(call, OperationError, message)
