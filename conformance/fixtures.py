"""Pytest fixtures: the run's profile, opened agents, a run-unique tag, a `ChatBook` (`chats`), and
chats in named states, each cleaned up after.

Registered as a plugin by conformance.runner.plugin, which provides `target` and `transcript`.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
import pytest_asyncio

from conformance import expect, match
from conformance.actors import TAG_KEY, Agent, AgentAccount, Customer
from conformance.chats import Chat, ChatBook, MovingChat, next_by_own_skill, next_by_shared_skill
from conformance.notifications import ChannelLost
from conformance.protocol import Channel, Operation, Position, Profile, State
from conformance.steps import views_agree
from conformance.transcript import Transcript
from conformance.transport import TargetUnreachable

RUN_ID = uuid.uuid4().hex[:8]
# Set on a test item by the runner when its body passed: only then does the `chats` teardown check the
# views (after a failure they would only echo it, against another requirement).
BODY_PASSED = "gws_body_passed"
LEFT_BEHIND: list[str] = []  # what the suite made on the server and could not remove (read by the plugin)


def _agent(target: Any, transcript: Transcript, configured: Any) -> Agent:
    """An agent of the target's, not yet opened."""
    account = AgentAccount(configured.username, configured.password, configured.id, tuple(configured.skills))
    return Agent(account, target.profile, transcript, target.timeout_s, target.base_url,
                 verify_tls=target.verify_tls, csrf=target.csrf)


@pytest.fixture
def profile(target: Any) -> Profile:
    """The run's profile (wire names, status codes, the capability table)."""
    profile: Profile = target.profile
    return profile


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def agents(target: Any, transcript: Transcript) -> AsyncIterator[tuple[Agent, ...]]:
    """Every agent of the target, logged in, subscribed and Ready; closed at the end of the session."""
    opened: list[Agent] = []
    try:
        for configured in target.agents:
            agent = _agent(target, transcript, configured)
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


@pytest_asyncio.fixture(loop_scope="session")
async def own_session_agent(target: Any, transcript: Transcript) -> AsyncIterator[Agent]:
    """The last agent's account with its own session and Bayeux client, subscribed to the channels
    channel only, not made Ready; left Ready and disconnected, as the shared agents expect."""
    agent = _agent(target, transcript, target.agents[-1])
    try:
        await agent.connect(Channel.CHANNELS)
        yield agent
    finally:
        with contextlib.suppress(Exception):
            await agent.client.set_ready()
        with contextlib.suppress(Exception):
            await agent.bayeux.disconnect()
        with contextlib.suppress(Exception):
            await agent.client.aclose()


@pytest.fixture
def tag() -> str:
    """A run-unique value that links a customer's chat to the agents' interaction."""
    return f"conf-{RUN_ID}-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def make_customer(target: Any, transcript: Transcript) -> Callable[..., Customer]:
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


@pytest_asyncio.fixture(loop_scope="session")
async def chats(
    target: Any,
    request: pytest.FixtureRequest,
    transcript: Transcript,
    agents: tuple[Agent, ...],
    make_customer: Callable[..., Customer],
    tag: str,
) -> AsyncIterator[ChatBook]:
    """The test's `ChatBook`: every chat it makes (and every agent state it changes) is undone after;
    chats are routed as the target's `routing` says.
    When the test's body passed, every view of its chats is checked first, while they are still live
    (`steps.views_agree`: a deviation there fails SESSION-03 or the customer's requirement, through the
    runner's teardown rule in `runner.outcomes`)."""
    book = ChatBook(transcript, agents, make_customer, tag, routing=target.routing)
    try:
        yield book
        if getattr(request.node, BODY_PASSED, False):
            try:
                await views_agree(book)
            except (TargetUnreachable, ChannelLost) as err:  # no verdict: the body's stands, later tests tell
                transcript.note("views", f"the views could not be checked: {err}")
    finally:
        await book.close()


@pytest_asyncio.fixture(loop_scope="session")
async def new_chat(chats: ChatBook, agent_a: Agent, tag: str) -> Chat:
    """A customer's chat routed to agent_a, one customer message sent, invitation seen, not accepted."""
    return await chats.invited(
        agent_a, first=f"first message of {tag}", tag=tag, settle=True, requirement="SESSION-02",
        actor="customer",
    )


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


@pytest_asyncio.fixture(loop_scope="session")
async def chat_to_colleague(chats: ChatBook, agent_a: Agent, tag: str) -> MovingChat:
    """Invited to agent_a; once agent_a lets go, only its one colleague with a shared skill may get it."""
    return await chats.moving(agent_a, next_by_shared_skill, tag=tag)


@pytest_asyncio.fixture(loop_scope="session")
async def chat_to_specialist(chats: ChatBook, agent_a: Agent, tag: str) -> MovingChat:
    """Invited to agent_a; once agent_a lets go, only the one holder of a skill agent_a lacks may get it
    (the tests Transfer it to that skill: every agent is Ready, whatever the routing mode)."""
    return await chats.moving(agent_a, next_by_own_skill, tag=tag, all_ready=True)


@pytest.fixture
def chat_in_state(request: pytest.FixtureRequest) -> Chat:
    """The chat fixture named by the (indirect) parameter, for one check over several states."""
    chat: Chat = request.getfixturevalue(request.param)
    return chat
