"""CompleteConference (profile section 7): COMPLETE-CONFERENCE-01..03."""

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
    index_of,
    match,
    perform_refused,
    texts,
    type_of,
    visibility_of,
)


@pytest.mark.requirement("COMPLETE-CONFERENCE-01")
async def test_complete_conference_makes_both_agents_members_visible_to_all(consultation_joined, profile):
    owner, consultant, customer = (
        consultation_joined.owner,
        consultation_joined.consultant,
        consultation_joined.customer,
    )
    shown = await customer.chat_messages(requirement=None)
    since_owner, since = owner.notifications.mark(), consultant.notifications.mark()
    reply = await owner.client.perform(consultation_joined.id, Operation.COMPLETE_CONFERENCE)
    expect.success(reply, "COMPLETE-CONFERENCE-01")
    await expect.next_in_order(
        owner,
        consultation_joined.id,
        "COMPLETE-CONFERENCE-01",
        [
            match.participants_updated(profile, consultation_joined.id),
            match.new_message(
                profile, consultation_joined.id, ChatMessageType.PARTICIPANT_JOINED, visibility=Visibility.ALL
            ),
            match.status_change(
                profile, consultation_joined.id, State.PROCESSING, Position.CONFERENCE_MEMBER
            ),
        ],
        since=since_owner,
    )
    await expect.next_in_order(
        consultant,
        consultation_joined.id,
        "COMPLETE-CONFERENCE-01",
        [
            match.participants_updated(profile, consultation_joined.id),
        ],
        since=since,
    )
    await expect.nothing_about(consultant, consultation_joined.id, "COMPLETE-CONFERENCE-01", since=since + 1)
    new = (await customer.chat_messages(requirement=None))[len(shown) :]
    expect.that(
        [(type_of(profile, m), visibility_of(profile, m)) for m in new]
        == [(ChatMessageType.PARTICIPANT_JOINED, Visibility.ALL)],
        "COMPLETE-CONFERENCE-01",
        "the customer sees the consultant's ParticipantJoined",
        brief(profile, new),
    )


@pytest.mark.requirement("COMPLETE-CONFERENCE-02")
async def test_complete_conference_then_messages_reach_everyone_in_one_order(conference, profile):
    owner, member, customer = conference.owner, conference.consultant, conference.customer
    since_owner, since_member = owner.notifications.mark(), member.notifications.mark()
    await owner.send_message(conference.id, "from the first agent", requirement="COMPLETE-CONFERENCE-02")
    await member.send_message(conference.id, "from the second agent", requirement="COMPLETE-CONFERENCE-02")
    order = ["from the first agent", "from the second agent"]
    got = {}
    for agent, since in ((owner, since_owner), (member, since_member)):
        found = [
            await expect.notification(
                agent,
                "COMPLETE-CONFERENCE-02",
                match.new_message(
                    profile, conference.id, ChatMessageType.TEXT, text, visibility=Visibility.ALL
                ),
                f"{text!r} visible to all",
                since=since,
            )
            for text in order
        ]
        got[agent.name] = [(index_of(n.data["messages"][0]), n.seq) for n in found]
    seen = await customer.chat_messages(requirement=None)
    expect.that(
        texts(profile, seen)[-2:] == order,
        "COMPLETE-CONFERENCE-02",
        f"the customer sees {order} in that order",
        brief(profile, seen),
    )
    customer_idx = [index_of(m) for m in seen if type_of(profile, m) == ChatMessageType.TEXT][-2:]
    ok = all([i for i, _ in v] == customer_idx and v[0][1] < v[1][1] for v in got.values())
    expect.that(
        ok,
        "COMPLETE-CONFERENCE-02",
        f"the same indexes {customer_idx}, arriving in order, for both agents",
        got,
    )


@pytest.mark.requirement("COMPLETE-CONFERENCE-03", "STATUS-05")
@pytest.mark.parametrize("chat_in_state", ["accepted_chat", "consultation_invited"], indirect=True)
async def test_complete_conference_without_a_joined_consultant_fails_as_invalid_parameter(chat_in_state):
    chat = chat_in_state
    owner = chat.owner
    await perform_refused(
        owner, chat.id, Operation.COMPLETE_CONFERENCE, "COMPLETE-CONFERENCE-03", Status.INVALID_PARAMETER
    )
