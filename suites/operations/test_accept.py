"""Accept (profile section 7): ACCEPT-01..05."""

from __future__ import annotations

import pytest

from conformance.api import (
    OMIT,
    ChatMessageType,
    Operation,
    Position,
    State,
    Status,
    Visibility,
    brief,
    expect,
    match,
    messages_in,
    perform_escaped,
    perform_refused,
    refused_without_effect,
    sender_nickname,
    snapshot,
    texts,
    type_of,
    visibility_of,
)


@pytest.mark.requirement("ACCEPT-01")
async def test_accept_invitation_makes_the_agent_owner(invited_chat, profile):
    agent = invited_chat.owner
    since = agent.notifications.mark()
    reply = await agent.client.perform(invited_chat.id, Operation.ACCEPT)
    expect.success(reply, "ACCEPT-01")
    await expect.notification(
        agent,
        "ACCEPT-01",
        match.status_change(
            profile, invited_chat.id, state=State.PROCESSING, capabilities=Position.OWNER
        ),
        "StatusChange Processing with exactly the owner capabilities",
        since=since,
    )


@pytest.mark.requirement("ACCEPT-01")
async def test_accept_consultation_invitation_makes_the_agent_consultant(consultation_invited, profile):
    consultant = consultation_invited.consultant
    since = consultant.notifications.mark()
    reply = await consultant.client.perform(consultation_invited.id, Operation.ACCEPT)
    expect.success(reply, "ACCEPT-01")
    await expect.notification(
        consultant,
        "ACCEPT-01",
        match.status_change(
            profile,
            consultation_invited.id,
            state=State.PROCESSING,
            capabilities=Position.CONSULTANT,
        ),
        "StatusChange Processing with exactly the consultant capabilities",
        since=since,
    )


@pytest.mark.requirement("ACCEPT-02")
async def test_accept_notifies_status_then_participants_then_history(invited_chat, profile):
    agent = invited_chat.owner
    since = agent.notifications.mark()
    reply = await agent.client.perform(invited_chat.id, Operation.ACCEPT)
    expect.success(reply, "ACCEPT-02")
    await expect.next_in_order(
        agent,
        invited_chat.id,
        "ACCEPT-02",
        [
            match.status_change(profile, invited_chat.id, state=State.PROCESSING),
            match.participants_updated(profile, invited_chat.id),
            match.chat_history(profile, invited_chat.id),
        ],
        since=since,
    )


@pytest.mark.requirement("ACCEPT-03")
async def test_accept_history_holds_every_customer_message_then_the_join(invited_chat, profile):
    agent, customer = invited_chat.owner, invited_chat.customer
    for text in ("second message", "third message"):
        await customer.send(text)
    sent = texts(profile, await customer.chat_messages(requirement=None))
    since = agent.notifications.mark()
    reply = await agent.client.perform(invited_chat.id, Operation.ACCEPT, nickname="Agent Smith")
    expect.success(reply, "ACCEPT-03")
    history = await expect.notification(
        agent,
        "ACCEPT-03",
        match.chat_history(profile, invited_chat.id),
        "the ChatHistory of the accept",
        since=since,
    )
    messages = messages_in(history.data)
    expect.that(
        len(sent) == 3 and texts(profile, messages) == sent,
        "ACCEPT-03",
        f"the customer's messages {sent}, in order",
        brief(profile, messages),
    )
    last = messages[-1] if messages else {}
    expect.that(
        type_of(profile, last) == ChatMessageType.PARTICIPANT_JOINED
        and sender_nickname(last) == "Agent Smith",
        "ACCEPT-03",
        "the history ends with this agent's ParticipantJoined",
        brief(profile, messages[-1:]),
    )


@pytest.mark.requirement("ACCEPT-01")
@pytest.mark.parametrize("nickname", [None, "Agent ☃ 😀"], ids=["default", "given"])
async def test_accept_shows_the_customer_the_agents_join(nickname, invited_chat, profile):
    agent, customer = invited_chat.owner, invited_chat.customer
    reply = await agent.client.perform(
        invited_chat.id, Operation.ACCEPT, nickname=OMIT if nickname is None else nickname
    )
    expect.success(reply, "ACCEPT-01")
    expected = nickname or await _first_name(agent)
    seen = await customer.chat_messages(requirement=None)
    joins = [
        m
        for m in seen
        if type_of(profile, m) == ChatMessageType.PARTICIPANT_JOINED
        and sender_nickname(m) == expected
        and visibility_of(profile, m) == Visibility.ALL
    ]
    expect.that(
        len(joins) == 1,
        "ACCEPT-01",
        f"the customer sees one ParticipantJoined of {expected!r}",
        brief(profile, seen),
    )


@pytest.mark.requirement("ACCEPT-04", "STATUS-05")
async def test_accept_of_an_accepted_chat_fails_as_invalid_parameter(accepted_chat):
    agent = accepted_chat.owner
    await perform_refused(agent, accepted_chat.id, Operation.ACCEPT, "ACCEPT-04", Status.INVALID_PARAMETER)


@pytest.mark.requirement("ACCEPT-04")
async def test_accept_of_a_completed_chat_fails_as_invalid_parameter_or_not_found(accepted_chat):
    agent = accepted_chat.owner
    await agent.stop(accepted_chat.id)
    since = agent.notifications.mark()
    reply = await agent.client.perform(accepted_chat.id, Operation.ACCEPT)
    expect.failure(reply, "ACCEPT-04", {Status.INVALID_PARAMETER, Status.NOT_FOUND}, agent.profile)
    await expect.nothing_about(agent, accepted_chat.id, "ACCEPT-04", since=since)


@pytest.mark.requirement("ACCEPT-04")
async def test_accept_of_an_unknown_interaction_fails_as_not_found(agent_a, tag):
    reply = await agent_a.client.perform(f"no-such-interaction-{tag}", Operation.ACCEPT)
    expect.failure(reply, "ACCEPT-04", Status.NOT_FOUND, agent_a.profile)


@pytest.mark.requirement("ACCEPT-05", "STATUS-05")
@pytest.mark.parametrize(
    "nickname",
    [42, "", "n" * 4097, "😀" * 4097, None, ["Bob"], "\ud800"],
    ids=["number", "empty", "4097-chars", "4097-astral", "null", "list", "lone-surrogate"],
)
async def test_accept_with_an_invalid_nickname_fails_as_invalid_parameter(nickname, invited_chat):
    agent = invited_chat.owner
    before = await snapshot(agent, invited_chat.id)
    since = agent.notifications.mark()
    reply = await perform_escaped(agent, invited_chat.id, Operation.ACCEPT, nickname=nickname)
    await refused_without_effect(
        agent, invited_chat.id, reply, "ACCEPT-05", Status.INVALID_PARAMETER, before=before, since=since
    )


@pytest.mark.requirement("ACCEPT-05")
async def test_accept_with_a_nickname_of_4096_code_points_succeeds(invited_chat, profile):
    agent = invited_chat.owner
    reply = await agent.client.perform(invited_chat.id, Operation.ACCEPT, nickname="😀" * 4096)
    expect.success(reply, "ACCEPT-05")


async def _first_name(agent):
    """The agent's first name as GET /me tells it: the default nickname."""
    user = ((await agent.client.me()).body or {}).get("user") or {}
    return user.get("firstName")
