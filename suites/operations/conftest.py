"""Helpers of the operation suites: capabilities by position, message fields, "refused and unchanged"."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
import pytest_asyncio

from conformance import expect
from conformance.actors import Agent, Customer
from conformance.client import Reply
from conformance.customer import messages_of
from conformance.notifications import NOTIFICATION_TYPE
from conformance.protocol import (
    ChatMessageType,
    NotificationType,
    Operation,
    Position,
    Profile,
    Status,
    Visibility,
)

# Keys of a message object (profile section 3.1); the profile data names only request fields.
INDEX, TYPE, TEXT, FROM, VISIBILITY, PARTICIPANT_ID, NICKNAME = (
    "index",
    "type",
    "text",
    "from",
    "visibility",
    "participantId",
    "nickname",
)
INTERACTION, PARTICIPANTS = "interaction", "participants"


@pytest.fixture
def profile(target: Any) -> Profile:
    return target.profile


def caps(profile: Profile, position: Position) -> frozenset[str]:
    """Exactly the capabilities of a row of the profile's table (section 6), as wire names."""
    return profile.capability_names(position)


def index_of(message: dict[str, Any]) -> Any:
    return message.get(INDEX)


def type_of(profile: Profile, message: dict[str, Any]) -> ChatMessageType | None:
    return profile.parse(ChatMessageType, message.get(TYPE))


def visibility_of(profile: Profile, message: dict[str, Any]) -> Visibility | None:
    return profile.parse(Visibility, message.get(VISIBILITY))


def sender_nickname(message: dict[str, Any]) -> Any:
    sender = message.get(FROM)
    return sender.get(NICKNAME) if isinstance(sender, dict) else None


def sender_id(message: dict[str, Any]) -> Any:
    sender = message.get(FROM)
    return sender.get(PARTICIPANT_ID) if isinstance(sender, dict) else None


def brief(profile: Profile, messages: list[dict[str, Any]]) -> list[str]:
    """A readable one-line form of each message, for expected/actual texts."""
    out = []
    for m in messages:
        kind = type_of(profile, m)
        label = kind.value if kind else repr(m.get(TYPE))
        text = f" {m.get(TEXT)!r}" if kind == ChatMessageType.TEXT else ""
        out.append(f"#{index_of(m)} {label}{text} from {sender_nickname(m)!r}")
    return out


def texts(profile: Profile, messages: list[dict[str, Any]]) -> list[Any]:
    return [m.get(TEXT) for m in messages if type_of(profile, m) == ChatMessageType.TEXT]


def messages_in(notification_data: dict[str, Any]) -> list[dict[str, Any]]:
    found = notification_data.get("messages")
    return [m for m in found if isinstance(m, dict)] if isinstance(found, list) else []


def participants_in(notification_data: dict[str, Any]) -> list[dict[str, Any]]:
    inner = notification_data.get(INTERACTION)
    found = inner.get(PARTICIPANTS) if isinstance(inner, dict) else None
    return [p for p in found if isinstance(p, dict)] if isinstance(found, list) else []


def live_view(profile: Profile, agent: Agent, interaction_id: str) -> list[dict[str, Any]]:
    """What the agent saw of the chat: its last ChatHistory, then every NewMessages after it."""
    notes = agent.notifications.about(interaction_id)
    kinds = [profile.parse(NotificationType, n.data.get(NOTIFICATION_TYPE)) for n in notes]
    starts = [i for i, k in enumerate(kinds) if k == NotificationType.CHAT_HISTORY]
    first = starts[-1] if starts else 0
    return [
        m
        for n, k in zip(notes[first:], kinds[first:], strict=True)
        if k in (NotificationType.CHAT_HISTORY, NotificationType.NEW_MESSAGES)
        for m in messages_in(n.data)
    ]


async def customer_transcript(customer: Any) -> list[dict[str, Any]]:
    """Everything the customer's transcript holds, read from its first position."""
    return messages_of(await customer.client.refresh(1))


async def snapshot(agent: Agent, interaction_id: str) -> Any:
    """What the agent's GET of the interaction says, for before/after comparison (STATUS-05)."""
    reply = await agent.client.get_interaction(interaction_id)
    return (reply.http_status, reply.body)


async def refused_without_effect(
    agent: Agent,
    interaction_id: str,
    reply: Reply,
    requirement: str,
    status: Status | set[Status],
    *,
    before: Any,
    since: int,
) -> None:
    """The reply is the named failure, and nothing changed: no notification, the same interaction."""
    # A 5xx is the server breaking down on the body (STATUS-06), not the operation's refusal code.
    expect.that(reply.http_status < 500, "STATUS-06", "no 5xx", f"HTTP {reply.http_status} {reply.text[:99]}")
    expect.failure(reply, requirement, status, agent.profile)
    await expect.nothing_about(agent, interaction_id, "STATUS-05", since=since)
    after = await snapshot(agent, interaction_id)
    expect.that(after == before, "STATUS-05", f"the interaction unchanged: {before}", after)


async def perform_refused(
    agent: Agent,
    interaction_id: str,
    op: Operation,
    requirement: str,
    status: Status | set[Status],
    **fields: object,
) -> None:
    """Perform the operation: it fails with `status` and changes nothing (`refused_without_effect`)."""
    before = await snapshot(agent, interaction_id)
    since = agent.notifications.mark()
    reply = await agent.client.perform(interaction_id, op, **fields)
    await refused_without_effect(
        agent, interaction_id, reply, requirement, status, before=before, since=since
    )


# -- chats that may move on (Reject, Transfer): both routing hints, so they never reach another test's agent


def holders(agents: list[Agent], skill: str) -> list[Agent]:
    return [a for a in agents if skill in a.spec.skills]


def next_by_shared_skill(agents: list[Agent], first: Agent) -> tuple[str, Agent] | None:
    """A skill of `first` that exactly one other agent has: where the chat may go after `first`."""
    for skill in first.spec.skills:
        others = [a for a in holders(agents, skill) if a is not first]
        if len(others) == 1:
            return skill, others[0]
    return None


def next_by_own_skill(agents: list[Agent], first: Agent) -> tuple[str, Agent] | None:
    """A skill `first` lacks that exactly one agent has, preferring the agent listed last (so that an
    agent picked regardless of the skill would most likely be another one)."""
    found = [
        (s, holders(agents, s)[0])
        for a in agents
        for s in a.spec.skills
        if a is not first and s not in first.spec.skills and len(holders(agents, s)) == 1
    ]
    return max(found, key=lambda f: agents.index(f[1])) if found else None


@dataclass
class MovingChat:
    """A chat routed to `first`, bound to `skill` (held only by `next`) once `first` let it go."""

    id: str
    tag: str
    customer: Customer
    first: Agent
    next: Agent
    skill: str


async def start_moving_chat(
    make_customer: Any, agents: list[Agent], first: Agent, tag: str, choose: Any
) -> MovingChat:
    chosen = choose(agents, first)
    if chosen is None:
        pytest.skip(f"the target has no skill that exactly one agent besides {first.name} holds")
    skill, nxt = chosen
    customer: Customer = make_customer()
    since = first.notifications.mark()
    await customer.start(route_to_agent=first.name, route_to_skill=skill, tag=tag)
    await customer.send("hello, I need help")
    chat_id = await first.wait_invitation(tag, since=since)
    return MovingChat(chat_id, tag, customer, first, nxt, skill)


async def rejected_to_next(chat: MovingChat) -> None:
    """`first` rejects; the chat reaches `next`, who accepts it (`first` was invited to it before)."""
    since = chat.next.notifications.mark()
    await chat.first.reject(chat.id)
    await chat.next.wait_invitation(chat.tag, requirement="REJECT-02", since=since)  # offered to another
    await chat.next.accept(chat.id)


async def end_moving_chat(chat: MovingChat, agents: list[Agent]) -> None:
    """The customer leaves (withdrawing any invitation), then every agent still taking part stops."""
    with contextlib.suppress(Exception):
        await chat.customer.client.disconnect()
    for agent in agents:
        with contextlib.suppress(Exception):
            await agent.client.perform(chat.id, Operation.STOP_PROCESSING)
    with contextlib.suppress(Exception):
        await chat.customer.aclose()


@pytest_asyncio.fixture(loop_scope="session")
async def chat_to_colleague(
    make_customer: Any, agents: Any, agent_a: Agent, tag: str
) -> AsyncIterator[MovingChat]:
    """Invited to agent_a; once agent_a lets go, only its one colleague with a shared skill may get it."""
    everyone = list(agents)
    chat = await start_moving_chat(make_customer, everyone, agent_a, tag, next_by_shared_skill)
    yield chat
    await end_moving_chat(chat, everyone)


@pytest_asyncio.fixture(loop_scope="session")
async def chat_to_specialist(
    make_customer: Any, agents: Any, agent_a: Agent, tag: str
) -> AsyncIterator[MovingChat]:
    """Invited to agent_a; once agent_a lets go, only the one holder of a skill agent_a lacks may get it."""
    everyone = list(agents)
    chat = await start_moving_chat(make_customer, everyone, agent_a, tag, next_by_own_skill)
    yield chat
    await end_moving_chat(chat, everyone)


async def perform_escaped(agent: Agent, interaction_id: str, op: Operation, **fields: object) -> Reply:
    """`perform`, with the body's JSON \\u-escaped: the way to send a lone surrogate."""
    body = json.dumps(agent.client.body(op, fields), ensure_ascii=True).encode("ascii")
    return await agent.client.post_json(agent.client.interaction_path(interaction_id), body)


@pytest.fixture
def chat_in_state(request: pytest.FixtureRequest) -> Any:
    """The chat fixture named by the (indirect) parameter, for one check over several states."""
    return request.getfixturevalue(request.param)
