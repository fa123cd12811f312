"""A stateful machine over chats: the ten operations, customer actions and Ready/NotReady, at random.

The model is built from the profile's capability table (profile.capabilities(Position...)). After
every step, every agent is brought up to date with a barrier and checked: each StatusChange carries the
model's state and exactly the capabilities of its row (STATE-01), operations outside the capabilities
fail and those inside succeed (STATE-02/03), states move forward (STATE-04), nothing follows
Completed (STATE-05), and the order rules hold (ORDER-01..03); then every agent's REST views and every
customer's transcript agree with those notifications (conformance.views). Sparse configurations: any
agent, the fourth too, goes NotReady, or one rule leaves a single agent (or none) Ready; every invitation
must reach a Ready agent and a queued chat is offered once a candidate is Ready (SESSION-02, REJECT-02
right after a reject: routing, reject and session rules with one or no agent Ready, the only Ready agent
excluded because it was invited before; a chat rejected while no other agent is Ready waits for
one). Rules are synchronous: they
drive the session loop from the machine's thread (asyncio.run_coroutine_threadsafe). A failing run
shrinks to a short script of rule calls, which hypothesis prints.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from conformance.api import (
    INTERACTION_OPERATIONS,
    NOTIFICATION_TYPE,
    ONE_READY_AGENT,
    ROUTED_BY_HINTS_ONLY,
    TAG_KEY,
    Agent,
    ChatBook,
    ChatMessageType,
    Field,
    NotificationType,
    Operation,
    Position,
    State,
    Status,
    check_agent,
    expect,
    log_of,
    raise_first,
    views_agree,
)

pytestmark = pytest.mark.generated

TAKING_PART = {
    Position.OWNER,
    Position.OWNER_CONSULTANT_INVITED,
    Position.OWNER_CONSULTANT_JOINED,
    Position.CONSULTANT,
    Position.CONFERENCE_MEMBER,
    Position.CUSTOMER_LEFT,
}


class ChatModel:
    def __init__(self, number: int, tag: str, customer: Any, hinted: str) -> None:
        self.number, self.tag, self.customer, self.hinted = number, tag, customer, hinted
        self.id: str | None = None
        self.pos: dict[str, Position] = {}  # agent name -> position
        self.consultant: str | None = None
        self.customer_here = True
        self.ended = False
        # what an invitation to the ended chat breaks: the last agent's stop should have ended it
        self.ended_by = "STATE-04"
        self.rejected_by: set[str] = set()  # its Completed is REJECT-01's premise
        self.just_rejected = False  # rejected in the step being checked: a missing offer is REJECT-02's

    def __repr__(self) -> str:
        return f"chat{self.number}"

    def takers(self) -> list[str]:
        return [a for a, p in self.pos.items() if p in TAKING_PART]

    def role(self, *positions: Position) -> str | None:
        return next((a for a, p in self.pos.items() if p in positions), None)


def _waiting(chat: ChatModel) -> bool:
    """In the routing queue: the customer is there and nobody is invited or taking part."""
    busy = TAKING_PART | {Position.INVITED}
    return not chat.ended and chat.customer_here and not any(p in busy for p in chat.pos.values())


def _state_of(position: Position) -> State:
    if position == Position.INVITED:
        return State.INVITED
    return State.COMPLETED if position == Position.COMPLETED else State.PROCESSING


class ChatMachine(RuleBasedStateMachine):
    """Configured by `configure` before hypothesis runs it (one loop, the session's agents)."""

    loop: asyncio.AbstractEventLoop
    factory: ChatBook
    agents: dict[str, Agent]
    chats = Bundle("chats")

    def __init__(self) -> None:
        super().__init__()
        self.profile = next(iter(self.agents.values())).profile
        self.models: list[ChatModel] = []
        self.ready = {name: True for name in self.agents}

    def run(self, coro: Coroutine[Any, Any, Any]) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(60)

    # -- rules ----------------------------------------------------------------------------------

    @initialize(target=chats, agent=st.sampled_from(["a", "b", "c"]))
    def first_customer_starts_chat(self, agent: str) -> ChatModel:
        """Every example has a chat to check (rules may be switched off for a whole example)."""
        return self._start_chat(agent)

    @rule(target=chats, agent=st.sampled_from(["a", "b", "c"]))
    def customer_starts_chat(self, agent: str) -> ChatModel:
        return self._start_chat(agent)

    def _start_chat(self, agent: str) -> ChatModel:
        party = self._agent(agent)
        tag = self.factory.new_tag()
        customer = self.run(self.factory.customer(tag, party))
        model = ChatModel(len(self.models) + 1, tag, customer, party.name)
        self.models.append(model)
        return model

    @rule(
        chat=chats,
        agent=st.sampled_from(["a", "b", "c", "owner", "owner", "consultant"]),
        op=st.sampled_from(INTERACTION_OPERATIONS),
        other=st.sampled_from(["a", "b", "c", "free", "free"]),
    )
    def agent_performs(self, chat: ChatModel, agent: str, op: Operation, other: str) -> None:
        """Any agent (often the one the chat's roles make interesting) tries any operation."""
        if chat.id is None:
            return
        actor, target = self._pick(chat, agent), self._pick(chat, other)
        fields: dict[str, Any] = {}
        if op == Operation.SEND_MESSAGE:
            fields[Field.TEXT] = f"{actor.name} says {len(actor.notifications)}"
        elif op == Operation.SEND_NOTIFICATION:
            fields[Field.NOTIFICATION] = self.profile.wire(ChatMessageType.TYPING_STARTED)
        elif op in (Operation.TRANSFER, Operation.INITIATE_CONSULTATION):
            fields[Field.AGENT_ID] = target.id
        pos = chat.pos.get(actor.name)
        reply = self.run(actor.client.perform(chat.id, op, **fields))
        if pos is None:  # never invited: another agent's interaction, "not found" for this one
            expect.failure(reply, "AUTH-05", {Status.NOT_FOUND}, self.profile)
            return
        if pos == Position.COMPLETED:
            expect.failure(reply, "STATE-05", {Status.INVALID_PARAMETER, Status.NOT_FOUND}, self.profile)
            return
        if op not in self.profile.capabilities(pos):
            expect.failure(reply, "STATE-02", Status.INVALID_PARAMETER, self.profile)
            return
        if op in (Operation.TRANSFER, Operation.INITIATE_CONSULTATION) and (
            target is actor or not self.ready[target.name] or target.name in chat.pos
        ):
            expect.failure(reply, "STATE-03", Status.INVALID_PARAMETER, self.profile)
            return
        expect.success(reply, "STATE-03")
        self._apply(chat, actor.name, op, target.name)

    @rule(chat=chats)
    def invited_agent_accepts(self, chat: ChatModel) -> None:
        invited = chat.role(Position.INVITED)
        if chat.id is not None and invited is not None:
            reply = self.run(self.agents[invited].client.perform(chat.id, Operation.ACCEPT))
            expect.success(reply, "STATE-03")
            self._apply(chat, invited, Operation.ACCEPT, invited)

    @rule(chat=chats, action=st.sampled_from(["send", "typing", "disconnect"]))
    def customer_acts(self, chat: ChatModel, action: str) -> None:
        if not chat.customer_here or chat.ended:
            return
        if action == "send":
            self.run(chat.customer.send(f"customer of {chat!r}"))
        elif action == "typing":
            self.run(chat.customer.typing(True))
        else:
            self.run(chat.customer.disconnect())
            chat.customer_here = False
            chat.consultant = None
            for name, p in list(chat.pos.items()):
                if p == Position.INVITED:
                    chat.pos[name] = Position.COMPLETED
                elif p in TAKING_PART:
                    chat.pos[name] = Position.CUSTOMER_LEFT
            chat.ended = not chat.takers()

    @rule(agent=st.sampled_from(["a", "b", "c", "d"]), ready=st.booleans())
    def agent_sets_channel(self, agent: str, ready: bool) -> None:
        party = self._agent(agent)
        self.run(self.factory.set_ready(party, ready))
        self.ready[party.name] = ready

    @rule(agent=st.sampled_from(["a", "b", "c", "d", "none"]))
    def only_one_agent_ready(self, agent: str) -> None:
        """A sparse configuration in one step: this agent alone is Ready (or none is); queued chats wait
        for it, re-routing has at most one candidate, and one that rejected has none."""
        keep = None if agent == "none" else self._agent(agent).name
        for name, party in self.agents.items():
            if self.ready[name] != (name == keep):
                self.run(self.factory.set_ready(party, name == keep))
                self.ready[name] = name == keep

    def _queued(self) -> list[tuple[ChatModel, str]]:
        """Each chat waiting in the queue with each NotReady agent it may go to."""
        return [(c, n) for c in self.models if _waiting(c) for n in self._routable_to(c) if not self.ready[n]]

    def _invited(self) -> list[tuple[ChatModel, str]]:
        """Each chat with an agent invited to it, and that agent."""
        return [(c, n) for c in self.models if c.id for n, p in c.pos.items() if p == Position.INVITED]

    @precondition(lambda self: bool(self._queued() or self._invited()))
    @rule(pick=st.integers(0, 7))
    def queue_with_few_agents(self, pick: int) -> None:
        """The queue in a sparse configuration, one move per step: while a chat waits in the queue, a
        NotReady agent it may go to becomes Ready; otherwise an invited agent rejects alone. Each move is
        also a rule of its own below: hypothesis switches rules off for whole examples (swarm testing),
        and three rules reach a waiting chat in more examples of a small budget than one."""
        if self._queued():
            self.candidate_becomes_ready(pick)
        else:
            self.agent_rejects_alone(pick)

    @precondition(lambda self: bool(self._queued()))
    @rule(pick=st.integers(0, 7))
    def candidate_becomes_ready(self, pick: int) -> None:
        """A NotReady agent a queued chat may go to becomes Ready (not a login): the chat is offered to
        it now (SESSION-02), whether it waited since it started or since its last agent rejected it."""
        queued = self._queued()
        _chat, name = queued[pick % len(queued)]
        self.run(self.factory.set_ready(self.agents[name], True))
        self.ready[name] = True

    @precondition(lambda self: bool(self._invited()))
    @rule(pick=st.integers(0, 7))
    def agent_rejects_alone(self, pick: int) -> None:
        """An invited agent rejects after every other agent went NotReady: the rejected chat has no
        candidate and must wait in the queue for one (a consultation invitation just ends)."""
        invited = self._invited()
        chat, name = invited[pick % len(invited)]
        for other, party in self.agents.items():
            if other != name and self.ready[other]:
                self.run(self.factory.set_ready(party, False))
                self.ready[other] = False
        reply = self.run(self.agents[name].client.perform(str(chat.id), Operation.REJECT))
        expect.success(reply, "STATE-03")
        self._apply(chat, name, Operation.REJECT, name)

    # -- the model ------------------------------------------------------------------------------

    def _apply(self, chat: ChatModel, actor: str, op: Operation, other: str) -> None:
        pos, owner_joined = chat.pos, Position.OWNER_CONSULTANT_JOINED
        if op == Operation.ACCEPT:
            if actor == chat.consultant:
                pos[actor] = Position.CONSULTANT
                owner = chat.role(Position.OWNER_CONSULTANT_INVITED)
                if owner:
                    pos[owner] = owner_joined
            else:
                pos[actor] = Position.OWNER
        elif op == Operation.REJECT:
            pos[actor] = Position.COMPLETED
            chat.rejected_by.add(actor)
            chat.just_rejected = True
            if actor == chat.consultant:
                chat.consultant = None
                owner = chat.role(Position.OWNER_CONSULTANT_INVITED)
                if owner:
                    pos[owner] = Position.OWNER
        elif op == Operation.TRANSFER:
            pos[actor], pos[other] = Position.COMPLETED, Position.INVITED
        elif op == Operation.INITIATE_CONSULTATION:
            pos[actor], pos[other] = Position.OWNER_CONSULTANT_INVITED, Position.INVITED
            chat.consultant = other
        elif op == Operation.COMPLETE_TRANSFER:
            pos[actor] = Position.COMPLETED
            pos[chat.consultant or ""] = Position.OWNER
            chat.consultant = None
        elif op == Operation.COMPLETE_CONFERENCE:
            pos[actor] = pos[chat.consultant or ""] = Position.CONFERENCE_MEMBER
            chat.consultant = None
        elif op == Operation.STOP_PROCESSING:
            was, pos[actor] = pos[actor], Position.COMPLETED
            if was == Position.CONSULTANT:
                chat.consultant = None
                owner = chat.role(owner_joined)
                if owner:
                    pos[owner] = Position.OWNER
            elif was == Position.CONFERENCE_MEMBER:
                other_member = chat.role(Position.CONFERENCE_MEMBER)
                if other_member:
                    pos[other_member] = Position.OWNER
            chat.ended = not chat.takers()
            if chat.ended and chat.customer_here:
                chat.ended_by = "STOP-02"
        pos.pop("", None)

    def _agent(self, letter: str) -> Agent:
        parties = list(self.agents.values())
        return parties["abcd".index(letter) % len(parties)]  # "d" is "a" again with three agents

    def _pick(self, chat: ChatModel, who: str) -> Agent:
        """A letter, or a role: "owner", "consultant", "free" (Ready, never in this chat); falls
        back to the first agent when nobody has that role."""
        if who in ("a", "b", "c"):
            return self._agent(who)
        if who == "free":
            name = next((n for n in self.agents if n not in chat.pos and self.ready[n]), None)
        elif who == "consultant":
            name = chat.role(Position.CONSULTANT, Position.CONFERENCE_MEMBER)
        else:
            name = chat.role(*(TAKING_PART - {Position.CONSULTANT}))
        return self.agents[name] if name else self._agent("a")

    # -- after every step -----------------------------------------------------------------------

    @invariant()
    def every_agent_agrees_with_the_model(self) -> None:
        if not self.models:
            return
        for party in self.agents.values():
            self.run(party.barrier(ready=self.ready[party.name]))
        for chat in self.models:
            self._observe_invitations(chat)
            self._check_offered(chat)
            if chat.id is None:
                continue
            for party in self.agents.values():
                log = log_of(party, chat.id)
                raise_first(check_agent(self.profile, log, None, who=party.name))
                self._check_position(chat, party, log)
        # Then every REST view and every customer's transcript against those notifications (SESSION-03,
        # CUSTOMER-02, ORDER-02): after the model's checks, so a wrong notification is blamed as such.
        self.run(views_agree(self.factory, synced=True))

    def _observe_invitations(self, chat: ChatModel) -> None:
        invited = self.profile.wire(State.INVITED)
        status_change = self.profile.wire(NotificationType.STATUS_CHANGE)
        for party in self.agents.values():
            times = 0  # invitations of this agent to this chat
            for n in party.notifications.since(0):
                inter = n.data.get("interaction")
                if not isinstance(inter, dict) or inter.get("state") != invited:
                    continue
                user_data = inter.get("userData") or {}
                if chat.id is None and user_data.get(TAG_KEY) == chat.tag:
                    chat.id = str(inter.get("id"))
                    self.factory.adopt(chat.id, chat.tag, chat.customer, party)
                if inter.get("id") == chat.id and n.data.get(NOTIFICATION_TYPE) == status_change:
                    times += 1
                    # never invited again to a chat it was invited to (section 4): STATE-04's, checked
                    # before the agent's log, where the second invitation also follows a Completed
                    expect.that(times == 1, "STATE-04", f"{party.name} invited to {chat!r} once", times)
                if inter.get("id") == chat.id and party.name not in chat.pos:
                    expect.that(
                        not chat.ended and chat.customer_here,
                        chat.ended_by,
                        f"no invitation to the ended {chat!r}",
                        party.name,
                    )
                    expect.that(self.ready[party.name], "SESSION-02",
                                f"no invitation of the NotReady {party.name} to {chat!r}", "invited")
                    chat.pos[party.name] = Position.INVITED

    def _check_offered(self, chat: ChatModel) -> None:
        """A chat waiting in the queue has no candidate left: none of the agents routing may invite to it
        (its hinted agent while never invited, else any agent never invited to it) is Ready (SESSION-02;
        right after a reject, REJECT-02: the rejected chat is offered to another Ready agent)."""
        just_rejected, chat.just_rejected = chat.just_rejected, False
        if not _waiting(chat):
            return
        candidates = [n for n in self._routable_to(chat) if self.ready[n]]
        expect.that(
            not candidates,
            "REJECT-02" if just_rejected else "SESSION-02",
            f"{chat!r}, waiting in the queue, offered to one of its Ready candidates {candidates}",
            f"no invitation; invited before: {sorted(chat.pos)}",
        )

    def _routable_to(self, chat: ChatModel) -> list[str]:
        """The agents routing may invite to the chat, Ready or not: its hinted agent while never invited,
        else every agent never invited to it."""
        if chat.hinted not in chat.pos:
            return [chat.hinted]
        return [n for n in self.agents if n not in chat.pos]

    def _check_position(self, chat: ChatModel, party: Agent, log: list[dict[str, Any]]) -> None:
        want = chat.pos.get(party.name)
        status_change = self.profile.wire(NotificationType.STATUS_CHANGE)
        changes = [d["interaction"] for d in log if d.get(NOTIFICATION_TYPE) == status_change]
        if want is None:
            expect.that(not log, "STATE-05", f"nothing about {chat!r} for {party.name}", len(log))
            return
        last = changes[-1] if changes else {}
        got = (last.get("state"), frozenset(last.get("capabilities") or ()))
        exp = (self.profile.wire(_state_of(want)), self.profile.capability_names(want))
        invited = (self.profile.wire(State.INVITED), self.profile.capability_names(Position.INVITED))
        rejected = want == Position.COMPLETED and party.name in chat.rejected_by and got == invited
        requirement = "REJECT-01" if rejected else "STATE-01"  # no Completed after its Reject: REJECT-01's
        expect.that(got == exp, requirement, f"{party.name} in {chat!r} as {want.value}: {exp}", got)

    def teardown(self) -> None:
        self.run(self.factory.close())


@pytest.mark.requirement(
    "STATE-01", "STATE-02", "STATE-03", "STATE-04", "STATE-05", "ORDER-01", "ORDER-02", "ORDER-03",
    "SESSION-02",
)
async def test_random_operation_sequences_keep_states_and_order(
    agents, target, transcript, make_customer, tag
):
    if len(agents) < 3:
        pytest.skip("the machine needs three agents")
    if target.routing == ONE_READY_AGENT:
        pytest.skip(ROUTED_BY_HINTS_ONLY)
    ChatMachine.loop = asyncio.get_running_loop()
    ChatMachine.agents = {agent.name: agent for agent in agents}
    examples = iter(range(1_000_000))

    class Configured(ChatMachine):
        def __init__(self) -> None:
            book_tag = f"{tag}-m{next(examples)}"
            type(self).factory = ChatBook(transcript, agents, make_customer, book_tag)
            super().__init__()

    # Sized from the hypothesis profile: dev and ci (up to 100 examples) explore at most 15 chats of
    # 20 steps; nightly explores a quarter of its examples, 50 steps each.
    base = settings()
    deep = base.max_examples > 100
    run = settings(
        base,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        max_examples=base.max_examples // 4 if deep else min(base.max_examples, 15),
        stateful_step_count=50 if deep else min(base.stateful_step_count, 20),
    )
    await asyncio.to_thread(run_state_machine_as_test, Configured, settings=run)
