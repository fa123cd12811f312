"""The state-named fixtures, run through the project's plugin against the embedded reference server."""

from __future__ import annotations

from conformance import expect, match
from conformance.actors import Agent
from conformance.chats import Chat
from conformance.protocol import Position, State


async def test_invited_chat_is_invited(invited_chat: Chat) -> None:
    reply = await invited_chat.owner.client.get_interaction(invited_chat.id)
    assert (reply.body or {})["interaction"]["state"] == "Invited"


async def test_accepted_chat_messages_both_ways(accepted_chat: Chat) -> None:
    await accepted_chat.owner.send_message(accepted_chat.id, "hi")
    await accepted_chat.customer.wait_for_message(lambda m: m.get("text") == "hi")


async def test_conference_both_members(conference: Chat, agent_a: Agent) -> None:
    assert conference.consultant is not None
    since = agent_a.notifications.mark()
    await conference.consultant.send_message(conference.id, "from b")
    await expect.notification(
        agent_a,
        "COMPLETE-CONFERENCE-02",
        match.new_message(agent_a.profile, conference.id, text="from b"),
        "b's text",
        since,
    )
    await conference.customer.wait_for_message(lambda m: m.get("text") == "from b")
    n = agent_a.notifications.about(conference.id)
    caps = match.status_change(agent_a.profile, conference.id, State.PROCESSING, Position.CONFERENCE_MEMBER)
    assert any(caps(x) is None for x in n)


async def test_cleanup_left_no_interactions(agents: tuple[Agent, ...]) -> None:
    for agent in agents:
        reply = await agent.client.list_interactions()
        assert reply.status_code == 0
        assert (reply.body or {}).get("uris", []) == [], agent.name
