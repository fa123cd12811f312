"""Section 4: the agent session, Ready/NotReady, routing to Ready agents, the interactions list."""

from __future__ import annotations

import pytest

from conformance.api import (
    INTERACTION,
    TAG_KEY,
    ChannelState,
    Field,
    Operation,
    State,
    Status,
    expect,
    match,
)


@pytest.mark.requirement("SESSION-01")
async def test_start_session_twice_and_ready_not_ready_are_confirmed(agent_c, paths, profile):
    agent = agent_c
    start = agent.client.body(Operation.START_SESSION, {Field.CHANNELS: [agent.profile.media]})
    for _ in range(2):  # starting again while started is 0 and changes nothing
        expect.success(await agent.client.post_json(paths.me, start), "SESSION-01")
    try:
        for state, call in (
            (ChannelState.NOT_READY, agent.client.set_not_ready),
            (ChannelState.NOT_READY, agent.client.set_not_ready),
            (ChannelState.READY, agent.client.set_ready),
        ):
            mark = agent.notifications.mark()
            expect.success(await call(), "SESSION-01")
            await expect.notification(
                agent,
                "SESSION-01",
                match.channel_state(profile, state),
                f"ChannelStateChanged {state}",
                since=mark,
            )
    finally:
        await agent.client.set_ready()


@pytest.mark.requirement("SESSION-01")
async def test_ready_on_a_fresh_session_is_confirmed(own_session_agent, profile):
    # Its own session and Bayeux client (not the shared agents), so a missing confirmation fails here.
    agent = own_session_agent
    mark = agent.notifications.mark()
    expect.success(await agent.client.set_ready(), "SESSION-01")
    await expect.notification(
        agent,
        "SESSION-01",
        match.channel_state(profile, ChannelState.READY),
        "ChannelStateChanged Ready",
        since=mark,
    )


@pytest.mark.requirement("SESSION-02")
@pytest.mark.parametrize("leaving", ["not-ready", "session-ended"])
async def test_not_ready_agent_is_not_invited_until_ready(agent_c, chats, profile, leaving):
    """Section 4: a NotReady agent, or one whose session has ended (EndContactCenterSession), is not
    invited; the chat waits and is offered once the agent is Ready."""
    agent = agent_c
    if leaving == "not-ready":
        await chats.set_ready(agent, False)
    else:
        await chats.end_session(agent)
    tag = chats.new_tag()
    since = agent.notifications.mark()
    customer = await chats.customer(tag, agent)
    # A barrier that keeps the agent NotReady: its echo comes after any invitation.
    until = await agent.barrier(requirement="SESSION-01", ready=False)
    invited = match.status_change(profile, None, user_data=(TAG_KEY, tag))
    stray = [n.brief() for n in agent.notifications.since(since, until) if invited(n) is None]
    expect.that(not stray, "SESSION-02", f"no invitation while {leaving}", stray)
    await chats.set_ready(agent, True)
    chats.adopt(await agent.wait_invitation(tag), tag, customer, agent)


@pytest.mark.requirement("SESSION-02")
async def test_ending_the_session_leaves_the_chats_in_progress_with_the_agent(accepted_chat, chats, profile):
    """Section 4: EndContactCenterSession withdraws the pending invitations only; the chats the agent is
    working on stay with it (no StatusChange Completed, and it goes on sending)."""
    chat, agent = accepted_chat, accepted_chat.owner
    since = agent.notifications.mark()
    await chats.end_session(agent)
    until = await agent.barrier(requirement="SESSION-01", ready=False)  # keeps it NotReady
    completed = match.status_change(profile, chat.id, State.COMPLETED)
    ended = [n.brief() for n in agent.notifications.since(since, until) if completed(n) is None]
    expect.that(not ended, "SESSION-02", "no StatusChange Completed for the chat in progress", ended)
    await agent.send_message(chat.id, "still with you", requirement="SESSION-02")


@pytest.mark.requirement("SESSION-03")
async def test_interactions_list_and_get_show_the_current_chat(accepted_chat, target, paths):
    agent, chat = accepted_chat.owner, accepted_chat
    listed = expect.success(await agent.client.list_interactions(), "SESSION-03")
    uris = (listed.body or {}).get("uris")
    expect.that(
        isinstance(uris, list) and all(isinstance(u, str) for u in uris),
        "SESSION-03",
        "uris: a list of strings",
        listed.body,
    )
    mine = [u for u in uris if u.rstrip("/").endswith("/" + chat.id)]
    expect.that(len(mine) == 1, "SESSION-03", f"one uri ending in /{chat.id}", uris)
    expect.that(
        mine[0].startswith(("http://", "https://")) and paths.interaction(chat.id) in mine[0],
        "SESSION-03",
        f"an absolute URL of {paths.interaction(chat.id)}",
        mine[0],
    )
    full = expect.success(await agent.client.list_interactions(all_fields=True), "SESSION-03")
    objects = (full.body or {}).get("interactions")
    expect.that(
        isinstance(objects, list) and any(isinstance(o, dict) and o.get("id") == chat.id for o in objects),
        "SESSION-03",
        f"interactions holding {chat.id}",
        full.body,
    )
    one = expect.success(await agent.client.get_interaction(chat.id), "SESSION-03")
    inter = (one.body or {}).get(INTERACTION)
    expect.that(
        isinstance(inter, dict) and inter.get("id") == chat.id,
        "SESSION-03",
        f"interaction {chat.id}",
        one.body,
    )


@pytest.mark.requirement("SESSION-03")
async def test_get_unknown_interaction_is_not_found(agent_a, profile):
    reply = await agent_a.client.get_interaction("no-such-interaction-0")
    expect.failure(reply, "SESSION-03", Status.NOT_FOUND, profile)
