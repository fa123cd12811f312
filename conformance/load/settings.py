"""The load mode's bounds, its target and its flow weights. Pure: no gevent, no asyncio, no I/O but
reading the target file."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from conformance.config import ConfigError, build_config

# Bounded by construction: every run has a user count, a spawn rate, a duration and a request count under
# these, and stops by itself.
MAX_USERS = 1000
MAX_SPAWN_RATE = 100.0
MAX_RUN_TIME_S = 3600.0
DEFAULT_RUN_TIME_S = 60.0
MAX_REQUESTS = 5_000_000
DEFAULT_MAX_REQUESTS = 1_000_000
AGENTS_PER_USER = 2  # each user plays a customer and two agents (owner, and consultant or transfer target)
LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})

FLOWS = ("simple", "transfer", "consult_transfer", "conference", "consult_reject")
DEFAULT_WEIGHTS = {"simple": 3, "transfer": 1, "consult_transfer": 1, "conference": 1, "consult_reject": 1}
_SPAN = re.compile(r"^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s?)?$")


class LoadError(ValueError):
    """A usage or configuration error of the load mode, in one line."""


def parse_duration(text: str) -> float:
    """`90`, `90s`, `2m`, `1h30m` -> seconds (Locust's --run-time forms)."""
    found = _SPAN.match(text.strip())
    if not text.strip() or found is None or not any(found.groups()):
        raise LoadError(f"--run-time: {text!r} is not a duration such as 60s, 2m or 1h30m")
    hours, minutes, seconds = (int(g or 0) for g in found.groups())
    return hours * 3600.0 + minutes * 60.0 + seconds


def check_bounds(users: int, spawn_rate: float, run_time_s: float | None, max_requests: int) -> float:
    """The run's duration in seconds (DEFAULT_RUN_TIME_S when none is given); LoadError beyond a bound."""
    if not 1 <= users <= MAX_USERS:
        raise LoadError(f"--users: between 1 and {MAX_USERS}, not {users}")
    if not 0 < spawn_rate <= MAX_SPAWN_RATE:
        raise LoadError(
            f"--spawn-rate: above 0 and at most {MAX_SPAWN_RATE:g} per second, not {spawn_rate:g}"
        )
    duration = DEFAULT_RUN_TIME_S if run_time_s is None else run_time_s
    if not 0 < duration <= MAX_RUN_TIME_S:
        raise LoadError(f"--run-time: above 0 and at most {MAX_RUN_TIME_S:g} s, not {duration:g} s")
    if not 1 <= max_requests <= MAX_REQUESTS:
        raise LoadError(f"--max-requests: between 1 and {MAX_REQUESTS}, not {max_requests}")
    return duration


def parse_weights(text: str | None) -> dict[str, int]:
    """`simple=3,transfer=1` -> weights of every flow (a flow not named keeps its default; 0 turns it off)."""
    weights = dict(DEFAULT_WEIGHTS)
    if not text:
        return weights
    for item in text.split(","):
        name, sep, value = item.partition("=")
        name = name.strip()
        if not sep or name not in FLOWS or not value.strip().isdigit():
            raise LoadError(f"--flows: {item!r} is not FLOW=WEIGHT with FLOW one of {', '.join(FLOWS)}")
        weights[name] = int(value)
    if not any(weights.values()):
        raise LoadError("--flows: every flow has weight 0")
    return weights


@dataclass(frozen=True)
class AgentLogin:
    username: str
    password: str = field(repr=False)
    id: str


@dataclass(frozen=True)
class LoadTarget:
    base_url: str
    gms_url: str
    service: str
    agents: tuple[AgentLogin, ...]
    timeout_s: float
    csrf: bool
    secrets: tuple[str, ...] = field(default=(), repr=False)


def is_loopback(host: str | None) -> bool:
    if host is None:
        return False
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def read_target(path: Path) -> LoadTarget:
    """The target file (the suite's format, conformance.config). LoadError when it is unusable."""
    try:
        config = build_config({"target_file": str(path)})
    except ConfigError as err:
        raise LoadError(str(err)) from None
    if config.base_url is None:
        raise LoadError(f"{path}: base_url is missing")
    if config.routing != "hints":
        raise LoadError(f'{path}: routing = "{config.routing}": the load mode runs many chats at once, each '
                        'routed to its agents by RouteToAgent: it needs routing = "hints"')
    if config.verify_tls is not True or config.base_url.startswith("https"):
        raise LoadError(
            f"{path}: the load mode speaks plain http to a test server (loopback or its own host)"
        )
    agents = tuple(AgentLogin(a.username, a.password, a.id) for a in config.agents)
    if len(agents) < AGENTS_PER_USER:
        raise LoadError(
            f"{path}: the load mode needs at least {AGENTS_PER_USER} [[agents]] "
            "(gws-conformance serve --agents N makes a reference server with N more)"
        )
    gms = config.gms_url or config.base_url
    return LoadTarget(
        config.base_url,
        gms,
        config.service,
        agents,
        config.timeout_s,
        config.csrf,
        tuple(config.secrets) + tuple(a.password for a in agents),
    )


def check_hosts(target: LoadTarget, others: Iterable[str | None] = ()) -> None:
    """Only loopback and the target file's own host are ever contacted: LoadError for any other URL
    (the customer side's gms_url, Locust's --host)."""
    own = urlsplit(target.base_url).hostname
    for url in (target.base_url, target.gms_url, *others):
        if not url:
            continue
        host = urlsplit(url if "//" in url else f"http://{url}").hostname
        if not (is_loopback(host) or host == own):
            raise LoadError(
                f"{url}: the load mode contacts only loopback and the target file's own host ({own}); refused"
            )


def users_supported(target: LoadTarget) -> int:
    return len(target.agents) // AGENTS_PER_USER
