"""The reference server's notification endpoint: Bayeux 1.0 with the long-polling transport.

Each client has one FIFO queue, delivered only through /meta/connect replies. A client belongs to the
authenticated user who handshook it: every later message naming its clientId must come with that
user's session (cookie or Basic), or it is answered as for an unknown client (402), and the client is
left alone. A message leaves the
queue only when written to a connect whose HTTP client is still there. Everything runs on the
server's one event loop; `publish` is synchronous and must be called on that loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import math
import secrets
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response

from conformance.protocol import names
from conformance.protocol.bayeux import (
    CONNECT,
    DISCONNECT,
    HANDSHAKE,
    LONG_POLLING,
    META_PREFIX,
    SUBSCRIBE,
    UNSUBSCRIBE,
    VERSION,
)
from conformance.protocol.profile import DEFAULT_PROFILE
from conformance.simulator.faults import CONTENTION_HELD_CONNECTS, RACE_WINDOW_S, SLOW_DELIVERY_S

OVERSTAY_S = 3.0  # fault idle-connect-overstays

Message = dict[str, Any]


class JsonResponse(JSONResponse):
    """JSON that never fails to encode: lone surrogates fall back to ASCII escapes, and a non-finite
    number a client sent (1e400 parses as inf) is echoed as null."""

    def render(self, content: Any) -> bytes:
        try:
            return super().render(content)
        except (UnicodeEncodeError, ValueError):
            return json.dumps(_finite(content), ensure_ascii=True, separators=(",", ":")).encode("ascii")


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, list):
        return [_finite(v) for v in value]
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    return value


class AuthFailure(Enum):
    MISSING = "missing"  # no authenticated session: handshake answered successful: false
    WRONG = "wrong"  # wrong Basic credentials: HTTP 401


@dataclass
class _Client:
    id: str
    user_id: str
    last_seen: float
    subscriptions: set[str] = field(default_factory=set)
    queue: deque[Message] = field(default_factory=deque)
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    held: object | None = None  # token of the connect currently held, if any
    connected: bool = False  # a first connect was answered (it is never held, as CometD does)
    last_batch: list[Message] = field(default_factory=list)
    skip_next: bool = False  # fault idle-timeout-loses-next-message


class BayeuxServer:
    """Bayeux 1.0 long-polling endpoint with per-client FIFO queues."""

    def __init__(
        self,
        authenticate: Callable[[Request], str | AuthFailure],
        faults: frozenset[str],
        *,
        max_timeout_ms: int,
        expiry_s: float,
        channels: Iterable[str],
        max_body_bytes: int,
    ) -> None:
        """The limits and channels are the profile's (the app passes them)."""
        self.max_body_bytes = max_body_bytes
        self._authenticate = authenticate
        self._faults = faults
        self._max_timeout_ms = max_timeout_ms
        self._expiry_s = expiry_s
        self._channels = frozenset(channels)
        self._clients: dict[str, _Client] = {}
        self._by_user: dict[str, set[str]] = {}
        self._ids = itertools.count(1)
        self._left: dict[str, list[Message]] = {}  # fault rehandshake-replays-last-batch
        self._closing = False
        self._last_answer: tuple[float, str] = (0.0, "")  # load faults: when and to whom a batch went

    # -- server side -----------------------------------------------------------------------------

    def publish(self, user_id: str, channel_path: str, data: dict[str, Any]) -> None:
        """Queue `data` for every client of `user_id` subscribed to `channel_path` now; wake them."""
        for client_id in self._by_user.get(user_id, ()):
            client = self._clients[client_id]
            if channel_path in client.subscriptions:
                if client.skip_next:  # fault idle-timeout-loses-next-message
                    client.skip_next = False
                    continue
                client.queue.append({"channel": channel_path, "data": data, "id": str(next(self._ids))})
                client.wake.set()

    async def shutdown(self) -> None:
        """Answer every held connect at once (so the HTTP server can stop)."""
        self._closing = True
        for client in self._clients.values():
            client.wake.set()

    def client_count(self) -> int:
        return len(self._clients)

    # -- HTTP ------------------------------------------------------------------------------------

    async def endpoint(self, request: Request) -> Response:
        identity = self._authenticate(request)
        if identity is AuthFailure.WRONG:
            return PlainTextResponse("Unauthorized", status_code=401)
        self._sweep()
        try:
            raw = await _read_limited(request, self.max_body_bytes)
            if raw is None:
                return _bad_request("400::Body too large")
            parsed = json.loads(raw.decode("utf-8"))
        except (ValueError, RecursionError):
            return _bad_request("400::Body is not JSON")
        except Exception:
            return _bad_request("400::Unreadable request")
        batch = [parsed] if isinstance(parsed, dict) else parsed
        if not isinstance(batch, list) or not batch:
            return _bad_request("400::Body is not a Bayeux message array")
        user_id = identity if isinstance(identity, str) else None
        replies: list[Message] = []
        connect: Message | None = None
        for message in batch:
            if isinstance(message, dict) and message.get("channel") == CONNECT and connect is None:
                connect = message  # answered last, after the batch's other messages
                continue
            replies.append(self._handle(message, user_id))
        if connect is not None:
            replies.extend(await self._connect(connect, request, user_id))
        if "error-without-args" in self._faults:  # "402::Unknown client" -> "402:Unknown client"
            for reply in replies:
                if isinstance(reply.get("error"), str):
                    reply["error"] = reply["error"].replace("::", ":", 1)
        return JsonResponse(replies)

    def _handle(self, message: object, user_id: str | None) -> Message:
        if not isinstance(message, dict):
            return {"successful": False, "error": "400::Message is not an object"}
        channel = message.get("channel")
        if not isinstance(channel, str):
            return _reply(message, "", error="400::Missing channel")
        if channel == HANDSHAKE:
            return self._handshake(message, user_id)
        client = self._client_of(message, user_id)
        if channel.startswith(META_PREFIX) and channel not in (SUBSCRIBE, UNSUBSCRIBE, DISCONNECT):
            return _reply(message, channel, error="400::Unknown meta channel")
        if not channel.startswith(META_PREFIX):
            return _reply(message, channel, error="403::Publish denied")
        if client is None:
            return self._unknown_client(message, channel)
        if channel == DISCONNECT:
            if "disconnect-refused" in self._faults:
                return _reply(message, channel, error="500::Disconnect failed", client_id=client.id)
            self._remove(client)
            if "rehandshake-replays-last-batch" in self._faults:
                self._left[client.user_id] = list(client.last_batch)
            return _reply(message, channel, client_id=client.id)
        return self._subscription(message, channel, client)

    def _handshake(self, message: Message, user_id: str | None) -> Message:
        if user_id is None and "handshake-without-session" not in self._faults:
            reply = _reply(message, HANDSHAKE, error="403::Authentication required")
            reply["advice"] = {"reconnect": "none", "interval": 0}
            return reply
        types = message.get("supportedConnectionTypes")
        unchecked = "handshake-types-unchecked" in self._faults
        if isinstance(types, list) and LONG_POLLING not in types and not unchecked:
            return _reply(message, HANDSHAKE, error="400::Unsupported connection types")
        client = _Client(id=secrets.token_hex(12), user_id=user_id or "", last_seen=time.monotonic())
        self._clients[client.id] = client
        self._by_user.setdefault(client.user_id, set()).add(client.id)
        if "rehandshake-replays-last-batch" in self._faults:  # the user's last client's last batch
            client.queue.extend(self._left.pop(client.user_id, []))
        reply = _reply(message, HANDSHAKE, client_id=client.id)
        offered: list[str] | str = [LONG_POLLING]
        if "handshake-types-as-string" in self._faults:
            offered = LONG_POLLING
        reply.update(version=VERSION, supportedConnectionTypes=offered, advice=self._advice())
        return reply

    def _subscription(self, message: Message, channel: str, client: _Client) -> Message:
        wanted = message.get("subscription")
        paths = wanted if isinstance(wanted, list) else [wanted]
        if not paths or not all(isinstance(path, str) and path for path in paths):
            return _reply(message, channel, error="400::Missing subscription", client_id=client.id)
        valid = [str(path) for path in paths]
        for path in valid:
            if path.startswith(META_PREFIX):
                return _reply(message, channel, error="403::Forbidden subscription", client_id=client.id)
            if path not in self._channels:
                return _reply(message, channel, error="404::Unknown channel", client_id=client.id)
        for path in valid:
            if channel == SUBSCRIBE:
                client.subscriptions.add(path)
            elif "unsubscribe-ignored" not in self._faults:
                client.subscriptions.discard(path)
        reply = _reply(message, channel, client_id=client.id)
        if "subscription-not-echoed" not in self._faults:
            reply["subscription"] = wanted
        return reply

    async def _connect(self, message: Message, request: Request, user_id: str | None) -> list[Message]:
        client = self._client_of(message, user_id)
        if client is None:
            return [self._unknown_client(message, CONNECT)]
        first = not client.connected
        timeout_s = self._timeout_of(message, first=first)
        client.connected = True
        if client.held is not None:
            # the previous connect is still held: the HTTP client gave it up; answer it empty
            if "redeliver-after-reconnect" in self._faults:
                client.queue.extendleft(reversed(client.last_batch))
            client.wake.set()
        token = object()
        client.held = token
        client.last_seen = time.monotonic()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        delivered: list[Message] = []
        timed_out = False
        try:
            while not self._closing and client.held is token and client.id in self._clients:
                if client.queue:
                    if await request.is_disconnected() and "deliver-to-dropped-connect" not in self._faults:
                        break  # keep the messages for the next connect
                    delivered = list(client.queue)
                    client.queue.clear()
                    client.last_batch = delivered
                    break
                remaining = deadline - loop.time()
                if remaining <= 0:
                    timed_out = not first
                    break
                client.wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(client.wake.wait(), remaining)
        finally:
            if client.held is token:
                client.held = None
            client.last_seen = time.monotonic()
        if timed_out and "idle-timeout-loses-next-message" in self._faults:
            client.skip_next = True
        if "reorder-concurrent-messages" in self._faults and _senders(delivered) > 1:
            delivered.reverse()
        if delivered and self._faults & {"reorder-under-contention", "lost-on-racing-connects"}:
            delivered = self._contention_faults(client, delivered)
        if delivered and "slow-delivery" in self._faults:
            await asyncio.sleep(SLOW_DELIVERY_S)
        reply = _reply(message, CONNECT, client_id=client.id)
        if client.id not in self._clients:
            reply = self._unknown_client(message, CONNECT)
        else:
            reply["advice"] = self._advice()
            if "timeout-advice-as-string" in self._faults:
                reply["advice"]["timeout"] = str(reply["advice"]["timeout"])
            if "held-connect-id-dropped" in self._faults and not first:
                reply.pop("id", None)
        return [*delivered, reply]

    def _contention_faults(self, client: _Client, delivered: list[Message]) -> list[Message]:
        """The load-only faults (faults.LOAD_FAULTS): they act only with many connects held at once."""
        now, (last_at, last_client) = time.monotonic(), self._last_answer
        self._last_answer = (now, client.id)
        held = sum(1 for c in self._clients.values() if c.held is not None)
        if held < CONTENTION_HELD_CONNECTS:
            return delivered
        if "reorder-under-contention" in self._faults and len(delivered) > 1:
            delivered[0], delivered[1] = delivered[1], delivered[0]
        racing = last_client != client.id and now - last_at < RACE_WINDOW_S
        if "lost-on-racing-connects" in self._faults and racing:
            lost = next((m for m in delivered if _is_new_messages(m)), None)
            delivered = [m for m in delivered if m is not lost]
        return delivered

    def _timeout_of(self, message: Message, first: bool) -> float:
        timeout_ms = 0 if first else self._max_timeout_ms
        advice = message.get("advice")
        if isinstance(advice, dict) and not first:
            asked = advice.get("timeout")
            if "zero-timeout-ignored" in self._faults and asked == 0:
                asked = None  # `if asked:`: a poll (0) is held to the maximum
            if isinstance(asked, int | float) and not isinstance(asked, bool) and asked >= 0:
                timeout_ms = min(int(asked), self._max_timeout_ms)
        extra = OVERSTAY_S if "idle-connect-overstays" in self._faults else 0.0
        return timeout_ms / 1000 + extra

    # -- clients ---------------------------------------------------------------------------------

    def _client_of(self, message: Message, user_id: str | None) -> _Client | None:
        """The message's client, if it belongs to `user_id` (the request's authenticated user; None
        without a session: only a client handshaken without one, under a seeded fault, matches)."""
        client_id = message.get("clientId")
        client = self._clients.get(client_id) if isinstance(client_id, str) else None
        if client is not None and "foreign-client-id-served" in self._faults:
            return client
        if client is None or client.user_id != (user_id or ""):
            return None
        return client

    def _unknown_client(self, message: Message, channel: str) -> Message:
        if "unknown-client-not-402" in self._faults:
            reply = _reply(message, channel, error="401::Unknown client")
            reply["advice"] = {"reconnect": "retry", "interval": 0}
            return reply
        reply = _reply(message, channel, error="402::Unknown client")
        reply["advice"] = {"reconnect": "handshake", "interval": 0}
        if "unknown-client-reply-without-channel" in self._faults and channel != CONNECT:
            del reply["channel"]  # an early-exit path that builds its error without the channel
        return reply

    def _remove(self, client: _Client) -> None:
        self._clients.pop(client.id, None)
        users = self._by_user.get(client.user_id)
        if users is not None:
            users.discard(client.id)
            if not users:
                del self._by_user[client.user_id]
        client.wake.set()

    def _sweep(self) -> None:
        """Expire clients that have not connected for expiry_s (lazily, on each request)."""
        limit = time.monotonic() - self._expiry_s
        for client in [c for c in self._clients.values() if c.held is None and c.last_seen < limit]:
            self._remove(client)

    def _advice(self) -> Message:
        return {"reconnect": "retry", "interval": 0, "timeout": self._max_timeout_ms}


def _reply(
    message: Message, channel: str, *, error: str | None = None, client_id: str | None = None
) -> Message:
    reply: Message = {"channel": channel, "successful": error is None}
    if "id" in message:
        reply["id"] = message["id"]
    if client_id is not None:
        reply["clientId"] = client_id
    if error is not None:
        reply["error"] = error
    return reply


async def _read_limited(request: Request, limit: int) -> bytes | None:
    """The request body, or None when it is larger than `limit` bytes."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _bad_request(error: str) -> Response:
    return JsonResponse([{"successful": False, "error": error}], status_code=400)


def _is_new_messages(message: Message) -> bool:
    data = message.get("data")
    return isinstance(data, dict) and data.get("notificationType") == DEFAULT_PROFILE.wire(
        names.NotificationType.NEW_MESSAGES
    )


def _senders(delivered: list[Message]) -> int:
    """How many different senders the delivered NewMessages-like payloads have."""
    senders: set[str] = set()
    for message in delivered:
        data = message.get("data")
        messages = data.get("messages") if isinstance(data, dict) else None
        if isinstance(messages, list) and len(messages) == 1 and isinstance(messages[0], dict):
            sender = messages[0].get("from")
            if isinstance(sender, dict):
                senders.add(str(sender.get("participantId")))
    return len(senders)
