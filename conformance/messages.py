"""Accessors of chat messages and notification payloads (section 3.1), read with the profile. Pure: no
I/O, never asserts; a missing or malformed field reads as None (or an empty list)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from conformance.notifications import INTERACTION, NOTIFICATION_TYPE, NotificationLog
from conformance.protocol import ChatMessageType, NotificationType, Profile, Visibility

# Keys of a message object (profile section 3.1); the profile data names only request fields.
INDEX, TYPE, TEXT, FROM, VISIBILITY, PARTICIPANT_ID, NICKNAME = (
    "index",
    "type",
    "text",
    "from",
    "visibility",
    "participantId",
    "nickname",
)
MESSAGES, PARTICIPANTS = "messages", "participants"


class Listener(Protocol):
    """Whatever holds a notification log (an `Agent`)."""

    notifications: NotificationLog


def index_of(message: dict[str, Any]) -> Any:
    return message.get(INDEX)


def indexes_of(messages: Sequence[dict[str, Any]]) -> list[Any]:
    return [index_of(m) for m in messages]


def type_of(profile: Profile, message: dict[str, Any]) -> ChatMessageType | None:
    return profile.parse(ChatMessageType, message.get(TYPE))


def visibility_of(profile: Profile, message: dict[str, Any]) -> Visibility | None:
    return profile.parse(Visibility, message.get(VISIBILITY))


def sender_nickname(message: dict[str, Any]) -> Any:
    sender = message.get(FROM)
    return sender.get(NICKNAME) if isinstance(sender, dict) else None


def sender_id(message: dict[str, Any]) -> Any:
    sender = message.get(FROM)
    return sender.get(PARTICIPANT_ID) if isinstance(sender, dict) else None


def texts(profile: Profile, messages: Sequence[dict[str, Any]]) -> list[Any]:
    """The text of every Text message, in order."""
    return [m.get(TEXT) for m in messages if type_of(profile, m) == ChatMessageType.TEXT]


def brief(profile: Profile, messages: Sequence[dict[str, Any]]) -> list[str]:
    """A readable one-line form of each message, for expected/actual texts."""
    out = []
    for m in messages:
        kind = type_of(profile, m)
        label = kind.value if kind else repr(m.get(TYPE))
        text = f" {m.get(TEXT)!r}" if kind == ChatMessageType.TEXT else ""
        out.append(f"#{index_of(m)} {label}{text} from {sender_nickname(m)!r}")
    return out


def messages_in(notification_data: dict[str, Any]) -> list[dict[str, Any]]:
    """The message objects a NewMessages or ChatHistory carries."""
    found = notification_data.get(MESSAGES)
    return [m for m in found if isinstance(m, dict)] if isinstance(found, list) else []


def participants_in(notification_data: dict[str, Any]) -> list[dict[str, Any]]:
    inner = notification_data.get(INTERACTION)
    found = inner.get(PARTICIPANTS) if isinstance(inner, dict) else None
    return [p for p in found if isinstance(p, dict)] if isinstance(found, list) else []


def log_of(agent: Listener, interaction_id: str, since: int = 0) -> list[dict[str, Any]]:
    """The `data` of every notification this agent received about the interaction, in arrival order."""
    return [n.data for n in agent.notifications.about(interaction_id, since)]


def live_view(profile: Profile, agent: Listener, interaction_id: str) -> list[dict[str, Any]]:
    """What the agent saw of the chat: its last ChatHistory, then every NewMessages after it."""
    notes = agent.notifications.about(interaction_id)
    kinds = [profile.parse(NotificationType, n.data.get(NOTIFICATION_TYPE)) for n in notes]
    starts = [i for i, k in enumerate(kinds) if k == NotificationType.CHAT_HISTORY]
    first = starts[-1] if starts else 0
    return [
        m
        for n, k in zip(notes[first:], kinds[first:], strict=True)
        if k in (NotificationType.CHAT_HISTORY, NotificationType.NEW_MESSAGES)
        for m in messages_in(n.data)
    ]


def accept_history(notes: Sequence[Any]) -> list[dict[str, Any]]:
    """The messages of the ChatHistory an `Agent.accept` waited for (its last notification)."""
    return messages_in(notes[-1].data)
