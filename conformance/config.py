"""One frozen Config: command-line options > GWS_CONFORMANCE_* environment > the target file > defaults."""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from conformance.transcript import Redactor

ENV_PREFIX = "GWS_CONFORMANCE_"
ROUTING_MODES = ("hints", "one-ready-agent")
HYPOTHESIS_PROFILES = ("dev", "ci", "nightly")
_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_TRUE = ("1", "true", "yes", "on")
_FALSE = ("0", "false", "no", "off")


class ConfigError(ValueError):
    """A usage or configuration error: one line naming the key and what to fix."""


@dataclass(frozen=True)
class AgentConfig:
    """One agent account of the target (the fields of the harness's AgentSpec)."""

    username: str
    password: str = field(repr=False)  # never in a repr: pytest -l -vv prints the objects of a frame
    id: str
    skills: tuple[str, ...] = ()


@dataclass(frozen=True)
class Config:
    target_file: Path | None = None
    base_url: str | None = None  # None and no target file: the embedded reference server
    gms_url: str | None = None  # None: base_url
    service: str = "customer-support"
    csrf: bool = True
    routing: str = "hints"
    verify_tls: bool | str = True
    timeout_s: float = 10.0
    agents: tuple[AgentConfig, ...] = ()  # empty: the reference server's built-in agents
    profile_path: Path | None = None
    report_dir: Path = Path("reports")
    strict: bool = False
    expectations: Path | None = None
    select: str | None = None
    list_only: bool = False
    workers: int | None = None
    hypothesis_profile: str = "ci"
    timeout_factor: float = 1.0
    rerun_failed: Path | None = None
    bundle: Path | None = None
    secrets: tuple[str, ...] = field(default=(), repr=False)  # values no report may contain

    @property
    def embedded(self) -> bool:
        return self.base_url is None


# Keys of the target file; the rest of Config comes from options and the environment only.
MIN_AGENTS = 3  # the whole suite needs this many agents (suite-interface.md)


def require_agents(config: Config, narrowed: bool) -> None:
    """A whole run needs at least MIN_AGENTS agents (the built-in four when the target names none)."""
    if config.agents and len(config.agents) < MIN_AGENTS and not narrowed:
        raise ConfigError(f"agents: the target has {len(config.agents)}; the whole suite needs at least "
                          f"{MIN_AGENTS} [[agents]] entries: add agents to the target file, or narrow the "
                          "run with --select")


FILE_KEYS = ("base_url", "gms_url", "service", "csrf", "routing", "verify_tls", "timeout_s", "agents")
AGENT_KEYS = ("username", "password", "id", "skills")
_OPTION_KEYS = tuple(f.name for f in fields(Config) if f.name not in ("agents", "secrets"))
# The environment may set every option except the agents (they need a target file).
ENV_KEYS = {ENV_PREFIX + key.upper(): key for key in _OPTION_KEYS if key != "list_only"}
ENV_KEYS[ENV_PREFIX + "TARGET"] = "target_file"
ENV_KEYS[ENV_PREFIX + "PROFILE"] = "profile_path"
del ENV_KEYS[ENV_PREFIX + "TARGET_FILE"], ENV_KEYS[ENV_PREFIX + "PROFILE_PATH"]


def _url(key: str, value: object) -> str:
    text = _str(key, value)
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"{key}: {text!r} is not an http(s) URL such as http://127.0.0.1:8090")
    try:
        parts.port  # noqa: B018 - validates the port
    except ValueError:
        raise ConfigError(f"{key}: {text!r} has an invalid port") from None
    return text.rstrip("/")


def _str(key: str, value: object) -> str:
    if not isinstance(value, str) or not value:
        raise ConfigError(f"{key}: expected a non-empty string, got {value!r}")
    return value


def _bool(key: str, value: object) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in _TRUE + _FALSE:
        return value.lower() in _TRUE
    raise ConfigError(f"{key}: expected true or false, got {value!r}")


def _positive(key: str, value: object) -> float:
    try:
        number = float(value) if isinstance(value, (int, float, str)) and not isinstance(value, bool) else -1
    except ValueError:
        number = -1
    if number <= 0:
        raise ConfigError(f"{key}: expected a positive number, got {value!r}")
    return number


def _workers(key: str, value: object) -> int:
    try:
        number = int(value) if isinstance(value, (int, str)) and not isinstance(value, bool) else -1
    except ValueError:
        number = -1
    if number < 0:
        raise ConfigError(f"{key}: expected a whole number of worker processes (0 or more), got {value!r}")
    return number


def _choice(choices: tuple[str, ...]) -> Callable[[str, object], str]:
    def check(key: str, value: object) -> str:
        if value not in choices:
            raise ConfigError(f"{key}: expected one of {', '.join(choices)}, got {value!r}")
        return str(value)

    return check


def _verify(key: str, value: object) -> bool | str:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in _TRUE + _FALSE:
        return value.lower() in _TRUE
    path = _str(key, value)
    if not Path(path).is_file():
        raise ConfigError(f"{key}: expected true, false or the path of a CA bundle; {path!r} is not a file")
    return path


def _path(key: str, value: object) -> Path:
    return Path(_str(key, value))


def _existing(key: str, value: object) -> Path:
    path = _path(key, value)
    if not path.is_file():
        raise ConfigError(f"{key}: the file {str(path)!r} does not exist")
    return path


_CHECKS: dict[str, Callable[[str, object], Any]] = {
    "target_file": _existing,
    "base_url": _url,
    "gms_url": _url,
    "service": _str,
    "csrf": _bool,
    "routing": _choice(ROUTING_MODES),
    "verify_tls": _verify,
    "timeout_s": _positive,
    "profile_path": _existing,
    "report_dir": _path,
    "strict": _bool,
    "expectations": _existing,
    "select": _str,
    "list_only": _bool,
    "workers": _workers,
    "hypothesis_profile": _choice(HYPOTHESIS_PROFILES),
    "timeout_factor": _positive,
    "rerun_failed": _existing,
    "bundle": _path,
}


def _expand(key: str, value: object, environ: Mapping[str, str], secrets: list[str]) -> object:
    """`${NAME}` replaced from the environment; every expanded value is kept as a secret."""
    if not isinstance(value, str):
        return value

    def one(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in environ:
            raise ConfigError(f"{key}: ${{{name}}} is not set in the environment; export {name}")
        secrets.append(environ[name])
        return environ[name]

    return _VAR.sub(one, value)


def _read_target(path: Path, environ: Mapping[str, str], secrets: list[str]) -> dict[str, Any]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise ConfigError(f"target: cannot read {path}: {err.strerror}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise ConfigError(f"target: {path} is not valid TOML: {err}") from None
    unknown = sorted(set(data) - set(FILE_KEYS))
    if unknown:
        raise ConfigError(f"{unknown[0]}: unknown key in {path}; the keys are {', '.join(FILE_KEYS)}")
    values = {key: _expand(key, v, environ, secrets) for key, v in data.items() if key != "agents"}
    if "base_url" not in values:
        raise ConfigError(f"base_url: missing in {path}; add base_url = \"http://host:port\"")
    values["agents"] = _read_agents(path, data.get("agents"), environ, secrets)
    return values


def _read_agents(
    path: Path, entries: object, environ: Mapping[str, str], secrets: list[str]
) -> tuple[AgentConfig, ...]:
    if not isinstance(entries, list) or not entries:
        raise ConfigError(f"agents: {path} needs an [[agents]] entry with username, password and id")
    agents = []
    for n, entry in enumerate(entries):
        where = f"agents[{n}]"
        if not isinstance(entry, dict):
            raise ConfigError(f"{where}: expected an [[agents]] table")
        unknown = sorted(set(entry) - set(AGENT_KEYS))
        if unknown:
            raise ConfigError(f"{where}.{unknown[0]}: unknown key; the keys are {', '.join(AGENT_KEYS)}")
        for key in ("username", "password", "id"):
            if key not in entry:
                raise ConfigError(f"{where}.{key}: missing; every agent needs username, password and id")
        values = {k: _expand(f"{where}.{k}", v, environ, secrets) for k, v in entry.items() if k != "skills"}
        skills = entry.get("skills", [])
        if not isinstance(skills, list) or not all(isinstance(s, str) and s for s in skills):
            raise ConfigError(f"{where}.skills: expected a list of skill names, got {skills!r}")
        password = values["password"]
        if not isinstance(password, str) or not password:
            got = "an empty string" if password == "" else f"a {type(password).__name__}"
            raise ConfigError(f"{where}.password: expected a non-empty string (in quotes), got {got} "
                              "(the value is not shown)")
        secrets.append(password)
        agents.append(
            AgentConfig(
                username=_str(f"{where}.username", values["username"]),
                password=password,
                id=_str(f"{where}.id", values["id"]),
                skills=tuple(skills),
            )
        )
    names = [a.username for a in agents]
    duplicate = next((name for name in names if names.count(name) > 1), None)
    if duplicate:
        raise ConfigError(f"agents: the username {duplicate!r} appears twice in {path}")
    return tuple(agents)


def _from_environment(environ: Mapping[str, str]) -> dict[str, object]:
    values: dict[str, object] = {}
    for name, raw in environ.items():
        if not name.startswith(ENV_PREFIX):
            continue
        if name not in ENV_KEYS:
            known = ", ".join(sorted(ENV_KEYS))
            raise ConfigError(f"{name}: unknown environment variable; the known ones are {known}")
        values[ENV_KEYS[name]] = raw
    return values


def build_config(
    options: Mapping[str, object] | None = None, environ: Mapping[str, str] | None = None
) -> Config:
    """The Config from options (Config field names; None = not given), the environment and the target file."""
    environ = os.environ if environ is None else environ
    given = {key: value for key, value in (options or {}).items() if value is not None}
    unknown = sorted(set(given) - set(_OPTION_KEYS))
    if unknown:
        raise ConfigError(f"{unknown[0]}: unknown option")
    layered = {**_from_environment(environ), **given}
    secrets: list[str] = []
    try:
        return _build(layered, environ, secrets)
    except ConfigError as err:  # a message never shows a secret (a password, a value from ${VAR})
        raise ConfigError(_hide(str(err), secrets)) from None


def _hide(message: str, secrets: list[str]) -> str:
    redactor = Redactor()
    for secret in secrets:
        redactor.add(secret)
    return redactor.redact(message)


def _build(layered: dict[str, object], environ: Mapping[str, str], secrets: list[str]) -> Config:
    values: dict[str, Any] = {}
    target = layered.get("target_file")
    if target is not None:
        path = _existing("target", target)
        values.update(_read_target(path, environ, secrets))
    values.update(layered)
    checked: dict[str, Any] = {}
    for key, value in values.items():
        checked[key] = value if key == "agents" else _CHECKS[key](key, value)
    if "gms_url" in checked and "base_url" not in checked:
        raise ConfigError("gms_url: set base_url too (gms_url alone does not name the agent API)")
    if "workers" in checked and checked["workers"] == 0:
        checked["workers"] = None
    return Config(**checked, secrets=tuple(sorted({s for s in secrets if s})))


def redacted_target(config: Config) -> dict[str, object]:
    """The target as a report may show it: no passwords, no values taken from the environment."""

    def clean(value: object) -> object:
        return "<redacted>" if isinstance(value, str) and value in config.secrets else value

    target: dict[str, object] = {
        "base_url": config.base_url or "embedded",
        "gms_url": config.gms_url or config.base_url or "embedded",
        "service": config.service,
        "csrf": config.csrf,
        "routing": config.routing,
        "verify_tls": config.verify_tls,
        "timeout_s": config.timeout_s,
    }
    target = {key: clean(value) for key, value in target.items()}
    target["agents"] = [
        {"username": clean(a.username), "password": "<redacted>", "id": clean(a.id), "skills": list(a.skills)}
        for a in config.agents
    ]
    return target
