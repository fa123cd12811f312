"""Tools for the robustness tests: a reference server subprocess, a TCP proxy that delays or cuts
requests, a silent listener, and a suite run in a subprocess whose output is watched as it comes."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from conformance.protocol import DEFAULT_PROFILE
from tests.suite_process import clean_env as suite_process_env

NOTIFICATIONS_PATH = DEFAULT_PROFILE.http.notifications_path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def clean_env() -> dict[str, str]:
    env = suite_process_env()
    env["PYTHONUNBUFFERED"] = "1"
    return env


class ServerProcess:
    """`gws-conformance serve` in a subprocess; started when entered, SIGKILLed when left."""

    def __init__(
        self, workdir: Path, deadline_s: float = 15.0, faults: tuple[str, ...] = (), target_out: str = ""
    ) -> None:
        self.port = free_port()
        self.target_out = workdir / (target_out or "served-target.toml")
        self.deadline_s = deadline_s
        self.faults = faults
        self.proc: subprocess.Popen[str] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> ServerProcess:
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "conformance.cli",
                "serve",
                "--port",
                str(self.port),
                "--target-out",
                str(self.target_out),
                *(arg for fault in self.faults for arg in ("--fault", fault)),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=clean_env(),
        )
        ready = threading.Event()

        def watch() -> None:
            assert self.proc is not None and self.proc.stdout is not None
            for line in self.proc.stdout:
                if "listening on" in line:
                    ready.set()

        threading.Thread(target=watch, daemon=True).start()
        if not ready.wait(self.deadline_s):
            self.kill()
            raise RuntimeError(f"the reference server did not start within {self.deadline_s:g} s")
        return self

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def __exit__(self, *exc: object) -> None:
        self.kill()


def write_target(path: Path, served: Path, base_url: str, timeout_s: float) -> Path:
    """The served target file, pointed at base_url (a proxy, say), with a short event deadline."""
    text = served.read_text(encoding="utf-8")
    text = re.sub(r'^(base_url|gms_url) = ".*"$', lambda m: f'{m.group(1)} = "{base_url}"', text, flags=re.M)
    head, sep, rest = text.partition("\n[[agents]]")
    path.write_text(f"{head}\ntimeout_s = {timeout_s:g}\n{sep}{rest}", encoding="utf-8")
    return path


@dataclass
class RunResult:
    returncode: int
    stdout: str
    stderr: str
    elapsed_s: float
    summary: dict[str, Any] = field(default_factory=dict)

    def outcomes(self) -> dict[str, str]:
        return dict(self.summary.get("tests", {}))


def run_suite(
    report_dir: Path,
    *args: str,
    deadline_s: float,
    on_output: Callable[[str], None] | None = None,
) -> RunResult:
    """`gws-conformance run ARGS` in a subprocess; on_output sees the stdout so far after every chunk.
    Killed (and the test failed) when it outlives deadline_s."""
    started = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "-m", "conformance.cli", "run", "--report-dir", str(report_dir), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=clean_env(),
    )
    assert proc.stdout is not None and proc.stderr is not None
    out: list[bytes] = []
    err: list[bytes] = []

    def pump_err() -> None:
        assert proc.stderr is not None
        err.append(proc.stderr.read())

    err_thread = threading.Thread(target=pump_err, daemon=True)
    err_thread.start()

    def pump_out() -> None:
        assert proc.stdout is not None
        fd = proc.stdout.fileno()
        while chunk := os.read(fd, 65536):
            out.append(chunk)
            if on_output is not None:
                on_output(b"".join(out).decode("utf-8", "replace"))

    out_thread = threading.Thread(target=pump_out, daemon=True)
    out_thread.start()
    try:
        returncode = proc.wait(deadline_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(10)
        raise AssertionError(
            f"the run did not end within {deadline_s:g} s:\n"
            + b"".join(out).decode("utf-8", "replace")[-3000:]
        ) from None
    out_thread.join(10)
    err_thread.join(10)
    summary_path = report_dir / "summary.json"
    summary = json.loads(summary_path.read_text(encoding="utf-8")) if summary_path.exists() else {}
    return RunResult(
        returncode,
        b"".join(out).decode("utf-8", "replace"),
        b"".join(err).decode("utf-8", "replace"),
        time.monotonic() - started,
        summary,
    )


def http_response(status: int, body: bytes, content_type: str = "text/html", reason: str = "") -> bytes:
    """A whole HTTP/1.1 response, for a Proxy's `answer`."""
    head = (
        f"HTTP/1.1 {status} {reason or 'Whatever'}\r\nContent-Type: {content_type}\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode("ascii") + body


GATEWAY_PAGE = http_response(
    503,
    b"<html><body><h1>503 Service Temporarily Unavailable</h1></body></html>",
    reason="Service Unavailable",
)


class Proxy:
    """A TCP proxy on 127.0.0.1 in its own thread, reading HTTP/1.1 requests one by one.

    `delay_s` holds every request that long before passing it on; `cut(request, n)` says whether the
    n-th request (from 1; head and body) is cut: the client's connection is closed unanswered.
    `answer(request, n)` gives a whole response to send instead of forwarding (None: forward; with no
    upstream, hold the request unanswered); `hold(request, n)` says whether that one request is held
    unanswered while others go on (a hang of one request). `silent` accepts and reads but never
    answers nor forwards (a hung server)."""

    def __init__(
        self,
        upstream_port: int | None,
        *,
        delay_s: float = 0.0,
        cut: Callable[[bytes, int], bool] | None = None,
        answer: Callable[[bytes, int], bytes | None] | None = None,
        hold: Callable[[bytes, int], bool] | None = None,
        silent: bool = False,
    ) -> None:
        self.upstream_port = upstream_port
        self.delay_s = delay_s
        self.cut = cut
        self.answer = answer
        self.hold = hold
        self.silent = silent
        self.port = free_port()
        self.requests = 0
        self.cuts = 0
        self.answered = 0
        self.held = 0
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> Proxy:
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the proxy did not start")
        return self

    def __exit__(self, *exc: object) -> None:
        if self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10)

    def _run(self) -> None:
        self._loop.run_until_complete(self._serve())

    async def _serve(self) -> None:
        self._stop = asyncio.Event()
        server = await asyncio.start_server(self._client, "127.0.0.1", self.port)
        self._ready.set()
        async with server:
            await self._stop.wait()
            server.close()
            for task in asyncio.all_tasks() - {asyncio.current_task()}:
                task.cancel()

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            if self.silent:
                while await reader.read(65536):
                    pass
                return
            up_writer: asyncio.StreamWriter | None = None
            back: asyncio.Task[None] | None = None
            try:
                while True:
                    request = await self._read_request(reader)
                    if request is None:
                        return
                    self.requests += 1
                    if self.cut is not None and self.cut(request, self.requests):
                        self.cuts += 1
                        return
                    canned = self.answer(request, self.requests) if self.answer is not None else None
                    if canned is not None:
                        self.answered += 1
                        writer.write(canned)
                        await writer.drain()
                        continue
                    held = self.hold is not None and self.hold(request, self.requests)
                    self.held += held
                    if held or self.upstream_port is None:  # nothing to forward to: the request hangs
                        while await reader.read(65536):
                            pass
                        return
                    if up_writer is None:
                        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)
                        back = asyncio.create_task(self._pipe(up_reader, writer))
                    if self.delay_s:
                        await asyncio.sleep(self.delay_s)  # the slowness under test, not a settle wait
                    up_writer.write(request)
                    await up_writer.drain()
            finally:
                if back is not None:
                    back.cancel()
                if up_writer is not None:
                    up_writer.close()
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            with contextlib.suppress(OSError):
                writer.close()

    @staticmethod
    async def _read_request(reader: asyncio.StreamReader) -> bytes | None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            return None
        match = re.search(rb"(?im)^content-length:\s*(\d+)", head)
        body = await reader.readexactly(int(match.group(1))) if match else b""
        return head + body

    @staticmethod
    async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(OSError, asyncio.CancelledError):
            while chunk := await reader.read(65536):
                writer.write(chunk)
                await writer.drain()
        with contextlib.suppress(OSError):
            writer.close()


@contextlib.contextmanager
def served(workdir: Path) -> Iterator[ServerProcess]:
    with ServerProcess(workdir) as server:
        yield server
