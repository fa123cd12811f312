"""Request refusals and the parameter checks of section 2 (types, lengths, lone surrogates)."""

from __future__ import annotations

from conformance.protocol import Status


class Refusal(Exception):
    """A request the engine refuses: it becomes an error body and changes nothing."""

    def __init__(self, status: Status, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def missing(name: str) -> Refusal:
    return Refusal(Status.MISSING_PARAMETER, f"the parameter {name} is required")


def invalid(name: str, why: str) -> Refusal:
    return Refusal(Status.INVALID_PARAMETER, f"the parameter {name} is not valid: {why}")


def has_lone_surrogate(text: str) -> bool:
    return any(0xD800 <= ord(c) <= 0xDFFF for c in text)


def check_string(name: str, value: object, max_length: int | None = None, allow_empty: bool = False) -> str:
    """A non-empty string of at most `max_length` code points without lone surrogates, or Refusal(2)."""
    if not isinstance(value, str):
        raise invalid(name, "not a string")
    if not value and not allow_empty:
        raise invalid(name, "empty")
    if max_length is not None and len(value) > max_length:
        raise invalid(name, f"longer than {max_length} characters")
    if has_lone_surrogate(value):
        raise invalid(name, "holds a lone surrogate")
    return value


def check_event_id(name: str, value: object, allow_negative: bool = False) -> int:
    """A non-negative integer (booleans and floats are not integers), or Refusal(2)."""
    if type(value) is not int:
        raise invalid(name, "not an integer")
    if value < 0:
        if allow_negative:
            return 0
        raise invalid(name, "negative")
    return value
