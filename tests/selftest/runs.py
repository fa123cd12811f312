"""Suite runs against the reference server with seeded faults, as a user runs them: the server in this
process, `gws-conformance run` in a subprocess through a target file."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from conformance.protocol import CATALOGUE, Level
from conformance.simulator.faults import FAULTS
from conformance.simulator.server import ReferenceServer
from tests.suite_process import clean_env

RUN_DEADLINE_S = 300
FAILING = ("failed", "warning", "xpassed")  # outcomes that blame a requirement
INNOCENT = ("passed", "blocked")  # what every requirement a fault does not break may show


def write_target(folder: Path, url: str) -> Path:
    agents = [
        ("alice", "a1", ["sales"]),
        ("bob", "a2", ["sales", "support"]),
        ("carol", "a3", ["support"]),
        ("dave", "a4", ["billing"]),
    ]
    lines = [f'base_url = "{url}"', "timeout_s = 5", ""]
    for name, uid, skills in agents:
        lines += ["[[agents]]", f'username = "{name}"', 'password = "password"', f'id = "{uid}"',
                  f"skills = {json.dumps(skills)}", ""]
    path = folder / "target.toml"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def run_suite(target: Path, report_dir: Path, *options: str) -> tuple[int, dict]:
    done = subprocess.run(
        [sys.executable, "-m", "conformance.cli", "run", "--target", str(target), "--report-dir",
         str(report_dir), "--hypothesis-profile", "dev", *options],
        capture_output=True, text=True, timeout=RUN_DEADLINE_S, env=clean_env(),
    )
    summary_path = report_dir / "summary.json"
    assert summary_path.exists(), (
        f"no summary (exit {done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    )
    return done.returncode, json.loads(summary_path.read_text(encoding="utf-8"))


def expected_outcome(rid: str) -> str:
    return "warning" if CATALOGUE[rid].level is Level.SHOULD else "failed"


@dataclass
class Precision:
    """What a whole run against one seeded fault blamed, next to what the fault breaks."""

    fault: str
    declared: tuple[str, ...]
    outcomes: dict[str, str]  # every requirement's outcome
    exit_code: int
    verdict: str
    duration_s: float

    @property
    def blamed(self) -> dict[str, str]:
        return {rid: o for rid, o in self.outcomes.items() if o in FAILING}

    @property
    def missed(self) -> list[str]:
        """Declared requirements not reported as the fault breaks them."""
        return [rid for rid in self.declared if self.outcomes[rid] != expected_outcome(rid)]

    @property
    def wrongly(self) -> dict[str, str]:
        """Other requirements that did not pass or were not blocked."""
        return {rid: o for rid, o in self.outcomes.items() if rid not in self.declared and o not in INNOCENT}

    @property
    def precise(self) -> bool:
        return not self.missed and not self.wrongly


def whole_run(fault: str, folder: Path, *options: str) -> Precision:
    """The whole suite (no selection) against the reference server with `fault` switched on."""
    started = time.monotonic()
    with ReferenceServer(faults=[fault]) as server:
        exit_code, summary = run_suite(write_target(folder, server.url), folder / "reports", *options)
    outcomes = {rid: entry["outcome"] for rid, entry in summary["requirements"].items()}
    return Precision(fault, FAULTS[fault].breaks, outcomes, exit_code, summary["verdict"],
                     time.monotonic() - started)


def one_fault_per_area(exclude: frozenset[str] = frozenset()) -> list[str]:
    """For each requirement area, the first fault (by name, not excluded) that breaks a requirement of it."""
    chosen: list[str] = []
    for area in dict.fromkeys(req.area for req in CATALOGUE.values()):
        fault = next(name for name in sorted(FAULTS) if name not in exclude
                     and any(CATALOGUE[rid].area == area for rid in FAULTS[name].breaks))
        if fault not in chosen:
            chosen.append(fault)
    return chosen
