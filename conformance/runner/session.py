"""The session's fixtures: the server under test (`target`; the embedded reference server runs once per
process or xdist worker), the run's wire `transcript`, and where each suite test's slice of it begins.
Registers the harness's state-named fixtures (`conformance.fixtures`) beside them."""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Iterator

import pytest

from conformance.chats import ONE_READY_AGENT
from conformance.config import Config
from conformance.runner.options import gws_config
from conformance.target import Target, open_target
from conformance.transcript import Transcript

MARK_KEY = pytest.StashKey[tuple[Transcript, int]]()  # a suite test's transcript and where its slice begins


def pytest_configure(config: pytest.Config) -> None:
    serialize_one_ready_agent(config)
    if importlib.util.find_spec("conformance.fixtures") is not None:
        fixtures = importlib.import_module("conformance.fixtures")
        if not config.pluginmanager.is_registered(fixtures):
            config.pluginmanager.register(fixtures, "gws_conformance_fixtures")


def serialize_one_ready_agent(config: pytest.Config) -> None:
    """With routing "one-ready-agent" a remote server's agents are switched Ready and NotReady around each
    chat: its tests must run one at a time, so xdist workers (which would share the agents) are refused.
    Each embedded worker has its own reference server."""
    workers = config.getoption("numprocesses", None)
    if not workers or hasattr(config, "workerinput") or config.getoption("gws_list", None):
        return
    cfg = gws_config(config)
    if cfg.routing == ONE_READY_AGENT and not cfg.embedded:
        raise pytest.UsageError(
            f'routing = "{ONE_READY_AGENT}": the tests run one at a time against a remote server (its agents '
            "are made Ready one by one); drop -n/--numprocesses")


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
