"""SendMessage (profile section 7): MESSAGE-01..04."""

from __future__ import annotations

import pytest

from conformance.api import (
    OMIT,
    ChatMessageType,
    Operation,
    Status,
    Visibility,
    brief,
    expect,
    index_of,
    match,
    messages_in,
    refused_without_effect,
    snapshot,
    texts,
    type_of,
    visibility_of,
)

# Surrounding blanks, a newline, accents, a symbol outside the BMP: all must arrive unchanged.
TRICKY = "  Grüße, ☃ 😀 —\n«done»  "


@pytest.mark.requirement("MESSAGE-01")
@pytest.mark.parametrize("text", [TRICKY, "😀" * 4096], ids=["unicode", "4096-astral"])
async def test_send_message_reaches_the_customer_unchanged(text, accepted_chat, profile):
    agent, customer = accepted_chat.owner, accepted_chat.customer
    since = agent.notifications.mark()
    reply = await agent.client.perform(accepted_chat.id, Operation.SEND_MESSAGE, text=text)
    expect.success(reply, "MESSAGE-01")
    await expect.notification(
        agent,
        "MESSAGE-01",
        match.new_message(
            profile, accepted_chat.id, type=ChatMessageType.TEXT, text=text, visibility=Visibility.ALL
        ),
        "NewMessages with the exact text, visible to all",
        since=since,
    )
    seen = await customer.chat_messages(requirement=None)
    expect.that(
        texts(profile, seen)[-1:] == [text],
        "MESSAGE-01",
        f"the customer's last message is {text!r}",
        brief(profile, seen),
    )


@pytest.mark.requirement("MESSAGE-01")
async def test_send_message_by_the_owner_reaches_the_consultant(consultation_joined, profile):
    owner, consultant = consultation_joined.owner, consultation_joined.consultant
    since = consultant.notifications.mark()
    reply = await owner.client.perform(consultation_joined.id, Operation.SEND_MESSAGE, text=TRICKY)
    expect.success(reply, "MESSAGE-01")
    await expect.notification(
        consultant,
        "MESSAGE-01",
        match.new_message(profile, consultation_joined.id, type=ChatMessageType.TEXT, text=TRICKY),
        "the owner's message, as NewMessages to the consultant",
        since=since,
    )


@pytest.mark.requirement("MESSAGE-02")
async def test_send_message_indexes_grow_by_one_in_the_same_order_for_all(accepted_chat, profile):
    agent, customer = accepted_chat.owner, accepted_chat.customer
    since = agent.notifications.mark()
    await agent.send_typing(accepted_chat.id, started=True)
    reply = await agent.client.perform(accepted_chat.id, Operation.SEND_MESSAGE, text="after typing")
    expect.success(reply, "MESSAGE-02")
    await customer.send("the customer answers")
    await agent.send_message(accepted_chat.id, "and the agent again")
    await expect.notification(
        agent,
        "MESSAGE-02",
        match.new_message(profile, accepted_chat.id, text="the customer answers"),
        "the customer's message",
        since=since,
    )
    live = [m for n in agent.notifications.about(accepted_chat.id, since) for m in messages_in(n.data)]
    indexes = [index_of(m) for m in live]
    first = indexes[0] if indexes and isinstance(indexes[0], int) else 0
    expect.that(
        len(live) == 4 and indexes == list(range(first, first + 4)),
        "MESSAGE-02",
        "four events with consecutive, increasing indexes",
        brief(profile, live),
    )
    seen = [m for m in await customer.chat_messages(requirement=None) if index_of(m) in indexes]
    expect.that(
        [index_of(m) for m in seen] == indexes and texts(profile, seen) == texts(profile, live),
        "MESSAGE-02",
        f"the customer sees the same events in the same order: {brief(profile, live)}",
        brief(profile, seen),
    )


@pytest.mark.requirement("MESSAGE-03", "STATUS-05")
@pytest.mark.parametrize(
    ("text", "status"),
    [
        (OMIT, Status.MISSING_PARAMETER),
        ("", Status.INVALID_PARAMETER),
        ("x" * 4097, Status.INVALID_PARAMETER),
        ("😀" * 4097, Status.INVALID_PARAMETER),
        (None, Status.INVALID_PARAMETER),
        (17, Status.INVALID_PARAMETER),
        (["hello"], Status.INVALID_PARAMETER),
        ({"text": "hello"}, Status.INVALID_PARAMETER),
    ],
    ids=["missing", "empty", "4097-chars", "4097-astral", "null", "number", "list", "object"],
)
async def test_send_message_with_bad_text_fails_and_changes_nothing(text, status, accepted_chat, profile):
    agent, customer = accepted_chat.owner, accepted_chat.customer
    before = await snapshot(agent, accepted_chat.id)
    shown = await customer.chat_messages(requirement=None)
    since = agent.notifications.mark()
    reply = await agent.client.perform(accepted_chat.id, Operation.SEND_MESSAGE, text=text)
    await refused_without_effect(
        agent, accepted_chat.id, reply, "MESSAGE-03", status, before=before, since=since
    )
    after = await customer.chat_messages(requirement=None)
    expect.that(after == shown, "STATUS-05", "the customer's transcript unchanged", brief(profile, after))


@pytest.mark.requirement("MESSAGE-04")
async def test_send_message_by_a_consultant_stays_among_agents(consultation_joined, profile):
    owner, consultant, customer = (
        consultation_joined.owner,
        consultation_joined.consultant,
        consultation_joined.customer,
    )
    since = owner.notifications.mark()
    reply = await consultant.client.perform(
        consultation_joined.id, Operation.SEND_MESSAGE, text="agents only"
    )
    expect.success(reply, "MESSAGE-04")
    await expect.notification(
        owner,
        "MESSAGE-04",
        match.new_message(
            profile,
            consultation_joined.id,
            type=ChatMessageType.TEXT,
            text="agents only",
            visibility=Visibility.AGENTS,
        ),
        "the consultant's message, visibility Agents, to the owner",
        since=since,
    )
    seen = await customer.chat_messages(requirement=None)
    expect.that(
        "agents only" not in texts(profile, seen),
        "MESSAGE-04",
        "the customer never sees the consultant's message",
        brief(profile, seen),
    )
    leaked = [
        m
        for m in seen
        if type_of(profile, m) == ChatMessageType.TEXT and visibility_of(profile, m) != Visibility.ALL
    ]
    expect.that(not leaked, "MESSAGE-04", "only messages visible to all", brief(profile, leaked))
