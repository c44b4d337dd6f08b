"""Shared pytest set-up: the ``--full`` flag for long campaigns, Hypothesis profiles, and the
grouping and order that keep every core busy under ``make test`` (pytest-xdist ``--dist
loadgroup``): one group per test module, the longest modules first by the seconds recorded in
``tests/durations.json`` (``--store-durations`` records a run's)."""

import json
import os
from pathlib import Path

import pytest
from hypothesis import settings

settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
settings.register_profile("dev", deadline=None, print_blob=True)
settings.load_profile("ci" if os.environ.get("CI") else "dev")

#: Seconds per test module (its tests' setup + call + teardown) of a whole default run: it sets
#: only the order in which modules go to workers (longest first, so that no long module starts
#: last and leaves the other cores idle), never a result. A module it does not know counts
#: :data:`UNKNOWN_TEST_S` per test.
DURATIONS = Path(__file__).with_name("durations.json")
UNKNOWN_TEST_S = 1.0
#: This run's seconds per module, kept by the controller under ``--store-durations``.
_measured = None
#: The build folder of this run (``LOWBIT_BUILD`` or ``build`` in the working directory).
_SESSION_BUILD = None


def pytest_sessionstart(session):
    """Under pytest-xdist, compile Yosys's WebAssembly once in the controller before the
    workers start (about 60 s on a new machine, nothing later). Workers would be safe without
    it (lowbit.hdl.yosys compiles under a lock and the others wait), but then one test takes
    the minute and the report says so."""
    config = session.config
    if hasattr(config, "workerinput") or not getattr(config.option, "numprocesses", None):
        return
    from lowbit.hdl.yosys import warm_up

    reporter = config.pluginmanager.get_plugin("terminalreporter")
    warm_up(reporter.write_line if reporter else None)


def pytest_addoption(parser):
    parser.addoption("--full", action="store_true", default=False,
                     help="also run long campaigns marked 'full' (exhaustive sweeps)")
    parser.addoption("--store-durations", action="store_true", default=False,
                     help=f"write this run's seconds per module into tests/{DURATIONS.name} "
                          f"(it orders the modules make test hands to workers)")


def pytest_configure(config):
    global _measured, _SESSION_BUILD
    from lowbit.paths import build_dir

    _SESSION_BUILD = build_dir().resolve()  # before any test sets LOWBIT_BUILD for itself
    if config.getoption("--store-durations") and not hasattr(config, "workerinput"):
        _measured = {}
    # xdist would order the groups by their number of tests: with a record, they are ordered
    # by seconds (pytest_collection_modifyitems) and xdist keeps that order.
    if hasattr(config.option, "loadscopereorder") and _known_durations():
        config.option.loadscopereorder = False


def pytest_runtest_logreport(report):
    if _measured is not None:
        module = report.nodeid.split("::", 1)[0]
        _measured[module] = round(_measured.get(module, 0.0) + report.duration, 2)


def pytest_sessionfinish(session):
    if _measured:
        DURATIONS.write_text(json.dumps(dict(sorted(_measured.items())), indent=0) + "\n")


@pytest.fixture(scope="session")
def synthesis_cache():
    """The synthesis cache the test modules share with each other and with the CLI and demo
    tests (which run ``lowbit`` in the same working directory): ``build/synth``, or under
    ``LOWBIT_BUILD``. An entry is keyed by the Verilog, the Yosys script and version and is
    locked while written, so a design is synthesized once per run, by whichever test (on
    whichever worker) needs it first. Tests of the cache itself use folders of their own."""
    return _SESSION_BUILD / "synth"


def _known_durations() -> dict:
    try:
        return json.loads(DURATIONS.read_text())
    except (OSError, ValueError):
        return {}  # no record: xdist's own order


# tryfirst: xdist's worker turns xdist_group marks into node ids in this same hook, and a
# conftest hook would otherwise run after it (the marks would be ignored).
@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    """Each test module is one xdist group: its tests move between workers together, so module
    fixtures run once (a module's own ``xdist_group`` mark joins this name: still one group
    per module). Modules that build the same design may run on two workers at once: build and
    synthesis folders are keyed by the Verilog hash and locked while in use
    (:func:`lowbit.paths.folder_lock`), so the later process waits and reuses the result.

    Under xdist, modules go to the workers longest first by their recorded seconds (each
    module's tests keep their order: pytest groups parametrized module fixtures by it)."""
    root = str(config.rootpath)
    module_of = {item: str(item.path).removeprefix(root).lstrip("/") for item in items}
    for item in items:
        item.add_marker(pytest.mark.xdist_group(module_of[item]))
    known = _known_durations() if hasattr(config, "workerinput") else {}
    if known:
        tests = {}
        for module in module_of.values():
            tests[module] = tests.get(module, 0) + 1
        seconds = {m: known.get(m, UNKNOWN_TEST_S * n) for m, n in tests.items()}
        # stable: a module's tests stay together and in their order
        items.sort(key=lambda item: -seconds[module_of[item]])
    if config.getoption("--full"):
        return
    skip = pytest.mark.skip(reason="long campaign: run with --full")
    for item in items:
        if "full" in item.keywords:
            item.add_marker(skip)
