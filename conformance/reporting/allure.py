"""Allure labels for suite tests and the attachments of a failure (through allure-pytest)."""

from __future__ import annotations

from pathlib import PurePosixPath

import allure
import pytest

from conformance.spec import Level, Requirement

SEVERITY = {Level.MUST: "critical", Level.SHOULD: "normal"}


def operation_of(nodeid: str) -> str:
    """The operation (or subject) a test file is about: suites/operations/test_accept.py -> accept."""
    stem = PurePosixPath(nodeid.split("::", 1)[0]).stem
    return stem.removeprefix("test_")


def label(item: pytest.Item, requirements: list[Requirement]) -> None:
    """epic = area, feature = operation, story = requirement ID, severity by level, links to the sources."""
    for req in requirements:
        item.add_marker(pytest.mark.allure_label(req.area, label_type="epic"))
        item.add_marker(pytest.mark.allure_label(req.id, label_type="story"))
        profile_link = pytest.mark.allure_link(req.profile_link, name=f"{req.id} (profile)", link_type="link")
        item.add_marker(profile_link)
        item.add_marker(pytest.mark.allure_link(req.source, name=f"{req.id} (vendor)", link_type="link"))
    item.add_marker(pytest.mark.allure_label(operation_of(item.nodeid), label_type="feature"))
    levels = {req.level for req in requirements}
    severity = SEVERITY[Level.MUST] if Level.MUST in levels else SEVERITY[Level.SHOULD]
    item.add_marker(pytest.mark.allure_label(severity, label_type="severity"))


def attach_failure(transcript: str, expected_actual: str | None) -> None:
    """Attach to the running test (a no-op unless allure-pytest writes results)."""
    if transcript:
        allure.attach(transcript, name="transcript", attachment_type=allure.attachment_type.TEXT)
    if expected_actual:
        allure.attach(expected_actual, name="expected / actual", attachment_type=allure.attachment_type.TEXT)
