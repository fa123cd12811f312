"""Each phase's pytest report made to say the suite's outcome, so the terminal, junit and Allure agree:
the phase classified (`outcomes`), a block shown as a skip naming its blocker, an expected deviation as
an xfail, the outcome put on junit (a property) and Allure (a label), the record the results collect,
the failure's evidence attached, and every report redacted before anything reads it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from conformance.chats import ROUTING_STOP, RoutingModeMismatch
from conformance.fixtures import BODY_PASSED, LEFT_BEHIND
from conformance.reporting import allure as allure_report
from conformance.reporting.summary import Outcome, TestResult, classify
from conformance.runner.collection import reason, run_expectations
from conformance.runner.evidence import (
    READABLE,
    attach_sequence,
    attach_transcript,
    readable_failure,
    wants_sequence,
)
from conformance.runner.marker import checks
from conformance.runner.options import gws_config
from conformance.runner.outcomes import classify_failure, nonconformance_of
from conformance.runner.redaction import redact_report
from conformance.runner.results import LEFT_BEHIND_RECORD, RECORD, SEVERITY_RANK, record_of, to_record

OUTCOME_PROPERTY = "outcome"  # the junit property carrying a test's outcome


def classify_phase(
    item: pytest.Item, call: pytest.CallInfo[None], report: pytest.TestReport
) -> TestResult | None:
    """The suite outcome of one phase of a selected suite test (None: the phase says nothing)."""
    ids = checks(item)
    if not ids:
        return None
    error = call.excinfo.value if call.excinfo is not None else None
    if hasattr(report, "wasxfail"):  # a test-keyed expectation (pytest's xfail)
        return classify(report.nodeid, ids, Outcome.XFAILED if report.skipped else Outcome.XPASSED)
    if report.passed:
        return classify(report.nodeid, ids, Outcome.PASSED) if report.when == "call" else None
    if report.skipped:
        skip_reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else ""
        return TestResult(report.nodeid, Outcome.SKIPPED, dict.fromkeys(ids, Outcome.SKIPPED),
                          reason=skip_reason.removeprefix("Skipped: "))
    if error is None:  # a strict xpass
        return classify(report.nodeid, ids, Outcome.XPASSED)
    expected = run_expectations(item.config)
    return classify_failure(report.nodeid, ids, report.when, error, gws_config(item.config).strict,
                            expected=[rid for rid in expected if "::" not in rid])


def align_report(item: pytest.Item, report: pytest.TestReport, result: TestResult) -> None:
    """pytest's report says what the suite's outcome says."""
    if result.outcome is Outcome.BLOCKED:
        path, line = item.location[0], item.location[1] or 0
        report.outcome = "skipped"
        report.longrepr = (path, line, f"blocked by {result.blocked_by}: {result.reason}")
    elif result.outcome is Outcome.XFAILED and report.failed:
        expectations = run_expectations(item.config)
        blamed = result.blocked_by or next((r for r, o in result.requirements.items()
                                            if o is Outcome.XFAILED and r in expectations), None)
        entry = expectations.get(blamed) if blamed else None
        report.outcome = "skipped"
        report.wasxfail = (f"blocked by {blamed}: " if result.blocked_by else "") + (
            reason(entry) if entry else "expected deviation")
    properties = [(k, v) for k, v in item.user_properties if k != OUTCOME_PROPERTY]
    previous = [Outcome(str(v)) for k, v in item.user_properties if k == OUTCOME_PROPERTY]
    final = min([*previous, result.outcome], key=SEVERITY_RANK.__getitem__)
    item.user_properties[:] = [*properties, (OUTCOME_PROPERTY, str(final))]
    report.user_properties = list(item.user_properties)
    allure_report.record_outcome(str(result.outcome), result.reason if result.blocked_by is None
                                 else f"by {result.blocked_by}: {result.reason}")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """Wraps pytest's xfail handling (registered before this plugin); allure-pytest's listener
    (registered after) and junit read what this sets."""
    report: pytest.TestReport = yield  # type: ignore[assignment]
    if report.when == "teardown" and LEFT_BEHIND:  # the end-of-run sweep runs in the last teardown
        setattr(report, LEFT_BEHIND_RECORD, LEFT_BEHIND[:])
        LEFT_BEHIND.clear()
    if call.excinfo is not None and isinstance(call.excinfo.value, RoutingModeMismatch):
        # the target names the wrong routing mode: every later chat would time out; stop here, once
        item.session.shouldstop = f"{ROUTING_STOP}{call.excinfo.value}"
    result = classify_phase(item, call, report)
    if result is not None and report.when == "call" and result.outcome is Outcome.PASSED:
        setattr(item, BODY_PASSED, True)  # the `chats` teardown then checks every view
    if result is not None:
        failed = report.failed
        align_report(item, report, result)
        setattr(report, RECORD, to_record(result))
        if failed:
            attach_transcript(item, call.excinfo.value if call.excinfo is not None else None, report)
        deviation = nonconformance_of(call.excinfo.value) if call.excinfo is not None else None
        if result.outcome in (Outcome.FAILED, Outcome.WARNING) and call.excinfo and deviation:
            setattr(report, READABLE, readable_failure(item, call.excinfo, deviation))
        if wants_sequence(item) and (report.when == "call" or failed):
            attach_sequence(item)
    redact_report(report)  # before the terminal, junit, Allure (and xdist) read it
    return report  # type: ignore[return-value]


def pytest_report_teststatus(report: pytest.TestReport, config: pytest.Config) -> Any:
    """The terminal counts blocked tests, and harness errors in a test body as errors, not failures."""
    record = record_of(report)
    if record is None:
        return None
    if record["outcome"] == Outcome.BLOCKED:
        return "blocked", "B", ("BLOCKED", {"yellow": True})
    if record["outcome"] == Outcome.ERROR and report.when == "call":
        return "error", "E", "ERROR"
    if record["outcome"] in (Outcome.FAILED, Outcome.WARNING) and report.when == "teardown":
        return "failed", "F", "FAILED"  # a deviation the teardown's check found: a FAIL, not an error
    return None
