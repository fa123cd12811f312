"""The version of gws-conformance a run reports (summary.json, the evidence bundle)."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

DISTRIBUTION = "gws-conformance"


def package_version() -> str:
    """The installed distribution's version (0+unknown in a checkout that was never installed)."""
    try:
        return version(DISTRIBUTION)
    except PackageNotFoundError:
        return "0+unknown"
