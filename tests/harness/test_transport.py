"""The one classification of requests without a usable answer (conformance.transport): what is the
target unreachable or unavailable (an ERROR), what is the server's deviation; and the preflight that
uses it. Scripted servers are the robustness tests' Proxy with canned answers and no upstream."""

from __future__ import annotations

import asyncio
import itertools
import socket
import ssl
from collections.abc import AsyncIterator, Callable

import aiohttp
import httpx
import pytest

from conformance.client import (
    AgentClient,
    Reply,
    RequestHung,
    TargetUnavailable,
    TargetUnreachable,
    make_http,
)
from conformance.config import AgentConfig
from conformance.customer import CustomerClient
from conformance.protocol import DEFAULT_PROFILE
from conformance.target import Target, TargetError, preflight
from conformance.transcript import Transcript
from conformance.transport import Failure, failure_of, is_gateway_page
from tests.robustness.harness import GATEWAY_PAGE, Proxy, free_port, http_response

P = DEFAULT_PROFILE
ME = f"{P.http.api_prefix}/me"
ME_JSON = http_response(200, b'{"statusCode": 0, "user": {"id": "a1"}}', "application/json")
HTML_200 = http_response(200, b"<html><body>Welcome to our portal</body></html>")
JSON_503 = http_response(503, b'{"statusCode": 4, "statusMessage": "overloaded"}', "application/json")


def agent(url: str, timeout_s: float = 0.5) -> AgentClient:
    return AgentClient(url, "alice", "pw", P, Transcript(), timeout_s)


@pytest.mark.parametrize(
    ("status", "body", "gateway"),
    [
        (503, "<html>503 Service Unavailable</html>", True),
        (502, "", True),
        (504, "Gateway Timeout", True),
        (503, '{"statusCode": 4, "statusMessage": "busy"}', False),  # the server's own JSON: its deviation
        (504, '{"message": "Endpoint request timed out"}', False),
        (500, "<html>Internal Server Error</html>", False),  # not a gateway's status: the server's
        (200, "<html>portal</html>", False),
    ],
)
def test_a_gateway_page_is_a_non_json_502_503_504(status: int, body: str, gateway: bool) -> None:
    assert is_gateway_page(status, body) is gateway


def _caused(*chain: BaseException) -> BaseException:
    """chain[0] raised from chain[1] raised from ... (as the transports do)."""
    for outer, inner in itertools.pairwise(chain):
        outer.__cause__ = inner
    return chain[0]


@pytest.mark.parametrize(
    ("err", "failure"),
    [
        # httpx's aiohttp transport reports all of these as ConnectTimeout: the cause decides
        (_caused(httpx.ConnectTimeout("x"), ConnectionRefusedError(111, "refused")), Failure.REFUSED),
        (_caused(httpx.ConnectTimeout("x"), aiohttp.ServerDisconnectedError()), Failure.CLOSED),
        (_caused(httpx.ConnectTimeout("x"), ConnectionResetError(104, "reset")), Failure.CLOSED),
        (_caused(httpx.ConnectTimeout("x"), ssl.SSLError("WRONG_VERSION_NUMBER")), Failure.TLS),
        (_caused(httpx.ConnectTimeout("x"), socket.gaierror(-2, "unknown")), Failure.NAME),
        (_caused(httpx.ConnectTimeout("x"), aiohttp.ConnectionTimeoutError()), Failure.TIMEOUT),
        (_caused(httpx.ReadTimeout("x"), aiohttp.SocketTimeoutError()), Failure.TIMEOUT),
        (TimeoutError(), Failure.TIMEOUT),
        # httpx's own transport: exact types
        (httpx.ReadTimeout("x"), Failure.TIMEOUT),
        (httpx.PoolTimeout("x"), Failure.TIMEOUT),
        (httpx.RemoteProtocolError("Server disconnected without sending a response."), Failure.CLOSED),
        (httpx.ConnectError("[Errno 111] Connection refused"), Failure.REFUSED),
        (ValueError("?"), Failure.OTHER),
    ],
    ids=lambda v: type(v).__name__ if isinstance(v, BaseException) else str(v),
)
def test_failure_of_reads_the_whole_cause_chain(err: BaseException, failure: Failure) -> None:
    assert failure_of(err) is failure


async def _failure_of_get(url: str) -> Failure:
    http = make_http(0.5)
    try:
        await http.get(url)
    except Exception as err:
        return failure_of(err)
    finally:
        await http.aclose()
    raise AssertionError(f"{url} answered")


async def _plain_http_server() -> AsyncIterator[int]:
    async def answer_at_once(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(ME_JSON)
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(answer_at_once, "127.0.0.1", 0)
    async with server:
        yield server.sockets[0].getsockname()[1]


async def test_real_network_failures_are_classified() -> None:
    assert await _failure_of_get(f"http://127.0.0.1:{free_port()}/") is Failure.REFUSED
    with Proxy(None, cut=lambda request, n: True) as closing:
        assert await _failure_of_get(closing.url) is Failure.CLOSED
    with Proxy(None) as hanging:
        assert await _failure_of_get(hanging.url) is Failure.TIMEOUT
    async for port in _plain_http_server():
        assert await _failure_of_get(f"https://127.0.0.1:{port}/") is Failure.TLS


async def test_refused_connection_is_target_unreachable_not_an_assertion() -> None:
    client = agent(f"http://127.0.0.1:{free_port()}")
    try:
        with pytest.raises(TargetUnreachable) as err:
            await client.me()
    finally:
        await client.aclose()
    assert err.value.failure is Failure.REFUSED and not isinstance(err.value, AssertionError)
    # the innermost error names it, not the transport's misnomer ConnectTimeout
    assert "connection refused: ConnectionRefusedError" in str(err.value), err.value
    assert "ConnectTimeout" not in str(err.value)


async def test_a_gateway_page_is_target_unavailable_wherever_a_reply_passes() -> None:
    with Proxy(None, answer=lambda request, n: GATEWAY_PAGE) as gateway:
        client = agent(gateway.url)
        customer = CustomerClient(gateway.url, "customer-support", P, client.transcript, 0.5)
        try:
            with pytest.raises(TargetUnavailable) as err:
                await client.perform("chat-1", "SendMessage", text="hi")
            with pytest.raises(TargetUnavailable):
                await customer.send("hi")
        finally:
            await client.aclose()
            await customer.aclose()
    assert isinstance(err.value, TargetUnreachable) and err.value.failure is Failure.GATEWAY
    assert "HTTP 503 text/html" in str(err.value)
    assert "503" in client.transcript.render()  # the page is in the evidence


async def test_a_json_5xx_is_the_servers_reply() -> None:
    with Proxy(None, answer=lambda request, n: JSON_503) as server:
        client = agent(server.url)
        try:
            reply = await client.me()
        finally:
            await client.aclose()
    assert isinstance(reply, Reply) and reply.http_status == 503 and reply.status_code == 4


def _answer_gets_only(answer: bytes) -> Callable[[bytes, int], bytes | None]:
    return lambda request, n: answer if request.startswith(b"GET ") else None


async def test_one_request_hanging_while_the_server_answers_a_probe_is_request_hung() -> None:
    with Proxy(None, answer=_answer_gets_only(ME_JSON)) as server:
        client = agent(server.url)
        try:
            with pytest.raises(RequestHung) as err:
                await client.request_or_hang("POST", f"{ME}/interactions/x", b"{}")
            with pytest.raises(TargetUnreachable) as plain:
                await client.request("POST", f"{ME}/interactions/x", b"{}")  # no probe: an ERROR
        finally:
            await client.aclose()
    assert "no answer within 0.5 s" in str(err.value) and "probe GET" in str(err.value)
    assert "probe GET" in client.transcript.render()
    assert not isinstance(plain.value, RequestHung) and plain.value.failure is Failure.TIMEOUT
    assert server.requests == 3  # the POST, the probe, the POST


@pytest.mark.parametrize(
    "server",
    [
        pytest.param({"answer": lambda request, n: None}, id="everything-hangs"),
        pytest.param({"answer": _answer_gets_only(GATEWAY_PAGE)}, id="probe-gets-a-gateway-page"),
        pytest.param({"cut": lambda request, n: True}, id="connections-closed"),
    ],
)
async def test_a_request_without_answer_is_an_error_when_the_server_does_not_answer_others(server) -> None:
    with Proxy(None, **server) as proxy:
        client = agent(proxy.url)
        try:
            with pytest.raises(TargetUnreachable) as err:
                await client.request_or_hang("PUT", ME, b"\xff{")
        finally:
            await client.aclose()
    assert not isinstance(err.value, RequestHung), err.value
    probed = "probe GET" in client.transcript.render()
    if "cut" in server:
        assert err.value.failure is Failure.CLOSED and not probed  # a closed connection needs no probe
    else:
        assert err.value.failure is Failure.TIMEOUT and probed


def _target(url: str) -> Target:
    return Target(
        base_url=url,
        gms_url=url,
        service="customer-support",
        csrf=True,
        routing="hints",
        verify_tls=True,
        timeout_s=1.0,
        agents=(AgentConfig("alice", "pw", "a1"),),
        profile=P,
    )


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (HTML_200, "{url}{me} answered HTTP 200 text/html, not the agent API's JSON: check base_url"),
        (GATEWAY_PAGE, "{url}{me} answered HTTP 503 text/html, a gateway's error page"),
        (
            http_response(404, b'{"statusCode": 6, "statusMessage": "no"}', "application/json"),
            "{url}{me} for agent 'alice' answered HTTP 404 with statusCode 6, not HTTP 200 with statusCode 0",
        ),
        (http_response(401, b"Unauthorized", "text/plain"), "agent 'alice' cannot log in (HTTP 401)"),
        (None, "cannot reach {url}: no answer within 0.5 s"),
    ],
    ids=["html-200", "gateway-503", "json-404", "401", "hang"],
)
def test_preflight_says_what_to_fix_in_one_line(answer: bytes | None, message: str) -> None:
    with Proxy(None, answer=lambda request, n: answer) as server, pytest.raises(TargetError) as err:
        preflight(_target(server.url), deadline_s=0.5)
    text = str(err.value)
    assert text.startswith(message.format(url=server.url, me=ME)) and "\n" not in text, text


def test_preflight_accepts_the_agent_apis_json() -> None:
    with Proxy(None, answer=lambda request, n: ME_JSON) as server:
        preflight(_target(server.url), deadline_s=0.5)


def test_preflight_names_a_refused_connection() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(TargetError, match=r"connection refused — is the server running\? check base_url"):
        preflight(_target(url), deadline_s=0.5)
