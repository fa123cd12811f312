"""docs/adding-an-operation.md is executed: its steps, applied to a copy of the project, take the checks
it names from red (the operation declared, nothing implementing it) to green (every step done)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.suite_process import clean_env

ROOT = Path(__file__).resolve().parent.parent
CHECKLIST = ROOT / "docs" / "adding-an-operation.md"
IGNORED = shutil.ignore_patterns(
    ".git", "node_modules", "reports", "__pycache__", "*.egg-info", ".hypothesis", ".mypy_cache",
    ".ruff_cache", ".pytest_cache", "dist", "build",
)
STEP = re.compile(r'<!-- step: (?P<path>\S+) (?P<how>after|before|replace|new)(?: (?P<anchor>".*"))? -->')
BLOCK = re.compile(r"```[a-z]*\n(?P<text>.*?)```", re.S)
QUICK_CHECKS = (
    "tests/test_catalogue.py",
    "tests/test_capability_table.py",
    "tests/harness/test_strategies.py",
    "tests/simulator_engine/test_faults.py",
)
SELF_TEST = ("tests/selftest/test_seeded_faults.py", "-k", "cover_every_area or acknowledge")
OUTCOME = {"error": "error", "failure": "failed", "skipped": "skipped"}
# What each check says once the operation is declared and nothing implements it.
RED = {
    "tests.test_catalogue::test_every_catalogue_id_has_a_suite_test": "failed",
    "tests.harness.test_strategies::test_every_interaction_operation_has_body_strategies": "failed",
}


@dataclass(frozen=True)
class Step:
    path: str
    how: str
    anchor: str | None
    text: str


def steps(markdown: str) -> tuple[list[Step], list[Step]]:
    """The steps before `<!-- checks: red -->` and those after it, in the page's order."""
    declared, rest = markdown.split("<!-- checks: red -->", 1)
    return _steps_of(declared), _steps_of(rest.split("<!-- checks: green -->", 1)[0])


def _steps_of(markdown: str) -> list[Step]:
    found = []
    for marker in STEP.finditer(markdown):
        block = BLOCK.search(markdown, marker.end())
        assert block is not None, f"no code block after {marker.group(0)}"
        anchor = json.loads(marker["anchor"]) if marker["anchor"] else None
        found.append(Step(marker["path"], marker["how"], anchor, block["text"]))
    return found


def apply(root: Path, step: Step) -> None:
    path = root / step.path
    if step.how == "new":
        assert not path.exists(), f"{step.path} exists already"
        path.write_text(step.text, encoding="utf-8")
        return
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    hits = [i for i, line in enumerate(lines) if step.anchor and step.anchor in line]
    assert len(hits) == 1, f"{step.path}: {step.anchor!r} is on {len(hits)} lines, not one"
    at = hits[0]
    new = step.text.splitlines(keepends=True)
    if step.how == "after":
        lines[at + 1 : at + 1] = new
    elif step.how == "before":
        lines[at:at] = new
    else:
        lines[at : at + 1] = new
    path.write_text("".join(lines), encoding="utf-8")


def run_checks(root: Path, name: str, *args: str) -> dict[str, str]:
    """Each test's outcome (passed, failed, error, skipped) in a pytest run of the copy."""
    junit = root / f"{name}.xml"
    subprocess.run(
        [sys.executable, "-m", "pytest", "-q", f"--junitxml={junit}", *args],
        cwd=root, env=clean_env(PYTHONPATH=str(root)), capture_output=True, text=True, timeout=300,
    )
    outcomes = {}
    for case in ET.parse(junit).getroot().iter("testcase"):
        kinds = {child.tag for child in case} & set(OUTCOME)
        outcomes[f"{case.get('classname')}::{case.get('name')}"] = OUTCOME[min(kinds)] if kinds else "passed"
    return outcomes


def failing(outcomes: dict[str, str]) -> dict[str, str]:
    return {test: outcome for test, outcome in outcomes.items() if outcome != "passed"}


def test_the_checklist_has_steps_on_both_sides_of_the_red_checks() -> None:
    declared, rest = steps(CHECKLIST.read_text(encoding="utf-8"))
    assert [s.path for s in declared] == [
        "conformance/protocol/requirements.toml",
        "tests/test_catalogue.py",
        "conformance/protocol/names.py",
        "conformance/protocol/gws-chat-8.5.toml",
        "conformance/protocol/gws-chat-8.5.toml",
    ]
    assert "suites/operations/test_acknowledge.py" in {s.path for s in rest}


@pytest.mark.slow
def test_following_the_checklist_takes_its_checks_from_red_to_green(tmp_path: Path) -> None:
    copy = tmp_path / "project"
    shutil.copytree(ROOT, copy, ignore=IGNORED)
    declared, rest = steps(CHECKLIST.read_text(encoding="utf-8"))

    for step in declared:
        apply(copy, step)
    red = run_checks(copy, "red-quick", *QUICK_CHECKS)
    assert {test: red.get(test) for test in RED} == RED
    assert any(test.startswith("tests.test_capability_table::") for test in failing(red))
    # The self-test does not even collect: the new area has no fault for its precision run.
    assert failing(run_checks(copy, "red-self", *SELF_TEST)) != {}

    for step in rest:
        apply(copy, step)
    green = run_checks(copy, "green-quick", *QUICK_CHECKS)
    assert (failing(green), {test: green.get(test) for test in RED}) == ({}, dict.fromkeys(RED, "passed"))
    green = run_checks(copy, "green-self", *SELF_TEST)
    assert failing(green) == {}
    # The suite caught the new fault (the new area's whole-suite run is nightly, like every area's but the
    # README fault's).
    caught = "test_seeded_fault_is_reported_failed[acknowledge-sets-user-data]"
    assert green[f"tests.selftest.test_seeded_faults::{caught}"] == "passed"
