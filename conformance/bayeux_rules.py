"""Bayeux 1.0's own rules for the replies of a server, as pure checks: (requests, replies) -> problems.

Written once from the Bayeux 1.0 specification (section 3, message fields; section 4, meta messages)
and applied by the suite's Bayeux client to every response it reads. No I/O, no state.

What each reply must carry (MUST) and the types of what it may carry (MAY):

- /meta/handshake, successful: MUST channel, successful, version, supportedConnectionTypes, clientId;
  MAY minimumVersion, advice, ext, id, authSuccessful.
- /meta/handshake, refused: MUST channel, successful, error; MAY supportedConnectionTypes, advice,
  version, minimumVersion, ext, id.
- /meta/connect: MUST channel, successful, (clientId); MAY error, advice, ext, id, timestamp.
- /meta/subscribe, /meta/unsubscribe: MUST channel, successful, (clientId), subscription; MAY error,
  advice, ext, id, timestamp.
- /meta/disconnect: MUST channel, successful, (clientId); MAY error, ext, id.
- a publish's reply (any other channel): MUST channel, successful; MAY id, error, ext.
- a delivered message: MUST channel, data; MAY id, clientId, ext, advice.

Where this module is lenient, on purpose: Bayeux 1.0 asks for the clientId in every meta reply, but
the official CometD server (tests/harness/node, the independent peer these rules are checked against)
leaves it out of connect, subscribe, unsubscribe and disconnect replies, so there it is judged only
when present (it must be the request's); a refused meta request need not echo `subscription`; unknown
fields are allowed (Bayeux lets extensions add them). Where it reads the specification strictly: a
reply's `id` is the request's `id` (the client sends one on every message, to correlate), a reply's
`clientId` is the one the request named, and every meta request of a batch gets its reply in the
same response.

Each problem is one line that names the rule and never the changing values (ids, clientIds), so the
same broken rule reads the same in every reply; the reply itself is the evidence, kept by the caller.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from conformance.protocol.bayeux import (
    CONNECT,
    DISCONNECT,
    HANDSHAKE,
    META_PREFIX,
    SUBSCRIBE,
    UNSUBSCRIBE,
)

Message = dict[str, Any]

META_CHANNELS = (HANDSHAKE, CONNECT, SUBSCRIBE, UNSUBSCRIBE, DISCONNECT)
RECONNECT_VALUES = ("retry", "handshake", "none")
# error = error_code ":" [error_args] ":" error_message; error_code = 3 digits (section 3.14)
ERROR_FORMAT = re.compile(r"\d{3}:[^:]*:.*", re.DOTALL)
# version = integer *( "." version_element ); version_element = alphanum *( alphanum | "-" | "_" )
VERSION_FORMAT = re.compile(r"\d+(\.[A-Za-z0-9][A-Za-z0-9_-]*)*")


def _is_int(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and float(value).is_integer()


def advice_problems(advice: object, where: str) -> list[str]:
    """Section 3.6: an object; reconnect one of retry/handshake/none; timeout and interval
    non-negative integers (ms); multiple-clients a boolean; hosts an array of strings."""
    if not isinstance(advice, dict):
        return [f"{where}: advice is not an object"]
    problems: list[str] = []
    if "reconnect" in advice and advice["reconnect"] not in RECONNECT_VALUES:
        problems.append(f"{where}: advice.reconnect is not one of {'/'.join(RECONNECT_VALUES)}")
    for key in ("timeout", "interval"):
        if key in advice and not (_is_int(advice[key]) and advice[key] >= 0):
            problems.append(f"{where}: advice.{key} is not a non-negative integer")
    if "multiple-clients" in advice and not isinstance(advice["multiple-clients"], bool):
        problems.append(f"{where}: advice.multiple-clients is not a boolean")
    hosts = advice.get("hosts")
    if "hosts" in advice and not (isinstance(hosts, list) and all(isinstance(h, str) for h in hosts)):
        problems.append(f"{where}: advice.hosts is not an array of strings")
    return problems


def _common(reply: Message, where: str) -> list[str]:
    """The fields any message may carry, by type."""
    problems: list[str] = []
    if "error" in reply and not (isinstance(reply["error"], str) and ERROR_FORMAT.fullmatch(reply["error"])):
        problems.append(f'{where}: error is not "code:args:message" with a three-digit code')
    if "advice" in reply:
        problems.extend(advice_problems(reply["advice"], where))
    if "ext" in reply and not isinstance(reply["ext"], dict):
        problems.append(f"{where}: ext is not an object")
    if "timestamp" in reply and not isinstance(reply["timestamp"], str):
        problems.append(f"{where}: timestamp is not a string")
    if "clientId" in reply and not (isinstance(reply["clientId"], str) and reply["clientId"]):
        problems.append(f"{where}: clientId is not a non-empty string")
    return problems


def _version(value: object) -> bool:
    return isinstance(value, str) and VERSION_FORMAT.fullmatch(value) is not None


def _types(value: object) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(t, str) for t in value)


def reply_problems(request: Message, reply: Message) -> list[str]:
    """What is wrong with `reply` as the answer to `request` (a message the client sent)."""
    channel = request.get("channel")
    where = f"{channel} reply"
    problems = _common(reply, where)
    if reply.get("channel") != channel:
        problems.append(f"{where}: channel is not the request's")
    successful = reply.get("successful")
    if not isinstance(successful, bool):
        problems.append(f"{where}: successful is missing or not a boolean")
    if "id" in request and reply.get("id") != request["id"]:
        problems.append(f"{where}: id is not the request's id" if "id" in reply else f"{where}: no id")
    if channel == HANDSHAKE:
        problems.extend(_handshake(request, reply, successful is True, where))
        return problems
    if (
        channel in (CONNECT, SUBSCRIBE, UNSUBSCRIBE, DISCONNECT)
        and successful is True
        and "clientId" in reply
        and reply["clientId"] != request.get("clientId")
    ):
        problems.append(f"{where}: clientId is not the request's")
    if channel in (SUBSCRIBE, UNSUBSCRIBE):
        if successful is True and "subscription" not in reply:
            problems.append(f"{where}: no subscription")
        elif "subscription" in reply and reply["subscription"] != request.get("subscription"):
            problems.append(f"{where}: subscription is not the request's")
    return problems


def _handshake(request: Message, reply: Message, successful: bool, where: str) -> list[str]:
    problems: list[str] = []
    if successful:
        for key in ("version", "supportedConnectionTypes", "clientId"):
            if key not in reply:
                problems.append(f"{where}: no {key}")
    elif "error" not in reply:
        problems.append(f"{where}: refused without an error")
    if "version" in reply and not _version(reply["version"]):
        problems.append(f"{where}: version is not a Bayeux version string")
    if "minimumVersion" in reply and not _version(reply["minimumVersion"]):
        problems.append(f"{where}: minimumVersion is not a Bayeux version string")
    # (whether it shares a type with the client's is not judged: CometD accepts a handshake offering
    # none of its own; the profile's long-polling is NOTIFY-01's own test)
    if "supportedConnectionTypes" in reply and not _types(reply["supportedConnectionTypes"]):
        problems.append(f"{where}: supportedConnectionTypes is not a non-empty array of strings")
    if "authSuccessful" in reply and not isinstance(reply["authSuccessful"], bool):
        problems.append(f"{where}: authSuccessful is not a boolean")
    return problems


def delivery_problems(message: Message) -> list[str]:
    """A message the server delivers on a channel of the application."""
    where = f"message on {message.get('channel')}"
    problems = _common(message, where)
    if "data" not in message:
        problems.append(f"{where}: no data")
    return problems


def _judged(message: object) -> bool:
    """A request whose reply the rules can judge: an object naming a channel."""
    return isinstance(message, dict) and isinstance(message.get("channel"), str) and bool(message["channel"])


def _server_disconnect(message: Message) -> bool:
    """A /meta/disconnect the client did not send: how the official CometD server tells a long-poll
    that it removed the client's session (successful, no id); the next request then gets a 402."""
    return message.get("channel") == DISCONNECT and message.get("successful") is True and "id" not in message


def response_problems(requests: Sequence[object], replies: Sequence[Message]) -> list[str]:
    """Everything wrong with one HTTP response's messages (`replies`) as the answer to the batch
    `requests`. A reply is paired with its request by id, else with the next unanswered request of its
    channel. Problems are unique, in the order found."""
    pending: list[Message] = [m for m in requests if isinstance(m, dict) and _judged(m)]
    problems: list[str] = []
    for message in replies:
        channel = message.get("channel")
        if not isinstance(channel, str) or not channel:
            problems.append("a message without a channel")
            continue
        request = _pair(pending, message)
        if request is not None:
            pending.remove(request)
            problems.extend(reply_problems(request, message))
        elif _server_disconnect(message):
            continue  # the server ended the session (CometD says so with an unasked /meta/disconnect)
        elif channel.startswith(META_PREFIX) or ("successful" in message and "data" not in message):
            problems.append(f"{channel} reply to no request of the batch")
        else:
            problems.extend(delivery_problems(message))
    for request in pending:
        if request["channel"] in META_CHANNELS:
            problems.append(f"{request['channel']} request got no reply")
    return list(dict.fromkeys(problems))


def _pair(pending: list[Message], reply: Message) -> Message | None:
    channel = str(reply.get("channel"))
    same = [r for r in pending if r.get("channel") == channel]
    if not same:
        return None
    if not channel.startswith(META_PREFIX) and "successful" not in reply:
        return None  # a delivery on a channel the client also published to
    by_id = next((r for r in same if "id" in reply and r.get("id") == reply["id"]), None)
    return by_id or same[0]
