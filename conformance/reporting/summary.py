"""Test outcomes, requirement outcomes, the verdict and its exit status; summary.json and summary.md."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from conformance.spec import CATALOGUE, Level, Requirement

SUITE_NAME = "gws-conformance"


class Outcome(StrEnum):
    FAILED = "failed"
    WARNING = "warning"
    ERROR = "error"
    XPASSED = "xpassed"
    XFAILED = "xfailed"
    PASSED = "passed"
    SKIPPED = "skipped"
    UNTESTED = "untested"


# Worst first: a requirement takes the worst outcome of its tests.
SEVERITY: tuple[Outcome, ...] = (
    Outcome.FAILED, Outcome.WARNING, Outcome.ERROR, Outcome.XPASSED, Outcome.XFAILED, Outcome.PASSED,
    Outcome.SKIPPED,
)
TOTALS: tuple[Outcome, ...] = (
    Outcome.PASSED, Outcome.FAILED, Outcome.WARNING, Outcome.ERROR, Outcome.SKIPPED, Outcome.XFAILED,
    Outcome.XPASSED,
)


class Verdict(StrEnum):
    CONFORMANT = "conformant"
    WITH_WARNINGS = "conformant-with-warnings"
    NON_CONFORMANT = "non-conformant"
    ERROR = "error"


EXIT_STATUS = {Verdict.CONFORMANT: 0, Verdict.WITH_WARNINGS: 0, Verdict.NON_CONFORMANT: 1, Verdict.ERROR: 3}
EXIT_CONFIG_ERROR = 2


@dataclass(frozen=True)
class TestResult:
    """One suite test's final outcome, and per requirement ID what it showed."""

    nodeid: str
    outcome: Outcome
    requirements: Mapping[str, Outcome]
    __test__ = False  # not a pytest test class


def failure_outcome(level: Level, strict: bool) -> Outcome:
    """What a deviation from a requirement of this level counts as."""
    return Outcome.FAILED if level is Level.MUST or strict else Outcome.WARNING


def classify(
    nodeid: str,
    ids: Iterable[str],
    base: Outcome,
    blamed: str | None = None,
    strict: bool = False,
    catalogue: Mapping[str, Requirement] = CATALOGUE,
) -> TestResult:
    """The result of a test whose pytest outcome is `base`.

    `base` is FAILED for a failed assertion in the call phase (a NonConformance or AssertionError):
    it becomes failed or warning by level. When the failure names one of the test's IDs (`blamed`),
    only that ID is failed; the test's other IDs count as skipped (not established).
    """
    ids = tuple(ids)
    if base is not Outcome.FAILED:
        return TestResult(nodeid, base, {rid: base for rid in ids})
    culprits = (blamed,) if blamed in ids else ids
    per_id = {rid: failure_outcome(catalogue[rid].level, strict) for rid in culprits if rid in catalogue}
    outcome = worst(per_id.values()) if per_id else Outcome.FAILED
    # The failure stopped the test: what it would have shown about its other IDs is unknown.
    return TestResult(nodeid, outcome, {rid: per_id.get(rid, Outcome.SKIPPED) for rid in ids})


def worst(outcomes: Iterable[Outcome]) -> Outcome:
    found = set(outcomes)
    return next((o for o in SEVERITY if o in found), Outcome.UNTESTED)


def requirement_outcomes(
    results: Iterable[TestResult], catalogue: Mapping[str, Requirement] = CATALOGUE
) -> dict[str, dict[str, Any]]:
    """Every catalogue ID with its level, outcome and the tests that name it."""
    tests: dict[str, list[str]] = {rid: [] for rid in catalogue}
    seen: dict[str, list[Outcome]] = {rid: [] for rid in catalogue}
    for result in results:
        for rid, outcome in result.requirements.items():
            if rid in catalogue:
                seen[rid].append(outcome)
        for rid in result.requirements:
            if rid in tests and result.nodeid not in tests[rid]:
                tests[rid].append(result.nodeid)
    return {
        rid: {"level": str(req.level), "outcome": str(worst(seen[rid])), "tests": sorted(tests[rid])}
        for rid, req in catalogue.items()
    }


def totals(results: Iterable[TestResult]) -> dict[str, int]:
    counts = {str(o): 0 for o in TOTALS}
    for result in results:
        counts[str(result.outcome)] += 1
    return counts


def verdict(counts: Mapping[str, int], reachable: bool = True) -> Verdict:
    """The first rule that applies (suite-interface.md, "Verdict and exit status")."""
    ran = sum(counts.values()) - counts.get("skipped", 0)
    failing = counts.get("failed", 0) + counts.get("xpassed", 0)
    if not reachable or ran == 0 or (counts.get("error", 0) and not failing):
        return Verdict.ERROR
    if failing:
        return Verdict.NON_CONFORMANT
    if counts.get("warning", 0):
        return Verdict.WITH_WARNINGS
    return Verdict.CONFORMANT


@dataclass
class RunInfo:
    """What the summary says about the run besides the results."""

    version: str
    profile: str
    target: Mapping[str, Any]
    started: datetime = field(default_factory=lambda: datetime.now(UTC))
    duration_s: float = 0.0
    reachable: bool = True
    notes: list[str] = field(default_factory=list)


def build_summary(
    results: list[TestResult], info: RunInfo, catalogue: Mapping[str, Requirement] = CATALOGUE
) -> dict[str, Any]:
    counts = totals(results)
    summary: dict[str, Any] = {
        "suite": {"name": SUITE_NAME, "version": info.version},
        "profile": info.profile,
        "target": dict(info.target),
        "started": info.started.isoformat(timespec="seconds"),
        "duration_s": round(info.duration_s, 3),
        "verdict": str(verdict(counts, info.reachable)),
        "requirements": requirement_outcomes(results, catalogue),
        "totals": counts,
        # Beyond the documented keys: each test's outcome, read by --rerun-failed.
        "tests": {r.nodeid: str(r.outcome) for r in results},
    }
    return summary


def exit_status(summary: Mapping[str, Any]) -> int:
    return EXIT_STATUS[Verdict(summary["verdict"])]


def render_markdown(summary: Mapping[str, Any], notes: Iterable[str] = ()) -> str:
    """summary.md: the same content as summary.json, as tables."""
    suite, counts = summary["suite"], summary["totals"]
    lines = [
        f"# {suite['name']} {suite['version']} — verdict: **{summary['verdict']}**",
        "",
        f"- profile: `{summary['profile']}`",
        f"- target: `{summary['target'].get('base_url', '')}`",
        f"- started: {summary['started']}, duration {summary['duration_s']} s",
        "",
        "| " + " | ".join(counts) + " |",
        "|" + "---|" * len(counts),
        "| " + " | ".join(str(n) for n in counts.values()) + " |",
        "",
        "| requirement | level | outcome | tests |",
        "|---|---|---|---|",
    ]
    for rid, entry in summary["requirements"].items():
        tests = "<br>".join(f"`{t}`" for t in entry["tests"])
        lines.append(f"| {rid} | {entry['level']} | {entry['outcome']} | {tests} |")
    notes = list(notes)
    if notes:
        lines += ["", "## Notes", "", *(f"- {note}" for note in notes)]
    return "\n".join(lines) + "\n"


def write_reports(summary: Mapping[str, Any], report_dir: Path, notes: Iterable[str] = ()) -> Path:
    report_dir.mkdir(parents=True, exist_ok=True)
    path = report_dir / "summary.json"
    path.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    (report_dir / "summary.md").write_text(render_markdown(summary, notes), encoding="utf-8")
    return path


def failed_tests(summary_path: Path) -> list[str]:
    """The node ids that failed, warned or errored in an earlier summary (for --rerun-failed)."""
    summary = json.loads(summary_path.read_text(encoding="utf-8"))
    bad = {"failed", "warning", "error", "xpassed"}
    if "tests" in summary:
        return sorted(nodeid for nodeid, outcome in summary["tests"].items() if outcome in bad)
    entries = summary["requirements"].values()
    return sorted({t for entry in entries if entry["outcome"] in bad for t in entry["tests"]})
