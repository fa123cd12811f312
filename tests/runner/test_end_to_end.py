"""`gws-conformance run` against the embedded reference server."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from conformance.spec import CATALOGUE
from tests.suite_process import clean_env


def test_run_auth_01_against_the_embedded_server(tmp_path: Path) -> None:
    env = clean_env()
    done = subprocess.run(
        [sys.executable, "-m", "conformance.cli", "run", "--select", "AUTH-01", "--report-dir", str(tmp_path),
         "--bundle", str(tmp_path / "bundle.zip")],
        capture_output=True, text=True, timeout=120, env=env,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["verdict"] == "conformant" and set(summary["requirements"]) == set(CATALOGUE)
    assert summary["requirements"]["AUTH-01"]["outcome"] == "passed"
    assert (tmp_path / "junit.xml").is_file() and any((tmp_path / "allure-results").iterdir())
    assert (tmp_path / "bundle.zip").is_file()


def test_two_workers_give_one_merged_summary(tmp_path: Path) -> None:
    def run(report_dir: Path, *workers: str) -> dict:
        done = subprocess.run(
            [sys.executable, "-m", "conformance.cli", "run", "--select", "ACCEPT or REJECT", "--report-dir",
             str(report_dir), *workers],
            capture_output=True, text=True, timeout=180, env=clean_env(),
        )
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
        return json.loads((report_dir / "summary.json").read_text())

    serial, parallel = run(tmp_path / "one"), run(tmp_path / "two", "--workers", "2")
    assert parallel["tests"] == serial["tests"] and len(serial["tests"]) > 15
    assert parallel["requirements"] == serial["requirements"]
    assert len(list((tmp_path / "two" / "allure-results").glob("*-result.json"))) == len(
        list((tmp_path / "one" / "allure-results").glob("*-result.json")))


def test_a_profile_file_changes_what_the_suite_expects(tmp_path: Path) -> None:
    """8.5.2 calls the state Chatting: with that profile the embedded server (which follows the
    profile) conforms, and a server speaking the default profile does not."""
    from conformance.simulator.server import ReferenceServer

    profile = tmp_path / "chatting.toml"
    profile.write_text('[states]\nprocessing = "Chatting"\n', encoding="utf-8")

    def run(report_dir: Path, *target: str) -> tuple[int, dict]:
        done = subprocess.run(
            [sys.executable, "-m", "conformance.cli", "run", "--select", "ACCEPT-01",
             "--profile", str(profile), "--report-dir", str(report_dir), *target],
            capture_output=True, text=True, timeout=180, env=clean_env(),
        )
        return done.returncode, json.loads((report_dir / "summary.json").read_text())

    status, summary = run(tmp_path / "embedded")
    assert (status, summary["verdict"]) == (0, "conformant")
    with ReferenceServer() as default_server:
        status, summary = run(tmp_path / "default", "--base-url", default_server.url)
    assert (status, summary["requirements"]["ACCEPT-01"]["outcome"]) == (1, "failed")
