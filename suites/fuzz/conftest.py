"""Body fuzzing: the strategies for this target (its agent ids and skills are never 'unknown')."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import settings

# Importing the strategies registers the hypothesis profiles dev, ci and nightly; the plugin's
# --hypothesis-profile (default: the config's, ci) selects one.
from conformance.strategies import BodyStrategies


@pytest.fixture
def body_strategies(target: Any) -> BodyStrategies:
    skills = {skill for agent in target.agents for skill in agent.skills}
    return BodyStrategies(target.profile, [agent.id for agent in target.agents], skills)


def pytest_configure(config: pytest.Config) -> None:
    """Load the selected hypothesis profile before the test modules are imported: @given takes its
    settings (health checks included) when it decorates."""
    from conformance.pytest_plugin import gws_config

    name = config.getoption("--hypothesis-profile", None) or gws_config(config).hypothesis_profile
    settings.load_profile(name)
