"""Pure predicates over replies and notifications: None when it matches, else the reason it does not."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from conformance.notifications import (
    INTERACTION,
    INTERACTION_ID,
    MESSAGE_TYPE,
    NOTIFICATION_TYPE,
    Notification,
    interaction_of,
)
from conformance.protocol import (
    Channel,
    ChannelState,
    ChatMessageType,
    MessageType,
    NotificationType,
    Operation,
    ParticipantType,
    Position,
    Profile,
    State,
    Visibility,
)
from conformance.reply import Reply

Check = Callable[[Notification], "str | None"]
STATUS_CODE, STATUS_MESSAGE = "statusCode", "statusMessage"
MESSAGES = "messages"
SUCCESS_WITH_MESSAGE = "a success carries statusMessage"
_ISO_Z = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$")


def _kind(
    profile: Profile, n: Notification, kind: MessageType, notice: NotificationType | None
) -> str | None:
    if n.data.get(MESSAGE_TYPE) != profile.wire(kind):
        return f"messageType is {n.data.get(MESSAGE_TYPE)!r}, not {profile.wire(kind)!r}"
    if notice is not None and n.data.get(NOTIFICATION_TYPE) != profile.wire(notice):
        return f"notificationType is {n.data.get(NOTIFICATION_TYPE)!r}, not {profile.wire(notice)!r}"
    return None


def _about(n: Notification, interaction_id: str | None) -> str | None:
    if interaction_id is not None and interaction_of(n.data) != interaction_id:
        return f"about interaction {interaction_of(n.data)!r}, not {interaction_id!r}"
    return None


def capability_set(profile: Profile, caps: Position | Iterable[Operation | str]) -> set[str]:
    if isinstance(caps, Position):
        return set(profile.capability_names(caps))
    return {profile.wire(c) if isinstance(c, Operation) else c for c in caps}


class OffTable(str):
    """A reason that is STATE-01's whatever the step: the capabilities are no row of the table at all (an
    agent in a wrong but real position gets another row's capabilities, the step's own failure)."""

    requirement = "STATE-01"


def off_table(profile: Profile, got: object) -> bool:
    """The capabilities are not exactly (no duplicates) those of any row of the table (section 6)."""
    if not isinstance(got, list) or len(got) != len(set(map(str, got))):
        return True
    return all(set(got) != profile.capability_names(p) for p in Position)


def any_about(interaction_id: str) -> Check:
    return lambda n: _about(n, interaction_id)


def status_change(
    profile: Profile,
    interaction_id: str | None,
    state: State | None = None,
    capabilities: Position | Iterable[Operation | str] | None = None,
    user_data: tuple[str, str] | None = None,
) -> Check:
    """A StatusChange about the interaction, with that state, exactly those capabilities, that user data."""
    want_caps = None if capabilities is None else capability_set(profile, capabilities)

    def check(n: Notification) -> str | None:
        why = _kind(
            profile, n, MessageType.INTERACTION_STATE_CHANGED, NotificationType.STATUS_CHANGE
        ) or _about(n, interaction_id)
        if why:
            return why
        inter = n.data.get(INTERACTION) or {}
        if state is not None and inter.get("state") != profile.wire(state):
            return f"state is {inter.get('state')!r}, not {profile.wire(state)!r}"
        if want_caps is not None:
            got = inter.get("capabilities")
            if not isinstance(got, list) or set(got) != want_caps or len(got) != len(set(got)):
                why = f"capabilities are {got!r}, not exactly {sorted(want_caps)!r}"
                return OffTable(f"{why} (no row of the table)") if off_table(profile, got) else why
        if user_data is not None:
            ud = inter.get("userData")
            if not isinstance(ud, dict) or ud.get(user_data[0]) != user_data[1]:
                return f"userData lacks {user_data[0]}={user_data[1]!r}"
        return None

    return check


def participants_updated(profile: Profile, interaction_id: str | None, count: int | None = None) -> Check:
    def check(n: Notification) -> str | None:
        why = _kind(
            profile, n, MessageType.INTERACTION_STATE_CHANGED, NotificationType.PARTICIPANTS_UPDATED
        ) or _about(n, interaction_id)
        if why or count is None:
            return why
        parts = (n.data.get(INTERACTION) or {}).get("participants")
        if not isinstance(parts, list) or len(parts) != count:
            return f"participants are {parts!r}, not {count} of them"
        return None

    return check


def message_matches(
    profile: Profile,
    message: Any,
    type: ChatMessageType | None = None,
    text: str | None = None,
    from_id: str | None = None,
    visibility: Visibility | None = None,
) -> str | None:
    if not isinstance(message, dict):
        return f"message is {message!r}"
    if type is not None and message.get("type") != profile.wire(type):
        return f"message type is {message.get('type')!r}, not {profile.wire(type)!r}"
    if text is not None and message.get("text") != text:
        return f"text is {message.get('text')!r}, not {text!r}"
    raw_from = message.get("from")
    sender: dict[str, Any] = raw_from if isinstance(raw_from, dict) else {}
    if from_id is not None and sender.get("participantId") != from_id:
        return f"from {sender.get('participantId')!r}, not {from_id!r}"
    if visibility is not None and message.get("visibility") != profile.wire(visibility):
        return f"visibility is {message.get('visibility')!r}, not {profile.wire(visibility)!r}"
    return None


def new_message(
    profile: Profile,
    interaction_id: str | None,
    type: ChatMessageType | None = None,
    text: str | None = None,
    from_id: str | None = None,
    visibility: Visibility | None = None,
) -> Check:
    """A NewMessages about the interaction whose (single) message has these properties."""

    def check(n: Notification) -> str | None:
        why = _kind(profile, n, MessageType.MESSAGE_LOG_UPDATED, NotificationType.NEW_MESSAGES) or _about(
            n, interaction_id
        )
        if why:
            return why
        msgs = n.data.get(MESSAGES)
        if not isinstance(msgs, list) or len(msgs) != 1:
            return f"messages is {msgs!r}, not a list of one"
        return message_matches(profile, msgs[0], type, text, from_id, visibility)

    return check


def chat_history(profile: Profile, interaction_id: str | None) -> Check:
    def check(n: Notification) -> str | None:
        why = _kind(profile, n, MessageType.MESSAGE_LOG_UPDATED, NotificationType.CHAT_HISTORY) or _about(
            n, interaction_id
        )
        if why is None and not isinstance(n.data.get(MESSAGES), list):
            return "messages is not a list"
        return why

    return check


def channel_state(profile: Profile, state: ChannelState) -> Check:
    def check(n: Notification) -> str | None:
        if n.channel != profile.wire(Channel.CHANNELS):
            return f"on channel {n.channel}"
        why = _kind(profile, n, MessageType.CHANNEL_STATE_CHANGED, None)
        if why:
            return why
        channels = n.data.get("channels")
        states = (
            [(c.get("userState") or {}).get("state") for c in channels or [] if isinstance(c, dict)]
            if isinstance(channels, list)
            else []
        )
        if profile.wire(state) not in states:
            return f"channel states are {states!r}, not {profile.wire(state)!r}"
        return None

    return check


# -- structural validators -------------------------------------------------------------------------


def _is_str(v: object) -> bool:
    return isinstance(v, str)


def _participant_shape(profile: Profile, p: Any) -> str | None:
    if not isinstance(p, dict):
        return f"participant {p!r} is not an object"
    for key in ("participantId", "nickname"):
        if not _is_str(p.get(key)):
            return f"participant {key} is {p.get(key)!r}, not a string"
    if profile.parse(ParticipantType, p.get("type")) is None:
        return f"participant type {p.get('type')!r} is unknown"
    if "visibility" in p and profile.parse(Visibility, p.get("visibility")) is None:
        return f"participant visibility {p.get('visibility')!r} is unknown"
    return None


def message_shape(profile: Profile, m: Any) -> str | None:
    if not isinstance(m, dict):
        return f"message {m!r} is not an object"
    index = m.get("index")
    if not isinstance(index, int) or isinstance(index, bool) or index < 1:
        return f"message index {index!r} is not a positive integer"
    mtype = profile.parse(ChatMessageType, m.get("type"))
    if mtype is None:
        return f"message type {m.get('type')!r} is unknown"
    if mtype is ChatMessageType.TEXT and not _is_str(m.get("text")):
        return f"Text message text is {m.get('text')!r}"
    why = _participant_shape(profile, m.get("from"))
    if why:
        return f"message from: {why}"
    if profile.parse(Visibility, m.get("visibility")) is None:
        return f"message visibility {m.get('visibility')!r} is unknown"
    if not _is_str(m.get("timestamp")) or not _ISO_Z.match(m["timestamp"]):
        return f"timestamp {m.get('timestamp')!r} is not ISO-8601 UTC ending in Z"
    return None


def interaction_shape(profile: Profile, inter: Any) -> str | None:
    if not isinstance(inter, dict):
        return f"interaction {inter!r} is not an object"
    if not _is_str(inter.get("id")):
        return f"interaction id {inter.get('id')!r} is not a string"
    if inter.get("mediaType") != profile.media:
        return f"mediaType is {inter.get('mediaType')!r}"
    if profile.parse(State, inter.get("state")) is None:
        return f"state {inter.get('state')!r} is unknown"
    caps = inter.get("capabilities")
    if not isinstance(caps, list) or any(profile.parse(Operation, c) is None for c in caps):
        return f"capabilities {caps!r} are not all known operation names"
    parts = inter.get("participants")
    if not isinstance(parts, list):
        return f"participants {parts!r} is not a list"
    for p in parts:
        why = _participant_shape(profile, p)
        if why:
            return why
    if not isinstance(inter.get("userData"), dict):
        return f"userData {inter.get('userData')!r} is not an object"
    return None


def notification_shape(profile: Profile, n: Notification) -> str | None:
    """NOTIFY-04: the notification is one of the kinds of section 3.1 (or a ChannelStateChanged)."""
    data = n.data
    if n.channel == profile.wire(Channel.CHANNELS):
        return channel_state_shape(profile, data)
    if n.channel != profile.wire(Channel.INTERACTIONS):
        return f"notification on unexpected channel {n.channel!r}"
    kind = profile.parse(MessageType, data.get(MESSAGE_TYPE))
    notice = profile.parse(NotificationType, data.get(NOTIFICATION_TYPE))
    if kind is MessageType.INTERACTION_STATE_CHANGED:
        if notice not in (
            NotificationType.STATUS_CHANGE,
            NotificationType.PARTICIPANTS_UPDATED,
            NotificationType.PROPERTIES_UPDATED,
        ):
            return f"notificationType {data.get(NOTIFICATION_TYPE)!r} is not one of InteractionStateChanged's"
        return interaction_shape(profile, data.get(INTERACTION))
    if kind is MessageType.MESSAGE_LOG_UPDATED:
        if notice not in (NotificationType.NEW_MESSAGES, NotificationType.CHAT_HISTORY):
            return f"notificationType {data.get(NOTIFICATION_TYPE)!r} is not one of MessageLogUpdated's"
        if not _is_str(data.get(INTERACTION_ID)):
            return f"interactionId {data.get(INTERACTION_ID)!r} is not a string"
        msgs = data.get(MESSAGES)
        if not isinstance(msgs, list):
            return f"messages {msgs!r} is not a list"
        if notice is NotificationType.NEW_MESSAGES and len(msgs) != 1:
            return f"NewMessages carries {len(msgs)} messages, not exactly one"
        for m in msgs:
            why = message_shape(profile, m)
            if why:
                return why
        return None
    return f"messageType {data.get(MESSAGE_TYPE)!r} is not an interaction notification kind"


def channel_state_shape(profile: Profile, data: dict[str, Any]) -> str | None:
    if data.get(MESSAGE_TYPE) != profile.wire(MessageType.CHANNEL_STATE_CHANGED):
        return f"messageType {data.get(MESSAGE_TYPE)!r} on the channels channel"
    channels = data.get("channels")
    if not isinstance(channels, list) or not channels:
        return f"channels {channels!r} is not a non-empty list"
    for c in channels:
        state = (c.get("userState") or {}).get("state") if isinstance(c, dict) else None
        if (
            not isinstance(c, dict)
            or not _is_str(c.get("channel"))
            or profile.parse(ChannelState, state) is None
        ):
            return f"channel entry {c!r} is malformed"
    return None


def success_shape(reply: Reply) -> str | None:
    """STATUS-01: HTTP 200, statusCode 0, no statusMessage."""
    if reply.http_status != 200:
        return f"HTTP {reply.http_status}, not 200"
    if reply.body is None:
        return f"the body is not a JSON object: {reply.text[:200]!r}"
    if reply.status_code != 0:
        return f"statusCode is {reply.body.get(STATUS_CODE)!r}, not 0"
    if STATUS_MESSAGE in reply.body:
        return f"{SUCCESS_WITH_MESSAGE} {reply.body[STATUS_MESSAGE]!r}"
    return None


def error_shape(reply: Reply) -> str | None:
    """STATUS-02: statusCode > 0, a non-empty string statusMessage, no other keys."""
    if reply.body is None:
        return f"the body is not a JSON object: {reply.text[:200]!r}"
    code = reply.status_code
    if code is None or code <= 0:
        return f"statusCode is {reply.body.get(STATUS_CODE)!r}, not a positive integer"
    msg = reply.body.get(STATUS_MESSAGE)
    if not isinstance(msg, str) or not msg:
        return f"statusMessage is {msg!r}, not a non-empty string"
    extra = sorted(set(reply.body) - {STATUS_CODE, STATUS_MESSAGE})
    if extra:
        return f"the error carries other keys: {extra}"
    return None
