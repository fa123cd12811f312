"""The agent-API suites' own fixture: paths built from the profile."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from conformance.api import Profile


@dataclass(frozen=True)
class Paths:
    """Agent API paths, spelled by the profile (never by the tests)."""

    profile: Profile

    @property
    def prefix(self) -> str:
        return self.profile.http.api_prefix

    @property
    def me(self) -> str:
        return f"{self.prefix}/me"

    @property
    def interactions(self) -> str:
        return f"{self.prefix}/me/interactions"

    def interaction(self, interaction_id: str) -> str:
        return f"{self.interactions}/{interaction_id}"

    def channel(self, name: str) -> str:
        return f"{self.prefix}/me/channels/{name}"

    @property
    def notifications(self) -> str:
        return self.profile.http.notifications_path

    def unknown(self) -> str:
        return f"{self.prefix}/me/no-such-resource"


@pytest.fixture
def paths(profile: Profile) -> Paths:
    return Paths(profile)
