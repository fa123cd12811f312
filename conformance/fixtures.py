"""Pytest fixtures: opened agents, a run-unique tag, and chats in named states, each cleaned up after.

Registered as a plugin by conformance.pytest_plugin, which provides `target` and `transcript`.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
import pytest_asyncio

from conformance import expect, match
from conformance.actors import TAG_KEY, Agent, AgentSpec, Customer
from conformance.protocol import Operation, Position, State
from conformance.transcript import Transcript

RUN_ID = uuid.uuid4().hex[:8]
LEFT_BEHIND: list[str] = []  # what the suite made on the server and could not remove (read by the plugin)


@dataclass
class Chat:
    id: str
    tag: str
    customer: Customer
    owner: Agent
    consultant: Agent | None = None


def _spec(agent: Any) -> AgentSpec:
    return AgentSpec(agent.username, agent.password, agent.id, tuple(agent.skills))


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def agents(target: Any, transcript: Transcript) -> AsyncIterator[tuple[Agent, ...]]:
    """Every agent of the target, logged in, subscribed and Ready; closed at the end of the session."""
    opened: list[Agent] = []
    try:
        for spec in target.agents:
            agent = Agent(
                _spec(spec),
                target.profile,
                transcript,
                target.timeout_s,
                target.base_url,
                verify_tls=target.verify_tls,
                csrf=target.csrf,
            )
            opened.append(agent)
            await agent.open()
        yield tuple(opened)
    finally:
        await sweep(tuple(opened), transcript)
        for agent in opened:
            await agent.close()


async def sweep(agents: tuple[Agent, ...], transcript: Transcript) -> None:
    """The end of the run (normal, Ctrl-C or SIGTERM): every chat of the suite's (tagged) still listed for
    an agent is rejected or stopped; what stays listed is recorded in LEFT_BEHIND for the summary."""
    for agent in agents:
        try:
            for inter in await _tagged_interactions(agent):
                state = agent.profile.parse(State, inter.get("state"))
                op = Operation.REJECT if state is State.INVITED else Operation.STOP_PROCESSING
                await agent.client.perform(str(inter.get("id")), op)
            left = await _tagged_interactions(agent)
        except Exception as err:  # the end of the run must not fail a test
            transcript.note(agent.name, f"end-of-run sweep failed: {err!r}")
            LEFT_BEHIND.append(f"{agent.name}: its interactions could not be listed or closed "
                               f"({type(err).__name__})")
            continue
        LEFT_BEHIND.extend(f"{agent.name}: interaction {i.get('id')} still {i.get('state')}" for i in left)


async def _tagged_interactions(agent: Agent) -> list[dict[str, Any]]:
    reply = await agent.client.list_interactions(all_fields=True)
    listed = (reply.body or {}).get("interactions") if reply.status_code == 0 else None
    if not isinstance(listed, list):
        raise ValueError(f"GET interactions answered {reply.http_status}")
    return [i for i in listed if isinstance(i, dict) and TAG_KEY in (i.get("userData") or {})]


def _nth(agents: tuple[Agent, ...], n: int) -> Agent:
    if len(agents) <= n:
        pytest.skip(f"the target has {len(agents)} agents; this test needs {n + 1}")
    return agents[n]


@pytest.fixture
def agent_a(agents: tuple[Agent, ...]) -> Agent:
    return _nth(agents, 0)


@pytest.fixture
def agent_b(agents: tuple[Agent, ...]) -> Agent:
    return _nth(agents, 1)


@pytest.fixture
def agent_c(agents: tuple[Agent, ...]) -> Agent:
    return _nth(agents, 2)


@pytest.fixture
def tag() -> str:
    """A run-unique value that links a customer's chat to the agents' interaction."""
    return f"conf-{RUN_ID}-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def make_customer(target: Any, transcript: Transcript) -> Any:
    made: list[Customer] = []

    def make(actor: str = "customer") -> Customer:
        customer = Customer(
            target.gms_url,
            target.service,
            target.profile,
            transcript,
            target.timeout_s,
            actor,
            target.verify_tls,
        )
        made.append(customer)
        return customer

    return make


async def cleanup(chat: Chat, agents: tuple[Agent, ...], transcript: Transcript) -> None:
    """Leave nothing behind: reject pending invitations, stop what is still worked on (others before
    the owner), disconnect the customer. Problems are noted in the transcript, never raised."""
    order = [a for a in agents if a is not chat.owner] + [chat.owner]
    for agent in order:
        try:
            reply = await agent.client.get_interaction(chat.id)
            inter = (reply.body or {}).get("interaction") if reply.status_code == 0 else None
            state = (
                agent.profile.parse(State, (inter or {}).get("state")) if isinstance(inter, dict) else None
            )
            if state is State.INVITED:
                reply = await agent.client.perform(chat.id, Operation.REJECT)
            elif state is State.PROCESSING:
                reply = await agent.client.perform(chat.id, Operation.STOP_PROCESSING)
            else:
                continue
            if reply.status_code != 0:
                transcript.note(
                    agent.name, f"cleanup of {chat.id} answered {reply.http_status} {reply.text[:200]}"
                )
        except Exception as err:  # cleanup must never fail a test
            transcript.note(agent.name, f"cleanup of {chat.id} failed: {err!r}")
    try:
        if not chat.customer.client.chat_ended and chat.customer.client.chat_id is not None:
            await chat.customer.client.disconnect()
    except Exception as err:
        transcript.note("customer", f"cleanup disconnect failed: {err!r}")
    try:
        await chat.customer.aclose()
    except Exception as err:
        transcript.note("customer", f"closing the customer client failed: {err!r}")


async def _new_chat(agent_a: Agent, tag: str, make_customer: Any) -> Chat:
    customer: Customer = make_customer()
    since = agent_a.notifications.mark()
    await customer.start(route_to_agent=agent_a.name, tag=tag)
    await customer.send(f"first message of {tag}")
    chat_id = await agent_a.wait_invitation(tag, since=since)
    await agent_a.barrier()  # whatever the server sent with the invitation is in, so tests start after it
    return Chat(chat_id, tag, customer, agent_a)


@pytest_asyncio.fixture(loop_scope="session")
async def new_chat(
    agents: tuple[Agent, ...], agent_a: Agent, tag: str, make_customer: Any, transcript: Transcript
) -> AsyncIterator[Chat]:
    """A customer's chat routed to agent_a, one customer message sent, invitation seen, not accepted."""
    chat = await _new_chat(agent_a, tag, make_customer)
    try:
        yield chat
    finally:
        await cleanup(chat, agents, transcript)


@pytest.fixture
def invited_chat(new_chat: Chat) -> Chat:
    return new_chat


@pytest_asyncio.fixture(loop_scope="session")
async def accepted_chat(new_chat: Chat) -> Chat:
    """agent_a owns the chat (accepted, its three notifications seen)."""
    await new_chat.owner.accept(new_chat.id)
    return new_chat


@pytest_asyncio.fixture(loop_scope="session")
async def consultation_invited(accepted_chat: Chat, agent_b: Agent) -> Chat:
    """agent_b is invited as consultant by the owner agent_a."""
    since = agent_b.notifications.mark()
    await accepted_chat.owner.initiate_consultation(accepted_chat.id, agent_b.id)
    await agent_b.wait_invitation(accepted_chat.tag, requirement="CONSULT-01", since=since)
    accepted_chat.consultant = agent_b
    return accepted_chat


@pytest_asyncio.fixture(loop_scope="session")
async def consultation_joined(consultation_invited: Chat) -> Chat:
    """agent_b has accepted the consultation (visible to agents only)."""
    chat, consultant = consultation_invited, consultation_invited.consultant
    assert consultant is not None
    since = chat.owner.notifications.mark()
    await consultant.accept(chat.id, requirement="CONSULT-02")
    # The owner's last notification of the join, so that a test starts after all of them.
    joined = match.status_change(
        chat.owner.profile, chat.id, State.PROCESSING, Position.OWNER_CONSULTANT_JOINED
    )
    await expect.notification(
        chat.owner, "CONSULT-02", joined, "the owner's StatusChange on the join", since=since
    )
    return chat


@pytest_asyncio.fixture(loop_scope="session")
async def conference(consultation_joined: Chat) -> Chat:
    """agent_a and agent_b are conference members, both visible to the customer."""
    chat, member = consultation_joined, consultation_joined.consultant
    assert member is not None
    since = member.notifications.mark()
    await chat.owner.complete_conference(chat.id)
    # The consultant's only notification of the step, so that a test starts after it.
    updated = match.participants_updated(member.profile, chat.id)
    await expect.notification(
        member, "COMPLETE-CONFERENCE-01", updated, "the consultant's ParticipantsUpdated", since=since
    )
    return chat
