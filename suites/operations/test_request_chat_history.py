"""RequestChatHistory (profile section 7): HISTORY-01..03."""

from __future__ import annotations

import pytest

from conformance.api import (
    OMIT,
    Operation,
    Status,
    brief,
    expect,
    index_of,
    live_view,
    match,
    messages_in,
    perform_refused,
)


async def _history(agent, chat_id, profile, requirement, **fields):
    """Request the history and return its messages (reply 0, then a ChatHistory notification)."""
    since = agent.notifications.mark()
    reply = await agent.client.perform(chat_id, Operation.REQUEST_CHAT_HISTORY, **fields)
    # A refused RequestChatHistory of an agent taking part breaks STATE-03, not the history's content.
    expect.success(reply, "STATE-03")
    found = await expect.notification(
        agent, requirement, match.chat_history(profile, chat_id), "the requested ChatHistory", since=since
    )
    return messages_in(found.data)


async def _busy_chat(chat, profile):
    """Typing and texts from both sides after the accept, all seen live by the owner."""
    owner, customer = chat.owner, chat.customer
    since = owner.notifications.mark()
    await customer.typing()
    await customer.send("from the customer")
    await owner.send_typing(chat.id, started=True)
    await owner.send_message(chat.id, "from the agent")
    await owner.send_typing(chat.id, started=False)
    await expect.notification(
        owner,
        "HISTORY-01",
        match.new_message(profile, chat.id, text="from the customer"),
        "the customer's message",
        since=since,
    )


@pytest.mark.requirement("HISTORY-01")
async def test_request_chat_history_is_complete_and_matches_the_live_view(accepted_chat, profile):
    owner = accepted_chat.owner
    await _busy_chat(accepted_chat, profile)
    # What the owner saw: its accept's ChatHistory, then every NewMessages since.
    live = live_view(profile, owner, accepted_chat.id)
    messages = await _history(owner, accepted_chat.id, profile, "HISTORY-01")
    indexes = [index_of(m) for m in messages]
    expect.that(
        indexes == list(range(1, len(messages) + 1)),
        "HISTORY-01",
        "indexes exactly 1..n, in order",
        brief(profile, messages),
    )
    # The live view starts with the Accept's ChatHistory: a gap there is that history's fault (ORDER-03).
    found = match.chat_history(profile, accepted_chat.id)
    accept = next(n for n in owner.notifications.about(accepted_chat.id) if found(n) is None)
    start = [index_of(m) for m in messages_in(accept.data)]
    expect.that(start == list(range(1, len(start) + 1)), "ORDER-03", "Accept history indexes 1..k", start)
    expect.that(
        brief(profile, live) == brief(profile, messages),
        "HISTORY-01",
        f"the history agrees with what the agent saw live: {brief(profile, live)}",
        brief(profile, messages),
    )


@pytest.mark.requirement("HISTORY-01")
async def test_request_chat_history_by_a_consultant_includes_agent_only_events(consultation_joined, profile):
    owner, consultant = consultation_joined.owner, consultation_joined.consultant
    await consultant.send_message(consultation_joined.id, "between agents")
    messages = await _history(owner, consultation_joined.id, profile, "HISTORY-01")
    mine = await _history(consultant, consultation_joined.id, profile, "HISTORY-01")
    expect.that(
        [index_of(m) for m in mine] == list(range(1, len(mine) + 1)),
        "HISTORY-01",
        "the consultant's history has indexes exactly 1..n",
        brief(profile, mine),
    )
    expect.that(
        brief(profile, mine) == brief(profile, messages),
        "HISTORY-01",
        f"the same history as the owner's: {brief(profile, messages)}",
        brief(profile, mine),
    )


@pytest.mark.requirement("HISTORY-02")
async def test_request_chat_history_from_an_event_id_starts_there(accepted_chat, profile):
    owner = accepted_chat.owner
    await _busy_chat(accepted_chat, profile)
    everything = await _history(owner, accepted_chat.id, profile, "HISTORY-02", event_id=0)
    # The slices below are judged against the whole history: a gap in it is HISTORY-01's.
    whole = [index_of(m) for m in everything]
    expect.that(whole == list(range(1, len(whole) + 1)), "HISTORY-01", "a history of indexes 1..n", whole)
    start = len(everything) - 2
    part = await _history(owner, accepted_chat.id, profile, "HISTORY-02", event_id=start)
    expect.that(
        brief(profile, part) == brief(profile, everything[start - 1 :]),
        "HISTORY-02",
        f"the events from #{start} on, inclusive: {brief(profile, everything[start - 1 :])}",
        brief(profile, part),
    )
    past = await _history(owner, accepted_chat.id, profile, "HISTORY-02", event_id=len(everything) + 1)
    expect.that(past == [], "HISTORY-02", "an empty history past the end", brief(profile, past))


@pytest.mark.requirement("HISTORY-03", "STATUS-05")
@pytest.mark.parametrize(
    "event_id",
    [-1, True, 1.0, "1", None, [1]],
    ids=["negative", "boolean", "float", "string", "null", "list"],
)
async def test_request_chat_history_with_an_invalid_event_id_fails_as_invalid_parameter(
    event_id, accepted_chat
):
    agent = accepted_chat.owner
    await perform_refused(
        agent,
        accepted_chat.id,
        Operation.REQUEST_CHAT_HISTORY,
        "HISTORY-03",
        Status.INVALID_PARAMETER,
        event_id=event_id,
    )


@pytest.mark.requirement("HISTORY-03", "STATUS-05")
async def test_request_chat_history_while_invited_fails_as_invalid_parameter(invited_chat):
    agent = invited_chat.owner
    await perform_refused(
        agent,
        invited_chat.id,
        Operation.REQUEST_CHAT_HISTORY,
        "HISTORY-03",
        Status.INVALID_PARAMETER,
        event_id=OMIT,
    )
