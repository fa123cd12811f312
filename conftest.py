"""The checkout's root conftest: makes sure the project's pytest plugin is loaded, exactly once.

Installed (pip install -e . or .), the plugin is registered through the `pytest11` entry point
`gws_conformance` before any conftest is read, and this file does nothing. When entry-point plugins are
not loaded (PYTEST_DISABLE_PLUGIN_AUTOLOAD=1, --disable-plugin-autoload, or the package not installed and
run from the checkout with `python -m pytest`), it registers the plugin under the same name. `-p
no:gws_conformance` is respected.
"""

from __future__ import annotations

import importlib

import pytest

PLUGIN_NAME = "gws_conformance"  # the pytest11 entry point's name (pyproject.toml)
PLUGIN = "conformance.runner.plugin"


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    """Called once, when this conftest is registered (before the command line is parsed for good)."""
    if pluginmanager.is_blocked(PLUGIN_NAME):
        return
    plugin = importlib.import_module(PLUGIN)
    if pluginmanager.is_registered(plugin):
        return
    pluginmanager.register(plugin, PLUGIN_NAME)
