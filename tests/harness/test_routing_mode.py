"""The harness's routing modes, through the project's plugin against the embedded reference server (which
honours hints): with `one-ready-agent` the ChatBook sends no RouteToAgent/RouteToSkill at all and still
gets each chat to the agent it needs (only that one is Ready while it is routed); with `hints` a chat
that reaches another agent than the one named is a RoutingModeMismatch at once."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from conformance.actors import Agent, Customer
from conformance.chats import ONE_READY_AGENT, ChatBook, RoutingModeMismatch, next_by_shared_skill
from conformance.protocol import ChannelState, Operation, RoutingKey
from conformance.transcript import Transcript


async def test_one_ready_agent_sends_no_hints_and_reaches_each_agent(
    agents: tuple[Agent, ...], make_customer: Callable[..., Customer], transcript: Transcript, tag: str
) -> None:
    start = transcript.mark()
    book = ChatBook(transcript, agents, make_customer, tag, routing=ONE_READY_AGENT)
    try:
        for owner in reversed(agents):  # the last agent first: the server's own pick would be the first
            chat = await book.invited(owner)
            assert chat.owner is owner
            assert owner.name not in book.not_ready  # the others were made Ready again once it was invited
        moving = await book.moving(agents[0], next_by_shared_skill)
        others = {a.name for a in agents} - {moving.first.name, moving.next.name}
        assert book.parked == others  # only the agent the chat may move on to is Ready
        await moving.first.client.perform(moving.id, Operation.REJECT)
        await moving.next.wait_invitation(moving.tag, since=0)
    finally:
        await book.close()
    sent = transcript.render(start)
    profile = agents[0].profile
    assert profile.wire(RoutingKey.TO_AGENT) not in sent and profile.wire(RoutingKey.TO_SKILL) not in sent
    ready = [a.notifications.channel_states()[-1].data["channels"][0]["userState"]["state"] for a in agents]
    assert ready == [profile.wire(ChannelState.READY)] * len(agents)  # close() put every agent back


async def test_hints_mode_stops_at_a_chat_that_reached_another_agent(
    agents: tuple[Agent, ...], make_customer: Callable[..., Customer], transcript: Transcript, tag: str
) -> None:
    book = ChatBook(transcript, agents, make_customer, tag)
    named, other = agents[1], agents[0]
    # routed to `other` (as a hint-blind server would), while the harness believes it named `named`
    customer = await book.customer(f"{tag}-x", other)
    book.hinted[-1] = (f"{tag}-x", named, book.hinted[-1][2])
    try:
        await customer.send("hello")
        await other.wait_invitation(f"{tag}-x")
        expected = f'RouteToAgent={named.name} to {other.name}.*set routing = "one-ready-agent" in the target'
        with pytest.raises(RoutingModeMismatch, match=expected):
            book.check_hints()
    finally:
        await book.close()
