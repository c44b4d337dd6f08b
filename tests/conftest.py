"""Shared pytest set-up: the ``--full`` flag for long campaigns, Hypothesis profiles, and the
grouping that lets ``make test`` run on every core (pytest-xdist ``--dist loadgroup``)."""

import os

import pytest
from hypothesis import settings

settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
settings.register_profile("dev", deadline=None, print_blob=True)
settings.load_profile("ci" if os.environ.get("CI") else "dev")


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


#: Tests that share build folders keyed by design name (the regression's configurations are
#: built and simulated by several verify/ modules): under xdist they run one at a time on one
#: worker. Other RTL tests use names of their own or temporary folders.
RTL_TESTS = ("tests/verify/",)


# tryfirst: xdist's worker turns xdist_group marks into node ids in this same hook, and a
# conftest hook would otherwise run after it (the marks would be ignored).
@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    root = str(config.rootpath)
    for item in items:
        path = str(item.path).removeprefix(root).lstrip("/")
        # Other tests move between workers a module at a time, so module fixtures run once.
        group = "rtl" if path.startswith(RTL_TESTS) else path
        item.add_marker(pytest.mark.xdist_group(group))
    if config.getoption("--full"):
        return
    skip = pytest.mark.skip(reason="long campaign: run with --full")
    for item in items:
        if "full" in item.keywords:
            item.add_marker(skip)
