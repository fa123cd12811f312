"""Body fuzzing: the strategies for this target (its agent ids and skills are never 'unknown')."""

from __future__ import annotations

from typing import Any

import pytest

from conformance.api import BodyStrategies


@pytest.fixture
def body_strategies(target: Any) -> BodyStrategies:
    skills = {skill for agent in target.agents for skill in agent.skills}
    return BodyStrategies(target.profile, [agent.id for agent in target.agents], skills)

