"""The requirement catalogue and the suites agree: every ID is checked, every named ID exists."""

from __future__ import annotations

import re
import subprocess
import sys
from collections import defaultdict

import pytest

from conformance.protocol import CATALOGUE, Level

LISTED = re.compile(r"^(?P<test>suites/\S+)\s+\[(?P<ids>[^\]]+)\]$")


@pytest.fixture(scope="module")
def listed() -> dict[str, tuple[str, ...]]:
    """Every suite test with its requirement IDs, as `gws-conformance run --list` prints them."""
    done = subprocess.run(
        [sys.executable, "-m", "conformance.cli", "run", "--list"],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    found = {}
    for line in done.stdout.splitlines():
        if m := LISTED.match(line.strip()):
            found[m["test"]] = tuple(rid.strip() for rid in m["ids"].split(","))
    return found


def test_the_list_is_not_empty(listed: dict[str, tuple[str, ...]]) -> None:
    assert len(listed) > 100


def test_every_catalogue_id_has_a_suite_test(listed: dict[str, tuple[str, ...]]) -> None:
    tests_per_id: dict[str, int] = defaultdict(int)
    for ids in listed.values():
        for rid in ids:
            tests_per_id[rid] += 1
    assert sorted(set(CATALOGUE) - set(tests_per_id)) == []


def test_every_named_id_is_in_the_catalogue(listed: dict[str, tuple[str, ...]]) -> None:
    named = {rid for ids in listed.values() for rid in ids}
    assert sorted(named - set(CATALOGUE)) == []


def test_a_should_test_names_only_should_ids(listed: dict[str, tuple[str, ...]]) -> None:
    mixed = {
        test: ids
        for test, ids in listed.items()
        if len({CATALOGUE[rid].level for rid in ids if rid in CATALOGUE}) > 1
    }
    assert mixed == {}


def test_catalogue_levels_and_sections_are_complete() -> None:
    assert len(CATALOGUE) == 67
    assert {r.level for r in CATALOGUE.values()} == {Level.MUST, Level.SHOULD}
    assert all(r.summary and r.section and r.source.startswith("https://") for r in CATALOGUE.values())
