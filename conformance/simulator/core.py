"""Engine state, the "who is told what" rule (section 3.1) and routing (section 4)."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from conformance.protocol import (
    INTERACTION_OPERATIONS,
    Channel,
    ChatMessageType,
    MessageType,
    NotificationType,
    Operation,
    ParticipantType,
    Position,
    Profile,
    RoutingKey,
    State,
    Status,
    Visibility,
)
from conformance.simulator.accounts import AgentAccount
from conformance.simulator.chat import (
    Chat,
    Event,
    Member,
    Role,
    Sender,
    render_event,
    render_participants,
)
from conformance.simulator.limits import EVENT_UNITS, MAX_LIVE_CHATS, MAX_STORED_UNITS
from conformance.simulator.validation import Refusal

Json = dict[str, Any]  # a JSON object: a reply body, a notification's data, a request body


@dataclass(frozen=True)
class Outgoing:
    """One Bayeux `data` payload for every client of `user_id` subscribed to `channel`."""

    user_id: str
    channel: Channel
    data: Json


@dataclass(frozen=True)
class Outcome:
    body: Json
    notifications: list[Outgoing]


@dataclass
class AgentStatus:
    session: bool = False
    ready: bool = False


@dataclass(frozen=True)
class View:
    """What one agent sees of a chat, compared before and after a step."""

    state: State
    capabilities: frozenset[Operation]
    participants: tuple[tuple[tuple[str, str], ...], ...]


def new_token() -> str:
    return secrets.token_hex(12)


HINTS, ONE_READY_AGENT = "hints", "one-ready-agent"
ROUTING_MODES = (HINTS, ONE_READY_AGENT)  # "hints": RouteToAgent/RouteToSkill honoured (section 4)


class Core:
    def __init__(
        self,
        profile: Profile,
        accounts: Sequence[AgentAccount],
        service: str,
        faults: frozenset[str] = frozenset(),
        clock: Callable[[], datetime] | None = None,
        routing: str = HINTS,
    ) -> None:
        if routing not in ROUTING_MODES:
            raise ValueError(f"routing: expected one of {', '.join(ROUTING_MODES)}, got {routing!r}")
        self.routing = routing
        self.profile = profile
        self.accounts = {a.id: a for a in accounts}
        self.service = service
        self.faults = frozenset(faults)
        self._clock = clock or (lambda: datetime.now(UTC))
        self.agents = {a.id: AgentStatus() for a in accounts}
        self.chats: dict[str, Chat] = {}  # by interaction id, oldest first (the routing queue order)
        self.by_chat_id: dict[str, Chat] = {}
        self.stored_units = 0  # the sum of every kept chat's units

    # ---- bodies -------------------------------------------------------------------------------
    def ok(self, **fields: object) -> Json:
        return {"statusCode": self.profile.code(Status.SUCCESS), **fields}

    def refused(self, refusal: Refusal) -> Outcome:
        code = self.profile.code(refusal.status)
        return Outcome({"statusCode": code, "statusMessage": refusal.message}, [])

    def timestamp(self) -> str:
        now = self._clock()
        now = now.replace(tzinfo=UTC) if now.tzinfo is None else now.astimezone(UTC)
        text = now.isoformat(timespec="milliseconds")  # ends in +00:00
        if "timestamp-not-utc" in self.faults:
            return text
        return text.removesuffix("+00:00") + "Z"

    def add_event(
        self,
        chat: Chat,
        type_: ChatMessageType,
        sender: Sender,
        visibility: Visibility,
        text: str | None = None,
    ) -> Event:
        index = chat.events[-1].index + 1 if chat.events else 1
        if (
            "index-reused-after-typing" in self.faults
            and chat.events
            and chat.events[-1].type in (ChatMessageType.TYPING_STARTED, ChatMessageType.TYPING_STOPPED)
        ):
            index -= 1
        event = Event(index, type_, sender, visibility, self.timestamp(), text)
        chat.events.append(event)
        self.weigh(chat, EVENT_UNITS + len(text or ""))
        chat.step_events.append(event)
        return event

    # ---- what the server keeps (limits.py) ---------------------------------------------------
    def weigh(self, chat: Chat, units: int) -> None:
        chat.units += units
        self.stored_units += units

    def keep(self, chat: Chat) -> None:
        self.chats[chat.interaction_id] = chat
        self.by_chat_id[chat.chat_id] = chat
        self.stored_units += chat.units

    def make_room(self, new_chats: int, units: int) -> bool:
        """Free the oldest finished chats until `new_chats` more chats and `units` more units fit;
        False when they still do not fit."""

        def fits() -> bool:
            return (
                len(self.chats) + new_chats <= MAX_LIVE_CHATS
                and self.stored_units + units <= MAX_STORED_UNITS
            )

        if fits():
            return True
        for chat in [c for c in self.chats.values() if c.finished()]:
            self.chats.pop(chat.interaction_id, None)
            self.by_chat_id.pop(chat.chat_id, None)
            self.stored_units -= chat.units
            if fits():
                return True
        return False

    # ---- positions and views -----------------------------------------------------------------
    def position(self, chat: Chat, member: Member) -> Position:
        if member.role is Role.INVITED:
            return Position.INVITED
        if member.role is Role.COMPLETED:
            return Position.COMPLETED
        if member.frozen is not None:
            return member.frozen
        if not chat.customer_connected:
            return Position.CUSTOMER_LEFT
        if member.role is Role.CONSULTANT:
            return Position.CONSULTANT
        if member.role is Role.CONFERENCE:
            return Position.CONFERENCE_MEMBER
        consultant = chat.members.get(chat.consultant) if chat.consultant else None
        if consultant is None:
            return Position.OWNER
        if consultant.role is Role.INVITED:
            if "owner-caps-kept-on-consult" in self.faults:
                return Position.OWNER
            return Position.OWNER_CONSULTANT_INVITED
        return Position.OWNER_CONSULTANT_JOINED

    def capabilities(self, position: Position) -> frozenset[Operation]:
        caps = self.profile.capabilities(position)
        if "owner-may-reject" in self.faults and position is Position.OWNER:
            caps = caps | {Operation.REJECT}
        return caps

    def state(self, member: Member) -> State:
        if member.role is Role.INVITED:
            return State.INVITED
        return State.COMPLETED if member.role is Role.COMPLETED else State.PROCESSING

    def view(self, chat: Chat, member: Member) -> View:
        participants = tuple(tuple(sorted(p.items())) for p in render_participants(self.profile, chat))
        return View(self.state(member), self.capabilities(self.position(chat, member)), participants)

    def snapshot(self, chat: Chat) -> dict[str, View]:
        chat.step_events = []
        return {uid: self.view(chat, m) for uid, m in chat.members.items()}

    def interaction(
        self, chat: Chat, member: Member, capabilities: frozenset[Operation] | None = None
    ) -> Json:
        caps = self.capabilities(self.position(chat, member)) if capabilities is None else capabilities
        return {
            "id": chat.interaction_id,
            "mediaType": self.profile.media,
            "state": self.profile.wire(self.state(member)),
            "capabilities": [self.profile.wire(op) for op in INTERACTION_OPERATIONS if op in caps],
            "participants": render_participants(
                self.profile, chat, keep_customer="customer-listed-after-leaving" in self.faults
            ),
            "userData": dict(chat.user_data),
        }

    # ---- notification payloads ---------------------------------------------------------------
    def state_changed(
        self,
        notice: NotificationType,
        chat: Chat,
        member: Member,
        capabilities: frozenset[Operation] | None = None,
    ) -> Json:
        return {
            "messageType": self.profile.wire(MessageType.INTERACTION_STATE_CHANGED),
            "notificationType": self.profile.wire(notice),
            "interaction": self.interaction(chat, member, capabilities),
        }

    def message_log(self, notice: NotificationType, chat: Chat, events: list[Event]) -> Json:
        return {
            "messageType": self.profile.wire(MessageType.MESSAGE_LOG_UPDATED),
            "notificationType": self.profile.wire(notice),
            "interactionId": chat.interaction_id,
            "messages": [render_event(self.profile, e) for e in events],
        }

    def agent_history(self, chat: Chat, start: int = 0, after: bool = False) -> list[Event]:
        """Every event an agent taking part may see (all of them), from index `start` on."""
        return [e for e in chat.events if (e.index > start if after else e.index >= start)]

    # ---- who is told what (section 3.1) ------------------------------------------------------
    def tell(
        self, chat: Chat, before: dict[str, View], out: list[Outgoing], silent: frozenset[str] = frozenset()
    ) -> None:
        """Queue what each agent must be told about the step since `before` (rules 1-5)."""
        events, chat.step_events = chat.step_events, []
        for member in list(chat.members.values()):
            if member.user_id in silent:
                continue
            old, new = before.get(member.user_id), self.view(chat, member)
            changed = old is None or (old.state, old.capabilities) != (new.state, new.capabilities)
            if old is not None and old.state is State.INVITED and new.state is State.PROCESSING:
                out.extend(self._accepted(chat, member))
            elif new.state is State.PROCESSING and old is not None:
                out.extend(self._taking_part(chat, member, old, new, events, changed))
            elif changed:
                out.append(self._to(member, self.state_changed(NotificationType.STATUS_CHANGE, chat, member)))
            elif "messages-after-completed" in self.faults and member.joined:
                out.extend(
                    self._to(member, self.message_log(NotificationType.NEW_MESSAGES, chat, [e]))
                    for e in events
                )
        if "messages-to-all-ready-agents" in self.faults:
            for uid, status in self.agents.items():
                known = chat.members.get(uid)
                if status.ready and not (known and known.taking_part):
                    out.extend(
                        Outgoing(
                            uid,
                            Channel.INTERACTIONS,
                            self.message_log(NotificationType.NEW_MESSAGES, chat, [e]),
                        )
                        for e in events
                    )

    def _to(self, member: Member, data: Json) -> Outgoing:
        return Outgoing(member.user_id, Channel.INTERACTIONS, data)

    def _accepted(self, chat: Chat, member: Member) -> list[Outgoing]:
        """Rule 5: StatusChange -> ParticipantsUpdated -> ChatHistory ending with the agent's join."""
        caps = None
        if "consultant-accepts-as-owner" in self.faults and member.as_consultant:
            caps = self.capabilities(Position.OWNER)
        history = self.agent_history(chat)
        if "accept-history-drops-first-text" in self.faults:
            first = next(
                (
                    e
                    for e in history
                    if e.type is ChatMessageType.TEXT and e.sender.type is ParticipantType.CUSTOMER
                ),
                None,
            )
            history = [e for e in history if e is not first]
        status = self._to(member, self.state_changed(NotificationType.STATUS_CHANGE, chat, member, caps))
        participants = self._to(
            member, self.state_changed(NotificationType.PARTICIPANTS_UPDATED, chat, member)
        )
        first_two = [status, participants]
        if "accept-participants-first" in self.faults:
            first_two.reverse()
        return [*first_two, self._to(member, self.message_log(NotificationType.CHAT_HISTORY, chat, history))]

    def _taking_part(
        self, chat: Chat, member: Member, old: View, new: View, events: list[Event], changed: bool
    ) -> list[Outgoing]:
        """Rules 2 and 4: ParticipantsUpdated -> NewMessages -> StatusChange."""
        told: list[Outgoing] = []
        if old.participants != new.participants:
            told.append(
                self._to(member, self.state_changed(NotificationType.PARTICIPANTS_UPDATED, chat, member))
            )
        own = (ChatMessageType.PARTICIPANT_JOINED, ChatMessageType.PARTICIPANT_LEFT)
        told.extend(
            self._to(member, self.message_log(NotificationType.NEW_MESSAGES, chat, [e]))
            for e in events
            if not (e.sender == member.sender and e.type in own)
        )
        if changed:
            status = self._to(member, self.state_changed(NotificationType.STATUS_CHANGE, chat, member))
            consultant = chat.members.get(chat.consultant) if chat.consultant else None
            if (
                "consult-join-status-first" in self.faults
                and consultant is not None
                and consultant.role is Role.CONSULTANT
                and any(
                    e.sender == consultant.sender and e.type is ChatMessageType.PARTICIPANT_JOINED
                    for e in events
                )
            ):
                return [status, *told]
            told.append(status)
        return told

    # ---- routing (section 4) -----------------------------------------------------------------
    def user_id_of(self, user_name: str) -> str | None:
        return next((a.id for a in self.accounts.values() if a.user_name == user_name), None)

    def routable(self, user_id: str) -> bool:
        status = self.agents[user_id]
        return status.ready or ("not-ready-agent-invited" in self.faults and status.session)

    def candidates(self, chat: Chat) -> list[str]:
        """The agents routing may invite to `chat`, best first: honouring the routing hints, or (routing
        "one-ready-agent", a production strategy's stand-in) any Ready agent in account order, the hints
        never read."""
        fresh = [uid for uid in self.accounts if uid not in chat.invited_ever]
        if self.routing == ONE_READY_AGENT:
            return [uid for uid in fresh if self.routable(uid)]
        to_agent = chat.user_data.get(self.profile.wire(RoutingKey.TO_AGENT))
        named = self.user_id_of(to_agent) if to_agent is not None else None
        if named is not None and named in fresh:
            return [named] if self.routable(named) else []
        skill = chat.user_data.get(self.profile.wire(RoutingKey.TO_SKILL))
        if skill is not None:
            skilled = [uid for uid in fresh if skill in self.accounts[uid].skills]
            fresh = skilled or fresh
        return [uid for uid in fresh if self.routable(uid)]

    def invite(self, chat: Chat, user_id: str, as_consultant: bool = False) -> Member:
        account = self.accounts[user_id]
        member = Member(
            user_id,
            Sender(new_token(), account.first_name, ParticipantType.AGENT),
            Role.INVITED,
            as_consultant=as_consultant,
            visibility=Visibility.AGENTS if as_consultant else Visibility.ALL,
        )
        chat.members.pop(user_id, None)
        chat.members[user_id] = member
        chat.invited_ever.add(user_id)
        return member

    def withdraw(self, chat: Chat, member: Member) -> None:
        """End an invitation; a consultation invitation gives the owner its plain capabilities back."""
        member.role = Role.COMPLETED
        if chat.consultant == member.user_id:
            chat.consultant = None
            if "stale-caps-after-consult-reject" in self.faults:
                for owner in chat.members.values():
                    if owner.role is Role.OWNER:
                        owner.frozen = Position.OWNER_CONSULTANT_INVITED

    def route(self, out: list[Outgoing]) -> None:
        """Offer every queued chat, oldest first, to its first candidate (no capacity limit)."""
        if "chats-never-offered" in self.faults:
            return
        for chat in self.chats.values():
            queued = chat.needs_agent()
            if "stopped-chat-reoffered" in self.faults and chat.ended and chat.customer_connected:
                queued = not any(m.role is Role.INVITED or m.taking_part for m in chat.members.values())
            if queued and not chat.unqueued:
                found = self.candidates(chat)
                if found:
                    before = self.snapshot(chat)
                    self.invite(chat, found[0])
                    self.tell(chat, before, out)
