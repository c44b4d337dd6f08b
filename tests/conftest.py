"""Shared pytest set-up: the ``--full`` flag for long campaigns, Hypothesis profiles."""

import os

import pytest
from hypothesis import settings

settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
settings.register_profile("dev", deadline=None, print_blob=True)
settings.load_profile("ci" if os.environ.get("CI") else "dev")


def pytest_addoption(parser):
    parser.addoption("--full", action="store_true", default=False,
                     help="also run long campaigns marked 'full' (exhaustive sweeps)")


def pytest_collection_modifyitems(config, items):
    if config.getoption("--full"):
        return
    skip = pytest.mark.skip(reason="long campaign: run with --full")
    for item in items:
        if "full" in item.keywords:
            item.add_marker(skip)
