"""Chats in named states, made by one test and cleaned up after it: the one way suites start a chat.

`ChatBook` starts tagged chats routed to chosen agents (`invited`, `accepted`, `consultation`,
`moving`), remembers each, and `close()` leaves nothing behind: every chat is cleaned (`cleanup`),
stray customers disconnect, and every agent whose channel state the test changed is put back to Ready.
The state-named fixtures of conformance.fixtures are built on it. Cleanup never raises: problems are
noted in the transcript.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import pytest

from conformance import expect, match
from conformance.actors import Agent, Customer, StepHook
from conformance.protocol import ChannelState, Operation, Position, State
from conformance.transcript import Transcript


@dataclass
class Chat:
    """A customer's chat and the agents taking part. `moves`: it may be routed on (by a skill) when an
    agent lets it go, so its cleanup disconnects the customer first (withdrawing any invitation)."""

    id: str
    tag: str
    customer: Customer
    owner: Agent
    consultant: Agent | None = None
    moves: bool = False


@dataclass(kw_only=True)
class MovingChat(Chat):
    """A chat routed to `first` (the owner), bound to `skill` (held only by `next`) once `first` lets it
    go."""

    next: Agent
    skill: str

    @property
    def first(self) -> Agent:
        return self.owner


# -- where a chat may go next: skills held by exactly one agent ------------------------------------

SkillChoice = Callable[[Sequence[Agent], Agent], "tuple[str, Agent] | None"]


def holders(agents: Sequence[Agent], skill: str) -> list[Agent]:
    return [a for a in agents if skill in a.account.skills]


def next_by_shared_skill(agents: Sequence[Agent], first: Agent) -> tuple[str, Agent] | None:
    """A skill of `first` that exactly one other agent has: where the chat may go after `first`."""
    for skill in first.account.skills:
        others = [a for a in holders(agents, skill) if a is not first]
        if len(others) == 1:
            return skill, others[0]
    return None


def next_by_own_skill(agents: Sequence[Agent], first: Agent) -> tuple[str, Agent] | None:
    """A skill `first` lacks that exactly one agent has, preferring the agent listed last (so that an
    agent picked regardless of the skill would most likely be another one)."""
    found = [
        (s, holders(agents, s)[0])
        for a in agents
        for s in a.account.skills
        if a is not first and s not in first.account.skills and len(holders(agents, s)) == 1
    ]
    return max(found, key=lambda f: list(agents).index(f[1])) if found else None


def sole_holder(agents: Sequence[Agent], besides: Agent) -> tuple[str, Agent] | None:
    """A skill that exactly one agent other than `besides` has, and that agent (routing by skill then
    has one candidate, so the test knows who must be invited)."""
    skills = sorted({s for a in agents if a is not besides for s in a.account.skills})
    for skill in skills:
        found = [a for a in holders(agents, skill) if a is not besides]
        if len(found) == 1:
            return skill, found[0]
    return None


def sole_holder_or_skip(agents: Sequence[Agent], besides: Agent) -> tuple[str, Agent]:
    """`sole_holder`, or the test is skipped when no skill has exactly one such holder."""
    found = sole_holder(agents, besides)
    if found is None:
        pytest.skip("no skill is held by exactly one agent besides the first")
    return found


# -- cleanup ---------------------------------------------------------------------------------------


async def _disconnect(customer: Customer, transcript: Transcript) -> None:
    try:
        if not customer.client.chat_ended and customer.client.chat_id is not None:
            await customer.client.disconnect()
    except Exception as err:  # cleanup never raises; the transcript says what went wrong
        transcript.note("customer", f"cleanup disconnect failed: {err!r}")


async def cleanup(chat: Chat, agents: Sequence[Agent], transcript: Transcript) -> None:
    """Leave nothing behind: reject pending invitations, stop what is still worked on (others before
    the owner), disconnect the customer (first, for a chat that `moves`). Never raises."""
    if chat.moves:
        await _disconnect(chat.customer, transcript)
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
    if not chat.moves:
        await _disconnect(chat.customer, transcript)
    try:
        await chat.customer.aclose()
    except Exception as err:
        transcript.note("customer", f"closing the customer client failed: {err!r}")


# -- the book --------------------------------------------------------------------------------------


class ChatBook:
    """Tagged chats made by one test, and the agents whose channel state it changed."""

    def __init__(
        self,
        transcript: Transcript,
        agents: Sequence[Agent],
        make_customer: Callable[..., Customer],
        tag: str,
    ) -> None:
        self.transcript, self.agents = transcript, tuple(agents)
        self.make_customer, self.base_tag = make_customer, tag
        self.made: list[Chat] = []
        self.loose: list[Customer] = []  # customers whose chat was never seen by an agent
        self.touched: set[str] = set()  # agents a test made NotReady or ended the session of
        self.ended: set[str] = set()  # agents whose session the test ended (until set_ready(True))
        self.watch: StepHook | None = None  # run after every step of the customers it makes
        self.count = 0
        self.marks = {a.name: a.notifications.mark() for a in agents}  # what came before the book's chats

    def new_tag(self) -> str:
        self.count += 1
        return f"{self.base_tag}-{self.count}"

    async def customer(
        self,
        tag: str,
        route_to_agent: Agent | None,
        route_to_skill: str | None = None,
        actor: str | None = None,
    ) -> Customer:
        """A started customer (no message yet), its chat carrying the tag and the routing hints."""
        customer = self.make_customer(actor or f"customer-{tag}")
        if self.watch is not None:
            customer.after_step.append(self.watch)
        self.loose.append(customer)
        await customer.start(
            route_to_agent=route_to_agent.name if route_to_agent else None,
            route_to_skill=route_to_skill,
            tag=tag,
        )
        return customer

    def adopt(self, chat_id: str, tag: str, customer: Customer, owner: Agent, moves: bool = False) -> Chat:
        """Record a chat (found by its invitation) for cleanup."""
        return self._keep(Chat(chat_id, tag, customer, owner, moves=moves), customer)

    def _keep(self, chat: Chat, customer: Customer) -> Chat:
        if customer in self.loose:
            self.loose.remove(customer)
        self.made.append(chat)
        return chat

    async def invited(
        self,
        owner: Agent,
        skill: str | None = None,
        first: str | None = "hello",
        requirement: str = "SESSION-02",
        tag: str | None = None,
        settle: bool = False,
        actor: str | None = None,
    ) -> Chat:
        """A chat routed to `owner` (and then to `skill`), the customer's message `first` sent (none when
        None), the invitation seen; with `settle`, a barrier after it (whatever the server sent with the
        invitation is in). A chat with a skill may move on: see `Chat.moves`."""
        tag = tag or self.new_tag()
        since = owner.notifications.mark()
        customer = await self.customer(tag, owner, skill, actor)
        if first is not None:
            await customer.send(first)
        chat_id = await owner.wait_invitation(tag, requirement=requirement, since=since)
        if settle:
            await owner.barrier()
        return self.adopt(chat_id, tag, customer, owner, moves=skill is not None)

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

    async def moving(self, first: Agent, choose: SkillChoice, tag: str | None = None) -> MovingChat:
        """A chat invited to `first` and bound to the skill `choose` picks (skipped when none), held by
        the one agent it may reach once `first` lets it go."""
        chosen = choose(self.agents, first)
        if chosen is None:
            pytest.skip(f"the target has no skill that exactly one agent besides {first.name} holds")
        skill, nxt = chosen
        tag = tag or self.new_tag()
        since = first.notifications.mark()
        customer = await self.customer(tag, first, skill, actor="customer")
        await customer.send("hello, I need help")
        chat_id = await first.wait_invitation(tag, since=since)
        chat = MovingChat(chat_id, tag, customer, first, moves=True, next=nxt, skill=skill)
        self._keep(chat, customer)
        return chat

    async def set_ready(self, agent: Agent, ready: bool) -> int:
        """Ready or NotReady, confirmed; a NotReady agent is put back to Ready at teardown."""
        if not ready:
            self.touched.add(agent.name)
        else:
            self.ended.discard(agent.name)  # Ready starts the session again (profile section 4)
        return (await (agent.ready() if ready else agent.not_ready())).seq

    async def end_session(self, agent: Agent) -> None:
        """EndContactCenterSession; the session is started again and the agent made Ready at teardown."""
        self.touched.add(agent.name)
        self.ended.add(agent.name)
        expect.success(await agent.client.end_session(), "SESSION-01")

    async def close(self) -> None:
        """Clean every chat, disconnect stray customers, then put the touched agents back to Ready
        (last, so a queued chat of this test cannot reach them)."""
        for chat in self.made:
            await cleanup(chat, self.agents, self.transcript)
        for customer in self.loose:
            await _disconnect(customer, self.transcript)
            with contextlib.suppress(Exception):
                await customer.aclose()
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

