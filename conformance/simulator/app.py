"""The reference server's HTTP application: sessions, CSRF, body parsing, routes, error precedence.

Precedence (profile section 2): credentials (401) -> CSRF (403) -> unknown path or method (404,
statusCode 6, before the body is looked at) -> body not UTF-8 JSON object (1) -> the engine.
No exception inside becomes a 5xx: every JSON response carries a statusCode.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import re
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from hmac import compare_digest
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from conformance.protocol.names import Channel, Status
from conformance.protocol.profile import Profile
from conformance.simulator.bayeux_server import AuthFailure, BayeuxServer, JsonResponse
from conformance.simulator.limits import MAX_FORM_BYTES, MAX_SESSIONS

if TYPE_CHECKING:
    from conformance.simulator.engine import Engine, Outcome

log = logging.getLogger(__name__)

METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"]
_SURROGATE = re.compile("[\ud800-\udfff]")
_NOT_PARSED = object()


class BodyError(Exception):
    """The request body is not a UTF-8 JSON object (or form) within the size limit."""


class FormTooLarge(BodyError):
    """A customer form larger than limits.MAX_FORM_BYTES (statusCode 2, like any value too long)."""


@dataclass(frozen=True)
class Session:
    user_id: str
    csrf_token: str


class _App:
    def __init__(self, engine: Engine, profile: Profile, faults: frozenset[str]) -> None:
        self.engine = engine
        self.profile = profile
        self.faults = faults
        self.http = profile.http
        self.sessions: dict[str, Session] = {}
        self.bayeux = BayeuxServer(
            self.bayeux_identity,
            faults,
            max_timeout_ms=profile.limits.max_connect_timeout_ms,
            expiry_s=float(profile.limits.client_expiry_s),
            channels=[profile.wire(c) for c in Channel],
            max_body_bytes=profile.limits.max_body_bytes,
        )

    # -- authentication --------------------------------------------------------------------------

    def identify(self, request: Request) -> str | AuthFailure:
        """The caller's user id (creating a session when needed), or why there is none; decided once
        per request."""
        known: str | AuthFailure | None = getattr(request.state, "identity", None)
        if known is None:
            known = request.state.identity = self._identify(request)
        return known

    def _identify(self, request: Request) -> str | AuthFailure:
        cookie = request.cookies.get(self.http.session_cookie)
        session = self.sessions.pop(cookie, None) if cookie else None
        if cookie and session is not None:
            self.sessions[cookie] = session  # most recently used last: the oldest is forgotten first
        header = request.headers.get("authorization")
        if header is None:
            if session is None:
                return AuthFailure.MISSING
            request.state.session = session
            return session.user_id
        user_id = self._basic(header)
        if user_id is None:
            if session is not None and "wrong-password-with-cookie" in self.faults:
                request.state.session = session
                return session.user_id
            return AuthFailure.WRONG
        if session is None or session.user_id != user_id:
            session = Session(user_id, secrets.token_urlsafe(24))
            session_id = secrets.token_hex(16)
            while len(self.sessions) >= MAX_SESSIONS:
                del self.sessions[next(iter(self.sessions))]
            self.sessions[session_id] = session
            request.state.new_session_id = session_id
        request.state.session = session
        return user_id

    def bayeux_identity(self, request: Request) -> str | AuthFailure:
        return self.identify(request)

    def _basic(self, header: str) -> str | None:
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "basic":
            return None
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            return None
        user_name, sep, password = decoded.partition(":")
        return self.engine.authenticate(user_name, password) if sep else None

    def unauthorized(self) -> Response:
        text = "Unauthorized"
        if "auth-error-lists-users" in self.faults:
            from conformance.simulator.accounts import BUILT_IN_AGENTS

            text += ": known users are " + ", ".join(a.user_name for a in BUILT_IN_AGENTS)
        return PlainTextResponse(text, status_code=401)

    # -- responses -------------------------------------------------------------------------------

    def status(self, status: Status, message: str) -> dict[str, Any]:
        return {"statusCode": self.profile.code(status), "statusMessage": message}

    def json(self, body: dict[str, Any], headers: dict[str, str] | None = None) -> Response:
        code = body.get("statusCode")
        http_status = self.profile.http_status(code) if isinstance(code, int) else 200
        if http_status >= 500:
            http_status = 400  # never a 5xx
        if code == self.profile.code(Status.SUCCESS):
            if "success-with-status-message" in self.faults:
                body = {**body, "statusMessage": "OK"}
        else:
            if "error-extra-key" in self.faults:
                body = {**body, "requestId": secrets.token_hex(4)}
            if "errors-are-http-200" in self.faults:
                http_status = 200
        return JsonResponse(body, status_code=http_status, headers=headers)

    def outcome(self, outcome: Outcome, headers: dict[str, str] | None = None) -> Response:
        for out in outcome.notifications:
            self.bayeux.publish(out.user_id, self.profile.wire(out.channel), out.data)
        return self.json(outcome.body, headers)

    def not_found(self) -> Response:
        return self.json(self.status(Status.NOT_FOUND, "Not found"))

    # -- bodies ----------------------------------------------------------------------------------

    async def raw_body(self, request: Request, form: bool = False) -> bytes:
        limit = MAX_FORM_BYTES if form else self.profile.limits.max_body_bytes
        chunks: list[bytes] = []
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > limit:
                if form:
                    raise FormTooLarge(f"the form is larger than {MAX_FORM_BYTES} bytes")
                raise BodyError("the body is larger than the limit")
            chunks.append(chunk)
        return b"".join(chunks)

    async def json_object(self, request: Request) -> dict[str, Any]:
        raw = await self.raw_body(request)
        try:
            parsed = json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)
        except (ValueError, RecursionError) as err:
            raise BodyError("the body is not JSON") from err
        if not isinstance(parsed, dict):
            raise BodyError("the body is not a JSON object")
        if "lone-surrogate-crashes" in self.faults and _has_surrogate(parsed):
            raise _Crash
        return parsed

    async def form(self, request: Request) -> dict[str, str]:
        raw = await self.raw_body(request, form=True)
        try:
            return dict(parse_qsl(raw.decode("ascii"), keep_blank_values=True, errors="strict"))
        except (UnicodeDecodeError, ValueError) as err:
            raise BodyError("the body is not a form") from err

    # -- dispatch --------------------------------------------------------------------------------

    async def __call__(self, request: Request) -> Response:
        try:
            response = await self.dispatch(request)
        except _Crash:
            return PlainTextResponse("Internal Server Error", status_code=500)
        except FormTooLarge as err:
            response = self.json(self.status(Status.INVALID_PARAMETER, f"Bad request: {err}"))
        except BodyError as err:
            response = self.json(self.status(Status.MISSING_PARAMETER, f"Bad request: {err}"))
        except Exception:
            log.exception("reference server: unexpected error on %s %s", request.method, request.url.path)
            response = self.json(self.status(Status.INVALID_PARAMETER, "The request could not be processed"))
        new_session_id = getattr(request.state, "new_session_id", None)
        if new_session_id is not None:
            response.set_cookie(self.http.session_cookie, new_session_id, httponly=True, path="/")
        return response

    async def dispatch(self, request: Request) -> Response:
        path, method = request.url.path, request.method
        if path == self.http.gms_prefix or path.startswith(self.http.gms_prefix + "/"):
            return await self.customer(request, path[len(self.http.gms_prefix) :].strip("/").split("/"))
        prefix = self.http.api_prefix
        if not (path == prefix or path.startswith(prefix + "/")):
            return self.not_found()
        identity = self.identify(request)
        # CometD clients may append the message type to the URL (.../notifications/handshake)
        bayeux_path = self.http.notifications_path
        notifications = path == bayeux_path or path.startswith(bayeux_path + "/")
        if isinstance(identity, AuthFailure):
            if notifications and method == "POST" and identity is AuthFailure.MISSING:
                return await self.bayeux.endpoint(request)
            return self.unauthorized()
        if notifications:
            return await self.bayeux.endpoint(request) if method == "POST" else self.not_found()
        session: Session = request.state.session
        if method == "POST" and not self.csrf_ok(request, session, path):
            return PlainTextResponse("Forbidden", status_code=403)
        handler = self.route(path[len(prefix) :], method)
        if handler is None:
            return self.not_found()
        return await handler(request, identity)

    def csrf_ok(self, request: Request, session: Session, path: str) -> bool:
        if "csrf-not-enforced" in self.faults and path.startswith(self.http.api_prefix + "/me/interactions/"):
            return True
        sent = request.headers.get(self.http.csrf_token_header)
        expected = session.csrf_token.encode("utf-8")
        return sent is not None and compare_digest(sent.encode("utf-8"), expected)

    def route(self, rest: str, method: str) -> Callable[[Request, str], Awaitable[Response]] | None:
        parts = rest.strip("/").split("/") if rest.strip("/") else []
        if rest.endswith("/") or parts[:1] != ["me"]:
            return None
        if len(parts) == 1:
            return {"GET": self.get_me, "POST": self.post_me}.get(method)
        if parts[1] == "interactions":
            if len(parts) == 2:
                return self.list_interactions if method == "GET" else None
            if len(parts) == 3 and parts[2]:
                interaction_id = parts[2]
                if method == "GET":
                    return lambda request, uid: self.get_interaction(uid, interaction_id)
                if method == "POST":
                    return lambda request, uid: self.operate(request, uid, interaction_id)
        if parts[1] == "channels" and len(parts) == 3 and parts[2] and method == "POST":
            channel = parts[2]
            return lambda request, uid: self.channel(request, uid, channel)
        return None

    # -- agent routes ----------------------------------------------------------------------------

    async def get_me(self, request: Request, user_id: str) -> Response:
        outcome = self.engine.me(user_id)
        if "me-without-uri" in self.faults and isinstance(outcome.body.get("user"), dict):
            outcome.body["user"].pop("uri", None)
        session: Session = request.state.session
        headers = {
            self.http.csrf_header_name_header: self.http.csrf_token_header,
            self.http.csrf_token_header: session.csrf_token,
        }
        return self.outcome(outcome, headers)

    async def post_me(self, request: Request, user_id: str) -> Response:
        body = await self.json_object(request)
        return self.outcome(self.engine.session_operation(user_id, body))

    async def list_interactions(self, request: Request, user_id: str) -> Response:
        base_url = str(request.base_url).rstrip("/")
        all_fields = request.query_params.get("fields") == "*"
        outcome = self.engine.list_interactions(user_id, base_url, all_fields)
        uris = outcome.body.get("uris")
        if "relative-uris" in self.faults and isinstance(uris, list):
            outcome.body["uris"] = [u[len(base_url) :] if isinstance(u, str) else u for u in uris]
        return self.outcome(outcome)

    async def get_interaction(self, user_id: str, interaction_id: str) -> Response:
        return self.outcome(self.engine.get_interaction(user_id, interaction_id))

    async def operate(self, request: Request, user_id: str, interaction_id: str) -> Response:
        body = await self.json_object(request)
        return self.outcome(self.engine.interaction_operation(user_id, interaction_id, body))

    async def channel(self, request: Request, user_id: str, channel: str) -> Response:
        # the engine decides an unknown channel (6) before it looks at the body
        body: object
        try:
            body = await self.json_object(request)
        except BodyError:
            body = _NOT_PARSED
        return self.outcome(self.engine.channel_operation(user_id, channel, body))

    # -- customer routes (GMS Chat API v2, form-encoded, no agent auth) ---------------------------

    async def customer(self, request: Request, parts: list[str]) -> Response:
        if request.method != "POST" or not all(parts) or len(parts) not in (1, 3):
            return self.not_found()
        form = await self.form(request)
        if len(parts) == 1:
            return self.outcome(self.engine.customer_start(parts[0], form))
        service, chat_id, action = parts
        return self.outcome(self.engine.customer_action(service, chat_id, action, form))


class _Crash(Exception):
    """Fault lone-surrogate-crashes: the server fails as a naive one would."""


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _has_surrogate(value: object) -> bool:
    if isinstance(value, str):
        return bool(_SURROGATE.search(value))
    if isinstance(value, dict):
        return any(_has_surrogate(k) or _has_surrogate(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_surrogate(v) for v in value)
    return False


def build_app(engine: Engine, profile: Profile, faults: frozenset[str]) -> Starlette:
    """The reference server as a Starlette app; `app.state.bayeux` is its notification endpoint."""
    handler = _App(engine, profile, faults)
    app = Starlette(routes=[Route("/{path:path}", handler.__call__, methods=METHODS)])
    app.state.bayeux = handler.bayeux
    app.state.sessions = handler.sessions
    return app
