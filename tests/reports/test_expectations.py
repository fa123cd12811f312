"""Expectations: known deviations are xfailed, a fixed one fails the run, stale entries are reported."""

from __future__ import annotations

from pathlib import Path

from tests.reports.conftest import reference_server, run_suite, write_target

PASSING = "suites/operations/test_accept.py::test_accept_invitation_makes_the_agent_owner"


def test_a_known_deviation_is_xfailed_and_keeps_the_verdict(tmp_path: Path) -> None:
    expectations = tmp_path / "expected.toml"
    expectations.write_text(
        '[ACCEPT-02]\nreason = "vendor ticket 42: ParticipantsUpdated first"\nlink = "https://tickets.example/42"\n'
        '[REJECT-01]\nreason = "no longer selected"\n',
        encoding="utf-8",
    )
    with reference_server() as server:
        run = run_suite(write_target(tmp_path, server.url), tmp_path / "reports", "--select", "ACCEPT-02",
                        "--expectations", str(expectations))
    summary = run.summary
    assert summary["requirements"]["ACCEPT-02"]["outcome"] == "xfailed"
    assert summary["totals"]["xfailed"] >= 1 and summary["totals"]["failed"] == 0
    assert (run.status, summary["verdict"]) == (0, "conformant-on-selection")
    assert summary["expectations_unmatched"] == ["REJECT-01"]
    assert "expectation 'REJECT-01' matched no selected test" in run.stdout
    assert "REJECT-01" in (run.report_dir / "summary.md").read_text(encoding="utf-8")
    junit = (run.report_dir / "junit.xml").read_text(encoding="utf-8")
    assert "vendor ticket 42" in junit


def test_an_expected_failure_that_passes_fails_the_run(tmp_path: Path) -> None:
    expectations = tmp_path / "expected.toml"
    expectations.write_text(f'["{PASSING}"]\nreason = "thought broken"\n', encoding="utf-8")
    with reference_server() as server:
        run = run_suite(write_target(tmp_path, server.url), tmp_path / "reports",
                        "--select", "test_accept_invitation_makes_the_agent_owner",
                        "--expectations", str(expectations))
    summary = run.summary
    assert summary["tests"] == {PASSING: "xpassed"}
    assert (run.status, summary["verdict"]) == (1, "non-conformant")
    assert summary["expectations_unmatched"] == []


def test_an_invalid_expectations_file_is_a_usage_error(tmp_path: Path) -> None:
    from tests.reports.conftest import cli

    bad = tmp_path / "bad.toml"
    bad.write_text('[NOPE-99]\nreason = "x"\n', encoding="utf-8")
    done = cli("run", "--expectations", str(bad), "--report-dir", str(tmp_path / "r"))
    assert done.returncode == 2 and "NOPE-99" in done.stderr


def test_a_requirement_entry_xfails_its_failures_and_keeps_its_passes(tmp_path: Path) -> None:
    expectations = tmp_path / "expected.toml"
    expectations.write_text('[ACCEPT-05]\nreason = "an empty nickname is taken"\n', encoding="utf-8")
    with reference_server(("empty-nickname-accepted",)) as server:
        run = run_suite(write_target(tmp_path, server.url), tmp_path / "reports", "--select", "ACCEPT-05",
                        "--expectations", str(expectations))
    outcomes = set(run.summary["tests"].values())
    assert outcomes == {"passed", "xfailed"}  # only the empty-nickname case deviates
    assert run.summary["requirements"]["ACCEPT-05"]["outcome"] == "xfailed"
    assert (run.status, run.summary["verdict"]) == (0, "conformant-on-selection")


def test_a_requirement_entry_whose_tests_all_pass_fails_the_run(tmp_path: Path) -> None:
    expectations = tmp_path / "expected.toml"
    expectations.write_text('[ACCEPT-05]\nreason = "an empty nickname is taken"\n', encoding="utf-8")
    with reference_server(()) as server:
        run = run_suite(write_target(tmp_path, server.url), tmp_path / "reports", "--select", "ACCEPT-05",
                        "--expectations", str(expectations))
    assert run.summary["requirements"]["ACCEPT-05"]["outcome"] == "xpassed"
    assert (run.status, run.summary["verdict"]) == (1, "non-conformant")
    assert "the deviation is gone" in run.stdout
