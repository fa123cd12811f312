"""Agents and customers with synced steps: each asserts success AND waits for what confirms it."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from conformance import expect, match
from conformance.bayeux import BayeuxClient, BayeuxError
from conformance.client import AgentClient
from conformance.customer import CHAT_ENDED, CustomerClient, messages_of
from conformance.nonconformance import NonConformance
from conformance.notifications import Notification, NotificationLog
from conformance.protocol import (
    Channel,
    ChannelState,
    ChatMessageType,
    Field,
    Operation,
    Position,
    Profile,
    RoutingKey,
    State,
)
from conformance.reply import Reply
from conformance.transcript import Transcript

TAG_KEY = "ConformanceTag"  # the suite's own user-data key: links a customer's chat to an interaction

# Run after each synced interaction step of an agent or a customer (not after Ready/NotReady, which the
# hooks' own barriers use): the setup layer checks every view there (steps.watch_views).
StepHook = Callable[[], Awaitable[None]]
T = TypeVar("T")


async def _run_hooks(hooks: list[StepHook]) -> None:
    for hook in list(hooks):
        await hook()


@dataclass(frozen=True)
class AgentAccount:
    """One agent of the target: its login, its agent id, its skills (as the target file lists them)."""

    username: str
    password: str = field(repr=False)  # never in a repr: pytest -l -vv prints the objects of a frame
    id: str
    skills: tuple[str, ...] = field(default_factory=tuple)


class Agent:
    def __init__(
        self,
        account: AgentAccount,
        profile: Profile,
        transcript: Transcript,
        timeout_s: float,
        base_url: str,
        verify_tls: bool | str = True,
        csrf: bool = True,
    ) -> None:
        self.account = account
        self.name = account.username
        self.id = account.id
        self.profile = profile
        self.transcript = transcript
        self.timeout_s = timeout_s
        self.client = AgentClient(
            base_url,
            account.username,
            account.password,
            profile,
            transcript,
            timeout_s,
            verify_tls=verify_tls,
            csrf=csrf,
            actor=account.username,
        )
        self.notifications = NotificationLog(profile)
        self.after_step: list[StepHook] = []
        self.bayeux = BayeuxClient(
            self.client.http,
            self.client.base_url + profile.http.notifications_path,
            transcript,
            account.username,
            lambda m: self.notifications.append(str(m.get("channel")), m.get("data")),
            timeout_s=timeout_s,
            on_lost=self.notifications.channel_lost,
            on_deviation=self.notifications.interrupt,
        )

    def __repr__(self) -> str:
        return f"Agent({self.name})"

    async def open(self) -> None:
        """Log in, start the session, subscribe both channels, start the loop, go Ready."""
        await self.connect(Channel.INTERACTIONS, Channel.CHANNELS)
        await self.ready()

    async def connect(self, *channels: Channel) -> None:
        """Log in, start the session, subscribe `channels`, start the loop (the agent stays NotReady)."""
        expect.success(await self.client.login(), "AUTH-01")
        expect.success(await self.client.start_session(), "SESSION-01")
        try:
            await self.bayeux.handshake()
            await self.bayeux.subscribe(*(self.profile.wire(c) for c in channels))
        except BayeuxError as err:
            raise NonConformance("NOTIFY-01", "a successful handshake and subscribe", str(err)) from None
        self.bayeux.start()

    async def close(self) -> None:
        """Leave quietly: NotReady, disconnect Bayeux, end the session; never raises."""
        with contextlib.suppress(Exception):
            await self.client.set_not_ready()
        with contextlib.suppress(Exception):
            await self.bayeux.disconnect()
        with contextlib.suppress(Exception):
            await self.client.end_session()
        with contextlib.suppress(Exception):
            await self.client.aclose()

    async def barrier(self, requirement: str = "SESSION-01", ready: bool = True) -> int:
        """A Ready and its ChannelStateChanged echo: everything queued before it has arrived. With
        `ready=False` a NotReady and its echo instead, so a NotReady agent stays NotReady (a Ready would
        let routing invite it). Returns the echo's sequence number."""
        if not ready:
            return (await self.not_ready(requirement)).seq
        since = self.notifications.mark()
        expect.success(await self.client.set_ready(), requirement)
        echo = await expect.notification(
            self,
            requirement,
            match.channel_state(self.profile, ChannelState.READY),
            "ChannelStateChanged Ready (barrier)",
            since,
        )
        return echo.seq

    async def ready(self, requirement: str = "SESSION-01") -> Notification:
        since = self.notifications.mark()
        expect.success(await self.client.set_ready(), requirement)
        return await expect.notification(
            self,
            requirement,
            match.channel_state(self.profile, ChannelState.READY),
            "ChannelStateChanged Ready",
            since,
        )

    async def not_ready(self, requirement: str = "SESSION-01") -> Notification:
        since = self.notifications.mark()
        expect.success(await self.client.set_not_ready(), requirement)
        return await expect.notification(
            self,
            requirement,
            match.channel_state(self.profile, ChannelState.NOT_READY),
            "ChannelStateChanged NotReady",
            since,
        )

    # -- interaction steps -----------------------------------------------------------------------

    async def _stepped(self, result: T) -> T:
        """A synced step is done: run the step hooks, then give its result."""
        await _run_hooks(self.after_step)
        return result

    async def wait_invitation(self, tag: str, requirement: str = "SESSION-02", since: int = 0) -> str:
        """The id of the interaction this agent is invited to whose user data carries the tag."""
        n = await expect.notification(
            self,
            requirement,
            match.status_change(self.profile, None, State.INVITED, user_data=(TAG_KEY, tag)),
            f"StatusChange Invited tagged {tag}",
            since,
        )
        return str(n.data["interaction"]["id"])

    async def _do(self, interaction_id: str, op: Operation, requirement: str, **fields: object) -> int:
        since = self.notifications.mark()
        expect.success(await self.client.perform(interaction_id, op, None, **fields), requirement)
        return since

    async def _status(
        self, interaction_id: str, requirement: str, since: int, state: State, caps: Position | None = None
    ) -> Notification:
        """The next StatusChange about the interaction, which must carry this state and capabilities:
        a wrong one fails at once instead of waiting out the deadline for a right one."""
        n = await expect.notification(
            self,
            requirement,
            match.status_change(self.profile, interaction_id),
            f"StatusChange about {interaction_id}",
            since,
        )
        why = match.status_change(self.profile, interaction_id, state, caps)(n)
        expect.that(
            why is None,
            expect.blamed(requirement, why),
            f"StatusChange {self.profile.wire(state)} ({caps.value if caps else 'any'} capabilities)",
            f"{why}: {n.brief()}",
        )
        return n

    async def _completed(self, interaction_id: str, requirement: str, since: int) -> Notification:
        """The step's StatusChange Completed (no capabilities), then the step hooks."""
        return await self._stepped(
            await self._status(interaction_id, requirement, since, State.COMPLETED, Position.COMPLETED)
        )

    async def accept(
        self, interaction_id: str, nickname: str | None = None, requirement: str = "ACCEPT-01"
    ) -> list[Notification]:
        """Accept; waits StatusChange -> ParticipantsUpdated -> ChatHistory (ACCEPT-02)."""
        fields: dict[str, object] = {} if nickname is None else {Field.NICKNAME: nickname}
        since = await self._do(interaction_id, Operation.ACCEPT, requirement, **fields)
        return await self._stepped(await expect.next_in_order(
            self,
            interaction_id,
            "ACCEPT-02",
            [
                match.status_change(self.profile, interaction_id, State.PROCESSING),
                match.participants_updated(self.profile, interaction_id),
                match.chat_history(self.profile, interaction_id),
            ],
            since,
            "accept",
        ))

    async def reject(self, interaction_id: str, requirement: str = "REJECT-01") -> Notification:
        since = await self._do(interaction_id, Operation.REJECT, requirement)
        return await self._completed(interaction_id, requirement, since)

    async def send_message(
        self, interaction_id: str, text: str, requirement: str = "MESSAGE-01"
    ) -> Notification:
        since = await self._do(interaction_id, Operation.SEND_MESSAGE, requirement, text=text)
        return await self._stepped(await expect.notification(
            self,
            requirement,
            match.new_message(self.profile, interaction_id, ChatMessageType.TEXT, text),
            f"NewMessages with its text {text!r}",
            since,
        ))

    async def send_typing(
        self, interaction_id: str, started: bool = True, requirement: str = "TYPING-01"
    ) -> Notification:
        mtype = ChatMessageType.TYPING_STARTED if started else ChatMessageType.TYPING_STOPPED
        since = await self._do(
            interaction_id, Operation.SEND_NOTIFICATION, requirement, notification=self.profile.wire(mtype)
        )
        return await self._stepped(await expect.notification(
            self,
            requirement,
            match.new_message(self.profile, interaction_id, mtype),
            f"NewMessages {self.profile.wire(mtype)}",
            since,
        ))

    async def transfer(
        self,
        interaction_id: str,
        agent_id: str | None = None,
        skill: str | None = None,
        requirement: str = "TRANSFER-01",
    ) -> Notification:
        fields: dict[str, object] = {}
        if agent_id is not None:
            fields[Field.AGENT_ID] = agent_id
        if skill is not None:
            fields[Field.SKILL] = skill
        since = await self._do(interaction_id, Operation.TRANSFER, requirement, **fields)
        return await self._completed(interaction_id, requirement, since)

    async def stop(self, interaction_id: str, requirement: str = "STOP-01") -> Notification:
        since = await self._do(interaction_id, Operation.STOP_PROCESSING, requirement)
        return await self._completed(interaction_id, requirement, since)

    async def request_history(
        self, interaction_id: str, event_id: int | None = None, requirement: str = "HISTORY-01"
    ) -> list[dict[str, Any]]:
        fields: dict[str, object] = {} if event_id is None else {Field.EVENT_ID: event_id}
        since = await self._do(interaction_id, Operation.REQUEST_CHAT_HISTORY, requirement, **fields)
        n = await expect.notification(
            self, requirement, match.chat_history(self.profile, interaction_id), "ChatHistory", since
        )
        return await self._stepped(list(n.data["messages"]))

    async def initiate_consultation(
        self, interaction_id: str, agent_id: str, requirement: str = "CONSULT-01"
    ) -> Notification:
        since = await self._do(
            interaction_id, Operation.INITIATE_CONSULTATION, requirement, agent_id=agent_id
        )
        return await self._stepped(await self._status(
            interaction_id, requirement, since, State.PROCESSING, Position.OWNER_CONSULTANT_INVITED
        ))

    async def complete_transfer(
        self, interaction_id: str, requirement: str = "COMPLETE-TRANSFER-01"
    ) -> Notification:
        since = await self._do(interaction_id, Operation.COMPLETE_TRANSFER, requirement)
        return await self._completed(interaction_id, requirement, since)

    async def complete_conference(
        self, interaction_id: str, requirement: str = "COMPLETE-CONFERENCE-01"
    ) -> Notification:
        since = await self._do(interaction_id, Operation.COMPLETE_CONFERENCE, requirement)
        return await self._stepped(await self._status(
            interaction_id, requirement, since, State.PROCESSING, Position.CONFERENCE_MEMBER
        ))


class Customer:
    """A customer with synced steps (the GMS API has no push: waits poll `refresh` with a back-off)."""

    def __init__(
        self,
        gms_url: str,
        service: str,
        profile: Profile,
        transcript: Transcript,
        timeout_s: float,
        actor: str = "customer",
        verify_tls: bool | str = True,
    ) -> None:
        self.profile = profile
        self.timeout_s = timeout_s
        self.client = CustomerClient(gms_url, service, profile, transcript, timeout_s, actor, verify_tls)
        self.seen: dict[int, dict[str, Any]] = {}  # index -> message, everything refresh returned
        self.after_step: list[StepHook] = []
        self.started: Reply | None = None  # the answer to the start

    async def start(
        self,
        route_to_agent: str | None = None,
        route_to_skill: str | None = None,
        tag: str = "",
        nickname: str = "Customer",
        subject: str | None = None,
        requirement: str = "CUSTOMER-01",
    ) -> Reply:
        user_data = {TAG_KEY: tag}
        if route_to_agent is not None:
            user_data[self.profile.wire(RoutingKey.TO_AGENT)] = route_to_agent
        if route_to_skill is not None:
            user_data[self.profile.wire(RoutingKey.TO_SKILL)] = route_to_skill
        self.started = expect.success(await self.client.start(nickname, user_data, subject), requirement)
        return self.started

    async def _stepped(self, result: T) -> T:
        await _run_hooks(self.after_step)
        return result

    async def send(self, text: str, requirement: str = "CUSTOMER-01") -> Reply:
        return await self._stepped(expect.success(await self.client.send(text), requirement))

    async def typing(self, started: bool = True, requirement: str = "CUSTOMER-01") -> Reply:
        reply = await (self.client.start_typing() if started else self.client.stop_typing())
        return await self._stepped(expect.success(reply, requirement))

    async def disconnect(self, requirement: str = "CUSTOMER-01") -> Reply:
        """Disconnect, confirmed by the customer's own view: a refresh then says chatEnded (section 5), so
        a disconnect that ends nothing fails here, not in whatever a test expected of it later."""
        reply = expect.success(await self.client.disconnect(), requirement)
        after = expect.success(await self.client.refresh(1), requirement)
        ended = (after.body or {}).get(CHAT_ENDED)
        expect.that(ended is True, requirement, "chatEnded: true after the customer's disconnect",
                    f"chatEnded is {ended!r}")
        return await self._stepped(reply)

    async def chat_messages(self, requirement: str | None = "CUSTOMER-01") -> list[dict[str, Any]]:
        """Every message of the customer's chat (a refresh from position 1). The refresh must succeed
        (under `requirement`); with `requirement=None` it is not judged, and a chat that cannot be read
        is an empty one (for checks whose own requirement then fails)."""
        reply = await self.client.refresh(1)
        if requirement is not None:
            expect.success(reply, requirement)
        messages = messages_of(reply)
        for m in messages:
            if isinstance(m.get("index"), int):
                self.seen[m["index"]] = m
        return messages

    async def wait_for_message(
        self,
        predicate: Callable[[dict[str, Any]], str | bool | None],
        timeout: float | None = None,  # noqa: ASYNC109
        description: str = "matching",
        requirement: str = "CUSTOMER-01",
    ) -> dict[str, Any]:
        """Poll the transcript until a message matches; back-off 20 ms doubling to 250 ms."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + (timeout if timeout is not None else self.timeout_s)
        pause = 0.02
        while True:
            for m in await self.chat_messages(requirement):
                result = predicate(m)
                if result is None or result is True:
                    return m
            remaining = deadline - loop.time()
            if remaining <= 0:
                seen = "\n  ".join(repr(m) for _, m in sorted(self.seen.items()))
                raise NonConformance(
                    requirement,
                    f"a customer message {description}",
                    f"none within the deadline; the customer's chat:\n  {seen}",
                )
            await asyncio.sleep(min(pause, remaining))  # polling is the GMS API's only way to learn
            pause = min(pause * 2, 0.25)

    async def aclose(self) -> None:
        await self.client.aclose()
