"""The versions a run used: the suite, Python and every distribution it depends on (for the bundle)."""

from __future__ import annotations

import platform
import re
from importlib.metadata import PackageNotFoundError, requires, version

DISTRIBUTION = "gws-conformance"
_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


def _version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "not installed"


def run_versions() -> dict[str, object]:
    """{"suite": ..., "python": ..., "dependencies": {name: installed version}} for the declared runtime
    dependencies (extras such as `dev` left out)."""
    try:
        declared = requires(DISTRIBUTION) or []
    except PackageNotFoundError:
        declared = []
    names = sorted({m.group(1) for r in declared if "extra ==" not in r and (m := _NAME.match(r))},
                   key=str.lower)
    return {"suite": _version(DISTRIBUTION), "python": platform.python_version(),
            "dependencies": {name: _version(name) for name in names}}
