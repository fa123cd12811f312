"""The body strategies know every interaction operation's parameters, and refuse one they do not know."""

from __future__ import annotations

import pytest

from conformance import strategies
from conformance.protocol import DEFAULT_PROFILE, INTERACTION_OPERATIONS, Operation
from conformance.strategies import BodyStrategies, UnknownOperation


def _strategies() -> BodyStrategies:
    return BodyStrategies(DEFAULT_PROFILE, ["a1", "a2"], {"sales", "support"})


def test_every_interaction_operation_has_body_strategies() -> None:
    _strategies().operation_cases(INTERACTION_OPERATIONS)  # raises UnknownOperation for a missing one


def test_an_operation_without_parameter_strategies_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(strategies, "NO_PARAMETERS", frozenset())
    with pytest.raises(UnknownOperation, match="adding-an-operation"):
        _strategies().operation_cases([Operation.REJECT])
