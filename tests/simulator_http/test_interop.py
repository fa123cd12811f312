"""Independent Bayeux clients against the reference server: PyPI aiocometd-noloop and the official
CometD JavaScript client (npm cometd + cometd-nodejs-client), each following a real chat."""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from conformance.simulator.server import ReferenceServer
from tests.simulator_http.helpers import (
    HTTP,
    INTERACTIONS,
    NOTIFY,
    drive_chat,
    expected_chat_notices,
    login,
    notice_of,
)

NODE_DIR = Path(__file__).with_name("node")
DEADLINE_S = 20.0


async def test_aiocometd_follows_a_chat(make_server: Callable[..., ReferenceServer]) -> None:
    aiocometd = pytest.importorskip("aiocometd_noloop")
    server = make_server()
    agent = await login(server.url)
    cookie = f"{HTTP.session_cookie}={agent.cookie}"

    class SessionCookie(aiocometd.Extension):  # type: ignore[misc,name-defined]
        async def outgoing(self, payload: Any, headers: dict[str, str]) -> None:
            headers["Cookie"] = cookie

        async def incoming(self, payload: Any, headers: Any = None) -> None:
            return None

    expected = expected_chat_notices()
    async with aiocometd.Client(
        server.url + NOTIFY, aiocometd.ConnectionType.LONG_POLLING, extensions=[SessionCookie()]
    ) as client:
        await client.subscribe(INTERACTIONS)
        await drive_chat(agent, server.url)
        got = []
        async with asyncio.timeout(DEADLINE_S):
            while len(got) < len(expected):
                message = await client.receive()
                assert message["channel"] == INTERACTIONS
                got.append(notice_of(message["data"]))
    assert got == expected
    await agent.client.aclose()


def _node_ready() -> str | None:
    """Why the Node client cannot run, or None once its node_modules are installed."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        return "node/npm are not available"
    if not (NODE_DIR / "node_modules" / "cometd").is_dir():
        done = subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund"], cwd=NODE_DIR, capture_output=True, timeout=300
        )
        if done.returncode != 0:
            pytest.fail(f"npm ci failed: {done.stderr.decode(errors='replace')[-500:]}")
    return None


async def test_cometd_javascript_client_follows_a_chat(make_server: Callable[..., ReferenceServer]) -> None:
    reason = await asyncio.to_thread(_node_ready)
    if reason is not None:
        pytest.skip(reason)
    server = make_server()
    agent = await login(server.url)
    expected = expected_chat_notices()
    process = await asyncio.create_subprocess_exec(
        "node", "listen.mjs", server.url + NOTIFY, f"{HTTP.session_cookie}={agent.cookie}", INTERACTIONS,
        str(len(expected)), str(int(DEADLINE_S * 1000)),
        cwd=NODE_DIR, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    assert process.stdout is not None
    got: list[tuple[str, str]] = []
    try:
        async with asyncio.timeout(DEADLINE_S + 5):
            while True:
                line = await process.stdout.readline()
                if not line:
                    break
                event = json.loads(line)
                if event["event"] == "subscribed":
                    await drive_chat(agent, server.url)
                elif event["event"] == "message":
                    got.append(notice_of(event["data"]))
                elif event["event"] != "done":
                    pytest.fail(f"the CometD client reported {event}")
            await process.wait()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert got == expected
    assert process.returncode == 0
    await agent.client.aclose()
