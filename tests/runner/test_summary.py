"""Outcomes, requirement outcomes, verdicts and exit statuses (pure logic)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conformance.reporting.summary import (
    Outcome,
    RunInfo,
    Verdict,
    build_summary,
    classify,
    exit_status,
    failed_tests,
    verdict,
    write_reports,
)
from conformance.spec import CATALOGUE

O = Outcome  # noqa: E741


def counts(**given: int) -> dict[str, int]:
    base = dict.fromkeys(("passed", "failed", "warning", "error", "skipped", "xfailed", "xpassed"), 0)
    return {**base, **given}


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (counts(), Verdict.ERROR),
        (counts(skipped=3), Verdict.ERROR),
        (counts(passed=2, error=1), Verdict.ERROR),
        (counts(passed=2, error=1, failed=1), Verdict.NON_CONFORMANT),
        (counts(passed=2, xpassed=1), Verdict.NON_CONFORMANT),
        (counts(passed=2, warning=1), Verdict.WITH_WARNINGS),
        (counts(passed=2, xfailed=1, skipped=1), Verdict.CONFORMANT),
    ],
)
def test_verdict_rules(given: dict[str, int], expected: Verdict) -> None:
    assert verdict(given) is expected


def test_unreachable_is_an_error_whatever_ran() -> None:
    assert verdict(counts(passed=3), reachable=False) is Verdict.ERROR


def test_should_failure_is_a_warning_unless_strict() -> None:
    assert classify("t", ["AUTH-04"], O.FAILED).outcome is O.WARNING
    assert classify("t", ["AUTH-04"], O.FAILED, strict=True).outcome is O.FAILED
    assert classify("t", ["AUTH-01", "AUTH-04"], O.FAILED).outcome is O.FAILED


def test_blamed_id_alone_fails() -> None:
    result = classify("t", ["AUTH-01", "AUTH-04"], O.FAILED, blamed="AUTH-04")
    assert result.outcome is O.WARNING
    assert dict(result.requirements) == {"AUTH-01": O.SKIPPED, "AUTH-04": O.WARNING}


def test_summary_lists_every_id_with_the_worst_outcome(tmp_path: Path) -> None:
    results = [
        classify("a::one", ["ACCEPT-01"], O.PASSED),
        classify("a::two", ["ACCEPT-01", "ACCEPT-02"], O.XFAILED),
        classify("a::three", ["ACCEPT-02"], O.ERROR),
        classify("a::four", ["ACCEPT-03"], O.SKIPPED),
    ]
    summary = build_summary(results, RunInfo("1.0", "gws-chat-8.5", {"base_url": "http://x"}))
    reqs = summary["requirements"]
    assert set(reqs) == set(CATALOGUE)
    assert reqs["ACCEPT-01"] == {"level": "MUST", "outcome": "xfailed", "tests": ["a::one", "a::two"]}
    assert reqs["ACCEPT-02"]["outcome"] == "error" and reqs["ACCEPT-03"]["outcome"] == "skipped"
    assert reqs["ACCEPT-04"] == {"level": "MUST", "outcome": "untested", "tests": []}
    assert summary["totals"] == counts(passed=1, xfailed=1, error=1, skipped=1)
    assert (summary["verdict"], exit_status(summary)) == ("error", 3)
    path = write_reports(summary, tmp_path)
    assert json.loads(path.read_text())["verdict"] == "error"
    assert "| ACCEPT-02 | MUST | error |" in (tmp_path / "summary.md").read_text()
    assert failed_tests(path) == ["a::three"]
