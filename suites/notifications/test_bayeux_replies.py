"""NOTIFY-01, Bayeux's own rules: every kind of meta reply, successful or not, is shaped as Bayeux 1.0 says.

The suite's Bayeux client judges every reply it reads (conformance/bayeux_rules.py) and raises a NOTIFY-01
deviation with the reply as evidence; this test makes sure every kind of reply is read at least once:
the batch forms, unsubscribe, and the error replies.
"""

from __future__ import annotations

import uuid

import pytest

from conformance.api import (
    CONNECT,
    DISCONNECT,
    LONG_POLLING,
    SUBSCRIBE,
    UNSUBSCRIBE,
    BayeuxClient,
    Channel,
    ChannelState,
    expect,
    match,
)


@pytest.mark.requirement("NOTIFY-01")
async def test_every_kind_of_meta_reply_follows_bayeux_1_0(agent_c, target, transcript):
    profile = target.profile
    interactions, channels = profile.wire(Channel.INTERACTIONS), profile.wire(Channel.CHANNELS)
    client = BayeuxClient(
        agent_c.client.http,
        agent_c.bayeux.url,
        transcript,
        f"{agent_c.name}#replies",
        lambda m: None,
        timeout_s=target.timeout_s,
    )
    try:
        await client.handshake()
        # one batch: two subscribes and a first connect (the server may answer the connect last)
        batch = await client.send(
            [
                client.message(SUBSCRIBE, subscription=interactions),
                client.message(SUBSCRIBE, subscription=channels),
                client.message(CONNECT, connectionType=LONG_POLLING, advice={"timeout": 0}),
            ]
        )
        expect.that(len(batch.messages) >= 3, "NOTIFY-01", "a reply to each message of the batch", batch.text)
        reply = (await client.send([client.message(UNSUBSCRIBE, subscription=channels)])).reply(UNSUBSCRIBE)
        expect.that(
            bool(reply and reply.get("successful") is True), "NOTIFY-01", "unsubscribe succeeds", reply
        )
        await client.send([client.message(SUBSCRIBE, subscription="/meta/**")])  # refused: an error reply
        await client.send([client.message(interactions, data={"forged": True})])  # a refused publish
        await client.send([client.message(DISCONNECT)])
        client.client_id = f"gone-{uuid.uuid4().hex}"  # 402 replies, on every meta channel
        await client.send(
            [
                client.message(SUBSCRIBE, subscription=interactions),
                client.message(UNSUBSCRIBE, subscription=interactions),
                client.message(CONNECT, connectionType=LONG_POLLING, advice={"timeout": 0}),
            ]
        )
        await client.send([client.message(DISCONNECT)])
    finally:
        client.client_id = None
    expect.that(client.deviations == [], "NOTIFY-01", "no reply breaking Bayeux 1.0", client.deviations)


@pytest.mark.requirement("NOTIFY-01")
async def test_after_unsubscribe_nothing_of_that_channel_is_delivered(own_session_agent, profile):
    """Bayeux 1.0's /meta/unsubscribe, and section 3: a message is queued only for the clients subscribed
    when it is produced. A Ready made while unsubscribed must not arrive; the NotReady made after subscribing
    again is the barrier (one FIFO queue: a wrongly queued Ready would come first)."""
    agent = own_session_agent  # its own session and client, as the fresh-session Ready test has
    channels = profile.wire(Channel.CHANNELS)
    await agent.bayeux.unsubscribe(channels)
    mark = agent.notifications.mark()
    expect.success(await agent.client.set_ready(), "SESSION-01")
    await agent.bayeux.subscribe(channels)
    expect.success(await agent.client.set_not_ready(), "SESSION-01")
    await expect.notification(
        agent, "NOTIFY-01", match.channel_state(profile, ChannelState.NOT_READY),
        "the NotReady made after subscribing again", since=mark,
    )
    ready = match.channel_state(profile, ChannelState.READY)
    leaked = [n.data for n in agent.notifications.since(mark) if ready(n) is None]
    expect.that(leaked == [], "NOTIFY-01", "nothing of the Ready made while unsubscribed", leaked)
