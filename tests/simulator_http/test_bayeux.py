"""The notification endpoint: Bayeux 1.0 long-polling behaviour of the reference server."""

from __future__ import annotations

import asyncio
import time

import httpx

from conformance.simulator.server import ReferenceServer
from tests.simulator_http.helpers import CHANNELS, INTERACTIONS, NOTIFY, basic, data_of, login


async def test_handshake_without_session_is_refused(server: ReferenceServer) -> None:
    async with httpx.AsyncClient(base_url=server.url) as client:
        response = await client.post(NOTIFY, json=[{"channel": "/meta/handshake", "version": "1.0"}])
    reply = response.json()[0]
    assert reply["successful"] is False
    assert reply["error"].startswith("403:")
    assert reply["advice"]["reconnect"] == "none"


async def test_handshake_with_wrong_basic_is_401(server: ReferenceServer) -> None:
    async with httpx.AsyncClient(base_url=server.url) as client:
        response = await client.post(
            NOTIFY, json=[{"channel": "/meta/handshake"}], headers=basic("alice", "no")
        )
    assert response.status_code == 401


async def test_handshake_with_basic_only_succeeds(server: ReferenceServer) -> None:
    async with httpx.AsyncClient(base_url=server.url) as client:
        response = await client.post(
            NOTIFY,
            json=[
                {"channel": "/meta/handshake", "version": "1.0", "supportedConnectionTypes": ["long-polling"]}
            ],
            headers=basic("bob"),
        )
    reply = response.json()[0]
    assert reply["successful"] is True
    assert reply["version"] == "1.0" and "long-polling" in reply["supportedConnectionTypes"]
    assert reply["advice"] == {"reconnect": "retry", "interval": 0, "timeout": 30000}


async def test_subscribe_rules(server: ReferenceServer) -> None:
    agent = await login(server.url)
    client_id = await agent.handshake()

    async def subscribe(channel: str) -> dict:
        return (
            await agent.bayeux({"channel": "/meta/subscribe", "clientId": client_id, "subscription": channel})
        )[0]

    assert (await subscribe(INTERACTIONS))["successful"] is True
    assert (await subscribe(CHANNELS))["successful"] is True
    meta = await subscribe("/meta/connect")
    assert meta["successful"] is False and meta["error"].startswith("403:")
    other = await subscribe("/v2/other")
    assert other["successful"] is False and other["error"][:3] in ("403", "404")
    unsub = await agent.bayeux(
        {"channel": "/meta/unsubscribe", "clientId": client_id, "subscription": CHANNELS}
    )
    assert unsub[0]["successful"] is True
    await agent.client.aclose()


async def test_publish_is_denied(server: ReferenceServer) -> None:
    agent = await login(server.url)
    client_id = await agent.subscribed_client()
    reply = await agent.bayeux({"channel": INTERACTIONS, "clientId": client_id, "data": {"x": 1}})
    assert reply[0]["successful"] is False and reply[0]["error"].startswith("403:")
    await agent.client.aclose()


async def test_unknown_client_gets_402(server: ReferenceServer) -> None:
    agent = await login(server.url)
    for channel in ("/meta/connect", "/meta/subscribe"):
        reply = await agent.bayeux({"channel": channel, "clientId": "nope", "subscription": INTERACTIONS})
        assert reply[-1]["error"].startswith("402:")
        assert reply[-1]["advice"]["reconnect"] == "handshake"
    await agent.client.aclose()


async def test_connect_holds_until_a_message_then_fifo(server: ReferenceServer) -> None:
    agent = await login(server.url)
    client_id = await agent.subscribed_client()
    user_id = "a1"
    held = asyncio.create_task(agent.connect(client_id, 10000))
    done, _ = await asyncio.wait({held}, timeout=0.2)
    assert not done, "an idle connect must be held"
    bayeux = server.app.state.bayeux
    await asyncio.to_thread(
        server.call, lambda: [bayeux.publish(user_id, INTERACTIONS, {"n": n}) for n in range(5)]
    )
    replies = await asyncio.wait_for(held, 5)
    assert data_of(replies) == [{"n": n} for n in range(5)]
    assert replies[-1]["channel"] == "/meta/connect" and replies[-1]["successful"] is True
    await agent.client.aclose()


async def test_first_connect_answers_at_once(server: ReferenceServer) -> None:
    agent = await login(server.url)
    client_id = await agent.subscribed_client(first_connect=False)
    start = time.monotonic()
    await agent.connect(client_id)
    assert time.monotonic() - start < 1.0
    await agent.client.aclose()


async def test_connect_timeout_is_honoured(server: ReferenceServer) -> None:
    agent = await login(server.url)
    client_id = await agent.subscribed_client()
    start = time.monotonic()
    replies = await agent.connect(client_id, 300)
    elapsed = time.monotonic() - start
    assert 0.25 < elapsed < 2.0
    assert replies[-1]["successful"] is True and data_of(replies) == []
    await agent.client.aclose()


async def test_several_clients_per_agent_each_get_every_message(server: ReferenceServer) -> None:
    agent = await login(server.url, "carol")
    first = await agent.subscribed_client()
    second = await agent.subscribed_client()
    unsubscribed = await agent.subscribed_client(CHANNELS)
    bayeux = server.app.state.bayeux
    await asyncio.to_thread(server.call, bayeux.publish, "a3", INTERACTIONS, {"hello": 1})
    assert data_of(await agent.connect(first, 0)) == [{"hello": 1}]
    assert data_of(await agent.connect(second, 0)) == [{"hello": 1}]
    assert data_of(await agent.connect(unsubscribed, 0)) == []
    await agent.client.aclose()


async def test_new_connect_answers_the_held_one_empty(server: ReferenceServer) -> None:
    agent = await login(server.url)
    client_id = await agent.subscribed_client()
    held = asyncio.create_task(agent.connect(client_id, 20000))
    await asyncio.wait({held}, timeout=0.1)
    second = asyncio.create_task(agent.connect(client_id, 20000))
    first_replies = await asyncio.wait_for(held, 3)
    assert data_of(first_replies) == []
    await asyncio.to_thread(server.call, server.app.state.bayeux.publish, "a1", INTERACTIONS, {"m": 1})
    assert data_of(await asyncio.wait_for(second, 3)) == [{"m": 1}]
    await agent.client.aclose()


async def test_disconnect_removes_the_client(server: ReferenceServer) -> None:
    agent = await login(server.url)
    client_id = await agent.subscribed_client()
    reply = await agent.bayeux({"channel": "/meta/disconnect", "clientId": client_id})
    assert reply[0]["successful"] is True
    after = await agent.connect(client_id, 0)
    assert after[-1]["error"].startswith("402:")
    await agent.client.aclose()


async def test_batched_messages_in_one_post(server: ReferenceServer) -> None:
    agent = await login(server.url)
    client_id = await agent.handshake()
    replies = await agent.bayeux(
        {"channel": "/meta/subscribe", "clientId": client_id, "subscription": INTERACTIONS, "id": "1"},
        {"channel": "/meta/connect", "clientId": client_id, "advice": {"timeout": 0}, "id": "2"},
        {"channel": "/meta/subscribe", "clientId": client_id, "subscription": CHANNELS, "id": "3"},
    )
    assert [r["id"] for r in replies] == ["1", "3", "2"]
    assert all(r["successful"] for r in replies)
    await agent.client.aclose()


async def test_malformed_messages_get_a_bayeux_error(server: ReferenceServer) -> None:
    agent = await login(server.url)
    for body in (b"not json", b"42", b"[]", b'{"no": "channel"}', b"[1, 2]", b"\xff\xfe"):
        response = await agent.client.post(NOTIFY, content=body)
        assert response.status_code in (200, 400), body
        payload = response.json()
        assert isinstance(payload, list) and payload and all(m.get("successful") is False for m in payload)
    await agent.client.aclose()


async def test_expired_client_is_forgotten(make_server) -> None:  # type: ignore[no-untyped-def]
    server = make_server()
    bayeux = server.app.state.bayeux
    bayeux._expiry_s = 0.2
    agent = await login(server.url)
    client_id = await agent.subscribed_client()
    other = await agent.subscribed_client()
    await agent.connect(other, 300)  # another client's connect outlives the expiry
    reply = await agent.connect(client_id, 0)
    assert reply[-1]["error"].startswith("402:")
    await agent.client.aclose()


async def test_dropped_connect_keeps_the_message_for_the_next(server: ReferenceServer) -> None:
    agent = await login(server.url, "dave")
    client_id = await agent.subscribed_client()
    held = asyncio.create_task(agent.connect(client_id, 20000))
    await asyncio.wait({held}, timeout=0.1)
    held.cancel()  # the HTTP client gives up the connect while the queue is empty
    await asyncio.gather(held, return_exceptions=True)
    await agent.client.aclose()
    await asyncio.to_thread(server.call, server.app.state.bayeux.publish, "a4", INTERACTIONS, {"kept": 1})
    again = await login(server.url, "dave")
    assert data_of(await again.connect(client_id, 2000)) == [{"kept": 1}]
    await again.client.aclose()


async def test_stop_wakes_held_connects_at_once(make_server) -> None:  # type: ignore[no-untyped-def]
    server = make_server()
    agent = await login(server.url)
    client_id = await agent.subscribed_client()
    held = asyncio.create_task(agent.connect(client_id, 30000, http_timeout=40))
    await asyncio.wait({held}, timeout=0.1)
    start = time.monotonic()
    await asyncio.to_thread(server.stop)
    assert time.monotonic() - start < 2.0
    await asyncio.gather(held, return_exceptions=True)
    await agent.client.aclose()


async def test_oversized_bayeux_body_is_a_bayeux_error(server: ReferenceServer) -> None:
    agent = await login(server.url)
    response = await agent.client.post(NOTIFY, content=b"[" + b" " * (2 * 1024 * 1024) + b"]")
    assert response.status_code == 400 and response.json()[0]["successful"] is False
    await agent.client.aclose()
