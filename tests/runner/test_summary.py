"""Outcomes, requirement outcomes, verdicts and exit statuses (pure logic)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conformance.protocol import CATALOGUE
from conformance.reporting.summary import (
    Outcome,
    RunInfo,
    Verdict,
    blocked,
    build_summary,
    classify,
    exit_status,
    failed_tests,
    verdict,
    write_reports,
)

O = Outcome  # noqa: E741


def counts(**given: int) -> dict[str, int]:
    names = ("passed", "failed", "warning", "error", "blocked", "skipped", "xfailed", "xpassed")
    base = dict.fromkeys(names, 0)
    return {**base, **given}


def reqs(default: str = "passed", **given: str) -> dict[str, dict[str, object]]:
    """Every catalogue ID with `default`, some (keys with _ for -) with another outcome."""
    entries: dict[str, dict[str, object]] = {rid: {"outcome": default} for rid in CATALOGUE}
    for key, outcome in given.items():
        entries[key.replace("_", "-")] = {"outcome": outcome}
    return entries


@pytest.mark.parametrize(
    ("given", "requirements", "expected"),
    [
        (counts(), reqs("untested"), Verdict.ERROR),
        (counts(skipped=3), reqs("skipped"), Verdict.ERROR),
        (counts(passed=2, error=1), reqs(ACCEPT_01="error"), Verdict.ERROR),
        (counts(passed=2, error=1, failed=1), reqs(ACCEPT_01="failed"), Verdict.NON_CONFORMANT),
        (counts(passed=2, xpassed=1), reqs(ACCEPT_01="xpassed"), Verdict.NON_CONFORMANT),
        (counts(passed=2, warning=1), reqs(AUTH_04="warning"), Verdict.WITH_WARNINGS),
        (counts(passed=2, xfailed=1), reqs(ACCEPT_02="xfailed"), Verdict.CONFORMANT),
        # a blocked test's evidence fails its blocker even when no test of the blocker ran
        (counts(passed=2, blocked=1), reqs(ACCEPT_01="blocked", SESSION_02="failed"), Verdict.NON_CONFORMANT),
        # untested because the target lacks what the tests need: not a verdict on the whole profile
        (counts(passed=2, skipped=1), reqs(TRANSFER_02="skipped"), Verdict.INCOMPLETE),
        (counts(passed=2, blocked=1), reqs(ACCEPT_01="blocked"), Verdict.INCOMPLETE),
        # not selected: a verdict on the selection only
        (counts(passed=2), reqs("untested", ACCEPT_01="passed"), Verdict.ON_SELECTION),
    ],
)
def test_verdict_rules(given: dict[str, int], requirements: dict, expected: Verdict) -> None:
    assert verdict(given, requirements) is expected


def test_a_narrowed_or_interrupted_run_is_never_conformant() -> None:
    assert verdict(counts(passed=3), reqs(), narrowed=True) is Verdict.ON_SELECTION
    assert verdict(counts(passed=3), reqs(), interrupted=True) is Verdict.ERROR
    assert verdict(counts(passed=3, failed=1), reqs(ACCEPT_01="failed"), interrupted=True) is Verdict.ERROR


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
        blocked("a::five", ["ACCEPT-05"], "SESSION-02", "no invitation"),
    ]
    summary = build_summary(results, RunInfo("1.0", "gws-chat-8.5", {"base_url": "http://x"}))
    reqs = summary["requirements"]
    assert set(reqs) == set(CATALOGUE)
    assert reqs["ACCEPT-01"] == {"level": "MUST", "outcome": "xfailed", "tests": ["a::one", "a::two"]}
    assert reqs["ACCEPT-02"]["outcome"] == "error" and reqs["ACCEPT-03"]["outcome"] == "skipped"
    assert reqs["ACCEPT-04"] == {"level": "MUST", "outcome": "untested", "tests": []}
    assert reqs["ACCEPT-05"] == {"level": "MUST", "outcome": "blocked", "tests": ["a::five"],
                                 "blocked_by": ["SESSION-02"]}
    assert reqs["SESSION-02"] == {"level": "MUST", "outcome": "failed", "tests": ["a::five"]}
    assert summary["totals"] == counts(passed=1, xfailed=1, error=1, skipped=1, blocked=1)
    assert (summary["verdict"], exit_status(summary)) == ("non-conformant", 1)
    assert summary["coverage"]["untested_because"]["ACCEPT-05"] == "blocked by SESSION-02"
    path = write_reports(summary, tmp_path)
    assert json.loads(path.read_text())["verdict"] == "non-conformant"
    assert "| [ACCEPT-02](profile.md#accept-02) | MUST | error |" in (tmp_path / "summary.md").read_text()
    assert "blocked by SESSION-02: no invitation" in (tmp_path / "summary.md").read_text()
    assert failed_tests(path) == ["a::five", "a::three"]
