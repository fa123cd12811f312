"""Section 3: the Bayeux 1.0 notification endpoint, spoken to directly, and the notifications' shapes."""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import AsyncIterator, Callable

import pytest
import pytest_asyncio

from conformance.api import (
    CONNECT,
    DISCONNECT,
    HANDSHAKE,
    LONG_POLLING,
    SUBSCRIBE,
    BayeuxClient,
    Channel,
    ChatMessageType,
    Notification,
    basic_header,
    error_code,
    expect,
    make_http,
    match,
    views_agree,
)

Raw = Callable[..., BayeuxClient]


@pytest_asyncio.fixture
async def raw_bayeux(target, transcript) -> AsyncIterator[Raw]:
    """raw_bayeux(agent=None, headers=None): a Bayeux client of its own, on the agent's HTTP session
    (or, without agent, on a fresh connection with no session). Disconnected and closed at teardown."""
    made: list[tuple[BayeuxClient, object | None]] = []

    def make(agent=None, headers: dict[str, str] | None = None) -> BayeuxClient:
        http = agent.client.http if agent is not None else make_http(target.timeout_s, target.verify_tls)
        url = target.base_url.rstrip("/") + target.profile.http.notifications_path
        received: list[dict] = []
        client = BayeuxClient(
            http,
            url,
            transcript,
            f"raw-bayeux-{len(made)}",
            received.append,
            timeout_s=target.timeout_s,
            headers=headers,
        )
        client.received = received  # type: ignore[attr-defined]
        made.append((client, None if agent is not None else http))
        return client

    yield make
    for client, own_http in made:
        with contextlib.suppress(Exception):
            if client.client_id is not None:
                await client.send([client.message(DISCONNECT)])
        if own_http is not None:
            with contextlib.suppress(Exception):
                await own_http.aclose()  # type: ignore[attr-defined]


def _reply(response, channel: str) -> dict:
    reply = response.reply(channel)
    return reply if isinstance(reply, dict) else {}


async def _handshake(client: BayeuxClient) -> dict:
    response = await client.send(
        [
            client.message(
                HANDSHAKE, version="1.0", minimumVersion="1.0", supportedConnectionTypes=[LONG_POLLING]
            )
        ]
    )
    reply = _reply(response, HANDSHAKE)
    if reply.get("successful") is True and isinstance(reply.get("clientId"), str):
        client.client_id = reply["clientId"]
    return reply


# ---- NOTIFY-01 -------------------------------------------------------------------------------------


@pytest.mark.requirement("NOTIFY-01")
async def test_bayeux_handshake_subscribe_connect_disconnect(agent_c, raw_bayeux, target):
    profile = target.profile
    client = raw_bayeux(agent_c)
    hs = await _handshake(client)
    expect.that(
        hs.get("successful") is True and isinstance(hs.get("clientId"), str),
        "NOTIFY-01",
        "a successful handshake with a clientId",
        hs,
    )
    expect.that(
        LONG_POLLING in (hs.get("supportedConnectionTypes") or []) and isinstance(hs.get("version"), str),
        "NOTIFY-01",
        "version and supportedConnectionTypes with long-polling",
        hs,
    )
    channels = profile.wire(Channel.CHANNELS)
    sub = _reply(await client.send([client.message(SUBSCRIBE, subscription=channels)]), SUBSCRIBE)
    expect.that(sub.get("successful") is True, "NOTIFY-01", f"subscribe to {channels} succeeds", sub)
    first = _reply(
        await client.send([client.message(CONNECT, connectionType=LONG_POLLING, advice={"timeout": 0})]),
        CONNECT,
    )
    expect.that(first.get("successful") is True, "NOTIFY-01", "a successful first connect", first)
    expect.success(await agent_c.client.set_ready(), "SESSION-01")  # queues a ChannelStateChanged for us too
    held = await client.send(
        [client.message(CONNECT, connectionType=LONG_POLLING, advice={"timeout": 5000})],
        read_timeout_s=5 + target.timeout_s,
    )
    expect.that(
        _reply(held, CONNECT).get("successful") is True, "NOTIFY-01", "a successful connect", held.text
    )
    delivered = [m for m in held.messages if m.get("channel") == channels and "data" in m]
    expect.that(len(delivered) == 1, "NOTIFY-01", f"the Ready notification on {channels}", held.text[:500])
    bye = _reply(await client.send([client.message(DISCONNECT)]), DISCONNECT)
    expect.that(bye.get("successful") is True, "NOTIFY-01", "a successful disconnect", bye)
    client.client_id = None


@pytest.mark.requirement("NOTIFY-01")
async def test_bayeux_handshake_offering_no_supported_connection_type_is_refused(agent_c, raw_bayeux):
    """Bayeux 1.0, /meta/handshake: a client whose supportedConnectionTypes share none with the server's
    gets an unsuccessful handshake (the type offered here is one no server has)."""
    client = raw_bayeux(agent_c)
    offered = ["x-conformance-no-such-transport"]
    response = await client.send([client.message(HANDSHAKE, version="1.0", supportedConnectionTypes=offered)])
    reply = _reply(response, HANDSHAKE)
    if isinstance(reply.get("clientId"), str):
        client.client_id = reply["clientId"]  # disconnected at teardown
    expect.that(reply.get("successful") is False, "NOTIFY-01",
                f"an unsuccessful handshake: supportedConnectionTypes {offered}", response.text[:500])


@pytest.mark.requirement("NOTIFY-01")
async def test_bayeux_idle_connect_is_held_until_the_advised_timeout(agent_c, raw_bayeux):
    client = raw_bayeux(agent_c)
    await _handshake(client)  # subscribed to nothing: the connect stays idle
    await client.send([client.message(CONNECT, connectionType=LONG_POLLING, advice={"timeout": 0})])
    started = time.monotonic()
    reply = _reply(await client.connect_once(500), CONNECT)
    held = time.monotonic() - started
    expect.that(reply.get("successful") is True, "NOTIFY-01", "a successful connect", reply)
    expect.that(held >= 0.4, "NOTIFY-01", "an idle connect held for its advised 500 ms", f"{held:.3f} s")


@pytest.mark.requirement("NOTIFY-01")
async def test_bayeux_publish_and_meta_subscribe_are_refused(agent_c, raw_bayeux, target):
    client = raw_bayeux(agent_c)
    await _handshake(client)
    interactions = target.profile.wire(Channel.INTERACTIONS)
    response = await client.send([client.message(interactions, data={"forged": True})])
    published = response.reply(interactions) or {}
    expect.that(
        published.get("successful") is False and error_code(published) == "403",
        "NOTIFY-01",
        "publishing refused with error 403",
        response.text[:300],
    )
    sub = _reply(await client.send([client.message(SUBSCRIBE, subscription="/meta/**")]), SUBSCRIBE)
    expect.that(sub.get("successful") is False, "NOTIFY-01", "subscribing /meta/** refused", sub)


# ---- NOTIFY-02 / NOTIFY-03 -------------------------------------------------------------------------


@pytest.mark.requirement("NOTIFY-02")
async def test_bayeux_handshake_without_session_is_refused(raw_bayeux):
    client = raw_bayeux()
    reply = await _handshake(client)
    expect.that(reply.get("successful") is False, "NOTIFY-02", "successful: false", reply)
    expect.that(error_code(reply) == "403", "NOTIFY-02", "an error with code 403", reply.get("error"))
    expect.that(
        (reply.get("advice") or {}).get("reconnect") == "none",
        "NOTIFY-02",
        "advice.reconnect none",
        reply.get("advice"),
    )


@pytest.mark.requirement("NOTIFY-02")
async def test_bayeux_handshake_with_wrong_credentials_gets_401(raw_bayeux, agent_c):
    client = raw_bayeux(headers={"Authorization": basic_header(agent_c.account.username, "wrong-password")})
    response = await client.send(
        [client.message(HANDSHAKE, version="1.0", supportedConnectionTypes=[LONG_POLLING])]
    )
    expect.that(
        response.http_status == 401,
        "NOTIFY-02",
        "HTTP 401",
        f"HTTP {response.http_status} {response.text[:200]}",
    )


@pytest.mark.requirement("NOTIFY-03")
async def test_bayeux_unknown_client_id_gets_402_and_handshake_advice(agent_c, raw_bayeux):
    client = raw_bayeux(agent_c)
    client.client_id = f"no-such-client-{uuid.uuid4().hex}"
    response = await client.send(
        [client.message(CONNECT, connectionType=LONG_POLLING, advice={"timeout": 0})]
    )
    reply = _reply(response, CONNECT)
    client.client_id = None
    expect.that(
        reply.get("successful") is False and error_code(reply) == "402",
        "NOTIFY-03",
        "an error with code 402",
        response.text[:300],
    )
    expect.that(
        (reply.get("advice") or {}).get("reconnect") == "handshake",
        "NOTIFY-03",
        "advice.reconnect handshake",
        reply.get("advice"),
    )


# ---- NOTIFY-04 / NOTIFY-05 -------------------------------------------------------------------------


@pytest.mark.requirement("NOTIFY-04")
async def test_every_notification_of_a_chat_has_a_documented_shape(conference, chats, target):
    profile, chat = target.profile, conference
    owner, member = chat.owner, chat.consultant
    await chat.customer.send("shape check from the customer")
    await owner.send_typing(chat.id, True)
    await member.send_message(chat.id, "shape check from the member")
    await owner.request_history(chat.id)
    await chat.customer.disconnect()
    await expect.notification(
        owner,
        "NOTIFY-04",
        match.new_message(profile, chat.id, ChatMessageType.PARTICIPANT_LEFT),
        "the customer's ParticipantLeft",
        since=0,
    )
    await views_agree(chats)  # among them: the participants, the customer no longer in them
    await owner.stop(chat.id)
    await member.stop(chat.id)
    for agent in (owner, member):
        await agent.barrier()  # adds a ChannelStateChanged to the checked notifications
        seen: list[Notification] = [
            *agent.notifications.about(chat.id),
            *agent.notifications.channel_states(),
        ]
        expect.that(len(seen) >= 5, "NOTIFY-04", "the chat's notifications", len(seen))
        for n in seen:
            why = match.notification_shape(profile, n)
            expect.that(why is None, "NOTIFY-04", "a notification of section 3.1", f"{why}: {n.brief()}")


@pytest.mark.requirement("NOTIFY-05")
async def test_agent_gets_nothing_about_another_agents_chat(accepted_chat, agent_b):
    chat, owner = accepted_chat, accepted_chat.owner
    since = agent_b.notifications.mark()
    await chat.customer.send("for alice only")
    await chat.customer.typing(True)
    await owner.send_message(chat.id, "reply for the customer only")
    await owner.barrier()
    await expect.nothing_about(agent_b, chat.id, "NOTIFY-05", since=since)


@pytest.mark.requirement("NOTIFY-05")
async def test_a_connect_naming_another_agents_client_gets_nothing_of_theirs(
    agent_b, agent_c, raw_bayeux, target
):
    """A clientId is its agent's: a connect on another agent's session that names it must not be given that
    agent's notifications (refusing it as an unknown client is one way). Each way round, as a server may
    compare the owners by order. The owner's own connect after it is the barrier: the notification was
    there to take."""
    channels = target.profile.wire(Channel.CHANNELS)
    for owner, other in ((agent_b, agent_c), (agent_c, agent_b)):
        theirs = raw_bayeux(owner)
        await _handshake(theirs)
        await theirs.send([theirs.message(SUBSCRIBE, subscription=channels)])
        await theirs.send([theirs.message(CONNECT, connectionType=LONG_POLLING, advice={"timeout": 0})])
        expect.success(await owner.client.set_ready(), "SESSION-01")  # a ChannelStateChanged for `theirs`
        taker = raw_bayeux(other)
        taker.client_id = theirs.client_id
        taken = await taker.send([taker.message(CONNECT, connectionType=LONG_POLLING, advice={"timeout": 0})])
        taker.client_id = None  # not disconnected at teardown: it is not the taker's
        leaked = [m for m in taken.messages if "data" in m]
        expect.that(leaked == [], "NOTIFY-05", f"none of {owner.name}'s notifications on a connect from "
                    f"{other.name}'s session naming {owner.name}'s clientId", leaked)
        own = await theirs.send([theirs.message(CONNECT, connectionType=LONG_POLLING, advice={"timeout": 0})])
        ready = [m for m in own.messages if m.get("channel") == channels and "data" in m]
        expect.that(ready != [], "SESSION-01", f"the Ready's ChannelStateChanged on {owner.name}'s client",
                    own.text[:500])


# ---- NOTIFY-07 -------------------------------------------------------------------------------------


@pytest.mark.requirement("NOTIFY-07")
async def test_bayeux_idle_connect_returns_within_advised_timeout_plus_slack(
    agent_c, raw_bayeux, gws_config, target
):
    client = raw_bayeux(agent_c)
    await _handshake(client)
    await client.send([client.message(CONNECT, connectionType=LONG_POLLING, advice={"timeout": 0})])
    advised_ms = 1000
    limit = advised_ms / 1000 + target.profile.limits.connect_timeout_slack_s * gws_config.timeout_factor
    started = time.monotonic()
    reply = _reply(await client.connect_once(advised_ms), CONNECT)
    held = time.monotonic() - started
    expect.that(reply.get("successful") is True, "NOTIFY-07", "a successful connect", reply)
    expect.that(held <= limit, "NOTIFY-07", f"an answer within {limit:.1f} s", f"{held:.2f} s")
