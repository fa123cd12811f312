"""The project's pytest plugin: options, the requirement marker, session fixtures, outcome collection.

Its behaviour applies to suite tests only (items carrying a `requirement` marker); the project's own
tests run untouched, and reports are written only when suite tests ran (or the runner asks for them).
"""

from __future__ import annotations

import importlib
import importlib.util
import signal
import threading
import time
from collections.abc import Iterator
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import pytest

from conformance.config import Config, ConfigError, build_config, require_agents
from conformance.deadlines import MISSED
from conformance.expect import NonConformance
from conformance.fixtures import LEFT_BEHIND
from conformance.outcomes import classify_failure
from conformance.profile_doc import write as write_profile_document
from conformance.protocol import CATALOGUE, load_profile
from conformance.protocol.catalogue import PROFILE_DOCUMENT
from conformance.reporting import allure as allure_report
from conformance.reporting.expectations import Expectation, load_expectations, matching, unmatched
from conformance.reporting.junit import align_junit
from conformance.reporting.redaction import redact_report
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
from conformance.target import Target, open_target, reported_target
from conformance.transcript import Transcript

if importlib.util.find_spec("conformance.strategies") is not None:
    # Registers the hypothesis profiles (dev, ci, nightly) before hypothesis's plugin loads one.
    importlib.import_module("conformance.strategies")

MARKER = "requirement"
RECORD = "gws_conformance"  # the report attribute carrying a suite test's classified result
LEFT_BEHIND_RECORD = "gws_left_behind"  # the report attribute carrying what the end-of-run sweep left
CONFIG_KEY = pytest.StashKey[Config]()
STATE_KEY = pytest.StashKey["RunState"]()
IDS_KEY = pytest.StashKey[tuple[str, ...]]()
MARK_KEY = pytest.StashKey[tuple[Transcript, int]]()
EXPECTATIONS_KEY = pytest.StashKey[dict[str, Expectation]]()
FLOWS = "/suites/flows/"  # tests whose reports carry a sequence diagram
OUTCOME_PROPERTY = "outcome"  # the junit property carrying a test's outcome

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
        self.collected: int | None = None  # tests selected in this process or, under xdist, by a worker
        self.deselected = 0
        self.summary: dict[str, Any] | None = None
        self.notes: list[str] = []
        self.nodeids: set[str] = set()  # every test that reported, suite or not
        self.crashed: list[str] = []  # why a worker went down
        self.interrupt: str | None = None  # the signal that stopped the run
        self.left_behind: list[str] = []  # what the suite could not remove from the server

    def pytest_keyboard_interrupt(self, excinfo: pytest.ExceptionInfo[BaseException]) -> None:
        if isinstance(excinfo.value, pytest.Session.Interrupted):  # pytest's own, e.g. collection errors
            self.interrupt = str(excinfo.value)
        else:
            self.interrupt = f"interrupted by {str(excinfo.value) or 'Ctrl-C (SIGINT)'}"

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self.nodeids.add(report.nodeid)
        self.left_behind += getattr(report, LEFT_BEHIND_RECORD, None) or []
        record = getattr(report, RECORD, None)
        if not isinstance(record, dict):
            return
        result = TestResult(
            report.nodeid, Outcome(record["outcome"]),
            {rid: Outcome(o) for rid, o in record["requirements"].items()},
            blocked_by=record.get("blocked_by"), reason=str(record.get("reason", "")),
        )
        self.phases.setdefault(report.nodeid, []).append(result)

    def pytest_deselected(self, items: list[pytest.Item]) -> None:
        self.deselected += len(items)

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        self.collected = len(session.items)

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node: Any, ids: list[str]) -> None:
        self.collected = len(ids)

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: object) -> None:
        if error:
            self.crashed.append(f"worker {getattr(node.gateway, 'id', '?')} went down: {error}")

    @pytest.hookimpl(optionalhook=True)
    def pytest_handlecrashitem(self, crashitem: str, report: Any, sched: Any) -> None:
        self.crashed.append(f"a worker crashed while running {crashitem}")

    def results(self) -> list[TestResult]:
        merged = []
        for nodeid, phases in self.phases.items():
            ids = {rid for phase in phases for rid in phase.requirements}
            per_id = {rid: worst(p.requirements[rid] for p in phases if rid in p.requirements) for rid in ids}
            final = min(phases, key=lambda p: SEVERITY_RANK[p.outcome])
            merged.append(TestResult(nodeid, final.outcome, per_id, final.blocked_by, final.reason))
        return merged

    def reasons(self, outcome: Outcome) -> dict[str, str]:
        return {r.nodeid: r.reason for r in self.results() if r.outcome is outcome and r.reason}


SEVERITY_RANK = {o: n for n, o in enumerate(
    (Outcome.FAILED, Outcome.WARNING, Outcome.ERROR, Outcome.XPASSED, Outcome.BLOCKED, Outcome.XFAILED,
     Outcome.PASSED, Outcome.SKIPPED))}


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
    _terminate_like_interrupt()
    if config.getoption("--hypothesis-profile", None) is None:
        # Before the test modules are imported: @given takes the default settings when it decorates.
        from hypothesis import settings

        settings.load_profile(gws_config(config).hypothesis_profile)


def _terminate_like_interrupt() -> None:
    """SIGTERM (a CI job's timeout) ends the run as Ctrl-C does: fixtures are torn down (chats stopped,
    agents NotReady, sessions ended) and the summary says the run was interrupted."""
    if threading.current_thread() is not threading.main_thread():
        return
    if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
        signal.signal(signal.SIGTERM, _raise_interrupt)


def _raise_interrupt(signum: int, frame: object) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # a second SIGTERM ends the process at once
    raise KeyboardInterrupt(signal.Signals(signum).name)


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
    config.stash[EXPECTATIONS_KEY] = expectations
    try:
        require_agents(cfg, narrowed=_narrowed(config))
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
    state = config.stash[STATE_KEY]
    for item, ids in suite:
        if item in dropped:
            continue
        item.stash[IDS_KEY] = ids
        state.selected.append((item.nodeid, ids))
        allure_report.label(item, [CATALOGUE[rid] for rid in ids])
        expected = matching(expectations, item.nodeid, ids)
        if expected is not None and "::" in expected.key:  # a test's own entry: strict xfail
            item.add_marker(pytest.mark.xfail(reason=_reason(expected), strict=True, raises=NonConformance))
        # A requirement's entry: its failures, and the tests it blocks, are expected; its passes stand.
        item.fixturenames.insert(0, "_gws_test_mark")  # type: ignore[attr-defined]


def _reason(expected: Expectation) -> str:
    return expected.reason + (f" ({expected.link})" if expected.link else "")


def _narrowed(config: pytest.Config) -> bool:
    """The user chose part of the suite (--select, --rerun-failed, -k, -m); a path is seen in coverage."""
    cfg = gws_config(config)
    return bool(cfg.select or cfg.rerun_failed or config.option.keyword or config.option.markexpr)


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
    error = call.excinfo.value if call.excinfo is not None else None
    if hasattr(report, "wasxfail"):  # a test-keyed expectation (pytest's xfail)
        return classify(report.nodeid, ids, Outcome.XFAILED if report.skipped else Outcome.XPASSED)
    if report.passed:
        return classify(report.nodeid, ids, Outcome.PASSED) if report.when == "call" else None
    if report.skipped:
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else ""
        return TestResult(report.nodeid, Outcome.SKIPPED, dict.fromkeys(ids, Outcome.SKIPPED),
                          reason=reason.removeprefix("Skipped: "))
    if error is None:  # a strict xpass
        return classify(report.nodeid, ids, Outcome.XPASSED)
    expected = item.config.stash.get(EXPECTATIONS_KEY, {})
    return classify_failure(report.nodeid, ids, report.when, error, gws_config(item.config).strict,
                            expected=[rid for rid in expected if "::" not in rid])


def _align_report(item: pytest.Item, report: pytest.TestReport, result: TestResult) -> None:
    """pytest's report says what the suite's outcome says: a block is a skip naming its blocker, an
    expected deviation an xfail; the outcome goes to junit (a property) and Allure (a label)."""
    if result.outcome is Outcome.BLOCKED:
        path, line = item.location[0], item.location[1] or 0
        report.outcome = "skipped"
        report.longrepr = (path, line, f"blocked by {result.blocked_by}: {result.reason}")
    elif result.outcome is Outcome.XFAILED and report.failed:
        expectations = item.config.stash.get(EXPECTATIONS_KEY, {})
        blamed = result.blocked_by or next((r for r, o in result.requirements.items()
                                            if o is Outcome.XFAILED and r in expectations), None)
        entry = expectations.get(blamed) if blamed else None
        report.outcome = "skipped"
        report.wasxfail = (f"blocked by {blamed}: " if result.blocked_by else "") + (  # type: ignore[attr-defined]
            _reason(entry) if entry else "expected deviation")
    properties = [(k, v) for k, v in item.user_properties if k != OUTCOME_PROPERTY]
    previous = [Outcome(str(v)) for k, v in item.user_properties if k == OUTCOME_PROPERTY]
    final = min([*previous, result.outcome], key=SEVERITY_RANK.__getitem__)
    item.user_properties[:] = [*properties, (OUTCOME_PROPERTY, str(final))]
    report.user_properties = list(item.user_properties)
    allure_report.record_outcome(str(result.outcome), result.reason if result.blocked_by is None
                                 else f"by {result.blocked_by}: {result.reason}")


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
    """Wraps pytest's xfail handling (registered before this plugin); allure-pytest's listener
    (registered after) and junit read what this sets."""
    report: pytest.TestReport = yield  # type: ignore[misc,assignment]
    if report.when == "teardown" and LEFT_BEHIND:  # the end-of-run sweep runs in the last teardown
        setattr(report, LEFT_BEHIND_RECORD, LEFT_BEHIND[:])
        LEFT_BEHIND.clear()
    result = _classify(item, call, report)
    if result is not None:
        failed = report.failed
        _align_report(item, report, result)
        record: dict[str, Any] = {"outcome": str(result.outcome),
                                  "requirements": {k: str(v) for k, v in result.requirements.items()}}
        if result.blocked_by:
            record["blocked_by"] = result.blocked_by
        if result.reason:
            record["reason"] = result.reason
        setattr(report, RECORD, record)
        if failed:
            _attach_transcript(item, call, report)
        if FLOWS in f"/{item.nodeid}" and (report.when == "call" or failed):
            _attach_sequence(item)
    redact_report(report)  # before the terminal, junit, Allure (and xdist) read it
    return report  # type: ignore[return-value]


PER_TEST_TIMEOUTS = 30  # a suite test's deadline, in timeout_s (x --timeout-factor): ~100x a clean run's
NIGHTLY_FACTOR = 10  # the nightly hypothesis profile runs ~10x the examples


def pytest_itemcollected(item: pytest.Item) -> None:
    """Every suite test has a deadline (pytest-timeout), unless --timeout or a timeout marker says
    otherwise: a hung test is an ERROR, and the run goes on."""
    if item.get_closest_marker(MARKER) is None or item.get_closest_marker("timeout") is not None:
        return
    if item.config.getoption("timeout", None) is not None:
        return
    cfg = gws_config(item.config)
    seconds = cfg.timeout_s * cfg.timeout_factor * PER_TEST_TIMEOUTS
    if cfg.hypothesis_profile == "nightly" and "/suites/fuzz/" in f"/{item.nodeid}":
        seconds *= NIGHTLY_FACTOR
    item.add_marker(pytest.mark.timeout(seconds))


def pytest_report_teststatus(report: pytest.TestReport, config: pytest.Config) -> Any:
    """The terminal counts blocked tests, and harness errors in a test body as errors, not failures."""
    record = getattr(report, RECORD, None)
    if not isinstance(record, dict):
        return None
    if record["outcome"] == Outcome.BLOCKED:
        return "blocked", "B", ("BLOCKED", {"yellow": True})
    if record["outcome"] == Outcome.ERROR and report.when == "call":
        return "error", "E", "ERROR"
    return None


def _checks(item: pytest.Item) -> frozenset[str]:
    ids: tuple[str, ...] = item.stash.get(IDS_KEY, ())
    return frozenset(ids)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    MISSED.enter(item.nodeid, _checks(item), own_check=False)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_call(item: pytest.Item) -> None:
    MISSED.enter(item.nodeid, _checks(item), own_check=True)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_teardown(item: pytest.Item) -> None:
    MISSED.enter(item.nodeid, frozenset(), own_check=False)


def package_version() -> str:
    try:
        return version("gws-conformance")
    except PackageNotFoundError:
        return "0+unknown"


def _is_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


def pytest_sessionstart(session: pytest.Session) -> None:
    """A run that writes reports first removes the previous run's, so a stale verdict is never read."""
    config = session.config
    if _is_worker(config) or config.getoption("gws_list") or not config.getoption("gws_reports"):
        return
    cfg = gws_config(config)
    keep = cfg.rerun_failed.resolve() if cfg.rerun_failed else None  # read when the tests are selected
    for name in ("summary.json", "summary.md"):
        stale = Path(cfg.report_dir) / name
        if stale.resolve() != keep:
            stale.unlink(missing_ok=True)


def _interruption(session: pytest.Session, exitstatus: int, state: RunState) -> str | None:
    """Why the run did not report every selected test, or None."""
    if state.interrupt is not None:
        return state.interrupt
    if exitstatus == pytest.ExitCode.INTERRUPTED:
        return "errors during collection" if not state.nodeids else "interrupted"
    if session.shouldfail or session.shouldstop:
        return f"stopped early: {session.shouldfail or session.shouldstop}"
    if state.crashed:
        return "; ".join(state.crashed)
    if state.collected is not None and len(state.nodeids) < state.collected:
        return f"only {len(state.nodeids)} of {state.collected} selected tests reported"
    return None


@pytest.hookimpl(trylast=True)  # after junitxml wrote its file
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    config = session.config
    state = config.stash.get(STATE_KEY, None)
    if state is None or _is_worker(config) or config.getoption("gws_list"):
        return
    if not state.phases and not config.getoption("gws_reports"):
        return
    cfg = gws_config(config)
    results = state.results()
    target = reported_target(cfg)  # with --base-url alone: the built-in agents it assumed
    interrupted = _interruption(session, exitstatus, state)
    info = RunInfo(version=package_version(), profile=load_profile(cfg.profile_path).name, target=target,
                   duration_s=time.time() - state.started, narrowed=_narrowed(config),
                   interrupted=interrupted, selected=state.collected)
    expectations = _expectations(cfg)
    results += _fixed_deviations(expectations, results, state.notes)
    summary = build_summary(results, info)
    state.left_behind += LEFT_BEHIND  # a sweep at an interruption runs after the last report
    LEFT_BEHIND.clear()
    summary["left_behind"] = state.left_behind
    state.notes += [f"left on the server: {what}" for what in state.left_behind]
    if expectations:
        used = {e.key for r in results if (e := matching(expectations, r.nodeid, r.requirements)) is not None}
        stale = unmatched(expectations, used)
        state.notes += [f"expectation {key!r} matched no selected test" for key in stale]
        summary["expectations_unmatched"] = stale  # beyond the documented keys
    write_reports(summary, Path(cfg.report_dir), state.notes)
    write_profile_document(Path(cfg.report_dir) / PROFILE_DOCUMENT, cfg.profile_path)  # summary.md links it
    allure_dir = config.getoption("allure_report_dir", None)
    if allure_dir:
        allure_report.write_verdict(Path(allure_dir), summary, state.notes)
    junit = getattr(config.option, "xmlpath", None)
    if junit and Path(junit).is_file():
        align_junit(Path(junit), OUTCOME_PROPERTY)
    state.summary = summary
    if interrupted is not None:
        if session.exitstatus == 0:
            session.exitstatus = exit_status(summary)
    elif state.phases and state.nodeids == set(state.phases):
        session.exitstatus = exit_status(summary)  # only suite tests ran: the verdict's exit status


def _write_blocked(terminalreporter: Any, results: list[TestResult]) -> None:
    """One line per requirement that blocked tests: how many, and the first evidence."""
    by: dict[str, list[TestResult]] = {}
    for result in results:
        if result.outcome is Outcome.BLOCKED and result.blocked_by:
            by.setdefault(result.blocked_by, []).append(result)
    if not by:
        return
    terminalreporter.write_line("blocked (the test could not reach its state because the server broke):")
    for rid, blocked in sorted(by.items()):
        terminalreporter.write_line(f"  {len(blocked)} test(s) blocked by {rid}: {blocked[0].reason}",
                                    yellow=True)


def _fixed_deviations(
    expectations: dict[str, Expectation], results: list[TestResult], notes: list[str]
) -> list[TestResult]:
    """A requirement recorded as deviating whose selected tests all held: it is xpassed (and fails the
    run), reported as one result named after the entry."""
    fixed = []
    for rid in expectations:
        tested = [r.requirements[rid] for r in results if rid in r.requirements]
        if tested and not {Outcome.XFAILED, Outcome.ERROR, Outcome.BLOCKED} & set(tested):
            fixed.append(TestResult(f"expectations::{rid}", Outcome.XPASSED, {rid: Outcome.XPASSED}))
            notes.append(f"expectation {rid!r}: no test of it failed; the deviation is gone, drop the entry")
    return fixed


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    state = config.stash.get(STATE_KEY, None)
    if state is None or state.summary is None:
        return
    terminalreporter.section("gws-conformance verdict", sep="=", bold=True)
    errors = state.reasons(Outcome.ERROR)
    if errors:
        terminalreporter.write_line("errors (the test could not be completed; no verdict on the server):")
        for nodeid, reason in sorted(errors.items()):
            terminalreporter.write_line(f"  ERROR {nodeid}: {reason}", yellow=True)
    _write_blocked(terminalreporter, state.results())
    lines = verdict_table(state.summary, notes=state.notes)
    for line in lines[:-1]:
        terminalreporter.write_line(line)
    good = state.summary["verdict"] in ("conformant", "conformant-with-warnings", "conformant-on-selection")
    terminalreporter.write_line(lines[-1], bold=True, green=good, red=not good)
    missing = state.summary["coverage"]["untested_because"]
    if missing and state.summary["verdict"] == "incomplete":
        terminalreporter.write_line("untested requirements:")
        for rid, why in missing.items():
            terminalreporter.write_line(f"  {rid}: {why}")
    report_dir = Path(gws_config(config).report_dir)
    terminalreporter.write_line(f"reports: {report_dir / 'summary.json'}, {report_dir / 'summary.md'}")
