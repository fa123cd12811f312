"""The session's fixtures: the server under test (`target`; the embedded reference server runs once per
process or xdist worker), the run's wire `transcript`, and where each suite test's slice of it begins.
Registers the harness's state-named fixtures (`conformance.fixtures`) beside them."""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Iterator

import pytest

from conformance.config import Config
from conformance.target import Target, open_target
from conformance.transcript import Transcript

MARK_KEY = pytest.StashKey[tuple[Transcript, int]]()  # a suite test's transcript and where its slice begins


def pytest_configure(config: pytest.Config) -> None:
    if importlib.util.find_spec("conformance.fixtures") is not None:
        fixtures = importlib.import_module("conformance.fixtures")
        if not config.pluginmanager.is_registered(fixtures):
            config.pluginmanager.register(fixtures, "gws_conformance_fixtures")


@pytest.fixture(scope="session")
def target(gws_config: Config) -> Iterator[Target]:
    """The server under test; the embedded reference server runs once per process (xdist worker)."""
    with open_target(gws_config) as opened:
        yield opened


@pytest.fixture(scope="session")
def transcript(target: Target) -> Transcript:
    recorded = Transcript()
    for secret in target.secrets:
        recorded.add_secret(secret)
    return recorded


@pytest.fixture
def _gws_test_mark(request: pytest.FixtureRequest, transcript: Transcript) -> None:
    """Where the test's slice of the transcript begins (requested first by every selected suite test)."""
    request.node.stash[MARK_KEY] = (transcript, transcript.mark())


def transcript_slice(item: pytest.Item) -> tuple[Transcript, int] | None:
    """The transcript of a suite test that began, and where its slice begins."""
    return item.stash.get(MARK_KEY, None)
