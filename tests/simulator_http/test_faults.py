"""Each seeded fault of the HTTP app and of the Bayeux endpoint shows its deviation."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import httpx
import pytest

from conformance.simulator.faults import FAULTS
from conformance.simulator.server import ReferenceServer
from tests.simulator_http.helpers import HTTP, INTERACTIONS, NOTIFY, basic, data_of, login, start_routed_chat

ME = f"{HTTP.api_prefix}/me"
INTERACTION = f"{HTTP.api_prefix}/me/interactions/unknown-id"
Make = Callable[..., ReferenceServer]

COVERED = {
    "me-without-uri", "wrong-password-with-cookie", "csrf-not-enforced", "auth-error-lists-users",
    "success-with-status-message", "error-extra-key", "errors-are-http-200", "lone-surrogate-crashes",
    "relative-uris", "disconnect-refused", "handshake-without-session", "unknown-client-not-402",
    "deliver-to-dropped-connect", "redeliver-after-reconnect", "idle-connect-overstays",
    "reorder-concurrent-messages", "handshake-types-as-string", "subscription-not-echoed",
    "held-connect-id-dropped", "error-without-args", "timeout-advice-as-string",
    "idle-timeout-loses-next-message", "rehandshake-replays-last-batch",
    "unknown-client-reply-without-channel", "zero-timeout-ignored", "unsubscribe-ignored",
    "foreign-client-id-served", "handshake-types-unchecked",
}  # fmt: skip


def test_every_app_and_bayeux_fault_has_a_test() -> None:
    assert {f.name for f in FAULTS.values() if f.where in ("app", "bayeux")} == COVERED


async def test_me_without_uri(make_server: Make) -> None:
    agent = await login(make_server("me-without-uri").url)
    assert "uri" not in (await agent.client.get(ME)).json()["user"]
    await agent.client.aclose()


async def test_wrong_password_with_cookie(make_server: Make) -> None:
    agent = await login(make_server("wrong-password-with-cookie").url)
    assert (await agent.client.get(ME, headers=basic("alice", "wrong"))).status_code == 200
    await agent.client.aclose()


async def test_csrf_not_enforced(make_server: Make) -> None:
    agent = await login(make_server("csrf-not-enforced").url)
    response = await agent.client.post(INTERACTION, json={"operationName": "Accept"})
    assert response.status_code != 403 and "statusCode" in response.json()
    await agent.client.aclose()


async def test_auth_error_lists_users(make_server: Make) -> None:
    async with httpx.AsyncClient(base_url=make_server("auth-error-lists-users").url) as client:
        response = await client.get(ME, headers=basic("alice", "wrong"))
    assert response.status_code == 401 and "bob" in response.text


async def test_success_with_status_message(make_server: Make) -> None:
    agent = await login(make_server("success-with-status-message").url)
    assert (await agent.client.get(ME)).json()["statusMessage"] == "OK"
    await agent.client.aclose()


async def test_error_extra_key_and_errors_are_http_200(make_server: Make) -> None:
    agent = await login(make_server("error-extra-key", "errors-are-http-200").url)
    response = await agent.client.get(INTERACTION)
    assert response.status_code == 200
    assert response.json()["statusCode"] == 6 and "requestId" in response.json()
    await agent.client.aclose()


async def test_lone_surrogate_crashes(make_server: Make) -> None:
    agent = await login(make_server("lone-surrogate-crashes").url)
    body = b'{"operationName": "SendMessage", "text": "\\ud800"}'
    response = await agent.client.post(INTERACTION, content=body, headers=agent.csrf_headers())
    assert response.status_code == 500
    await agent.client.aclose()


async def test_relative_uris(make_server: Make) -> None:
    server = make_server("relative-uris")
    agent = await login(server.url)
    pytest.importorskip("conformance.simulator.engine")
    await start_routed_chat(agent, server.url)
    uris = (await agent.client.get(f"{ME}/interactions")).json()["uris"]
    assert uris and not any(uri.startswith("http") for uri in uris)
    await agent.client.aclose()


async def test_disconnect_refused(make_server: Make) -> None:
    agent = await login(make_server("disconnect-refused").url)
    client_id = await agent.subscribed_client()
    reply = await agent.bayeux({"channel": "/meta/disconnect", "clientId": client_id})
    assert reply[0]["successful"] is False
    await agent.client.aclose()


async def test_unsubscribe_ignored(make_server: Make) -> None:
    server = make_server("unsubscribe-ignored")
    agent = await login(server.url)
    client_id = await agent.subscribed_client()
    unsubscribe = {"channel": "/meta/unsubscribe", "clientId": client_id, "subscription": INTERACTIONS}
    reply = await agent.bayeux(unsubscribe)
    assert reply[0]["successful"] is True
    assert INTERACTIONS in server.app.state.bayeux._clients[client_id].subscriptions
    await agent.client.aclose()


@pytest.mark.parametrize("fault", [None, "foreign-client-id-served"])
async def test_foreign_client_id_served(make_server: Make, fault: str | None) -> None:
    server = make_server(*([fault] if fault else []))
    alice, bob = await login(server.url), await login(server.url, "bob")
    client_id = await alice.subscribed_client()
    reply = await bob.connect(client_id, 0)
    assert reply[-1]["successful"] is (fault is not None)
    await alice.client.aclose()
    await bob.client.aclose()


@pytest.mark.parametrize("fault", [None, "handshake-types-unchecked"])
async def test_handshake_types_unchecked(make_server: Make, fault: str | None) -> None:
    agent = await login(make_server(*([fault] if fault else [])).url)
    handshake = {"channel": "/meta/handshake", "version": "1.0", "supportedConnectionTypes": ["x"]}
    reply = await agent.bayeux(handshake)
    assert reply[0]["successful"] is (fault is not None)
    await agent.client.aclose()


async def test_handshake_without_session(make_server: Make) -> None:
    async with httpx.AsyncClient(base_url=make_server("handshake-without-session").url) as client:
        response = await client.post(NOTIFY, json=[{"channel": "/meta/handshake", "version": "1.0"}])
    assert response.json()[0]["successful"] is True


async def test_unknown_client_not_402(make_server: Make) -> None:
    agent = await login(make_server("unknown-client-not-402").url)
    reply = await agent.connect("nope", 0)
    assert reply[-1]["error"].startswith("401:") and reply[-1]["advice"]["reconnect"] == "retry"
    await agent.client.aclose()


async def _drop_connect(agent, client_id: str) -> None:  # type: ignore[no-untyped-def]
    held = asyncio.create_task(agent.connect(client_id, 20000))
    await asyncio.wait({held}, timeout=0.1)
    held.cancel()
    await asyncio.gather(held, return_exceptions=True)


async def test_deliver_to_dropped_connect(make_server: Make) -> None:
    server = make_server("deliver-to-dropped-connect")
    agent = await login(server.url)
    client_id = await agent.subscribed_client()
    await _drop_connect(agent, client_id)
    await asyncio.to_thread(server.call, server.app.state.bayeux.publish, "a1", INTERACTIONS, {"lost": 1})
    assert data_of(await agent.connect(client_id, 300)) == []
    await agent.client.aclose()


async def test_redeliver_after_reconnect(make_server: Make) -> None:
    server = make_server("redeliver-after-reconnect")
    agent = await login(server.url)
    client_id = await agent.subscribed_client()
    await asyncio.to_thread(server.call, server.app.state.bayeux.publish, "a1", INTERACTIONS, {"once": 1})
    assert data_of(await agent.connect(client_id, 0)) == [{"once": 1}]
    await _drop_connect(agent, client_id)
    assert data_of(await agent.connect(client_id, 0)) == [{"once": 1}]
    await agent.client.aclose()


async def test_idle_connect_overstays(make_server: Make) -> None:
    agent = await login(make_server("idle-connect-overstays").url)
    client_id = await agent.subscribed_client(first_connect=False)
    start = time.monotonic()
    await agent.connect(client_id, 100)
    assert time.monotonic() - start > 3.0
    await agent.client.aclose()


async def test_reorder_concurrent_messages(make_server: Make) -> None:
    server = make_server("reorder-concurrent-messages")
    agent = await login(server.url)
    client_id = await agent.subscribed_client()

    def two_senders() -> None:
        for index, sender in ((1, "p1"), (2, "p2")):
            data = {"messages": [{"index": index, "from": {"participantId": sender}}]}
            server.app.state.bayeux.publish("a1", INTERACTIONS, data)

    await asyncio.to_thread(server.call, two_senders)
    got = [d["messages"][0]["index"] for d in data_of(await agent.connect(client_id, 0))]
    assert got == [2, 1]
    await agent.client.aclose()


# -- Bayeux 1.0's own rules (NOTIFY-01, judged by conformance/bayeux_rules.py) and reconnects (NOTIFY-06)


async def test_handshake_types_as_string(make_server: Make) -> None:
    agent = await login(make_server("handshake-types-as-string").url)
    reply = await agent.bayeux(
        {"channel": "/meta/handshake", "version": "1.0", "supportedConnectionTypes": ["long-polling"]}
    )
    assert reply[0]["successful"] is True and reply[0]["supportedConnectionTypes"] == "long-polling"
    await agent.client.aclose()


async def test_subscription_not_echoed(make_server: Make) -> None:
    agent = await login(make_server("subscription-not-echoed").url)
    client_id = await agent.handshake()
    for channel in ("/meta/subscribe", "/meta/unsubscribe"):
        reply = await agent.bayeux({"channel": channel, "clientId": client_id, "subscription": INTERACTIONS})
        assert reply[0]["successful"] is True and "subscription" not in reply[0]
    await agent.client.aclose()


async def test_held_connect_id_dropped(make_server: Make) -> None:
    agent = await login(make_server("held-connect-id-dropped").url)
    client_id = await agent.handshake()
    message = {"channel": "/meta/connect", "clientId": client_id, "connectionType": "long-polling"}
    first = await agent.bayeux({**message, "id": "1", "advice": {"timeout": 0}})
    held = await agent.bayeux({**message, "id": "2", "advice": {"timeout": 0}})
    assert (first[-1]["id"], "id" in held[-1]) == ("1", False)
    await agent.client.aclose()


async def test_error_without_args(make_server: Make) -> None:
    agent = await login(make_server("error-without-args").url)
    reply = await agent.connect("nope", 0)
    assert reply[-1]["error"] == "402:Unknown client"
    await agent.client.aclose()


async def test_timeout_advice_as_string(make_server: Make) -> None:
    agent = await login(make_server("timeout-advice-as-string").url)
    client_id = await agent.handshake()
    reply = await agent.connect(client_id, 0)
    assert reply[-1]["advice"]["timeout"] == "30000"
    await agent.client.aclose()


async def test_idle_timeout_loses_next_message(make_server: Make) -> None:
    server = make_server("idle-timeout-loses-next-message")
    agent = await login(server.url)
    client_id = await agent.subscribed_client()
    assert data_of(await agent.connect(client_id, 50)) == []  # an idle connect that timed out
    for n in (1, 2):
        await asyncio.to_thread(server.call, server.app.state.bayeux.publish, "a1", INTERACTIONS, {"n": n})
    assert data_of(await agent.connect(client_id, 0)) == [{"n": 2}]
    await agent.client.aclose()


async def test_rehandshake_replays_last_batch(make_server: Make) -> None:
    server = make_server("rehandshake-replays-last-batch")
    agent = await login(server.url)
    client_id = await agent.subscribed_client()
    await asyncio.to_thread(server.call, server.app.state.bayeux.publish, "a1", INTERACTIONS, {"once": 1})
    assert data_of(await agent.connect(client_id, 0)) == [{"once": 1}]
    await agent.bayeux({"channel": "/meta/disconnect", "clientId": client_id})
    again = await agent.subscribed_client(first_connect=False)
    assert data_of(await agent.connect(again, 0)) == [{"once": 1}]
    await agent.client.aclose()


async def test_unknown_client_reply_without_channel(make_server: Make) -> None:
    agent = await login(make_server("unknown-client-reply-without-channel").url)
    unsubscribe = {"channel": "/meta/unsubscribe", "clientId": "nope", "subscription": INTERACTIONS}
    reply = await agent.bayeux(unsubscribe)
    assert "channel" not in reply[0] and reply[0]["error"].startswith("402:")
    assert (await agent.connect("nope", 0))[-1]["channel"] == "/meta/connect"
    await agent.client.aclose()


async def test_zero_timeout_ignored(make_server: Make) -> None:
    agent = await login(make_server("zero-timeout-ignored").url)
    client_id = await agent.subscribed_client()  # its first connect is answered at once
    poll = asyncio.create_task(agent.connect(client_id, 0))
    done, _ = await asyncio.wait({poll}, timeout=1.0)
    assert not done  # a poll of an idle client is held
    poll.cancel()
    await asyncio.gather(poll, return_exceptions=True)
    await agent.client.aclose()
