"""Every request has one deadline for the whole exchange: a server that trickles its answer a byte at
a time, or never answers, gives an ERROR (exit 3) within timeout_s x --timeout-factor per request,
never a run held by a per-read timeout that each byte resets."""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from conformance.cli import PYTEST_SETTINGS, SUITES_DIR
from tests.reports.conftest import PASSWORDS, write_target
from tests.robustness.harness import clean_env, free_port

TIMEOUT_S = 0.5
FACTOR = 2.0
DEADLINE_S = TIMEOUT_S * FACTOR
MARGIN_S = 0.6  # scheduling, and the trickle's interval (the hold is seen at the next byte)
BODY = b'{"statusCode":0,"user":{"id":"a1xx"}}'  # 38 bytes
BYTE_EVERY_S = 0.2  # the whole body takes 7.6 s: every read gets a byte well within its timeout
TEST = "suites/api/test_auth.py::test_me_with_valid_credentials_returns_the_user"


class SlowServer:
    """HTTP on 127.0.0.1 in its own thread: `trickle` answers a byte every BYTE_EVERY_S, `silent` reads
    the request and never answers. `held` is how long each request was held open by the client."""

    def __init__(self, mode: str) -> None:
        self.mode = mode
        self.port = free_port()
        self.held: list[float] = []
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        self._loop.run_until_complete(self._serve())

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> SlowServer:
        self._thread.start()
        assert self._ready.wait(10)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)

    async def _serve(self) -> None:
        self._stop = asyncio.Event()
        server = await asyncio.start_server(self._client, "127.0.0.1", self.port)
        self._ready.set()
        async with server:
            await self._stop.wait()
            for task in asyncio.all_tasks() - {asyncio.current_task()}:
                task.cancel()

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError, asyncio.IncompleteReadError, asyncio.CancelledError):
            while await reader.readuntil(b"\r\n\r\n"):
                started = time.monotonic()
                if self.mode == "silent":
                    await reader.read()  # until the client gives up and closes
                else:
                    writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                                 + f"Content-Length: {len(BODY)}\r\n\r\n".encode())
                    for byte in BODY:
                        writer.write(bytes([byte]))
                        await writer.drain()
                        if reader.at_eof():
                            break
                        with contextlib.suppress(TimeoutError):
                            await asyncio.wait_for(reader.read(1), BYTE_EVERY_S)  # b"" once closed
                        if reader.at_eof():
                            break
                self.held.append(time.monotonic() - started)
                if reader.at_eof() or self.mode == "silent":
                    return
        with contextlib.suppress(OSError):
            writer.close()


@pytest.mark.parametrize("mode", ["trickle", "silent"])
def test_a_slow_or_silent_server_is_an_error_within_the_deadline(mode: str, tmp_path: Path) -> None:
    with SlowServer(mode) as server:
        target = write_target(tmp_path, server.url)
        text = target.read_text(encoding="utf-8").replace("timeout_s = 5", f"timeout_s = {TIMEOUT_S}")
        target.write_text(text, encoding="utf-8")
        args = [sys.executable, "-m", "pytest", str(SUITES_DIR / ".." / TEST), *PYTEST_SETTINGS,
                "--target", str(target), "--timeout-factor", str(FACTOR), "--report-dir", str(tmp_path / "r"),
                "--gws-reports", "-l", "--tb=long"]
        started = time.monotonic()
        done = subprocess.run(args, capture_output=True, text=True, timeout=120, env=clean_env(),
                              cwd=tmp_path)
        elapsed = time.monotonic() - started
        held = list(server.held)
    output = done.stdout + done.stderr
    assert done.returncode == 3, output[-3000:]
    assert held, "the server saw no request"
    print(f"{mode}: {len(held)} requests held at most {max(held):.2f} s (deadline {DEADLINE_S:g} s), "
          f"run {elapsed:.1f} s")
    assert max(held) <= DEADLINE_S + MARGIN_S, held
    assert elapsed <= 15 + len(held) * (DEADLINE_S + MARGIN_S), (elapsed, held)
    assert f"no whole answer within {DEADLINE_S:g} s" in output, output[-3000:]
    secrets = set(PASSWORDS.values())
    assert not [s for s in secrets if s in output]  # -l showed the frames of the failed login
