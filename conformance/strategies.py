"""Hypothesis strategies for request bodies of the ten interaction operations.

Each example is a `Case`: the JSON value to send and what the profile says about it. The expected
statusCode depends on the interaction's current capabilities (section 2's precedence list), so a Case
carries the pieces and `Case.expected(capabilities)` names the code:
body not an object (1) -> operationName absent (1) -> operationName not a string or unknown (2) ->
operation not in the capabilities (2) -> the operation's own parameter verdict (`param_status`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, TypeVar

from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st

from conformance.protocol import names
from conformance.protocol.names import INTERACTION_OPERATIONS, Field, Operation, Status
from conformance.protocol.profile import Profile

T = TypeVar("T")

# Hypothesis profiles (per test; the fuzz file has three @given tests, so nightly sends >= 10,000
# bodies): `ci` is the default; --hypothesis-profile selects one.
_COMMON: dict[str, Any] = {
    "deadline": None,
    "suppress_health_check": [
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
}
# Every example talks to the server, so shrinking a failure costs minutes: `dev` and `ci` report the
# failing example as found (the stateful machine prints its steps as a script); `nightly` shrinks it
# to a minimal one.
_NO_SHRINK = tuple(p for p in Phase if p is not Phase.shrink)
settings.register_profile("dev", max_examples=10, phases=_NO_SHRINK, **_COMMON)
settings.register_profile("ci", max_examples=60, phases=_NO_SHRINK, **_COMMON)
settings.register_profile("nightly", max_examples=3400, **_COMMON)
PROFILES = ("dev", "ci", "nightly")


# The interaction operations whose body carries no parameter besides operationName.
NO_PARAMETERS = frozenset(
    {Operation.REJECT, Operation.STOP_PROCESSING, Operation.COMPLETE_TRANSFER, Operation.COMPLETE_CONFERENCE}
)


class UnknownOperation(ValueError):
    """The strategies were asked for an operation whose parameters they do not know."""


class Shape(StrEnum):
    """How the body deviates before the operation's parameters are looked at."""

    NOT_OBJECT = "not-object"
    NO_OPERATION = "no-operation"
    BAD_OPERATION = "bad-operation"
    OPERATION = "operation"  # a known operationName; the parameters decide


@dataclass(frozen=True)
class Case:
    body: object
    shape: Shape
    operation: Operation | None = None
    param_status: Status | None = None  # None: the parameters are valid
    note: str = ""
    extra: tuple[str, ...] = field(default=())

    def expected(self, capabilities: Collection[Operation]) -> Status | None:
        """The documented status for an interaction with these capabilities (None: success)."""
        if self.shape is Shape.NOT_OBJECT or self.shape is Shape.NO_OPERATION:
            return Status.MISSING_PARAMETER
        if self.shape is Shape.BAD_OPERATION:
            return Status.INVALID_PARAMETER
        if self.operation not in capabilities:
            return Status.INVALID_PARAMETER
        return self.param_status

    def encode(self) -> bytes:
        """The body as JSON bytes (lone surrogates become \\uXXXX escapes, as on the wire)."""
        # allow_nan=False: a body must be JSON (Infinity and NaN are not), or the expected code is wrong.
        return json.dumps(self.body, ensure_ascii=True, allow_nan=False).encode("ascii")


# ---- value strategies --------------------------------------------------------------------------

LONE_SURROGATES = ("\ud800", "\udbff", "\udc00", "\udfff")
# Any code point except surrogates (those are generated on purpose, below).
_CHARS = st.characters(exclude_categories=["Cs"])
nice_text = st.text(_CHARS, min_size=1, max_size=40)
odd_unicode = st.sampled_from(
    ["\u0000", "\u200b", "\ufeff", "\U0001f600", "e\u0301", "\u202e", "\uffff", " "]
)


@st.composite
def with_lone_surrogate(draw: st.DrawFn) -> str:
    base = draw(st.text(_CHARS, max_size=20))
    at = draw(st.integers(0, len(base)))
    return base[:at] + draw(st.sampled_from(LONE_SURROGATES)) + base[at:]


def json_values(max_leaves: int = 8) -> st.SearchStrategy[object]:
    """Any JSON value, nested a little."""
    scalars = (
        st.none()
        | st.booleans()
        | st.integers()
        | st.floats(allow_nan=False, allow_infinity=False)
        | nice_text
    )
    return st.recursive(
        scalars,
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(nice_text, inner, max_size=3),
        max_leaves=max_leaves,
    )


def non_strings() -> st.SearchStrategy[object]:
    return json_values().filter(lambda v: not isinstance(v, str))


@st.composite
def nested(draw: st.DrawFn) -> object:
    """A value nested 20..200 levels deep (lists and objects)."""
    depth = draw(st.integers(20, 200))
    value: object = draw(st.integers())
    for _ in range(depth):
        value = [value] if draw(st.booleans()) else {"k": value}
    return value


def too_long(limit: int) -> st.SearchStrategy[str]:
    return st.integers(limit + 1, limit + 64).map(lambda n: "x" * n) | st.integers(limit + 1, limit + 8).map(
        lambda n: "\U0001f600" * n
    )


def invalid_strings(limit: int) -> st.SearchStrategy[object]:
    """Values of a string parameter that the profile says are invalid (2)."""
    return non_strings() | st.just("") | too_long(limit) | with_lone_surrogate() | nested()


def _unknown_name(prefix: str) -> st.SearchStrategy[str]:
    return st.text(st.characters(min_codepoint=0x61, max_codepoint=0x7A), max_size=12).map(
        lambda s: prefix + s
    )


# ---- body strategies ---------------------------------------------------------------------------


class BodyStrategies:
    """Strategies for one profile and one target's agents (ids and skills that exist)."""

    def __init__(self, profile: Profile, agent_ids: Iterable[str], skills: Iterable[str]) -> None:
        self.profile = profile
        self.agent_ids = tuple(agent_ids)
        self.skills = tuple(skills)
        self._defined = {profile.wire(f) for f in Field}
        # Built strategies, reused: building and validating them anew for every draw was most of
        # the fuzz tests' CPU time.
        self._built: dict[tuple[object, ...], st.SearchStrategy] = {}

    def _once(
        self, key: tuple[object, ...], build: Callable[[], st.SearchStrategy[T]]
    ) -> st.SearchStrategy[T]:
        if key not in self._built:
            self._built[key] = build()
        return self._built[key]

    def _w(self, name: names.Operation | Field) -> str:
        return self.profile.wire(name)

    def _extra_fields(self) -> st.SearchStrategy[dict[str, object]]:
        """Fields no operation defines, with any value (ignored by the server)."""
        return self._once(("extra",), self._build_extra_fields)

    def _build_extra_fields(self) -> st.SearchStrategy[dict[str, object]]:
        keys = nice_text.filter(lambda k: k not in self._defined)
        values = (
            json_values() | too_long(self.profile.limits.max_text_length) | with_lone_surrogate() | nested()
        )
        return st.dictionaries(keys, values, max_size=3)

    def _params(self, op: Operation) -> st.SearchStrategy[tuple[dict[str, object], Status | None, str]]:
        """(parameters, their verdict, note) for an operation, valid and invalid alike."""
        return self._once(("params", op), lambda: self._build_params(op))

    def _build_params(self, op: Operation) -> st.SearchStrategy[tuple[dict[str, object], Status | None, str]]:
        p, lim = self.profile, self.profile.limits
        text, notification = self._w(Field.TEXT), self._w(Field.NOTIFICATION)
        agent, skill, event = self._w(Field.AGENT_ID), self._w(Field.SKILL), self._w(Field.EVENT_ID)
        nick = self._w(Field.NICKNAME)
        ok, missing, invalid = None, Status.MISSING_PARAMETER, Status.INVALID_PARAMETER
        unknown_agent = _unknown_name("no-such-agent-").filter(lambda a: a not in self.agent_ids)
        unknown_skill = _unknown_name("no-such-skill-").filter(lambda s: s not in self.skills)
        typing = [p.wire(names.ChatMessageType.TYPING_STARTED), p.wire(names.ChatMessageType.TYPING_STOPPED)]

        def one(
            key: str, values: st.SearchStrategy[object], verdict: Status | None, note: str
        ) -> st.SearchStrategy:
            return values.map(lambda v: ({key: v}, verdict, note))

        none: st.SearchStrategy = st.just(({}, ok, "no parameters"))
        if op is Operation.SEND_MESSAGE:
            return (
                one(text, nice_text | odd_unicode, ok, "valid text")
                | st.just(({}, missing, "text missing"))
                | one(text, invalid_strings(lim.max_text_length), invalid, "invalid text")
            )
        if op is Operation.SEND_NOTIFICATION:
            return (
                one(notification, st.sampled_from(typing), ok, "valid notification")
                | st.just(({}, missing, "notification missing"))
                | one(
                    notification,
                    json_values().filter(lambda v: v not in typing),
                    invalid,
                    "other notification",
                )
                | one(notification, with_lone_surrogate(), invalid, "lone surrogate")
            )
        if op in (Operation.TRANSFER, Operation.INITIATE_CONSULTATION):
            cases: st.SearchStrategy[Any] = (
                st.just(({}, missing, "target missing"))
                | one(agent, unknown_agent, invalid, "unknown agentId")
                | one(agent, invalid_strings(lim.max_text_length), invalid, "invalid agentId")
            )
            if op is Operation.TRANSFER:
                both = st.builds(
                    lambda a, s: ({agent: a, skill: s}, invalid, "agentId and skill"),
                    unknown_agent,
                    unknown_skill,
                )
                cases = cases | one(skill, unknown_skill, invalid, "unknown skill") | both
                cases = cases | one(skill, invalid_strings(lim.max_text_length), invalid, "invalid skill")
            return cases
        if op is Operation.REQUEST_CHAT_HISTORY:
            return (
                one(event, st.integers(0, 10**6), ok, "valid eventId")
                | none
                | one(event, st.integers(max_value=-1), invalid, "negative eventId")
                | one(
                    event,
                    st.booleans() | st.floats(allow_nan=False, allow_infinity=False) | nice_text | st.none(),
                    invalid,
                    "eventId not an int",
                )
            )
        if op is Operation.ACCEPT:
            return (
                one(nick, nice_text, ok, "valid nickname")
                | none
                | one(nick, invalid_strings(lim.max_nickname_length), invalid, "invalid nickname")
            )
        if op in NO_PARAMETERS:
            return none
        raise UnknownOperation(
            f"BodyStrategies has no parameters for {op!r}: name them in _build_params, or list the "
            "operation in NO_PARAMETERS (docs/adding-an-operation.md)"
        )

    def operation_cases(self, ops: Iterable[Operation] = INTERACTION_OPERATIONS) -> st.SearchStrategy[Case]:
        ops = tuple(ops)
        return self._once(("operation_cases", ops), lambda: self._build_operation_cases(ops))

    def _build_operation_cases(self, ops: tuple[Operation, ...]) -> st.SearchStrategy[Case]:
        for op in ops:  # an operation without parameter strategies fails here, not inside a draw
            self._params(op)

        @st.composite
        def case(draw: st.DrawFn) -> Case:
            op = draw(st.sampled_from(ops))
            params, verdict, note = draw(self._params(op))
            extra = draw(self._extra_fields())
            body = {**extra, self._w(Field.OPERATION): self._w(op), **params}
            if draw(st.booleans()):  # key order must not matter
                body = dict(reversed(list(body.items())))
            return Case(body, Shape.OPERATION, op, verdict, note, tuple(extra))

        return case()

    def malformed_cases(self) -> st.SearchStrategy[Case]:
        """Bodies that fail before any operation is looked at."""
        return self._once(("malformed",), self._build_malformed_cases)

    def _build_malformed_cases(self) -> st.SearchStrategy[Case]:
        op_key = self._w(Field.OPERATION)
        not_object = (
            json_values()
            .filter(lambda v: not isinstance(v, dict))
            .map(lambda v: Case(v, Shape.NOT_OBJECT, note="not an object"))
        )
        no_op = self._extra_fields().map(
            lambda extra: Case(extra, Shape.NO_OPERATION, note="no operationName")
        )
        bad_name = (non_strings() | _unknown_name("NoSuchOperation") | with_lone_surrogate()).filter(
            lambda v: self.profile.parse(Operation, v) is None  # not a name or alias of the profile
        )
        bad_op = st.builds(
            lambda name, extra: Case({**extra, op_key: name}, Shape.BAD_OPERATION, note="bad operationName"),
            bad_name,
            self._extra_fields(),
        )
        return not_object | no_op | bad_op

    def cases(self, ops: Iterable[Operation] = INTERACTION_OPERATIONS) -> st.SearchStrategy[Case]:
        """Every kind of body: malformed ones and those of the given operations."""
        ops = tuple(ops)
        malformed, operations = self.malformed_cases(), self.operation_cases(ops)
        return self._once(
            ("cases", ops), lambda: st.integers(0, 2).flatmap(lambda i: malformed if i == 0 else operations)
        )


def errors_only(
    cases: st.SearchStrategy[Case], capabilities: Collection[Operation]
) -> st.SearchStrategy[Case]:
    """The cases the profile says fail on an interaction with these capabilities."""
    return cases.filter(lambda c: c.expected(capabilities) is not None)
