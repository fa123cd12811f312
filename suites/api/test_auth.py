"""Section 1: authentication, CSRF, and one agent's interactions hidden from the others."""

from __future__ import annotations

import json
import re

import pytest

from conformance.api import (
    Operation,
    Status,
    expect,
)

USER_FIELDS = ("id", "userName", "firstName", "lastName", "uri")
LEAKS = re.compile(r"Traceback|\bFile \"|\.py\b|/usr/|/home/|site-packages|\bat [\w.$]+\(", re.I)


@pytest.mark.requirement("AUTH-01")
async def test_me_with_valid_credentials_returns_the_user(agent_a, paths):
    reply = await agent_a.client.get(paths.me)
    expect.success(reply, "AUTH-01")
    user = (reply.body or {}).get("user")
    expect.that(isinstance(user, dict), "AUTH-01", "a user object", reply.body)
    missing = [k for k in USER_FIELDS if not isinstance(user.get(k), str) or not user.get(k)]
    expect.that(not missing, "AUTH-01", f"user with non-empty string {', '.join(USER_FIELDS)}", user)
    expect.that(
        user["userName"] == agent_a.account.username, "AUTH-01", agent_a.account.username, user["userName"]
    )
    expect.that(user["id"] == agent_a.account.id, "AUTH-01", f"id {agent_a.account.id}", user["id"])


def _endpoints(paths, interaction_id: str) -> list[tuple[str, str]]:
    return [
        ("GET", paths.me),
        ("POST", paths.me),
        ("GET", paths.interactions),
        ("GET", paths.interaction(interaction_id)),
        ("POST", paths.interaction(interaction_id)),
        ("POST", paths.channel(paths.profile.media)),
    ]


@pytest.mark.requirement("AUTH-02")
@pytest.mark.parametrize("who", ["wrong-password", "unknown-user", "unknown-user-near-miss"])
async def test_every_endpoint_with_bad_credentials_answers_401(who, accepted_chat, paths, profile):
    agent = accepted_chat.owner
    # The near miss is the agent's user name less its last character, with the agent's password: a
    # prefix, sorting just before it (a server matching names by prefix or by order would let it in).
    credentials = {
        "wrong-password": (agent.account.username, "not-" + agent.account.password),
        "unknown-user": ("no-such-user-x", agent.account.password),
        "unknown-user-near-miss": (agent.account.username[:-1] or "0", agent.account.password),
    }[who]
    body = json.dumps(agent.client.body(Operation.SEND_MESSAGE, {"text": "x"})).encode()
    since = agent.notifications.mark()
    for method, path in _endpoints(paths, accepted_chat.id):
        # The valid session cookie goes along: Basic credentials, when sent, always decide.
        reply = await agent.client.request(method, path, body if method == "POST" else None, auth=credentials)
        expect.that(
            reply.http_status == 401,
            "AUTH-02",
            f"HTTP 401 for {method} {path}",
            f"HTTP {reply.http_status} {reply.text[:200]!r}",
        )
    await expect.nothing_about(agent, accepted_chat.id, "AUTH-02", since=since)


@pytest.mark.requirement("AUTH-02")
async def test_request_without_any_credentials_answers_401(accepted_chat, paths):
    agent = accepted_chat.owner
    for method, path in _endpoints(paths, accepted_chat.id):
        reply = await agent.client.request(method, path, b"{}" if method == "POST" else None, auth="none")
        expect.that(
            reply.http_status == 401,
            "AUTH-02",
            f"HTTP 401 for {method} {path} without credentials",
            f"HTTP {reply.http_status} {reply.text[:200]!r}",
        )


@pytest.mark.requirement("AUTH-03")
@pytest.mark.parametrize("token", ["absent", "wrong"])
async def test_send_message_without_csrf_token_is_refused_and_changes_nothing(
    token, accepted_chat, paths, target, profile
):
    if not target.csrf:
        pytest.skip("the target does not enforce CSRF tokens (csrf = false)")
    agent = accepted_chat.owner
    before = await agent.client.get_interaction(accepted_chat.id)
    since = agent.notifications.mark()
    body = agent.client.body(Operation.SEND_MESSAGE, {"text": "must not be delivered"})
    headers = {agent.client.csrf_header: "not-the-token"} if token == "wrong" else None
    reply = await agent.client.post_json(
        paths.interaction(accepted_chat.id), body, csrf=False, headers=headers
    )
    expect.that(
        reply.http_status == 403, "AUTH-03", "HTTP 403", f"HTTP {reply.http_status} {reply.text[:200]!r}"
    )
    expect.that(reply.body is None, "AUTH-03", "a plain-text body", reply.text[:200])
    await expect.nothing_about(agent, accepted_chat.id, "AUTH-03", since=since)
    after = await agent.client.get_interaction(accepted_chat.id)
    expect.that(after.body == before.body, "AUTH-03", before.body, after.body)


def _reveals(text: str, others: list[str]) -> str | None:
    if len(text.encode("utf-8")) > 512:
        return f"{len(text.encode('utf-8'))} bytes"
    if LEAKS.search(text):
        return "a stack trace or file path"
    named = [name for name in others if re.search(rf"\b{re.escape(name)}\b", text)]
    return f"other user names {named}" if named else None


@pytest.mark.requirement("AUTH-04")
async def test_auth_error_bodies_reveal_nothing(agent_a, agents, paths, target, profile):
    limit = profile.limits.max_auth_error_body_bytes
    others = [a.account.username for a in agents if a.account.username != agent_a.account.username]
    replies = [
        await agent_a.client.get(paths.me, auth=(agent_a.account.username, "wrong-password")),
        await agent_a.client.get(paths.me, auth=("no-such-user-x", "wrong-password")),
        await agent_a.client.get(paths.interactions, auth="none"),
    ]
    if target.csrf:
        replies.append(await agent_a.client.post_json(paths.me, {}, csrf=False))
    refusals = [r for r in replies if r.http_status in (401, 403)]  # the codes themselves are AUTH-02/03's
    expect.that(bool(refusals), "AUTH-04", "401 or 403 refusals to inspect", [r.http_status for r in replies])
    for reply in refusals:
        size = len(reply.text.encode("utf-8"))
        expect.that(size <= limit, "AUTH-04", f"at most {limit} bytes", f"{size} bytes")
        reason = _reveals(reply.text, others)
        expect.that(reason is None, "AUTH-04", "a body revealing nothing", f"{reason}: {reply.text[:300]!r}")


@pytest.mark.requirement("AUTH-05")
async def test_other_agent_cannot_read_or_operate_the_interaction(accepted_chat, agent_b):
    owner = accepted_chat.owner
    before = await owner.client.get_interaction(accepted_chat.id)
    since = owner.notifications.mark()
    read = await agent_b.client.get_interaction(accepted_chat.id)
    expect.failure(read, "AUTH-05", Status.NOT_FOUND, agent_b.profile)
    for op, fields in (
        (Operation.SEND_MESSAGE, {"text": "intruder"}),
        (Operation.STOP_PROCESSING, {}),
        (Operation.REQUEST_CHAT_HISTORY, {}),
    ):
        reply = await agent_b.client.perform(accepted_chat.id, op, **fields)
        expect.failure(reply, "AUTH-05", Status.NOT_FOUND, agent_b.profile)
    await expect.nothing_about(owner, accepted_chat.id, "AUTH-05", since=since)
    after = await owner.client.get_interaction(accepted_chat.id)
    expect.that(after.body == before.body, "AUTH-05", before.body, after.body)
