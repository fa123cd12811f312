"""The threaded runner and `serve`: start, stop, target file."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import httpx
import pytest

from conformance.protocol import load_profile
from conformance.simulator.accounts import BUILT_IN_AGENTS, SERVICE
from conformance.simulator.server import ReferenceServer, target_toml
from tests.suite_process import interruptible


def test_start_answers_and_stop_is_quick() -> None:
    server = ReferenceServer().start()
    assert server.url.startswith("http://127.0.0.1:")
    assert httpx.get(server.url + "/").status_code == 404
    start = time.monotonic()
    server.stop()
    assert time.monotonic() - start < 2.0
    with pytest.raises(httpx.ConnectError):
        httpx.get(server.url + "/")


def test_unknown_fault_is_refused() -> None:
    with pytest.raises(ValueError, match="no-such-fault"):
        ReferenceServer(["no-such-fault"])


def test_a_profile_renames_the_notification_channels(tmp_path: Path) -> None:
    path = tmp_path / "channels.toml"
    path.write_text('[channels]\ninteractions = "/v2/me/chats"\n', encoding="utf-8")
    profile = load_profile(path)
    with ReferenceServer(profile=profile) as server, httpx.Client(base_url=server.url) as client:

        def bayeux(message: dict) -> dict:
            reply = client.post(profile.http.notifications_path, json=[message], auth=("alice", "password"))
            return reply.json()[0]

        hello = {"channel": "/meta/handshake", "version": "1.0", "supportedConnectionTypes": ["long-polling"]}
        client_id = bayeux(hello)["clientId"]

        def subscribed(channel: str) -> bool:
            return bayeux({"channel": "/meta/subscribe", "clientId": client_id, "subscription": channel})[
                "successful"
            ]

        assert subscribed("/v2/me/chats") and subscribed("/v2/me/channels")
        assert not subscribed("/v2/me/interactions")


def test_target_file_describes_the_server() -> None:
    with ReferenceServer() as server:
        target = tomllib.loads(target_toml(server))
    assert target["base_url"] == server.url and target["gms_url"] == server.url
    assert target["service"] == SERVICE and target["csrf"] is True and target["routing"] == "hints"
    assert [a["username"] for a in target["agents"]] == [a.user_name for a in BUILT_IN_AGENTS]
    assert all(set(a) == {"username", "password", "id", "skills"} for a in target["agents"])


def test_a_server_routing_by_its_own_rules_writes_its_mode_in_the_target_file() -> None:
    server = ReferenceServer(routing="one-ready-agent")
    try:
        assert server.engine.routing == "one-ready-agent"
        assert tomllib.loads(target_toml(server))["routing"] == "one-ready-agent"
    finally:
        server.stop()


def test_serve_runs_until_interrupted(tmp_path: Path) -> None:
    out = tmp_path / "target.toml"
    code = (
        "from pathlib import Path; from conformance.simulator.server import serve; "
        f"serve('127.0.0.1', 0, ['me-without-uri'], Path({str(out)!r}))"
    )
    process = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True,
                               preexec_fn=interruptible)
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert "http://127.0.0.1:" in line and "me-without-uri" in line
        url = tomllib.loads(out.read_text())["base_url"]
        assert httpx.get(url + "/").status_code == 404
        os.kill(process.pid, signal.SIGINT)
        assert process.wait(timeout=5) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
