"""Every REST view of a chat follows it through its states: the list, `?fields=*` and GET of each
interaction, for every agent, agree with that agent's notifications after every step (the flows'
`watch_views`), here through an invitation, a consultation that joins and leaves, a conference whose
members leave one by one, and the end."""

from __future__ import annotations

import pytest

from conformance.api import ChatMessageType, customer_sees, views_agree

pytestmark = pytest.mark.sequence_diagram


@pytest.mark.requirement("SESSION-03")
async def test_every_view_follows_a_chat_through_its_states(chats, agent_a, agent_b, profile):
    a, b = agent_a, agent_b
    chat = await chats.invited(a, first="hello")
    await views_agree(chats)  # invited: listed, Accept and Reject, the user data
    await chat.customer.send("still there?")
    await a.accept(chat.id, nickname=a.name)
    await a.send_message(chat.id, "how can I help?")
    await a.initiate_consultation(chat.id, b.id)  # b invited, a's capabilities reduced
    await b.wait_invitation(chat.tag, requirement="CONSULT-01")
    await views_agree(chats)
    await b.accept(chat.id, nickname=b.name, requirement="CONSULT-02")  # b visible to agents only
    await b.send_message(chat.id, "a private note")
    await b.stop(chat.id)  # b completed, no longer a participant of a's
    await a.send_message(chat.id, "back to you")
    await customer_sees(chat.customer, profile, "MESSAGE-01", ChatMessageType.TEXT, "back to you", a.name)
    await a.stop(chat.id)  # completed and not listed for anyone; the customer's chat ended


@pytest.mark.requirement("SESSION-03")
async def test_every_view_follows_a_conference_and_its_members_leaving(chats, agent_a, agent_b, profile):
    a, b = agent_a, agent_b
    chat = await chats.invited(a, first="hello")
    await a.accept(chat.id, nickname=a.name)
    await a.initiate_consultation(chat.id, b.id)
    await b.wait_invitation(chat.tag, requirement="CONSULT-01")
    await b.accept(chat.id, nickname=b.name, requirement="CONSULT-02")
    await a.complete_conference(chat.id)  # both taking part, each listing the other
    await b.send_message(chat.id, "joining the conversation")
    await a.stop(chat.id)  # a completed; b keeps the chat
    text = ChatMessageType.TEXT
    await customer_sees(chat.customer, profile, "MESSAGE-01", text, "joining the conversation", b.name)
    await b.stop(chat.id)
