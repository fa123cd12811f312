"""Helpers for the agent-API suites: paths built from the profile, interaction snapshots."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest
import pytest_asyncio

from conformance.actors import TAG_KEY, Agent, Customer
from conformance.client import Reply
from conformance.protocol import Profile


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


def snapshot(reply: Reply) -> Any:
    """What a GET of an interaction says, for before/after comparison (STATUS-05)."""
    return (reply.http_status, reply.body)


@pytest.fixture
def profile(target: Any) -> Profile:
    return target.profile


@dataclass
class StartedChat:
    """A customer's chat started by a test itself (for routing checks the state fixtures cannot make)."""

    tag: str
    customer: Customer
    id: str = ""

    @property
    def tag_pair(self) -> tuple[str, str]:
        return (TAG_KEY, self.tag)


StartChat = Callable[..., Awaitable[StartedChat]]


@pytest_asyncio.fixture
async def start_chat(make_customer: Any) -> AsyncIterator[StartChat]:
    """start_chat(route_to=agent, then_skill=None, wait=True): a customer starts a tagged chat routed to
    `agent` (then to `then_skill`); with wait, the agent's invitation is awaited and its id kept.
    Teardown: the customer disconnects (withdrawing what is still pending) and closes."""
    started: list[StartedChat] = []

    async def start(route_to: Agent, then_skill: str | None = None, wait: bool = True) -> StartedChat:
        customer: Customer = make_customer()
        chat = StartedChat(f"api-{uuid.uuid4().hex[:12]}", customer)
        started.append(chat)
        await customer.start(route_to_agent=route_to.spec.username, route_to_skill=then_skill, tag=chat.tag)
        if wait:
            chat.id = await route_to.wait_invitation(chat.tag)
        return chat

    yield start
    for chat in started:
        with contextlib.suppress(Exception):
            await chat.customer.client.disconnect()
        with contextlib.suppress(Exception):
            await chat.customer.aclose()
