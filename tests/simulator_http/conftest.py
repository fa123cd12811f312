from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from conformance.simulator.server import ReferenceServer


@pytest.fixture(scope="session")
def server() -> Iterator[ReferenceServer]:
    with ReferenceServer() as running:
        yield running


@pytest.fixture
def make_server() -> Iterator[Callable[..., ReferenceServer]]:
    """Start reference servers with the given faults; each is stopped after the test."""
    started: list[ReferenceServer] = []

    def make(*faults: str) -> ReferenceServer:
        running = ReferenceServer(faults).start()
        started.append(running)
        return running

    yield make
    for running in started:
        running.stop()
