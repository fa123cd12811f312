"""Gevent-side clients of the load mode: an agent's HTTP session, its Bayeux long-poll and notification
log, a customer. The asyncio harness (conformance.client, conformance.bayeux) does the same on httpx;
these speak the same wire, named by the same profile and Bayeux constants, on geventhttpclient, so that
hundreds of parties fit in one Locust process. They never judge: `judge` does, after the chat.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import quote, urlencode, urlsplit

import gevent
from gevent.event import Event
from geventhttpclient import HTTPClient

from conformance.customer import ALIAS, CHAT_ID, MESSAGE, NICKNAME, POSITION, SECURE_KEY, USER_DATA, USER_ID
from conformance.load.judge import Arrival
from conformance.notifications import interaction_of
from conformance.protocol import Channel, Field, Operation, Profile
from conformance.protocol.bayeux import CONNECT, HANDSHAKE, LONG_POLLING, SUBSCRIBE, VERSION

T = TypeVar("T")
CONNECT_HOLD_MS = 15_000  # the advice.timeout each connect asks for
POLL_SLACK_S = 10.0  # a held connect's read deadline: the hold plus this
MAX_BODY = 8 * 1024 * 1024


class WireError(Exception):
    """A request without a usable answer (network failure, timeout, a body that is not JSON)."""


@dataclass(frozen=True)
class Answer:
    http_status: int
    body: Any
    headers: dict[str, str]
    sent_at: float
    received_at: float

    @property
    def status_code(self) -> int | None:
        code = self.body.get("statusCode") if isinstance(self.body, dict) else None
        return code if isinstance(code, int) else None

    @property
    def elapsed_ms(self) -> float:
        return (self.received_at - self.sent_at) * 1000


class Http:
    """One keep-alive connection pool to one origin. A connection idle for IDLE_S is not reused (servers
    close idle keep-alive connections, uvicorn after 5 s): a POST is never sent on a socket that may be
    closing, so no request is ever retried."""

    IDLE_S = 3.0

    def __init__(self, url: str, timeout_s: float, concurrency: int = 1) -> None:
        parts = urlsplit(url)
        self.prefix = parts.path.rstrip("/")
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.timeout_s, self.concurrency = timeout_s, concurrency
        self.client = self._client()
        self.last_used = time.monotonic()

    def _client(self) -> HTTPClient:
        return HTTPClient(
            self.host,
            self.port,
            connection_timeout=self.timeout_s,
            network_timeout=self.timeout_s,
            concurrency=self.concurrency,
        )

    def request(
        self, method: str, path: str, body: bytes = b"", headers: Mapping[str, str] | None = None
    ) -> Answer:
        sent = time.monotonic()
        if sent - self.last_used > self.IDLE_S:
            self.client.close()
            self.client = self._client()
        try:
            response = self.client.request(method, self.prefix + path, body=body, headers=dict(headers or {}))
            raw = response.read()
        except Exception as err:  # every failure of the exchange (not GreenletExit: a BaseException)
            raise WireError(f"{method} {path}: {type(err).__name__}: {err}") from err
        finally:
            self.last_used = time.monotonic()
        received = time.monotonic()
        if len(raw) > MAX_BODY:
            raise WireError(f"{method} {path}: an answer over {MAX_BODY} bytes")
        try:
            parsed = json.loads(raw) if raw else None
        except ValueError:
            parsed = None
        names = {k.lower(): v for k, v in response.items()}
        return Answer(response.status_code, parsed, names, sent, received)

    def close(self) -> None:
        self.client.close()


class AgentSession:
    """An agent's HTTP session: Basic once (GET /me), then the session cookie and the CSRF header."""

    def __init__(
        self, base_url: str, username: str, password: str, profile: Profile, timeout_s: float
    ) -> None:
        self.profile = profile
        self.username = username
        self.http = Http(base_url, timeout_s)
        self._basic = "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode("ascii")
        self.cookie = ""
        self.csrf: tuple[str, str] | None = None
        self.secrets: list[str] = [password]

    def headers(self, csrf: bool = True) -> dict[str, str]:
        out = {"Content-Type": "application/json"}
        if self.cookie:
            out["Cookie"] = self.cookie
        else:
            out["Authorization"] = self._basic
        if csrf and self.csrf is not None:
            out[self.csrf[0]] = self.csrf[1]
        return out

    def login(self) -> Answer:
        http = self.profile.http
        answer = self.http.request("GET", f"{http.api_prefix}/me", headers={"Authorization": self._basic})
        cookie = answer.headers.get("set-cookie", "")
        for part in cookie.split(";"):
            name, _, value = part.strip().partition("=")
            if name == http.session_cookie:
                self.cookie = f"{name}={value}"
                self.secrets.append(value)
        header = answer.headers.get(http.csrf_header_name_header.lower()) or http.csrf_token_header
        token = answer.headers.get(header.lower())
        if token:
            self.csrf = (header, token)
            self.secrets.append(token)
        return answer

    def post(self, path: str, body: object) -> Answer:
        return self.http.request("POST", path, json.dumps(body).encode("utf-8"), self.headers())

    def body(self, op: Operation, fields: Mapping[Field, object]) -> dict[str, object]:
        out: dict[str, object] = {self.profile.wire(Field.OPERATION): self.profile.wire(op)}
        out.update({self.profile.wire(key): value for key, value in fields.items()})
        return out

    def perform(self, interaction_id: str, op: Operation, **fields: object) -> Answer:
        path = f"{self.profile.http.api_prefix}/me/interactions/{quote(interaction_id, safe='')}"
        return self.post(path, self.body(op, {Field(k): v for k, v in fields.items()}))

    def start_session(self) -> Answer:
        body = self.body(Operation.START_SESSION, {Field.CHANNELS: [self.profile.media]})
        return self.post(f"{self.profile.http.api_prefix}/me", body)

    def set_ready(self) -> Answer:
        return self.post(
            f"{self.profile.http.api_prefix}/me/channels/{self.profile.media}", self.body(Operation.READY, {})
        )

    def close(self) -> None:
        self.http.close()


class StepTimeout(Exception):
    """An awaited notification did not arrive in time: an ERROR, unless the order shows a violation."""


class Poller:
    """One Bayeux client of an agent: handshake, subscribe to both channels, then a connect loop in its
    own greenlet. Every `data` is numbered, timestamped and appended to the agent's log; a Bayeux message
    id seen twice on this client is kept as a duplicate (NOTIFY-06), never logged twice."""

    def __init__(
        self,
        session: AgentSession,
        base_url: str,
        timeout_s: float,
        on_arrival: Callable[[Arrival, bool], None],
        on_error: Callable[[str], None],
    ) -> None:
        self.session = session
        self.profile = session.profile
        self.http = Http(base_url, CONNECT_HOLD_MS / 1000 + POLL_SLACK_S + timeout_s)
        self.path = self.profile.http.notifications_path
        self.client_id: str | None = None
        self.seq = 0
        self.ids: set[str] = set()
        self.on_arrival = on_arrival
        self.on_error = on_error
        self.greenlet: gevent.Greenlet | None = None
        self.messages = 0

    def _post(self, messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
        answer = self.http.request(
            "POST", self.path, json.dumps(messages).encode(), self.session.headers(False)
        )
        if answer.http_status != 200 or not isinstance(answer.body, list):
            raise WireError(f"Bayeux: HTTP {answer.http_status}, body {str(answer.body)[:200]}")
        return [m for m in answer.body if isinstance(m, dict)]

    def handshake(self) -> None:
        replies = self._post(
            [{"channel": HANDSHAKE, "version": VERSION, "supportedConnectionTypes": [LONG_POLLING]}]
        )
        reply = next((m for m in replies if m.get("channel") == HANDSHAKE), {})
        if not reply.get("successful") or not isinstance(reply.get("clientId"), str):
            raise WireError(f"Bayeux handshake refused: {reply}")
        self.client_id = reply["clientId"]
        channels = [self.profile.wire(Channel.INTERACTIONS), self.profile.wire(Channel.CHANNELS)]
        replies = self._post([{"channel": SUBSCRIBE, "clientId": self.client_id, "subscription": channels}])
        if not all(m.get("successful") for m in replies if m.get("channel") == SUBSCRIBE):
            raise WireError(f"Bayeux subscribe refused: {replies}")
        self._take(self._post(self._connect(0)))  # the first connect is answered at once

    def _connect(self, timeout_ms: int) -> list[dict[str, Any]]:
        return [
            {
                "channel": CONNECT,
                "clientId": self.client_id,
                "connectionType": LONG_POLLING,
                "advice": {"timeout": timeout_ms},
            }
        ]

    def start(self) -> None:
        self.handshake()
        self.greenlet = gevent.spawn(self._loop)

    def _loop(self) -> None:
        failures = 0
        while True:
            try:
                replies = self._post(self._connect(CONNECT_HOLD_MS))
                failures = 0
            except WireError as err:
                failures += 1
                self.on_error(f"long-poll: {err}")
                gevent.sleep(min(2.0, 0.1 * 2**failures))
                continue
            meta = next((m for m in replies if m.get("channel") == CONNECT), {})
            self._take(replies)
            if not meta.get("successful"):
                error = str(meta.get("error", ""))
                self.on_error(f"long-poll: connect refused ({error[:3] or 'no error code'})")
                try:
                    self.handshake()  # 402: the server forgot the client
                except WireError as err:
                    self.on_error(f"long-poll: re-handshake failed: {err}")
                    gevent.sleep(1.0)

    def _take(self, replies: list[dict[str, Any]]) -> None:
        at = time.monotonic()
        for message in replies:
            channel = message.get("channel")
            if not isinstance(channel, str) or channel.startswith("/meta/") or "data" not in message:
                continue
            data = message["data"] if isinstance(message["data"], dict) else {"": message["data"]}
            mid = message.get("id")
            duplicate = isinstance(mid, str) and mid in self.ids
            if isinstance(mid, str):
                self.ids.add(mid)
            self.seq += 1
            self.messages += 1
            self.on_arrival(
                Arrival(self.seq, channel, data, at, mid if isinstance(mid, str) else None), duplicate
            )

    def stop(self) -> None:
        if self.greenlet is not None:
            self.greenlet.kill(block=False)
        self.http.close()


class Agent:
    """A simulated agent: its session, its long-poll, and its notifications by interaction."""

    def __init__(
        self,
        name: str,
        agent_id: str,
        session: AgentSession,
        base_url: str,
        timeout_s: float,
        on_error: Callable[[str], None],
    ) -> None:
        self.name = name
        self.id = agent_id
        self.session = session
        self.profile = session.profile
        self.by_interaction: dict[str, list[Arrival]] = {}
        self.duplicates: dict[str, list[Arrival]] = {}
        self.channel_log: list[Arrival] = []
        self.on_wait: Callable[[float], None] | None = None  # how long each successful wait took (ms)
        self.ignored: set[str] = set()  # chats left after an error: what still comes about them is dropped
        self.changed = Event()
        self.poller = Poller(session, base_url, timeout_s, self._arrived, on_error)

    def _arrived(self, arrival: Arrival, duplicate: bool) -> None:
        iid = interaction_of(arrival.data)
        if iid in self.ignored:
            return
        if duplicate:
            self.duplicates.setdefault(iid or "", []).append(arrival)
        elif iid is None:
            self.channel_log.append(arrival)
        else:
            self.by_interaction.setdefault(iid, []).append(arrival)
        self.changed.set()

    def wait(self, found: Callable[[], T | None], deadline_s: float, what: str) -> T:
        """The first non-None `found()`, re-checked on every arrival; StepTimeout after deadline_s."""
        start = time.monotonic()
        end = start + deadline_s
        while True:
            result = found()
            if result is not None:
                if self.on_wait is not None:
                    self.on_wait((time.monotonic() - start) * 1000)
                return result
            left = end - time.monotonic()
            if left <= 0:
                raise StepTimeout(f"{self.name}: no {what} within {deadline_s:.1f} s")
            self.changed.clear()
            self.changed.wait(left)

    def log(self, interaction_id: str) -> list[Arrival]:
        return self.by_interaction.get(interaction_id, [])

    def forget(self, interaction_id: str) -> tuple[list[Arrival], list[Arrival]]:
        return self.by_interaction.pop(interaction_id, []), self.duplicates.pop(interaction_id, [])

    def ignore(self, interaction_id: str) -> None:
        self.ignored.add(interaction_id)
        self.forget(interaction_id)

    def close(self) -> None:
        self.poller.stop()
        self.session.close()


class Customer:
    """One customer of the GMS Chat API v2 (form-encoded POSTs)."""

    def __init__(self, gms_url: str, service: str, profile: Profile, timeout_s: float) -> None:
        self.http = Http(gms_url, timeout_s)
        self.base = f"{profile.http.gms_prefix}/{quote(service, safe='')}"
        self.chat_id = ""
        self.credentials: dict[str, str] = {}
        self.secrets: list[str] = []

    def _post(self, path: str, form: Mapping[str, object]) -> Answer:
        body = urlencode({k: str(v) for k, v in form.items()}).encode("ascii")
        return self.http.request("POST", path, body, {"Content-Type": "application/x-www-form-urlencoded"})

    def start(self, nickname: str, user_data: Mapping[str, str]) -> Answer:
        form: dict[str, object] = {
            NICKNAME: nickname,
            **{USER_DATA.format(k): v for k, v in user_data.items()},
        }
        answer = self._post(self.base, form)
        body = answer.body if isinstance(answer.body, dict) else {}
        self.chat_id = str(body.get(CHAT_ID, ""))
        self.credentials = {k: str(body[k]) for k in (USER_ID, SECURE_KEY, ALIAS) if k in body}
        self.secrets = [self.credentials.get(SECURE_KEY, ""), self.credentials.get(USER_ID, "")]
        return answer

    def action(self, action: str, **extra: object) -> Answer:
        return self._post(
            f"{self.base}/{quote(self.chat_id, safe='')}/{action}", {**self.credentials, **extra}
        )

    def send(self, text: str) -> Answer:
        return self.action("send", **{MESSAGE: text})

    def refresh(self) -> Answer:
        return self.action("refresh", **{POSITION: 1})

    def close(self) -> None:
        self.http.close()
