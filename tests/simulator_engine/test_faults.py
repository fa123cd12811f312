"""Every seeded fault of the engine and the customer side produces its deviation, and only with it."""
# ruff: noqa: E501  (the probe table keeps one fault per entry)
# mypy: disable-error-code="arg-type"

from __future__ import annotations

from collections.abc import Callable

import pytest

from conformance.protocol import Channel
from conformance.simulator.faults import FAULTS

from .world import World, caps, first, last, told

Probe = Callable[[World], object]


def code(outcome: object) -> int:
    return outcome.body["statusCode"]  # type: ignore[attr-defined]


def _owned(w: World) -> str:
    return w.owned_chat("a1")[1]


def _invited(w: World) -> str:
    w.ready("a1")
    chat, _ = w.start(RouteToAgent="alice")
    return w.interaction_id(chat)


def _refresh(w: World, chat: object) -> list[tuple[int, str]]:
    return [(m["index"], m["type"]) for m in w.customer(chat, "refresh").body["messages"]]  # type: ignore[arg-type]


def _transfer_history(w: World) -> list[str]:
    iid = _owned(w)
    w.ready("a3")
    w.op("a1", iid, "Transfer", agentId="a3")
    return told(w.op("a3", iid, "Accept"), "a3")


def _typing_then_text(w: World) -> list[str]:
    iid = _owned(w)
    w.op("a1", iid, "SendNotification", notification="TypingStarted")
    return told(w.op("a1", iid, "SendMessage", text="x"), "a1")


def _customer_message_to_others(w: World) -> list[str]:
    chat, _ = w.owned_chat("a1")
    w.ready("a2")
    return told(w.customer(chat, "send", message="hi"), "a2")


def _after_stop(w: World) -> list[str]:
    _chat, iid = w.consulting()
    w.op("a2", iid, "StopProcessing")
    return told(w.op("a1", iid, "SendMessage", text="x"), "a2")


def _conference_message(w: World) -> list[tuple[int, str]]:
    chat, iid = w.consulting()
    w.op("a1", iid, "CompleteConference")
    w.op("a2", iid, "SendMessage", text="x")
    return _refresh(w, chat)


def _consult_join(w: World) -> tuple[list[str], list[str], set[str]]:
    _chat, iid = w.consulting(join=False)
    out = w.op("a2", iid, "Accept")
    return told(out, "a1"), told(out, "a2"), caps(first(out, "a2"))


def _rejected_with_nobody_ready(w: World) -> list[str]:
    iid = _invited(w)  # only a1 Ready
    w.op("a1", iid, "Reject")
    return told(w.ready("a2"), "a2")


def _stopped_view(w: World) -> object:
    iid = _owned(w)
    w.op("a1", iid, "StopProcessing")
    return w.view("a1", iid).get("state")


def _left_consultant(w: World) -> int:
    _chat, iid = w.consulting()
    w.op("a2", iid, "StopProcessing")
    return len(w.view("a1", iid)["participants"])


def _listed_after_stop(w: World) -> object:
    iid = _owned(w)
    w.op("a1", iid, "StopProcessing")
    return w.engine.list_interactions("a1", "http://x", False).body["uris"]


def _full_list_of_invited(w: World) -> object:
    _invited(w)
    return len(w.engine.list_interactions("a1", "http://x", True).body["interactions"])


PROBES: dict[str, Probe] = {
    "view-stale-state": _stopped_view,
    "view-stale-participant": _left_consultant,
    "completed-still-listed": _listed_after_stop,
    "full-list-omits-invited": _full_list_of_invited,
    "view-phantom-participant": lambda w: len(w.view("a1", _invited(w))["participants"]),
    "view-conference-member-completed": lambda w: (lambda c, i: (w.op("a1", i, "CompleteConference"),
                                                                 w.view("a2", i)["state"])[1])(*w.consulting()),
    "view-user-data-missing": lambda w: w.view("a1", _owned(w)).get("userData"),
    "foreign-interaction-visible": lambda w: code(w.engine.get_interaction("a2", _owned(w))),
    "foreign-operation-accepted": lambda w: code(w.engine.session_operation("a1", {"operationName": "Ready"})),
    "unknown-user-by-order": lambda w: w.engine.authenticate("alic", "password"),
    "unknown-channel-by-order": lambda w: code(w.engine.channel_operation("a1", "cha", {"operationName": "Ready"})),
    "session-channels-unchecked": lambda w: code(w.engine.session_operation(
        "a1", {"operationName": "StartContactCenterSession", "channels": [7]})),
    "missing-text-is-invalid": lambda w: code(w.op("a1", _owned(w), "SendMessage")),
    "failed-message-delivered": lambda w: len(w.op("a1", _owned(w), "SendMessage", text="x" * 5000).notifications),
    "customer-listed-after-leaving": lambda w: (lambda c, i: (w.customer(c, "disconnect"),
                                                              len(w.view("a1", i)["participants"]))[1])(
        *w.owned_chat("a1")),
    "timestamp-not-utc": lambda w: w.start()[1].body["messages"][0]["timestamp"],
    "messages-to-all-ready-agents": _customer_message_to_others,
    "ready-not-notified": lambda w: told(w.ready("a1"), "a1", Channel.CHANNELS),
    "not-ready-agent-invited": lambda w: (w.not_ready("a1"), told(w.start()[1], "a1"))[1],
    "rejected-chat-not-requeued": _rejected_with_nobody_ready,
    "end-session-keeps-ready": lambda w: (w.ready("a1"), w.engine.session_operation(
        "a1", {"operationName": "EndContactCenterSession"}), told(w.start()[1], "a1"))[2],
    "end-session-ends-chats": lambda w: (lambda c, i: (w.engine.session_operation(
        "a1", {"operationName": "EndContactCenterSession"}), w.view("a1", i)["state"])[1])(*w.owned_chat("a1")),
    "chats-never-offered": lambda w: (w.ready("a1"), told(w.start()[1], "a1"))[1],
    "unknown-service-accepted": lambda w: code(w.engine.customer_start("no-such-service", {"nickname": "n"})),
    "customer-missing-key-not-found": lambda w: code(w.engine.customer_action(
        "customer-support", (c := w.start()[0]).chat_id, "refresh", {"secureKey": c.secure_key})),
    "credentials-prefix-accepted": lambda w: code(w.engine.customer_action(
        "customer-support", (c := w.start()[0]).chat_id, "refresh",
        {"userId": c.user_id, "secureKey": c.secure_key[:-1]})),
    "alias-required": lambda w: code(w.engine.customer_action(
        "customer-support", (c := w.start()[0]).chat_id, "refresh", {"userId": c.user_id,
                                                                     "secureKey": c.secure_key})),
    "start-answers-no-messages": lambda w: len(w.start()[1].body["messages"]),
    "actions-ignore-position": lambda w: sorted(w.customer(w.start()[0], "send", message="m",
                                                          transcriptPosition="1").body),
    "absent-position-skips-first": lambda w: len(w.customer(w.start()[0], "refresh").body["messages"]),
    "next-position-is-last-index": lambda w: w.customer(w.start()[0], "refresh").body["nextPosition"],
    "customer-disconnect-ignored": lambda w: (lambda c: (w.customer(c, "disconnect"),
                                                         w.customer(c, "refresh").body["chatEnded"]))(w.start()[0]),
    "consultation-leaks-to-customer": lambda w: (lambda c, i: (w.op("a2", i, "SendMessage", text="p"),
                                                               _refresh(w, c))[1])(*w.consulting()),
    "wrong-secure-key-distinct": lambda w: code(w.engine.customer_action(
        "customer-support", (c := w.start()[0]).chat_id, "refresh", {"userId": c.user_id, "secureKey": "no"})),
    "owner-may-reject": lambda w: sorted(w.view("a1", _owned(w))["capabilities"]),
    "transfer-during-consultation": lambda w: (lambda c, i: (w.ready("a3"), code(w.op("a1", i, "Transfer",
                                                                                      agentId="a3")))[1])(
        *w.consulting(join=False)),
    "consultant-history-refused": lambda w: code(w.op("a2", w.consulting()[1], "RequestChatHistory")),
    "reoffer-to-rejecter": lambda w: told(w.op("a1", _invited(w), "Reject"), "a1"),
    "consultant-accepts-as-owner": _consult_join,
    "accept-participants-first": lambda w: told(w.op("a1", _invited(w), "Accept"), "a1"),
    "accept-history-drops-first-text": lambda w: (lambda i: (w.customer(_chat_of(w), "send", message="m"),
                                                             told(w.op("a1", i, "Accept"), "a1"))[1])(_invited(w)),
    "accept-twice": lambda w: code(w.op("a1", _owned(w), "Accept")),
    "empty-nickname-accepted": lambda w: code(w.op("a1", _invited(w), "Accept", nickname="")),
    "reject-not-notified": lambda w: told(w.op("a1", _invited(w), "Reject"), "a1"),
    "reject-after-accept": lambda w: code(w.op("a1", _owned(w), "Reject")),
    "text-stripped": lambda w: last(w.op("a1", _owned(w), "SendMessage", text=" x "), "a1")["messages"][0]["text"],
    "index-reused-after-typing": _typing_then_text,
    "long-text-accepted": lambda w: code(w.op("a1", _owned(w), "SendMessage", text="x" * 4097)),
    "typing-stopped-as-started": lambda w: told(w.op("a1", _owned(w), "SendNotification",
                                                     notification="TypingStopped"), "a1"),
    "any-typing-value": lambda w: code(w.op("a1", _owned(w), "SendNotification", notification="Foo")),
    "transfer-initiator-stays": lambda w: (lambda i: (w.ready("a3"), told(w.op("a1", i, "Transfer", agentId="a3"),
                                                                           "a1"))[1])(_owned(w)),
    "skill-transfer-ignores-skill": lambda w: (lambda i: (w.ready("a3", "a4"), told(w.op(
        "a1", i, "Transfer", skill="billing"), "a4"))[1])(_owned(w)),
    "transfer-history-without-leave": _transfer_history,
    "transfer-to-self": lambda w: code(w.op("a1", _owned(w), "Transfer", agentId="a1")),
    "stop-not-told": lambda w: (lambda c, i: told(w.op("a2", i, "StopProcessing"), "a1"))(*w.consulting()),
    "last-stop-keeps-chat": lambda w: (lambda c, i: (w.op("a1", i, "StopProcessing"),
                                                     w.customer(c, "refresh").body["chatEnded"])[1])(*w.owned_chat()),
    "stopped-chat-reoffered": lambda w: (lambda c, i: (w.ready("a2"), told(w.op("a1", i, "StopProcessing"), "a2"))[1])(
        *w.owned_chat()),
    "stop-while-invited": lambda w: code(w.op("a1", _invited(w), "StopProcessing")),
    "history-omits-typing": lambda w: (lambda i: (w.op("a1", i, "SendNotification", notification="TypingStarted"),
                                                  told(w.op("a1", i, "RequestChatHistory"), "a1"))[1])(_owned(w)),
    "event-id-exclusive": lambda w: told(w.op("a1", _owned(w), "RequestChatHistory", eventId=2), "a1"),
    "negative-event-id": lambda w: code(w.op("a1", _owned(w), "RequestChatHistory", eventId=-1)),
    "owner-caps-kept-on-consult": lambda w: (lambda i: (w.ready("a2"), w.op(
        "a1", i, "InitiateConsultation", agentId="a2"), caps(w.view("a1", i)))[2])(_owned(w)),
    "consultant-join-visible-to-all": lambda w: _refresh(w, w.consulting()[0]),
    "stale-caps-after-consult-reject": lambda w: (lambda i: (w.op("a2", i, "Reject"), caps(w.view("a1", i)))[1])(
        w.consulting(join=False)[1]),
    "second-consultation": lambda w: (lambda i: (w.ready("a3"), code(w.op("a1", i, "InitiateConsultation",
                                                                          agentId="a3")))[1])(
        w.consulting(join=False)[1]),
    "complete-transfer-keeps-consultant": lambda w: (lambda i: (w.op("a1", i, "CompleteTransfer"),
                                                                caps(w.view("a2", i)))[1])(w.consulting()[1]),
    "complete-transfer-leave-first": lambda w: (lambda c, i: (w.op("a1", i, "CompleteTransfer"),
                                                              _refresh(w, c))[1])(*w.consulting()),
    "complete-transfer-early": lambda w: code(w.op("a1", w.consulting(join=False)[1], "CompleteTransfer")),
    "conference-join-hidden": lambda w: (lambda c, i: (w.op("a1", i, "CompleteConference"),
                                                       _refresh(w, c))[1])(*w.consulting()),
    "conference-stays-private": _conference_message,
    "complete-conference-early": lambda w: code(w.op("a1", w.consulting(join=False)[1], "CompleteConference")),
    "consult-join-status-first": _consult_join,
    "messages-after-completed": _after_stop,
}


def _chat_of(w: World) -> object:
    """The customer handle of the only chat of `w` (rebuilt from the engine for brevity)."""
    from .world import CustomerChat

    (chat,) = w.engine.by_chat_id.values()
    return CustomerChat(chat.chat_id, chat.customer_user_id, chat.secure_key, chat.user_data["Tag"])


ENGINE_FAULTS = sorted(name for name, fault in FAULTS.items() if fault.where in ("engine", "customer"))


def test_every_engine_fault_has_a_probe() -> None:
    assert sorted(PROBES) == ENGINE_FAULTS


@pytest.mark.parametrize("fault", ENGINE_FAULTS)
def test_fault_shows_its_deviation_only_when_seeded(fault: str) -> None:
    clean, faulty = PROBES[fault](World()), PROBES[fault](World(fault))
    assert clean != faulty, f"{fault}: {clean!r}"
