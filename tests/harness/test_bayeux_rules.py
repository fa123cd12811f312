"""The Bayeux 1.0 rules as pure functions: good replies pass, each broken rule is named."""

from __future__ import annotations

from typing import Any

import pytest

from conformance.bayeux_rules import advice_problems, reply_problems, response_problems

HS = {"channel": "/meta/handshake", "id": "1", "version": "1.0", "supportedConnectionTypes": ["long-polling"]}
HS_OK = {
    "channel": "/meta/handshake",
    "id": "1",
    "successful": True,
    "clientId": "abc",
    "version": "1.0",
    "supportedConnectionTypes": ["long-polling"],
    "advice": {"reconnect": "retry", "interval": 0, "timeout": 30000},
}
SUB = {"channel": "/meta/subscribe", "id": "2", "clientId": "abc", "subscription": "/v2/me/channels"}
SUB_OK = {
    "channel": "/meta/subscribe",
    "id": "2",
    "successful": True,
    "clientId": "abc",
    "subscription": "/v2/me/channels",
}
CONNECT = {"channel": "/meta/connect", "id": "3", "clientId": "abc", "connectionType": "long-polling"}
CONNECT_OK = {
    "channel": "/meta/connect",
    "id": "3",
    "successful": True,
    "clientId": "abc",
    "advice": {"reconnect": "retry", "interval": 0, "timeout": 30000},
}
UNKNOWN = {
    "channel": "/meta/connect",
    "id": "3",
    "successful": False,
    "error": "402::Unknown client",
    "advice": {"reconnect": "handshake", "interval": 0},
}


def without(message: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in message.items() if k != key}


def test_good_replies_pass() -> None:
    assert response_problems([HS], [HS_OK]) == []
    assert (
        response_problems(
            [SUB, CONNECT], [SUB_OK, {"channel": "/v2/me/channels", "data": {}, "id": "9"}, CONNECT_OK]
        )
        == []
    )
    assert response_problems([CONNECT], [UNKNOWN]) == []
    refused = {
        "channel": "/meta/handshake",
        "id": "1",
        "successful": False,
        "error": "403::Authentication required",
        "advice": {"reconnect": "none", "interval": 0},
    }
    assert response_problems([HS], [refused]) == []


@pytest.mark.parametrize(
    ("request_", "reply", "problem"),
    [
        (HS, without(HS_OK, "version"), "/meta/handshake reply: no version"),
        (HS, without(HS_OK, "clientId"), "/meta/handshake reply: no clientId"),
        (
            HS,
            without(HS_OK, "supportedConnectionTypes"),
            "/meta/handshake reply: no supportedConnectionTypes",
        ),
        (
            HS,
            {**HS_OK, "supportedConnectionTypes": "long-polling"},
            "/meta/handshake reply: supportedConnectionTypes is not a non-empty array of strings",
        ),
        (HS, {**HS_OK, "version": 1.0}, "/meta/handshake reply: version is not a Bayeux version string"),
        (
            HS,
            {"channel": "/meta/handshake", "id": "1", "successful": False},
            "/meta/handshake reply: refused without an error",
        ),
        (HS, without(HS_OK, "successful"), "/meta/handshake reply: successful is missing or not a boolean"),
        (
            HS,
            {**HS_OK, "successful": "true"},
            "/meta/handshake reply: successful is missing or not a boolean",
        ),
        (SUB, without(SUB_OK, "subscription"), "/meta/subscribe reply: no subscription"),
        (
            SUB,
            {**SUB_OK, "subscription": "/other"},
            "/meta/subscribe reply: subscription is not the request's",
        ),
        (SUB, {**SUB_OK, "clientId": "xyz"}, "/meta/subscribe reply: clientId is not the request's"),
        (CONNECT, without(CONNECT_OK, "id"), "/meta/connect reply: no id"),
        (CONNECT, {**CONNECT_OK, "id": "4"}, "/meta/connect reply: id is not the request's id"),
        (
            CONNECT,
            {**UNKNOWN, "error": "402 Unknown client"},
            '/meta/connect reply: error is not "code:args:message" with a three-digit code',
        ),
        (
            CONNECT,
            {**UNKNOWN, "error": "402:Unknown client"},
            '/meta/connect reply: error is not "code:args:message" with a three-digit code',
        ),
        (
            CONNECT,
            {**CONNECT_OK, "advice": {"timeout": "30000"}},
            "/meta/connect reply: advice.timeout is not a non-negative integer",
        ),
        (
            CONNECT,
            {**CONNECT_OK, "advice": {"reconnect": "later"}},
            "/meta/connect reply: advice.reconnect is not one of retry/handshake/none",
        ),
        (CONNECT, {**CONNECT_OK, "ext": []}, "/meta/connect reply: ext is not an object"),
    ],
)
def test_each_broken_rule_is_named(request_: dict[str, Any], reply: dict[str, Any], problem: str) -> None:
    assert problem in response_problems([request_], [reply])


def test_a_meta_request_without_its_reply_and_a_reply_without_its_request() -> None:
    assert response_problems([SUB, CONNECT], [CONNECT_OK]) == ["/meta/subscribe request got no reply"]
    assert response_problems([CONNECT], [CONNECT_OK, SUB_OK]) == [
        "/meta/subscribe reply to no request of the batch"
    ]
    assert response_problems([CONNECT], [CONNECT_OK, {"data": {}}]) == ["a message without a channel"]
    assert response_problems([CONNECT], [CONNECT_OK, {"channel": "/v2/me/channels"}]) == [
        "message on /v2/me/channels: no data"
    ]


def test_replies_pair_by_id_then_by_channel_order() -> None:
    second = {**SUB, "id": "5", "subscription": "/v2/me/interactions"}
    replies = [{**SUB_OK, "id": "5", "subscription": "/v2/me/interactions"}, SUB_OK]
    assert response_problems([SUB, second], replies) == []
    assert reply_problems(SUB, SUB_OK) == []


def test_advice_fields_by_type() -> None:
    assert (
        advice_problems(
            {"reconnect": "none", "interval": 0, "timeout": 0, "multiple-clients": True, "hosts": ["h"]}, "x"
        )
        == []
    )
    assert advice_problems([], "x") == ["x: advice is not an object"]
    assert advice_problems({"interval": -1, "multiple-clients": 1, "hosts": "h"}, "x") == [
        "x: advice.interval is not a non-negative integer",
        "x: advice.multiple-clients is not a boolean",
        "x: advice.hosts is not an array of strings",
    ]
