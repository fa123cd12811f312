"""Whole chats through a consultation: to a conference and its end, to a two-step transfer, and the
consultations that go nowhere (rejected, or left by the consultant).

At every step each agent's notifications about the chat are checked exactly (after a barrier), the
customer's transcript is polled for what it must show, and at the end every party's view is judged
against a complete history (conformance/chat_checks.py).
"""

from __future__ import annotations

import pytest

from conformance.api import (
    Agent,
    ChatBook,
    ChatMessageType,
    Operation,
    Position,
    Profile,
    State,
    Status,
    Visibility,
    customer_sees,
    expect,
    member_stops,
    party_left,
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
TYPING = ChatMessageType.TYPING_STARTED
ALL, AGENTS = Visibility.ALL, Visibility.AGENTS


async def _consult(chats: ChatBook, a: Agent, b: Agent, p: Profile) -> tuple[str, ChatBook]:
    """a owns a chat (one exchange both ways), b joins it as consultant; every view checked."""
    chat = await chats.invited(a, first="customer 1")
    cid, customer = chat.id, chat.customer
    await a.accept(cid, nickname=a.name)
    await customer_sees(customer, p, "ORDER-02", JOINED, nickname=a.name)
    await a.send_message(cid, "agent 1")
    await customer_sees(customer, p, "MESSAGE-01", TEXT, "agent 1", a.name)
    since_a, since_b = a.notifications.mark(), b.notifications.mark()
    await a.initiate_consultation(cid, b.id)
    await b.wait_invitation(chat.tag, requirement="CONSULT-01", since=since_b)
    await expect.exactly_in_order(
        b, cid, "CONSULT-01", since_b, [status(p, cid, Position.INVITED)], "the invitation"
    )
    await expect.exactly_in_order(
        a, cid, "CONSULT-01", since_a, [status(p, cid, Position.OWNER_CONSULTANT_INVITED)], "initiate"
    )
    # The consultant is invited: a single-step Transfer is not among the owner's capabilities.
    since_a = a.notifications.mark()
    # (to an agent that would otherwise be a valid target: Ready, never invited to this chat)
    third = next((x for x in chats.agents if x not in (a, b)), b)
    refused = await a.client.perform(cid, Operation.TRANSFER, agent_id=third.id)
    expect.failure(refused, "STATE-02", Status.INVALID_PARAMETER, p)
    await expect.exactly_in_order(a, cid, "STATE-02", since_a, [], "a refused Transfer")
    since_a, since_b = a.notifications.mark(), b.notifications.mark()
    await b.accept(cid, nickname=b.name, requirement="CONSULT-02")
    # CONSULT-02 judges the order; the capabilities the consultant gets are ACCEPT-01's (and STATE-01's).
    accepted, _, _ = await expect.exactly_in_order(
        b,
        cid,
        "CONSULT-02",
        since_b,
        [m.status_change(p, cid, State.PROCESSING), m.participants_updated(p, cid), m.chat_history(p, cid)],
        "the consultant's accept",
    )
    why = status(p, cid, Position.CONSULTANT)(accepted)
    expect.that(why is None, "ACCEPT-01", "the consultant's StatusChange: consultant capabilities", why)
    await expect.exactly_in_order(
        a,
        cid,
        "CONSULT-02",
        since_a,
        [
            m.participants_updated(p, cid),
            m.new_message(p, cid, JOINED, visibility=AGENTS),
            status(p, cid, Position.OWNER_CONSULTANT_JOINED),
        ],
        "the consultant's join",
    )
    # The consultant joined: its RequestChatHistory is one of its capabilities (STATE-03).
    consultant_view = await b.request_history(cid, requirement="STATE-03")
    expect.that(
        texts(p, consultant_view) == ["customer 1", "agent 1"],
        "HISTORY-01",
        "the consultant's history holds the conversation so far",
        texts(p, consultant_view),
    )
    since_a, since_b = a.notifications.mark(), b.notifications.mark()
    await b.send_message(cid, "private from the consultant")
    await b.send_typing(cid, started=True)
    await customer.send("customer 2")
    private = [
        m.new_message(p, cid, TEXT, "private from the consultant", visibility=AGENTS),
        m.new_message(p, cid, TYPING, visibility=AGENTS),
        m.new_message(p, cid, TEXT, "customer 2", visibility=ALL),
    ]
    await expect.exactly_in_order(b, cid, "MESSAGE-04", since_b, private, "the consultant's private messages")
    await expect.exactly_in_order(a, cid, "MESSAGE-04", since_a, private, "the consultant's private messages")
    return cid, chats


async def _private_kept(chats: ChatBook, p: Profile) -> None:
    """CUSTOMER-02: nothing of visibility Agents in the customer's transcript."""
    seen = await chats.made[-1].customer.chat_messages()
    leaked = [x for x in seen if x.get("visibility") != p.wire(ALL) or "private" in str(x.get("text"))]
    expect.that(not leaked, "CUSTOMER-02", "no consultation event in the customer's transcript", leaked)


@pytest.mark.requirement(
    "CONSULT-01",
    "CONSULT-02",
    "STATE-02",
    "STATE-03",
    "MESSAGE-04",
    "CUSTOMER-02",
    "COMPLETE-CONFERENCE-01",
    "COMPLETE-CONFERENCE-02",
    "STOP-01",
    "STOP-02",
    "ORDER-02",
    "ORDER-03",
)
async def test_chat_through_consultation_and_conference_to_its_end_keeps_every_view(
    chats, agent_a, agent_b, profile
):
    a, b, p = agent_a, agent_b, profile
    cid, _ = await _consult(chats, a, b, p)
    customer = chats.made[-1].customer
    await _private_kept(chats, p)

    since_a, since_b = a.notifications.mark(), b.notifications.mark()
    await a.complete_conference(cid)
    await expect.exactly_in_order(
        a,
        cid,
        "COMPLETE-CONFERENCE-01",
        since_a,
        [
            m.participants_updated(p, cid),
            m.new_message(p, cid, JOINED, visibility=ALL),
            status(p, cid, Position.CONFERENCE_MEMBER),
        ],
        "the conference, as the owner sees it",
    )
    await expect.exactly_in_order(
        b, cid, "COMPLETE-CONFERENCE-01", since_b, [m.participants_updated(p, cid)], "the conference"
    )
    await customer_sees(customer, p, "COMPLETE-CONFERENCE-01", JOINED, nickname=b.name)

    since_a, since_b = a.notifications.mark(), b.notifications.mark()
    await customer.send("customer 3")
    await a.send_message(cid, "agent 3")
    await b.send_message(cid, "consultant 3")
    three = [
        m.new_message(p, cid, TEXT, text, visibility=ALL)
        for text in ("customer 3", "agent 3", "consultant 3")
    ]
    await expect.exactly_in_order(a, cid, "COMPLETE-CONFERENCE-02", since_a, three, "messages from all three")
    await expect.exactly_in_order(b, cid, "COMPLETE-CONFERENCE-02", since_b, three, "messages from all three")
    await customer_sees(customer, p, "COMPLETE-CONFERENCE-02", TEXT, "consultant 3", b.name)

    await member_stops(p, a, b, cid, ALL, "the other member's stop")
    await customer_sees(customer, p, "STOP-01", LEFT, nickname=b.name)

    history = await a.request_history(cid)
    await whole_chat_checks(p, cid, [a, b], customer, history, a.name)
    await _private_kept(chats, p)

    since_a = a.notifications.mark()
    await a.stop(cid)
    await expect.exactly_in_order(
        a, cid, "STOP-01", since_a, [status(p, cid, Position.COMPLETED)], "the last stop"
    )
    await customer_sees(customer, p, "STOP-02", LEFT, nickname=a.name)
    expect.that(customer.client.chat_ended, "STOP-02", "chatEnded once the last agent stopped", False)


@pytest.mark.requirement(
    "COMPLETE-TRANSFER-01", "COMPLETE-TRANSFER-02", "HISTORY-01", "ORDER-02", "ORDER-03", "CUSTOMER-02"
)
async def test_two_step_transfer_new_owner_continues_with_the_whole_history(chats, agent_a, agent_b, profile):
    a, b, p = agent_a, agent_b, profile
    cid, _ = await _consult(chats, a, b, p)
    customer = chats.made[-1].customer
    before = await customer.chat_messages()

    since_a, since_b = a.notifications.mark(), b.notifications.mark()
    await a.complete_transfer(cid)
    await expect.exactly_in_order(
        a, cid, "COMPLETE-TRANSFER-01", since_a, [status(p, cid, Position.COMPLETED)], "its transfer"
    )
    await expect.exactly_in_order(
        b,
        cid,
        "COMPLETE-TRANSFER-01",
        since_b,
        party_left(p, cid, Position.OWNER),
        "the initiator's departure",
    )
    await customer_sees(customer, p, "COMPLETE-TRANSFER-02", LEFT, nickname=a.name)
    after = (await customer.chat_messages())[len(before) :]
    kinds = [(x.get("type"), x.get("from", {}).get("nickname")) for x in after]
    expect.that(
        kinds == [(p.wire(JOINED), b.name), (p.wire(LEFT), a.name)],
        "COMPLETE-TRANSFER-02",
        f"the customer sees {b.name} join, then {a.name} leave, and nothing else",
        kinds,
    )
    await _private_kept(chats, p)

    since_b = b.notifications.mark()
    await customer.send("customer after transfer")
    await b.send_message(cid, "new owner speaking")
    await customer_sees(customer, p, "MESSAGE-01", TEXT, "new owner speaking", b.name)
    history = await b.request_history(cid)
    said = texts(p, history)
    expect.that(
        said
        == [
            "customer 1",
            "agent 1",
            "private from the consultant",
            "customer 2",
            "customer after transfer",
            "new owner speaking",
        ],
        "HISTORY-01",
        "the new owner's history holds the whole conversation, consultation included, in order",
        said,
    )
    await whole_chat_checks(p, cid, [a, b], customer, history, b.name)
    await expect.exactly_in_order(
        b,
        cid,
        "ORDER-02",
        since_b,
        [
            m.new_message(p, cid, TEXT, "customer after transfer"),
            m.new_message(p, cid, TEXT, "new owner speaking"),
            m.chat_history(p, cid),
        ],
        "the new owner's live view",
    )
