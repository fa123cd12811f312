"""Test outcomes, requirement outcomes, the verdict and its exit status; summary.json and summary.md."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from conformance.protocol import CATALOGUE, Level, Requirement

SUITE_NAME = "gws-conformance"


class Outcome(StrEnum):
    FAILED = "failed"
    WARNING = "warning"
    ERROR = "error"
    XPASSED = "xpassed"
    BLOCKED = "blocked"  # the test could not reach its state: another requirement failed on the way
    XFAILED = "xfailed"
    PASSED = "passed"
    SKIPPED = "skipped"
    UNTESTED = "untested"


# Worst first: a requirement takes the worst outcome of its tests.
SEVERITY: tuple[Outcome, ...] = (
    Outcome.FAILED, Outcome.WARNING, Outcome.ERROR, Outcome.XPASSED, Outcome.BLOCKED, Outcome.XFAILED,
    Outcome.PASSED, Outcome.SKIPPED,
)
TOTALS: tuple[Outcome, ...] = (
    Outcome.PASSED, Outcome.FAILED, Outcome.WARNING, Outcome.ERROR, Outcome.BLOCKED, Outcome.SKIPPED,
    Outcome.XFAILED, Outcome.XPASSED,
)
# What a requirement's outcome must be for it to count as tested.
TESTED: frozenset[Outcome] = frozenset({Outcome.PASSED, Outcome.WARNING, Outcome.XFAILED})


class Verdict(StrEnum):
    CONFORMANT = "conformant"
    WITH_WARNINGS = "conformant-with-warnings"
    ON_SELECTION = "conformant-on-selection"
    INCOMPLETE = "incomplete"
    NON_CONFORMANT = "non-conformant"
    ERROR = "error"


EXIT_STATUS = {Verdict.CONFORMANT: 0, Verdict.WITH_WARNINGS: 0, Verdict.ON_SELECTION: 0,
               Verdict.INCOMPLETE: 3, Verdict.NON_CONFORMANT: 1, Verdict.ERROR: 3}
PASSING_VERDICTS = frozenset({Verdict.CONFORMANT, Verdict.WITH_WARNINGS, Verdict.ON_SELECTION})
EXIT_CONFIG_ERROR = 2


@dataclass(frozen=True)
class TestResult:
    """One suite test's final outcome, and per requirement ID what it showed.

    A blocked test names the requirement that blocked it (`blocked_by`); `reason` is the one line
    that explains an error, a skip or a block.
    """

    nodeid: str
    outcome: Outcome
    requirements: Mapping[str, Outcome]
    blocked_by: str | None = None
    reason: str = ""
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


def blocked(
    nodeid: str,
    ids: Iterable[str],
    by: str,
    reason: str,
    evidence: bool = True,
    strict: bool = False,
    expected: bool = False,
    catalogue: Mapping[str, Requirement] = CATALOGUE,
) -> TestResult:
    """A test stopped on its way to the state it checks because the server broke `by`.

    Its own requirements are blocked (xfailed when `by` is an expected deviation); when the test met the
    deviation itself (`evidence`), `by` is reported failed through it as well.
    """
    own = Outcome.XFAILED if expected else Outcome.BLOCKED
    per_id: dict[str, Outcome] = dict.fromkeys(ids, own)
    if evidence and by in catalogue:
        per_id[by] = Outcome.XFAILED if expected else failure_outcome(catalogue[by].level, strict)
    return TestResult(nodeid, own, per_id, blocked_by=by, reason=reason)


def worst(outcomes: Iterable[Outcome]) -> Outcome:
    found = set(outcomes)
    return next((o for o in SEVERITY if o in found), Outcome.UNTESTED)


def requirement_outcomes(
    results: Iterable[TestResult], catalogue: Mapping[str, Requirement] = CATALOGUE
) -> dict[str, dict[str, Any]]:
    """Every catalogue ID with its level, outcome and the tests that name it."""
    tests: dict[str, list[str]] = {rid: [] for rid in catalogue}
    seen: dict[str, list[Outcome]] = {rid: [] for rid in catalogue}
    blockers: dict[str, set[str]] = {rid: set() for rid in catalogue}
    reasons: dict[str, set[str]] = {rid: set() for rid in catalogue}
    for result in results:
        for rid, outcome in result.requirements.items():
            if rid not in catalogue:
                continue
            seen[rid].append(outcome)
            if result.nodeid not in tests[rid]:
                tests[rid].append(result.nodeid)
            if outcome in (Outcome.BLOCKED, Outcome.XFAILED) and result.blocked_by not in (None, rid):
                blockers[rid].add(str(result.blocked_by))
            if outcome is Outcome.SKIPPED and result.reason:
                reasons[rid].add(result.reason)
    entries: dict[str, dict[str, Any]] = {}
    for rid, req in catalogue.items():
        outcome = worst(seen[rid])
        entry: dict[str, Any] = {"level": str(req.level), "outcome": str(outcome),
                                 "tests": sorted(tests[rid])}
        if blockers[rid]:
            entry["blocked_by"] = sorted(blockers[rid])
        if outcome is Outcome.SKIPPED and reasons[rid]:
            entry["skipped_because"] = sorted(reasons[rid])
        entries[rid] = entry
    return entries


def totals(results: Iterable[TestResult]) -> dict[str, int]:
    counts = {str(o): 0 for o in TOTALS}
    for result in results:
        counts[str(result.outcome)] += 1
    return counts


def untested(requirements: Mapping[str, Mapping[str, Any]]) -> dict[str, str]:
    """Each requirement that was not tested, with why (the coverage of a verdict)."""
    why: dict[str, str] = {}
    for rid, entry in requirements.items():
        outcome = Outcome(entry["outcome"])
        if outcome in TESTED or outcome in (Outcome.FAILED, Outcome.XPASSED, Outcome.ERROR):
            continue
        if outcome is Outcome.BLOCKED:
            why[rid] = "blocked by " + ", ".join(entry.get("blocked_by", ["a failed prerequisite"]))
        elif outcome is Outcome.SKIPPED:
            why[rid] = "skipped: " + "; ".join(entry.get("skipped_because", ["see the tests' skip reasons"]))
        else:
            why[rid] = "not selected"
    return why


def verdict(
    counts: Mapping[str, int],
    requirements: Mapping[str, Mapping[str, Any]] | None = None,
    reachable: bool = True,
    interrupted: bool = False,
    narrowed: bool = False,
) -> Verdict:
    """The first rule that applies (suite-interface.md, "Verdict and exit status", revised rules first)."""
    outcomes = {Outcome(e["outcome"]) for e in (requirements or {}).values()}
    ran = sum(counts.values()) - counts.get("skipped", 0)
    failing = (counts.get("failed", 0) + counts.get("xpassed", 0)
               or bool(outcomes & {Outcome.FAILED, Outcome.XPASSED}))
    if interrupted or not reachable or ran == 0:
        return Verdict.ERROR
    if failing:
        return Verdict.NON_CONFORMANT
    if counts.get("error", 0):
        return Verdict.ERROR
    missing = set(untested(requirements or {}).values())
    if any(not why.startswith("not selected") for why in missing):
        return Verdict.INCOMPLETE  # skipped or blocked because of the target
    if narrowed or missing:
        return Verdict.ON_SELECTION
    if counts.get("warning", 0) or Outcome.WARNING in outcomes:
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
    narrowed: bool = False  # the user narrowed the selection (--select, --rerun-failed, -k, a path)
    interrupted: str | None = None  # why the run stopped before every selected test reported
    selected: int | None = None  # how many suite tests were selected


def build_summary(
    results: list[TestResult], info: RunInfo, catalogue: Mapping[str, Requirement] = CATALOGUE
) -> dict[str, Any]:
    counts = totals(results)
    requirements = requirement_outcomes(results, catalogue)
    grade = verdict(counts, requirements, info.reachable, info.interrupted is not None, info.narrowed)
    missing = untested(requirements)
    summary: dict[str, Any] = {
        "suite": {"name": SUITE_NAME, "version": info.version},
        "profile": info.profile,
        "target": dict(info.target),
        "started": info.started.isoformat(timespec="seconds"),
        "duration_s": round(info.duration_s, 3),
        "verdict": str(grade),
        "requirements": requirements,
        "totals": counts,
        # Beyond the documented keys: what the verdict covers, and whether the run ran to its end.
        "coverage": {"requirements": len(requirements), "tested": len(requirements) - len(missing),
                     "untested": len(missing), "untested_because": missing},
        "interrupted": info.interrupted,
        "run": {"selected": info.selected, "reported": len(results), "narrowed": info.narrowed},
        # Each test's outcome (read by --rerun-failed) and, for blocked, skipped and errored tests, why.
        "tests": {r.nodeid: str(r.outcome) for r in results},
        "reasons": {r.nodeid: (f"blocked by {r.blocked_by}: " if r.blocked_by else "") + r.reason
                    for r in results if r.reason or r.blocked_by},
    }
    return summary


def exit_status(summary: Mapping[str, Any]) -> int:
    return EXIT_STATUS[Verdict(summary["verdict"])]


def verdict_line(summary: Mapping[str, Any]) -> str:
    """`VERDICT: ...` with what it covers: the requirements tested, and why a run is not a verdict."""
    line = f"VERDICT: {summary['verdict'].upper()}"
    coverage = summary.get("coverage")
    if coverage:
        line += (f" ({coverage['tested']} of {coverage['requirements']} requirements tested, "
                 f"{coverage['untested']} untested)")
    if summary.get("interrupted"):
        line += f" — interrupted: {summary['interrupted']}"
    return line


def render_markdown(summary: Mapping[str, Any], notes: Iterable[str] = ()) -> str:
    """summary.md: the same content as summary.json, as tables."""
    suite, counts = summary["suite"], summary["totals"]
    lines = [
        f"# {suite['name']} {suite['version']} — verdict: **{summary['verdict']}**",
        "",
        f"- profile: `{summary['profile']}`",
        f"- target: `{summary['target'].get('base_url', '')}`",
        f"- started: {summary['started']}, duration {summary['duration_s']} s",
        f"- {verdict_line(summary)}",
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
        lines.append(f"| {_linked(rid)} | {entry['level']} | {entry['outcome']} | {tests} |")
    missing = summary.get("coverage", {}).get("untested_because", {})
    if missing:
        lines += ["", "## Untested requirements", "",
                  *(f"- {_linked(rid)}: {why}" for rid, why in missing.items())]
    reasons = summary.get("reasons", {})
    if reasons:
        lines += ["", "## Blocked, errored and skipped tests", "",
                  *(f"- `{nodeid}` ({summary['tests'].get(nodeid, '')}): {why}"
                    for nodeid, why in reasons.items())]
    notes = list(notes)
    if notes:
        lines += ["", "## Notes", "", *(f"- {note}" for note in notes)]
    return "\n".join(lines) + "\n"


def _linked(rid: str) -> str:
    """The ID as a link to its anchor in profile.md, which every run writes next to summary.md."""
    return f"[{rid}]({CATALOGUE[rid].profile_link})" if rid in CATALOGUE else rid


def write_reports(summary: Mapping[str, Any], report_dir: Path, notes: Iterable[str] = ()) -> Path:
    report_dir.mkdir(parents=True, exist_ok=True)
    path = report_dir / "summary.json"
    path.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    (report_dir / "summary.md").write_text(render_markdown(summary, notes), encoding="utf-8")
    return path


def failed_tests(summary_path: Path) -> list[str]:
    """The node ids that failed, warned, errored or were blocked in an earlier summary (--rerun-failed)."""
    summary = json.loads(summary_path.read_text(encoding="utf-8"))
    bad = {"failed", "warning", "error", "xpassed", "blocked"}
    if "tests" in summary:
        return sorted(nodeid for nodeid, outcome in summary["tests"].items() if outcome in bad)
    entries = summary["requirements"].values()
    return sorted({t for entry in entries if entry["outcome"] in bad for t in entry["tests"]})
