"""Allure labels for suite tests and the attachments of a failure (through allure-pytest)."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Mapping
from datetime import datetime
from html import escape
from pathlib import Path, PurePosixPath
from typing import Any, cast

import allure
import allure_commons
import allure_pytest.utils
import attr
import pytest
from allure_commons.model2 import StatusDetails

from conformance.protocol import Level, Requirement
from conformance.reporting.summary import verdict_line
from conformance.transcript import RUN

SEVERITY = {Level.MUST: "critical", Level.SHOULD: "normal"}


def operation_of(nodeid: str) -> str:
    """The operation (or subject) a test file is about: suites/operations/test_accept.py -> accept."""
    stem = PurePosixPath(nodeid.split("::", 1)[0]).stem
    return stem.removeprefix("test_")


def label(item: pytest.Item, requirements: list[Requirement]) -> None:
    """epic = area, feature = operation, story = requirement ID, severity by level, links to the sources."""
    for req in requirements:
        item.add_marker(pytest.mark.allure_label(req.area, label_type="epic"))
        item.add_marker(pytest.mark.allure_label(req.id, label_type="story"))
        profile_link = pytest.mark.allure_link(req.profile_link, name=f"{req.id} (profile)", link_type="link")
        item.add_marker(profile_link)
        item.add_marker(pytest.mark.allure_link(req.source, name=f"{req.id} (vendor)", link_type="link"))
    item.add_marker(pytest.mark.allure_label(operation_of(item.nodeid), label_type="feature"))
    levels = {req.level for req in requirements}
    severity = SEVERITY[Level.MUST] if Level.MUST in levels else SEVERITY[Level.SHOULD]
    item.add_marker(pytest.mark.allure_label(severity, label_type="severity"))


def printable(text: str) -> str:
    """Lone surrogates (test inputs of STATUS-06) escaped, so the text can be written as UTF-8."""
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _clean(value: object) -> object:
    if isinstance(value, str):
        return printable(value)
    if isinstance(value, StatusDetails):  # a failure's message and trace: through the run's redactor
        value.message = RUN.redact(value.message) if value.message else value.message
        value.trace = RUN.redact(value.trace) if value.trace else value.trace
    if isinstance(value, list):
        value[:] = [_clean(v) for v in value]
    elif isinstance(value, dict):
        for key in list(value):
            value[key] = _clean(value[key])
    elif attr.has(type(value)):
        for field in attr.fields(type(value)):  # type: ignore[arg-type]
            setattr(value, field.name, _clean(getattr(value, field.name)))
    return value


OUTCOME_LABEL = "outcome"  # the suite's outcome of a test, set by the plugin; decides the Allure status
REASON_LABEL = "outcome_reason"
ALLURE_STATUS = {"passed": "passed", "failed": "failed", "warning": "failed", "error": "broken",
                 "blocked": "skipped", "skipped": "skipped", "xfailed": "skipped", "xpassed": "failed"}


_dynamic_label = cast(Callable[[str, str], None], allure.dynamic.label)  # allure-pytest has no types


def record_outcome(outcome: str, reason: str = "") -> None:
    """Label the running test with the suite's outcome (one per phase; the worst one wins)."""
    _dynamic_label(OUTCOME_LABEL, outcome)
    if reason:
        _dynamic_label(REASON_LABEL, reason)


def _apply_outcome(result: Any) -> None:
    """The Allure status says what the suite's outcome says: an error is broken, a block is skipped."""
    labels = getattr(result, "labels", None)
    if not labels:
        return
    outcomes = [lb.value for lb in labels if lb.name == OUTCOME_LABEL]
    reasons = [lb.value for lb in labels if lb.name == REASON_LABEL]
    if not outcomes:
        return
    outcome = next((o for o in ALLURE_ORDER if o in outcomes), outcomes[-1])
    result.labels = [lb for lb in labels if lb.name not in (OUTCOME_LABEL, REASON_LABEL)]
    result.labels.append(type(labels[0])(name=OUTCOME_LABEL, value=outcome))
    result.status = ALLURE_STATUS.get(outcome, result.status)
    if outcome == "blocked" and reasons:
        details = result.statusDetails
        message = f"BLOCKED {reasons[-1]}"
        if details is None:
            result.statusDetails = StatusDetails(message=message)
        else:
            details.message = message + ("\n\n" + details.message if details.message else "")


ALLURE_ORDER = ("failed", "warning", "error", "xpassed", "blocked", "xfailed", "passed", "skipped")


class SurrogateSafeResults:
    """Registered with allure-commons after its file writer, so it runs first: makes results writable
    and sets each result's status from the suite's outcome."""

    @allure_commons.hookimpl
    def report_result(self, result: object) -> None:
        _apply_outcome(result)
        _clean(result)

    @allure_commons.hookimpl
    def report_container(self, container: object) -> None:
        _clean(container)


_md5 = allure_pytest.utils.md5


def _printable_md5(*args: object) -> str:
    return str(_md5(*(printable(a) if isinstance(a, str) else a for a in args)))


def register_result_cleaner() -> None:
    """Keep allure-pytest from crashing on parameters and messages holding lone surrogates."""
    allure_pytest.utils.md5 = _printable_md5  # its history id hashes parameter values as UTF-8
    if not any(isinstance(p, SurrogateSafeResults) for p in allure_commons.plugin_manager.get_plugins()):
        allure_commons.plugin_manager.register(SurrogateSafeResults())


def attach_failure(transcript: str, expected_actual: str | None) -> None:
    """Attach to the running test (a no-op unless allure-pytest writes results)."""
    if transcript:
        allure.attach(printable(transcript), name="transcript", attachment_type=allure.attachment_type.TEXT)
    if expected_actual:
        text_type = allure.attachment_type.TEXT
        allure.attach(printable(expected_actual), name="expected / actual", attachment_type=text_type)


def attach_sequence(svg: str) -> None:
    """The sequence diagram of a flow test (SVG drawn by sequence.render_svg; Allure shows it as an image)."""
    allure.attach(printable(svg), name="sequence diagram", attachment_type=allure.attachment_type.SVG)


VERDICT_STATUS = {"conformant": "passed", "conformant-with-warnings": "passed",
                  "conformant-on-selection": "passed", "incomplete": "skipped", "non-conformant": "failed",
                  "error": "broken"}


NOT_HOLDING = ("failed", "warning", "xpassed", "error", "blocked")


def _verdict_table(summary: Mapping[str, Any], notes: list[str]) -> str:
    """The requirements that did not hold first, then the rest that ran; notes above."""
    entries = [(rid, e) for rid, e in summary["requirements"].items() if e["outcome"] != "untested"]
    entries.sort(key=lambda item: item[1]["outcome"] not in NOT_HOLDING)
    rows = "".join(
        f"<tr><td><b>{escape(rid)}</b></td><td>{escape(e['level'])}</td><td>{escape(e['outcome'])}</td>"
        f"<td>{'<br>'.join(escape(t) for t in e['tests'])}</td></tr>"
        for rid, e in entries
    )
    totals = ", ".join(f"{n} {k}" for k, n in summary["totals"].items())
    items = "".join(f"<li>{escape(n)}</li>" for n in notes)
    return (
        f"<p><b>{escape(verdict_line(summary))}</b> — profile {escape(summary['profile'])}, "
        f"target {escape(str(summary['target'].get('base_url', '')))}; tests: {escape(totals)}. "
        "summary.json is the source of truth.</p>"
        + (f"<ul>{items}</ul>" if items else "")
        + "<table><tr><th>requirement</th><th>level</th><th>outcome</th><th>tests</th></tr>" + rows
        + "</table>"
    )


def _verdict_page(summary: Mapping[str, Any], notes: list[str]) -> str:
    return ("<!DOCTYPE html><html><head><meta charset=\"utf-8\"><style>body{font-family:sans-serif;"
            "font-size:12px}td{padding:1px 8px;vertical-align:top}</style></head><body>"
            + _verdict_table(summary, notes) + "</body></html>")


def write_verdict(results_dir: Path, summary: Mapping[str, Any], notes: list[str]) -> None:
    """The verdict as a result of its own (first in the report) and as environment facts."""
    results_dir.mkdir(parents=True, exist_ok=True)
    verdict = summary["verdict"]
    page = uuid.uuid4().hex
    (results_dir / f"{page}-attachment.html").write_text(_verdict_page(summary, notes), encoding="utf-8")
    now = int(time.time() * 1000)
    try:  # dated at the run's start, so reports sorted by time show it first
        begun = int(datetime.fromisoformat(summary["started"]).timestamp() * 1000) - 1
    except (KeyError, TypeError, ValueError):
        begun = now
    by_outcome = {o: [rid for rid, e in summary["requirements"].items() if e["outcome"] == o]
                  for o in ("failed", "warning", "xpassed", "error", "blocked")}
    message = verdict_line(summary) + "".join(
        f"; {o}: {', '.join(ids)}" for o, ids in by_outcome.items() if ids)
    result = {
        "uuid": str(uuid.uuid4()),
        "historyId": "gws-conformance-verdict", "testCaseId": "gws-conformance-verdict",
        "name": f"VERDICT: {verdict.upper()}", "fullName": "gws-conformance verdict",
        "status": VERDICT_STATUS[verdict], "stage": "finished", "start": begun, "stop": begun,
        "statusDetails": {"message": message},
        "description": "The compliance grade of this run (summary.json is the source of truth).",
        "descriptionHtml": _verdict_table(summary, notes),
        "labels": [{"name": "epic", "value": "VERDICT"}, {"name": "feature", "value": "verdict"},
                   {"name": "severity", "value": "blocker"}, {"name": "parentSuite", "value": "VERDICT"}],
        "attachments": [{"name": "verdict and requirements", "source": f"{page}-attachment.html",
                         "type": "text/html"}],
    }
    (results_dir / f"{result['uuid']}-result.json").write_text(json.dumps(result), encoding="utf-8")
    facts = {"verdict": verdict, "profile": summary["profile"],
             "target": summary["target"].get("base_url", ""), "suite": summary["suite"]["version"]}
    lines = "".join(f"{k}={v}\n" for k, v in facts.items())
    (results_dir / "environment.properties").write_text(lines, encoding="utf-8")
