"""Fixtures of the harness's own tests: an independent Bayeux peer (the CometD Node server)."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

NODE_DIR = Path(__file__).resolve().parent / "node"


@dataclass(frozen=True)
class Peer:
    url: str  # the server root
    bayeux_url: str


def _npm_ci() -> None:
    if (NODE_DIR / "node_modules" / "cometd-nodejs-server").is_dir():
        return
    npm = shutil.which("npm")
    if npm is None:
        pytest.skip("npm is not installed: the Bayeux peer cannot run")
    subprocess.run(
        [npm, "ci", "--no-audit", "--no-fund"], cwd=NODE_DIR, check=True, capture_output=True, timeout=180
    )


@pytest.fixture(scope="session")
def bayeux_peer() -> Iterator[Peer]:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed: the Bayeux peer cannot run")
    _npm_ci()
    env = {**os.environ, "PEER_TIMEOUT_MS": "2000"}
    proc = subprocess.Popen(
        [node, "peer.js"], cwd=NODE_DIR, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()  # blocks until the peer listens (or dies: empty line)
        if not line.startswith("PORT "):
            raise RuntimeError(f"the Bayeux peer did not start: {line!r}")
        root = f"http://127.0.0.1:{int(line.split()[1])}"
        yield Peer(root, root + "/cometd")
    finally:
        if proc.stdin is not None:
            proc.stdin.close()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
