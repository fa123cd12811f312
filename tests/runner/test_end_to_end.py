"""`gws-conformance run` against the embedded reference server."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from conformance.protocol import CATALOGUE, load_profile
from conformance.simulator.server import ReferenceServer, target_toml
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
    assert summary["verdict"] == "conformant-on-selection" and set(summary["requirements"]) == set(CATALOGUE)
    assert summary["requirements"]["AUTH-01"]["outcome"] == "passed"
    assert (tmp_path / "junit.xml").is_file() and any((tmp_path / "allure-results").iterdir())
    assert (tmp_path / "bundle.zip").is_file()
    assert "warnings summary" not in done.stdout


def test_a_run_against_a_remote_target_from_another_folder_prints_no_warning(tmp_path: Path) -> None:
    """The preflight's HTTP client imports anyio before pytest starts: no PytestAssertRewriteWarning."""
    with ReferenceServer() as server:
        target = tmp_path / "target.toml"
        target.write_text(target_toml(server), encoding="utf-8")
        done = subprocess.run(
            [sys.executable, "-m", "conformance.cli", "run", "--target", str(target), "--select", "AUTH-01",
             "--report-dir", str(tmp_path / "reports")],
            capture_output=True, text=True, timeout=120, env=clean_env(), cwd=tmp_path,
        )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "warnings summary" not in done.stdout and "Warning" not in done.stderr


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
    assert (status, summary["requirements"]["ACCEPT-01"]["outcome"]) == (0, "passed")
    with ReferenceServer() as default_server:
        status, summary = run(tmp_path / "default", "--base-url", default_server.url)
    assert (status, summary["requirements"]["ACCEPT-01"]["outcome"]) == (1, "failed")


# Profile files a user may pass, each with a small selection of the requirements it changes, and
# those of them that a server speaking the default profile must fail.
PROFILE_FILES = {
    "status-codes": (
        "[status_codes]\nmissing_parameter = 11\ninvalid_parameter = 12\n\n"
        "[http_status]\n11 = 400\n12 = 400\n",
        "ACCEPT-04 or MESSAGE-03 or TRANSFER-04",
        ("ACCEPT-04", "MESSAGE-03", "TRANSFER-04"),
        ("ACCEPT-04", "MESSAGE-03", "TRANSFER-04"),
    ),
    "renamed-operations": (
        '[operations]\naccept = "AcceptChat"\nsend_message = "SendChatMessage"\n',
        "ACCEPT-01 or MESSAGE-01",
        ("ACCEPT-01", "MESSAGE-01"),
        ("ACCEPT-01",),  # MESSAGE-01's chats cannot be accepted: not MESSAGE-01's own failure
    ),
}


def _run_with_profile(
    server: ReferenceServer, profile: Path, select: str, report_dir: Path
) -> tuple[int, dict]:
    """`gws-conformance run --target FILE --profile FILE` against the server, as a user runs it."""
    target = report_dir.with_suffix(".target.toml")
    target.write_text(target_toml(server), encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "conformance.cli", "run", "--target", str(target), "--profile", str(profile),
         "--select", select, "--hypothesis-profile", "dev", "--report-dir", str(report_dir)],
        capture_output=True, text=True, timeout=180, env=clean_env(),
    )  # fmt: skip
    assert (report_dir / "summary.json").is_file(), done.stdout[-2000:] + done.stderr[-2000:]
    return done.returncode, json.loads((report_dir / "summary.json").read_text())


@pytest.mark.parametrize("name", list(PROFILE_FILES))
def test_the_profile_file_reaches_every_check(tmp_path: Path, name: str) -> None:
    """The suite judges by the --profile file: a server speaking that profile passes what the file
    changes, and a server speaking the default profile fails it."""
    text, select, checked, fail_on_default = PROFILE_FILES[name]
    profile = tmp_path / f"{name}.toml"
    profile.write_text(text, encoding="utf-8")
    with ReferenceServer(profile=load_profile(profile)) as same, ReferenceServer() as default:
        status, summary = _run_with_profile(same, profile, select, tmp_path / "same")
        outcomes = {rid: r["outcome"] for rid, r in summary["requirements"].items()}
        failed = sorted(rid for rid, outcome in outcomes.items() if outcome == "failed")
        assert (status, failed) == (0, []), summary["verdict"]
        assert {rid: outcomes[rid] for rid in checked} == dict.fromkeys(checked, "passed")

        status, summary = _run_with_profile(default, profile, select, tmp_path / "default")
        outcomes = {rid: r["outcome"] for rid, r in summary["requirements"].items()}
        assert (status, summary["verdict"]) == (1, "non-conformant")
        assert {rid: outcomes[rid] for rid in fail_on_default} == dict.fromkeys(fail_on_default, "failed")


def test_a_profile_renaming_every_name_passes_against_a_server_speaking_it(tmp_path: Path) -> None:
    """Operations, states, kinds, fields, channels, routing keys, the media, status codes and their HTTP
    statuses all renamed: the embedded server follows --profile, and no check may spell a default."""
    profile = Path(__file__).with_name("data") / "everything-renamed.toml"
    select = "CUSTOMER-03 or STATE-01 or STATUS-04 or TYPING-01 or HISTORY-02 or SESSION-01 or CONSULT-02"
    done = subprocess.run(
        [sys.executable, "-m", "conformance.cli", "run", "--profile", str(profile), "--select", select,
         "--hypothesis-profile", "dev", "--report-dir", str(tmp_path)],
        capture_output=True, text=True, timeout=180, env=clean_env(),
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    summary = json.loads((tmp_path / "summary.json").read_text())
    outcomes = {rid: r["outcome"] for rid, r in summary["requirements"].items()}
    assert [rid for rid in select.split(" or ") if outcomes[rid] != "passed"] == []
    assert "failed" not in outcomes.values()
