"""Each suite test's deadlines: its pytest-timeout (a hung test is an ERROR and the run goes on), and
which test is running, and whether its body or a fixture, for `conformance.deadlines.MISSED`."""

from __future__ import annotations

import pytest

from conformance.deadlines import MISSED
from conformance.runner.marker import GENERATED, checks, is_suite_test
from conformance.runner.options import gws_config

PER_TEST_TIMEOUTS = 30  # a suite test's deadline, in timeout_s (x --timeout-factor): ~100x a clean run's
NIGHTLY_FACTOR = 10  # the nightly hypothesis profile runs ~10x the examples of a `generated` test


def pytest_itemcollected(item: pytest.Item) -> None:
    """Every suite test has a deadline, unless --timeout or a timeout marker says otherwise."""
    if not is_suite_test(item) or item.get_closest_marker("timeout") is not None:
        return
    if item.config.getoption("timeout", None) is not None:
        return
    cfg = gws_config(item.config)
    seconds = cfg.timeout_s * cfg.timeout_factor * PER_TEST_TIMEOUTS
    if cfg.hypothesis_profile == "nightly" and item.get_closest_marker(GENERATED) is not None:
        seconds *= NIGHTLY_FACTOR
    item.add_marker(pytest.mark.timeout(seconds))


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    MISSED.enter(item.nodeid, frozenset(checks(item)), own_check=False)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_call(item: pytest.Item) -> None:
    MISSED.enter(item.nodeid, frozenset(checks(item)), own_check=True)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_teardown(item: pytest.Item) -> None:
    MISSED.enter(item.nodeid, frozenset(), own_check=False)
