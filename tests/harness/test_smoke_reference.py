"""End to end against the embedded reference server: two agents, a customer, a whole chat."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator

import pytest
import pytest_asyncio

from conformance import match
from conformance.actors import Agent, AgentAccount, Customer
from conformance.protocol import DEFAULT_PROFILE, ChatMessageType, Position, State
from conformance.transcript import Transcript

PROFILE = DEFAULT_PROFILE
TIMEOUT_S = 5.0


@pytest.fixture(scope="module")
def server_url() -> Iterator[str]:
    from conformance.simulator.server import ReferenceServer

    server = ReferenceServer().start()
    try:
        yield server.url
    finally:
        server.stop()


@pytest_asyncio.fixture(loop_scope="session")
async def pair(server_url: str) -> AsyncIterator[tuple[Agent, Agent, Transcript]]:
    transcript = Transcript()
    alice = Agent(
        AgentAccount("alice", "password", "a1", ("sales",)), PROFILE, transcript, TIMEOUT_S, server_url
    )
    bob = Agent(
        AgentAccount("bob", "password", "a2", ("sales", "support")),
        PROFILE,
        transcript,
        TIMEOUT_S,
        server_url,
    )
    try:
        await alice.open()
        await bob.open()
        yield alice, bob, transcript
    finally:
        await alice.close()
        await bob.close()


async def test_whole_chat(pair: tuple[Agent, Agent, Transcript], server_url: str) -> None:
    alice, _bob, transcript = pair
    tag = uuid.uuid4().hex
    customer = Customer(server_url, "customer-support", PROFILE, transcript, TIMEOUT_S)
    try:
        await customer.start(route_to_agent="alice", tag=tag)
        await customer.send("hello from the customer")
        chat = await alice.wait_invitation(tag)
        accepted = await alice.accept(chat)
        history = accepted[2].data["messages"]
        assert [m["text"] for m in history if m["type"] == "Text"] == ["hello from the customer"]
        assert match.status_change(PROFILE, chat, State.PROCESSING, Position.OWNER)(accepted[0]) is None
        await alice.send_message(chat, "hello from alice ✓")
        found = await customer.wait_for_message(
            lambda m: m.get("text") == "hello from alice ✓", description="alice's message"
        )
        assert found["type"] == "Text"
        since = alice.notifications.mark()
        await customer.send("second")
        await alice.notifications.wait_for(
            match.new_message(PROFILE, chat, ChatMessageType.TEXT, "second"),
            TIMEOUT_S,
            since,
            "customer's second",
        )
        for n in alice.notifications.since():
            assert match.notification_shape(PROFILE, n) is None, n
        await alice.stop(chat)
        ended = await customer.client.refresh()
        assert (ended.body or {}).get("chatEnded") is True
        rendered = transcript.render()
        assert "password" not in rendered.replace("«redacted»", "")
        assert customer.client.secure_key and customer.client.secure_key.reveal() not in rendered
        assert alice.client.csrf_token and alice.client.csrf_token.reveal() not in rendered
    finally:
        await customer.aclose()


async def test_barrier_proves_nothing_arrived(pair: tuple[Agent, Agent, Transcript]) -> None:
    from conformance import expect

    alice, bob, _ = pair
    since = bob.notifications.mark()
    await expect.nothing_about(bob, "no-such-interaction", "NOTIFY-05", since)
    assert alice.bayeux.errors == [] and bob.bayeux.errors == []
