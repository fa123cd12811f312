"""CompleteTransfer (profile section 7): COMPLETE-TRANSFER-01..03."""

from __future__ import annotations

import pytest

from conformance.api import (
    ChatMessageType,
    Operation,
    Position,
    State,
    Status,
    Visibility,
    brief,
    expect,
    match,
    perform_refused,
    sender_nickname,
    texts,
    type_of,
    visibility_of,
)


@pytest.mark.requirement("COMPLETE-TRANSFER-01")
async def test_complete_transfer_makes_the_consultant_owner(consultation_joined, profile):
    owner, consultant = consultation_joined.owner, consultation_joined.consultant
    since_owner, since = owner.notifications.mark(), consultant.notifications.mark()
    reply = await owner.client.perform(consultation_joined.id, Operation.COMPLETE_TRANSFER)
    expect.success(reply, "COMPLETE-TRANSFER-01")
    await expect.next_in_order(
        owner,
        consultation_joined.id,
        "COMPLETE-TRANSFER-01",
        [
            match.status_change(profile, consultation_joined.id, State.COMPLETED, Position.COMPLETED),
        ],
        since=since_owner,
    )
    await expect.next_in_order(
        consultant,
        consultation_joined.id,
        "COMPLETE-TRANSFER-01",
        [
            match.participants_updated(profile, consultation_joined.id),
            match.new_message(profile, consultation_joined.id, ChatMessageType.PARTICIPANT_LEFT),
            match.status_change(profile, consultation_joined.id, State.PROCESSING, Position.OWNER),
        ],
        since=since,
    )
    await expect.nothing_about(owner, consultation_joined.id, "COMPLETE-TRANSFER-01", since=since_owner + 1)


@pytest.mark.requirement("COMPLETE-TRANSFER-02")
async def test_complete_transfer_shows_the_customer_the_join_then_the_leave(consultation_joined, profile):
    owner, consultant, customer = (
        consultation_joined.owner,
        consultation_joined.consultant,
        consultation_joined.customer,
    )
    await consultant.send_message(consultation_joined.id, "private advice")
    shown = await customer.chat_messages(requirement=None)
    reply = await owner.client.perform(consultation_joined.id, Operation.COMPLETE_TRANSFER)
    expect.success(reply, "COMPLETE-TRANSFER-02")
    seen = await customer.chat_messages(requirement=None)
    new = seen[len(shown) :]
    kinds = [(type_of(profile, m), visibility_of(profile, m)) for m in new]
    joined = [sender_nickname(m) for m in new[:1]]
    expect.that(
        seen[: len(shown)] == shown
        and kinds
        == [
            (ChatMessageType.PARTICIPANT_JOINED, Visibility.ALL),
            (ChatMessageType.PARTICIPANT_LEFT, Visibility.ALL),
        ],
        "COMPLETE-TRANSFER-02",
        "the consultant's ParticipantJoined, then the initiator's ParticipantLeft",
        brief(profile, new),
    )
    joins = [
        m
        for m in seen
        if type_of(profile, m) == ChatMessageType.PARTICIPANT_JOINED and sender_nickname(m) == joined[0]
    ]
    expect.that(
        len(joins) == 1 and "private advice" not in texts(profile, seen),
        "COMPLETE-TRANSFER-02",
        "nothing of the earlier consultation",
        brief(profile, seen),
    )


@pytest.mark.requirement("COMPLETE-TRANSFER-03", "STATUS-05")
@pytest.mark.parametrize("chat_in_state", ["accepted_chat", "consultation_invited"], indirect=True)
async def test_complete_transfer_without_a_joined_consultant_fails_as_invalid_parameter(chat_in_state):
    chat = chat_in_state
    owner = chat.owner
    await perform_refused(
        owner, chat.id, Operation.COMPLETE_TRANSFER, "COMPLETE-TRANSFER-03", Status.INVALID_PARAMETER
    )
