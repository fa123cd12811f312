"""A throwaway stand-in for the engine, used only until conformance.simulator.engine lands."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from conformance.simulator.accounts import BUILT_IN_AGENTS
from conformance.spec.names import Channel


@dataclass
class Outgoing:
    user_id: str
    channel: Channel
    data: dict[str, Any]


@dataclass
class Outcome:
    body: dict[str, Any]
    notifications: list[Outgoing] = field(default_factory=list)


class FakeEngine:
    def authenticate(self, user_name: str, password: str) -> str | None:
        return next(
            (a.id for a in BUILT_IN_AGENTS if a.user_name == user_name and a.password == password), None
        )

    def me(self, user_id: str) -> Outcome:
        return Outcome({"statusCode": 0, "user": {"id": user_id, "uri": "x"}})

    def session_operation(self, user_id: str, body: object) -> Outcome:
        return Outcome({"statusCode": 0})

    def channel_operation(self, user_id: str, channel: str, body: object) -> Outcome:
        if channel != "chat":
            return Outcome({"statusCode": 6, "statusMessage": "no"})
        if not isinstance(body, dict):
            return Outcome({"statusCode": 1, "statusMessage": "no"})
        return Outcome(
            {"statusCode": 0}, [Outgoing(user_id, Channel.CHANNELS, {"op": body.get("operationName")})]
        )

    def list_interactions(self, user_id: str, base_url: str, all_fields: bool) -> Outcome:
        return Outcome({"statusCode": 0, "uris": [base_url + "/api/v2/me/interactions/1"]})

    def get_interaction(self, user_id: str, interaction_id: str) -> Outcome:
        return Outcome({"statusCode": 6, "statusMessage": "no"})

    def interaction_operation(self, user_id: str, interaction_id: str, body: dict[str, Any]) -> Outcome:
        return Outcome({"statusCode": 6, "statusMessage": "no"})

    def customer_start(self, service: str, form: dict[str, str]) -> Outcome:
        return Outcome({"statusCode": 0, "chatId": "c1"})

    def customer_action(self, service: str, chat_id: str, action: str, form: dict[str, str]) -> Outcome:
        return Outcome({"statusCode": 6, "statusMessage": "no"})
