"""The ten operations: success paths, misuses and the notification orders of sections 3.1 and 7."""

from __future__ import annotations

import pytest

from .world import (
    CUSTOMER_LEFT,
    MEMBER,
    OWNER,
    OWNER_CONSULT_INVITED,
    OWNER_CONSULT_JOINED,
    World,
    caps,
    first,
    last,
    told,
)


def test_accept_tells_status_participants_history_in_order() -> None:
    w = World()
    w.ready("a1")
    chat, started = w.start(RouteToAgent="alice")
    iid = w.interaction_id(chat)
    assert told(started, "a1") == ["StatusChange:Invited"]
    assert caps(last(started, "a1")) == {"Accept", "Reject"}
    w.customer(chat, "send", message="hello")
    out = w.op("a1", iid, "Accept")
    assert out.body == {"statusCode": 0}
    assert told(out, "a1") == ["StatusChange:Processing", "ParticipantsUpdated", "ChatHistory:[1, 2, 3]"]
    history = last(out, "a1")["messages"]
    assert [m["type"] for m in history] == ["ParticipantJoined", "Text", "ParticipantJoined"]
    assert history[2]["from"]["nickname"] == "Alice" and history[1]["text"] == "hello"
    assert history[0]["timestamp"] == "2024-05-06T07:08:09.123Z"
    assert caps(first(out, "a1")) == OWNER
    assert chat.chat_id != iid


def test_accept_misuses() -> None:
    w = World()
    _chat, iid = w.owned_chat("a1")
    assert w.op("a1", iid, "Accept").body["statusCode"] == 2
    assert w.op("a1", "nope", "Accept").body["statusCode"] == 6
    w.ready("a2")
    chat2, _ = w.start(RouteToAgent="bob")
    iid2 = w.interaction_id(chat2)
    for bad in ("", None, 5, "x" * 4097, "\ud800"):
        out = w.op("a2", iid2, "Accept", nickname=bad)
        assert out.body["statusCode"] == 2 and set(out.body) == {"statusCode", "statusMessage"}
        assert out.notifications == []
    assert w.op("a2", iid2, "Accept", nickname="B" * 4096).body["statusCode"] == 0


def test_error_precedence() -> None:
    w = World()
    _chat, iid = w.owned_chat("a1")
    assert w.engine.interaction_operation("a1", iid, []).body["statusCode"] == 1
    assert w.engine.interaction_operation("a2", iid, {}).body["statusCode"] == 6  # AUTH-05 before 1
    assert w.engine.get_interaction("a2", iid).body["statusCode"] == 6
    assert w.engine.interaction_operation("a1", iid, {}).body["statusCode"] == 1
    assert w.engine.interaction_operation("a1", iid, {"operationName": None}).body["statusCode"] == 2
    assert w.op("a1", iid, "Dance").body["statusCode"] == 2
    assert w.op("a1", iid, "CompleteTransfer").body["statusCode"] == 2  # not in capabilities
    assert w.op("a1", iid, "SendMessage").body["statusCode"] == 1
    for bad in ("", None, 1, "x" * 4097, "a\udc00"):
        assert w.op("a1", iid, "SendMessage", text=bad).body["statusCode"] == 2
    assert w.op("a1", iid, "SendMessage", text="é" * 4096, extra={"x": None}).body["statusCode"] == 0


def test_send_message_and_typing_reach_customer() -> None:
    w = World()
    chat, iid = w.owned_chat("a1")
    out = w.op("a1", iid, "SendMessage", text=" héllo 🎉 ")
    assert told(out, "a1") == ["NewMessages:Text@3"]
    assert last(out, "a1")["messages"][0]["text"] == " héllo 🎉 "
    assert w.op("a1", iid, "SendNotification", notification="TypingStarted").body["statusCode"] == 0
    assert w.op("a1", iid, "SendNotification").body["statusCode"] == 1
    assert w.op("a1", iid, "SendNotification", notification="Typing").body["statusCode"] == 2
    messages = w.customer(chat, "refresh").body["messages"]
    assert [(m["index"], m["type"]) for m in messages][-2:] == [(3, "Text"), (4, "TypingStarted")]


def test_reject_reoffers_to_another_agent_with_history_intact() -> None:
    w = World()
    w.ready("a1", "a3")
    chat, _ = w.start(RouteToAgent="alice", RouteToSkill="support")
    iid = w.interaction_id(chat)
    w.customer(chat, "send", message="first")
    out = w.op("a1", iid, "Reject")
    assert told(out, "a1") == ["StatusChange:Completed"] and caps(last(out, "a1")) == set()
    assert told(out, "a3") == ["StatusChange:Invited"]
    assert w.op("a1", iid, "Accept").body["statusCode"] == 2
    accepted = w.op("a3", iid, "Accept")
    assert told(accepted, "a3")[-1] == "ChatHistory:[1, 2, 3]"
    assert w.op("a3", iid, "Reject").body["statusCode"] == 2


def test_consultation_join_order_and_capabilities() -> None:
    w = World()
    chat, iid = w.owned_chat("a1")
    w.ready("a2")
    out = w.op("a1", iid, "InitiateConsultation", agentId="a2")
    assert told(out, "a1") == ["StatusChange:Processing"] and caps(last(out, "a1")) == OWNER_CONSULT_INVITED
    assert told(out, "a2") == ["StatusChange:Invited"]
    assert w.op("a1", iid, "InitiateConsultation", agentId="a3").body["statusCode"] == 2  # one at a time
    joined = w.op("a2", iid, "Accept")
    assert told(joined, "a2") == ["StatusChange:Processing", "ParticipantsUpdated", "ChatHistory:[1, 2, 3]"]
    assert caps(first(joined, "a2")) == MEMBER
    assert told(joined, "a1") == [
        "ParticipantsUpdated",
        "NewMessages:ParticipantJoined@3",
        "StatusChange:Processing",
    ]
    assert caps(last(joined, "a1")) == OWNER_CONSULT_JOINED
    consultant_row = [p for p in last(joined, "a1")["interaction"]["participants"] if p["nickname"] == "Bob"]
    assert consultant_row[0]["visibility"] == "Agents"
    said = w.op("a2", iid, "SendMessage", text="psst")
    assert told(said, "a1") == ["NewMessages:Text@4"]
    assert first(said, "a1")["messages"][0]["visibility"] == "Agents"
    assert [m["index"] for m in w.customer(chat, "refresh").body["messages"]] == [1, 2]


def test_consultation_misuses_and_reject() -> None:
    w = World()
    _chat, iid = w.owned_chat("a1")
    assert w.op("a1", iid, "InitiateConsultation").body["statusCode"] == 1
    for target in ("a1", "zz", "a2", 7, None):  # a2 is not Ready
        assert w.op("a1", iid, "InitiateConsultation", agentId=target).body["statusCode"] == 2
    w.ready("a2")
    w.op("a1", iid, "InitiateConsultation", agentId="a2")
    out = w.op("a2", iid, "Reject")
    assert told(out, "a1") == ["StatusChange:Processing"] and caps(last(out, "a1")) == OWNER
    assert told(out, "a2") == ["StatusChange:Completed"]
    assert w.op("a1", iid, "InitiateConsultation", agentId="a2").body["statusCode"] == 2  # invited once


def test_complete_transfer_orders() -> None:
    w = World()
    chat, iid = w.consulting()
    assert w.op("a1", iid, "StopProcessing").body["statusCode"] == 2
    out = w.op("a1", iid, "CompleteTransfer")
    assert told(out, "a1") == ["StatusChange:Completed"]
    assert told(out, "a2") == [
        "ParticipantsUpdated",
        "NewMessages:ParticipantLeft@5",
        "StatusChange:Processing",
    ]
    assert caps(last(out, "a2")) == OWNER
    seen = [(m["index"], m["type"]) for m in w.customer(chat, "refresh").body["messages"]]
    assert seen == [
        (1, "ParticipantJoined"),
        (2, "ParticipantJoined"),
        (4, "ParticipantJoined"),
        (5, "ParticipantLeft"),
    ]
    assert w.op("a1", iid, "SendMessage", text="x").body["statusCode"] in (2, 6)


def test_complete_conference_orders_and_stop() -> None:
    w = World()
    chat, iid = w.consulting()
    out = w.op("a1", iid, "CompleteConference")
    assert told(out, "a1") == [
        "ParticipantsUpdated",
        "NewMessages:ParticipantJoined@4",
        "StatusChange:Processing",
    ]
    assert caps(last(out, "a1")) == MEMBER
    assert told(out, "a2") == ["ParticipantsUpdated"]
    said = w.op("a2", iid, "SendMessage", text="hi all")
    assert first(said, "a1")["messages"][0]["visibility"] == "All"
    stop = w.op("a2", iid, "StopProcessing")
    assert told(stop, "a2") == ["StatusChange:Completed"]
    assert told(stop, "a1") == [
        "ParticipantsUpdated",
        "NewMessages:ParticipantLeft@6",
        "StatusChange:Processing",
    ]
    assert caps(last(stop, "a1")) == OWNER
    assert w.op("a1", iid, "StopProcessing").body["statusCode"] == 0
    assert w.customer(chat, "refresh").body["chatEnded"] is True


def test_consultant_stop_gives_owner_plain_capabilities() -> None:
    w = World()
    chat, iid = w.consulting()
    out = w.op("a2", iid, "StopProcessing")
    assert told(out, "a1") == [
        "ParticipantsUpdated",
        "NewMessages:ParticipantLeft@4",
        "StatusChange:Processing",
    ]
    assert [n.data for n in out.notifications if n.user_id == "a1"][1]["messages"][0][
        "visibility"
    ] == "Agents"
    assert caps(last(out, "a1")) == OWNER
    assert w.customer(chat, "refresh").body["chatEnded"] is False


def test_transfer_to_agent_and_skill() -> None:
    w = World()
    _chat, iid = w.owned_chat("a1")
    assert w.op("a1", iid, "Transfer").body["statusCode"] == 1
    w.ready("a3")
    for fields in (
        {"agentId": "a1"},
        {"agentId": "a2"},
        {"agentId": "zz"},
        {"skill": "cooking"},
        {"skill": "billing"},
        {"agentId": "a3", "skill": "support"},
        {"agentId": None},
    ):
        assert w.op("a1", iid, "Transfer", **fields).body["statusCode"] == 2, fields
    out = w.op("a1", iid, "Transfer", skill="support")
    assert told(out, "a1") == ["StatusChange:Completed"] and told(out, "a3") == ["StatusChange:Invited"]
    accepted = w.op("a3", iid, "Accept")
    history = last(accepted, "a3")["messages"]
    assert [m["type"] for m in history] == [
        "ParticipantJoined",
        "ParticipantJoined",
        "ParticipantLeft",
        "ParticipantJoined",
    ]
    assert w.op("a3", iid, "Transfer", agentId="a1").body["statusCode"] == 2  # invited once


def test_request_chat_history_event_id() -> None:
    w = World()
    chat, iid = w.owned_chat("a1")
    w.customer(chat, "startTyping")
    w.customer(chat, "send", message="m")

    def history(**fields: object) -> list[int] | int:
        out = w.op("a1", iid, "RequestChatHistory", **fields)
        return (
            [m["index"] for m in out.notifications[0].data["messages"]]
            if out.body["statusCode"] == 0
            else out.body["statusCode"]
        )

    assert history() == [1, 2, 3, 4]
    assert history(eventId=0) == [1, 2, 3, 4]
    assert history(eventId=3) == [3, 4]
    assert history(eventId=99) == []
    for bad in (-1, True, 1.0, "1", None):
        assert history(eventId=bad) == 2


@pytest.mark.parametrize("action", ["StopProcessing", "RequestChatHistory", "SendMessage"])
def test_invited_agent_operations_fail_with_2(action: str) -> None:
    w = World()
    w.ready("a1")
    chat, _ = w.start(RouteToAgent="alice")
    iid = w.interaction_id(chat)
    assert w.op("a1", iid, action, text="x").body["statusCode"] == 2


def test_customer_disconnect_withdraws_then_tells_in_one_step() -> None:
    w = World()
    chat, iid = w.consulting(join=False)
    out = w.customer(chat, "disconnect")
    assert out.body == {"statusCode": 0}
    assert told(out, "a2") == ["StatusChange:Completed"]
    assert told(out, "a1") == [
        "ParticipantsUpdated",
        "NewMessages:ParticipantLeft@3",
        "StatusChange:Processing",
    ]
    assert caps(last(out, "a1")) == CUSTOMER_LEFT
    assert w.op("a1", iid, "StopProcessing").body["statusCode"] == 0


def test_after_customer_left_remaining_agent_gets_no_status_change() -> None:
    w = World()
    chat, iid = w.consulting()
    w.customer(chat, "disconnect")
    out = w.op("a1", iid, "StopProcessing")
    assert told(out, "a2") == ["ParticipantsUpdated", "NewMessages:ParticipantLeft@5"]
    assert caps(w.view("a2", iid)) == CUSTOMER_LEFT
