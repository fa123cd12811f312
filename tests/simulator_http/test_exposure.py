"""The reference server is safe to expose: Bayeux clients belong to their session's user, the CSRF
token is compared in constant time, customer forms are bounded, and `serve` beyond loopback needs a
password."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from conformance.protocol import DEFAULT_PROFILE, Field, Operation
from conformance.simulator import app as app_module
from conformance.simulator import limits
from conformance.simulator.server import ReferenceServer, is_loopback
from tests.simulator_http.helpers import CHANNELS, HTTP, NOTIFY, basic, data_of, login

READY = {DEFAULT_PROFILE.wire(Field.OPERATION): DEFAULT_PROFILE.wire(Operation.READY)}


def _is_402(reply: dict[str, Any]) -> bool:
    return (
        reply["successful"] is False
        and reply["error"].startswith("402:")
        and reply["advice"]["reconnect"] == "handshake"
        and "data" not in reply
    )


async def _post(client: httpx.AsyncClient, message: dict[str, Any], **kwargs: Any) -> list[dict[str, Any]]:
    response = await client.post(NOTIFY, json=[message], **kwargs)
    assert response.status_code == 200, response.text
    return list(response.json())


async def test_a_client_id_alone_or_with_another_users_session_is_an_unknown_client(
    make_server: Callable[..., ReferenceServer],
) -> None:
    server = make_server()
    alice, bob = await login(server.url, "alice"), await login(server.url, "bob")
    client_id = await alice.subscribed_client(CHANNELS)
    assert (await alice.post_json(f"{HTTP.api_prefix}/me/channels/chat", READY)).json()["statusCode"] == 0
    connect = {"channel": "/meta/connect", "clientId": client_id, "connectionType": "long-polling"}
    others = [
        connect,
        {"channel": "/meta/subscribe", "clientId": client_id, "subscription": CHANNELS},
        {"channel": "/meta/unsubscribe", "clientId": client_id, "subscription": CHANNELS},
        {"channel": "/meta/disconnect", "clientId": client_id},
    ]
    async with httpx.AsyncClient(base_url=server.url, timeout=10.0) as bare:
        for message in others:
            assert [_is_402(r) for r in await _post(bare, message)] == [True]  # no session at all
            assert [_is_402(r) for r in await _post(bob.client, message)] == [True]  # bob's cookie
            assert [_is_402(r) for r in await _post(bare, message, headers=basic("bob"))] == [True]
            assert [_is_402(r) for r in await _post(bare, message, headers=basic("carol"))] == [True]
    # alice's client is untouched: still subscribed, and its message still waits for it
    replies = await alice.connect(client_id, 0)
    assert replies[-1]["successful"] is True
    assert [d["messageType"] for d in data_of(replies)] == ["ChannelStateChanged"]
    # Basic credentials of alice (no cookie) are alice's session too
    async with httpx.AsyncClient(base_url=server.url, timeout=10.0) as bare:
        reply = await _post(bare, {**connect, "advice": {"timeout": 0}}, headers=basic("alice"))
    assert reply[-1]["successful"] is True
    for session in (alice, bob):
        await session.client.aclose()


async def test_a_handshake_creates_one_session_per_request(
    make_server: Callable[..., ReferenceServer],
) -> None:
    server = make_server()
    async with httpx.AsyncClient(base_url=server.url, timeout=10.0) as bare:
        hello = {"channel": "/meta/handshake", "version": "1.0", "supportedConnectionTypes": ["long-polling"]}
        for _ in range(3):
            assert (await _post(bare, hello, headers=basic("alice")))[0]["successful"] is True
            bare.cookies.clear()
    assert len(server.app.state.sessions) == 3


async def test_csrf_token_is_compared_in_constant_time(
    server: ReferenceServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    compared: list[tuple[bytes, bytes]] = []
    original = app_module.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        compared.append((a, b))
        return original(a, b)

    monkeypatch.setattr(app_module, "compare_digest", spy)
    agent = await login(server.url, "dave")
    path = f"{HTTP.api_prefix}/me"
    body = {DEFAULT_PROFILE.wire(Field.OPERATION): "StartContactCenterSession"}
    wrong = agent.csrf[:-1] + ("A" if agent.csrf[-1] != "A" else "B")
    for token in (wrong, "é".encode("latin-1")):
        refused = await agent.client.post(path, json=body, headers={HTTP.csrf_token_header: token})
        assert refused.status_code == 403
    assert (await agent.post_json(path, body)).json() == {"statusCode": 0}
    assert (wrong.encode(), agent.csrf.encode()) in compared and len(compared) == 3
    await agent.client.aclose()


async def test_a_customer_form_larger_than_the_limit_is_2(server: ReferenceServer) -> None:
    async with httpx.AsyncClient(base_url=server.url, timeout=10.0) as customer:
        path = f"{HTTP.gms_prefix}/customer-support"
        big = {"nickname": "Ann", "subject": "x" * limits.MAX_FORM_BYTES}
        reply = await customer.post(path, data=big)
        assert reply.status_code == 400 and reply.json()["statusCode"] == 2
        assert set(reply.json()) == {"statusCode", "statusMessage"}
        long_nick = await customer.post(path, data={"nickname": "n" * (limits.MAX_NICKNAME_LENGTH + 1)})
        assert long_nick.json()["statusCode"] == 2


def test_loopback_hosts() -> None:
    assert all(is_loopback(h) for h in ("127.0.0.1", "::1", "localhost", "127.0.0.2"))
    assert not any(is_loopback(h) for h in ("0.0.0.0", "::", "192.168.1.10", "example.org", ""))


def _serve(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    environment = {k: v for k, v in os.environ.items() if k != limits.SERVE_PASSWORD_ENV}
    environment.update(env or {})
    return subprocess.Popen(
        [sys.executable, "-m", "conformance.cli", "serve", "--port", "0", *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=environment,
    )


def _stop(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        process.terminate()
        process.wait(timeout=10)


def test_serve_beyond_loopback_without_a_password_exits_2() -> None:
    process = _serve("--host", "0.0.0.0")
    out, err = process.communicate(timeout=30)
    assert process.returncode == 2 and out == ""
    (line,) = err.splitlines()
    assert "--password" in line and limits.SERVE_PASSWORD_ENV in line


@pytest.mark.parametrize("how", ["option", "env"])
def test_serve_beyond_loopback_uses_the_given_password(tmp_path: Path, how: str) -> None:
    out = tmp_path / "target.toml"
    args = ["--host", "0.0.0.0", "--target-out", str(out)]
    process = _serve(*args, "--password", "s3cret") if how == "option" else _serve(
        *args, env={limits.SERVE_PASSWORD_ENV: "s3cret"}
    )
    try:
        assert process.stdout is not None and process.stderr is not None
        assert "listening on http://0.0.0.0:" in process.stdout.readline()
        warning = process.stderr.readline()
        assert "warning" in warning and "0.0.0.0" in warning
        target = _wait_for_target(out)
        assert {a["password"] for a in target["agents"]} == {"s3cret"}
        me = target["base_url"] + f"{HTTP.api_prefix}/me"
        assert httpx.get(me, headers=basic("alice", "s3cret")).status_code == 200
        assert httpx.get(me, headers=basic("alice", "password")).status_code == 401
    finally:
        _stop(process)


def test_serve_on_loopback_keeps_the_documented_password(tmp_path: Path) -> None:
    out = tmp_path / "target.toml"
    process = _serve("--host", "127.0.0.1", "--target-out", str(out))
    try:
        assert process.stdout is not None
        assert "listening on http://127.0.0.1:" in process.stdout.readline()
        target = _wait_for_target(out)
        assert {a["password"] for a in target["agents"]} == {"password"}
        me = target["base_url"] + f"{HTTP.api_prefix}/me"
        assert httpx.get(me, headers=basic("alice", "password")).status_code == 200
    finally:
        _stop(process)
        assert process.stderr is not None
        assert process.stderr.read() == ""  # no warning on loopback


def _wait_for_target(path: Path) -> dict[str, Any]:
    deadline = time.monotonic() + 10
    while not path.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    return tomllib.loads(path.read_text(encoding="utf-8"))
