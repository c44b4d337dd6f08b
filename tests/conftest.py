"""Shared pytest set-up: the ``--full`` flag for long campaigns, Hypothesis profiles, and the
grouping that lets ``make test`` run on every core (pytest-xdist ``--dist loadgroup``)."""

import os

import pytest
from hypothesis import settings

settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
settings.register_profile("dev", deadline=None, print_blob=True)
settings.load_profile("ci" if os.environ.get("CI") else "dev")


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
