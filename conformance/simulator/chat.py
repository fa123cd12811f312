"""The chat model: one customer, the agents of the chat with their roles, and the chat's events."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

from conformance.protocol import ChatMessageType, ParticipantType, Position, Profile, Visibility


class Role(Enum):
    """An agent's role in a chat; with the chat's state it gives the agent's Position (section 6)."""

    INVITED = "invited"
    OWNER = "owner"
    CONSULTANT = "consultant"
    CONFERENCE = "conference"
    COMPLETED = "completed"


TAKING_PART = (Role.OWNER, Role.CONSULTANT, Role.CONFERENCE)


@dataclass(frozen=True)
class Sender:
    participant_id: str
    nickname: str
    type: ParticipantType


@dataclass
class Member:
    """One agent of a chat (invited, taking part, or completed)."""

    user_id: str
    sender: Sender
    role: Role
    as_consultant: bool = False  # invited or joined as a consultant
    visibility: Visibility = Visibility.ALL
    joined: bool = False  # has taken part at some point
    frozen: Position | None = None  # a seeded fault pins the position shown

    @property
    def taking_part(self) -> bool:
        return self.role in TAKING_PART


@dataclass(frozen=True)
class Event:
    """One message of the chat log: every event of the chat has its own index."""

    index: int
    type: ChatMessageType
    sender: Sender
    visibility: Visibility
    timestamp: str
    text: str | None = None


@dataclass
class Chat:
    interaction_id: str
    chat_id: str
    customer_user_id: str
    secure_key: str
    customer: Sender
    user_data: dict[str, str]
    subject: str | None
    customer_connected: bool = True
    ended: bool = False  # chatEnded for the customer
    members: dict[str, Member] = field(default_factory=dict)
    invited_ever: set[str] = field(default_factory=set)
    consultant: str | None = None  # user id of the pending or joined consultant
    events: list[Event] = field(default_factory=list)
    step_events: list[Event] = field(default_factory=list)  # events of the step being told
    units: int = 0  # what the chat weighs against the server's budget (limits.MAX_STORED_UNITS)
    unqueued: bool = False  # a seeded fault took it out of the routing queue

    def taking_part(self) -> list[Member]:
        return [m for m in self.members.values() if m.taking_part]

    def finished(self) -> bool:
        """Over for everyone: the customer left (or it ended), and no agent is invited or taking part."""
        if not self.ended and self.customer_connected:
            return False
        return not any(m.role is Role.INVITED or m.taking_part for m in self.members.values())

    def needs_agent(self) -> bool:
        """Waiting in the routing queue: nobody invited and nobody taking part."""
        if self.ended or not self.customer_connected:
            return False
        return not any(m.role is Role.INVITED or m.taking_part for m in self.members.values())


def render_sender(profile: Profile, sender: Sender) -> dict[str, str]:
    return {"participantId": sender.participant_id, "nickname": sender.nickname,
            "type": profile.wire(sender.type)}


def render_event(profile: Profile, event: Event) -> dict[str, object]:
    rendered: dict[str, object] = {"index": event.index, "type": profile.wire(event.type)}
    if event.text is not None:
        rendered["text"] = event.text
    rendered["from"] = render_sender(profile, event.sender)
    rendered["visibility"] = profile.wire(event.visibility)
    rendered["timestamp"] = event.timestamp
    return rendered


def render_participants(profile: Profile, chat: Chat, keep_customer: bool = False) -> list[dict[str, str]]:
    """The customer while connected (`keep_customer`: always, a seeded fault), then the agents taking part;
    invited agents are not listed."""
    listed: list[tuple[Sender, Visibility]] = []
    if chat.customer_connected or keep_customer:
        listed.append((chat.customer, Visibility.ALL))
    listed.extend((m.sender, m.visibility) for m in chat.taking_part())
    return [{**render_sender(profile, s), "visibility": profile.wire(v)} for s, v in listed]
