"""Shared pytest set-up: the ``--full`` flag for long campaigns, Hypothesis profiles, and the
grouping and order that keep every core busy under ``make test`` (pytest-xdist ``--dist
loadgroup``): one group per test module, the longest modules first by the seconds recorded in
``tests/durations.json`` (``--store-durations`` records a run's)."""

import functools
import os
import re

import pytest
from hypothesis import settings

from tests.durations import read_durations, record_of, write_durations

settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
settings.register_profile("dev", deadline=None, print_blob=True)
settings.load_profile("ci" if os.environ.get("CI") else "dev")

#: tests/durations.json (tests/durations.py) sets only the order in which modules go to workers,
#: never a result (:class:`LongestFirst`). A module it does not know counts
#: :data:`UNKNOWN_TEST_S` per test.
UNKNOWN_TEST_S = 1.0
#: A module whose last two tests take this long would hold up the module xdist hands its
#: worker next (:class:`LongestFirst`).
LONG_TAIL_S = 20.0
#: This run's seconds per test, by module in the order they ran, kept by the controller under
#: ``--store-durations``.
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
                     help="write this run's seconds per module into tests/durations.json "
                          "(it orders the modules make test hands to workers)")


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
        tests = _measured.setdefault(report.nodeid.split("::", 1)[0], {})
        tests[report.nodeid] = tests.get(report.nodeid, 0.0) + report.duration


def pytest_sessionfinish(session):
    if _measured:
        write_durations(record_of({m: list(t.values()) for m, t in _measured.items()}))


def pytest_xdist_make_scheduler(config, log):
    if config.getvalue("dist") == "loadgroup" and _known_durations():
        return LongestFirst(config, log)
    return None


@pytest.fixture(scope="session")
def synthesis_cache():
    """The synthesis cache the test modules share with each other and with the CLI and demo
    tests (which run ``lowbit`` in the same working directory): ``build/synth``, or under
    ``LOWBIT_BUILD``. An entry is keyed by the Verilog, the Yosys script and version and is
    locked while written, so a design is synthesized once per run, by whichever test (on
    whichever worker) needs it first. Tests of the cache itself use folders of their own."""
    return _SESSION_BUILD / "synth"


@functools.lru_cache(maxsize=1)
def _known_durations() -> dict:
    return read_durations()  # {} without a record: xdist's own order


def _module_of(group: str) -> str | None:
    """The test module in an xdist group name (module path, maybe joined with mark names)."""
    m = re.search(r"tests/[\w/]+\.py", group)
    return m[0] if m else None


try:
    from xdist.scheduler import LoadGroupScheduling
except ImportError:  # pytest-xdist absent: no scheduler to refine
    LoadGroupScheduling = object


class LongestFirst(LoadGroupScheduling):
    """``--dist loadgroup`` that hands out groups in the items' order (longest module first,
    pytest_collection_modifyitems), except to a worker left with the long last tests of a
    module (recorded ``tail_seconds`` >= :data:`LONG_TAIL_S`, a single long test is one):
    xdist gives a worker its next group when two of its tests remain, and that group would
    wait behind them, so such a worker gets the shortest group of three or more tests."""

    def _assign_work_unit(self, node):
        known = _known_durations()
        running = [scope for scope, unit in self.assigned_work.get(node, {}).items()
                   if not all(unit.values())]
        if any(known.get(_module_of(s), {}).get("tail_seconds", 0.0) >= LONG_TAIL_S
               for s in running):
            fillers = [s for s, unit in self.workqueue.items() if len(unit) >= 3]
            if fillers:
                def seconds(scope):
                    return known.get(_module_of(scope), {}).get(
                        "seconds", UNKNOWN_TEST_S * len(self.workqueue[scope]))

                self.workqueue.move_to_end(min(fillers, key=seconds), last=False)
        super()._assign_work_unit(node)


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
        seconds = {m: known.get(m, {}).get("seconds", UNKNOWN_TEST_S * n)
                   for m, n in tests.items()}
        # stable: a module's tests stay together and in their order
        items.sort(key=lambda item: -seconds[module_of[item]])
    if config.getoption("--full"):
        return
    skip = pytest.mark.skip(reason="long campaign: run with --full")
    for item in items:
        if "full" in item.keywords:
            item.add_marker(skip)
