"""Reject (profile section 7): REJECT-01..03."""

from __future__ import annotations

import pytest

from conformance.api import (
    TAG_KEY,
    ChatMessageType,
    Operation,
    Position,
    State,
    Status,
    brief,
    expect,
    match,
    messages_in,
    perform_refused,
    texts,
    type_of,
)


@pytest.mark.requirement("REJECT-01")
async def test_reject_invitation_completes_it_for_the_agent(chat_to_colleague, profile):
    agent, customer = chat_to_colleague.first, chat_to_colleague.customer
    shown = await customer.chat_messages(requirement=None)
    since = agent.notifications.mark()
    reply = await agent.client.perform(chat_to_colleague.id, Operation.REJECT)
    expect.success(reply, "REJECT-01")
    await expect.next_in_order(
        agent,
        chat_to_colleague.id,
        "REJECT-01",
        [
            match.status_change(
                profile, chat_to_colleague.id, state=State.COMPLETED, capabilities=Position.COMPLETED
            ),
        ],
        since=since,
    )
    after = await customer.chat_messages(requirement=None)
    expect.that(after == shown, "REJECT-01", "the customer sees nothing of the reject", brief(profile, after))


@pytest.mark.requirement("REJECT-02")
async def test_reject_offers_the_chat_to_another_agent_with_its_history(chat_to_colleague, profile):
    first, colleague, customer = chat_to_colleague.first, chat_to_colleague.next, chat_to_colleague.customer
    sent = texts(profile, await customer.chat_messages(requirement=None))
    since_first, since_next = first.notifications.mark(), colleague.notifications.mark()
    reply = await first.client.perform(chat_to_colleague.id, Operation.REJECT)
    expect.success(reply, "REJECT-02")
    await expect.notification(
        colleague,
        "REJECT-02",
        match.status_change(
            profile,
            chat_to_colleague.id,
            State.INVITED,
            Position.INVITED,
            user_data=(TAG_KEY, chat_to_colleague.tag),
        ),
        f"the chat offered to {colleague.name}",
        since=since_next,
    )
    done = await expect.next_in_order(  # the rejecter's own Completed is REJECT-01's
        first,
        chat_to_colleague.id,
        "REJECT-01",
        [
            match.status_change(profile, chat_to_colleague.id, State.COMPLETED),
        ],
        since=since_first,
    )
    accepted = await colleague.accept(chat_to_colleague.id, requirement="REJECT-02")
    messages = messages_in(accepted[-1].data)
    last = messages[-1] if messages else {}
    expect.that(
        texts(profile, messages) == sent and type_of(profile, last) == ChatMessageType.PARTICIPANT_JOINED,
        "REJECT-02",
        f"the history holds the customer's messages {sent}, then the new owner's join",
        brief(profile, messages),
    )
    expect.that(
        len([m for m in messages if type_of(profile, m) == ChatMessageType.PARTICIPANT_JOINED]) == 2,
        "REJECT-02",
        "no join of the agent that rejected",
        brief(profile, messages),
    )
    # The agent that rejected is never offered the chat again.
    await expect.nothing_about(first, chat_to_colleague.id, "REJECT-02", since=done[-1].seq + 1)


@pytest.mark.requirement("REJECT-03", "STATUS-05")
async def test_reject_after_accept_fails_as_invalid_parameter(accepted_chat):
    agent = accepted_chat.owner
    await perform_refused(agent, accepted_chat.id, Operation.REJECT, "REJECT-03", Status.INVALID_PARAMETER)
