"""StopProcessing (profile section 7): STOP-01..03."""

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
    type_of,
)


def _completed(profile, chat_id):
    return match.status_change(profile, chat_id, State.COMPLETED, Position.COMPLETED)


@pytest.mark.requirement("STOP-01")
async def test_stop_by_the_consultant_tells_the_owner_it_left(consultation_joined, profile):
    owner, consultant = consultation_joined.owner, consultation_joined.consultant
    shown = await consultation_joined.customer.chat_messages(requirement=None)
    since_owner, since = owner.notifications.mark(), consultant.notifications.mark()
    reply = await consultant.client.perform(consultation_joined.id, Operation.STOP_PROCESSING)
    expect.success(reply, "STOP-01")
    await expect.next_in_order(
        consultant,
        consultation_joined.id,
        "STOP-01",
        [_completed(profile, consultation_joined.id)],
        since=since,
    )
    await expect.next_in_order(
        owner,
        consultation_joined.id,
        "STOP-01",
        [
            match.participants_updated(profile, consultation_joined.id),
            match.new_message(
                profile,
                consultation_joined.id,
                ChatMessageType.PARTICIPANT_LEFT,
                visibility=Visibility.AGENTS,
            ),
            match.status_change(profile, consultation_joined.id, State.PROCESSING, Position.OWNER),
        ],
        since=since_owner,
    )
    after = await consultation_joined.customer.chat_messages(requirement=None)
    expect.that(
        after == shown,
        "STOP-01",
        "the customer sees nothing of the consultant leaving",
        brief(profile, after),
    )


@pytest.mark.requirement("STOP-01")
async def test_stop_by_a_conference_member_leaves_the_other_owner(conference, profile):
    owner, member = conference.owner, conference.consultant
    since_owner, since = owner.notifications.mark(), member.notifications.mark()
    reply = await member.client.perform(conference.id, Operation.STOP_PROCESSING)
    expect.success(reply, "STOP-01")
    await expect.next_in_order(
        member, conference.id, "STOP-01", [_completed(profile, conference.id)], since=since
    )
    await expect.next_in_order(
        owner,
        conference.id,
        "STOP-01",
        [
            match.participants_updated(profile, conference.id),
            match.new_message(
                profile, conference.id, ChatMessageType.PARTICIPANT_LEFT, visibility=Visibility.ALL
            ),
            match.status_change(profile, conference.id, State.PROCESSING, Position.OWNER),
        ],
        since=since_owner,
    )
    seen = await conference.customer.chat_messages(requirement=None)
    expect.that(
        type_of(profile, seen[-1] if seen else {}) == ChatMessageType.PARTICIPANT_LEFT,
        "STOP-01",
        "the customer sees the member's ParticipantLeft",
        brief(profile, seen),
    )


@pytest.mark.requirement("STOP-01", "STOP-02")
async def test_stop_by_the_last_agent_ends_the_customers_chat(accepted_chat, profile):
    agent, customer = accepted_chat.owner, accepted_chat.customer
    since = agent.notifications.mark()
    reply = await agent.client.perform(accepted_chat.id, Operation.STOP_PROCESSING)
    expect.success(reply, "STOP-01")
    await expect.next_in_order(
        agent, accepted_chat.id, "STOP-01", [_completed(profile, accepted_chat.id)], since=since
    )
    refreshed = await customer.client.refresh(1)
    expect.success(refreshed, "STOP-02")
    seen = await customer.chat_messages(requirement=None)
    expect.that(
        type_of(profile, seen[-1] if seen else {}) == ChatMessageType.PARTICIPANT_LEFT,
        "STOP-01",
        "the customer sees the agent's ParticipantLeft",
        brief(profile, seen),
    )
    expect.that(
        customer.client.chat_ended, "STOP-02", "chatEnded true for the customer", refreshed.text[:300]
    )
    await expect.nothing_about(agent, accepted_chat.id, "STOP-01", since=since + 1)


@pytest.mark.requirement("STOP-02")
async def test_stop_by_the_last_agent_offers_the_ended_chat_to_nobody(accepted_chat, agents):
    # Section 4: only a queued chat is offered, and a chat whose last agent stopped has ended (STOP-02),
    # even though its customer has not disconnected: no other agent may be invited to it.
    agent = accepted_chat.owner
    others = [other for other in agents if other is not agent]
    marks = {other.name: other.notifications.mark() for other in others}
    expect.success(await agent.client.perform(accepted_chat.id, Operation.STOP_PROCESSING), "STOP-01")
    for other in others:
        await other.barrier("STOP-02")  # a Ready: routing runs again, and its offer arrives by the next one
        await expect.nothing_about(other, accepted_chat.id, "STOP-02", since=marks[other.name])


@pytest.mark.requirement("STOP-03", "STATUS-05")
async def test_stop_while_invited_fails_as_invalid_parameter(invited_chat):
    agent = invited_chat.owner
    await perform_refused(
        agent, invited_chat.id, Operation.STOP_PROCESSING, "STOP-03", Status.INVALID_PARAMETER
    )
