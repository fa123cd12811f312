"""Section 2: return values, the error precedence list, and robustness against malformed bodies."""

from __future__ import annotations

import json

import pytest

from conformance.api import (
    AgentClient,
    Field,
    Operation,
    Reply,
    RequestHung,
    Status,
    expect,
)

MISSING, INVALID, NOT_FOUND = Status.MISSING_PARAMETER, Status.INVALID_PARAMETER, Status.NOT_FOUND


def _op(profile, op: Operation, **fields: object) -> dict[str, object]:
    body: dict[str, object] = {profile.wire(Field.OPERATION): profile.wire(op)}
    body.update({profile.wire(Field(k)): v for k, v in fields.items()})
    return body


def _raw(obj: object) -> bytes:
    return json.dumps(obj, ensure_ascii=True).encode("ascii")


def _send_message_with(profile, text_json: str) -> bytes:
    """A SendMessage body whose text is the given JSON text (for values json.dumps cannot spell)."""
    op, text = profile.wire(Field.OPERATION), profile.wire(Field.TEXT)
    return f'{{"{op}": "{profile.wire(Operation.SEND_MESSAGE)}", "{text}": {text_json}}}'.encode()


async def _answer(agent, method: str, path: str, body: bytes | None, requirement: str, **kw) -> Reply:
    """The reply, or a NonConformance when this request hangs while the server answers others; an
    unreachable or unavailable target stays an ERROR (TargetUnreachable)."""
    try:
        return await agent.client.request_or_hang(method, path, body, **kw)
    except RequestHung as err:
        expect.that(False, requirement, "an answer within the target's timeout", str(err))
        raise


# ---- STATUS-01 / STATUS-02 -------------------------------------------------------------------------


@pytest.mark.requirement("STATUS-01")
async def test_successful_replies_have_status_code_zero_and_no_message(accepted_chat, paths):
    agent = accepted_chat.owner
    replies = [
        await agent.client.get(paths.me),
        await agent.client.list_interactions(),
        await agent.client.get_interaction(accepted_chat.id),
        await agent.client.perform(accepted_chat.id, Operation.SEND_MESSAGE, text="status check"),
        await agent.client.perform(accepted_chat.id, Operation.REQUEST_CHAT_HISTORY),
    ]
    for reply in replies:
        _plain_success(reply)


@pytest.mark.requirement("STATUS-01")
async def test_login_and_session_start_succeed_plainly(target, transcript):
    """Needs no opened agent, so a server whose every success is malformed fails here, not in a fixture."""
    spec = target.agents[0]
    client = AgentClient(
        target.base_url,
        spec.username,
        spec.password,
        target.profile,
        transcript,
        target.timeout_s,
        verify_tls=target.verify_tls,
        csrf=target.csrf,
        actor=spec.username,
    )
    try:
        replies = [await client.login(), await client.start_session()]
    finally:
        await client.aclose()
    for reply in replies:
        _plain_success(reply)


def _plain_success(reply: Reply) -> None:
    expect.that(reply.http_status == 200, "STATUS-01", "HTTP 200", reply.http_status)
    expect.that(reply.status_code == 0, "STATUS-01", "statusCode 0", reply.body)
    expect.that("statusMessage" not in (reply.body or {}), "STATUS-01", "no statusMessage", reply.body)


@pytest.mark.requirement("STATUS-02")
async def test_error_replies_are_exactly_status_code_and_message(accepted_chat, paths, profile):
    agent, text = accepted_chat.owner, profile.wire(Field.TEXT)
    # (reply to a misuse, the requirement that names its refusal)
    replies = [
        (await agent.client.perform("no-such-interaction", Operation.SEND_MESSAGE, text="x"), "STATUS-03"),
        (await agent.client.post_json(paths.interaction(accepted_chat.id), {text: "x"}), "STATUS-03"),
        (await agent.client.perform(accepted_chat.id, "NoSuchOperation"), "STATUS-03"),
        (await agent.client.perform(accepted_chat.id, Operation.ACCEPT), "ACCEPT-04"),
        (await agent.client.perform(accepted_chat.id, Operation.SEND_MESSAGE), "MESSAGE-03"),
        (await agent.client.post_json(paths.unknown(), {}), "STATUS-03"),
    ]
    for reply, refusal in replies:
        # STATUS-02 judges the shape of an error: a misuse that succeeded breaks its refusal's requirement.
        expect.that(reply.status_code != 0, refusal, "the misuse refused", reply.text[:300])
        body = reply.body or {}
        code, message = body.get("statusCode"), body.get("statusMessage")
        expect.that(
            isinstance(code, int) and not isinstance(code, bool) and code > 0,
            "STATUS-02",
            "an integer statusCode > 0",
            reply.text[:300],
        )
        expect.that(
            isinstance(message, str) and message.strip() != "",
            "STATUS-02",
            "a non-empty string statusMessage",
            reply.text[:300],
        )
        expect.that(
            set(body) == {"statusCode", "statusMessage"},
            "STATUS-02",
            "no keys but statusCode and statusMessage",
            sorted(body),
        )


# ---- STATUS-03: fixed misuses of an owner's interaction --------------------------------------------

# (case, body builder(profile) -> bytes, expected status)
MISUSES = {
    "text-missing": (lambda p: _raw(_op(p, Operation.SEND_MESSAGE)), MISSING),
    "text-null": (lambda p: _raw(_op(p, Operation.SEND_MESSAGE, text=None)), INVALID),
    "text-empty": (lambda p: _raw(_op(p, Operation.SEND_MESSAGE, text="")), INVALID),
    "text-number": (lambda p: _raw(_op(p, Operation.SEND_MESSAGE, text=42)), INVALID),
    "text-too-long": (
        lambda p: _raw(_op(p, Operation.SEND_MESSAGE, text="x" * (p.limits.max_text_length + 1))),
        INVALID,
    ),
    "text-lone-surrogate": (lambda p: _send_message_with(p, '"abc\\ud800"'), INVALID),
    "operation-missing": (lambda p: _raw({p.wire(Field.TEXT): "x"}), MISSING),
    "operation-null": (lambda p: _raw({p.wire(Field.OPERATION): None, p.wire(Field.TEXT): "x"}), INVALID),
    "operation-number": (lambda p: _raw({p.wire(Field.OPERATION): 7}), INVALID),
    "operation-unknown": (lambda p: _raw({p.wire(Field.OPERATION): "NoSuchOperation"}), INVALID),
    "operation-not-in-capabilities": (lambda p: _raw(_op(p, Operation.ACCEPT)), INVALID),
    "body-array": (lambda p: _raw([_op(p, Operation.SEND_MESSAGE, text="x")]), MISSING),
    "body-string": (lambda p: b'"SendMessage"', MISSING),
    "body-null": (lambda p: b"null", MISSING),
    "body-empty": (lambda p: b"", MISSING),
    "not-json": (lambda p: b"operationName=SendMessage&text=x", MISSING),
    "not-utf8": (lambda p: _send_message_with(p, '"x"').replace(b'"x"', b'"\xff\xfe"'), MISSING),
    "duplicate-keys-last-counts": (
        lambda p: (
            f'{{"{p.wire(Field.OPERATION)}": "NoSuchOperation", '
            f'"{p.wire(Field.OPERATION)}": "{p.wire(Operation.SEND_MESSAGE)}"}}'.encode()
        ),
        MISSING,
    ),
    "extra-fields-ignored": (
        lambda p: _raw({**_op(p, Operation.SEND_MESSAGE), "x-extra": None, "": [{}]}),
        MISSING,
    ),
    "event-id-float": (lambda p: _raw(_op(p, Operation.REQUEST_CHAT_HISTORY, event_id=1.0)), INVALID),
    "event-id-bool": (lambda p: _raw(_op(p, Operation.REQUEST_CHAT_HISTORY, event_id=True)), INVALID),
}


@pytest.mark.requirement("STATUS-03")
@pytest.mark.parametrize("case", list(MISUSES))
async def test_misuse_of_an_interaction_fails_with_the_documented_code(case, accepted_chat, paths, profile):
    build, status = MISUSES[case]
    reply = await accepted_chat.owner.client.post_json(paths.interaction(accepted_chat.id), build(profile))
    # A 5xx is the server breaking down on the body (STATUS-06), not a misuse's code.
    expect.that(reply.http_status < 500, "STATUS-06", "no 5xx", f"HTTP {reply.http_status} {reply.text[:99]}")
    expect.failure(reply, "STATUS-03", status, profile)


# Misuses of POST /api/v2/me (section 4's StartContactCenterSession, section 2's codes): `channels` is a
# list of strings when present.
SESSION_MISUSES = {
    "channels-not-a-list": (lambda p: _raw(_op(p, Operation.START_SESSION, channels=p.media)), INVALID),
    "channel-not-a-string": (lambda p: _raw(_op(p, Operation.START_SESSION, channels=[p.media, 7])), INVALID),
    "channels-null": (lambda p: _raw(_op(p, Operation.START_SESSION, channels=None)), INVALID),
    "operation-missing": (lambda p: _raw({p.wire(Field.CHANNELS): [p.media]}), MISSING),
    "operation-unknown": (lambda p: _raw({p.wire(Field.OPERATION): "NoSuchOperation"}), INVALID),
    "body-array": (lambda p: _raw([_op(p, Operation.START_SESSION)]), MISSING),
}


@pytest.mark.requirement("STATUS-03")
@pytest.mark.parametrize("case", list(SESSION_MISUSES))
async def test_misuse_of_the_session_fails_with_the_documented_code(case, agent_a, paths, profile):
    build, status = SESSION_MISUSES[case]
    reply = await agent_a.client.post_json(paths.me, build(profile))
    expect.that(reply.http_status < 500, "STATUS-06", "no 5xx", f"HTTP {reply.http_status} {reply.text[:99]}")
    expect.failure(reply, "STATUS-03", status, profile)


@pytest.mark.requirement("STATUS-03")
@pytest.mark.parametrize(
    "where", ["unknown-path", "unknown-channel", "unknown-channel-near-miss", "put", "delete", "get-channel"]
)
async def test_unknown_path_or_method_fails_with_not_found(where, accepted_chat, paths, profile):
    agent = accepted_chat.owner
    body = b"not json at all"  # unknown paths answer before the body is looked at
    media = paths.profile.media
    method, path = {
        "unknown-path": ("POST", paths.unknown()),
        "unknown-channel": ("POST", paths.channel("no-such-channel")),
        # The chat channel's name less its last character: a prefix, sorting just before it.
        "unknown-channel-near-miss": ("POST", paths.channel(media[:-1] or "0")),
        "put": ("PUT", paths.interaction(accepted_chat.id)),
        "delete": ("DELETE", paths.interaction(accepted_chat.id)),
        "get-channel": ("GET", paths.channel(paths.profile.media)),
    }[where]
    reply = await agent.client.request(method, path, body)
    expect.failure(reply, "STATUS-03", NOT_FOUND, profile)


# ---- STATUS-03: the error precedence list ----------------------------------------------------------


@pytest.mark.requirement("STATUS-03")
async def test_bad_credentials_decide_before_csrf_and_body(accepted_chat, paths):
    agent = accepted_chat.owner
    # The premise, AUTH-02's: wrong Basic credentials get 401 even with the valid session cookie.
    plain = await agent.client.request("GET", paths.me, auth=(agent.account.username, "wrong-password"))
    expect.that(plain.http_status == 401, "AUTH-02", "HTTP 401 for a wrong password", plain.http_status)
    reply = await agent.client.request(
        "POST",
        paths.interaction(accepted_chat.id),
        b"[not json",
        csrf=False,
        auth=(agent.account.username, "wrong-password"),
    )
    expect.that(reply.http_status == 401, "STATUS-03", "HTTP 401", reply.http_status)


@pytest.mark.requirement("STATUS-03")
async def test_missing_csrf_decides_before_body(accepted_chat, paths, target):
    if not target.csrf:
        pytest.skip("the target does not enforce CSRF tokens (csrf = false)")
    reply = await accepted_chat.owner.client.request("POST", paths.unknown(), b"[not json", csrf=False)
    expect.that(reply.http_status == 403, "STATUS-03", "HTTP 403", reply.http_status)


PRECEDENCE = {
    # case: (interaction: "own" | "unknown", body builder, expected)
    "not-json-before-unknown-interaction": ("unknown", lambda p: b"{not json", MISSING),
    "not-object-before-unknown-interaction": ("unknown", lambda p: b"[]", MISSING),
    "unknown-interaction-before-missing-operation": ("unknown", lambda p: _raw({}), NOT_FOUND),
    "unknown-interaction-before-unknown-operation": (
        "unknown",
        lambda p: _raw({p.wire(Field.OPERATION): "NoSuchOperation"}),
        NOT_FOUND,
    ),
    "unknown-interaction-before-invalid-text": (
        "unknown",
        lambda p: _raw(_op(p, Operation.SEND_MESSAGE, text="")),
        NOT_FOUND,
    ),
    "missing-operation-before-invalid-text": ("own", lambda p: _raw({p.wire(Field.TEXT): ""}), MISSING),
    "unknown-operation-before-missing-text": (
        "own",
        lambda p: _raw({p.wire(Field.OPERATION): "Nope"}),
        INVALID,
    ),
    "capabilities-before-missing-parameter": (
        "own",
        lambda p: _raw(_op(p, Operation.COMPLETE_TRANSFER)),
        INVALID,
    ),
}


@pytest.mark.requirement("STATUS-03")
@pytest.mark.parametrize("case", list(PRECEDENCE))
async def test_first_applicable_error_decides_the_code(case, accepted_chat, paths, profile):
    which, build, status = PRECEDENCE[case]
    interaction = accepted_chat.id if which == "own" else "no-such-interaction-0"
    reply = await accepted_chat.owner.client.post_json(paths.interaction(interaction), build(profile))
    expect.failure(reply, "STATUS-03", status, profile)


@pytest.mark.requirement("STATUS-03")
async def test_operation_outside_capabilities_decides_before_missing_parameter(invited_chat, paths, profile):
    # Invited: SendMessage is not a capability, and its text is missing too: the capability decides.
    reply = await invited_chat.owner.client.post_json(
        paths.interaction(invited_chat.id), _op(profile, Operation.SEND_MESSAGE)
    )
    expect.failure(reply, "STATUS-03", INVALID, profile)


# ---- STATUS-04 -------------------------------------------------------------------------------------


@pytest.mark.requirement("STATUS-04")
@pytest.mark.parametrize("case", ["text-missing", "operation-unknown", "unknown-interaction", "unknown-path"])
async def test_error_http_status_matches_the_profile_table(case, accepted_chat, paths, profile):
    agent = accepted_chat.owner
    if case == "unknown-interaction":
        reply = await agent.client.perform("no-such-interaction-0", Operation.SEND_MESSAGE, text="x")
    elif case == "unknown-path":
        reply = await agent.client.post_json(paths.unknown(), {})
    else:
        reply = await agent.client.post_json(paths.interaction(accepted_chat.id), MISUSES[case][0](profile))
    code = reply.status_code
    expect.that(code is not None and code > 0, "STATUS-04", "an error statusCode", reply.text[:200])
    wanted = profile.http_status(code)
    expect.that(
        reply.http_status == wanted,
        "STATUS-04",
        f"HTTP {wanted} for statusCode {code}",
        f"HTTP {reply.http_status}",
    )


# ---- STATUS-05 -------------------------------------------------------------------------------------


@pytest.mark.requirement("STATUS-03", "STATUS-05")
async def test_refused_send_message_changes_nothing(accepted_chat, profile):
    agent, chat = accepted_chat.owner, accepted_chat
    before = await agent.client.get_interaction(chat.id)
    since = agent.notifications.mark()
    reply = await agent.client.perform(
        chat.id, Operation.SEND_MESSAGE, text="y" * (profile.limits.max_text_length + 1)
    )
    expect.failure(reply, "STATUS-03", INVALID, profile)
    await expect.nothing_about(agent, chat.id, "STATUS-05", since=since)
    after = await agent.client.get_interaction(chat.id)
    expect.that(after.body == before.body, "STATUS-05", before.body, after.body)


@pytest.mark.requirement("STATUS-05")
async def test_refused_operations_change_nothing(accepted_chat, agent_a, profile):
    agent, chat = accepted_chat.owner, accepted_chat
    before = await agent.client.get_interaction(chat.id)
    since = agent.notifications.mark()
    # (operation, fields, the requirement that names its refusal): STATUS-05 judges only failed requests
    for op, fields, refusal in (
        (Operation.ACCEPT, {}, "ACCEPT-04"),
        (Operation.REJECT, {}, "REJECT-03"),
        (Operation.COMPLETE_CONFERENCE, {}, "COMPLETE-CONFERENCE-03"),
        (Operation.TRANSFER, {"agent_id": agent.account.id}, "TRANSFER-04"),
        (Operation.INITIATE_CONSULTATION, {"agent_id": "no-such-agent-0"}, "CONSULT-04"),
        (Operation.SEND_NOTIFICATION, {"notification": "Dancing"}, "TYPING-02"),
        (Operation.REQUEST_CHAT_HISTORY, {"event_id": -1}, "HISTORY-03"),
    ):
        reply = await agent.client.perform(chat.id, op, **fields)
        expect.that(reply.status_code not in (None, 0), refusal, f"{op} refused", reply.text[:200])
    await expect.nothing_about(agent, chat.id, "STATUS-05", since=since)
    after = await agent.client.get_interaction(chat.id)
    expect.that(after.body == before.body, "STATUS-05", before.body, after.body)


# ---- STATUS-06: fixed malformed bodies -------------------------------------------------------------


def _deep(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


MALFORMED = {
    "not-json": lambda p: b"\x00\x01 <xml/>",
    "not-utf8": lambda p: b'{"\xc3\x28": "\xa0\xa1"}',
    "utf8-bom": lambda p: b"\xef\xbb\xbf" + _raw(_op(p, Operation.SEND_MESSAGE, text="x")),
    "not-object": lambda p: b"[1, 2, 3]",
    "deep-nesting-array": lambda p: _deep(100_000),
    "deep-nesting-in-text": lambda p: _send_message_with(p, _deep(50_000).decode()),
    "deep-nesting-object": lambda p: b'{"a":' * 20_000 + b"1" + b"}" * 20_000,
    "lone-surrogate-text": lambda p: _send_message_with(p, '"\\udc00"'),
    "lone-surrogate-operation": lambda p: f'{{"{p.wire(Field.OPERATION)}": "\\ud800"}}'.encode(),
    "lone-surrogate-key": lambda p: _raw(_op(p, Operation.SEND_MESSAGE, text="x")).replace(
        b"{", b'{"\\udbff": 1, ', 1
    ),
    "null-values": lambda p: _raw({p.wire(f): None for f in Field}),
    "huge-text": lambda p: _raw(_op(p, Operation.SEND_MESSAGE, text="\U0001f600" * 200_000)),
    "huge-extra-field": lambda p: _raw({**_op(p, Operation.REQUEST_CHAT_HISTORY), "pad": "z" * 1_000_000}),
    "huge-number": lambda p: _send_message_with(p, "9" * 50_000),
    "nan-literal": lambda p: _send_message_with(p, "NaN"),
    "wrong-types-everywhere": lambda p: _raw({p.wire(f): [{"x": [1.5, True]}] for f in Field}),
}


@pytest.mark.requirement("STATUS-06")
@pytest.mark.parametrize("case", list(MALFORMED))
async def test_malformed_body_gets_a_status_code_without_server_error(case, accepted_chat, paths, profile):
    agent = accepted_chat.owner
    reply = await _answer(
        agent, "POST", paths.interaction(accepted_chat.id), MALFORMED[case](profile), "STATUS-06"
    )
    expect.that(reply.http_status < 500, "STATUS-06", "no 5xx", f"HTTP {reply.http_status}")
    expect.that(
        reply.status_code is not None, "STATUS-06", "a JSON body with an integer statusCode", reply.text[:300]
    )


@pytest.mark.requirement("STATUS-06")
@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH", "OPTIONS"])
async def test_unsupported_method_gets_a_status_code_without_server_error(method, paths, agent_a):
    reply = await _answer(agent_a, method, paths.me, b"\xff{", "STATUS-06")
    expect.that(reply.http_status < 500, "STATUS-06", "no 5xx", f"HTTP {reply.http_status}")
    expect.that(reply.status_code is not None, "STATUS-06", "a statusCode", reply.text[:300])
