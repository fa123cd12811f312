"""The terminal: a FAIL reads as its requirement, expected, actual and where the transcript is (not a
traceback through pytest-asyncio; --tb=long, short, native... give pytest's own), and the end of the
output: the errors, the blocks, the verdict table and line, and where the reports are."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from _pytest._code.code import TerminalRepr  # pytest exports no name for a report's printable failure

from conformance.reporting.summary import PASSING_VERDICTS, Outcome, TestResult
from conformance.reporting.terminal import verdict_table
from conformance.runner.evidence import READABLE
from conformance.runner.options import gws_config
from conformance.runner.results import state_of

DEFAULT_TRACEBACK = "auto"  # pytest's --tb when none is given


class ReadableFailures:
    """Replaces a FAIL's traceback with its readable text where the terminal reads it: after junit.xml
    and Allure took the full one (their hooks ran first), in the process that prints the summary."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config

    @pytest.hookimpl(trylast=True)
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        text = getattr(report, READABLE, None)
        if isinstance(text, str) and report.failed and self.config.option.tbstyle == DEFAULT_TRACEBACK:
            report.longrepr = ReadableText(text, getattr(report.longrepr, "reprcrash", None))


class ReadableText(TerminalRepr):
    """A longrepr the terminal prints as is; keeps the crash line for pytest's short summary."""

    def __init__(self, text: str, reprcrash: Any) -> None:
        self.text = text
        self.reprcrash = reprcrash

    def toterminal(self, tw: Any) -> None:
        first, *rest = self.text.splitlines()
        tw.line(first, red=True, bold=True)
        for line in rest:
            tw.line(line)

    def __str__(self) -> str:
        return self.text


def pytest_configure(config: pytest.Config) -> None:
    config.pluginmanager.register(ReadableFailures(config), "gws_conformance_readable_failures")


def write_blocked(terminalreporter: Any, results: list[TestResult]) -> None:
    """One line per requirement that blocked tests: how many, and the first evidence."""
    by: dict[str, list[TestResult]] = {}
    for result in results:
        if result.outcome is Outcome.BLOCKED and result.blocked_by:
            by.setdefault(result.blocked_by, []).append(result)
    if not by:
        return
    terminalreporter.write_line("blocked (the test could not reach its state because the server broke):")
    for rid, blocked in sorted(by.items()):
        terminalreporter.write_line(f"  {len(blocked)} test(s) blocked by {rid}: {blocked[0].reason}",
                                    yellow=True)


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    state = state_of(config)
    if state is None or state.summary is None:
        return
    summary = state.summary
    terminalreporter.section("gws-conformance verdict", sep="=", bold=True)
    errors = state.reasons(Outcome.ERROR)
    if errors:
        terminalreporter.write_line("errors (the test could not be completed; no verdict on the server):")
        for nodeid, reason in sorted(errors.items()):
            terminalreporter.write_line(f"  ERROR {nodeid}: {reason}", yellow=True)
    write_blocked(terminalreporter, state.results())
    lines = verdict_table(summary, notes=state.notes)
    for line in lines[:-1]:
        terminalreporter.write_line(line)
    good = summary["verdict"] in PASSING_VERDICTS
    terminalreporter.write_line(lines[-1], bold=True, green=good, red=not good)
    missing = summary["coverage"]["untested_because"]
    if missing and summary["verdict"] == "incomplete":
        terminalreporter.write_line("untested requirements:")
        for rid, why in missing.items():
            terminalreporter.write_line(f"  {rid}: {why}")
    report_dir = Path(gws_config(config).report_dir)
    terminalreporter.write_line(f"reports: {report_dir / 'summary.json'}, {report_dir / 'summary.md'}")
