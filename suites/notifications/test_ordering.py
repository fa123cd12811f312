"""Ordering across a whole chat (ORDER-01..04) and delivery across reconnects (NOTIFY-06).

Each test records what every party saw and judges it with the pure checks of
conformance/chat_checks.py against a complete history taken by an agent still taking part.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from conformance.api import (
    Agent,
    BayeuxClient,
    Channel,
    ChatMessageType,
    Operation,
    Position,
    Visibility,
    check_agent,
    check_customer,
    check_history_complete,
    expect,
    keeps_requirement,
    log_of,
    match,
    party_checks,
    raise_first,
    relabel,
    settle,
)


def _carries(n, requirement: str, check) -> None:
    why = check(n)
    expect.that(why is None, requirement, "the notification as the profile shapes it", f"{why}: {n.brief()}")


@pytest.mark.requirement("ORDER-01")
async def test_consultation_round_each_agent_gets_profile_order(new_chat, agent_b, profile):
    chat, owner = new_chat, new_chat.owner
    await owner.accept(chat.id, requirement="ORDER-01")
    await owner.initiate_consultation(chat.id, agent_b.id)  # its StatusChange: CONSULT-01
    await agent_b.wait_invitation(chat.tag)
    since = owner.notifications.mark()
    await agent_b.accept(chat.id, requirement="ORDER-01")
    # ORDER-01 judges the kinds and their order; what they carry is judged after, naming its own requirement.
    _, joined, caps = await expect.next_in_order(
        owner,
        chat.id,
        "ORDER-01",
        [
            match.participants_updated(profile, chat.id),
            match.new_message(profile, chat.id, ChatMessageType.PARTICIPANT_JOINED),
            match.status_change(profile, chat.id),
        ],
        since,
        "the consultant's join, as the owner sees it",
    )
    _carries(joined, "CONSULT-02", match.new_message(profile, chat.id, visibility=Visibility.AGENTS))
    _carries(
        caps, "STATE-01", match.status_change(profile, chat.id, capabilities=Position.OWNER_CONSULTANT_JOINED)
    )
    since = owner.notifications.mark()
    await agent_b.stop(chat.id, requirement="ORDER-01")
    # The premise, STOP-01's: the owner sees the consultant's ParticipantLeft at all; ORDER-01 its place.
    await expect.notification(
        owner, "STOP-01", match.new_message(profile, chat.id, ChatMessageType.PARTICIPANT_LEFT),
        "the consultant's ParticipantLeft", since=since,
    )
    _, left, caps = await expect.next_in_order(
        owner,
        chat.id,
        "ORDER-01",
        [
            match.participants_updated(profile, chat.id),
            match.new_message(profile, chat.id, ChatMessageType.PARTICIPANT_LEFT),
            match.status_change(profile, chat.id),
        ],
        since,
        "the consultant's leave, as the owner sees it",
    )
    _carries(left, "STOP-01", match.new_message(profile, chat.id, visibility=Visibility.AGENTS))
    _carries(caps, "STATE-01", match.status_change(profile, chat.id, capabilities=Position.OWNER))
    await owner.send_message(chat.id, "after the consultant left")
    await chat.customer.send("still here")
    history = await owner.request_history(chat.id)
    await settle(owner, agent_b)
    violations = check_agent(profile, log_of(agent_b, chat.id), history, who=agent_b.name) + check_agent(
        profile, log_of(owner, chat.id), history, who=owner.name
    )
    # "Nothing after Completed" is both STATE-05 and ORDER-01: this test reports it as its own ORDER-01.
    raise_first(sorted(violations, key=lambda v: v.requirement != "ORDER-01"))


@pytest.mark.requirement("ORDER-02", "ORDER-03")
async def test_messages_and_typing_both_ways_every_party_sees_one_history(new_chat, profile):
    chat, owner = new_chat, new_chat.owner
    await chat.customer.send("before the accept")
    await owner.accept(chat.id, requirement="ORDER-03")
    for round_ in range(3):
        await chat.customer.typing(True)
        await chat.customer.send(f"customer {round_}")
        await owner.send_typing(chat.id, started=True)
        await owner.send_message(chat.id, f"agent {round_}")
        await owner.send_typing(chat.id, started=False)
    history = await owner.request_history(chat.id)
    await settle(owner)
    violations = [
        *check_agent(profile, log_of(owner, chat.id), history, who=owner.name),
        *check_history_complete(profile, history, owner.name),
        *check_customer(profile, await chat.customer.chat_messages(), history),
    ]
    # The live stream's own order (ORDER-02) is reported before its agreement with the history.
    raise_first(sorted(violations, key=lambda v: v.requirement != "ORDER-02"))


async def perform_ok(agent: Agent, chat_id: str, text: str) -> None:
    """A SendMessage that must succeed; its notifications are judged later, all at once."""
    expect.success(await agent.client.perform(chat_id, Operation.SEND_MESSAGE, text=text), "ORDER-04")


@pytest.mark.requirement("ORDER-04")
async def test_concurrent_senders_in_five_chats_keep_every_order(chats, agent_a, agent_b, agent_c, profile):
    pairs = [
        (agent_a, agent_b),
        (agent_b, agent_c),
        (agent_c, agent_a),
        (agent_a, agent_b),
        (agent_b, agent_c),
    ]
    made = [await chats.consultation(owner, member, conference=True) for owner, member in pairs]

    async def burst(send: Any, who: str) -> None:
        for i in range(20):
            await send(f"{who} {i}")

    senders = []
    for n, (chat, (owner, member)) in enumerate(zip(made, pairs, strict=True)):
        senders += [
            burst(chat.customer.send, f"c{n}-customer"),
            burst(
                lambda text, o=owner, c=chat: perform_ok(o, c.id, text),
                f"c{n}-owner",
            ),
            burst(
                lambda text, m=member, c=chat: perform_ok(m, c.id, text),
                f"c{n}-member",
            ),
        ]
    await asyncio.gather(*senders)
    for chat, (owner, member) in zip(made, pairs, strict=True):
        history = await owner.request_history(chat.id)
        await settle(owner, member)
        raise_first(party_checks(profile, chat.id, [owner, member], history, "ORDER-04"))
        raise_first(check_customer(profile, await chat.customer.chat_messages(), history))
        for sender in ("customer", "owner", "member"):
            texts = [m.get("text") for m in history if str(m.get("text", "")).split(" ")[0].endswith(sender)]
            expect.that(
                texts == sorted(texts, key=lambda t: int(t.split()[-1])),
                "ORDER-04",
                f"the {sender}'s messages in the order sent",
                texts,
            )


@pytest.mark.requirement("NOTIFY-06")
async def test_connect_dropped_while_queue_empty_loses_and_repeats_nothing(accepted_chat, profile):
    chat, owner = accepted_chat, accepted_chat.owner
    for i in range(5):
        await chat.customer.send(f"before drop {i}")
        await owner.send_message(chat.id, f"reply {i}")  # the last batch delivered is about the chat
        # the queue is empty: everything produced has arrived; the server holds the dropped connect
        await owner.bayeux.drop_connect(barrier=owner.client.me)
    history = await owner.request_history(chat.id)
    await settle(owner)
    violations = check_agent(profile, log_of(owner, chat.id), history, who=owner.name)
    raise_first([v if keeps_requirement(v) else relabel(v, "NOTIFY-06") for v in violations])


@pytest.mark.requirement("NOTIFY-06")
async def test_second_client_dropping_its_connect_gets_every_message_once(
    accepted_chat, target, transcript, profile
):
    chat, owner = accepted_chat, accepted_chat.owner
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
            on_wire = asyncio.Event()
            held = asyncio.ensure_future(second.connect_once(30_000, sent=on_wire))
            await asyncio.wait_for(on_wire.wait(), target.timeout_s)
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
