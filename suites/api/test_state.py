"""Section 6: states and capabilities — the capability table walked position by position."""

from __future__ import annotations

from typing import Any

import pytest

from conformance.api import (
    INTERACTION,
    INTERACTION_OPERATIONS,
    NOTIFICATION_TYPE,
    ChatMessageType,
    NotificationType,
    Operation,
    Position,
    State,
    Status,
    expect,
    match,
)

NOT_VALID = {Status.INVALID_PARAMETER}
GONE = {Status.INVALID_PARAMETER, Status.NOT_FOUND}


def status_changes(agent, profile, chat_id: str, since: int = 0) -> list[tuple[Any, frozenset[Any]]]:
    """(state, capabilities) of every StatusChange the agent received about the chat, in order."""
    out: list[tuple[Any, frozenset[Any]]] = []
    for n in agent.notifications.about(chat_id, since):
        if n.data.get(NOTIFICATION_TYPE) == profile.wire(NotificationType.STATUS_CHANGE):
            inter = n.data.get(INTERACTION) or {}
            out.append((inter.get("state"), frozenset(inter.get("capabilities") or ())))
    return out


def row(profile, state: State, position: Position) -> tuple[str, frozenset[str]]:
    """What the table says a StatusChange carries in this position (read from the profile, the spec)."""
    return (profile.wire(state), profile.capability_names(position))


def valid_fields(op: Operation, profile, spare_agent_id: str) -> dict[str, object]:
    """Parameters that would be valid for `op` if it were allowed (section 7)."""
    return {
        Operation.SEND_MESSAGE: {"text": "capability probe"},
        Operation.SEND_NOTIFICATION: {"notification": profile.wire(ChatMessageType.TYPING_STARTED)},
        Operation.TRANSFER: {"agent_id": spare_agent_id},
        Operation.INITIATE_CONSULTATION: {"agent_id": spare_agent_id},
    }.get(op, {})


async def wait_status(
    agent, profile, chat_id: str, requirement: str, since: int, state: State, position: Position
) -> None:
    await expect.notification(
        agent,
        requirement,
        match.status_change(profile, chat_id, state, position),
        f"StatusChange {state} with the {position} capabilities",
        since=since,
    )


# ---- STATE-01 / STATE-04: walking the table --------------------------------------------------------


@pytest.mark.requirement("STATE-01", "STATE-04")
async def test_status_changes_walk_the_table_through_a_conference(conference, profile):
    chat, owner, member = conference, conference.owner, conference.consultant
    await chat.customer.disconnect()
    await wait_status(owner, profile, chat.id, "STATE-01", 0, State.PROCESSING, Position.CUSTOMER_LEFT)
    await wait_status(member, profile, chat.id, "STATE-01", 0, State.PROCESSING, Position.CUSTOMER_LEFT)
    for agent in (owner, member):
        mark = agent.notifications.mark()
        expect.success(await agent.client.perform(chat.id, Operation.STOP_PROCESSING), "STATE-03")
        await wait_status(agent, profile, chat.id, "STATE-01", mark, State.COMPLETED, Position.COMPLETED)
    invited, processing, done = State.INVITED, State.PROCESSING, State.COMPLETED
    expected_owner = [
        row(profile, invited, Position.INVITED),
        row(profile, processing, Position.OWNER),
        row(profile, processing, Position.OWNER_CONSULTANT_INVITED),
        row(profile, processing, Position.OWNER_CONSULTANT_JOINED),
        row(profile, processing, Position.CONFERENCE_MEMBER),
        row(profile, processing, Position.CUSTOMER_LEFT),
        row(profile, done, Position.COMPLETED),
    ]
    # The consultant's capabilities do not change at CompleteConference: no StatusChange then.
    expected_member = [
        row(profile, invited, Position.INVITED),
        row(profile, processing, Position.CONSULTANT),
        row(profile, processing, Position.CUSTOMER_LEFT),
        row(profile, done, Position.COMPLETED),
    ]
    got = status_changes(owner, profile, chat.id)
    expect.that(got == expected_owner, "STATE-01", f"owner: {expected_owner}", got)
    got = status_changes(member, profile, chat.id)
    expect.that(got == expected_member, "STATE-01", f"consultant: {expected_member}", got)


@pytest.mark.requirement("STATE-01", "STATE-04")
async def test_status_changes_walk_the_table_through_a_rejected_consultation(accepted_chat, agent_b, profile):
    # Raw steps (not the consultation fixtures), so that a wrong StatusChange fails here, not in a setup.
    chat, owner, consultant = accepted_chat, accepted_chat.owner, agent_b
    mark = owner.notifications.mark()
    reply = await owner.client.perform(
        chat.id, Operation.INITIATE_CONSULTATION, agent_id=consultant.account.id
    )
    expect.success(reply, "STATE-03")
    await wait_status(
        owner, profile, chat.id, "STATE-01", mark, State.PROCESSING, Position.OWNER_CONSULTANT_INVITED
    )
    await consultant.wait_invitation(chat.tag, requirement="STATE-01")
    mark = owner.notifications.mark()
    expect.success(await consultant.client.perform(chat.id, Operation.REJECT), "STATE-03")
    await wait_status(owner, profile, chat.id, "CONSULT-03", mark, State.PROCESSING, Position.OWNER)
    await wait_status(consultant, profile, chat.id, "REJECT-01", 0, State.COMPLETED, Position.COMPLETED)
    expected_owner = [
        row(profile, State.INVITED, Position.INVITED),
        row(profile, State.PROCESSING, Position.OWNER),
        row(profile, State.PROCESSING, Position.OWNER_CONSULTANT_INVITED),
        row(profile, State.PROCESSING, Position.OWNER),
    ]
    expected_consultant = [
        row(profile, State.INVITED, Position.INVITED),
        row(profile, State.COMPLETED, Position.COMPLETED),
    ]
    got = status_changes(owner, profile, chat.id)
    expect.that(got == expected_owner, "STATE-01", f"owner: {expected_owner}", got)
    got = status_changes(consultant, profile, chat.id)
    expect.that(got == expected_consultant, "STATE-01", f"consultant: {expected_consultant}", got)


# ---- STATE-02: everything outside the capabilities is refused with 2 and changes nothing ------------


async def refuse_outside(agent, chat_id: str, position: Position, profile, spare_agent_id: str) -> None:
    before = await agent.client.get_interaction(chat_id)
    since = agent.notifications.mark()
    allowed = profile.capabilities(position)
    for op in INTERACTION_OPERATIONS:
        if op in allowed:
            continue
        reply = await agent.client.perform(chat_id, op, **valid_fields(op, profile, spare_agent_id))
        expect.failure(reply, "STATE-02", NOT_VALID, profile)
    await expect.nothing_about(agent, chat_id, "STATE-02", since=since)
    after = await agent.client.get_interaction(chat_id)
    expect.that(after.body == before.body, "STATE-02", before.body, after.body)


@pytest.mark.requirement("STATE-02")
async def test_invited_agent_operation_outside_capabilities_is_refused(invited_chat, agent_c, profile):
    await refuse_outside(invited_chat.owner, invited_chat.id, Position.INVITED, profile, agent_c.account.id)


@pytest.mark.requirement("STATE-02")
async def test_owner_operation_outside_capabilities_is_refused(accepted_chat, agent_c, profile):
    await refuse_outside(accepted_chat.owner, accepted_chat.id, Position.OWNER, profile, agent_c.account.id)


@pytest.mark.requirement("STATE-02")
async def test_owner_with_consultant_invited_operation_outside_capabilities_is_refused(
    consultation_invited, agent_c, profile
):
    chat = consultation_invited
    await refuse_outside(chat.owner, chat.id, Position.OWNER_CONSULTANT_INVITED, profile, agent_c.account.id)
    await refuse_outside(chat.consultant, chat.id, Position.INVITED, profile, agent_c.account.id)


@pytest.mark.requirement("STATE-02")
async def test_owner_and_consultant_operation_outside_capabilities_is_refused(
    consultation_joined, agent_c, profile
):
    chat = consultation_joined
    await refuse_outside(chat.owner, chat.id, Position.OWNER_CONSULTANT_JOINED, profile, agent_c.account.id)
    await refuse_outside(chat.consultant, chat.id, Position.CONSULTANT, profile, agent_c.account.id)


@pytest.mark.requirement("STATE-02")
async def test_conference_member_operation_outside_capabilities_is_refused(conference, agent_c, profile):
    for agent in (conference.owner, conference.consultant):
        await refuse_outside(agent, conference.id, Position.CONFERENCE_MEMBER, profile, agent_c.account.id)


# ---- STATE-03: every capability succeeds with valid parameters ------------------------------------


# One chat performs, one after another, the operations that leave the agent where it is, then
# StopProcessing, which ends its part. The other capabilities move the chat on (Accept, Reject, Transfer,
# the consultation steps): each is the step under test of its own operation's tests.
KEEPS_POSITION = [Operation.SEND_MESSAGE, Operation.SEND_NOTIFICATION, Operation.REQUEST_CHAT_HISTORY]
IN_TURN = [*KEEPS_POSITION, Operation.STOP_PROCESSING]


async def allowed_succeed(
    agent, chat_id: str, position: Position, ops: list[Operation], profile, spare_agent_id: str
) -> None:
    """Those of `ops` that the profile's table allows in `position` succeed, in this order."""
    allowed = profile.capabilities(position)
    for op in ops:
        if op not in allowed:
            continue
        reply = await agent.client.perform(chat_id, op, **valid_fields(op, profile, spare_agent_id))
        expect.success(reply, "STATE-03")


@pytest.mark.requirement("STATE-03")
async def test_invited_agent_accept_succeeds(invited_chat, agent_c, profile):
    chat = invited_chat
    await allowed_succeed(
        chat.owner, chat.id, Position.INVITED, [Operation.ACCEPT], profile, agent_c.account.id
    )


@pytest.mark.requirement("STATE-03")
async def test_owner_capabilities_succeed(accepted_chat, agent_c, profile):
    chat = accepted_chat
    await allowed_succeed(chat.owner, chat.id, Position.OWNER, IN_TURN, profile, agent_c.account.id)


@pytest.mark.requirement("STATE-03")
async def test_owner_with_consultant_invited_capabilities_succeed(consultation_invited, agent_c, profile):
    chat, position = consultation_invited, Position.OWNER_CONSULTANT_INVITED
    await allowed_succeed(chat.owner, chat.id, position, KEEPS_POSITION, profile, agent_c.account.id)


@pytest.mark.requirement("STATE-03")
async def test_consultant_capabilities_succeed(consultation_joined, agent_c, profile):
    chat, position = consultation_joined, Position.OWNER_CONSULTANT_JOINED
    await allowed_succeed(chat.owner, chat.id, position, KEEPS_POSITION, profile, agent_c.account.id)
    await allowed_succeed(chat.consultant, chat.id, Position.CONSULTANT, IN_TURN, profile, agent_c.account.id)


@pytest.mark.requirement("STATE-03")
async def test_conference_member_capabilities_succeed(conference, agent_c, profile):
    chat, position = conference, Position.CONFERENCE_MEMBER
    await allowed_succeed(chat.consultant, chat.id, position, KEEPS_POSITION, profile, agent_c.account.id)
    await allowed_succeed(chat.owner, chat.id, position, IN_TURN, profile, agent_c.account.id)


@pytest.mark.requirement("STATE-03")
async def test_after_customer_left_capabilities_succeed(accepted_chat, agent_c, profile):
    chat, owner = accepted_chat, accepted_chat.owner
    mark = owner.notifications.mark()
    await chat.customer.disconnect()
    await wait_status(owner, profile, chat.id, "STATE-01", mark, State.PROCESSING, Position.CUSTOMER_LEFT)
    await allowed_succeed(owner, chat.id, Position.CUSTOMER_LEFT, IN_TURN, profile, agent_c.account.id)


# ---- STATE-04 / STATE-05 ---------------------------------------------------------------------------


@pytest.mark.requirement("STATE-04")
async def test_rejected_chat_is_never_offered_again_to_the_rejecter(chats, agent_a, agent_b, profile):
    skill = agent_b.account.skills[0] if agent_b.account.skills else None
    chat = await chats.invited(agent_a, skill, first=None)
    await agent_a.reject(chat.id)  # its Completed: REJECT-01
    since = agent_a.notifications.mark()
    await agent_b.wait_invitation(chat.tag, requirement="STATE-04")
    await expect.nothing_about(agent_a, chat.id, "STATE-04", since=since)
    got = status_changes(agent_a, profile, chat.id)
    wanted = [
        row(profile, State.INVITED, Position.INVITED),
        row(profile, State.COMPLETED, Position.COMPLETED),
    ]
    expect.that(got == wanted, "STATE-04", wanted, got)


@pytest.mark.requirement("STATE-05")
async def test_after_completed_nothing_arrives_and_every_operation_fails(
    consultation_joined, agent_c, profile
):
    # The consultant leaves while the chat goes on: it must hear nothing more of it.
    chat, consultant = consultation_joined, consultation_joined.consultant
    mark = consultant.notifications.mark()
    expect.success(await consultant.client.perform(chat.id, Operation.STOP_PROCESSING), "STATE-03")
    await wait_status(consultant, profile, chat.id, "STATE-05", mark, State.COMPLETED, Position.COMPLETED)
    since = consultant.notifications.mark()
    await chat.customer.send("after the consultant left")
    await chat.owner.send_message(chat.id, "the owner goes on")
    for op in INTERACTION_OPERATIONS:
        reply = await consultant.client.perform(chat.id, op, **valid_fields(op, profile, agent_c.account.id))
        expect.failure(reply, "STATE-05", GONE, profile)
    await expect.nothing_about(consultant, chat.id, "STATE-05", since=since)
