"""Synced steps and chat fixtures for the multi-step suites (flows, ordering, the stateful machine).

A `Party` is one agent's session: HTTP client, Bayeux client, notification log. Each step asserts
success (with the requirement given) and waits for its confirming notification. Chats are tagged
with a run-unique value in their user data and pinned to their agent with the routing hints.
"""

from __future__ import annotations

import itertools
import secrets
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest
import pytest_asyncio

from conformance import expect, match
from conformance.bayeux import BayeuxClient
from conformance.client import AgentClient, Reply
from conformance.customer import CustomerClient, messages_of
from conformance.notifications import Notification, NotificationLog
from conformance.spec import (
    Channel,
    ChannelState,
    Field,
    MessageType,
    Notice,
    Operation,
    Position,
    Profile,
    RoutingKey,
    State,
    Status,
)
from conformance.transcript import Transcript
from suites.flows.chat_invariants import Violation, check_agent

TAG_KEY = "ConformanceTag"
_serial = itertools.count(1)


class Party:
    """One agent of the target, logged in, subscribed, Ready."""

    def __init__(self, spec: Any, target: Any, transcript: Transcript) -> None:
        self.spec = spec
        self.id: str = spec.id
        self.name: str = spec.username
        self.profile: Profile = target.profile
        self.timeout_s: float = target.timeout_s
        self.client = AgentClient(
            target.base_url,
            spec.username,
            spec.password,
            target.profile,
            transcript,
            target.timeout_s,
            target.verify_tls,
            target.csrf,
            actor=spec.username,
        )
        self.notifications = NotificationLog(target.profile)
        self.bayeux = BayeuxClient(
            self.client.http,
            target.base_url.rstrip("/") + target.profile.http.notifications_path,
            transcript,
            spec.username,
            lambda m: self.notifications.append(str(m.get("channel")), m.get("data")),
            timeout_s=target.timeout_s,
        )
        self.ready = True

    async def open(self) -> None:
        expect.success(await self.client.login(), "AUTH-01")
        expect.success(await self.client.start_session(), "SESSION-01")
        await self.bayeux.handshake()
        await self.bayeux.subscribe(
            self.profile.wire(Channel.INTERACTIONS), self.profile.wire(Channel.CHANNELS)
        )
        self.bayeux.start()
        await self.set_ready(True)

    async def close(self) -> None:
        await self.bayeux.disconnect()
        await self.client.aclose()

    async def set_ready(self, ready: bool) -> int:
        """Ready or NotReady, waiting for its channel notification; returns the mark after it."""
        since = self.notifications.mark()
        reply = await (self.client.set_ready() if ready else self.client.set_not_ready())
        expect.success(reply, "SESSION-01")
        state = ChannelState.READY if ready else ChannelState.NOT_READY
        got = await expect.notification(
            self,
            "SESSION-01",
            match.channel_state(self.profile, state),
            f"channel state {state.value}",
            since,
        )
        self.ready = ready
        return got.seq + 1

    async def barrier(self) -> int:
        """Everything the server queued for this agent before now has arrived (per-client FIFO)."""
        return await self.set_ready(self.ready)

    async def do(self, interaction_id: str, op: Operation, requirement: str, **fields: Any) -> Reply:
        return expect.success(await self.client.perform(interaction_id, op, **fields), requirement)

    async def wait_invitation(self, tag: str, requirement: str = "ORDER-01", since: int = 0) -> str:
        def invited(n: Notification) -> str | None:
            return match.status_change(self.profile, None, State.INVITED, user_data=(TAG_KEY, tag))(n)

        got = await expect.notification(self, requirement, invited, f"an invitation to chat {tag}", since)
        return str(got.data["interaction"]["id"])

    async def _own(
        self, interaction_id: str, since: int, requirement: str, check: Any, what: str
    ) -> Notification:
        return await expect.notification(self, requirement, check, what, since)

    async def accept(self, interaction_id: str, requirement: str = "ACCEPT-01") -> list[dict[str, Any]]:
        since = self.notifications.mark()
        await self.do(interaction_id, Operation.ACCEPT, requirement)
        got = await expect.sequence(
            self,
            interaction_id,
            requirement,
            [
                match.status_change(self.profile, interaction_id, State.PROCESSING),
                match.participants_updated(self.profile, interaction_id),
                match.chat_history(self.profile, interaction_id),
            ],
            since,
            f"{self.name} accepts",
        )
        return list(got[-1].data.get("messages", []))

    async def reject(self, interaction_id: str, requirement: str = "REJECT-01") -> None:
        since = self.notifications.mark()
        await self.do(interaction_id, Operation.REJECT, requirement)
        await self._own(
            interaction_id,
            since,
            requirement,
            match.status_change(self.profile, interaction_id, State.COMPLETED),
            "Completed",
        )

    async def send_message(self, interaction_id: str, text: str, requirement: str = "MESSAGE-01") -> None:
        since = self.notifications.mark()
        await self.do(interaction_id, Operation.SEND_MESSAGE, requirement, **{Field.TEXT: text})
        await self._own(
            interaction_id,
            since,
            requirement,
            match.new_message(self.profile, interaction_id, MessageType.TEXT, text),
            f"own {text!r}",
        )

    async def send_typing(
        self, interaction_id: str, kind: MessageType, requirement: str = "TYPING-01"
    ) -> None:
        since = self.notifications.mark()
        await self.do(
            interaction_id,
            Operation.SEND_NOTIFICATION,
            requirement,
            **{Field.NOTIFICATION: self.profile.wire(kind)},
        )
        await self._own(
            interaction_id,
            since,
            requirement,
            match.new_message(self.profile, interaction_id, kind),
            f"own {kind.value}",
        )

    async def leave(self, interaction_id: str, op: Operation, requirement: str, **fields: Any) -> None:
        """An operation after which this agent is Completed (stop, transfer, complete transfer)."""
        since = self.notifications.mark()
        await self.do(interaction_id, op, requirement, **fields)
        await self._own(
            interaction_id,
            since,
            requirement,
            match.status_change(self.profile, interaction_id, State.COMPLETED),
            "Completed",
        )

    async def stop(self, interaction_id: str, requirement: str = "STOP-01") -> None:
        await self.leave(interaction_id, Operation.STOP_PROCESSING, requirement)

    async def request_history(
        self, interaction_id: str, requirement: str = "HISTORY-01"
    ) -> list[dict[str, Any]]:
        since = self.notifications.mark()
        await self.do(interaction_id, Operation.REQUEST_CHAT_HISTORY, requirement)
        got = await self._own(
            interaction_id,
            since,
            requirement,
            match.chat_history(self.profile, interaction_id),
            "ChatHistory",
        )
        return list(got.data.get("messages", []))

    async def initiate_consultation(
        self, interaction_id: str, agent_id: str, requirement: str = "CONSULT-01"
    ) -> None:
        since = self.notifications.mark()
        await self.do(
            interaction_id, Operation.INITIATE_CONSULTATION, requirement, **{Field.AGENT_ID: agent_id}
        )
        await self._own(
            interaction_id,
            since,
            requirement,
            match.status_change(
                self.profile, interaction_id, State.PROCESSING, Position.OWNER_CONSULTANT_INVITED
            ),
            "consultant-invited capabilities",
        )

    async def complete_conference(
        self, interaction_id: str, requirement: str = "COMPLETE-CONFERENCE-01"
    ) -> None:
        since = self.notifications.mark()
        await self.do(interaction_id, Operation.COMPLETE_CONFERENCE, requirement)
        await self._own(
            interaction_id,
            since,
            requirement,
            match.status_change(self.profile, interaction_id, State.PROCESSING, Position.CONFERENCE_MEMBER),
            "conference capabilities",
        )

    def taking_part(self, interaction_id: str) -> bool:
        states = [
            n.data["interaction"].get("state")
            for n in self.notifications.about(interaction_id)
            if n.data.get("notificationType") == self.profile.wire(Notice.STATUS_CHANGE)
        ]
        return bool(states) and states[-1] != self.profile.wire(State.COMPLETED)

    def last_state(self, interaction_id: str) -> str | None:
        states = [
            n.data["interaction"].get("state")
            for n in self.notifications.about(interaction_id)
            if n.data.get("notificationType") == self.profile.wire(Notice.STATUS_CHANGE)
        ]
        return states[-1] if states else None


@dataclass
class Chat:
    id: str
    tag: str
    customer: CustomerClient
    owner: Party
    consultant: Party | None = None
    extra: list[Party] = field(default_factory=list)


class ChatFactory:
    """Starts tagged customer chats pinned to an agent; cleans up every chat it made."""

    def __init__(self, target: Any, transcript: Transcript, parties: dict[str, Party]) -> None:
        self.target, self.transcript, self.parties = target, transcript, parties
        self.made: list[Chat] = []
        self.customers: list[CustomerClient] = []

    def new_tag(self) -> str:
        return f"t{next(_serial)}-{secrets.token_hex(4)}"

    async def customer(self, tag: str, route_to: Party | None, skill: str | None = None) -> CustomerClient:
        profile = self.target.profile
        cust = CustomerClient(
            self.target.gms_url,
            self.target.service,
            profile,
            self.transcript,
            self.target.timeout_s,
            actor=f"customer-{tag}",
            verify_tls=self.target.verify_tls,
        )
        self.customers.append(cust)
        data = {TAG_KEY: tag}
        if route_to is not None:
            data[profile.wire(RoutingKey.TO_AGENT)] = route_to.name
        if skill is not None:
            data[profile.wire(RoutingKey.TO_SKILL)] = skill
        expect.success(await cust.start(f"Customer {tag}", data), "CUSTOMER-01")
        return cust

    async def invited(self, owner: Party, skill: str | None = None) -> Chat:
        tag = self.new_tag()
        since = owner.notifications.mark()
        cust = await self.customer(tag, owner, skill)
        expect.success(await cust.send("hello"), "CUSTOMER-01")
        chat = Chat(await owner.wait_invitation(tag, since=since), tag, cust, owner)
        self.made.append(chat)
        return chat

    async def cleanup(self) -> None:
        for cust in self.customers:
            try:
                if not cust.chat_ended and cust.chat_id is not None:
                    await cust.disconnect()
            except Exception as err:  # cleanup never raises; the transcript says what went wrong
                self.transcript.note("cleanup", f"customer disconnect failed: {err!r}")
        for chat in self.made:
            for party in self.parties.values():
                try:
                    if party.taking_part(chat.id) and party.last_state(chat.id) != self.target.profile.wire(
                        State.INVITED
                    ):
                        await party.client.perform(chat.id, Operation.STOP_PROCESSING)
                except Exception as err:
                    self.transcript.note("cleanup", f"{party.name} stop failed: {err!r}")
        for cust in self.customers:
            await cust.aclose()
        for party in self.parties.values():
            if not party.ready:
                await party.set_ready(True)


async def open_chat(factory: ChatFactory, owner: Party, member: Party, conference: bool = False) -> Chat:
    """An accepted chat; with `conference`, `member` joined it as a conference member."""
    chat = await factory.invited(owner)
    await owner.accept(chat.id)
    if conference:
        await owner.initiate_consultation(chat.id, member.id)
        await member.wait_invitation(chat.tag)
        await member.accept(chat.id, "CONSULT-02")
        await owner.complete_conference(chat.id)
        chat.consultant = member
    return chat


def log_of(party: Party, interaction_id: str) -> list[dict[str, Any]]:
    return [n.data for n in party.notifications.about(interaction_id)]


async def settle(*parties: Party) -> None:
    """Every notification produced so far has reached each of these agents."""
    for party in parties:
        await party.barrier()


async def customer_transcript(customer: CustomerClient) -> list[dict[str, Any]]:
    reply = await customer.refresh(1)
    expect.success(reply, "CUSTOMER-01")
    return messages_of(reply)


def party_checks(
    profile: Profile,
    chat: Chat,
    parties: Sequence[Party],
    history: list[dict[str, Any]],
    requirement: str | None = None,
) -> list[Violation]:
    """Every agent's invariants; with `requirement`, every violation is reported under it."""
    found = [v for p in parties for v in check_agent(profile, log_of(p, chat.id), history, who=p.name)]
    if requirement is not None:
        found = [Violation(requirement, v.expected, f"[{v.requirement}] {v.actual}") for v in found]
    return found


# -- fixtures -----------------------------------------------------------------------------------


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def parties(target: Any, transcript: Transcript) -> AsyncIterator[dict[str, Party]]:
    opened: dict[str, Party] = {}
    for spec in target.agents:
        party = Party(spec, target, transcript)
        await party.open()
        opened[spec.username] = party
    yield opened
    for party in opened.values():
        await party.close()


def _nth(parties: dict[str, Party], n: int) -> Party:
    if len(parties) <= n:
        pytest.skip(f"the target has {len(parties)} agents; this test needs {n + 1}")
    return list(parties.values())[n]


@pytest.fixture
def profile(target: Any) -> Profile:
    return target.profile


@pytest.fixture
def p_a(parties: dict[str, Party]) -> Party:
    return _nth(parties, 0)


@pytest.fixture
def p_b(parties: dict[str, Party]) -> Party:
    return _nth(parties, 1)


@pytest.fixture
def p_c(parties: dict[str, Party]) -> Party:
    return _nth(parties, 2)


@pytest_asyncio.fixture(loop_scope="session")
async def chats(target: Any, transcript: Transcript, parties: dict[str, Party]) -> AsyncIterator[ChatFactory]:
    factory = ChatFactory(target, transcript, parties)
    yield factory
    await factory.cleanup()


@pytest_asyncio.fixture(loop_scope="session")
async def offered_chat(chats: ChatFactory, p_a: Party) -> Chat:
    """A customer chat with one message, offered to agent a (not accepted)."""
    return await chats.invited(p_a)


@pytest_asyncio.fixture(loop_scope="session")
async def owned_chat(offered_chat: Chat) -> Chat:
    await offered_chat.owner.accept(offered_chat.id)
    return offered_chat


__all__ = ["Status", "chats", "offered_chat", "owned_chat", "p_a", "p_b", "p_c", "parties", "profile"]
