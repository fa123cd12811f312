"""The `requirement(*ids)` marker: a suite test is a test that names the profile requirements it checks."""

from __future__ import annotations

import pytest

from conformance.protocol import CATALOGUE

MARKER = "requirement"
SEQUENCE_DIAGRAM = "sequence_diagram"  # the test's reports carry a diagram of what it exchanged
GENERATED = "generated"  # the test's examples are generated: its deadline grows with the hypothesis profile
IDS_KEY = pytest.StashKey[tuple[str, ...]]()  # a selected suite test's requirement IDs


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", f"{MARKER}(*ids): the profile requirement IDs a suite test checks")
    config.addinivalue_line("markers", f"{SEQUENCE_DIAGRAM}: the test's reports carry a sequence diagram")
    config.addinivalue_line("markers", f"{GENERATED}: generated examples; the deadline follows their number")


def is_suite_test(item: pytest.Item) -> bool:
    return item.get_closest_marker(MARKER) is not None


def requirement_ids(item: pytest.Item) -> tuple[str, ...]:
    """The IDs the item's markers name, in order, once each; a usage error for an unknown or no ID."""
    ids: list[str] = []
    for marker in item.iter_markers(MARKER):
        if not marker.args:
            raise pytest.UsageError(f"{item.nodeid}: @requirement() names no requirement ID")
        for rid in marker.args:
            if rid not in CATALOGUE:
                raise pytest.UsageError(f"{item.nodeid}: unknown requirement ID {rid!r}")
            ids.append(rid)
    return tuple(dict.fromkeys(ids))


def checks(item: pytest.Item) -> tuple[str, ...]:
    """The requirement IDs of a selected suite test (empty for any other test)."""
    return item.stash.get(IDS_KEY, ())
