"""The pytest11 entry point `gws_conformance`: registers the runner's modules, each one concern.

The order is the registration order, which pytest uses among hooks of the same priority; nothing here
depends on it except that every module is registered when this one is (options are added in time).
A suite test is an item with a `requirement` marker; the project's own tests run untouched.
"""

from __future__ import annotations

import pytest

from conformance.runner import (
    collection,
    deadlines,
    interruption,
    marker,
    options,
    phase_reports,
    results,
    session,
    terminal,
    verdict,
)

PLUGIN_NAME = "gws_conformance"  # the entry point's name (pyproject.toml), and the root conftest's
MODULES = (options, marker, results, interruption, collection, deadlines, session, phase_reports, verdict,
           terminal)


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    """Called once, when this module is registered: registers the concern modules beside it."""
    for module in MODULES:
        if not pluginmanager.is_registered(module):
            pluginmanager.register(module, f"{PLUGIN_NAME}.{module.__name__.rsplit('.', 1)[-1]}")
