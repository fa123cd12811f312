"""Benchmark of the reference server (a script, not a test): run `python bench/reference_server.py`.

Measures, with the server in its own process:
1. 1,000 concurrent long-poll clients held open: the server's peak RSS, and the fan-out time of one
   channel notification to all of them;
2. notification latency at 100 SendMessage/s, from the operation's HTTP response to delivery on a
   waiting long-poll (p50/p99; negative when the connect reply arrives before the operation's reply);
3. SendMessage operations/s with 20 active chats (10 concurrent senders).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import aiohttp

from conformance.protocol import DEFAULT_PROFILE as P
from conformance.protocol.names import Channel, Field, NotificationType, Operation, RoutingKey
from conformance.simulator.accounts import SERVICE

HTTP = P.http
OP = P.wire(Field.OPERATION)
SERVER_CODE = (
    "import sys; from conformance.simulator.server import ReferenceServer\n"
    "s = ReferenceServer().start(); print(s.url, flush=True); sys.stdin.read(); s.stop()\n"
)


def _basic(user: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:password".encode()).decode()}


def _peak_rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


class Agent:
    """An agent's session on aiohttp (cookie + CSRF token) with raw Bayeux helpers."""

    def __init__(self, base: str, user: str, connections: int = 100) -> None:
        self.base, self.user = base, user
        self.http = aiohttp.ClientSession(
            base,
            connector=aiohttp.TCPConnector(limit=connections),
            timeout=aiohttp.ClientTimeout(total=60),
            cookie_jar=aiohttp.CookieJar(unsafe=True),  # keep cookies of an IP-address host
        )
        self.csrf = ""

    async def login(self) -> Agent:
        async with self.http.get(f"{HTTP.api_prefix}/me", headers=_basic(self.user)) as response:
            assert response.status == 200
            self.csrf = response.headers[HTTP.csrf_token_header]
        return self

    async def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        async with self.http.post(path, json=body, headers={HTTP.csrf_token_header: self.csrf}) as response:
            return dict(await response.json())

    async def bayeux(self, *messages: dict[str, Any]) -> list[dict[str, Any]]:
        async with self.http.post(HTTP.notifications_path, json=list(messages)) as response:
            return list(await response.json())

    async def subscribed_client(self, channel: str) -> str:
        reply = await self.bayeux({"channel": "/meta/handshake", "version": "1.0",
                                   "supportedConnectionTypes": ["long-polling"]})  # fmt: skip
        client_id = reply[0]["clientId"]
        await self.bayeux({"channel": "/meta/subscribe", "clientId": client_id, "subscription": channel})
        await self.bayeux(
            {"channel": "/meta/connect", "clientId": client_id, "connectionType": "long-polling"}
        )
        return str(client_id)

    async def connect(self, client_id: str) -> list[dict[str, Any]]:
        message = {"channel": "/meta/connect", "clientId": client_id, "connectionType": "long-polling"}
        return await self.bayeux({**message, "advice": {"timeout": 30000}})

    async def close(self) -> None:
        await self.http.close()


async def accepted_chat(base: str, agent: Agent, customers: aiohttp.ClientSession) -> str:
    """A chat routed to `agent` and accepted by it; its interaction id."""
    form = {"nickname": "Bench", f"userData[{P.wire(RoutingKey.TO_AGENT)}]": agent.user}
    async with customers.post(f"{HTTP.gms_prefix}/{SERVICE}", data=form) as response:
        assert (await response.json())["statusCode"] == 0
    listed = await agent.http.get(f"{HTTP.api_prefix}/me/interactions")
    uris = (await listed.json())["uris"]
    for uri in uris:
        reply = await agent.post(uri, {OP: P.wire(Operation.ACCEPT)})
        if reply["statusCode"] == 0:
            return str(uri.rsplit("/", 1)[1])
    raise RuntimeError("no invitation to accept")


async def bench_held_clients(base: str, pid: int, count: int) -> None:
    agent = await Agent(base, "alice", connections=count + 50).login()
    channels = P.wire(Channel.CHANNELS)
    rss_before = _rss_mib(pid)
    client_ids = await asyncio.gather(*(agent.subscribed_client(channels) for _ in range(count)))
    held = [asyncio.create_task(agent.connect(c)) for c in client_ids]
    # every connect is held once the server has read all of them: a barrier request proves it
    await agent.bayeux({"channel": "/meta/handshake", "version": "1.0"})
    await asyncio.wait(held, timeout=1.0)
    assert not any(t.done() for t in held), "a connect came back before any message was published"
    rss_held = _rss_mib(pid)
    start = time.perf_counter()
    await agent.post(f"{HTTP.api_prefix}/me/channels/chat", {OP: P.wire(Operation.NOT_READY)})
    replies = await asyncio.gather(*held)
    fan_out = time.perf_counter() - start
    delivered = sum(1 for reply in replies if any("data" in m for m in reply))
    print(f"[1] {count} long-poll clients held: server RSS {rss_before:.1f} -> {rss_held:.1f} MiB, "
          f"peak RSS {_peak_rss_mib(pid):.1f} MiB; one notification fanned out to {delivered} of them "
          f"in {fan_out * 1000:.0f} ms")  # fmt: skip
    await agent.bayeux(*({"channel": "/meta/disconnect", "clientId": c} for c in client_ids))
    await agent.close()


async def bench_latency(base: str, rate: float, seconds: float) -> None:
    agent = await Agent(base, "bob").login()
    listener = await Agent(base, "bob").login()
    customers = aiohttp.ClientSession(base)
    await agent.post(f"{HTTP.api_prefix}/me/channels/chat", {OP: P.wire(Operation.READY)})
    interaction = await accepted_chat(base, agent, customers)
    client_id = await listener.subscribed_client(P.wire(Channel.INTERACTIONS))
    delivered: dict[str, float] = {}
    total = int(rate * seconds)
    new_messages = P.wire(NotificationType.NEW_MESSAGES)

    async def listen() -> None:
        while len(delivered) < total:
            reply = await listener.connect(client_id)
            now = time.perf_counter()
            for message in reply:
                data = message.get("data")
                if isinstance(data, dict) and data.get("notificationType") == new_messages:
                    delivered[data["messages"][0]["text"]] = now

    listening = asyncio.create_task(listen())
    answered: dict[str, float] = {}
    uri = f"{HTTP.api_prefix}/me/interactions/{interaction}"
    start = time.perf_counter()
    for n in range(total):
        await asyncio.sleep(
            max(0.0, start + n / rate - time.perf_counter())
        )  # pacing at `rate`, not settling
        text = f"m{n}"
        reply = await agent.post(uri, {OP: P.wire(Operation.SEND_MESSAGE), P.wire(Field.TEXT): text})
        answered[text] = time.perf_counter()
        assert reply["statusCode"] == 0, reply
    await asyncio.wait_for(listening, 10)
    latencies = sorted((delivered[t] - answered[t]) * 1000 for t in answered)
    p99 = latencies[max(0, int(len(latencies) * 0.99) - 1)]
    print(
        f"[2] notification latency at {rate:.0f} msg/s ({total} messages), HTTP response -> long-poll "
        f"delivery: p50 {statistics.median(latencies):.2f} ms, p99 {p99:.2f} ms, max {latencies[-1]:.2f} ms"
    )
    await agent.close()
    await listener.close()
    await customers.close()


async def bench_throughput(base: str, chats: int, seconds: float, senders: int) -> None:
    agents = [await Agent(base, user).login() for user in ("carol", "dave")]
    listeners = [await Agent(base, a.user).login() for a in agents]
    customers = aiohttp.ClientSession(base)
    for agent in agents:
        await agent.post(f"{HTTP.api_prefix}/me/channels/chat", {OP: P.wire(Operation.READY)})
    pairs = [(agents[i % 2], await accepted_chat(base, agents[i % 2], customers)) for i in range(chats)]
    client_ids = [await listener.subscribed_client(P.wire(Channel.INTERACTIONS)) for listener in listeners]
    stop = time.perf_counter() + seconds
    done = 0

    async def drain(listener: Agent, client_id: str) -> None:
        while time.perf_counter() < stop:
            await listener.connect(client_id)

    async def send(worker: int) -> None:
        nonlocal done
        n = worker
        while time.perf_counter() < stop:
            agent, interaction = pairs[n % len(pairs)]
            body = {OP: P.wire(Operation.SEND_MESSAGE), P.wire(Field.TEXT): f"t{n}"}
            reply = await agent.post(f"{HTTP.api_prefix}/me/interactions/{interaction}", body)
            assert reply["statusCode"] == 0, reply
            done += 1
            n += senders

    drains = [asyncio.create_task(drain(lst, cid)) for lst, cid in zip(listeners, client_ids, strict=True)]
    start = time.perf_counter()
    await asyncio.gather(*(send(w) for w in range(senders)))
    elapsed = time.perf_counter() - start
    print(
        f"[3] SendMessage with {chats} active chats, {senders} concurrent senders, subscribed listeners: "
        f"{done / elapsed:.0f} operations/s ({done} in {elapsed:.1f} s)"
    )
    await asyncio.gather(*drains)
    for session in (*agents, *listeners):
        await session.close()
    await customers.close()


async def run_all(args: argparse.Namespace, base: str, pid: int) -> None:
    print(f"reference server {base} (pid {pid}), client: aiohttp, one process each")
    await bench_held_clients(base, pid, args.clients)
    await bench_latency(base, args.rate, args.seconds)
    await bench_throughput(base, args.chats, args.seconds, args.senders)
    print(f"server peak RSS over the whole run: {_peak_rss_mib(pid):.1f} MiB")


def main(args: argparse.Namespace) -> None:
    server = subprocess.Popen(
        [sys.executable, "-c", SERVER_CODE], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert server.stdout is not None
        asyncio.run(run_all(args, server.stdout.readline().strip(), server.pid))
    finally:
        assert server.stdin is not None
        server.stdin.close()
        server.wait(10)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--chats", type=int, default=20)
    parser.add_argument("--senders", type=int, default=10)
    main(parser.parse_args())
