"""Chats that change hands or lose a party: single-step transfer (to an agent, to a skill), a reject
re-offered to another agent, consultations that go nowhere, and a customer who leaves mid-chat.
Each step checks every agent's notifications exactly, and the histories stay continuous.
"""

from __future__ import annotations

from typing import Any

import pytest

from conformance.api import (
    Agent,
    ChatBook,
    ChatMessageType,
    Operation,
    Position,
    Profile,
    Visibility,
    accept_history,
    check_customer,
    check_history_complete,
    customer_sees,
    expect,
    indexes_of,
    member_stops,
    party_checks,
    party_left,
    raise_first,
    sender_nickname,
    sole_holder_or_skip,
    status,
    texts,
    whole_chat_checks,
)
from conformance.api import (
    match as m,
)

pytestmark = pytest.mark.sequence_diagram

TEXT, JOINED, LEFT = (
    ChatMessageType.TEXT,
    ChatMessageType.PARTICIPANT_JOINED,
    ChatMessageType.PARTICIPANT_LEFT,
)
ALL, AGENTS = Visibility.ALL, Visibility.AGENTS


def kinds(p: Profile, messages: list[dict[str, Any]]) -> list[tuple[Any, Any]]:
    return [(x.get("type"), sender_nickname(x)) for x in messages]


async def _transfer_and_continue(chats: ChatBook, a: Agent, b: Agent, p: Profile, **target: str) -> None:
    """a owns a chat and transfers it (to b, or to b's skill); b accepts and carries on."""
    chat = await chats.invited(a, first="customer 1")
    cid, customer = chat.id, chat.customer
    await a.accept(cid, nickname=a.name)
    await a.send_message(cid, "agent 1")
    since_a, since_b = a.notifications.mark(), b.notifications.mark()
    requirement = "TRANSFER-02" if "skill" in target else "TRANSFER-01"
    # The initiator's StatusChange Completed is TRANSFER-01's, whichever the target.
    expect.success(await a.client.perform(cid, Operation.TRANSFER, None, **target), requirement)
    await expect.exactly_in_order(
        a, cid, "TRANSFER-01", since_a, [status(p, cid, Position.COMPLETED)], "its transfer"
    )
    await b.wait_invitation(chat.tag, requirement=requirement, since=since_b)
    await expect.exactly_in_order(
        b, cid, requirement, since_b, [status(p, cid, Position.INVITED)], "the invitation"
    )
    await customer.send("customer while transferred")

    history = accept_history(await b.accept(cid, nickname=b.name, requirement=requirement))
    want = [
        (p.wire(JOINED), "Customer"),
        (p.wire(TEXT), "Customer"),
        (p.wire(JOINED), a.name),
        (p.wire(TEXT), a.name),
        (p.wire(LEFT), a.name),
        (p.wire(TEXT), "Customer"),
        (p.wire(JOINED), b.name),
    ]
    expect.that(
        kinds(p, history) == want and indexes_of(history) == list(range(1, len(history) + 1)),
        "TRANSFER-03",
        f"the new owner's history, indexes 1..n: {want}",
        list(zip(indexes_of(history), kinds(p, history), strict=True)),
    )
    await customer_sees(customer, p, "TRANSFER-03", LEFT, nickname=a.name)  # the event TRANSFER-03 needs
    await customer_sees(customer, p, "ORDER-02", JOINED, nickname=b.name)
    await b.send_message(cid, "new owner")
    await customer_sees(customer, p, "MESSAGE-01", TEXT, "new owner", b.name)
    full = await b.request_history(cid)
    await whole_chat_checks(p, cid, [a, b], customer, full, b.name)


@pytest.mark.requirement("TRANSFER-01", "TRANSFER-03", "ORDER-02", "ORDER-03")
async def test_transfer_to_an_agent_new_owner_continues_with_the_whole_history(
    chats, agent_a, agent_b, profile
):
    await _transfer_and_continue(chats, agent_a, agent_b, profile, agent_id=agent_b.id)


@pytest.mark.requirement("TRANSFER-02", "TRANSFER-03", "ORDER-02", "ORDER-03")
async def test_transfer_to_a_skill_invites_its_agent_who_continues(chats, agents, agent_a, profile):
    skill, holder = sole_holder_or_skip(agents, agent_a)
    await _transfer_and_continue(chats, agent_a, holder, profile, skill=skill)


@pytest.mark.requirement("REJECT-01", "REJECT-02", "STATE-04", "ORDER-03")
async def test_reject_reoffers_to_the_skill_agent_whose_history_is_intact(chats, agents, agent_a, profile):
    a, p = agent_a, profile
    skill, x = sole_holder_or_skip(agents, a)
    since_x = x.notifications.mark()
    chat = await chats.invited(a, skill=skill, first="customer 1")
    cid, customer = chat.id, chat.customer
    since_a = a.notifications.mark()
    await a.reject(cid)
    await x.wait_invitation(chat.tag, requirement="REJECT-02", since=since_x)
    await customer.send("customer 2")
    history = accept_history(await x.accept(cid, nickname=x.name, requirement="REJECT-02"))
    want = [
        (p.wire(JOINED), "Customer"),
        (p.wire(TEXT), "Customer"),
        (p.wire(TEXT), "Customer"),
        (p.wire(JOINED), x.name),
    ]
    expect.that(
        kinds(p, history) == want
        and texts(p, history) == ["customer 1", "customer 2"]
        and indexes_of(history) == [1, 2, 3, 4],
        "REJECT-02",
        f"the new owner's history, nothing of the reject: {want}",
        list(zip(indexes_of(history), kinds(p, history), strict=True)),
    )
    await expect.exactly_in_order(
        a, cid, "STATE-04", since_a, [status(p, cid, Position.COMPLETED)], "never re-invited"
    )
    await x.send_message(cid, "hello from the second agent")
    await customer_sees(customer, p, "MESSAGE-01", TEXT, "hello from the second agent", x.name)
    seen = kinds(p, await customer.chat_messages())
    expect.that(
        all(nick != a.name for _, nick in seen),
        "REJECT-02",
        "the customer sees nothing of the reject",
        seen,
    )


@pytest.mark.requirement("CONSULT-03", "CUSTOMER-02", "STATE-01")
async def test_rejected_consultation_gives_the_owner_plain_capabilities(consultation_invited, profile):
    chat, p = consultation_invited, profile
    a, b, cid = chat.owner, chat.consultant, chat.id
    assert b is not None
    since_a, since_b = a.notifications.mark(), b.notifications.mark()
    await b.reject(cid)
    await expect.exactly_in_order(
        b, cid, "REJECT-01", since_b, [status(p, cid, Position.COMPLETED)], "its reject"
    )
    await expect.exactly_in_order(
        a, cid, "CONSULT-03", since_a, [status(p, cid, Position.OWNER)], "the consultant's reject"
    )
    await a.send_message(cid, "back to you")
    await customer_sees(chat.customer, p, "MESSAGE-01", TEXT, "back to you")
    nicks = {nick for _, nick in kinds(p, await chat.customer.chat_messages())}
    expect.that(b.name not in nicks, "CUSTOMER-02", "the customer sees nothing of the consultation", nicks)


@pytest.mark.requirement("STOP-01", "MESSAGE-04", "CUSTOMER-02", "ORDER-02", "ORDER-03")
async def test_consultant_leaving_gives_the_owner_plain_capabilities(chats, agent_a, agent_b, profile):
    a, b, p = agent_a, agent_b, profile
    chat = await chats.consultation(a, b)
    cid = chat.id
    since_a = a.notifications.mark()
    await b.send_message(cid, "private note")
    note = m.new_message(p, cid, TEXT, "private note", visibility=AGENTS)
    await expect.exactly_in_order(a, cid, "MESSAGE-04", since_a, [note], "the consultant's note")
    await member_stops(p, a, b, cid, AGENTS, "the consultant's leave")
    full = await a.request_history(cid)
    customer_view = await chat.customer.chat_messages()
    raise_first(party_checks(p, cid, [a, b], full))
    raise_first(check_customer(p, customer_view, full))
    leaked = [x for x in customer_view if sender_nickname(x) == b.name or x.get("text") == "private note"]
    expect.that(not leaked, "CUSTOMER-02", "nothing of the consultation for the customer", leaked)


async def _unless_kept_consulting_capabilities(owner: Agent, cid: str, p: Profile) -> None:
    """The premise of a consultation that ended unjoined (CONSULT-03): the owner no longer holds the
    "consultant invited" capabilities. A server that kept them fails that, not the customer's leave."""
    caps = ((await owner.client.get_interaction(cid)).body or {}).get("interaction", {}).get("capabilities")
    expect.that(
        not isinstance(caps, list) or set(caps) != p.capability_names(Position.OWNER_CONSULTANT_INVITED),
        "CONSULT-03",
        f"{owner.name}: no longer the consultant-invited capabilities once the invitation ended",
        caps,
    )


@pytest.mark.requirement("CUSTOMER-01", "STATE-01", "STOP-01", "STOP-02")
async def test_customer_leaving_withdraws_the_consultation_and_reduces_capabilities(
    consultation_invited, profile
):
    chat, p = consultation_invited, profile
    a, b, cid = chat.owner, chat.consultant, chat.id
    assert b is not None
    since_a, since_b = a.notifications.mark(), b.notifications.mark()
    await chat.customer.disconnect()
    await expect.exactly_in_order(
        b, cid, "CUSTOMER-01", since_b, [status(p, cid, Position.COMPLETED)], "the withdrawal"
    )
    try:
        await expect.exactly_in_order(
            a,
            cid,
            "CUSTOMER-01",
            since_a,
            party_left(p, cid, Position.CUSTOMER_LEFT),
            "the customer's leave (one StatusChange, the final one)",
        )
    except expect.NonConformance:
        await _unless_kept_consulting_capabilities(a, cid, p)
        raise
    history = await a.request_history(cid)
    raise_first(check_history_complete(p, history, a.name))
    since_a = a.notifications.mark()
    await a.stop(cid)
    await expect.exactly_in_order(
        a, cid, "STOP-01", since_a, [status(p, cid, Position.COMPLETED)], "its stop"
    )
    await chat.customer.chat_messages()  # a refresh: it tells chatEnded
    expect.that(chat.customer.client.chat_ended, "STOP-02", "the chat has ended for the customer", False)


@pytest.mark.requirement("CUSTOMER-01", "STATE-01", "STOP-01")
async def test_customer_leaving_a_consultation_leaves_both_agents_history_and_stop(
    consultation_joined, profile
):
    chat, p = consultation_joined, profile
    a, b, cid = chat.owner, chat.consultant, chat.id
    assert b is not None
    since_a, since_b = a.notifications.mark(), b.notifications.mark()
    await chat.customer.disconnect()
    left = party_left(p, cid, Position.CUSTOMER_LEFT)
    await expect.exactly_in_order(a, cid, "CUSTOMER-01", since_a, left, "the customer's leave")
    await expect.exactly_in_order(b, cid, "CUSTOMER-01", since_b, left, "the customer's leave")
    since_a, since_b = a.notifications.mark(), b.notifications.mark()
    await b.stop(cid)
    await expect.exactly_in_order(
        b, cid, "STOP-01", since_b, [status(p, cid, Position.COMPLETED)], "its stop"
    )
    await expect.exactly_in_order(
        a,
        cid,
        "STOP-01",
        since_a,
        [m.participants_updated(p, cid), m.new_message(p, cid, LEFT)],
        "the consultant's leave after the customer's: no StatusChange",
    )
    full = await a.request_history(cid)
    raise_first(party_checks(p, cid, [a, b], full))
