"""Target: the server under test — a configured remote server, or the embedded reference server.

The one module of the runner that knows the reference server (`conformance.simulator`) exists: the
embedded target, its built-in agents, and what `gws-conformance serve | faults` need of it."""

from __future__ import annotations

import contextlib
import subprocess
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from conformance.config import AgentConfig, Config, redacted_target
from conformance.protocol import Profile, Status, load_profile
from conformance.transport import Failure, failure_of, is_gateway_page

PREFLIGHT_DEADLINE_S = 5.0
EMBEDDED_STOP_S = 10.0


class TargetError(Exception):
    """The target cannot be used: unreachable, or an agent cannot log in. One line for the user."""


@dataclass(frozen=True)
class Target:
    base_url: str
    gms_url: str
    service: str
    csrf: bool
    routing: str
    verify_tls: bool | str
    timeout_s: float  # already multiplied by the timeout factor
    agents: tuple[AgentConfig, ...]  # username, password, id, skills (the harness's AgentSpec fields)
    profile: Profile
    embedded: bool = False

    @property
    def secrets(self) -> tuple[str, ...]:
        return tuple(sorted({a.password for a in self.agents}))


def built_in_agents() -> tuple[AgentConfig, ...]:
    """The reference server's built-in accounts."""
    from conformance.simulator.accounts import BUILT_IN_AGENTS

    return tuple(AgentConfig(a.user_name, a.password, a.id, a.skills) for a in BUILT_IN_AGENTS)


BUILT_IN_PASSWORD_NOTE = "the reference server's built-in password"


def assumed_agents_line(config: Config) -> str | None:
    """With --base-url and no target file: the one line saying which agents the run logs in as."""
    if config.embedded or config.agents:
        return None
    names = ", ".join(f"{a.username} ({a.id}, skills {'/'.join(a.skills) or 'none'})"
                      for a in built_in_agents())
    return (f"--base-url without a target file: assuming the reference server's built-in agents {names}, "
            f"with {BUILT_IN_PASSWORD_NOTE}; for other accounts write a target file (--target FILE)")


def reported_target(config: Config) -> dict[str, object]:
    """The target as reports show it (no secret); with --base-url alone, the built-in agents it assumed."""
    target = redacted_target(config)
    if not config.embedded and not config.agents:
        target["agents"] = [{"username": a.username, "password": f"<{BUILT_IN_PASSWORD_NOTE}>", "id": a.id,
                             "skills": list(a.skills)} for a in built_in_agents()]
        target["agents_assumed"] = "built-in: --base-url without a target file"
    return target


def make_target(config: Config, base_url: str | None = None, profile: Profile | None = None) -> Target:
    """The target the config describes; `base_url` is the embedded server's URL when it runs."""
    url = base_url or config.base_url
    if url is None:
        raise TargetError("no base_url: start the embedded reference server first (open_target does)")
    return Target(
        base_url=url,
        gms_url=config.gms_url or url,
        service=config.service,
        csrf=config.csrf,
        routing=config.routing,
        verify_tls=config.verify_tls,
        timeout_s=config.timeout_s * config.timeout_factor,
        agents=config.agents or built_in_agents(),
        profile=profile or load_profile(config.profile_path),
        embedded=config.embedded,
    )


@contextmanager
def open_target(config: Config) -> Iterator[Target]:
    """The target; the embedded reference server runs (on a free port of 127.0.0.1) while inside."""
    profile = load_profile(config.profile_path)
    if not config.embedded:
        yield make_target(config, profile=profile)
        return
    with _embedded_server(config.profile_path, config.routing) as url:
        yield make_target(config, base_url=url, profile=profile)


@dataclass(frozen=True)
class SeededFault:
    """One of the reference server's seeded faults, as `gws-conformance faults` lists it."""

    name: str
    breaks: tuple[str, ...]  # the requirement IDs it breaks
    description: str


def seeded_faults() -> list[SeededFault]:
    from conformance.simulator.faults import FAULTS, LOAD_FAULTS

    listed = [SeededFault(name, tuple(f.breaks), f.description) for name, f in FAULTS.items()]
    # faults that show only under concurrency (gws-conformance load --fault; docs/load.md)
    load_only = [SeededFault(n, tuple(f.breaks), f"{f.description} [load only]")
                 for n, f in LOAD_FAULTS.items()]
    return listed + load_only


def check_fault_names(names: Sequence[str]) -> None:
    """ValueError naming the unknown fault names."""
    from conformance.simulator.faults import check_fault_names as check

    check(list(names))


def serve_password_env() -> str:
    """The environment variable holding the password `gws-conformance serve` gives the built-in agents."""
    from conformance.simulator.limits import SERVE_PASSWORD_ENV

    return SERVE_PASSWORD_ENV


def is_loopback(host: str) -> bool:
    """Whether `host` listens only on this machine (127.0.0.1, ::1, localhost, any 127.x address)."""
    from conformance.simulator.server import is_loopback as loopback

    return loopback(host)


def serve_reference_server(
    host: str,
    port: int,
    faults: Sequence[str],
    target_out: Path | None,
    password: str | None,
    agents: int = 0,
    routing: str = "hints",
) -> None:
    """Run the reference server in the foreground until Ctrl-C (OSError if it cannot listen); `agents`
    generated agents more (ValueError beyond the limit); `routing` its routing mode."""
    from conformance.simulator.server import serve

    serve(host, port, faults, target_out, password, agents, routing)


# The embedded reference server runs in a child process: in a thread of the pytest process it
# competed with the suite for the GIL (a full run took ~35% longer). It stops when its stdin closes.
_SERVER_CODE = """import sys
from conformance.simulator.server import ReferenceServer
from conformance.protocol import load_profile
with ReferenceServer(profile=load_profile(sys.argv[1] or None), routing=sys.argv[2]) as server:
    print(server.url, flush=True)
    sys.stdin.read()
"""


@contextmanager
def _embedded_server(profile_path: object, routing: str) -> Iterator[str]:
    """Start the reference server in a child process, routing as the target's `routing` says (the
    embedded server's mode follows the run's); its URL while inside."""
    argument = "" if profile_path is None else str(profile_path)
    child = subprocess.Popen(
        [sys.executable, "-c", _SERVER_CODE, argument, routing],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        url = child.stdout.readline().strip()  # the child exits (EOF) if it cannot start
        if not url.startswith("http"):
            raise TargetError(f"the embedded reference server did not start (exit status {child.wait()})")
        yield url
    finally:
        with contextlib.suppress(OSError):
            if child.stdin is not None:
                child.stdin.close()
        try:
            child.wait(EMBEDDED_STOP_S)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def preflight(target: Target, deadline_s: float = PREFLIGHT_DEADLINE_S) -> None:
    """GET /me for every agent must answer HTTP 200 with the agent API's JSON and the success
    statusCode (0); otherwise a TargetError with one line saying what to fix."""
    url = target.base_url + target.profile.http.api_prefix + "/me"
    timeout = httpx.Timeout(deadline_s)
    with httpx.Client(verify=target.verify_tls, timeout=timeout) as client:
        for agent in target.agents:
            client.cookies.clear()
            try:
                response = client.get(url, auth=(agent.username, agent.password))
            except httpx.HTTPError as err:
                raise TargetError(_unreachable(target.base_url, err, deadline_s)) from None
            _check_me(url, agent.username, response, target.profile.code(Status.SUCCESS))


def _unreachable(base_url: str, err: Exception, deadline_s: float) -> str:
    failure = failure_of(err)
    running = "is the server running? check base_url"
    if failure is Failure.TIMEOUT:
        return f"cannot reach {base_url}: no answer within {deadline_s:g} s — {running}"
    if failure in (Failure.REFUSED, Failure.NAME):
        return f"cannot reach {base_url}: {failure} — {running}"
    if failure is Failure.TLS:
        return f"cannot reach {base_url}: {failure} ({_reason(err)}) — check base_url's scheme and verify_tls"
    return f"cannot reach {base_url}: {_reason(err)} — check base_url"


def _check_me(url: str, username: str, response: httpx.Response, success: int) -> None:
    """The first reply of the agent API: 200, a JSON object, the profile's success statusCode (0)."""
    status = response.status_code
    media = response.headers.get("content-type", "no content type").split(";")[0].strip()
    if status == 401:
        raise TargetError(
            f"agent '{username}' cannot log in (HTTP 401): check its username and password in the target file"
        )
    if is_gateway_page(status, response.text):
        raise TargetError(
            f"{url} answered HTTP {status} {media}, {Failure.GATEWAY}: is the server behind it running? "
            "check base_url"
        )
    try:
        body: Any = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise TargetError(f"{url} answered HTTP {status} {media}, not the agent API's JSON: check base_url")
    code = body.get("statusCode")
    if status != 200 or code != success:
        raise TargetError(
            f"{url} for agent '{username}' answered HTTP {status} with statusCode {code!r}, not HTTP 200 "
            f"with statusCode {success}: is base_url the GWS server, and the agent's account usable?"
        )


def _reason(err: Exception) -> str:
    text: Any = str(err) or type(err).__name__
    if "refused" in text.lower():
        return "connection refused"
    return " ".join(str(text).split())[:200]
