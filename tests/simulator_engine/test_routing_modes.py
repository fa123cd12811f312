"""The engine's routing modes: `hints` honours RouteToAgent/RouteToSkill; `one-ready-agent` (a production
strategy's stand-in) routes to any Ready agent and never reads them: each case below would route
elsewhere if the hints were read."""

from __future__ import annotations

import pytest

from conformance.simulator.core import ONE_READY_AGENT
from conformance.simulator.engine import Engine
from tests.simulator_engine.world import World, told


def test_one_ready_agent_ignores_route_to_agent() -> None:
    w = World(routing=ONE_READY_AGENT)
    w.ready("a1", "a2")
    _chat, out = w.start(RouteToAgent="bob")
    assert told(out, "a1") == ["StatusChange:Invited"] and told(out, "a2") == []  # hints: bob


def test_one_ready_agent_ignores_route_to_skill() -> None:
    w = World(routing=ONE_READY_AGENT)
    w.ready("a1", "a4")
    chat, out = w.start(RouteToSkill="billing")
    assert told(out, "a1") == ["StatusChange:Invited"] and told(out, "a4") == []  # hints: dave (billing)
    rejected = w.op("a1", w.interaction_id(chat), "Reject")
    assert told(rejected, "a4") == ["StatusChange:Invited"]  # on to the next Ready agent, never back


def test_one_ready_agent_does_not_wait_for_the_named_agent() -> None:
    w = World(routing=ONE_READY_AGENT)
    w.ready("a3")
    _chat, out = w.start(RouteToAgent="bob")  # bob is not Ready: with hints the chat would wait for him
    assert told(out, "a3") == ["StatusChange:Invited"]


def test_one_ready_agent_still_queues_until_an_agent_is_ready_and_skips_not_ready_ones() -> None:
    w = World(routing=ONE_READY_AGENT)
    w.ready("a1")
    w.not_ready("a1")
    _chat, out = w.start(RouteToAgent="alice")
    assert out.notifications == []
    assert told(w.ready("a2"), "a2") == ["StatusChange:Invited"]


def test_the_same_chat_routes_by_the_hint_in_hints_mode() -> None:
    w = World()
    w.ready("a1", "a2")
    _chat, out = w.start(RouteToAgent="bob")
    assert told(out, "a2") == ["StatusChange:Invited"] and told(out, "a1") == []


def test_an_unknown_routing_mode_is_refused() -> None:
    with pytest.raises(ValueError, match="routing: expected one of hints, one-ready-agent"):
        Engine(World().engine.profile, (), "s", routing="round-robin")
