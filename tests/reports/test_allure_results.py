"""allure-results of a failing run: labels, links, failure attachments, the verdict; the sequence diagram."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

from conformance.protocol import CATALOGUE
from conformance.reporting.html import report_name
from conformance.reporting.sequence import render_svg
from conformance.transcript import EntryKind, Transcript
from tests.reports.conftest import FLOW_TEST, FaultRun


def results(fault_run: FaultRun) -> list[dict]:
    folder = fault_run.run.report_dir / "allure-results"
    return [json.loads(p.read_text(encoding="utf-8")) for p in folder.glob("*-result.json")]


def labels(result: dict, name: str) -> list[str]:
    return [label["value"] for label in result["labels"] if label["name"] == name]


def test_every_suite_test_is_labelled_and_linked(fault_run: FaultRun) -> None:
    suite = [r for r in results(fault_run) if r["fullName"].startswith("suites.")]
    assert len(suite) == len(fault_run.run.summary["tests"])
    for result in suite:
        stories = labels(result, "story")
        assert stories and all(rid in CATALOGUE for rid in stories)
        assert set(labels(result, "epic")) == {CATALOGUE[r].area for r in stories}
        assert labels(result, "feature") == [result["fullName"].split("#")[0].rsplit(".test_", 1)[1]]
        levels = {CATALOGUE[r].level.value for r in stories}
        assert labels(result, "severity") == ["critical" if "MUST" in levels else "normal"]
        urls = {link["url"] for link in result["links"]}
        # the HTML report is reports/html/index.html, the profile document reports/profile.md
        assert all({f"../{CATALOGUE[r].profile_link}", CATALOGUE[r].source} <= urls for r in stories)


def test_every_failure_carries_its_transcript_and_expected_actual(fault_run: FaultRun) -> None:
    folder = fault_run.run.report_dir / "allure-results"
    suite = [r for r in results(fault_run) if r["fullName"].startswith("suites.")]
    failed = [r for r in suite if r["status"] != "passed"]
    assert failed
    for result in failed:
        attached = {a["name"]: (folder / a["source"]).read_text(encoding="utf-8")
                    for a in result["attachments"]}
        assert "bayeux-in" in attached["transcript"] and "http" in attached["transcript"]
        assert attached["expected / actual"].startswith("requirement: ACCEPT-02\nexpected: ")


def test_the_verdict_is_a_result_and_an_environment_fact(fault_run: FaultRun) -> None:
    folder = fault_run.run.report_dir / "allure-results"
    verdicts = [r for r in results(fault_run) if r["fullName"] == "gws-conformance verdict"]
    assert [(v["name"], v["status"]) for v in verdicts] == [("VERDICT: NON-CONFORMANT", "failed")]
    assert "ACCEPT-02" in verdicts[0]["statusDetails"]["message"]
    page = (folder / verdicts[0]["attachments"][0]["source"]).read_text(encoding="utf-8")
    assert "VERDICT: NON-CONFORMANT" in page and "ACCEPT-02" in page
    assert "verdict=non-conformant" in (folder / "environment.properties").read_text(encoding="utf-8")
    assert report_name(fault_run.run.report_dir).endswith("verdict: NON-CONFORMANT")
    assert "VERDICT: NON-CONFORMANT" in fault_run.run.stdout


def test_a_flow_test_carries_its_sequence_diagram(fault_run: FaultRun) -> None:
    folder = fault_run.run.report_dir / "allure-results"
    name = FLOW_TEST.rsplit("::", 1)[1]
    (flow,) = [r for r in results(fault_run) if r["name"] == name]
    (diagram,) = [a for a in flow["attachments"] if a["name"] == "sequence diagram"]
    assert diagram["type"] == "image/svg+xml"
    root = ET.fromstring((folder / diagram["source"]).read_text(encoding="utf-8"))
    texts = {t.text for t in root.iter("{http://www.w3.org/2000/svg}text")}
    assert {"alice", "customer", "server"} <= texts
    assert any(t and "StatusChange" in t for t in texts)


def test_junit_names_the_failed_test(fault_run: FaultRun) -> None:
    root = ET.parse(fault_run.run.report_dir / "junit.xml").getroot()
    failed = [case.get("name") for case in root.iter("testcase") if case.find("failure") is not None]
    assert "test_accept_notifies_status_then_participants_then_history" in failed


def test_sequence_diagram_draws_agents_customer_and_server(tmp_path: Path) -> None:
    recorded = Transcript()
    recorded.add(EntryKind.CUSTOMER, "customer", "POST /genesys/2/chat/customer-support -> 200")
    recorded.add(EntryKind.BAYEUX_IN, "alice", "/v2/me/interactions StatusChange")
    recorded.add(EntryKind.BAYEUX_IN, "alice", "/meta/connect ok")
    recorded.add(EntryKind.HTTP, "alice", "POST /api/v2/me/interactions/x -> 200 <Accept>")
    recorded.add(EntryKind.NOTE, "bob", "waits for the invitation")
    svg = render_svg(recorded.entries())
    root = ET.fromstring(svg)
    assert root.tag.endswith("svg")
    texts = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert {"alice", "bob", "customer", "server"} <= set(texts)
    assert "/meta/connect" not in svg  # long-poll noise left out
    assert "&lt;Accept&gt;" in svg
