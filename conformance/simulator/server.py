"""Run the reference server: in a background thread (tests) or in the foreground (`serve`)."""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import ipaddress
import socket
import threading
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

import uvicorn

from conformance.protocol.profile import DEFAULT_PROFILE, Profile
from conformance.simulator.accounts import SERVICE, built_in_agents, generated_agents
from conformance.simulator.app import build_app
from conformance.simulator.core import HINTS
from conformance.simulator.faults import check_fault_names
from conformance.simulator.limits import LOOPBACK_HOSTS

if TYPE_CHECKING:
    from conformance.simulator.engine import Engine

T = TypeVar("T")
START_TIMEOUT_S = 10.0
STOP_TIMEOUT_S = 5.0


def _listening_socket(host: str, port: int) -> socket.socket:
    # IPPROTO_TCP explicitly: with proto 0 asyncio skips TCP_NODELAY (~44 ms per request)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.setblocking(False)
    return sock


class ReferenceServer:
    """The embedded reference server, run by uvicorn in a daemon thread."""

    def __init__(
        self,
        faults: Iterable[str] = (),
        host: str = "127.0.0.1",
        port: int = 0,
        profile: Profile = DEFAULT_PROFILE,
        *,
        engine: Engine | None = None,
        password: str | None = None,
        agents: int = 0,
        routing: str = HINTS,
    ) -> None:
        """`password` replaces the built-in agents' password `password` (ignored with `engine`); `agents`
        adds that many generated agents (load1..loadN) for load runs; `routing` is the engine's routing
        mode (`hints`: RouteToAgent/RouteToSkill honoured; `one-ready-agent`: any Ready agent, the hints
        ignored; ignored with `engine`)."""
        self.faults = check_fault_names(tuple(faults))
        self.profile = profile
        self.accounts = built_in_agents(password) + generated_agents(agents, password)
        if engine is None:
            from conformance.simulator.engine import Engine

            engine = Engine(profile, self.accounts, SERVICE, faults=self.faults, routing=routing)
        else:
            self.accounts = tuple(engine.accounts.values())
        self.engine = engine
        self.routing = engine.routing
        self.app = build_app(self.engine, profile, self.faults)
        self._socket = _listening_socket(host, port)
        self.host, self.port = self._socket.getsockname()[:2]
        config = uvicorn.Config(
            self.app, log_level="warning", access_log=False, timeout_graceful_shutdown=1, lifespan="off"
        )
        self._server = uvicorn.Server(config)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def start(self) -> ReferenceServer:
        """Start serving; return once the server answers HTTP."""
        if self._thread is not None:
            return self
        self._thread = threading.Thread(target=self._run, name=f"reference-server-{self.port}", daemon=True)
        self._thread.start()
        # the socket already listens: this request waits in the backlog until uvicorn serves it
        if not self._answers():
            self.stop()
            raise RuntimeError(f"the reference server did not start on {self.url}")
        return self

    def _run(self) -> None:
        asyncio.run(self._serve())

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        await self._server.serve(sockets=[self._socket])

    def _answers(self) -> bool:
        connection = http.client.HTTPConnection(self.host, self.port, timeout=START_TIMEOUT_S)
        try:
            connection.request("GET", "/")
            connection.getresponse().read()
            return True
        except OSError:
            return False
        finally:
            connection.close()

    def stop(self) -> None:
        """Answer every held long-poll, then stop within about a second."""
        if self._thread is None:
            self._socket.close()
            return
        loop = self._loop
        if loop is not None and loop.is_running():
            future = asyncio.run_coroutine_threadsafe(self.app.state.bayeux.shutdown(), loop)
            with contextlib.suppress(Exception):
                future.result(timeout=1)
        self._server.should_exit = True
        self._thread.join(STOP_TIMEOUT_S)
        self._thread = None
        self._socket.close()

    def call(self, function: Callable[..., T], *args: Any) -> T:
        """Run `function(*args)` on the server's loop (the only safe way to touch its state)."""
        if self._loop is None:
            raise RuntimeError("the reference server is not running")

        async def run() -> T:
            return function(*args)

        return asyncio.run_coroutine_threadsafe(run(), self._loop).result(timeout=STOP_TIMEOUT_S)

    def __enter__(self) -> ReferenceServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def target_toml(server: ReferenceServer) -> str:
    """A target file (suite-interface.md) describing a running reference server."""
    lines = [
        f'base_url = "{server.url}"',
        f'gms_url = "{server.url}"',
        f'service = "{SERVICE}"',
        "csrf = true",
        f'routing = "{server.routing}"',
    ]
    for agent in server.accounts:
        skills = ", ".join(f'"{s}"' for s in agent.skills)
        lines += [
            "",
            "[[agents]]",
            f'username = "{agent.user_name}"',
            f'password = "{agent.password}"',
            f'id = "{agent.id}"',
            f"skills = [{skills}]",
        ]
    return "\n".join(lines) + "\n"


def is_loopback(host: str) -> bool:
    """Whether `host` listens only on this machine (127.0.0.1, ::1, localhost, any 127.x address)."""
    if host in LOOPBACK_HOSTS:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def serve(
    host: str,
    port: int,
    faults: Sequence[str],
    target_out: Path | None,
    password: str | None = None,
    agents: int = 0,
    routing: str = HINTS,
) -> None:
    """Run the reference server in the foreground until Ctrl-C; `password` replaces the agents' one;
    `agents` adds generated agents; `routing` is its routing mode."""
    server = ReferenceServer(faults, host=host, port=port, password=password, agents=agents,
                             routing=routing).start()
    try:
        if target_out is not None:
            target_out.write_text(target_toml(server), encoding="utf-8")
        suffix = f" (faults: {', '.join(sorted(server.faults))})" if server.faults else ""
        suffix += f" (routing: {server.routing})" if server.routing != HINTS else ""
        print(f"reference server listening on {server.url}{suffix}; Ctrl-C stops it", flush=True)
        if target_out is not None:
            print(f"target file written to {target_out}", flush=True)
        assert server._thread is not None
        while server._thread.is_alive():
            server._thread.join(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
