"""The run's verdict and its report files: the previous run's summary removed when the run starts (a
stale verdict is never read), and when it ends the summary (outcomes, requirement outcomes, coverage,
verdict) written to summary.json / summary.md, the Allure verdict page, junit.xml aligned with each
test's outcome, and the verdict's exit status; Allure's result files are written surrogate-safe.
Written by the process the reports arrive in (the controller, under xdist), and only when suite tests
ran or the runner asked (--gws-reports)."""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Any

import pytest

from conformance.chats import ROUTING_SKIP
from conformance.fixtures import LEFT_BEHIND
from conformance.protocol import load_profile
from conformance.protocol.catalogue import PROFILE_DOCUMENT
from conformance.reporting import allure as allure_report
from conformance.reporting.junit import align_junit
from conformance.reporting.profile_doc import write as write_profile_document
from conformance.reporting.summary import (
    Outcome,
    RunInfo,
    TestResult,
    build_summary,
    exit_status,
    write_reports,
)
from conformance.runner.collection import expectations_of
from conformance.runner.evidence import TRANSCRIPTS
from conformance.runner.expectations import Expectation, matching, unmatched
from conformance.runner.interruption import interruption
from conformance.runner.options import gws_config, is_worker, listing, narrowed, writes_reports
from conformance.runner.phase_reports import OUTCOME_PROPERTY
from conformance.runner.results import RunState, state_of
from conformance.runner.version import package_version
from conformance.target import reported_target

SUMMARY_FILES = ("summary.json", "summary.md")


def pytest_sessionstart(session: pytest.Session) -> None:
    """A run that writes reports first removes the previous run's, so a stale verdict is never read."""
    config = session.config
    if is_worker(config) or listing(config) or not writes_reports(config):
        return
    cfg = gws_config(config)
    keep = cfg.rerun_failed.resolve() if cfg.rerun_failed else None  # read when the tests are selected
    for name in SUMMARY_FILES:
        stale = Path(cfg.report_dir) / name
        if stale.resolve() != keep:
            stale.unlink(missing_ok=True)
    shutil.rmtree(Path(cfg.report_dir) / TRANSCRIPTS, ignore_errors=True)


def fixed_deviations(
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


def summarize(session: pytest.Session, exitstatus: int, state: RunState) -> dict[str, Any]:
    """The run's summary; what the reader should also know goes to state.notes."""
    config = session.config
    cfg = gws_config(config)
    results = state.results()
    interrupted = interruption(session, exitstatus, state)
    info = RunInfo(version=package_version(), profile=load_profile(cfg.profile_path).name,
                   target=reported_target(cfg), duration_s=time.time() - state.started,
                   narrowed=narrowed(config), interrupted=interrupted, selected=state.collected)
    expectations = expectations_of(cfg)
    results += fixed_deviations(expectations, results, state.notes)
    summary = build_summary(results, info)
    state.left_behind += LEFT_BEHIND  # a sweep at an interruption runs after the last report
    LEFT_BEHIND.clear()
    summary["left_behind"] = state.left_behind
    routing_skips = sorted(r.nodeid for r in results
                           if r.outcome is Outcome.SKIPPED and (r.reason or "").startswith(ROUTING_SKIP))
    if routing_skips:  # even when other tests covered their requirements, say what did not run
        summary["skipped_for_routing"] = routing_skips  # beyond the documented keys
        state.notes.append(f"{len(routing_skips)} test(s) not run because of {ROUTING_SKIP.rstrip(': ')} "
                           f"(a server that routes by its own rules cannot be told where a chat goes): "
                           f"{', '.join(routing_skips)}")
    state.notes += [f"left on the server: {what}" for what in state.left_behind]
    if expectations:
        used = {e.key for r in results if (e := matching(expectations, r.nodeid, r.requirements)) is not None}
        stale = unmatched(expectations, used)
        state.notes += [f"expectation {key!r} matched no selected test" for key in stale]
        summary["expectations_unmatched"] = stale  # beyond the documented keys
    return summary


@pytest.hookimpl(trylast=True)  # after junitxml wrote its file
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    config = session.config
    state = state_of(config)
    if state is None or is_worker(config) or listing(config):
        return
    if not state.phases and not writes_reports(config):
        return
    summary = summarize(session, exitstatus, state)
    write_reports(summary, Path(gws_config(config).report_dir), state.notes)
    write_profile_document(Path(gws_config(config).report_dir) / PROFILE_DOCUMENT,  # summary.md links it
                           gws_config(config).profile_path)
    allure_dir = config.getoption("allure_report_dir", None)
    if allure_dir:
        allure_report.write_verdict(Path(allure_dir), summary, state.notes)
    junit = getattr(config.option, "xmlpath", None)
    if junit and Path(junit).is_file():
        align_junit(Path(junit), OUTCOME_PROPERTY)
    state.summary = summary
    if summary["interrupted"] is not None:
        if session.exitstatus == 0:
            session.exitstatus = exit_status(summary)
    elif state.phases and state.nodeids == set(state.phases):
        session.exitstatus = exit_status(summary)  # only suite tests ran: the verdict's exit status


@pytest.hookimpl(trylast=True)
def pytest_configure(config: pytest.Config) -> None:
    if config.getoption("allure_report_dir", None):
        allure_report.register_result_cleaner()  # after allure-pytest's configure made its file writer
