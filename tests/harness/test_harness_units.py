"""Unit tests of the harness: redaction, predicates, waits, the must layer."""

from __future__ import annotations

import asyncio
import base64

import pytest

from conformance import expect, match
from conformance.client import Reply
from conformance.expect import NonConformance
from conformance.notifications import EventTimeout, Notification, NotificationLog
from conformance.protocol import DEFAULT_PROFILE, ChatMessageType, Status, load_profile
from conformance.transcript import REDACTED, Transcript

P = DEFAULT_PROFILE


def test_transcript_redacts_secrets_and_secret_headers() -> None:
    t = Transcript()
    t.add_secret("s3cret-pass")
    basic = base64.b64encode(b"alice:s3cret-pass").decode()
    t.add(
        "http",
        "alice",
        "GET /me",
        f"Authorization: Basic {basic}\nX-CSRF-TOKEN: tok123\n"
        "Cookie: JSESSIONID=abc\nSet-Cookie: JSESSIONID=def; Path=/\n\nuserId=1&secureKey=kkk999&alias=x\n"
        '{"secureKey": "zzz777", "password": "s3cret-pass"}',
    )
    out = t.render()
    for secret in ("s3cret-pass", basic, "tok123", "abc", "def", "kkk999", "zzz777"):
        assert secret not in out
    assert REDACTED in out and "alias=x" in out


def _n(seq: int, data: dict) -> Notification:
    return Notification(
        seq, P.wire(__import__("conformance.protocol", fromlist=["Channel"]).Channel.INTERACTIONS), data, 0.0
    )


def test_new_message_predicate_gives_reasons() -> None:
    n = _n(
        0,
        {
            "messageType": "MessageLogUpdated",
            "notificationType": "NewMessages",
            "interactionId": "i1",
            "messages": [
                {
                    "index": 2,
                    "type": "Text",
                    "text": "hi",
                    "visibility": "All",
                    "from": {"participantId": "p", "nickname": "n", "type": "Agent"},
                    "timestamp": "2026-01-01T00:00:00.000Z",
                }
            ],
        },
    )
    assert match.new_message(P, "i1", ChatMessageType.TEXT, "hi")(n) is None
    assert "text is" in (match.new_message(P, "i1", text="bye")(n) or "")
    assert "about interaction" in (match.new_message(P, "i2")(n) or "")
    assert match.notification_shape(P, n) is None
    bad = _n(1, {**n.data, "messages": [{**n.data["messages"][0], "timestamp": "2026-01-01T00:00:00+00:00"}]})
    assert "timestamp" in (match.notification_shape(P, bad) or "")


def test_error_and_success_shapes() -> None:
    assert match.error_shape(Reply(400, {"statusCode": 2, "statusMessage": "x"}, "")) is None
    assert "other keys" in (
        match.error_shape(Reply(400, {"statusCode": 2, "statusMessage": "x", "k": 1}, "")) or ""
    )
    assert "statusMessage" in (
        match.success_shape(Reply(200, {"statusCode": 0, "statusMessage": "OK"}, "")) or ""
    )


async def test_wait_for_is_woken_and_times_out_with_reasons() -> None:
    log = NotificationLog(P)
    waiter = asyncio.ensure_future(log.wait_for(lambda n: None if n.data.get("k") == 2 else "not 2", 2.0))
    log.append("/c", {"k": 1})
    log.append("/c", {"k": 2})
    assert (await waiter).seq == 1
    with pytest.raises(EventTimeout) as err:
        await log.wait_for(lambda n: "never", 0.05, since=0, description="impossible")
    assert len(err.value.seen) == 2 and err.value.reasons == ["never", "never"]
    assert "impossible" in str(err.value)


def test_failure_raises_nonconformance_with_fields() -> None:
    with pytest.raises(NonConformance) as err:
        expect.failure(
            Reply(400, {"statusCode": 1, "statusMessage": "m"}, ""), "MESSAGE-03", Status.INVALID_PARAMETER, P
        )
    assert err.value.requirement == "MESSAGE-03" and err.value.level is not None
    assert (
        err.value.level.value == "MUST"
        and "statusCode 2" in err.value.expected
        and err.value.transcript is None
    )
    with pytest.raises(NonConformance) as shape:
        expect.failure(Reply(400, {"statusCode": 2}, ""), "MESSAGE-03", {Status.INVALID_PARAMETER}, P)
    assert shape.value.requirement == "STATUS-02"


def test_failure_judges_codes_by_the_profile_it_is_given(tmp_path) -> None:
    path = tmp_path / "codes.toml"
    path.write_text("[status_codes]\ninvalid_parameter = 12\n[http_status]\n12 = 400\n", encoding="utf-8")
    profile = load_profile(path)
    twelve = Reply(400, {"statusCode": 12, "statusMessage": "m"}, "")
    two = Reply(400, {"statusCode": 2, "statusMessage": "m"}, "")
    assert expect.failure(twelve, "ACCEPT-04", Status.INVALID_PARAMETER, profile) is twelve
    with pytest.raises(NonConformance) as err:
        expect.failure(two, "ACCEPT-04", Status.INVALID_PARAMETER, profile)
    assert "statusCode 12" in err.value.expected
    with pytest.raises(NonConformance):
        expect.failure(twelve, "ACCEPT-04", Status.INVALID_PARAMETER, P)
