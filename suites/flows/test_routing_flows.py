"""Routing against the agents' channel state: a NotReady agent is not invited, a queued chat is offered
when its agent becomes Ready, and EndContactCenterSession re-routes a pending invitation.
Every agent a test changes is put back (session started, Ready) by the `chats` fixture.
"""

from __future__ import annotations

import pytest

from conformance.api import (
    TAG_KEY,
    ChatMessageType,
    Position,
    State,
    accept_history,
    customer_sees,
    expect,
    sole_holder_or_skip,
    texts,
)
from conformance.api import (
    match as m,
)

pytestmark = pytest.mark.sequence_diagram


@pytest.mark.requirement("SESSION-02")
async def test_not_ready_agent_is_not_invited_until_it_becomes_ready(chats, agent_a, profile):
    a, p = agent_a, profile
    await chats.set_ready(a, False)
    tag = chats.new_tag()
    since = a.notifications.mark()
    customer = await chats.customer(tag, a)
    await customer.send("while nobody is ready")
    until = await a.barrier(requirement="SESSION-02", ready=False)
    invited = m.status_change(p, None, State.INVITED, user_data=(TAG_KEY, tag))
    early = [n.brief() for n in a.notifications.since(since, until) if invited(n) is None]
    expect.that(not early, "SESSION-02", "no invitation while the agent is NotReady", early)

    await chats.set_ready(a, True)
    cid = await a.wait_invitation(tag, requirement="SESSION-02", since=until)
    chats.adopt(cid, tag, customer, a)
    notes = await a.accept(cid, nickname=a.name)
    said = texts(p, accept_history(notes))
    # What the Accept history holds is ACCEPT-03's; SESSION-02's evidence is the invitation after Ready.
    wanted = ["while nobody is ready"]
    expect.that(said == wanted, "ACCEPT-03", "the queued chat's message in the history", said)
    await a.send_message(cid, "sorry for the wait")
    await customer_sees(customer, p, "SESSION-02", ChatMessageType.TEXT, "sorry for the wait", a.name)


@pytest.mark.requirement("SESSION-02", "STATE-04")
async def test_end_session_withdraws_a_pending_invitation_and_reroutes_it(chats, agents, agent_a, profile):
    a, p = agent_a, profile
    skill, x = sole_holder_or_skip(agents, a)
    since_x = x.notifications.mark()
    chat = await chats.invited(a, skill=skill, first="customer 1")
    cid = chat.id
    since_a = a.notifications.mark()
    await chats.end_session(a)
    await expect.notification(
        a,
        "STATE-04",
        m.status_change(p, cid, State.COMPLETED, Position.COMPLETED),
        "the withdrawal of its invitation",
        since_a,
    )
    await x.wait_invitation(chat.tag, requirement="SESSION-02", since=since_x)
    notes = await x.accept(cid, nickname=x.name)
    said = texts(p, accept_history(notes))
    expect.that(said == ["customer 1"], "ACCEPT-03", "the re-routed chat's history intact", said)
    await x.send_message(cid, "taking over")
    await customer_sees(chat.customer, p, "SESSION-02", ChatMessageType.TEXT, "taking over", x.name)
    await chats.set_ready(a, True)  # starts the session again (profile section 4)
    await expect.exactly_in_order(
        a,
        cid,
        "STATE-04",
        since_a,
        [m.status_change(p, cid, State.COMPLETED, Position.COMPLETED)],
        "withdrawn, never invited again",
    )
