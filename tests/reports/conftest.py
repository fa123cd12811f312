"""Real runs of `gws-conformance` (subprocesses) against the reference server in this process."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest

from conformance.protocol.profile import DEFAULT_PROFILE
from conformance.simulator.accounts import BUILT_IN_AGENTS, SERVICE
from conformance.simulator.engine import Engine
from conformance.simulator.server import ReferenceServer
from tests.suite_process import clean_env

RUN_DEADLINE_S = 120
FLOW_TEST = ("suites/flows/test_routing_flows.py::"
             "test_end_session_withdraws_a_pending_invitation_and_reroutes_it")
FAULT = "accept-participants-first"  # breaks ACCEPT-02 (MUST) and ORDER-01
# Distinctive passwords, so a leak cannot hide among ordinary words.
PASSWORDS = {a.user_name: f"Pw-{a.user_name}-7f3Kq9zX" for a in BUILT_IN_AGENTS}


def reference_server(faults: tuple[str, ...] = (FAULT,)) -> ReferenceServer:
    """The reference server with the built-in agents, but distinctive passwords."""
    agents = tuple(replace(a, password=PASSWORDS[a.user_name]) for a in BUILT_IN_AGENTS)
    engine = Engine(DEFAULT_PROFILE, agents, SERVICE, faults=frozenset(faults))
    return ReferenceServer(faults=faults, engine=engine)


def write_target(folder: Path, url: str) -> Path:
    lines = [f'base_url = "{url}"', "timeout_s = 5", ""]
    for a in BUILT_IN_AGENTS:
        lines += ["[[agents]]", f'username = "{a.user_name}"', f'password = "{PASSWORDS[a.user_name]}"',
                  f'id = "{a.id}"', f"skills = {json.dumps(list(a.skills))}", ""]
    path = folder / "target.toml"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


@dataclass
class Run:
    status: int
    stdout: str
    stderr: str
    report_dir: Path

    @property
    def summary(self) -> dict:
        return json.loads((self.report_dir / "summary.json").read_text(encoding="utf-8"))


def cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = clean_env()
    return subprocess.run([sys.executable, "-m", "conformance.cli", *args], capture_output=True, text=True,
                          timeout=RUN_DEADLINE_S, env=env, cwd=cwd)


def run_suite(target: Path, report_dir: Path, *options: str) -> Run:
    done = cli("run", "--target", str(target), "--report-dir", str(report_dir), "--hypothesis-profile", "dev",
               *options)
    assert (report_dir / "summary.json").is_file(), (
        f"exit {done.returncode}\n{done.stdout[-3000:]}\n{done.stderr}")
    return Run(done.returncode, done.stdout, done.stderr, report_dir)


@dataclass
class FaultRun:
    """One run with a seeded fault and an evidence bundle; the server stays up for reruns."""

    server: ReferenceServer
    target: Path
    run: Run
    bundle: Path


@pytest.fixture(scope="session")
def fault_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FaultRun]:
    folder = tmp_path_factory.mktemp("fault-run")
    with reference_server() as server:
        target = write_target(folder, server.url)
        bundle = folder / "evidence.zip"
        select = f"ACCEPT-01 or ACCEPT-02 or {FLOW_TEST.rsplit('::', 1)[1]}"
        options = ("--select", select, "--bundle", str(bundle))
        run = run_suite(target, folder / "reports", *options)
        yield FaultRun(server, target, run, bundle)
