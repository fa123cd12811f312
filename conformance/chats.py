"""Chats in named states, made by one test and cleaned up after it: the one way suites start a chat.

`ChatBook` starts tagged chats routed to chosen agents (`invited`, `accepted`, `consultation`,
`moving`), remembers each, and `close()` leaves nothing behind: every chat is cleaned (`cleanup`),
stray customers disconnect, and every agent whose channel state the test changed is put back to Ready.
The state-named fixtures of conformance.fixtures are built on it. Cleanup never raises: problems are
noted in the transcript.

Routing (the target's `routing`): with `hints` each chat carries RouteToAgent (and RouteToSkill), and
a chat that reaches another agent than the one named stops the run with `RoutingModeMismatch` (the
server does not honour the hints). With `one-ready-agent` no hint is sent: while a chat is routed, the
agent it must reach is the only Ready one (the others NotReady, confirmed); once it is invited, the
agents the chat may move on to (the skill's holders, else every other one) are Ready again. Tests run
one at a time per server (a remote target allows no parallel workers; each embedded worker has its own).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pytest

from conformance import expect, match
from conformance.actors import TAG_KEY, Agent, Customer, StepHook
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


# -- routing ---------------------------------------------------------------------------------------

HINTS, ONE_READY_AGENT = "hints", "one-ready-agent"
ROUTING_SKIP = f'routing = "{ONE_READY_AGENT}": '  # how the skip reasons of this mode begin
# The skip reason of a test that needs chats routed to named agents while several are Ready.
ROUTED_BY_HINTS_ONLY = (f"{ROUTING_SKIP}the test needs several chats routed at once to named agents, which "
                        'only a server honouring RouteToAgent can be told (routing = "hints")')


class RoutingModeMismatch(Exception):
    """The target's routing mode is not the server's: a hinted chat reached another agent. Not a
    deviation from the profile (an ERROR, and the run stops): the target file names the wrong mode."""


ROUTING_STOP = "wrong routing mode: "  # how the run's interruption names a RoutingModeMismatch


def mismatch_line(chat_tag: str, named: Agent, reached: Agent) -> str:
    return (f'routing = "hints", but the server routed a chat with RouteToAgent={named.name} to '
            f"{reached.name} (tag {chat_tag}): it does not honour the routing hints; set "
            f'routing = "one-ready-agent" in the target file (or --routing one-ready-agent)')


# -- the book --------------------------------------------------------------------------------------


class ChatBook:
    """Tagged chats made by one test, and the agents whose channel state it changed."""

    def __init__(
        self,
        transcript: Transcript,
        agents: Sequence[Agent],
        make_customer: Callable[..., Customer],
        tag: str,
        routing: str = HINTS,
    ) -> None:
        self.transcript, self.agents = transcript, tuple(agents)
        self.make_customer, self.base_tag = make_customer, tag
        self.routing = routing
        self.made: list[Chat] = []
        self.loose: list[Customer] = []  # customers whose chat was never seen by an agent
        self.touched: set[str] = set()  # agents a test made NotReady or ended the session of
        self.not_ready: set[str] = set()  # agents NotReady now (or without a session), as far as we know
        self.parked: set[str] = set()  # of those, the ones routing made NotReady (one-ready-agent)
        # hinted chats (tag, the agent named, every agent's mark) whose named agent was not invited yet
        self.hinted: list[tuple[str, Agent, dict[str, int]]] = []
        self.ended: set[str] = set()  # agents whose session the test ended (until set_ready(True))
        self.watch: StepHook | None = None  # run after every step of the customers it makes
        self.count = 0
        self.marks = {a.name: a.notifications.mark() for a in agents}  # what came before the book's chats

    @property
    def hints(self) -> bool:
        """The server honours RouteToAgent/RouteToSkill: chats carry them, and agents stay Ready."""
        return self.routing != ONE_READY_AGENT

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
        """A started customer (no message yet), its chat carrying the tag and the routing hints; with
        routing "one-ready-agent", no hint, and every agent but `route_to_agent` NotReady first (its own
        state stays as the test set it)."""
        if not self.hints:
            if route_to_agent is not None:
                await self._park_all_but(route_to_agent)
            route_to_agent, route_to_skill = None, None
        self.check_hints()
        if route_to_agent is not None:
            self.hinted.append((tag, route_to_agent, {a.name: a.notifications.mark() for a in self.agents}))
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

    def check_hints(self) -> None:
        """RoutingModeMismatch when a chat hinted RouteToAgent has reached another agent before the one
        named (with routing hints; a chat moves on only once its named agent has been invited)."""
        for hinted in list(self.hinted):
            tag, named, marks = hinted
            tagged = match.status_change(named.profile, None, State.INVITED, user_data=(TAG_KEY, tag))
            if any(tagged(n) is None for n in named.notifications.since(marks[named.name])):
                self.hinted.remove(hinted)  # the hint held; wherever the chat goes next is routing's
                continue
            for agent in self.agents:
                seen = agent.notifications.since(marks[agent.name])
                if agent is not named and any(tagged(n) is None for n in seen):
                    raise RoutingModeMismatch(mismatch_line(tag, named, agent))

    async def _park_all_but(self, keep: Agent) -> None:
        if keep.name in self.parked:  # parked for an earlier chat of this test
            await self.set_ready(keep, True)
        for agent in self.agents:
            if agent is not keep and agent.name not in self.not_ready:
                await self.set_ready(agent, False)
                self.parked.add(agent.name)

    async def _unpark_after(self, owner: Agent, skill: str | None) -> None:
        """The chat is invited to `owner`: the agents it may move on to (the holders of `skill`, else
        every other agent) routing parked are Ready again (one-ready-agent)."""
        others = [a for a in self.agents if a is not owner]
        if skill is not None:
            others = holders(others, skill) or others
        for agent in others:
            if agent.name in self.parked:
                await self.set_ready(agent, True)

    async def _arrival(self, owner: Agent, tag: str, requirement: str, marks: dict[str, int]) -> str:
        """The id of the chat tagged `tag` once `owner` is invited to it. With routing hints, an
        invitation of another agent first is `RoutingModeMismatch` (at once, not after a deadline)."""
        waiting = owner.wait_invitation(tag, requirement=requirement, since=marks[owner.name])
        others = [a for a in self.agents if a is not owner]
        if not self.hints or not others:
            return await waiting
        tagged = match.status_change(owner.profile, None, State.INVITED, user_data=(TAG_KEY, tag))
        main: asyncio.Future[str] = asyncio.ensure_future(waiting)
        watchers: dict[asyncio.Future[Any], Agent] = {
            asyncio.ensure_future(a.notifications.watch(tagged, owner.timeout_s, marks[a.name])): a
            for a in others
        }
        pending: set[asyncio.Future[Any]] = {main, *watchers}
        try:
            while main in pending:
                done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
                for task in done:
                    if task is not main and task.result() is not None:
                        raise RoutingModeMismatch(mismatch_line(tag, owner, watchers[task]))
            if main.exception() is not None:
                for agent in others:  # the invitation went elsewhere just as the deadline passed
                    if any(tagged(n) is None for n in agent.notifications.since(marks[agent.name])):
                        raise RoutingModeMismatch(mismatch_line(tag, owner, agent))
            return str(main.result())
        finally:
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)

    def adopt(self, chat_id: str, tag: str, customer: Customer, owner: Agent, moves: bool = False) -> Chat:
        """Record a chat (found by its invitation) for cleanup."""
        self.check_hints()
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
        customer, marks = await self._routed(tag, owner, skill, actor)
        if first is not None:
            await customer.send(first)
        chat_id = await self._arrival(owner, tag, requirement, marks)
        if not self.hints:
            await self._unpark_after(owner, skill)
        if settle:
            await owner.barrier()
        return self.adopt(chat_id, tag, customer, owner, moves=skill is not None)

    async def _routed(
        self, tag: str, owner: Agent, skill: str | None, actor: str | None
    ) -> tuple[Customer, dict[str, int]]:
        """A started customer for a chat that must reach `owner`, and every agent's mark before it."""
        if not self.hints:
            await self._park_all_but(owner)
        marks = {a.name: a.notifications.mark() for a in self.agents}
        return await self.customer(tag, owner, skill, actor), marks

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

    async def moving(
        self, first: Agent, choose: SkillChoice, tag: str | None = None, all_ready: bool = False
    ) -> MovingChat:
        """A chat invited to `first` and bound to the skill `choose` picks (skipped when none), held by
        the one agent it may reach once `first` lets it go. With routing "one-ready-agent" only that
        agent is Ready again after the invitation, or, with `all_ready` (for a test that never lets the
        invitation go, e.g. a Transfer to the skill, which must pick the holder among Ready agents),
        every agent."""
        chosen = choose(self.agents, first)
        if chosen is None:
            pytest.skip(f"the target has no skill that exactly one agent besides {first.name} holds")
        skill, nxt = chosen
        tag = tag or self.new_tag()
        customer, marks = await self._routed(tag, first, skill, "customer")
        await customer.send("hello, I need help")
        chat_id = await self._arrival(first, tag, "SESSION-02", marks)
        if not self.hints:
            await self._unpark_after(first, None if all_ready else skill)
        chat = MovingChat(chat_id, tag, customer, first, moves=True, next=nxt, skill=skill)
        self._keep(chat, customer)
        return chat

    async def set_ready(self, agent: Agent, ready: bool) -> int:
        """Ready or NotReady, confirmed; a NotReady agent is put back to Ready at teardown."""
        self.check_hints()
        if not ready:
            self.touched.add(agent.name)
            self.not_ready.add(agent.name)
        else:
            self.not_ready.discard(agent.name)
            self.parked.discard(agent.name)
            self.ended.discard(agent.name)  # Ready starts the session again (profile section 4)
        return (await (agent.ready() if ready else agent.not_ready())).seq

    async def end_session(self, agent: Agent) -> None:
        """EndContactCenterSession; the session is started again and the agent made Ready at teardown."""
        self.check_hints()
        self.touched.add(agent.name)
        self.not_ready.add(agent.name)
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

