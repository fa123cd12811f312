"""InitiateConsultation (profile section 7): CONSULT-01..04."""

from __future__ import annotations

import pytest

from conformance.api import (
    TAG_KEY,
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
    rejected_to_next,
)


@pytest.mark.requirement("CONSULT-01")
async def test_initiate_consultation_invites_the_consultant_to_the_same_interaction(
    accepted_chat, agent_b, profile
):
    owner = accepted_chat.owner
    shown = await accepted_chat.customer.chat_messages(requirement=None)
    since_owner, since = owner.notifications.mark(), agent_b.notifications.mark()
    reply = await owner.client.perform(accepted_chat.id, Operation.INITIATE_CONSULTATION, agent_id=agent_b.id)
    expect.success(reply, "CONSULT-01")
    await expect.next_in_order(
        owner,
        accepted_chat.id,
        "CONSULT-01",
        [
            match.status_change(
                profile, accepted_chat.id, State.PROCESSING, Position.OWNER_CONSULTANT_INVITED
            ),
        ],
        since=since_owner,
    )
    await expect.notification(
        agent_b,
        "CONSULT-01",
        match.status_change(
            profile, accepted_chat.id, State.INVITED, Position.INVITED, user_data=(TAG_KEY, accepted_chat.tag)
        ),
        "an invitation to the same interaction id",
        since=since,
    )
    after = await accepted_chat.customer.chat_messages(requirement=None)
    expect.that(
        after == shown, "CONSULT-01", "the customer sees nothing of the consultation", brief(profile, after)
    )
    await agent_b.client.perform(accepted_chat.id, Operation.REJECT)  # leaves the chat as it was


@pytest.mark.requirement("CONSULT-02")
async def test_initiate_consultation_join_is_seen_by_agents_only_in_order(consultation_invited, profile):
    owner, consultant = consultation_invited.owner, consultation_invited.consultant
    shown = await consultation_invited.customer.chat_messages(requirement=None)
    since_owner, since = owner.notifications.mark(), consultant.notifications.mark()
    reply = await consultant.client.perform(consultation_invited.id, Operation.ACCEPT)
    expect.success(reply, "CONSULT-02")
    # CONSULT-02 judges the order; the capabilities the consultant gets are ACCEPT-01's (and STATE-01's).
    accepted, _, _ = await expect.next_in_order(
        consultant,
        consultation_invited.id,
        "CONSULT-02",
        [
            match.status_change(profile, consultation_invited.id, State.PROCESSING),
            match.participants_updated(profile, consultation_invited.id),
            match.chat_history(profile, consultation_invited.id),
        ],
        since=since,
    )
    chat_id = consultation_invited.id
    why = match.status_change(profile, chat_id, State.PROCESSING, Position.CONSULTANT)(accepted)
    expect.that(why is None, "ACCEPT-01", "the consultant's StatusChange: consultant capabilities", why)
    await expect.next_in_order(
        owner,
        consultation_invited.id,
        "CONSULT-02",
        [
            match.participants_updated(profile, consultation_invited.id),
            match.new_message(
                profile,
                consultation_invited.id,
                ChatMessageType.PARTICIPANT_JOINED,
                visibility=Visibility.AGENTS,
            ),
            match.status_change(
                profile, consultation_invited.id, State.PROCESSING, Position.OWNER_CONSULTANT_JOINED
            ),
        ],
        since=since_owner,
    )
    after = await consultation_invited.customer.chat_messages(requirement=None)
    expect.that(after == shown, "CONSULT-02", "the customer sees nothing of the join", brief(profile, after))


@pytest.mark.requirement("CONSULT-03")
async def test_initiate_consultation_rejected_gives_the_owner_plain_capabilities(
    consultation_invited, profile
):
    owner, consultant = consultation_invited.owner, consultation_invited.consultant
    since = owner.notifications.mark()
    reply = await consultant.client.perform(consultation_invited.id, Operation.REJECT)
    expect.success(reply, "CONSULT-03")
    await expect.next_in_order(
        owner,
        consultation_invited.id,
        "CONSULT-03",
        [
            match.status_change(profile, consultation_invited.id, State.PROCESSING, Position.OWNER),
        ],
        since=since,
    )


@pytest.mark.requirement("CONSULT-04", "STATUS-05")
@pytest.mark.parametrize(
    ("how", "status"),
    [
        ("missing", Status.MISSING_PARAMETER),
        ("unknown", Status.INVALID_PARAMETER),
        ("itself", Status.INVALID_PARAMETER),
        ("empty", Status.INVALID_PARAMETER),
        ("null", Status.INVALID_PARAMETER),
        ("number", Status.INVALID_PARAMETER),
    ],
)
async def test_initiate_consultation_with_a_bad_agent_fails_and_changes_nothing(
    how, status, accepted_chat, tag
):
    owner = accepted_chat.owner
    fields = {
        "missing": {},
        "unknown": {"agent_id": f"no-such-agent-{tag}"},
        "itself": {"agent_id": owner.id},
        "empty": {"agent_id": ""},
        "null": {"agent_id": None},
        "number": {"agent_id": 2},
    }[how]
    await perform_refused(
        owner, accepted_chat.id, Operation.INITIATE_CONSULTATION, "CONSULT-04", status, **fields
    )


@pytest.mark.requirement("CONSULT-04", "STATUS-05")
async def test_initiate_consultation_with_an_agent_not_ready_fails_as_invalid_parameter(
    accepted_chat, agent_b
):
    owner = accepted_chat.owner
    await agent_b.not_ready()
    try:
        await perform_refused(
            owner,
            accepted_chat.id,
            Operation.INITIATE_CONSULTATION,
            "CONSULT-04",
            Status.INVALID_PARAMETER,
            agent_id=agent_b.id,
        )
    finally:
        await agent_b.ready()


@pytest.mark.requirement("CONSULT-04", "STATUS-05")
async def test_initiate_consultation_with_an_agent_invited_before_fails_as_invalid_parameter(
    chat_to_colleague
):
    first, colleague = chat_to_colleague.first, chat_to_colleague.next
    await rejected_to_next(chat_to_colleague)
    await perform_refused(
        colleague,
        chat_to_colleague.id,
        Operation.INITIATE_CONSULTATION,
        "CONSULT-04",
        Status.INVALID_PARAMETER,
        agent_id=first.id,
    )


@pytest.mark.requirement("CONSULT-04", "STATUS-05")
async def test_initiate_consultation_while_one_is_under_way_fails_as_invalid_parameter(
    consultation_invited, agent_c
):
    owner = consultation_invited.owner
    await perform_refused(
        owner,
        consultation_invited.id,
        Operation.INITIATE_CONSULTATION,
        "CONSULT-04",
        Status.INVALID_PARAMETER,
        agent_id=agent_c.id,
    )
