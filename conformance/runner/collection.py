"""Which suite tests run: --select, --rerun-failed and the expectations file applied to the collected
items (a test's own expectations entry makes it a strict xfail), each selected test labelled for Allure
and given the mark where its transcript slice begins; --list prints the selection and runs nothing."""

from __future__ import annotations

import pytest

from conformance.config import Config, ConfigError, require_agents
from conformance.nonconformance import NonConformance
from conformance.protocol import CATALOGUE
from conformance.reporting import allure as allure_report
from conformance.reporting.summary import failed_tests
from conformance.runner.expectations import Expectation, load_expectations, matching
from conformance.runner.marker import IDS_KEY, requirement_ids
from conformance.runner.options import gws_config, listing, narrowed
from conformance.runner.results import state_of
from conformance.runner.select_names import check_selection
from conformance.runner.selection import Selector

EXPECTATIONS_KEY = pytest.StashKey[dict[str, Expectation]]()
TEST_MARK_FIXTURE = "_gws_test_mark"  # conformance.runner.session


def expectations_of(cfg: Config) -> dict[str, Expectation]:
    """The run's expectations file, read (a usage error if it is wrong)."""
    if cfg.expectations is None:
        return {}
    try:
        return load_expectations(cfg.expectations)
    except ConfigError as err:
        raise pytest.UsageError(str(err)) from None


def run_expectations(config: pytest.Config) -> dict[str, Expectation]:
    """The expectations read when the tests were selected (empty in a run with no suite test)."""
    return config.stash.get(EXPECTATIONS_KEY, {})


def reason(expected: Expectation) -> str:
    return expected.reason + (f" ({expected.link})" if expected.link else "")


def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    suite = [(item, requirement_ids(item)) for item in items]
    suite = [(item, ids) for item, ids in suite if ids]
    if not suite:
        return
    cfg = gws_config(config)
    try:
        selector = Selector(cfg.select) if cfg.select else None
        if cfg.select:  # a word naming nothing (ACCPT): a usage error with the closest names, as in `run`
            first = suite[0][0].path
            check_selection(cfg.select, next((p for p in first.parents if p.name == "suites"), first.parent))
    except ConfigError as err:
        raise pytest.UsageError(str(err)) from None
    rerun = set(failed_tests(cfg.rerun_failed)) if cfg.rerun_failed else None
    expectations = expectations_of(cfg)
    config.stash[EXPECTATIONS_KEY] = expectations
    try:
        require_agents(cfg, narrowed=narrowed(config))
    except ConfigError as err:
        raise pytest.UsageError(str(err)) from None
    dropped = {
        item for item, ids in suite
        if (selector and not selector.selects(item.nodeid, ids))
        or (rerun is not None and item.nodeid not in rerun)
    }
    if dropped:
        config.hook.pytest_deselected(items=[i for i in items if i in dropped])
        items[:] = [i for i in items if i not in dropped]
    state = state_of(config)
    for item, ids in suite:
        if item in dropped:
            continue
        item.stash[IDS_KEY] = ids
        if state is not None:
            state.selected.append((item.nodeid, ids))
        allure_report.label(item, [CATALOGUE[rid] for rid in ids])
        expected = matching(expectations, item.nodeid, ids)
        if expected is not None and "::" in expected.key:  # a test's own entry: strict xfail
            item.add_marker(pytest.mark.xfail(reason=reason(expected), strict=True, raises=NonConformance))
        # A requirement's entry: its failures, and the tests it blocks, are expected; its passes stand.
        item.fixturenames.insert(0, TEST_MARK_FIXTURE)  # type: ignore[attr-defined]


@pytest.hookimpl(tryfirst=True)
def pytest_runtestloop(session: pytest.Session) -> bool | None:
    """--list: print the selected suite tests with their IDs and run nothing."""
    if not listing(session.config):
        return None
    state = state_of(session.config)
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    for nodeid, ids in state.selected if state is not None else ():
        line = f"{nodeid}  [{', '.join(ids)}]"
        if reporter is not None:
            reporter.write_line(line)
        else:
            print(line)
    return True
