"""The versions a run reports: gws-conformance's (summary.json, the evidence bundle), and Python's and every
runtime dependency's (the evidence bundle's run.json)."""

from __future__ import annotations

import platform
import re
from importlib.metadata import PackageNotFoundError, requires, version

DISTRIBUTION = "gws-conformance"
_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


def package_version() -> str:
    """The installed distribution's version (0+unknown in a checkout that was never installed)."""
    try:
        return version(DISTRIBUTION)
    except PackageNotFoundError:
        return "0+unknown"


def _installed(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "not installed"


def run_versions() -> dict[str, object]:
    """{"suite", "python", "dependencies": {name: installed version}} for the declared runtime
    dependencies (extras such as `dev` left out)."""
    try:
        declared = requires(DISTRIBUTION) or []
    except PackageNotFoundError:
        declared = []
    names = sorted({m.group(1) for r in declared if "extra ==" not in r and (m := _NAME.match(r))},
                   key=str.lower)
    return {"suite": package_version(), "python": platform.python_version(),
            "dependencies": {name: _installed(name) for name in names}}
