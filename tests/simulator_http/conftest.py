from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from conformance.simulator.server import ReferenceServer

try:
    from conformance.simulator.engine import Engine  # noqa: F401

    HAVE_ENGINE = True
except ImportError:
    HAVE_ENGINE = False


def _new(faults: tuple[str, ...] = ()) -> ReferenceServer:
    if HAVE_ENGINE:
        return ReferenceServer(faults)
    from tests.simulator_http.fake_engine import FakeEngine

    return ReferenceServer(faults, engine=FakeEngine())  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def server() -> Iterator[ReferenceServer]:
    with _new() as running:
        yield running


@pytest.fixture
def make_server() -> Iterator[Callable[..., ReferenceServer]]:
    started: list[ReferenceServer] = []

    def make(*faults: str) -> ReferenceServer:
        running = _new(faults).start()
        started.append(running)
        return running

    yield make
    for running in started:
        running.stop()
