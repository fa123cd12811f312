"""The profile: wire names, status codes, capability table and limits, loaded from TOML data."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, TypeVar

from conformance.protocol.names import (
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

E = TypeVar("E", bound=StrEnum)

DEFAULT_PROFILE_PATH = Path(__file__).with_name("gws-chat-8.5.toml")

# Which table of the profile data spells each vocabulary.
_TABLES: dict[type[StrEnum], str] = {
    Operation: "operations",
    State: "states",
    ChannelState: "channel_states",
    ChatMessageType: "message_types",
    MessageType: "kinds",
    NotificationType: "notices",
    Visibility: "visibilities",
    ParticipantType: "participant_types",
    Channel: "channels",
    Field: "fields",
    RoutingKey: "routing",
}


class ProfileError(ValueError):
    """The profile file is unreadable or incomplete."""


@dataclass(frozen=True)
class Limits:
    max_text_length: int
    max_nickname_length: int
    max_body_bytes: int
    max_auth_error_body_bytes: int
    max_connect_timeout_ms: int
    client_expiry_s: int
    connect_timeout_slack_s: int


@dataclass(frozen=True)
class HttpNames:
    api_prefix: str
    notifications_path: str
    session_cookie: str
    csrf_header_name_header: str
    csrf_token_header: str
    gms_prefix: str


class Profile:
    """One protocol profile. Everything spelled on the wire is looked up here."""

    def __init__(self, data: dict[str, Any]) -> None:
        try:
            self.name: str = data["name"]
            self.media: str = data["media"]
            self._names = {enum: dict(data[table]) for enum, table in _TABLES.items()}
            for enum, names in self._names.items():
                missing = [member.value for member in enum if member.value not in names]
                if missing:
                    raise ProfileError(f"profile table [{_TABLES[enum]}] lacks {', '.join(missing)}")
            self._codes = {Status(k): int(v) for k, v in data["status_codes"].items()}
            self._http = {int(k): int(v) for k, v in data["http_status"].items()}
            for status, code in self._codes.items():
                if code not in self._http:
                    raise ProfileError(
                        f"profile table [http_status] lacks {code} (the statusCode of {status.value})"
                    )
            self._capabilities = {
                Position(k): frozenset(Operation(op) for op in v) for k, v in data["capabilities"].items()
            }
            self._aliases = {k: Operation(v) for k, v in data.get("operation_aliases", {}).items()}
            self.limits = Limits(**data["limits"])
            self.http = HttpNames(**data["http"])
        except KeyError as missing:
            raise ProfileError(f"profile lacks the key {missing}") from None
        except (TypeError, ValueError) as bad:
            raise ProfileError(f"profile is invalid: {bad}") from None
        self._from_wire = {
            enum: {wire: enum(logical) for logical, wire in names.items()}
            for enum, names in self._names.items()
        }

    def wire(self, name: StrEnum) -> str:
        """The wire spelling of a logical name (an operation, a state, a field, ...)."""
        wire: str = self._names[type(name)][name.value]
        return wire

    def parse(self, enum: type[E], wire: object) -> E | None:
        """The logical name spelled `wire` on the wire, or None when the profile has no such name."""
        if not isinstance(wire, str):
            return None
        found = self._from_wire[enum].get(wire)
        if found is None and enum is Operation:
            found = self._aliases.get(wire)
        return found  # type: ignore[return-value]

    def code(self, status: Status) -> int:
        """The statusCode number of a status."""
        return self._codes[status]

    def status_of(self, code: int) -> Status | None:
        return next((s for s, c in self._codes.items() if c == code), None)

    def http_status(self, code: int) -> int:
        """The HTTP status that goes with a statusCode (the profile's HTTP column)."""
        return self._http[code]

    def capabilities(self, position: Position) -> frozenset[Operation]:
        """Exactly the operations an agent in this position may perform (section 6)."""
        return self._capabilities[position]

    def capability_names(self, position: Position) -> frozenset[str]:
        return frozenset(self.wire(op) for op in self._capabilities[position])


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            merged[key] = _merge(base[key], value)
        else:
            merged[key] = value
    return merged


def load_profile(path: Path | str | None = None) -> Profile:
    """The default profile, with the tables of the file at `path` (if any) merged over it."""
    data = tomllib.loads(DEFAULT_PROFILE_PATH.read_text(encoding="utf-8"))
    if path is not None:
        try:
            override = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except OSError as err:
            raise ProfileError(f"cannot read the profile file {path}: {err.strerror}") from None
        except tomllib.TOMLDecodeError as err:
            raise ProfileError(f"the profile file {path} is not valid TOML: {err}") from None
        data = _merge(data, override)
    return Profile(data)


DEFAULT_PROFILE = load_profile()
