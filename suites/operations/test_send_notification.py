"""SendNotification (profile section 7): TYPING-01..02."""

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
    perform_refused,
    type_of,
)

TYPING = [ChatMessageType.TYPING_STARTED, ChatMessageType.TYPING_STOPPED]


@pytest.mark.requirement("TYPING-01")
@pytest.mark.parametrize("kind", TYPING, ids=lambda k: k.value)
async def test_send_notification_arrives_as_a_message_of_that_type(kind, accepted_chat, profile):
    agent, customer = accepted_chat.owner, accepted_chat.customer
    since = agent.notifications.mark()
    reply = await agent.client.perform(
        accepted_chat.id, Operation.SEND_NOTIFICATION, notification=profile.wire(kind)
    )
    expect.success(reply, "TYPING-01")
    seen = await expect.notification(
        agent,
        "TYPING-01",
        match.new_message(profile, accepted_chat.id, type=kind, visibility=Visibility.ALL),
        f"NewMessages with one {profile.wire(kind)} message, visible to all",
        since=since,
    )
    index = index_of(seen.data["messages"][0])
    shown = [m for m in await customer.chat_messages(requirement=None) if index_of(m) == index]
    expect.that(
        len(shown) == 1 and type_of(profile, shown[0]) == kind,
        "TYPING-01",
        f"the customer sees #{index} as {profile.wire(kind)}",
        brief(profile, shown),
    )


@pytest.mark.requirement("TYPING-01")
@pytest.mark.parametrize("kind", TYPING, ids=lambda k: k.value)
async def test_send_notification_by_a_consultant_reaches_the_owner_only(kind, consultation_joined, profile):
    owner, consultant = consultation_joined.owner, consultation_joined.consultant
    since = owner.notifications.mark()
    reply = await consultant.client.perform(
        consultation_joined.id, Operation.SEND_NOTIFICATION, notification=profile.wire(kind)
    )
    expect.success(reply, "TYPING-01")
    seen = await expect.notification(
        owner,
        "TYPING-01",
        match.new_message(profile, consultation_joined.id, type=kind, visibility=Visibility.AGENTS),
        f"the consultant's {profile.wire(kind)}, visibility Agents",
        since=since,
    )
    index = index_of(seen.data["messages"][0])
    seen_by_customer = await consultation_joined.customer.chat_messages(requirement=None)
    shown = [m for m in seen_by_customer if index_of(m) == index]
    expect.that(
        not shown, "TYPING-01", "the customer does not see the consultant typing", brief(profile, shown)
    )


@pytest.mark.requirement("TYPING-02", "STATUS-05")
@pytest.mark.parametrize(
    ("value", "status"),
    [
        (OMIT, Status.MISSING_PARAMETER),
        ("", Status.INVALID_PARAMETER),
        ("Typing", Status.INVALID_PARAMETER),
        ("typingstarted", Status.INVALID_PARAMETER),
        (ChatMessageType.TEXT, Status.INVALID_PARAMETER),
        (ChatMessageType.PARTICIPANT_LEFT, Status.INVALID_PARAMETER),
        (None, Status.INVALID_PARAMETER),
        (1, Status.INVALID_PARAMETER),
        ([ChatMessageType.TYPING_STARTED], Status.INVALID_PARAMETER),
    ],
    ids=["missing", "empty", "unknown", "wrong-case", "text", "participant-left", "null", "number", "list"],
)
async def test_send_notification_with_a_bad_value_fails_and_changes_nothing(
    value, status, accepted_chat, profile
):
    agent = accepted_chat.owner
    if isinstance(value, ChatMessageType):
        value = profile.wire(value)
    elif isinstance(value, list):
        value = [profile.wire(v) for v in value]
    await perform_refused(
        agent, accepted_chat.id, Operation.SEND_NOTIFICATION, "TYPING-02", status, notification=value
    )
