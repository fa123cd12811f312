"""Small raw helpers for the reference server's HTTP tests (agents, sessions, Bayeux messages)."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

import httpx

from conformance.protocol.names import Channel, Field, NotificationType, Operation, RoutingKey, State
from conformance.protocol.profile import DEFAULT_PROFILE

HTTP = DEFAULT_PROFILE.http
NOTIFY = HTTP.notifications_path
INTERACTIONS = DEFAULT_PROFILE.wire(Channel.INTERACTIONS)
CHANNELS = DEFAULT_PROFILE.wire(Channel.CHANNELS)
PASSWORD = "password"


def basic(user: str, password: str = PASSWORD) -> dict[str, str]:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


@dataclass
class Session:
    client: httpx.AsyncClient
    cookie: str
    csrf: str

    def csrf_headers(self) -> dict[str, str]:
        return {HTTP.csrf_token_header: self.csrf}

    async def post_json(self, path: str, body: Any) -> httpx.Response:
        return await self.client.post(path, json=body, headers=self.csrf_headers())

    async def bayeux(self, *messages: dict[str, Any], http_timeout: float = 10.0) -> list[dict[str, Any]]:
        response = await self.client.post(NOTIFY, json=list(messages), timeout=http_timeout)
        assert response.status_code == 200, response.text
        return response.json()

    async def handshake(self) -> str:
        reply = await self.bayeux(
            {"channel": "/meta/handshake", "version": "1.0", "supportedConnectionTypes": ["long-polling"]}
        )
        assert reply[0]["successful"], reply
        return str(reply[0]["clientId"])

    async def subscribed_client(self, *channels: str, first_connect: bool = True) -> str:
        client_id = await self.handshake()
        for channel in channels or (INTERACTIONS,):
            reply = await self.bayeux(
                {"channel": "/meta/subscribe", "clientId": client_id, "subscription": channel}
            )
            assert reply[0]["successful"], reply
        if first_connect:
            await self.connect(client_id, 0)
        return client_id

    async def connect(
        self, client_id: str, timeout_ms: int | None = None, http_timeout: float = 10.0
    ) -> list[dict]:
        message: dict[str, Any] = {
            "channel": "/meta/connect",
            "clientId": client_id,
            "connectionType": "long-polling",
        }
        if timeout_ms is not None:
            message["advice"] = {"timeout": timeout_ms}
        return await self.bayeux(message, http_timeout=http_timeout)


async def login(base_url: str, user: str = "alice") -> Session:
    client = httpx.AsyncClient(base_url=base_url, timeout=10.0)
    response = await client.get(f"{HTTP.api_prefix}/me", headers=basic(user))
    assert response.status_code == 200, response.text
    cookie = response.cookies[HTTP.session_cookie]
    client.cookies.set(HTTP.session_cookie, cookie)
    return Session(client, cookie, response.headers[HTTP.csrf_token_header])


def data_of(replies: list[dict[str, Any]]) -> list[Any]:
    """The data payloads of a connect reply, in order."""
    return [m["data"] for m in replies if "data" in m]


async def start_routed_chat(agent: Session, base_url: str, user: str = "alice") -> dict[str, Any]:
    """The agent goes Ready, then a customer starts a chat routed to it; the customer's start reply."""
    op = DEFAULT_PROFILE.wire(Field.OPERATION)
    ready = await agent.post_json(
        f"{HTTP.api_prefix}/me/channels/chat", {op: DEFAULT_PROFILE.wire(Operation.READY)}
    )
    assert ready.json()["statusCode"] == 0, ready.text
    form = {"nickname": "Ann", f"userData[{DEFAULT_PROFILE.wire(RoutingKey.TO_AGENT)}]": user}
    async with httpx.AsyncClient(base_url=base_url) as customer:
        start = await customer.post(f"{HTTP.gms_prefix}/customer-support", data=form)
    assert start.json()["statusCode"] == 0, start.text
    return dict(start.json())


def expected_chat_notices() -> list[tuple[str, str]]:
    """(notificationType, state or text) of the notifications `drive_chat` causes, in order."""
    p = DEFAULT_PROFILE
    status, history, new = (
        p.wire(n)
        for n in (
            NotificationType.STATUS_CHANGE,
            NotificationType.CHAT_HISTORY,
            NotificationType.NEW_MESSAGES,
        )
    )
    return [
        (status, p.wire(State.INVITED)),
        (status, p.wire(State.PROCESSING)),
        (p.wire(NotificationType.PARTICIPANTS_UPDATED), ""),
        (history, ""),
        (new, "first words"),
        (new, "second words"),
    ]


def notice_of(data: dict[str, Any]) -> tuple[str, str]:
    """The (notificationType, state or text) of one notification, to compare with the expected list."""
    kind = data.get("notificationType", "")
    if kind == DEFAULT_PROFILE.wire(NotificationType.STATUS_CHANGE):
        return kind, data["interaction"]["state"]
    if kind == DEFAULT_PROFILE.wire(NotificationType.NEW_MESSAGES):
        return kind, data["messages"][0].get("text", "")
    return kind, ""


async def drive_chat(agent: Session, base_url: str, user: str = "alice") -> None:
    """A real chat for the agent: Ready, routed invitation, Accept, two customer messages."""
    start = await start_routed_chat(agent, base_url, user)
    listed = await agent.client.get(f"{HTTP.api_prefix}/me/interactions")
    (uri,) = listed.json()["uris"]
    op = DEFAULT_PROFILE.wire(Field.OPERATION)
    accept = await agent.post_json(uri, {op: DEFAULT_PROFILE.wire(Operation.ACCEPT)})
    assert accept.json()["statusCode"] == 0, accept.text
    keys = {k: start[k] for k in ("userId", "secureKey", "alias")}
    async with httpx.AsyncClient(base_url=base_url) as customer:
        for text in ("first words", "second words"):
            sent = await customer.post(
                f"{HTTP.gms_prefix}/customer-support/{start['chatId']}/send", data={**keys, "message": text}
            )
            assert sent.json()["statusCode"] == 0, sent.text
