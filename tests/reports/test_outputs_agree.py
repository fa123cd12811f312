"""Every output of one fault run tells the same story: each test's outcome in summary.json, junit.xml,
allure-results and the terminal, and each failed requirement in the summary, the terminal table and the
Allure verdict entry."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections import Counter

from conformance.reporting.allure import ALLURE_STATUS, OUTCOME_LABEL
from tests.reports.conftest import FaultRun


def junit_outcomes(fault_run: FaultRun) -> dict[str, str]:
    """nodeid -> outcome as junit.xml tells it (its elements, and the outcome property they must match)."""
    found = {}
    for case in ET.parse(fault_run.run.report_dir / "junit.xml").getroot().iter("testcase"):
        nodeid = case.get("classname", "").replace(".", "/") + ".py::" + case.get("name", "")
        kinds = {child.tag: child for child in case}
        prop = next(p.get("value") for p in case.iter("property") if p.get("name") == "outcome")
        if "failure" in kinds:
            told = "failed" if prop in ("failed", "warning", "xpassed") else "?"
        elif "error" in kinds:
            told = "error"
        elif "skipped" in kinds:
            skipped = kinds["skipped"]
            told = ("blocked" if skipped.get("type") == "blocked"
                    else "xfailed" if skipped.get("type") == "pytest.xfail" else "skipped")
        else:
            told = "passed"
        found[nodeid] = told if told != "failed" else prop
    return found


def allure_results(fault_run: FaultRun) -> list[dict]:
    folder = fault_run.run.report_dir / "allure-results"
    return [json.loads(p.read_text(encoding="utf-8")) for p in folder.glob("*-result.json")]


def test_each_test_has_one_outcome_everywhere(fault_run: FaultRun) -> None:
    summary = fault_run.run.summary
    tests = summary["tests"]
    assert {"failed", "blocked", "passed"} <= set(tests.values())  # the run shows each kind
    assert junit_outcomes(fault_run) == tests
    allure = {}
    for result in allure_results(fault_run):
        if not result["fullName"].startswith("suites."):
            continue
        nodeid = result["fullName"].split("#")[0].replace(".", "/") + ".py::" + result["name"]
        outcome = [lb["value"] for lb in result["labels"] if lb["name"] == OUTCOME_LABEL]
        assert outcome == [tests[nodeid]] and result["status"] == ALLURE_STATUS[tests[nodeid]]
        allure[nodeid] = outcome[0]
    assert allure == tests
    counts = Counter(tests.values())
    assert {k: v for k, v in summary["totals"].items() if v} == dict(counts)
    final = fault_run.run.stdout.strip().splitlines()
    pytest_line = next(line for line in reversed(final) if re.search(r"\d+ passed", line))
    kinds = r"(\d+) (failed|passed|blocked|errors?|skipped)"
    told = {kind: int(n) for n, kind in re.findall(kinds, pytest_line)}
    assert told == {k: v for k, v in counts.items()}, pytest_line


def test_each_failed_requirement_is_named_everywhere(fault_run: FaultRun) -> None:
    summary = fault_run.run.summary
    failed = sorted(rid for rid, e in summary["requirements"].items() if e["outcome"] == "failed")
    assert failed == ["ACCEPT-02"]
    verdict = next(r for r in allure_results(fault_run) if r["fullName"] == "gws-conformance verdict")
    assert f"failed: {', '.join(failed)}" in verdict["statusDetails"]["message"]
    row = next(line for line in fault_run.run.stdout.splitlines() if line.startswith("ACCEPT "))
    assert row.split()[2] == str(len([r for r in failed if r.startswith("ACCEPT-")]))
    markdown = (fault_run.run.report_dir / "summary.md").read_text(encoding="utf-8")
    assert all(f"| [{rid}](profile.md#{rid.lower()}) | MUST | failed |" in markdown for rid in failed)
