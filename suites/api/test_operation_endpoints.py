"""STATUS-03: an operationName the profile knows, sent to an endpoint it does not belong to, is unknown
there (statusCode 2) and changes nothing (found by the mutation score: bench/README.md)."""

from __future__ import annotations

import pytest

from conformance.api import Field, Operation, Status, expect


@pytest.mark.requirement("STATUS-03")
@pytest.mark.parametrize("where", ["ready-to-session", "accept-to-channel", "start-session-to-channel"])
async def test_an_operation_of_another_endpoint_is_unknown_there(where, agent_c, paths, profile):
    path, operation = {
        "ready-to-session": (paths.me, Operation.READY),
        "accept-to-channel": (paths.channel(profile.media), Operation.ACCEPT),
        "start-session-to-channel": (paths.channel(profile.media), Operation.START_SESSION),
    }[where]
    body = {profile.wire(Field.OPERATION): profile.wire(operation)}
    reply = await agent_c.client.post_json(path, body)
    if reply.status_code == 0:  # the server acted on it: put the agent back as the other tests need it
        await agent_c.client.start_session()
        await agent_c.ready()
    expect.that(reply.http_status < 500, "STATUS-06", "no 5xx", f"HTTP {reply.http_status} {reply.text[:99]}")
    expect.failure(reply, "STATUS-03", Status.INVALID_PARAMETER, profile)
