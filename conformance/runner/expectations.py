"""Known deviations kept outside the tests: entries keyed by requirement ID or test node id."""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from conformance.config import ConfigError
from conformance.protocol import CATALOGUE, Requirement


@dataclass(frozen=True)
class Expectation:
    key: str  # a requirement ID or a test node id
    reason: str
    link: str | None = None


def load_expectations(
    path: Path, catalogue: Mapping[str, Requirement] = CATALOGUE
) -> dict[str, Expectation]:
    """The entries of an expectations file, or ConfigError naming the bad entry."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise ConfigError(f"expectations: cannot read {path}: {err.strerror}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise ConfigError(f"expectations: {path} is not valid TOML: {err}") from None
    found: dict[str, Expectation] = {}
    for key, entry in data.items():
        where = f"expectations[{key!r}]"
        if key not in catalogue and "::" not in key:
            raise ConfigError(f"{where}: neither a requirement ID nor a test id (path.py::test_name)")
        if not isinstance(entry, dict):
            raise ConfigError(f"{where}: expected a table with reason and optional link")
        unknown = sorted(set(entry) - {"reason", "link"})
        if unknown:
            raise ConfigError(f"{where}.{unknown[0]}: unknown key; the keys are reason, link")
        reason, link = entry.get("reason"), entry.get("link")
        if not isinstance(reason, str) or not reason.strip():
            raise ConfigError(f"{where}.reason: missing; say why the deviation is expected")
        if link is not None and not isinstance(link, str):
            raise ConfigError(f"{where}.link: expected a string")
        found[key] = Expectation(key, reason, link)
    return found


def matching(expectations: Mapping[str, Expectation], nodeid: str, ids: Iterable[str]) -> Expectation | None:
    """The entry for this test: its node id (with or without parameters) first, then one of its IDs."""
    base = nodeid.split("[", 1)[0]
    for key in (nodeid, base):
        if key in expectations:
            return expectations[key]
    return next((expectations[rid] for rid in ids if rid in expectations), None)


def unmatched(expectations: Mapping[str, Expectation], used: Iterable[str]) -> list[str]:
    """The keys that matched no selected test."""
    return sorted(set(expectations) - set(used))
