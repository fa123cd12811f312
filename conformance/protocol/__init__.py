"""The protocol as data, no I/O beyond reading the packaged profile files. Imports nothing else of ours."""

from conformance.protocol.catalogue import AREAS, CATALOGUE, Level, Requirement, load_catalogue
from conformance.protocol.names import (
    INTERACTION_OPERATIONS,
    Channel,
    ChannelState,
    ChatMessageType,
    Field,
    MessageType,
    NotificationType,
    Operation,
    ParticipantType,
    Position,
    RoutingKey,
    State,
    Status,
    Visibility,
)
from conformance.protocol.profile import (
    DEFAULT_PROFILE,
    Profile,
    ProfileError,
    load_profile,
    load_profile_data,
)

__all__ = [
    "AREAS",
    "CATALOGUE",
    "DEFAULT_PROFILE",
    "INTERACTION_OPERATIONS",
    "Channel",
    "ChannelState",
    "ChatMessageType",
    "Field",
    "Level",
    "MessageType",
    "NotificationType",
    "Operation",
    "ParticipantType",
    "Position",
    "Profile",
    "ProfileError",
    "Requirement",
    "RoutingKey",
    "State",
    "Status",
    "Visibility",
    "load_catalogue",
    "load_profile",
    "load_profile_data",
]
