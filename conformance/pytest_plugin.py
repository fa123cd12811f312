"""The project's pytest plugin: options, the requirement marker, session fixtures, outcome collection.

Its behaviour applies to suite tests only (items carrying a `requirement` marker); the project's own
tests run untouched, and reports are written only when suite tests ran (or the runner asks for them).
"""

from __future__ import annotations

import importlib
import importlib.util
import time
from collections.abc import Iterator
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import pytest

from conformance.config import Config, ConfigError, build_config, redacted_target
from conformance.reporting import allure as allure_report
from conformance.reporting.expectations import Expectation, load_expectations, matching, unmatched
from conformance.reporting.selection import Selector
from conformance.reporting.sequence import render_svg
from conformance.reporting.summary import (
    Outcome,
    RunInfo,
    TestResult,
    build_summary,
    classify,
    exit_status,
    failed_tests,
    worst,
    write_reports,
)
from conformance.reporting.terminal import verdict_table
from conformance.spec import CATALOGUE, load_profile
from conformance.target import Target, open_target
from conformance.transcript import Transcript

if importlib.util.find_spec("conformance.strategies") is not None:
    # Registers the hypothesis profiles (dev, ci, nightly) before hypothesis's plugin loads one.
    importlib.import_module("conformance.strategies")

MARKER = "requirement"
RECORD = "gws_conformance"  # the report attribute carrying a suite test's classified result
CONFIG_KEY = pytest.StashKey[Config]()
STATE_KEY = pytest.StashKey["RunState"]()
IDS_KEY = pytest.StashKey[tuple[str, ...]]()
MARK_KEY = pytest.StashKey[tuple[Transcript, int]]()
# Requirement-keyed expectations of a test: a failure blamed on one of them is expected.
EXPECTED_KEY = pytest.StashKey[dict[str, Expectation]]()
FLOWS = "/suites/flows/"  # tests whose reports carry a sequence diagram

OPTIONS = {  # pytest option dest -> Config field
    "gws_target": "target_file",
    "gws_base_url": "base_url",
    "gws_profile": "profile_path",
    "gws_report_dir": "report_dir",
    "gws_expectations": "expectations",
    "gws_select": "select",
    "gws_timeout_factor": "timeout_factor",
    "gws_rerun_failed": "rerun_failed",
    "gws_list": "list_only",
}


class RunState:
    """Controller-side collection of suite results (xdist workers send their reports here)."""

    def __init__(self) -> None:
        self.started = time.time()
        self.phases: dict[str, list[TestResult]] = {}
        self.selected: list[tuple[str, tuple[str, ...]]] = []
        self.summary: dict[str, Any] | None = None
        self.notes: list[str] = []
        self.nodeids: set[str] = set()  # every test that reported, suite or not
        self.errors: dict[str, str] = {}  # nodeid -> the one-line reason of a harness-side ERROR

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self.nodeids.add(report.nodeid)
        record = getattr(report, RECORD, None)
        if not isinstance(record, dict):
            return
        result = TestResult(
            report.nodeid, Outcome(record["outcome"]),
            {rid: Outcome(o) for rid, o in record["requirements"].items()},
        )
        self.phases.setdefault(report.nodeid, []).append(result)
        if record.get("reason"):
            self.errors.setdefault(report.nodeid, str(record["reason"]))

    def results(self) -> list[TestResult]:
        merged = []
        for nodeid, phases in self.phases.items():
            ids = {rid for phase in phases for rid in phase.requirements}
            per_id = {rid: worst(p.requirements[rid] for p in phases if rid in p.requirements) for rid in ids}
            merged.append(TestResult(nodeid, worst(p.outcome for p in phases), per_id))
        return merged


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("gws-conformance", "GWS chat conformance suite")
    group.addoption("--target", dest="gws_target", metavar="FILE", help="the target file (TOML)")
    group.addoption("--base-url", dest="gws_base_url", metavar="URL",
                    help="the server under test (alone: it has the reference server's built-in agents)")
    group.addoption("--profile", dest="gws_profile", metavar="FILE", help="a protocol profile file")
    group.addoption("--report-dir", dest="gws_report_dir", metavar="DIR", help="where reports go (reports)")
    group.addoption("--expectations", dest="gws_expectations", metavar="FILE",
                    help="known deviations (TOML), applied as strict xfail")
    group.addoption("--select", dest="gws_select", metavar="EXPR",
                    help="requirement IDs, areas, or a -k style expression over test names and IDs")
    group.addoption("--timeout-factor", dest="gws_timeout_factor", metavar="X", help="multiplies timeout_s")
    group.addoption("--rerun-failed", dest="gws_rerun_failed", metavar="SUMMARY",
                    help="only the tests that failed or errored in that summary.json")
    group.addoption("--list", dest="gws_list", action="store_true", default=None,
                    help="list the selected suite tests with their requirement IDs; run nothing")
    group.addoption("--gws-reports", dest="gws_reports", action="store_true", default=False,
                    help="write the reports even when no suite test ran (used by gws-conformance run)")
    # --strict (pytest's own strict mode) also makes SHOULD failures fail the run.
    # --hypothesis-profile is hypothesis's own option; it defaults here to the config's (ci).


@pytest.hookimpl(trylast=True)
def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", f"{MARKER}(*ids): the profile requirement IDs a suite test checks")
    if importlib.util.find_spec("conformance.fixtures") is not None:
        fixtures = importlib.import_module("conformance.fixtures")
        config.pluginmanager.register(fixtures, "gws_conformance_fixtures")
    if config.getoption("allure_report_dir", None):
        allure_report.register_result_cleaner()  # after allure-pytest's configure made its file writer
    state = RunState()
    config.stash[STATE_KEY] = state
    config.pluginmanager.register(state, "gws_conformance_results")
    if config.getoption("--hypothesis-profile", None) is None:
        # Before the test modules are imported: @given takes the default settings when it decorates.
        from hypothesis import settings

        settings.load_profile(gws_config(config).hypothesis_profile)


def gws_config(config: pytest.Config) -> Config:
    """The run's Config (built once, on first need), or a usage error with the one-line message."""
    if CONFIG_KEY not in config.stash:
        options: dict[str, object] = {field: config.getoption(dest) for dest, field in OPTIONS.items()}
        options["strict"] = True if config.getini("strict") else None
        options["hypothesis_profile"] = config.getoption("--hypothesis-profile", None)
        try:
            config.stash[CONFIG_KEY] = build_config(options)
        except ConfigError as err:
            raise pytest.UsageError(str(err)) from None
    return config.stash[CONFIG_KEY]


def _ids(item: pytest.Item) -> tuple[str, ...]:
    ids: list[str] = []
    for marker in item.iter_markers(MARKER):
        if not marker.args:
            raise pytest.UsageError(f"{item.nodeid}: @requirement() names no requirement ID")
        for rid in marker.args:
            if rid not in CATALOGUE:
                raise pytest.UsageError(f"{item.nodeid}: unknown requirement ID {rid!r}")
            ids.append(rid)
    return tuple(dict.fromkeys(ids))


def _expectations(cfg: Config) -> dict[str, Expectation]:
    if cfg.expectations is None:
        return {}
    try:
        return load_expectations(cfg.expectations)
    except ConfigError as err:
        raise pytest.UsageError(str(err)) from None


def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    suite = [(item, _ids(item)) for item in items]
    suite = [(item, ids) for item, ids in suite if ids]
    if not suite:
        return
    cfg = gws_config(config)
    try:
        selector = Selector(cfg.select) if cfg.select else None
    except ConfigError as err:
        raise pytest.UsageError(str(err)) from None
    rerun = set(failed_tests(cfg.rerun_failed)) if cfg.rerun_failed else None
    expectations = _expectations(cfg)
    dropped = {
        item for item, ids in suite
        if (selector and not selector.selects(item.nodeid, ids))
        or (rerun is not None and item.nodeid not in rerun)
    }
    if dropped:
        config.hook.pytest_deselected(items=[i for i in items if i in dropped])
        items[:] = [i for i in items if i not in dropped]
    state = config.stash[STATE_KEY]
    for item, ids in suite:
        if item in dropped:
            continue
        item.stash[IDS_KEY] = ids
        state.selected.append((item.nodeid, ids))
        allure_report.label(item, [CATALOGUE[rid] for rid in ids])
        expected = matching(expectations, item.nodeid, ids)
        if expected is not None and expected.key not in ids:  # a test's own entry: strict xfail
            item.add_marker(pytest.mark.xfail(reason=_reason(expected), strict=True, raises=AssertionError))
        elif expected is not None:  # a requirement's entry: its failures are expected, its passes stand
            item.stash[EXPECTED_KEY] = {rid: expectations[rid] for rid in ids if rid in expectations}
        item.fixturenames.insert(0, "_gws_test_mark")  # type: ignore[attr-defined]


def _reason(expected: Expectation) -> str:
    return expected.reason + (f" ({expected.link})" if expected.link else "")


def _expect_requirement_failure(
    item: pytest.Item, call: pytest.CallInfo[None], report: pytest.TestReport
) -> None:
    """A call-phase failure blamed on a requirement with an expectations entry becomes xfailed."""
    entries = item.stash.get(EXPECTED_KEY, None)
    if not entries or report.when != "call" or not report.failed or call.excinfo is None:
        return
    if not isinstance(call.excinfo.value, AssertionError):
        return
    blamed = getattr(call.excinfo.value, "requirement", None)
    entry = entries.get(blamed) if blamed is not None else next(iter(entries.values()))
    if entry is not None:
        report.outcome = "skipped"
        report.wasxfail = _reason(entry)  # type: ignore[attr-defined]


@pytest.hookimpl(tryfirst=True)
def pytest_runtestloop(session: pytest.Session) -> bool | None:
    """--list: print the selected suite tests with their IDs and run nothing."""
    if not session.config.getoption("gws_list"):
        return None
    state = session.config.stash[STATE_KEY]
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    for nodeid, ids in state.selected:
        line = f"{nodeid}  [{', '.join(ids)}]"
        if reporter is not None:
            reporter.write_line(line)
        else:
            print(line)
    return True


@pytest.fixture(scope="session", name="gws_config")
def gws_config_fixture(pytestconfig: pytest.Config) -> Config:
    return gws_config(pytestconfig)


@pytest.fixture(scope="session")
def target(gws_config: Config) -> Iterator[Target]:
    """The server under test; the embedded reference server runs once per process (xdist worker)."""
    with open_target(gws_config) as opened:
        yield opened


@pytest.fixture(scope="session")
def transcript(target: Target) -> Transcript:
    recorded = Transcript()
    for secret in target.secrets:
        recorded.add_secret(secret)
    return recorded


@pytest.fixture
def _gws_test_mark(request: pytest.FixtureRequest, transcript: Transcript) -> None:
    """Where the test's slice of the transcript begins."""
    request.node.stash[MARK_KEY] = (transcript, transcript.mark())


def _classify(item: pytest.Item, call: pytest.CallInfo[None], report: pytest.TestReport) -> TestResult | None:
    ids = item.stash.get(IDS_KEY, ())
    if not ids:
        return None
    strict = gws_config(item.config).strict
    if report.when != "call":
        if report.passed:
            return None
        base = Outcome.ERROR if report.failed else Outcome.SKIPPED
        if hasattr(report, "wasxfail"):
            base = Outcome.XFAILED
        return classify(report.nodeid, ids, base)
    if hasattr(report, "wasxfail"):
        return classify(report.nodeid, ids, Outcome.XFAILED if report.skipped else Outcome.XPASSED)
    if report.passed:
        return classify(report.nodeid, ids, Outcome.PASSED)
    if report.skipped:
        return classify(report.nodeid, ids, Outcome.SKIPPED)
    if call.excinfo is None:  # a strict xpass
        return classify(report.nodeid, ids, Outcome.XPASSED)
    if isinstance(call.excinfo.value, AssertionError):
        blamed = getattr(call.excinfo.value, "requirement", None)
        return classify(report.nodeid, ids, Outcome.FAILED, blamed=blamed, strict=strict)
    return classify(report.nodeid, ids, Outcome.ERROR)


def _attach_transcript(item: pytest.Item, call: pytest.CallInfo[None], report: pytest.TestReport) -> None:
    marked = item.stash.get(MARK_KEY, None)
    if marked is None:
        return
    recorded, since = marked
    text = recorded.render(since)
    error = call.excinfo.value if call.excinfo is not None else None
    if error is not None and hasattr(error, "transcript") and not getattr(error, "transcript", None):
        error.transcript = text
    expected_actual = None
    if error is not None and hasattr(error, "expected"):
        expected_actual = (f"requirement: {getattr(error, 'requirement', '')}\n"
                           f"expected: {error.expected}\nactual: {getattr(error, 'actual', '')}")
    if text:
        report.sections.append(("transcript", text))
    allure_report.attach_failure(text, expected_actual)


def _attach_sequence(item: pytest.Item) -> None:
    """Flow tests: the sequence diagram of what the run actually exchanged."""
    marked = item.stash.get(MARK_KEY, None)
    if marked is None:
        return
    recorded, since = marked
    entries = recorded.entries(since)
    if entries:
        allure_report.attach_sequence(render_svg(entries))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    report: pytest.TestReport = yield  # type: ignore[misc,assignment]
    _expect_requirement_failure(item, call, report)
    result = _classify(item, call, report)
    if result is not None:
        record = {"outcome": str(result.outcome),
                  "requirements": {k: str(v) for k, v in result.requirements.items()}}
        if result.outcome is Outcome.ERROR and call.excinfo is not None:
            record["reason"] = _one_line(call.excinfo.value)
        setattr(report, RECORD, record)
        if report.failed:
            _attach_transcript(item, call, report)
        if FLOWS in f"/{item.nodeid}" and (report.when == "call" or report.failed):
            _attach_sequence(item)
    return report  # type: ignore[return-value]


def _one_line(error: BaseException) -> str:
    """An error's type and the first line of its message, for the terminal."""
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0][:300] if text else ''}".rstrip(": ")


def package_version() -> str:
    try:
        return version("gws-conformance")
    except PackageNotFoundError:
        return "0+unknown"


def _is_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    config = session.config
    state = config.stash.get(STATE_KEY, None)
    if state is None or _is_worker(config) or config.getoption("gws_list"):
        return
    if not state.phases and not config.getoption("gws_reports"):
        return
    cfg = gws_config(config)
    results = state.results()
    target = redacted_target(cfg)
    info = RunInfo(version=package_version(), profile=load_profile(cfg.profile_path).name, target=target,
                   duration_s=time.time() - state.started)
    expectations = _expectations(cfg)
    results += _fixed_deviations(expectations, results, state.notes)
    summary = build_summary(results, info)
    if expectations:
        used = {e.key for r in results if (e := matching(expectations, r.nodeid, r.requirements)) is not None}
        stale = unmatched(expectations, used)
        state.notes += [f"expectation {key!r} matched no selected test" for key in stale]
        summary["expectations_unmatched"] = stale  # beyond the documented keys
    write_reports(summary, Path(cfg.report_dir), state.notes)
    allure_dir = config.getoption("allure_report_dir", None)
    if allure_dir:
        allure_report.write_verdict(Path(allure_dir), summary, state.notes)
    state.summary = summary
    if state.phases and state.nodeids == set(state.phases):
        session.exitstatus = exit_status(summary)  # only suite tests ran: the verdict's exit status


def _fixed_deviations(
    expectations: dict[str, Expectation], results: list[TestResult], notes: list[str]
) -> list[TestResult]:
    """A requirement recorded as deviating whose selected tests all held: it is xpassed (and fails the
    run), reported as one result named after the entry."""
    fixed = []
    for rid in expectations:
        tested = [r.requirements[rid] for r in results if rid in r.requirements]
        if tested and Outcome.XFAILED not in tested and Outcome.ERROR not in tested:
            fixed.append(TestResult(f"expectations::{rid}", Outcome.XPASSED, {rid: Outcome.XPASSED}))
            notes.append(f"expectation {rid!r}: no test of it failed; the deviation is gone, drop the entry")
    return fixed


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    state = config.stash.get(STATE_KEY, None)
    if state is None or state.summary is None:
        return
    terminalreporter.section("gws-conformance verdict", sep="=", bold=True)
    if state.errors:
        terminalreporter.write_line("errors (the test could not be completed; no verdict on the server):")
        for nodeid, reason in sorted(state.errors.items()):
            terminalreporter.write_line(f"  ERROR {nodeid}: {reason}", yellow=True)
    lines = verdict_table(state.summary, notes=state.notes)
    for line in lines[:-1]:
        terminalreporter.write_line(line)
    good = state.summary["verdict"] in ("conformant", "conformant-with-warnings")
    terminalreporter.write_line(lines[-1], bold=True, green=good, red=not good)
    report_dir = Path(gws_config(config).report_dir)
    terminalreporter.write_line(f"reports: {report_dir / 'summary.json'}, {report_dir / 'summary.md'}")
