"""When the Bayeux connect loop dies, notification waits end at once with ChannelLost (an ERROR)."""

from __future__ import annotations

import asyncio
import time

import pytest

from conformance.bayeux import BayeuxClient
from conformance.client import make_http
from conformance.notifications import ChannelLost, EventTimeout, NotificationLog
from conformance.protocol import DEFAULT_PROFILE
from conformance.transcript import Transcript
from tests.robustness.harness import free_port


async def test_a_pending_wait_ends_at_once_when_the_channel_is_lost() -> None:
    log = NotificationLog(DEFAULT_PROFILE)
    waiting = asyncio.create_task(log.wait_for(lambda n: False, 30.0, 0, "InteractionStateChanged"))
    log.append("/v2/me/interactions", {"messageType": "other"})
    await asyncio.sleep(0)  # one turn: the waiter looks at the first notification and keeps waiting
    started = time.monotonic()
    log.channel_lost("connect failed: ConnectError")
    with pytest.raises(ChannelLost, match=r"notification channel lost .*InteractionStateChanged"):
        await asyncio.wait_for(waiting, 5.0)
    assert time.monotonic() - started < 1.0
    assert not isinstance(ChannelLost("x"), AssertionError)  # never counted as a FAIL


async def test_what_arrived_before_the_loss_still_matches() -> None:
    log = NotificationLog(DEFAULT_PROFILE)
    log.append("/v2/me/channels", {"messageType": "ChannelStateChanged"})
    log.channel_lost("gone")
    got = await log.wait_for(lambda n: n.data.get("messageType") == "ChannelStateChanged", 5.0)
    assert got.seq == 0
    with pytest.raises(ChannelLost):
        await log.wait_for(lambda n: False, 5.0, since=1)


async def test_an_intact_channel_still_times_out_as_event_timeout() -> None:
    log = NotificationLog(DEFAULT_PROFILE)
    with pytest.raises(EventTimeout):
        await log.wait_for(lambda n: False, 0.05)


async def test_the_bayeux_loop_reports_its_death_against_a_closed_port() -> None:
    log = NotificationLog(DEFAULT_PROFILE)
    url = f"http://127.0.0.1:{free_port()}{DEFAULT_PROFILE.http.notifications_path}"
    http = make_http(2.0)
    client = BayeuxClient(http, url, Transcript(), "alice", lambda m: None, timeout_s=2.0,
                          on_lost=log.channel_lost)
    client.client_id = "nobody"
    try:
        started = time.monotonic()
        client.start()
        with pytest.raises(ChannelLost, match="connect failed"):
            await log.wait_for(lambda n: False, 30.0, description="anything")
        assert time.monotonic() - started < 5.0
        assert client.lost is not None and not client.running
    finally:
        await client.stop()
        await http.aclose()
