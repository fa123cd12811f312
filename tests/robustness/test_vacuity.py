"""Vacuity guards: a run that tests nothing, requirements whose tests were all skipped, and fixtures
that cannot set up are never reported as passed (nor as failed)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from conformance.reporting.summary import Outcome, RunInfo, TestResult, build_summary, classify
from tests.robustness.harness import clean_env, run_suite

FAKE_SUITE = '''
import pytest

from conformance.client import TargetUnreachable
from conformance.expect import NonConformance
from conformance.notifications import ChannelLost


@pytest.fixture
def chat_that_cannot_be_made():
    raise NonConformance("ACCEPT-01", "an invitation", "none came")


@pytest.fixture
def unreachable():
    raise TargetUnreachable("POST http://127.0.0.1:9/api/v2/me: ConnectError")


@pytest.mark.requirement("ACCEPT-01")
def test_needs_a_chat(chat_that_cannot_be_made):
    pass


@pytest.mark.requirement("ACCEPT-02")
def test_needs_the_server(unreachable):
    pass


@pytest.mark.requirement("ACCEPT-03")
def test_loses_the_channel():
    raise ChannelLost("connect failed: ConnectError", "InteractionStateChanged")


@pytest.mark.requirement("ACCEPT-04")
def test_skipped_only():
    pytest.skip("the target has 2 agents; this test needs 3")
'''


def test_a_run_that_selects_no_test_is_an_error_with_one_line(tmp_path: Path) -> None:
    # every word names something (a word naming nothing is a usage error, tests/runner/test_bad_input.py)
    run = run_suite(tmp_path / "r", "--select", "AUTH and ORDER", deadline_s=60)
    assert run.returncode == 3
    assert run.summary["verdict"] == "error" and sum(run.summary["totals"].values()) == 0
    assert run.stderr.strip().splitlines() == [
        "gws-conformance: no test ran: the selection matched no suite test (check --select / --rerun-failed)"
    ]


def test_a_requirement_whose_tests_were_all_skipped_is_skipped_never_passed() -> None:
    results = [
        classify("t::a", ["ACCEPT-01"], Outcome.SKIPPED),
        classify("t::b", ["ACCEPT-01", "ACCEPT-02"], Outcome.SKIPPED),
        classify("t::c", ["ACCEPT-02"], Outcome.PASSED),
    ]
    summary = build_summary(results, RunInfo(version="0", profile="p", target={}))
    assert summary["requirements"]["ACCEPT-01"]["outcome"] == "skipped"
    assert summary["requirements"]["ACCEPT-02"]["outcome"] == "passed"
    only_skips = build_summary(results[:2], RunInfo(version="0", profile="p", target={}))
    assert only_skips["verdict"] == "error"  # nothing ran: no verdict on the server


def test_a_failed_assertion_that_blames_one_id_leaves_the_others_skipped() -> None:
    result = classify("t::a", ["ACCEPT-01", "ACCEPT-02"], Outcome.FAILED, blamed="ACCEPT-02")
    assert result.requirements == {"ACCEPT-01": Outcome.SKIPPED, "ACCEPT-02": Outcome.FAILED}
    assert TestResult  # the type the summary is built from


def test_setup_deviations_block_and_harness_errors_are_errors(tmp_path: Path) -> None:
    suite = tmp_path / "suite"
    suite.mkdir()
    (suite / "test_fake.py").write_text(FAKE_SUITE, encoding="utf-8")
    reports = tmp_path / "r"
    done = subprocess.run(
        [sys.executable, "-m", "pytest", str(suite), "-p", "no:cacheprovider", "--report-dir", str(reports),
         "--rootdir", str(tmp_path)],
        cwd=tmp_path, capture_output=True, text=True, timeout=60, env=clean_env(),
    )
    summary = json.loads((reports / "summary.json").read_text(encoding="utf-8"))
    outcomes = {rid: summary["requirements"][rid]["outcome"] for rid in
                ("ACCEPT-01", "ACCEPT-02", "ACCEPT-03", "ACCEPT-04")}
    # The fixture's deviation blocks its test and is reported against the requirement it names.
    assert outcomes == {"ACCEPT-01": "failed", "ACCEPT-02": "error", "ACCEPT-03": "error",
                        "ACCEPT-04": "skipped"}, done.stdout[-3000:]
    assert summary["tests"]["suite/test_fake.py::test_needs_a_chat"] == "blocked"
    assert summary["verdict"] == "non-conformant" and done.returncode == 1
    assert "ERROR suite/test_fake.py::test_loses_the_channel: ChannelLost: notification channel lost while " \
           "waiting for a notification InteractionStateChanged: connect failed: ConnectError" in done.stdout
    assert "1 test(s) blocked by ACCEPT-01: expected an invitation; actual none came" in done.stdout
