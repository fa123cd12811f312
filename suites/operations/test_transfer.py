"""Transfer (profile section 7): TRANSFER-01..04."""

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
    index_of,
    live_view,
    match,
    messages_in,
    perform_refused,
    rejected_to_next,
    sender_nickname,
    type_of,
    visibility_of,
)


def _invited(profile, chat_id, tag):
    return match.status_change(profile, chat_id, State.INVITED, Position.INVITED, user_data=(TAG_KEY, tag))


@pytest.mark.requirement("TRANSFER-01")
async def test_transfer_to_a_ready_agent_completes_the_initiator_and_invites_the_target(
    chat_to_colleague, profile
):
    owner, target_agent = chat_to_colleague.first, chat_to_colleague.next
    await owner.accept(chat_to_colleague.id)
    since_owner, since_target = owner.notifications.mark(), target_agent.notifications.mark()
    reply = await owner.client.perform(chat_to_colleague.id, Operation.TRANSFER, agent_id=target_agent.id)
    expect.success(reply, "TRANSFER-01")
    await expect.next_in_order(
        owner,
        chat_to_colleague.id,
        "TRANSFER-01",
        [
            match.status_change(profile, chat_to_colleague.id, State.COMPLETED, Position.COMPLETED),
        ],
        since=since_owner,
    )
    await expect.notification(
        target_agent,
        "TRANSFER-01",
        _invited(profile, chat_to_colleague.id, chat_to_colleague.tag),
        f"{target_agent.name} invited",
        since=since_target,
    )
    await expect.nothing_about(owner, chat_to_colleague.id, "TRANSFER-01", since=since_owner + 1)
    seen = await chat_to_colleague.customer.chat_messages(requirement=None)
    last = seen[-1] if seen else {}
    expect.that(
        type_of(profile, last) == ChatMessageType.PARTICIPANT_LEFT
        and visibility_of(profile, last) == Visibility.ALL,
        # The initiator's ParticipantLeft is the event TRANSFER-03 requires of the chat ("including the
        # initiator's ParticipantLeft"); a chat without it fails that, not the transfer's three effects.
        "TRANSFER-03",
        "the customer sees the initiator's ParticipantLeft",
        brief(profile, seen),
    )


@pytest.mark.requirement("TRANSFER-02")
async def test_transfer_to_a_skill_invites_an_agent_with_that_skill(chat_to_specialist, profile):
    owner, specialist = chat_to_specialist.first, chat_to_specialist.next
    await owner.accept(chat_to_specialist.id)
    since = specialist.notifications.mark()
    reply = await owner.client.perform(
        chat_to_specialist.id, Operation.TRANSFER, skill=chat_to_specialist.skill
    )
    expect.success(reply, "TRANSFER-02")
    await expect.notification(
        specialist,
        "TRANSFER-02",
        _invited(profile, chat_to_specialist.id, chat_to_specialist.tag),
        f"{specialist.name}, the one Ready agent with skill {chat_to_specialist.skill}, invited",
        since=since,
    )


@pytest.mark.requirement("TRANSFER-03")
async def test_transfer_gives_the_new_owner_the_whole_conversation(chat_to_colleague, profile):
    owner, target_agent, customer = (
        chat_to_colleague.first,
        chat_to_colleague.next,
        chat_to_colleague.customer,
    )
    await owner.accept(chat_to_colleague.id)
    await owner.send_message(chat_to_colleague.id, "let me pass you on")
    await customer.send("thanks")
    await expect.notification(
        owner,
        "TRANSFER-03",
        match.new_message(profile, chat_to_colleague.id, text="thanks"),
        "the customer's thanks",
    )
    before = live_view(profile, owner, chat_to_colleague.id)
    since = target_agent.notifications.mark()
    # The transfer itself (0, the initiator Completed, the target invited) is TRANSFER-01's premise.
    await owner.transfer(chat_to_colleague.id, agent_id=target_agent.id)
    await target_agent.wait_invitation(chat_to_colleague.tag, requirement="TRANSFER-01", since=since)
    accepted = await target_agent.accept(chat_to_colleague.id, requirement="TRANSFER-03")
    history = messages_in(accepted[-1].data)
    n = len(before)
    owner_name = next(
        (
            sender_nickname(m)
            for m in reversed(before)
            if type_of(profile, m) == ChatMessageType.PARTICIPANT_JOINED
        ),
        None,
    )
    tail = [type_of(profile, m) for m in history[n:]]
    left = [sender_nickname(m) for m in history[n : n + 1]]
    expect.that(
        brief(profile, history[:n]) == brief(profile, before),
        "TRANSFER-03",
        f"the history starts with everything so far: {brief(profile, before)}",
        brief(profile, history),
    )
    expect.that(
        tail == [ChatMessageType.PARTICIPANT_LEFT, ChatMessageType.PARTICIPANT_JOINED]
        and left == [owner_name]
        and [index_of(m) for m in history] == list(range(1, len(history) + 1)),
        "TRANSFER-03",
        "then the initiator's ParticipantLeft and the new owner's join, indexes 1..n",
        brief(profile, history),
    )


@pytest.mark.requirement("TRANSFER-04", "STATUS-05")
@pytest.mark.parametrize(
    ("how", "status"),
    [
        ("neither", Status.MISSING_PARAMETER),
        ("both", Status.INVALID_PARAMETER),
        ("unknown-agent", Status.INVALID_PARAMETER),
        ("unknown-skill", Status.INVALID_PARAMETER),
        ("itself", Status.INVALID_PARAMETER),
        ("empty-agent", Status.INVALID_PARAMETER),
        ("null-agent", Status.INVALID_PARAMETER),
        ("number-skill", Status.INVALID_PARAMETER),
    ],
)
async def test_transfer_with_a_bad_target_fails_and_changes_nothing(how, status, accepted_chat, agent_b, tag):
    agent = accepted_chat.owner
    fields = {
        "neither": {},
        "both": {"agent_id": agent_b.id, "skill": (agent_b.account.skills or ("x",))[0]},
        "unknown-agent": {"agent_id": f"no-such-agent-{tag}"},
        "unknown-skill": {"skill": f"no-such-skill-{tag}"},
        "itself": {"agent_id": agent.id},
        "empty-agent": {"agent_id": ""},
        "null-agent": {"agent_id": None},
        "number-skill": {"skill": 7},
    }[how]
    await perform_refused(agent, accepted_chat.id, Operation.TRANSFER, "TRANSFER-04", status, **fields)


@pytest.mark.requirement("TRANSFER-04", "STATUS-05")
@pytest.mark.parametrize("by", ["agent", "skill"])
async def test_transfer_to_an_agent_not_ready_fails_as_invalid_parameter(by, chat_to_specialist):
    owner, specialist = chat_to_specialist.first, chat_to_specialist.next
    await owner.accept(chat_to_specialist.id)
    await specialist.not_ready()
    try:
        fields = {"agent_id": specialist.id} if by == "agent" else {"skill": chat_to_specialist.skill}
        await perform_refused(
            owner,
            chat_to_specialist.id,
            Operation.TRANSFER,
            "TRANSFER-04",
            Status.INVALID_PARAMETER,
            **fields,
        )
    finally:
        await specialist.ready()


@pytest.mark.requirement("TRANSFER-04", "STATUS-05")
async def test_transfer_to_an_agent_already_invited_fails_as_invalid_parameter(chat_to_colleague):
    first, colleague = chat_to_colleague.first, chat_to_colleague.next
    await rejected_to_next(chat_to_colleague)
    await perform_refused(
        colleague,
        chat_to_colleague.id,
        Operation.TRANSFER,
        "TRANSFER-04",
        Status.INVALID_PARAMETER,
        agent_id=first.id,
    )
