"""One classification of requests that got no usable answer, for every helper of the harness.

The target unreachable or unavailable (connection refused, closed or reset, a TLS failure, a name that
does not resolve, no answer in time while other requests fail too, a gateway's non-JSON 502/503/504
page) is an ERROR of the run, never a FAIL: `TargetUnreachable`, which is not an AssertionError.
Only two things are the server's own deviation: a JSON answer with HTTP 5xx (the caller checks the
reply) and one request hanging while the server keeps answering others (`RequestHung`, raised by
`AgentClient.request_or_hang`, which probes the server on a fresh connection before deciding)."""

from __future__ import annotations

import json
import socket
import ssl
from enum import StrEnum
from typing import Any


class Failure(StrEnum):
    """Why a request got no usable answer."""

    REFUSED = "connection refused"
    CLOSED = "connection closed or reset without an answer"
    TLS = "TLS failure"
    NAME = "host name not resolved"
    TIMEOUT = "no answer in time"
    GATEWAY = "a gateway's error page, not the server's answer"
    OTHER = "network failure"


class TargetUnreachable(Exception):
    """The target could not be reached or did not answer in time: an ERROR, never a FAIL."""

    def __init__(self, message: str, failure: Failure = Failure.OTHER) -> None:
        super().__init__(message)
        self.failure = failure


class TargetUnavailable(TargetUnreachable):
    """A gateway in front of the server answered for it (a non-JSON 502/503/504): an ERROR."""

    def __init__(self, message: str, reply: Any = None) -> None:
        super().__init__(message, Failure.GATEWAY)
        self.reply = reply


class RequestHung(TargetUnreachable):
    """This request got no answer in time while the server kept answering a probe on a fresh
    connection: the server's deviation where a requirement forbids hangs (STATUS-06)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, Failure.TIMEOUT)


GATEWAY_STATUSES = frozenset({502, 503, 504})


def is_gateway_page(http_status: int, text: str) -> bool:
    """A 502/503/504 whose body is not JSON (empty, HTML, plain text): a proxy or load balancer
    speaking, not the server under test, whose every answer is JSON. A JSON 5xx is the server's."""
    if http_status not in GATEWAY_STATUSES:
        return False
    try:
        json.loads(text)
    except ValueError:
        return True
    return False


def failure_of(err: BaseException) -> Failure:
    """Classify a network exception by its whole cause chain: httpx's aiohttp transport reports a
    refused, reset or TLS-failed connection as `httpx.ConnectTimeout`, so the outer type says little."""
    chain = _chain(err)
    for found in chain:
        if isinstance(found, ssl.SSLError):
            return Failure.TLS
    for found in chain:
        if isinstance(found, ConnectionRefusedError):
            return Failure.REFUSED
        if isinstance(found, socket.gaierror):
            return Failure.NAME
    for found in chain:
        if isinstance(found, TimeoutError):  # asyncio's and aiohttp's timeouts, a kernel ETIMEDOUT
            return Failure.TIMEOUT
    for found in chain:
        if isinstance(found, (ConnectionError, EOFError)) or _named(found, _CLOSED_NAMES):
            return Failure.CLOSED
    innermost = chain[-1]
    if _named(innermost, ("TimeoutException",)):  # httpx's and httpcore's: exact on their own transport
        return Failure.TIMEOUT
    if _named(innermost, ("ConnectError",)) and "refused" in str(innermost).lower():
        return Failure.REFUSED
    if _named(innermost, ("RemoteProtocolError", "ReadError", "WriteError", "ConnectError")):
        return Failure.CLOSED
    return Failure.OTHER


def describe(err: BaseException) -> str:
    """The failure, then the innermost error (the outer one may be a misnomer such as ConnectTimeout)."""
    root = _chain(err)[-1]
    return f"{failure_of(err)}: {type(root).__name__}: {root}"


_CLOSED_NAMES = ("ServerDisconnectedError", "ClientOSError", "ClientPayloadError", "IncompleteRead")


def _chain(err: BaseException) -> list[BaseException]:
    chain: list[BaseException] = []
    current: BaseException | None = err
    while current is not None and current not in chain:
        chain.append(current)
        current = current.__cause__ or current.__context__
    return chain


def _named(err: BaseException, names: tuple[str, ...]) -> bool:
    return any(cls.__name__ in names for cls in type(err).__mro__)
