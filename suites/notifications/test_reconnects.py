"""NOTIFY-06 under every kind of reconnect: idle connects that time out empty, two more clients of one
agent (one idling on short holds, one whose connect is dropped), and a re-handshake after a 402.

Each extra client is a Bayeux client of the chat's owner, on the owner's HTTP session, subscribed to the
interactions channel. What it receives about the chat is judged, per client, against what the owner's
own channel received over the same span (itself checked for order by the ORDER tests): nothing lost,
nothing twice, the same order. The end of a span is a known later event (a marker message) that every
client must see, so nothing is judged before it had its chance to arrive. And NOTIFY-07 for a poll: a
held connect advising timeout 0.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from functools import partial
from typing import Any

import pytest
import pytest_asyncio

from conformance.api import DISCONNECT, Agent, BayeuxClient, Channel, expect, interaction_of

IDLE_HOLD_MS = 100  # the advice.timeout asked for by the idling clients (the profile lets a client ask)
IDLE_CONNECTS = 3  # idle connects in a row that time out with nothing to deliver

Make = Callable[..., Awaitable["Extra"]]


class Extra:
    """One more Bayeux client of an agent, with everything it received."""

    def __init__(self, client: BayeuxClient) -> None:
        self.client = client
        self.received: list[dict[str, Any]] = []

    def about(self, chat_id: str) -> list[dict[str, Any]]:
        return [m["data"] for m in self.received if isinstance(m.get("data"), dict)
                and interaction_of(m["data"]) == chat_id]

    def has(self, chat_id: str, text: str) -> bool:
        return any(text in json.dumps(d, ensure_ascii=False) for d in self.about(chat_id))


@pytest_asyncio.fixture
async def extra_client(target, transcript) -> AsyncIterator[Make]:
    """extra_client(agent, name, hold_ms=None): handshaken and subscribed to the interactions channel;
    disconnected at teardown."""
    made: list[Extra] = []

    async def make(agent: Agent, name: str, hold_ms: int | None = None) -> Extra:
        extra: Extra

        def received(message: dict[str, Any]) -> None:
            extra.received.append(message)

        client = BayeuxClient(
            agent.client.http,
            agent.bayeux.url,
            transcript,
            f"{agent.name}#{name}",
            received,
            timeout_s=target.timeout_s,
            hold_ms=hold_ms,
        )
        extra = Extra(client)
        made.append(extra)
        await client.handshake()
        await client.subscribe(target.profile.wire(Channel.INTERACTIONS))
        return extra

    yield make
    for extra in made:
        await extra.client.disconnect()


def _has(extra: Extra, chat_id: str, text: str, _client: BayeuxClient) -> bool:
    return extra.has(chat_id, text)


def delivery(theirs: list[dict[str, Any]], mine: list[dict[str, Any]]) -> str | None:
    """Why `theirs` is not `mine` (the same notifications, each once, in the same order), or None."""
    if theirs == mine:
        return None
    keys = [json.dumps(d, sort_keys=True) for d in theirs]
    wanted = [json.dumps(d, sort_keys=True) for d in mine]
    lost = [k for k in wanted if k not in keys]
    twice = sorted({k for k in keys if keys.count(k) > wanted.count(k)})
    parts = [f"{len(theirs)} received, {len(mine)} expected"]
    if lost:
        parts.append(f"lost {len(lost)}: {', '.join(k[:160] for k in lost[:3])}")
    if twice:
        parts.append(f"more than once {len(twice)}: {', '.join(k[:160] for k in twice[:3])}")
    if not lost and not twice:
        parts.append("in another order")
    return "; ".join(parts)


def judge(extra: Extra, owner: Agent, chat_id: str, since: int, what: str) -> None:
    mine = [n.data for n in owner.notifications.about(chat_id, since)]
    why = delivery(extra.about(chat_id), mine)
    expect.that(
        why is None,
        "NOTIFY-06",
        f"{extra.client.actor} {what}: each of the owner's {len(mine)} notifications about the chat once, "
        "in order",
        why or "",
    )


async def marker(owner: Agent, chat_id: str, *extras: Extra, timeout_s: float) -> None:
    """A known later event: the owner's message with a unique text has reached the owner and every
    extra client; what came before it is complete."""
    text = f"marker {uuid.uuid4().hex[:8]}"
    await owner.send_message(chat_id, text)
    for extra in extras:
        with contextlib.suppress(TimeoutError):  # judged after: the marker is one of those it lacks
            await extra.client.wait_until(partial(_has, extra, chat_id, text), timeout_s)
    await owner.barrier()


@pytest.mark.requirement("NOTIFY-06")
async def test_idle_connects_timing_out_between_messages_lose_and_repeat_nothing(
    accepted_chat, extra_client, target
):
    chat, owner = accepted_chat, accepted_chat.owner
    extra = await extra_client(owner, "idle")
    await extra.client.connect_once(0)  # the first connect answers at once
    since = owner.notifications.mark()
    for round_ in range(2):
        await chat.customer.send(f"before idle {round_}")
        await owner.send_message(chat.id, f"reply before idle {round_}")
        await extra.client.connect_once(IDLE_HOLD_MS)  # what is queued comes at once
        for _ in range(IDLE_CONNECTS):  # nothing is produced meanwhile: each times out empty
            await extra.client.connect_once(IDLE_HOLD_MS)
        await chat.customer.send(f"after idle {round_}")
        await owner.send_message(chat.id, f"reply after idle {round_}")
    text = f"marker {uuid.uuid4().hex[:8]}"
    await owner.send_message(chat.id, text)
    deadline = time.monotonic() + target.timeout_s
    while not extra.has(chat.id, text) and time.monotonic() < deadline:
        await extra.client.connect_once(IDLE_HOLD_MS)
    await owner.barrier()
    judge(extra, owner, chat.id, since, f"across {2 * IDLE_CONNECTS} idle connects that timed out")


@pytest.mark.requirement("NOTIFY-06")
async def test_two_more_clients_of_one_agent_one_idling_one_dropped_each_get_everything_once(
    accepted_chat, extra_client, target
):
    chat, owner = accepted_chat, accepted_chat.owner
    idler = await extra_client(owner, "idler", hold_ms=IDLE_HOLD_MS)
    dropped = await extra_client(owner, "dropped")
    since = owner.notifications.mark()
    for extra in (idler, dropped):
        extra.client.start()
    await chat.customer.send("to every client 1")
    await owner.send_message(chat.id, "to every client 2")
    await marker(owner, chat.id, idler, dropped, timeout_s=target.timeout_s)
    connects = idler.client.connects
    # the idler's loop times out empty IDLE_CONNECTS times (nothing is produced meanwhile) ...
    await idler.client.wait_until(lambda c: c.connects > connects + IDLE_CONNECTS, 5 * target.timeout_s)
    # ... and the other one's held connect, taken in by the server with an empty queue, is dropped
    await dropped.client.drop_connect(barrier=owner.client.me)
    await chat.customer.send("to every client 3")
    await owner.send_message(chat.id, "to every client 4")
    await marker(owner, chat.id, idler, dropped, timeout_s=target.timeout_s)
    judge(idler, owner, chat.id, since, f"across idle connects of {IDLE_HOLD_MS} ms")
    judge(dropped, owner, chat.id, since, "across a dropped connect")


@pytest.mark.requirement("NOTIFY-06")
async def test_rehandshake_after_402_loses_and_repeats_nothing(accepted_chat, extra_client, target):
    chat, owner = accepted_chat, accepted_chat.owner
    extra = await extra_client(owner, "402")
    since = owner.notifications.mark()
    extra.client.start()
    await chat.customer.send("before the 402 1")
    await owner.send_message(chat.id, "before the 402 2")
    await marker(owner, chat.id, extra, timeout_s=target.timeout_s)
    judge(extra, owner, chat.id, since, "before its clientId was disconnected")
    # The server forgets the client (the loop stopped, the client's own /meta/disconnect): when the loop
    # starts again its connect is answered 402, and it handshakes and subscribes again. Nothing about
    # the chat is produced until then, so whatever it receives from here on is judged.
    again, before = owner.notifications.mark(), len(extra.received)
    await extra.client.stop()
    bye = (await extra.client.send([extra.client.message(DISCONNECT)])).reply(DISCONNECT) or {}
    expect.that(bye.get("successful") is True, "NOTIFY-01", "a successful disconnect", bye)
    extra.client.start()
    try:
        await extra.client.wait_until(lambda c: c.handshakes == 2 and c.connected, 3 * target.timeout_s)
    except TimeoutError:
        expect.that(False, "NOTIFY-03", "a 402 with handshake advice, then a new handshake, for the "
                    "disconnected client", extra.client.errors[-3:])
    await chat.customer.send("after the 402 1")
    await owner.send_message(chat.id, "after the 402 2")
    await marker(owner, chat.id, extra, timeout_s=target.timeout_s)
    tail = Extra(extra.client)
    tail.received = extra.received[before:]
    judge(tail, owner, chat.id, again, "after its re-handshake")


@pytest.mark.requirement("NOTIFY-07")
async def test_a_poll_advising_timeout_0_returns_at_once_when_idle(agent_c, target, transcript, gws_config):
    """A held connect (not the first) that advises timeout 0 is a poll: an idle client gets its answer
    within the slack, not after the server's maximum hold."""
    client = BayeuxClient(agent_c.client.http, agent_c.bayeux.url, transcript, f"{agent_c.name}#poll",
                          lambda m: None, timeout_s=target.timeout_s)
    limit = target.profile.limits.connect_timeout_slack_s * gws_config.timeout_factor
    try:
        await client.handshake()  # subscribed to nothing: every connect is idle
        await client.connect_once(0)  # the first connect
        for _ in range(2):
            started = time.monotonic()
            try:
                await asyncio.wait_for(client.connect_once(0), limit + 1)
            except TimeoutError:
                expect.that(False, "NOTIFY-07", f"an idle poll (timeout 0) answered within {limit:.1f} s",
                            f"no answer after {limit + 1:.1f} s")
            held = time.monotonic() - started
            expect.that(held <= limit, "NOTIFY-07", f"an answer within {limit:.1f} s", f"{held:.2f} s")
    finally:
        await client.disconnect()
