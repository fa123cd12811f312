"""The project's own tests: the `nightly` ones (the slowest self-tests) run only when asked for with
`-m nightly` (.ci/nightly); any other run of tests/ leaves them out. Kept here, not in pytest's addopts,
so that a suite run from the checkout (`gws-conformance run`) is not taken for a narrowed selection."""

from __future__ import annotations

import pytest


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.option.markexpr:  # the user chose by marker (e.g. -m nightly)
        return
    nightly = [item for item in items if item.get_closest_marker("nightly") is not None]
    if nightly:
        config.hook.pytest_deselected(items=nightly)
        items[:] = [item for item in items if item.get_closest_marker("nightly") is None]
