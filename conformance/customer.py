"""The customer side: the GMS Chat API v2 REST subset (form-encoded POSTs). Never asserts."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, urlencode

from conformance.client import exchange, make_http
from conformance.protocol import Profile, Status
from conformance.reply import Reply
from conformance.transcript import EntryKind, Secret, Transcript

# Form fields and reply keys of the GMS Chat API v2 (section 5).
NICKNAME = "nickname"
SUBJECT = "subject"
USER_DATA = "userData[{}]"
MESSAGE = "message"
USER_ID = "userId"
SECURE_KEY = "secureKey"
ALIAS = "alias"
CHAT_ID = "chatId"
POSITION = "transcriptPosition"
NEXT_POSITION = "nextPosition"
MESSAGES = "messages"
CHAT_ENDED = "chatEnded"

SEND, REFRESH, START_TYPING, STOP_TYPING, DISCONNECT = (
    "send",
    "refresh",
    "startTyping",
    "stopTyping",
    "disconnect",
)


class CustomerClient:
    """One customer's chat. Keeps chatId, userId, secureKey (a transcript secret) and alias."""

    def __init__(
        self,
        gms_url: str,
        service: str,
        profile: Profile,
        transcript: Transcript,
        timeout_s: float,
        actor: str = "customer",
        verify_tls: bool | str = True,
    ) -> None:
        self.gms_url = gms_url.rstrip("/")
        self.service = service
        self.profile = profile
        self.transcript = transcript
        self.timeout_s = timeout_s
        self.actor = actor
        self.http = make_http(timeout_s, verify_tls)
        self.chat_id: str | None = None
        self.user_id: str | None = None
        self.secure_key: Secret | None = None  # a Secret: no traceback, no report shows it
        self.alias: str | None = None
        self.next_position: int = 1
        self.chat_ended = False

    @property
    def service_path(self) -> str:
        return f"{self.gms_url}{self.profile.http.gms_prefix}/{quote(self.service, safe='')}"

    async def aclose(self) -> None:
        await self.http.aclose()

    async def post_form(self, url: str, form: Mapping[str, object]) -> Reply:
        """POST a form (values sent as str) and record it."""
        request = self.http.build_request(
            "POST", url, content=_encoded(form), headers={"Content-Type": "application/x-www-form-urlencoded"}
        )
        reply = await exchange(self.http, self.transcript, EntryKind.CUSTOMER, self.actor, request)
        self._absorb(reply)
        return reply

    def _absorb(self, reply: Reply) -> None:
        body = reply.body or {}
        if isinstance(body.get(NEXT_POSITION), int):
            self.next_position = body[NEXT_POSITION]
        if body.get(CHAT_ENDED) is True:
            self.chat_ended = True

    async def start(self, nickname: str, user_data: Mapping[str, str], subject: str | None = None) -> Reply:
        form: dict[str, object] = {NICKNAME: nickname}
        if subject is not None:
            form[SUBJECT] = subject
        form.update({USER_DATA.format(k): v for k, v in user_data.items()})
        reply = await self.post_form(self.service_path, form)
        body = reply.body or {}
        if reply.status_code == self.profile.code(Status.SUCCESS):
            self.chat_id = _str(body.get(CHAT_ID))
            self.user_id = _str(body.get(USER_ID))
            key = _str(body.get(SECURE_KEY))
            self.secure_key = None if key is None else Secret(key)
            self.alias = _str(body.get(ALIAS))
            self.transcript.add_secret(self.secure_key)
        return reply

    def credentials(self) -> dict[str, object]:
        form: dict[str, object] = {}
        for key, value in ((USER_ID, self.user_id), (SECURE_KEY, self.secure_key), (ALIAS, self.alias)):
            if value is not None:
                form[key] = value
        return form

    async def raw(self, action: str | None, form: Mapping[str, object], chat_id: str | None = None) -> Reply:
        """POST any form to `{service}` (action None) or `{service}/{chatId}/{action}`, for misuse tests."""
        if action is None:
            return await self.post_form(self.service_path, form)
        chat = quote(str(chat_id if chat_id is not None else self.chat_id), safe="")
        return await self.post_form(f"{self.service_path}/{chat}/{action}", form)

    async def action(self, action: str, **extra: object) -> Reply:
        return await self.raw(action, {**self.credentials(), **extra})

    async def send(self, text: str, position: int | None = None) -> Reply:
        return await self.action(SEND, **{MESSAGE: text}, **_at(position))

    async def refresh(self, position: int | None = None) -> Reply:
        return await self.action(REFRESH, **_at(position))

    async def start_typing(self, position: int | None = None) -> Reply:
        return await self.action(START_TYPING, **_at(position))

    async def stop_typing(self, position: int | None = None) -> Reply:
        return await self.action(STOP_TYPING, **_at(position))

    async def disconnect(self, position: int | None = None) -> Reply:
        return await self.action(DISCONNECT, **_at(position))


def _at(position: int | None) -> dict[str, object]:
    """The transcriptPosition field, when one is given."""
    return {} if position is None else {POSITION: position}


def messages_of(reply: Reply) -> list[dict[str, Any]]:
    """The `messages` list of a customer reply (empty when absent or malformed)."""
    found = (reply.body or {}).get(MESSAGES)
    return [m for m in found if isinstance(m, dict)] if isinstance(found, list) else []


def _encoded(form: Mapping[str, object]) -> bytes:
    """The form on the wire; only this call holds the secret values revealed."""
    return urlencode([(k, v.reveal() if isinstance(v, Secret) else str(v)) for k, v in form.items()]).encode(
        "ascii")


def _str(value: object) -> str | None:
    return None if value is None else str(value)
