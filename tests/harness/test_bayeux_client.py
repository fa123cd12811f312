"""The Bayeux client against an independent peer: the official CometD Node server."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from conformance.bayeux import BayeuxClient
from conformance.client import make_http
from conformance.transcript import Transcript

from .conftest import Peer

DEADLINE = 10.0


class Inbox:
    """Collects data messages; `until(n)` waits for the n-th without polling."""

    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []
        self._changed = asyncio.Condition()

    def __call__(self, message: dict[str, Any]) -> None:
        self.messages.append(message)
        asyncio.get_running_loop().create_task(self._notify())

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def until(self, count: int) -> None:
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(lambda: len(self.messages) >= count), DEADLINE)

    def seqs(self) -> list[int]:
        return [m["data"]["seq"] for m in self.messages]


async def publish(http: httpx.AsyncClient, peer: Peer, channel: str, start: int, count: int) -> None:
    r = await http.post(
        f"{peer.url}/control/publish", params={"channel": channel, "start": start, "count": count}
    )
    assert r.json()["subscribers"] >= 1


async def open_client(peer: Peer, channel: str) -> tuple[BayeuxClient, Inbox, Transcript, httpx.AsyncClient]:
    transcript = Transcript()
    inbox = Inbox()
    http = make_http(5.0)
    client = BayeuxClient(http, peer.bayeux_url, transcript, "peer-test", inbox, timeout_s=5.0)
    await client.handshake()
    await client.subscribe(channel)
    client.start()
    await client.wait_held(DEADLINE)
    return client, inbox, transcript, http


async def test_handshake_subscribe_and_receive_in_order(bayeux_peer: Peer) -> None:
    client, inbox, transcript, http = await open_client(bayeux_peer, "/test/order")
    try:
        assert client.client_id
        await publish(http, bayeux_peer, "/test/order", 0, 50)
        await inbox.until(50)
        assert inbox.seqs() == list(range(50))
        assert client.errors == []
        assert "/meta/handshake" in transcript.render()
    finally:
        await client.disconnect()
        await http.aclose()
    assert not client.running


async def test_unknown_client_402_leads_to_rehandshake(bayeux_peer: Peer) -> None:
    client, inbox, _transcript, http = await open_client(bayeux_peer, "/test/402")
    try:
        old = client.client_id
        await http.post(f"{bayeux_peer.url}/control/forget", params={"clientId": old})
        # publish only once the new session is subscribed and connected again
        await client.wait_until(lambda c: c.handshakes == 2 and c.connected, DEADLINE)
        assert client.client_id != old
        await publish(http, bayeux_peer, "/test/402", 0, 5)
        await inbox.until(5)
        assert inbox.seqs() == list(range(5))
        assert client.handshakes == 2
    finally:
        await client.disconnect()
        await http.aclose()


async def test_drop_connect_loses_nothing(bayeux_peer: Peer) -> None:
    client, inbox, _transcript, http = await open_client(bayeux_peer, "/test/drop")
    try:
        await publish(http, bayeux_peer, "/test/drop", 0, 3)
        await inbox.until(3)
        connects = client.connects
        await client.drop_connect()
        # A full connect round trip after the drop: the peer has replaced the dropped connect before
        # anything is published (the peer, unlike our server, may write to a connect its client left).
        await client.wait_until(lambda c: c.connects >= connects + 2, DEADLINE)
        await publish(http, bayeux_peer, "/test/drop", 3, 3)
        await inbox.until(6)
        assert inbox.seqs() == list(range(6))
        assert client.connects > connects
        assert client.handshakes == 1
    finally:
        await client.disconnect()
        await http.aclose()
