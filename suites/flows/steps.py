"""What the multi-step suites add on top of the harness (conformance.actors / conformance.fixtures).

- `ChatBook` (fixture `chats`): starts any number of tagged chats pinned to chosen agents (the
  state-named fixtures make one chat on agent_a), and cleans up every one of them with the harness's
  `cleanup`; it also puts back every agent whose channel state a test changed (Ready, session started).
- `barrier(agent, ready)`: a barrier that keeps the agent's channel state (the harness's
  `Agent.barrier` sends Ready, which would make a NotReady agent Ready and let routing invite it).
- `log_of`, `party_checks`, `settle`: an agent's notifications about one chat, judged by the pure checks
  of conformance/chat_checks.py; `whole_chat_checks` judges every view of a chat against its history.
- `status`, `party_left`, `member_stops`: the notifications a step produces, as the profile orders them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any

import pytest
import pytest_asyncio

from conformance import expect, match
from conformance.actors import Agent, Customer
from conformance.chat_checks import (
    Violation,
    check_agent,
    check_customer,
    check_history_complete,
    raise_first,
)
from conformance.fixtures import Chat, cleanup
from conformance.notifications import Notification
from conformance.protocol import ChannelState, ChatMessageType, Position, Profile, State, Visibility
from conformance.transcript import Transcript


@pytest.fixture
def profile(target: Any) -> Profile:
    return target.profile


async def barrier(agent: Agent, ready: bool = True, requirement: str = "SESSION-01") -> int:
    """Everything the server queued for this agent before now has arrived; the channel state is kept.
    Returns the sequence number of the echo (the log's entries before it are complete)."""
    if ready:
        return await agent.barrier(requirement)
    return (await agent.not_ready(requirement)).seq


async def settle(*agents: Agent) -> None:
    """Every notification produced so far has reached each of these (Ready) agents."""
    for agent in agents:
        await agent.barrier()


def log_of(agent: Agent, interaction_id: str, since: int = 0) -> list[dict[str, Any]]:
    """The `data` of every notification this agent received about the interaction, in arrival order."""
    return [n.data for n in agent.notifications.about(interaction_id, since)]


def party_checks(
    profile: Profile,
    chat_id: str,
    agents: Sequence[Agent],
    history: list[dict[str, Any]],
    requirement: str | None = None,
) -> list[Violation]:
    """Every agent's invariants; with `requirement`, every ORDER violation but a premise's is reported under
    it (a STATE violation, such as wrong capabilities, keeps its own requirement)."""
    found = [v for a in agents for v in check_agent(profile, log_of(a, chat_id), history, who=a.name)]
    if requirement is not None:
        found = [v if keeps_requirement(v) else relabel(v, requirement) for v in found]
    return found


def keeps_requirement(v: Violation) -> bool:
    """Under a delivery or concurrency requirement, what is not about the order stays its own."""
    return v.premise or not v.requirement.startswith("ORDER-")


def relabel(v: Violation, requirement: str) -> Violation:
    return Violation(requirement, v.expected, f"[{v.requirement}] {v.actual}")


class ChatBook:
    """Tagged chats made by one test, and the agents whose channel state it changed."""

    def __init__(
        self, target: Any, transcript: Transcript, agents: tuple[Agent, ...], make_customer: Any, tag: str
    ) -> None:
        self.target, self.transcript, self.agents = target, transcript, agents
        self.make_customer, self.base_tag = make_customer, tag
        self.made: list[Chat] = []
        self.loose: list[Customer] = []  # customers whose chat was never seen by an agent
        self.touched: set[str] = set()  # agents a test made NotReady or ended the session of
        self.count = 0

    def new_tag(self) -> str:
        self.count += 1
        return f"{self.base_tag}-{self.count}"

    async def customer(
        self, tag: str, route_to_agent: Agent | None, route_to_skill: str | None = None
    ) -> Customer:
        """A started customer (no message yet), its chat carrying the tag and the routing hints."""
        customer: Customer = self.make_customer(f"customer-{tag}")
        self.loose.append(customer)
        await customer.start(
            route_to_agent=route_to_agent.name if route_to_agent else None,
            route_to_skill=route_to_skill,
            tag=tag,
        )
        return customer

    def adopt(self, chat_id: str, tag: str, customer: Customer, owner: Agent) -> Chat:
        """Record a chat (found by its invitation) for cleanup."""
        if customer in self.loose:
            self.loose.remove(customer)
        chat = Chat(chat_id, tag, customer, owner)
        self.made.append(chat)
        return chat

    async def invited(
        self, owner: Agent, skill: str | None = None, first: str = "hello", requirement: str = "SESSION-02"
    ) -> Chat:
        """A chat routed to `owner` (and then to `skill`), one customer message, invitation seen."""
        tag = self.new_tag()
        since = owner.notifications.mark()
        customer = await self.customer(tag, owner, skill)
        await customer.send(first)
        chat_id = await owner.wait_invitation(tag, requirement=requirement, since=since)
        return self.adopt(chat_id, tag, customer, owner)

    async def accepted(self, owner: Agent, skill: str | None = None) -> Chat:
        chat = await self.invited(owner, skill)
        await owner.accept(chat.id)
        return chat

    async def consultation(self, owner: Agent, consultant: Agent, conference: bool = False) -> Chat:
        """An accepted chat with `consultant` joined (and, with `conference`, a conference)."""
        chat = await self.accepted(owner)
        since = consultant.notifications.mark()
        await owner.initiate_consultation(chat.id, consultant.id)
        await consultant.wait_invitation(chat.tag, requirement="CONSULT-01", since=since)
        since = owner.notifications.mark()
        await consultant.accept(chat.id, requirement="CONSULT-02")
        joined = match.status_change(
            owner.profile, chat.id, State.PROCESSING, Position.OWNER_CONSULTANT_JOINED
        )
        await expect.notification(owner, "CONSULT-02", joined, "the consultant joined", since)
        chat.consultant = consultant
        if conference:
            await owner.complete_conference(chat.id)
        return chat

    async def set_ready(self, agent: Agent, ready: bool) -> int:
        """Ready or NotReady, confirmed; a NotReady agent is put back to Ready at teardown."""
        if not ready:
            self.touched.add(agent.name)
        return (await (agent.ready() if ready else agent.not_ready())).seq

    async def end_session(self, agent: Agent) -> None:
        """EndContactCenterSession; the session is started again and the agent made Ready at teardown."""
        self.touched.add(agent.name)
        expect.success(await agent.client.end_session(), "SESSION-01")

    async def close(self) -> None:
        """Clean every chat, disconnect stray customers, then put the touched agents back to Ready
        (last, so a queued chat of this test cannot reach them)."""
        for chat in self.made:
            await cleanup(chat, self.agents, self.transcript)
        for customer in self.loose:
            try:
                if customer.client.chat_id is not None and not customer.client.chat_ended:
                    await customer.client.disconnect()
                await customer.aclose()
            except Exception as err:  # cleanup never raises; the transcript says what went wrong
                self.transcript.note("customer", f"cleanup disconnect failed: {err!r}")
        for agent in self.agents:
            if agent.name not in self.touched:
                continue
            try:
                await agent.client.start_session()
                since = agent.notifications.mark()
                await agent.client.set_ready()
                await agent.notifications.wait_for(
                    match.channel_state(agent.profile, ChannelState.READY), agent.timeout_s, since, "Ready"
                )
            except Exception as err:
                self.transcript.note(agent.name, f"restoring Ready failed: {err!r}")


@pytest_asyncio.fixture(loop_scope="session")
async def chats(
    target: Any, transcript: Transcript, agents: tuple[Agent, ...], make_customer: Any, tag: str
) -> AsyncIterator[ChatBook]:
    book = ChatBook(target, transcript, agents, make_customer, tag)
    try:
        yield book
    finally:
        await book.close()


async def exactly(
    agent: Agent,
    chat_id: str,
    requirement: str,
    since: int,
    predicates: Sequence[Any],
    description: str,
    ready: bool = True,
) -> list[Notification]:
    """After a barrier: the notifications about the chat since `since` are exactly these, in order."""
    until = await barrier(agent, ready)
    got = agent.notifications.about(chat_id, since, until)
    seen = "\n  ".join(n.brief() for n in got) or "(nothing)"
    expect.no_stray(agent, got)
    expect.that(
        len(got) == len(predicates),
        requirement,
        f"{agent.name}: {description}: exactly {len(predicates)} notification(s)",
        f"{len(got)}:\n  {seen}",
    )
    for i, (n, predicate) in enumerate(zip(got, predicates, strict=True)):
        why = predicate(n)
        expect.that(
            why is None or why is True,
            expect.blamed(requirement, why),
            f"{agent.name}: {description}: notification {i + 1} as the profile orders it",
            f"{why}; in order:\n  {seen}",
        )
    return got


async def customer_sees(
    customer: Customer,
    profile: Profile,
    requirement: str,
    type: ChatMessageType,
    text: str | None = None,
    nickname: str | None = None,
) -> dict[str, Any]:
    """The customer's transcript comes to hold such a message (All visibility: it is the customer's)."""

    def check(m: dict[str, Any]) -> str | None:
        why = match.message_matches(profile, m, type, text, visibility=Visibility.ALL)
        sender = m.get("from") if isinstance(m.get("from"), dict) else {}
        if why is None and nickname is not None and sender.get("nickname") != nickname:
            return f"from {sender.get('nickname')!r}"
        return why

    what = f"{profile.wire(type)} {text or ''} {nickname or ''}".strip()
    return await customer.wait_for_message(check, description=what, requirement=requirement)


def status(p: Profile, cid: str, position: Position) -> match.Check:
    """The StatusChange of this position (Invited and Completed have their own state, the rest Processing)."""
    state = {Position.INVITED: State.INVITED, Position.COMPLETED: State.COMPLETED}.get(
        position, State.PROCESSING
    )
    return match.status_change(p, cid, state, position)


def party_left(
    p: Profile, cid: str, position: Position, visibility: Visibility = Visibility.ALL
) -> list[match.Check]:
    """What an agent still in the chat receives when another party leaves: the participants, the
    ParticipantLeft message, then its own new position."""
    return [
        match.participants_updated(p, cid),
        match.new_message(p, cid, ChatMessageType.PARTICIPANT_LEFT, visibility=visibility),
        status(p, cid, position),
    ]


async def member_stops(
    p: Profile, owner: Agent, member: Agent, cid: str, visibility: Visibility, description: str
) -> None:
    """`member` stops processing: it sees its own completion, `owner` is left the sole agent (STOP-01)."""
    since_owner, since_member = owner.notifications.mark(), member.notifications.mark()
    await member.stop(cid)
    await exactly(member, cid, "STOP-01", since_member, [status(p, cid, Position.COMPLETED)], "its stop")
    await exactly(
        owner, cid, "STOP-01", since_owner, party_left(p, cid, Position.OWNER, visibility), description
    )


async def whole_chat_checks(
    p: Profile, cid: str, agents: Sequence[Agent], customer: Customer, history: list[dict[str, Any]], who: str
) -> list[dict[str, Any]]:
    """The history is complete (as `who` requested it), and every agent's and the customer's view agree
    with it. Returns the customer's transcript."""
    transcript = await customer.transcript_messages()
    raise_first(check_history_complete(p, history, who))
    raise_first(party_checks(p, cid, agents, history))
    raise_first(check_customer(p, transcript, history))
    return transcript


def accept_history(notes: Sequence[Notification]) -> list[dict[str, Any]]:
    """The messages of the ChatHistory an Agent.accept waited for (its last notification)."""
    return list(notes[-1].data["messages"])


def indexes_of(messages: Sequence[dict[str, Any]]) -> list[Any]:
    return [m.get("index") for m in messages]


def texts_of(profile: Profile, messages: Sequence[dict[str, Any]]) -> list[Any]:
    return [m.get("text") for m in messages if m.get("type") == profile.wire(ChatMessageType.TEXT)]


def nickname_of(message: dict[str, Any]) -> Any:
    sender = message.get("from")
    return sender.get("nickname") if isinstance(sender, dict) else None


def sole_holder(agents: Sequence[Agent], besides: Agent) -> tuple[str, Agent] | None:
    """A skill that exactly one agent other than `besides` has, and that agent (routing by skill then
    has one candidate, so the test knows who must be invited)."""
    skills = sorted({s for a in agents if a is not besides for s in a.spec.skills})
    for skill in skills:
        holders = [a for a in agents if a is not besides and skill in a.spec.skills]
        if len(holders) == 1:
            return skill, holders[0]
    return None


def sole_holder_or_skip(agents: Sequence[Agent], besides: Agent) -> tuple[str, Agent]:
    """`sole_holder`, or the test is skipped when no skill has exactly one such holder."""
    found = sole_holder(agents, besides)
    if found is None:
        pytest.skip("no skill is held by exactly one agent besides the first")
    return found
