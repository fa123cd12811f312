"""A verdict says what it covers: a run narrowed by the user is conformant only on its selection, a
target too small for the whole suite is refused (or, narrowed, incomplete), and a server with one broken
prerequisite is judged in about the time of a clean run, the tests that need it blocked, not failed."""

from __future__ import annotations

from pathlib import Path
from xml.etree import ElementTree

import pytest

from conformance.simulator.server import ReferenceServer
from tests.selftest.runs import run_suite, write_target
from tests.suite_process import clean_env


def one_agent_target(folder: Path, url: str) -> Path:
    path = folder / "one-agent.toml"
    path.write_text(
        f'base_url = "{url}"\ntimeout_s = 5\n\n[[agents]]\nusername = "alice"\n'
        'password = "password"\nid = "a1"\nskills = ["sales"]\n',
        encoding="utf-8",
    )
    return path


def test_a_whole_run_with_one_agent_is_refused_before_anything_runs(tmp_path: Path) -> None:
    import subprocess
    import sys

    with ReferenceServer() as server:
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "conformance.cli",
                "run",
                "--target",
                str(one_agent_target(tmp_path, server.url)),
                "--report-dir",
                str(tmp_path / "r"),
            ],
            capture_output=True,
            text=True,
            timeout=60,
            env=clean_env(),
        )
    assert done.returncode == 2 and not (tmp_path / "r" / "summary.json").exists()
    assert done.stderr.strip().splitlines() == [
        "gws-conformance: agents: the target has 1; the whole suite needs at least 3 [[agents]] entries: "
        "add agents to the target file, or narrow the run with --select"
    ]


def test_a_narrowed_run_with_one_agent_is_incomplete(tmp_path: Path) -> None:
    with ReferenceServer() as server:
        exit_code, summary = run_suite(
            one_agent_target(tmp_path, server.url), tmp_path / "r", "--select", "REJECT"
        )
    reqs = summary["requirements"]
    assert (exit_code, summary["verdict"]) == (3, "incomplete")
    assert reqs["REJECT-02"]["outcome"] == "skipped"  # needs a second agent
    assert summary["coverage"]["untested_because"]["REJECT-02"].startswith("skipped: ")
    assert "failed" not in {e["outcome"] for e in reqs.values()}


def test_one_area_selected_is_conformant_on_that_selection_only(tmp_path: Path) -> None:
    with ReferenceServer() as server:
        exit_code, summary = run_suite(
            write_target(tmp_path, server.url), tmp_path / "r", "--select", "ACCEPT"
        )
    assert (exit_code, summary["verdict"]) == (0, "conformant-on-selection")
    coverage = summary["coverage"]
    assert coverage["requirements"] == 67 and 5 <= coverage["tested"] < 67
    assert coverage["untested"] == 67 - coverage["tested"]
    assert all(why == "not selected" for why in coverage["untested_because"].values())
    assert summary["run"]["narrowed"] is True


@pytest.mark.slow
@pytest.mark.nightly  # a whole run (about a minute); the gate catches chats-never-offered by selection
def test_a_broken_prerequisite_blocks_fast_and_fails_only_itself(tmp_path: Path) -> None:
    """Routing never offers a chat: nearly every test needs one. The first tests that wait for an
    invitation establish the deviation; the rest are blocked at once instead of each waiting 5 s."""
    with ReferenceServer(faults=["chats-never-offered"]) as server:
        exit_code, summary = run_suite(write_target(tmp_path, server.url), tmp_path / "r")
    failed = {rid for rid, e in summary["requirements"].items() if e["outcome"] == "failed"}
    assert failed == {"SESSION-02"} and (exit_code, summary["verdict"]) == (1, "non-conformant")
    assert summary["totals"]["blocked"] > 150 and summary["totals"]["error"] == 0
    # Blocked fast, counted (not timed): only SESSION-02's own tests and the first three it blocks wait
    # out their 5 s deadline; every other test is blocked without waiting for it.
    cases = ElementTree.parse(tmp_path / "r" / "junit.xml").getroot().iter("testcase")
    waited = [c.get("name") for c in cases if float(c.get("time") or 0) >= 5.0]
    assert len(waited) <= 8, waited


def test_a_run_first_removes_the_previous_runs_reports(tmp_path: Path) -> None:
    reports = tmp_path / "r"
    (reports / "allure-results").mkdir(parents=True)
    stale = {"summary.md": "verdict: **conformant**", "junit.xml": "<testsuites/>",
             "allure-results/old-result.json": "{}"}
    for name, text in stale.items():
        (reports / name).write_text(text, encoding="utf-8")
    with ReferenceServer() as server:
        exit_code, summary = run_suite(write_target(tmp_path, server.url), reports, "--select", "AUTH-01")
    assert (exit_code, summary["verdict"]) == (0, "conformant-on-selection")
    assert not (reports / "allure-results" / "old-result.json").exists()
    assert (reports / "junit.xml").read_text(encoding="utf-8") != "<testsuites/>"
    assert "conformant-on-selection" in (reports / "summary.md").read_text(encoding="utf-8")
