"""A Bayeux reply that breaks Bayeux 1.0's rules is a NOTIFY-01 deviation: raised to whoever sent the
request, and, seen by the background connect loop, raised once from the running test's next wait."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest
import pytest_asyncio

from conformance.bayeux import BayeuxClient, BayeuxDeviation
from conformance.client import basic_header, make_http
from conformance.notifications import EventTimeout, NotificationLog
from conformance.protocol import DEFAULT_PROFILE
from conformance.reporting.summary import Outcome
from conformance.runner.outcomes import classify_failure
from conformance.simulator.server import ReferenceServer
from conformance.transcript import Transcript


@pytest_asyncio.fixture
async def bayeux_with_fault() -> AsyncIterator[Callable[..., BayeuxClient]]:
    servers: list[ReferenceServer] = []
    made: list[BayeuxClient] = []

    def make(fault: str, log: NotificationLog | None = None, hold_ms: int | None = None) -> BayeuxClient:
        server = ReferenceServer(faults=[fault])
        server.start()
        servers.append(server)
        client = BayeuxClient(
            make_http(5.0),
            server.url + DEFAULT_PROFILE.http.notifications_path,
            Transcript(),
            "alice",
            lambda m: None,
            timeout_s=5.0,
            headers={"Authorization": basic_header("alice", "password")},
            on_deviation=log.interrupt if log is not None else None,
            hold_ms=hold_ms,
        )
        made.append(client)
        return client

    yield make
    for client in made:
        await client.stop()
        await client.http.aclose()
    for server in servers:
        server.stop()


async def test_a_reply_to_the_caller_raises_notify_01_with_the_reply(bayeux_with_fault) -> None:
    client = bayeux_with_fault("subscription-not-echoed")
    await client.handshake()
    with pytest.raises(BayeuxDeviation) as caught:
        await client.subscribe("/v2/me/interactions")
    assert caught.value.requirement == "NOTIFY-01"
    assert "/meta/subscribe reply: no subscription" in caught.value.actual
    assert '"channel":"/meta/subscribe"' in caught.value.actual  # the reply is the evidence


async def test_a_loop_deviation_reaches_the_next_wait_once(bayeux_with_fault) -> None:
    log = NotificationLog(DEFAULT_PROFILE)
    client = bayeux_with_fault("timeout-advice-as-string", log, hold_ms=20)
    await client.handshake()
    await client.subscribe("/v2/me/interactions")
    client.start()
    with pytest.raises(BayeuxDeviation, match=r"advice\.timeout is not a non-negative integer"):
        await log.wait_for(lambda n: False, 10.0, description="anything")
    connects = client.connects
    await client.wait_until(lambda c: c.connects > connects + 3, 10.0)  # the same deviation, again
    with pytest.raises(EventTimeout):  # told once per broken rule: later tests are not blocked by it
        await log.wait_for(lambda n: False, 0.2)
    assert len(client.deviations) > 3 and client.running and client.lost is None


def test_the_deviation_fails_notify_01_or_blocks_another_test() -> None:
    deviation = BayeuxDeviation(["/meta/connect reply: no id"], '[{"channel":"/meta/connect"}]')
    own = classify_failure("t::a", ("NOTIFY-01",), "call", deviation)
    other = classify_failure("t::b", ("ACCEPT-01",), "call", deviation)
    assert (own.outcome, own.requirements) == (Outcome.FAILED, {"NOTIFY-01": Outcome.FAILED})
    assert (other.outcome, other.blocked_by) == (Outcome.BLOCKED, "NOTIFY-01")
