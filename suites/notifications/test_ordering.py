"""Ordering across a whole chat (ORDER-01..04) and delivery across reconnects (NOTIFY-06).

Each test records what every party saw and judges it with the pure checks of
suites/flows/chat_invariants.py against a complete history taken by an agent still taking part.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from conformance import expect, match
from conformance.bayeux import BayeuxClient
from conformance.spec import Channel, MessageType, Operation, Position, Visibility
from suites.flows.chat_invariants import check_agent, check_customer, check_history_complete, raise_first
from suites.flows.chat_steps import (
    chats,
    customer_transcript,
    log_of,
    offered_chat,
    open_chat,
    owned_chat,
    p_a,
    p_b,
    p_c,
    parties,
    party_checks,
    profile,
    settle,
)

FIXTURES = (chats, offered_chat, owned_chat, p_a, p_b, p_c, parties, profile)


@pytest.mark.requirement("ORDER-01")
async def test_consultation_round_each_agent_gets_profile_order(offered_chat, p_b, profile):
    chat, owner = offered_chat, offered_chat.owner
    await owner.accept(chat.id, requirement="ORDER-01")
    await owner.initiate_consultation(chat.id, p_b.id, requirement="ORDER-01")
    await p_b.wait_invitation(chat.tag)
    since = owner.notifications.mark()
    await p_b.accept(chat.id, requirement="ORDER-01")
    await expect.sequence(
        owner,
        chat.id,
        "ORDER-01",
        [
            match.participants_updated(profile, chat.id),
            match.new_message(profile, chat.id, MessageType.PARTICIPANT_JOINED, visibility=Visibility.AGENTS),
            match.status_change(profile, chat.id, capabilities=Position.OWNER_CONSULTANT_JOINED),
        ],
        since,
        "the consultant's join, as the owner sees it",
    )
    since = owner.notifications.mark()
    await p_b.stop(chat.id, requirement="ORDER-01")
    await expect.sequence(
        owner,
        chat.id,
        "ORDER-01",
        [
            match.participants_updated(profile, chat.id),
            match.new_message(profile, chat.id, MessageType.PARTICIPANT_LEFT, visibility=Visibility.AGENTS),
            match.status_change(profile, chat.id, capabilities=Position.OWNER),
        ],
        since,
        "the consultant's leave, as the owner sees it",
    )
    await owner.send_message(chat.id, "after the consultant left")
    await chat.customer.send("still here")
    history = await owner.request_history(chat.id)
    await settle(owner, p_b)
    raise_first(
        check_agent(profile, log_of(p_b, chat.id), history, who=p_b.name)
        + check_agent(profile, log_of(owner, chat.id), history, who=owner.name)
    )


@pytest.mark.requirement("ORDER-02", "ORDER-03")
async def test_messages_and_typing_both_ways_every_party_sees_one_history(offered_chat, profile):
    chat, owner = offered_chat, offered_chat.owner
    await chat.customer.send("before the accept")
    await owner.accept(chat.id, requirement="ORDER-03")
    for round_ in range(3):
        await chat.customer.start_typing()
        await chat.customer.send(f"customer {round_}")
        await owner.send_typing(chat.id, MessageType.TYPING_STARTED)
        await owner.send_message(chat.id, f"agent {round_}")
        await owner.send_typing(chat.id, MessageType.TYPING_STOPPED)
    history = await owner.request_history(chat.id)
    await settle(owner)
    raise_first(check_history_complete(profile, history, owner.name))
    raise_first(check_agent(profile, log_of(owner, chat.id), history, who=owner.name))
    raise_first(check_customer(profile, await customer_transcript(chat.customer), history))


@pytest.mark.requirement("ORDER-04")
async def test_concurrent_senders_in_five_chats_keep_every_order(chats, p_a, p_b, p_c, profile):
    pairs = [(p_a, p_b), (p_b, p_c), (p_c, p_a), (p_a, p_b), (p_b, p_c)]
    chats = [await open_chat(chats, owner, member, conference=True) for owner, member in pairs]

    async def burst(send: Any, who: str) -> None:
        for i in range(20):
            await send(f"{who} {i}")

    senders = []
    for n, (chat, (owner, member)) in enumerate(zip(chats, pairs, strict=True)):
        senders += [
            burst(chat.customer.send, f"c{n}-customer"),
            burst(
                lambda text, o=owner, c=chat: o.do(c.id, Operation.SEND_MESSAGE, "ORDER-04", text=text),
                f"c{n}-owner",
            ),
            burst(
                lambda text, m=member, c=chat: m.do(c.id, Operation.SEND_MESSAGE, "ORDER-04", text=text),
                f"c{n}-member",
            ),
        ]
    await asyncio.gather(*senders)
    for chat, (owner, member) in zip(chats, pairs, strict=True):
        history = await owner.request_history(chat.id)
        await settle(owner, member)
        raise_first(party_checks(profile, chat, [owner, member], history, "ORDER-04"))
        raise_first(check_customer(profile, await customer_transcript(chat.customer), history))
        for sender in ("customer", "owner", "member"):
            texts = [m.get("text") for m in history if str(m.get("text", "")).split(" ")[0].endswith(sender)]
            expect.that(
                texts == sorted(texts, key=lambda t: int(t.split()[-1])),
                "ORDER-04",
                f"the {sender}'s messages in the order sent",
                texts,
            )


@pytest.mark.requirement("NOTIFY-06")
async def test_connect_dropped_while_queue_empty_loses_and_repeats_nothing(owned_chat, profile):
    chat, owner = owned_chat, owned_chat.owner
    for i in range(5):
        await chat.customer.send(f"before drop {i}")
        await owner.send_message(chat.id, f"reply {i}")  # the last batch delivered is about the chat
        await owner.bayeux.drop_connect()  # the queue is empty: everything produced has arrived
    history = await owner.request_history(chat.id)
    await settle(owner)
    violations = check_agent(profile, log_of(owner, chat.id), history, who=owner.name)
    raise_first([v.__class__("NOTIFY-06", v.expected, v.actual) for v in violations])


@pytest.mark.requirement("NOTIFY-06")
async def test_second_client_dropping_its_connect_gets_every_message_once(
    owned_chat, target, transcript, profile
):
    chat, owner = owned_chat, owned_chat.owner
    got: list[dict[str, Any]] = []
    second = BayeuxClient(
        owner.client.http,
        owner.bayeux.url,
        transcript,
        f"{owner.name}#2",
        lambda msg: got.append(msg),
        timeout_s=target.timeout_s,
    )
    await second.handshake()
    await second.subscribe(profile.wire(Channel.INTERACTIONS))
    await second.connect_once(0)
    since = owner.notifications.mark()
    try:
        for i in range(5):
            held = asyncio.ensure_future(second.connect_once(30_000))
            await owner.client.me()  # two round trips: the held connect has reached the server
            await owner.client.me()
            held.cancel()
            await asyncio.gather(held, return_exceptions=True)
            await chat.customer.send(f"while dropped {i}")
            await second.connect_once(0)
    finally:
        await second.disconnect()
    await settle(owner)
    mine = [n.data for n in owner.notifications.about(chat.id, since)]
    theirs = [
        m["data"]
        for m in got
        if m.get("data", {}).get("interactionId", None) == chat.id
        or (m.get("data", {}).get("interaction") or {}).get("id") == chat.id
    ]
    expect.that(
        theirs == mine,
        "NOTIFY-06",
        f"the second client got the same {len(mine)} notifications once",
        f"{len(theirs)}: {[d.get('messages', [{}])[0].get('text') for d in theirs]}",
    )
