"""Bayeux 1.0's rules (conformance/bayeux_rules.py) checked against an independent peer: every reply of
the official CometD Node server, to every kind of meta request and to the errors, must pass them."""

from __future__ import annotations

import uuid

from conformance.bayeux import (
    CONNECT,
    DISCONNECT,
    HANDSHAKE,
    LONG_POLLING,
    SUBSCRIBE,
    BayeuxClient,
    BayeuxResponse,
    error_code,
)
from conformance.bayeux_rules import response_problems
from conformance.client import make_http
from conformance.protocol.bayeux import UNSUBSCRIBE
from conformance.transcript import Transcript

from .conftest import Peer
from .test_bayeux_client import DEADLINE, Inbox, open_client, publish


async def test_every_kind_of_reply_of_the_cometd_server_passes_the_rules(bayeux_peer: Peer) -> None:
    http = make_http(5.0)
    client = BayeuxClient(http, bayeux_peer.bayeux_url, Transcript(), "rules", lambda m: None, timeout_s=5.0)
    seen: list[BayeuxResponse] = []

    async def send(*messages: dict) -> BayeuxResponse:  # the client raises on a problem; kept too
        response = await client.send(list(messages), read_timeout_s=5.0)
        seen.append(response)
        return response

    try:
        hs = await send(
            client.message(
                HANDSHAKE, version="1.0", minimumVersion="1.0", supportedConnectionTypes=[LONG_POLLING]
            )
        )
        client.client_id = hs.reply(HANDSHAKE)["clientId"]  # type: ignore[index]
        await send(
            client.message(SUBSCRIBE, subscription="/rules/a"),
            client.message(SUBSCRIBE, subscription="/rules/b"),
        )
        await send(client.message(UNSUBSCRIBE, subscription="/rules/b"))
        await send(client.message(CONNECT, connectionType=LONG_POLLING, advice={"timeout": 0}))
        await publish(http, bayeux_peer, "/rules/a", 0, 2)
        held = await send(client.message(CONNECT, connectionType=LONG_POLLING))
        assert [m["data"] for m in held.messages if "data" in m] == [{"seq": 0}, {"seq": 1}]
        await send(client.message("/rules/a", data={"from": "client"}))  # a publish and its reply
        refused = await send(client.message(SUBSCRIBE, subscription=""))  # an error reply
        assert refused.reply(SUBSCRIBE)["successful"] is False  # type: ignore[index]
        await send(client.message(DISCONNECT))
        client.client_id = f"gone-{uuid.uuid4().hex}"
        unknown = await send(client.message(CONNECT, connectionType=LONG_POLLING))
        assert error_code(unknown.reply(CONNECT)) == "402"
        client.client_id = None
        await send(client.message(HANDSHAKE, version="1.0", supportedConnectionTypes=["carrier-pigeon"]))
    finally:
        await http.aclose()
    assert client.deviations == []
    assert len(seen) == 10


async def test_the_connect_loop_meets_no_deviation_across_402_and_drops(bayeux_peer: Peer) -> None:
    client, inbox, _transcript, http = await open_client(bayeux_peer, "/rules/loop")
    told: list[object] = []
    client.on_deviation = told.append
    try:
        await publish(http, bayeux_peer, "/rules/loop", 0, 3)
        await inbox.until(3)
        await client.drop_connect()
        await http.post(f"{bayeux_peer.url}/control/forget", params={"clientId": client.client_id})
        await client.wait_until(lambda c: c.handshakes == 2 and c.connected, DEADLINE)
        await publish(http, bayeux_peer, "/rules/loop", 3, 2)
        await inbox.until(5)
    finally:
        await client.disconnect()
        await http.aclose()
    assert (client.deviations, told) == ([], [])


def test_the_rules_need_no_io() -> None:
    assert response_problems([], []) == []
    assert isinstance(Inbox(), Inbox)
