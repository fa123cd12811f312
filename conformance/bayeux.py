"""A Bayeux 1.0 long-polling client on httpx: handshake, subscribe, a connect loop that honours advice.

Every message sent and received is recorded in the transcript; data messages from every response
(handshake, subscribe and connect replies alike) go to `on_message` in the order they arrived.

Every response is judged against Bayeux 1.0's own rules (conformance/bayeux_rules.py). A reply that
breaks one is a NOTIFY-01 deviation with the reply as evidence: raised at once to whoever sent the
request (a test, a fixture), or, for the background connect loop (its connects and re-handshakes),
handed to `on_deviation`, which passes it to the test that is running (the notification log raises it
from its next wait), once per broken rule and client so that one bug does not block every later test.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from conformance.bayeux_rules import response_problems
from conformance.client import (
    UNREACHABLE_ERRORS,
    HttpClient,
    ResponseTooLarge,
    gateway_page,
    send_whole,
    unreachable,
)
from conformance.nonconformance import NonConformance
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
from conformance.transcript import EntryKind, Transcript
from conformance.transport import Failure, TargetUnreachable, is_gateway_page

Message = dict[str, Any]

BAYEUX_RULES = "NOTIFY-01"  # the requirement a reply breaking Bayeux 1.0's own rules fails
# Set inside the connect loop's task (and the tasks it starts): a deviation there is not raised.
_IN_LOOP: contextvars.ContextVar[bool] = contextvars.ContextVar("bayeux_in_loop", default=False)


class BayeuxDeviation(NonConformance):
    """A server reply that breaks Bayeux 1.0's own rules (NOTIFY-01), with the reply as evidence."""

    def __init__(self, problems: list[str], evidence: str, actor: str = "") -> None:
        self.problems = problems
        who = f" to {actor}" if actor else ""
        super().__init__(
            BAYEUX_RULES,
            "every reply as Bayeux 1.0 shapes it (required fields, types, id and subscription echo, "
            '"code:args:message" errors, advice)',
            f"{'; '.join(problems)}; in the response{who}: {evidence}",
        )


class BayeuxError(Exception):
    """The server refused a meta request, or answered something that is not Bayeux."""

    def __init__(self, text: str, reply: Message | None = None, http_status: int | None = None) -> None:
        super().__init__(text)
        self.reply = reply
        self.http_status = http_status


@dataclass
class BayeuxResponse:
    http_status: int
    messages: list[Message]
    text: str

    def reply(self, channel: str) -> Message | None:
        """The first message of this meta channel in the response."""
        return next((m for m in self.messages if m.get("channel") == channel), None)


def error_code(message: Message | None) -> str | None:
    """The three-digit code of a Bayeux `error` ("402::Unknown client" -> "402")."""
    if not message or not isinstance(message.get("error"), str):
        return None
    return message["error"].split(":", 1)[0].strip()[:3] or None


class BayeuxClient:
    def __init__(
        self,
        http: httpx.AsyncClient,
        url: str,
        transcript: Transcript,
        actor: str,
        on_message: Callable[[Message], object],
        *,
        timeout_s: float = 10.0,
        headers: Mapping[str, str] | None = None,
        max_failures: int = 3,
        on_lost: Callable[[str], object] | None = None,
        on_deviation: Callable[[BayeuxDeviation], object] | None = None,
        hold_ms: int | None = None,
    ) -> None:
        self.http = http
        self.url = url
        self.transcript = transcript
        self.actor = actor
        self.on_message = on_message
        self.timeout_s = timeout_s  # for every request but the held connect, and the margin above it
        self.headers = dict(headers or {})
        self.max_failures = max_failures
        self.on_lost = on_lost  # told once, with the reason, when the connect loop gives up
        self.lost: str | None = None
        self.hold_ms = hold_ms  # the advice.timeout the loop asks for on held connects (None: the server's)
        self.on_deviation = on_deviation  # told of a deviation seen by the loop, once per broken rule
        self.deviations: list[BayeuxDeviation] = []  # every reply that broke Bayeux's rules
        self._told: set[str] = set()
        self.client_id: str | None = None
        self.advice: dict[str, Any] = {}
        self.subscriptions: list[str] = []
        self.errors: list[str] = []
        self.connected = False
        self.handshakes = 0
        self.connects = 0  # connect requests sent
        self.connect_replies = 0  # answers to the loop's connects
        self._next_id = 0
        self._loop_task: asyncio.Task[None] | None = None
        self._held: asyncio.Task[BayeuxResponse] | None = None
        self._held_event = asyncio.Event()
        self._dropping = False
        self._state = asyncio.Condition()

    async def _changed(self) -> None:
        async with self._state:
            self._state.notify_all()

    async def wait_until(self, predicate: Callable[[BayeuxClient], bool], timeout: float) -> None:  # noqa: ASYNC109
        """Wait (no polling) until predicate(self) holds; checked after every handshake, subscribe and
        connect reply. Raises TimeoutError."""
        async with self._state:
            await asyncio.wait_for(self._state.wait_for(lambda: predicate(self)), timeout)

    # -- raw exchange --------------------------------------------------------------------------

    def message(self, channel: str, **fields: Any) -> Message:
        self._next_id += 1
        msg: Message = {"channel": channel, "id": str(self._next_id)}
        if self.client_id is not None and channel != HANDSHAKE:
            msg["clientId"] = self.client_id
        msg.update(fields)
        return msg

    async def send(
        self,
        messages: list[Message],
        read_timeout_s: float | None = None,
        sent: asyncio.Event | None = None,
    ) -> BayeuxResponse:
        """POST one batch of messages; records both ways and delivers any data messages. The whole
        exchange has one deadline: the read timeout (a held connect's: its hold plus timeout_s).
        `sent` is set once the whole request has been written to the socket."""
        content = json.dumps(messages).encode("utf-8")
        timeout = httpx.Timeout(self.timeout_s, read=read_timeout_s or self.timeout_s)
        request = self.http.build_request(
            "POST",
            self.url,
            content=content,
            timeout=timeout,
            headers={"Content-Type": "application/json;charset=UTF-8", **self.headers},
        )
        if sent is not None and isinstance(self.http, HttpClient):
            self.http.bodies_written.watch(content, sent)
        elif sent is not None:  # another httpx transport: httpcore's trace hook
            request.extensions["trace"] = _on_written(sent)
        channels = ", ".join(str(m.get("channel")) for m in messages)
        self.transcript.add(EntryKind.BAYEUX_OUT, self.actor, channels, content.decode("utf-8"))
        try:
            response, text = await send_whole(self.http, request, f"POST {self.url} ({channels})")
        except ResponseTooLarge as err:
            self.transcript.add(EntryKind.BAYEUX_IN, self.actor, f"{channels}: {err}")
            raise
        except UNREACHABLE_ERRORS as err:
            self.transcript.add(EntryKind.BAYEUX_IN, self.actor, f"{channels}: no answer: {err!r}")
            raise unreachable(f"POST {self.url} ({channels})", err) from err
        finally:
            if isinstance(self.http, HttpClient):
                self.http.bodies_written.forget(content)
        if is_gateway_page(response.status_code, text):
            self.transcript.add(
                EntryKind.BAYEUX_IN, self.actor, f"HTTP {response.status_code}, {Failure.GATEWAY}", text
            )
            raise gateway_page(f"POST {self.url} ({channels})", response.status_code, response.headers)
        try:
            parsed = json.loads(text)
        except ValueError:
            parsed = None
        if isinstance(parsed, dict):
            parsed = [parsed]
        received = [m for m in parsed if isinstance(m, dict)] if isinstance(parsed, list) else []
        for msg in received:  # a clientId is a credential of its session: never in a report
            if isinstance(msg.get("clientId"), str):
                self.transcript.add_secret(msg["clientId"])
        if not received:
            self.transcript.add(
                EntryKind.BAYEUX_IN, self.actor, f"HTTP {response.status_code}, no messages", text
            )
        for msg in received:
            self.transcript.add(
                EntryKind.BAYEUX_IN, self.actor, _summary(msg), json.dumps(msg, ensure_ascii=False)
            )
        for msg in received:
            if not str(msg.get("channel", "")).startswith(META_PREFIX) and "data" in msg:
                self.on_message(msg)
        if isinstance(parsed, list):  # a Bayeux answer (not an HTTP-level refusal in plain text)
            self._judge(messages, received, text)
        return BayeuxResponse(response.status_code, received, text)

    def _judge(self, sent: list[Message], received: list[Message], text: str) -> None:
        problems = response_problems(sent, received)
        if not problems:
            return
        deviation = BayeuxDeviation(problems, self.transcript.redact(text[:1500]), self.actor)
        self.deviations.append(deviation)
        self.transcript.note(self.actor, f"Bayeux 1.0 rules broken: {'; '.join(problems)}")
        if not _IN_LOOP.get():
            raise deviation
        new = [p for p in problems if p not in self._told]
        self._told.update(problems)
        if new and self.on_deviation is not None:
            self.on_deviation(deviation)

    # -- meta requests -------------------------------------------------------------------------

    async def handshake(self) -> Message:
        """Handshake; returns the reply. Raises BayeuxError when it is refused."""
        self.client_id = None
        response = await self.send(
            [
                self.message(
                    HANDSHAKE,
                    version=VERSION,
                    minimumVersion=VERSION,
                    supportedConnectionTypes=[LONG_POLLING],
                )
            ]
        )
        reply = response.reply(HANDSHAKE)
        if reply is None or reply.get("successful") is not True or not isinstance(reply.get("clientId"), str):
            raise BayeuxError(
                f"handshake refused (HTTP {response.http_status}): {response.text[:300]}",
                reply,
                response.http_status,
            )
        self.client_id = reply["clientId"]
        self.handshakes += 1
        self._take_advice(reply)
        await self._changed()
        return reply

    async def subscribe(self, *channels: str) -> list[Message]:
        """Subscribe to channels (one message each, one batch); raises BayeuxError on a refusal."""
        replies = await self._subscription(SUBSCRIBE, channels)
        for c in channels:
            if c not in self.subscriptions:
                self.subscriptions.append(c)
        await self._changed()
        return replies

    async def unsubscribe(self, *channels: str) -> list[Message]:
        """Unsubscribe from channels (one message each, one batch); raises BayeuxError on a refusal."""
        replies = await self._subscription(UNSUBSCRIBE, channels)
        self.subscriptions = [c for c in self.subscriptions if c not in channels]
        await self._changed()
        return replies

    async def _subscription(self, meta: str, channels: tuple[str, ...]) -> list[Message]:
        response = await self.send([self.message(meta, subscription=c) for c in channels])
        replies = [m for m in response.messages if m.get("channel") == meta]
        refused = [m for m in replies if m.get("successful") is not True]
        if refused or len(replies) < len(channels):
            raise BayeuxError(
                f"{meta.rsplit('/', 1)[-1]} refused: {response.text[:300]}",
                refused[0] if refused else None,
                response.http_status,
            )
        return replies

    async def connect_once(
        self, timeout_ms: int | None = None, sent: asyncio.Event | None = None
    ) -> BayeuxResponse:
        """One /meta/connect (with `advice.timeout` when given), read timeout above the advised hold;
        `sent` is set once the request is on the wire."""
        fields: dict[str, Any] = {"connectionType": LONG_POLLING}
        if timeout_ms is not None:
            fields["advice"] = {"timeout": timeout_ms}
        hold_s = (timeout_ms if timeout_ms is not None else int(self.advice.get("timeout", 30000))) / 1000
        self.connects += 1
        return await self.send(
            [self.message(CONNECT, **fields)], read_timeout_s=hold_s + self.timeout_s, sent=sent
        )

    async def disconnect(self) -> None:
        """Stop the loop and say goodbye; never raises for a network failure."""
        await self.stop()
        if self.client_id is None:
            return
        with contextlib.suppress(TargetUnreachable):
            await self.send([self.message(DISCONNECT)])
        self.client_id = None

    def _take_advice(self, reply: Message) -> None:
        advice = reply.get("advice")
        if isinstance(advice, dict):
            self.advice.update(advice)

    # -- the connect loop ------------------------------------------------------------------------

    def start(self) -> None:
        """Start the connect loop (after handshake and subscribe)."""
        if self._loop_task is None or self._loop_task.done():
            self.lost = None
            self._loop_task = asyncio.create_task(self._run(), name=f"bayeux-{self.actor}")

    async def stop(self) -> None:
        task, self._loop_task = self._loop_task, None
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        elif task is not None and not task.cancelled():
            # Retrieved, not raised: a Ctrl-C or SIGTERM (KeyboardInterrupt) that landed in the loop's
            # task ended the run once already; raising it again here would kill the run's cleanup.
            task.exception()
        self.connected = False

    @property
    def running(self) -> bool:
        return self._loop_task is not None and not self._loop_task.done()

    async def wait_held(self, timeout: float) -> None:  # noqa: ASYNC109
        """Wait until a connect request of the loop is on the wire."""
        await asyncio.wait_for(self._held_event.wait(), timeout)

    async def drop_connect(self, barrier: Callable[[], Awaitable[object]] | None = None) -> None:
        """Abort the connect in flight (closing its TCP connection); the loop reconnects at once, and
        this returns once that reconnect is answered (so nothing the caller does next can reach the
        server before it). `barrier`, a round trip to the same server, is made twice before the drop so
        that the server has taken the connect in (its bytes arrived before the barrier's)."""
        await self.wait_held(self.timeout_s)
        if barrier is not None:
            await barrier()
            await barrier()
        held = self._held
        if held is None or held.done():
            return
        answered = self.connect_replies
        self._dropping = True
        held.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await held
        self.transcript.note(self.actor, "dropped the held /meta/connect")
        with contextlib.suppress(TimeoutError):  # no answer: the loop's own errors tell why
            await self.wait_until(lambda c: c.connect_replies > answered, self.timeout_s)

    async def _run(self) -> None:
        """The connect loop; when it ends by itself (not stopped), the channel is lost: say why."""
        _IN_LOOP.set(True)  # this task's context only (and the connects it starts)
        try:
            await self._loop()
        except Exception as err:  # an unexpected error kills the loop just the same
            self.errors.append(f"connect loop crashed: {type(err).__name__}: {err}")
        self.connected = False
        self.lost = self.errors[-1] if self.errors else "the connect loop ended"
        self.transcript.note(self.actor, f"notification channel lost: {self.lost}")
        await self._changed()
        if self.on_lost is not None:
            self.on_lost(self.lost)

    async def _loop(self) -> None:
        first = True
        failures = 0
        while True:
            try:
                response = await self._held_connect(0 if first else self.hold_ms)
            except _Dropped:
                first = True  # the next connect should answer at once, like a fresh one
                continue
            except (TargetUnreachable, httpx.HTTPError) as err:
                failures += 1
                self.connected = False
                self.errors.append(f"connect failed: {err}")
                if failures >= self.max_failures:
                    self.transcript.note(self.actor, f"Bayeux loop gave up after {failures} failures")
                    return
                await asyncio.sleep(min(0.05 * 2**failures, 1.0))  # back-off after a failure
                continue
            first = False
            self.connect_replies += 1
            await self._changed()
            reply = response.reply(CONNECT)
            if reply is not None:
                self._take_advice(reply)
            if reply is not None and reply.get("successful") is True:
                failures = 0
                self.connected = True
                await self._changed()
            else:
                self.connected = False
                reconnect = self.advice.get("reconnect")
                if reply is not None and isinstance(reply.get("advice"), dict):
                    reconnect = reply["advice"].get("reconnect", reconnect)
                code = error_code(reply)
                self.errors.append(
                    f"connect unsuccessful (HTTP {response.http_status}): {response.text[:200]}"
                )
                if reconnect == "none":
                    return
                if code == "402" or reconnect == "handshake":
                    if not await self._rehandshake():
                        return
                    first = True
                    continue
                failures += 1
                if failures >= self.max_failures:
                    return
            interval_ms = self.advice.get("interval", 0)
            if isinstance(interval_ms, int | float) and interval_ms > 0:
                await asyncio.sleep(interval_ms / 1000)  # the server's advised pause between connects

    async def _held_connect(self, timeout_ms: int | None) -> BayeuxResponse:
        self._held = asyncio.ensure_future(self.connect_once(timeout_ms, sent=self._held_event))
        try:
            return await self._held
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if self._dropping and not (current is not None and current.cancelling()):
                self._dropping = False
                raise _Dropped() from None
            self._held.cancel()
            raise
        finally:
            self._held_event.clear()

    async def _rehandshake(self) -> bool:
        channels = list(self.subscriptions)
        try:
            await self.handshake()
            if channels:
                await self.subscribe(*channels)
        except (BayeuxError, TargetUnreachable) as err:
            self.errors.append(f"re-handshake failed: {err}")
            return False
        self.transcript.note(self.actor, f"re-handshake done, resubscribed to {', '.join(channels)}")
        return True


def _on_written(sent: asyncio.Event) -> Callable[[str, dict[str, Any]], Awaitable[None]]:
    """An httpx trace hook that sets `sent` when the request body has been written."""

    async def trace(event: str, info: dict[str, Any]) -> None:
        if event.endswith("send_request_body.complete"):
            sent.set()

    return trace


class _Dropped(Exception):
    pass


def _summary(msg: Message) -> str:
    channel = msg.get("channel")
    if str(channel).startswith(META_PREFIX):
        status = "ok" if msg.get("successful") is True else f"FAILED {msg.get('error', '')}"
        return f"{channel} {status}"
    data = msg.get("data")
    if isinstance(data, dict):
        kind = data.get("notificationType") or data.get("messageType") or ""
        return f"{channel} {kind}".strip()
    return str(channel)
