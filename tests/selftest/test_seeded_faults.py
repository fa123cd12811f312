"""The suite proves its checks can fail: each seeded fault of the reference server must be caught.

For every fault, the reference server runs in this process with that fault switched on, the suite
runs against it in a subprocess (exactly as a user runs it against a remote server, through a target
file), and every requirement the fault declares must come out failed (warning, for a SHOULD).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from conformance.simulator.faults import FAULTS
from conformance.simulator.server import ReferenceServer
from conformance.spec import CATALOGUE, Level
from tests.suite_process import clean_env

RUN_DEADLINE_S = 300


def write_target(folder: Path, url: str) -> Path:
    agents = [
        ("alice", "a1", ["sales"]),
        ("bob", "a2", ["sales", "support"]),
        ("carol", "a3", ["support"]),
        ("dave", "a4", ["billing"]),
    ]
    lines = [f'base_url = "{url}"', "timeout_s = 5", ""]
    for name, uid, skills in agents:
        lines += [
            "[[agents]]",
            f'username = "{name}"',
            'password = "password"',
            f'id = "{uid}"',
            f"skills = {json.dumps(skills)}",
            "",
        ]
    path = folder / "target.toml"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def run_suite(target: Path, report_dir: Path, *options: str) -> tuple[int, dict]:
    env = clean_env()
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "conformance.cli",
            "run",
            "--target",
            str(target),
            "--report-dir",
            str(report_dir),
            "--hypothesis-profile",
            "dev",
            *options,
        ],
        capture_output=True,
        text=True,
        timeout=RUN_DEADLINE_S,
        env=env,
    )
    summary_path = report_dir / "summary.json"
    assert summary_path.exists(), (
        f"no summary (exit {done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    )
    return done.returncode, json.loads(summary_path.read_text(encoding="utf-8"))


def selection(requirement_ids: tuple[str, ...]) -> str:
    return " or ".join(requirement_ids)


@pytest.mark.slow
@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_seeded_fault_is_reported_failed(fault: str, tmp_path: Path) -> None:
    declared = FAULTS[fault].breaks
    with ReferenceServer(faults=[fault]) as server:
        exit_code, summary = run_suite(
            write_target(tmp_path, server.url), tmp_path / "reports", "--select", selection(declared)
        )
    outcomes = {rid: summary["requirements"][rid]["outcome"] for rid in declared}
    wanted = {rid: "warning" if CATALOGUE[rid].level is Level.SHOULD else "failed" for rid in declared}
    assert outcomes == wanted
    must_broken = any(CATALOGUE[rid].level is Level.MUST for rid in declared)
    assert (exit_code, summary["verdict"]) == (
        (1, "non-conformant") if must_broken else (0, "conformant-with-warnings")
    )


@pytest.mark.slow
def test_should_fault_fails_the_run_in_strict_mode(tmp_path: Path) -> None:
    with ReferenceServer(faults=["auth-error-lists-users"]) as server:
        exit_code, summary = run_suite(
            write_target(tmp_path, server.url), tmp_path / "reports", "--select", "AUTH-04", "--strict"
        )
    assert (exit_code, summary["verdict"], summary["requirements"]["AUTH-04"]["outcome"]) == (
        1,
        "non-conformant",
        "failed",
    )
