"""The evidence of a suite test: its slice of the wire transcript on a failure (a report section, the
NonConformance's transcript, Allure attachments with Expected / Actual), the sequence diagram of what a
flow test exchanged, and a FAIL's readable text (requirement, expected, actual, where the check failed,
where the transcript is) that the terminal shows instead of a traceback (`runner/terminal.py`)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from conformance.nonconformance import NonConformance
from conformance.reporting import allure as allure_report
from conformance.reporting.sequence import render_svg
from conformance.runner.marker import SEQUENCE_DIAGRAM
from conformance.runner.options import gws_config
from conformance.runner.session import transcript_slice
from conformance.transcript import RUN, Entry, render_entries

TRANSCRIPTS = "transcripts"  # report_dir/transcripts/<test>.txt: a failed test's whole transcript
TERMINAL_ENTRIES = 25  # the terminal's transcript section shows the last ones; the file has all
# A deviation the teardown's whole-chat check found concerns the views it fetched last: fewer entries
# (one fault in the views fails many tests' teardowns, each with the same kind of evidence).
TERMINAL_ENTRIES_TEARDOWN = 6



def transcript_file(item: pytest.Item) -> Path:
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", item.nodeid.split("/")[-1]).strip("_")[:150]
    return Path(gws_config(item.config).report_dir) / TRANSCRIPTS / f"{name}.txt"

def wants_sequence(item: pytest.Item) -> bool:
    return item.get_closest_marker(SEQUENCE_DIAGRAM) is not None


def attach_transcript(item: pytest.Item, error: BaseException | None, report: pytest.TestReport) -> None:
    marked = transcript_slice(item)
    if marked is None:
        return
    recorded, since = marked
    entries = recorded.entries(since)
    text = render_entries(entries)
    if error is not None and hasattr(error, "transcript") and not getattr(error, "transcript", None):
        error.transcript = text
    expected_actual = None
    if error is not None and hasattr(error, "expected"):
        expected_actual = (f"requirement: {getattr(error, 'requirement', '')}\n"
                           f"expected: {error.expected}\nactual: {getattr(error, 'actual', '')}")
    if text:
        shown = TERMINAL_ENTRIES_TEARDOWN if report.when == "teardown" else TERMINAL_ENTRIES
        report.sections.append(("transcript", _terminal_section(item, entries, text, shown)))
    allure_report.attach_failure(text, expected_actual)


def _terminal_section(item: pytest.Item, entries: list[Entry], text: str, shown: int) -> str:
    """The transcript as the terminal shows it: all of a short one; of a long one, the last `shown`
    entries after the path of the file holding all of it (written redacted)."""
    if len(entries) <= shown:
        return text
    path = transcript_file(item)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(RUN.redact(text) + "\n", encoding="utf-8")
    earlier = len(entries) - shown
    tail = render_entries(entries[-shown:])
    return f"({earlier} earlier entries: the whole transcript is in {path})\n{tail}"


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
    transcript = "the 'transcript' section below (of a long one, the last entries; all of it in "
    transcript += f"{transcript_file(item).parent}/)" + (
        f", and this test's result in {allure_dir}" if allure_dir else "")
    text = f"{error}\n  checked at: {where}\n  transcript: {transcript}\n  (the traceback: --tb=long)"
    return RUN.redact(text)  # as every report: the actual value may quote a secret
