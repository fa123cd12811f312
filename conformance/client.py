"""The raw agent API client: sends what it is told, records it, never asserts."""

from __future__ import annotations

import asyncio
import base64
import functools
import json
import ssl
import time
from collections.abc import Mapping
from typing import Any, Literal
from urllib.parse import quote

import aiohttp
import httpx
from httpx_aiohttp import AiohttpTransport, HttpxAiohttpClient

from conformance.protocol import Field, Operation, Profile
from conformance.reply import Reply
from conformance.transcript import EntryKind, Secret, Transcript, format_headers, redact_shapes
from conformance.transport import (
    Failure,
    RequestHung,
    TargetUnavailable,
    TargetUnreachable,
    describe,
    failure_of,
    is_gateway_page,
)

OMIT: Any = object()  # a field value meaning "leave the key out of the body"

Auth = Literal["session", "basic", "none"] | tuple[str, str]


def reply_of(response: httpx.Response, elapsed_s: float = 0.0, text: str | None = None) -> Reply:
    return Reply.parse(
        response.status_code, response.text if text is None else text, response.headers, elapsed_s
    )


UNREACHABLE_ERRORS: tuple[type[BaseException], ...] = (
    httpx.TransportError,
    aiohttp.ClientError,
    asyncio.TimeoutError,
    OSError,
    ssl.SSLError,
)


IDLE_CONNECTION_S = 2.0
MAX_BODY_BYTES = 8 * 1024 * 1024  # a bigger answer is an ERROR, not something to hold in memory


class ResponseTooLarge(TargetUnreachable):
    """The server's answer is bigger than MAX_BODY_BYTES: an ERROR naming the size."""


class BodiesWritten:
    """Events set once a request body has been written to its socket (aiohttp's trace hook), keyed
    by the body's bytes: a Bayeux batch carries its clientId and message ids, so bodies are unique."""

    def __init__(self) -> None:
        self._pending: dict[bytes, asyncio.Event] = {}

    def watch(self, body: bytes, written: asyncio.Event) -> None:
        self._pending[body] = written

    def forget(self, body: bytes) -> None:
        self._pending.pop(body, None)

    async def chunk_sent(self, _session: object, _context: object, params: Any) -> None:
        written = self._pending.pop(bytes(params.chunk), None)
        if written is not None:
            written.set()


class HttpClient(HttpxAiohttpClient):
    """An httpx client on the aiohttp transport (about twice as fast on loopback). Cookies live only
    in httpx's jar, so what is sent is exactly what the caller builds."""

    def __init__(self, timeout_s: float, verify_tls: bool | str) -> None:
        ctx = _ssl_context(verify_tls)
        self.bodies_written = BodiesWritten()
        tracing = aiohttp.TraceConfig()
        tracing.on_request_chunk_sent.append(self.bodies_written.chunk_sent)

        def session() -> aiohttp.ClientSession:
            # An idle connection is dropped before the server's keep-alive ends it (uvicorn: 5 s): reusing
            # one the server is closing fails the next request unwritten ("Cannot write to closing
            # transport").
            connector = aiohttp.TCPConnector(ssl=ctx, limit=100, keepalive_timeout=IDLE_CONNECTION_S)
            return aiohttp.ClientSession(
                connector=connector, cookie_jar=aiohttp.DummyCookieJar(), trace_configs=[tracing]
            )

        # verify=ctx: the transport would otherwise load the CA bundle once more (its context is unused)
        transport = AiohttpTransport(verify=ctx, client=session)
        super().__init__(transport=transport, timeout=httpx.Timeout(timeout_s))


def make_http(timeout_s: float, verify_tls: bool | str = True) -> HttpClient:
    return HttpClient(timeout_s, verify_tls)


@functools.lru_cache(maxsize=8)
def _ssl_context(verify_tls: bool | str) -> ssl.SSLContext | Literal[False]:
    """One TLS context per setting: loading the CA bundle costs ~20 ms, and every customer and agent
    has its own client."""
    if isinstance(verify_tls, str):
        return ssl.create_default_context(cafile=verify_tls)
    return ssl.create_default_context() if verify_tls else False


def basic_header(username: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode("ascii")


def basic_credential(username: str, password: Secret) -> Secret:
    """The Basic value (a Secret, so no traceback shows it) of these credentials."""
    return Secret(base64.b64encode(f"{username}:{password.reveal()}".encode()).decode("ascii"))


def revealed(headers: Mapping[str, str | Secret]) -> dict[str, str]:
    """The headers to write on the wire; only this call ever holds their secret values."""
    return {name: value.reveal() if isinstance(value, Secret) else value for name, value in headers.items()}


def deadline_of(http: httpx.AsyncClient, request: httpx.Request) -> float:
    """The whole exchange's deadline (connect, send, every byte of the answer): the longest of the
    request's own timeouts (httpx's are per read)."""
    timeout = request.extensions.get("timeout") or http.timeout.as_dict()
    values = [v for v in timeout.values() if isinstance(v, int | float)]
    return max(values) if values else 10.0


async def send_whole(
    http: httpx.AsyncClient, request: httpx.Request, what: str
) -> tuple[httpx.Response, str]:
    """Send the request and read the whole answer within one deadline, at most MAX_BODY_BYTES of it.
    Raises TimeoutError past the deadline (a server trickling its answer byte by byte included) and
    ResponseTooLarge for a bigger body."""
    deadline_s = deadline_of(http, request)
    chunks: list[bytes] = []
    try:
        async with asyncio.timeout(deadline_s):
            response = await http.send(request, stream=True)
            try:
                size = 0
                async for chunk in response.aiter_bytes():
                    size += len(chunk)
                    if size > MAX_BODY_BYTES:
                        length = response.headers.get("content-length", "none")
                        raise ResponseTooLarge(
                            f"{what}: the answer is bigger than {MAX_BODY_BYTES // (1024 * 1024)} MiB "
                            f"({size} bytes read, Content-Length {length})", Failure.OTHER)
                    chunks.append(chunk)
            finally:
                await response.aclose()
        deadline_passed = False
    except TimeoutError:
        deadline_passed = True
    if deadline_passed:  # raised here, so that its cause chain is this, not the cancelled read
        raise TimeoutError(f"no whole answer within {deadline_s:g} s (connect, send and every byte)")
    content = b"".join(chunks)
    return response, content.decode(response.encoding or "utf-8", "replace")


async def exchange(
    http: httpx.AsyncClient,
    transcript: Transcript,
    kind: EntryKind,
    actor: str,
    request: httpx.Request,
) -> Reply:
    """Send one request, record request and response in the transcript. Raises TargetUnreachable
    (an ERROR) for a network failure and TargetUnavailable for a gateway's page (non-JSON 502/503/504),
    so that no caller, synced step or raw check, mistakes either for the server's answer."""
    started = time.monotonic()
    req_text = request_text(request)  # redacted: a traceback's locals may show it
    what = f"{request.method} {request.url}"
    try:
        response, text = await send_whole(http, request, what)
    except ResponseTooLarge as err:
        transcript.add(kind, actor, f"{request.method} {request.url.path} -> {err}", req_text)
        raise
    except UNREACHABLE_ERRORS as err:
        transcript.add(kind, actor, f"{request.method} {request.url.path} -> no answer: {err!r}", req_text)
        raise unreachable(what, err) from err
    _remember_cookies(transcript, response)
    reply = reply_of(response, time.monotonic() - started, text)
    code = "" if reply.status_code is None else f" statusCode {reply.status_code}"
    transcript.add(
        kind,
        actor,
        f"{request.method} {request.url.path} -> {reply.http_status}{code} ({reply.elapsed_s * 1000:.1f} ms)",
        f"{req_text}\n---\nHTTP {reply.http_status}\n"
        f"{format_headers(response.headers.items())}\n\n{reply.text}",
    )
    if is_gateway_page(reply.http_status, reply.text):
        raise gateway_page(f"{request.method} {request.url}", reply.http_status, reply.headers)
    return reply


def request_text(request: httpx.Request) -> str:
    """The request as the transcript shows it, its secret headers and fields already redacted (the
    transcript then replaces every known secret value too)."""
    text = f"{request.method} {request.url}\n{format_headers(request.headers.items())}"
    if request.content:
        text += "\n\n" + request.content.decode("utf-8", "replace")
    return redact_shapes(text)


def _remember_cookies(transcript: Transcript, response: httpx.Response) -> None:
    """Every cookie the server sets is a secret, kept or not."""
    for header in response.headers.get_list("set-cookie"):
        name_value = header.split(";", 1)[0]
        transcript.add_secret(name_value.split("=", 1)[1].strip() if "=" in name_value else None)


def unreachable(what: str, err: BaseException) -> TargetUnreachable:
    """The ERROR for a request that got no answer: what failed, classified, then the innermost error."""
    return TargetUnreachable(f"{what}: {describe(err)}", failure_of(err))


def gateway_page(what: str, http_status: int, headers: Mapping[str, str]) -> TargetUnavailable:
    media = headers.get("content-type", "no content type").split(";")[0].strip()
    return TargetUnavailable(
        f"{what}: HTTP {http_status} {media}, {Failure.GATEWAY}: the server behind it is unavailable"
    )


PROBE_DEADLINE_S = 3.0


async def server_answers(url: str, verify_tls: bool | str, deadline_s: float) -> tuple[bool, str]:
    """GET url on a fresh connection: whether the server answered (any HTTP reply but a gateway's
    page) within deadline_s, and what happened, for the transcript."""
    started = time.monotonic()
    http = make_http(deadline_s, verify_tls)
    try:
        response, text = await send_whole(http, http.build_request("GET", url), f"GET {url}")
    except UNREACHABLE_ERRORS as err:
        return False, f"no answer ({describe(err)})"
    except ResponseTooLarge as err:
        return True, str(err)
    finally:
        await http.aclose()
    took = f"HTTP {response.status_code} in {(time.monotonic() - started) * 1000:.0f} ms"
    if is_gateway_page(response.status_code, text):
        return False, f"{took}, {Failure.GATEWAY}"
    return True, took


class AgentClient:
    """One agent's HTTP session with the agent API: Basic auth, the session cookie, the CSRF token."""

    def __init__(
        self,
        base_url: str,
        username: str,
        password: str,
        profile: Profile,
        transcript: Transcript,
        timeout_s: float,
        verify_tls: bool | str = True,
        csrf: bool = True,
        actor: str | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.username = username
        self.profile = profile
        self.transcript = transcript
        self.timeout_s = timeout_s
        self.csrf = csrf
        self.actor = actor or username
        self._password = Secret(password)
        self._basic = basic_credential(username, self._password)
        self.csrf_header: str = profile.http.csrf_token_header
        self.csrf_token: Secret | None = None
        self.verify_tls = verify_tls
        self.http = make_http(timeout_s, verify_tls)
        transcript.add_secret(self._password)
        transcript.add_secret(self._basic)

    @property
    def api(self) -> str:
        return self.base_url + self.profile.http.api_prefix

    def interaction_path(self, interaction_id: str) -> str:
        return f"{self.profile.http.api_prefix}/me/interactions/{quote(str(interaction_id), safe='')}"

    async def aclose(self) -> None:
        await self.http.aclose()

    # -- raw requests ---------------------------------------------------------------------------

    def _build(
        self,
        method: str,
        path: str,
        content: bytes | None,
        *,
        csrf: bool,
        auth: Auth,
        headers: Mapping[str, str] | None,
    ) -> httpx.Request:
        hdrs: dict[str, str | Secret] = {}  # secret values stay Secrets: a traceback may show this dict
        if content is not None:
            hdrs["Content-Type"] = "application/json"
        if auth == "basic" or (auth == "session" and not self.has_session):
            hdrs["Authorization"] = Secret("Basic " + self._basic.reveal())
        elif isinstance(auth, tuple):
            hdrs["Authorization"] = Secret(basic_header(*auth))
        if csrf and self.csrf_token is not None:
            hdrs[self.csrf_header] = self.csrf_token
        hdrs.update(headers or {})
        url = path if path.startswith(("http://", "https://")) else self.base_url + path
        request = self.http.build_request(method, url, content=content, headers=revealed(hdrs))
        if auth == "none":
            request.headers.pop("cookie", None)
        return request

    async def request(
        self,
        method: str,
        path: str,
        content: bytes | None = None,
        *,
        csrf: bool = True,
        auth: Auth = "session",
        headers: Mapping[str, str] | None = None,
    ) -> Reply:
        """Any request; `auth`: "session" (the cookie, or Basic before login), "basic" (Basic and the
        cookie), "none" (neither), or (user, password) for those Basic credentials plus the cookie."""
        request = self._build(method, path, content, csrf=csrf, auth=auth, headers=headers)
        reply = await exchange(self.http, self.transcript, EntryKind.HTTP, self.actor, request)
        self._remember_session()
        return reply

    async def request_or_hang(
        self,
        method: str,
        path: str,
        content: bytes | None = None,
        *,
        csrf: bool = True,
        auth: Auth = "session",
        headers: Mapping[str, str] | None = None,
    ) -> Reply:
        """request(), for checks that forbid hangs (STATUS-06): when it gets no answer in time, a GET
        of the `me` path on a fresh connection, with a short deadline, tells whether the server still
        answers. RequestHung when it does (this request hung: the server's deviation), the
        TargetUnreachable (an ERROR) for every other failure."""
        try:
            return await self.request(method, path, content, csrf=csrf, auth=auth, headers=headers)
        except TargetUnreachable as err:
            if err.failure is not Failure.TIMEOUT or isinstance(err, RequestHung):
                raise
            probe = f"{self.api}/me"
            deadline_s = min(PROBE_DEADLINE_S, self.timeout_s)
            answered, how = await server_answers(probe, self.verify_tls, deadline_s)
            self.transcript.note(self.actor, f"probe GET {probe} on a fresh connection: {how}")
            if not answered:
                raise
            raise RequestHung(
                f"{method} {path}: no answer within {self.timeout_s:g} s, while the server answered a "
                f"probe GET of {probe} ({how})"
            ) from err

    async def post_json(
        self,
        path: str,
        body: object | bytes,
        *,
        csrf: bool = True,
        auth: Auth = "session",
        headers: Mapping[str, str] | None = None,
    ) -> Reply:
        """POST a body: bytes are sent as they are, anything else as JSON."""
        content = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode("utf-8")
        return await self.request("POST", path, content, csrf=csrf, auth=auth, headers=headers)


    async def get(
        self, path: str, *, auth: Auth = "session", headers: Mapping[str, str] | None = None
    ) -> Reply:
        return await self.request("GET", path, None, csrf=False, auth=auth, headers=headers)

    # -- session --------------------------------------------------------------------------------

    @property
    def has_session(self) -> bool:
        return self.profile.http.session_cookie in self.http.cookies

    def _remember_session(self) -> None:
        for value in self.http.cookies.values():
            self.transcript.add_secret(value)

    async def login(self) -> Reply:
        """GET /me with Basic credentials; keeps the session cookie and the CSRF header pair."""
        reply = await self.get(f"{self.profile.http.api_prefix}/me", auth="basic")
        name = reply.headers.get(self.profile.http.csrf_header_name_header.lower())
        if name:
            self.csrf_header = name
        token = reply.headers.get(self.csrf_header.lower())
        if token:
            self.csrf_token = Secret(token)
            self.transcript.add_secret(self.csrf_token)
        return reply

    # -- the API --------------------------------------------------------------------------------

    def body(self, op: Operation | str, fields: Mapping[str, object]) -> dict[str, object]:
        """{operationName: wire(op), <wire name of each Field>: value}; a value OMIT drops the key."""
        out: dict[str, object] = {
            self.profile.wire(Field.OPERATION): self.profile.wire(op) if isinstance(op, Operation) else op
        }
        for key, value in fields.items():
            out[self.profile.wire(Field(key))] = value
        return {k: v for k, v in out.items() if v is not OMIT}

    async def perform(
        self,
        interaction_id: str,
        op: Operation | str,
        extra: Mapping[str, object] | None = None,
        **fields: object,
    ) -> Reply:
        """POST an operation on an interaction. `fields` are keyed by Field values (text=, agent_id=,
        event_id=, nickname=, notification=, skill=, operation= to override the name); `extra` adds
        keys spelled as on the wire."""
        body = self.body(op, fields)
        body.update(extra or {})
        return await self.post_json(self.interaction_path(interaction_id), body)

    async def me(self) -> Reply:
        return await self.get(f"{self.profile.http.api_prefix}/me")

    async def start_session(self) -> Reply:
        body = self.body(Operation.START_SESSION, {Field.CHANNELS: [self.profile.media]})
        return await self.post_json(f"{self.profile.http.api_prefix}/me", body)

    async def end_session(self) -> Reply:
        return await self.post_json(
            f"{self.profile.http.api_prefix}/me", self.body(Operation.END_SESSION, {})
        )

    async def set_ready(self) -> Reply:
        return await self.post_json(
            f"{self.profile.http.api_prefix}/me/channels/{self.profile.media}", self.body(Operation.READY, {})
        )

    async def set_not_ready(self) -> Reply:
        channel = f"{self.profile.http.api_prefix}/me/channels/{self.profile.media}"
        return await self.post_json(channel, self.body(Operation.NOT_READY, {}))

    async def get_interaction(self, interaction_id: str) -> Reply:
        return await self.get(self.interaction_path(interaction_id))

    async def list_interactions(self, all_fields: bool = False) -> Reply:
        suffix = "?fields=*" if all_fields else ""
        return await self.get(f"{self.profile.http.api_prefix}/me/interactions{suffix}")
