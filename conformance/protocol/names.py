"""Logical names of the protocol's vocabulary. Their wire spelling lives in the profile data."""

from enum import StrEnum


class Operation(StrEnum):
    ACCEPT = "accept"
    REJECT = "reject"
    SEND_MESSAGE = "send_message"
    SEND_NOTIFICATION = "send_notification"
    TRANSFER = "transfer"
    STOP_PROCESSING = "stop_processing"
    REQUEST_CHAT_HISTORY = "request_chat_history"
    INITIATE_CONSULTATION = "initiate_consultation"
    COMPLETE_TRANSFER = "complete_transfer"
    COMPLETE_CONFERENCE = "complete_conference"
    START_SESSION = "start_session"
    END_SESSION = "end_session"
    READY = "ready"
    NOT_READY = "not_ready"


# The session and channel operations (POST /me, /me/channels/{channel}); every other operation is
# performed on an interaction (POST /me/interactions/{id}).
SESSION_OPERATIONS: frozenset[Operation] = frozenset(
    {Operation.START_SESSION, Operation.END_SESSION, Operation.READY, Operation.NOT_READY}
)
INTERACTION_OPERATIONS: tuple[Operation, ...] = tuple(op for op in Operation if op not in SESSION_OPERATIONS)


class State(StrEnum):
    INVITED = "invited"
    PROCESSING = "processing"
    COMPLETED = "completed"


class ChannelState(StrEnum):
    READY = "ready"
    NOT_READY = "not_ready"


class ChatMessageType(StrEnum):
    TEXT = "text"
    TYPING_STARTED = "typing_started"
    TYPING_STOPPED = "typing_stopped"
    PARTICIPANT_JOINED = "participant_joined"
    PARTICIPANT_LEFT = "participant_left"


class MessageType(StrEnum):
    """The messageType of a notification."""

    INTERACTION_STATE_CHANGED = "interaction_state_changed"
    MESSAGE_LOG_UPDATED = "message_log_updated"
    CHANNEL_STATE_CHANGED = "channel_state_changed"


class NotificationType(StrEnum):
    """The notificationType of a notification."""

    STATUS_CHANGE = "status_change"
    PARTICIPANTS_UPDATED = "participants_updated"
    PROPERTIES_UPDATED = "properties_updated"
    NEW_MESSAGES = "new_messages"
    CHAT_HISTORY = "chat_history"


class Visibility(StrEnum):
    ALL = "all"
    AGENTS = "agents"


class ParticipantType(StrEnum):
    CUSTOMER = "customer"
    AGENT = "agent"


class Channel(StrEnum):
    INTERACTIONS = "interactions"
    CHANNELS = "channels"


class Field(StrEnum):
    OPERATION = "operation"
    TEXT = "text"
    NOTIFICATION = "notification"
    AGENT_ID = "agent_id"
    SKILL = "skill"
    EVENT_ID = "event_id"
    NICKNAME = "nickname"
    CHANNELS = "channels"


class RoutingKey(StrEnum):
    TO_AGENT = "to_agent"
    TO_SKILL = "to_skill"


class Status(StrEnum):
    SUCCESS = "success"
    MISSING_PARAMETER = "missing_parameter"
    INVALID_PARAMETER = "invalid_parameter"
    FORBIDDEN = "forbidden"
    INTERNAL_ERROR = "internal_error"
    NO_PERMISSION = "no_permission"
    NOT_FOUND = "not_found"
    PARTIAL_SUCCESS = "partial_success"


class Position(StrEnum):
    """An agent's position in a chat: a row of the capability table (section 6)."""

    INVITED = "invited"
    OWNER = "owner"
    OWNER_CONSULTANT_INVITED = "owner_consultant_invited"
    OWNER_CONSULTANT_JOINED = "owner_consultant_joined"
    CONSULTANT = "consultant"
    CONFERENCE_MEMBER = "conference_member"
    CUSTOMER_LEFT = "customer_left"
    COMPLETED = "completed"
