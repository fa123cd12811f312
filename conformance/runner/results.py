"""Every suite test's outcome, collected where the reports arrive (the controller, under xdist).

Each phase's pytest report carries its classified result as a plain dict (`RECORD`), so it crosses
xdist's wire; `RunState` gathers them, with what else the run saw: the tests selected and reported, the
deselected count, what the end-of-run sweep left on the server, and why the run stopped early.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from conformance.reporting.summary import SEVERITY, Outcome, TestResult, worst

RECORD = "gws_conformance"  # the report attribute carrying a suite test's classified result
LEFT_BEHIND_RECORD = "gws_left_behind"  # the report attribute carrying what the end-of-run sweep left
STATE_KEY = pytest.StashKey["RunState"]()
SEVERITY_RANK = {outcome: rank for rank, outcome in enumerate(SEVERITY)}  # worst first


def to_record(result: TestResult) -> dict[str, Any]:
    record: dict[str, Any] = {"outcome": str(result.outcome),
                              "requirements": {k: str(v) for k, v in result.requirements.items()}}
    if result.blocked_by:
        record["blocked_by"] = result.blocked_by
    if result.reason:
        record["reason"] = result.reason
    return record


def from_record(nodeid: str, record: dict[str, Any]) -> TestResult:
    return TestResult(
        nodeid, Outcome(record["outcome"]),
        {rid: Outcome(o) for rid, o in record["requirements"].items()},
        blocked_by=record.get("blocked_by"), reason=str(record.get("reason", "")),
    )


def record_of(report: pytest.TestReport) -> dict[str, Any] | None:
    """The suite outcome a report carries, or None for the project's own tests."""
    record = getattr(report, RECORD, None)
    return record if isinstance(record, dict) else None


class RunState:
    """Controller-side collection of suite results (xdist workers send their reports here); registered
    as a plugin for the run, so its hooks see every report."""

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

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self.nodeids.add(report.nodeid)
        self.left_behind += getattr(report, LEFT_BEHIND_RECORD, None) or []
        record = record_of(report)
        if record is not None:
            self.phases.setdefault(report.nodeid, []).append(from_record(report.nodeid, record))

    def pytest_deselected(self, items: list[pytest.Item]) -> None:
        self.deselected += len(items)

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        self.collected = len(session.items)

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node: Any, ids: list[str]) -> None:
        self.collected = len(ids)

    def results(self) -> list[TestResult]:
        """One result per suite test: its worst phase, and per requirement the worst of its phases."""
        merged = []
        for nodeid, phases in self.phases.items():
            ids = {rid for phase in phases for rid in phase.requirements}
            per_id = {rid: worst(p.requirements[rid] for p in phases if rid in p.requirements) for rid in ids}
            final = min(phases, key=lambda p: SEVERITY_RANK[p.outcome])
            merged.append(TestResult(nodeid, final.outcome, per_id, final.blocked_by, final.reason))
        return merged

    def reasons(self, outcome: Outcome) -> dict[str, str]:
        return {r.nodeid: r.reason for r in self.results() if r.outcome is outcome and r.reason}


def state_of(config: pytest.Config) -> RunState | None:
    return config.stash.get(STATE_KEY, None)


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    state = RunState()
    config.stash[STATE_KEY] = state
    config.pluginmanager.register(state, "gws_conformance_results")
