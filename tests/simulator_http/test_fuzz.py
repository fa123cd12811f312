"""Arbitrary bodies at every endpoint: never a 5xx, never a hang, always a statusCode or Bayeux reply."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conformance.protocol.names import Field, Operation
from conformance.protocol.profile import DEFAULT_PROFILE
from conformance.simulator.server import ReferenceServer
from tests.simulator_http.helpers import HTTP, NOTIFY, basic

P = DEFAULT_PROFILE
ME = f"{HTTP.api_prefix}/me"
GMS = f"{HTTP.gms_prefix}/customer-support"
AGENT_PATHS = [
    ME,
    f"{ME}/interactions/1",
    f"{ME}/interactions/x",
    f"{ME}/channels/chat",
    f"{ME}/channels/nope",
]
CUSTOMER_PATHS = [GMS, f"{GMS}/c1/send", f"{GMS}/c1/refresh", f"{GMS}/c1/disconnect", "/genesys/2/chat/other"]
TIMEOUT_S = 10.0

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
field_names = st.sampled_from([P.wire(f) for f in Field])
operation_names = st.sampled_from([P.wire(op) for op in Operation]) | st.text(max_size=12)
odd_strings = st.sampled_from(["\ud800", "a\udfffb", "", " ", "\x00", "😀" * 5000, "x" * 70_000, "\u202e"])
operation_bodies = st.fixed_dictionaries(
    {P.wire(Field.OPERATION): operation_names | json_values},
    optional={"x": json_values},
).flatmap(
    lambda base: st.dictionaries(field_names, json_values | odd_strings, max_size=4).map(
        lambda extra: {**base, **extra}
    )
)


def _encode(value: Any) -> bytes:
    return json.dumps(value).encode()


bodies = st.one_of(
    st.binary(max_size=200),
    json_values.map(_encode),
    operation_bodies.map(_encode),
    st.integers(min_value=1, max_value=200_000).map(lambda depth: b"[" * depth + b"]" * depth),
    st.integers(min_value=1, max_value=50_000).map(lambda depth: b'{"a":' * depth + b"1" + b"}" * depth),
    st.text(max_size=50).map(lambda t: t.encode("utf-16")),
    st.sampled_from([b"", b"NaN", b"1e99999", b"9" * 5000, b'{"a":1,"a":2}', b"\xef\xbb\xbf{}"]),
)
forms = st.one_of(
    st.binary(max_size=200),
    st.dictionaries(
        st.text(max_size=12), st.text(max_size=30) | odd_strings.filter(lambda s: "\ud800" not in s)
    )
    .map(lambda d: httpx.QueryParams({k: v.encode("utf-8", "replace").decode() for k, v in d.items()}))
    .map(lambda q: str(q).encode()),
)


@pytest.fixture(scope="module")
def agent(server: ReferenceServer) -> Iterator[tuple[httpx.Client, dict[str, str]]]:
    with httpx.Client(base_url=server.url, timeout=TIMEOUT_S) as client:
        me = client.get(ME, headers=basic("bob"))
        client.cookies.set(HTTP.session_cookie, me.cookies[HTTP.session_cookie])
        yield client, {HTTP.csrf_token_header: me.headers[HTTP.csrf_token_header]}


def _assert_status_body(response: httpx.Response) -> None:
    assert response.status_code < 500, response.text[:200]
    body = response.json()
    assert isinstance(body, dict) and isinstance(body.get("statusCode"), int), body


FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@FUZZ
@given(path=st.sampled_from(AGENT_PATHS), body=bodies)
def test_agent_endpoints_survive_any_body(
    agent: tuple[httpx.Client, dict[str, str]], path: str, body: bytes
) -> None:
    client, csrf = agent
    _assert_status_body(client.post(path, content=body, headers={**csrf, "Content-Type": "application/json"}))


@FUZZ
@given(path=st.sampled_from(CUSTOMER_PATHS), body=forms | bodies)
def test_customer_endpoints_survive_any_body(
    agent: tuple[httpx.Client, dict[str, str]], path: str, body: bytes
) -> None:
    client, _ = agent  # the customer side ignores the agent's cookie
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    _assert_status_body(client.post(path, content=body, headers=headers))


META = ["/meta/handshake", "/meta/connect", "/meta/subscribe", "/meta/unsubscribe", "/meta/disconnect"]
bayeux_channels = st.sampled_from(
    [*META, "/meta/x", "/v2/me/interactions", "/v2/me/channels", "/service/x", "/**", ""]
)
bayeux_messages = st.fixed_dictionaries(
    {"channel": bayeux_channels | json_values},
    optional={
        "clientId": st.sampled_from(["VALID", "bogus", ""]) | json_values,
        "subscription": bayeux_channels | json_values,
        "advice": json_values,
        "id": json_values,
        "data": json_values,
        "supportedConnectionTypes": json_values,
    },
)


@FUZZ
@given(batch=st.lists(bayeux_messages | json_values, max_size=4) | bayeux_messages, raw=bodies)
def test_bayeux_endpoint_survives_any_body(
    agent: tuple[httpx.Client, dict[str, str]], batch: Any, raw: bytes
) -> None:
    client, _ = agent
    handshake = client.post(NOTIFY, json=[{"channel": "/meta/handshake", "version": "1.0"}]).json()
    client_id = handshake[0]["clientId"]
    messages = batch if isinstance(batch, list) else [batch]
    for message in messages:
        if isinstance(message, dict) and message.get("clientId") == "VALID":
            message["clientId"] = client_id
            message["advice"] = {"timeout": 0}  # a valid connect must not be held for the fuzz run
    for content in (json.dumps(batch).encode(), raw):
        response = client.post(NOTIFY, content=content)
        assert response.status_code < 500, response.text[:200]
        replies = response.json()
        assert isinstance(replies, list) and replies
        assert all(isinstance(r, dict) and ("successful" in r or "data" in r) for r in replies), replies


def test_a_non_finite_number_a_client_sent_is_echoed_as_null() -> None:
    """Found by the fuzz above: 1e400 parses as inf, which a JSON reply cannot hold (was a 400)."""
    from conformance.simulator.bayeux_server import JsonResponse

    assert JsonResponse([{"id": float("inf"), "data": [float("nan")]}]).body == b'[{"id":null,"data":[null]}]'
