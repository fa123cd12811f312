"""Every flow checks every view of its chats after every step (`watch_views`): each agent's list,
`?fields=*` and GET of each interaction against its notifications, and each customer's transcript
against the messages the agents received (conformance.views)."""

from collections.abc import Iterator

import pytest

from conformance.api import ChatBook, watch_views


@pytest.fixture(autouse=True)
def views_after_every_step(chats: ChatBook) -> Iterator[None]:
    with watch_views(chats):
        yield
