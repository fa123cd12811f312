"""junit.xml says what the summary says: pytest writes it, this aligns each test's element with the
suite's outcome (a harness error in a test body is an <error>, a blocked test a <skipped> naming its
blocker) and recounts the totals."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

KINDS = ("failure", "error", "skipped")


def outcome_of(case: ET.Element, name: str) -> str | None:
    for prop in case.iter("property"):
        if prop.get("name") == name:
            return prop.get("value")
    return None


def align_junit(path: Path, property_name: str) -> None:
    tree = ET.parse(path)
    for suite in tree.getroot().iter("testsuite"):
        for case in suite.iter("testcase"):
            outcome = outcome_of(case, property_name)
            if outcome == "error":
                for element in case.findall("failure"):
                    element.tag = "error"
            elif outcome == "blocked":
                for element in case.findall("skipped"):
                    element.set("type", "blocked")
        cases = list(suite.iter("testcase"))
        counts = {kind: sum(len(case.findall(kind)) for case in cases) for kind in KINDS}
        suite.set("failures", str(counts["failure"]))
        suite.set("errors", str(counts["error"]))
        suite.set("skipped", str(counts["skipped"]))
    tree.write(path, encoding="utf-8", xml_declaration=True)
