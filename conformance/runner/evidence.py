"""The evidence of a suite test: its slice of the wire transcript on a failure (a report section, the
NonConformance's transcript, Allure attachments with Expected / Actual), the sequence diagram of what a
flow test exchanged, and a FAIL's readable text (requirement, expected, actual, where the check failed,
where the transcript is) that the terminal shows instead of a traceback (`runner/terminal.py`)."""

from __future__ import annotations

import pytest

from conformance.nonconformance import NonConformance
from conformance.reporting import allure as allure_report
from conformance.reporting.sequence import render_svg
from conformance.runner.session import transcript_slice
from conformance.transcript import RUN

FLOW_TESTS = "/suites/flows/"  # tests whose reports carry a sequence diagram (node ids under this folder)


def wants_sequence(item: pytest.Item) -> bool:
    return FLOW_TESTS in f"/{item.nodeid}"


def attach_transcript(item: pytest.Item, error: BaseException | None, report: pytest.TestReport) -> None:
    marked = transcript_slice(item)
    if marked is None:
        return
    recorded, since = marked
    text = recorded.render(since)
    if error is not None and hasattr(error, "transcript") and not getattr(error, "transcript", None):
        error.transcript = text
    expected_actual = None
    if error is not None and hasattr(error, "expected"):
        expected_actual = (f"requirement: {getattr(error, 'requirement', '')}\n"
                           f"expected: {error.expected}\nactual: {getattr(error, 'actual', '')}")
    if text:
        report.sections.append(("transcript", text))
    allure_report.attach_failure(text, expected_actual)


def attach_sequence(item: pytest.Item) -> None:
    """The sequence diagram of what the run actually exchanged during the test."""
    marked = transcript_slice(item)
    if marked is None:
        return
    recorded, since = marked
    entries = recorded.entries(since)
    if entries:
        allure_report.attach_sequence(render_svg(entries))


READABLE = "gws_readable_failure"  # the report attribute carrying a FAIL's readable text


def readable_failure(
    item: pytest.Item, excinfo: pytest.ExceptionInfo[BaseException], error: NonConformance
) -> str:
    """What the terminal says of a FAIL: the requirement with its level and summary, expected, actual,
    the line of the test where the check failed, and where the transcript is; redacted."""
    here = [entry for entry in excinfo.traceback if entry.path == item.path]
    where = f"{item.location[0]}:{here[-1].lineno + 1}" if here else item.location[0]
    allure_dir = item.config.getoption("allure_report_dir", None)
    transcript = "the 'transcript' section below" + (
        f", and this test's result in {allure_dir}" if allure_dir else "")
    text = f"{error}\n  checked at: {where}\n  transcript: {transcript}\n  (the traceback: --tb=long)"
    return RUN.redact(text)  # as every report: the actual value may quote a secret
