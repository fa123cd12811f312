"""Sessions, channel state, routing (hints, queue, NotReady, end of session), listing, customer side."""

from __future__ import annotations

from conformance.protocol import Channel

from .world import BASE, World, told


def test_me_and_authenticate() -> None:
    w = World()
    assert w.engine.authenticate("alice", "password") == "a1"
    assert w.engine.authenticate("alice", "nope") is None
    assert w.engine.authenticate("zed", "password") is None
    user = w.engine.me("a2").body["user"]
    assert {k: user[k] for k in ("id", "userName", "firstName")} == {
        "id": "a2",
        "userName": "bob",
        "firstName": "Bob",
    }
    assert set(user) == {"id", "userName", "firstName", "lastName", "uri"}


def test_session_and_channel_state_notifications() -> None:
    w = World()
    start = {"operationName": "StartContactCenterSession", "channels": ["chat"]}
    assert w.engine.session_operation("a1", start) == w.engine.session_operation("a1", start)
    assert w.engine.session_operation("a1", start).notifications == []
    for _ in range(2):
        assert told(w.ready("a1"), "a1", Channel.CHANNELS) == ["Channel:Ready"]
    assert told(w.not_ready("a1"), "a1", Channel.CHANNELS) == ["Channel:NotReady"]
    assert w.engine.channel_operation("a1", "voice", {"operationName": "Ready"}).body["statusCode"] == 6
    assert w.engine.channel_operation("a1", "chat", {}).body["statusCode"] == 1
    assert w.engine.channel_operation("a1", "chat", {"operationName": "Accept"}).body["statusCode"] == 2
    assert (
        w.engine.session_operation("a2", {"operationName": "EndContactCenterSession"}).body["statusCode"] == 0
    )
    assert (
        w.engine.session_operation("a2", {"operationName": "StartContactCenterSession", "channels": 3}).body[
            "statusCode"
        ]
        == 2
    )


def test_ready_implicitly_starts_session_and_takes_queued_chats_oldest_first() -> None:
    w = World()
    first, started = w.start(RouteToAgent="bob")
    assert started.notifications == []
    second, _ = w.start(RouteToAgent="bob")
    out = w.ready("a2")
    assert told(out, "a2") == ["StatusChange:Invited", "StatusChange:Invited"]
    ids = [n.data["interaction"]["id"] for n in out.notifications if n.channel is Channel.INTERACTIONS]
    assert ids == [w.interaction_id(first), w.interaction_id(second)]


def test_route_to_agent_is_binding_and_not_ready_agents_are_skipped() -> None:
    w = World()
    w.ready("a1", "a3")
    w.not_ready("a3")
    _chat, out = w.start(RouteToAgent="bob")
    assert out.notifications == []
    chat2, out2 = w.start(RouteToSkill="support")
    assert out2.notifications == []  # carol is NotReady, bob not Ready
    out3 = w.ready("a3")
    assert told(out3, "a3") == ["StatusChange:Invited"]
    assert out3.notifications[-1].data["interaction"]["id"] == w.interaction_id(chat2)
    _plain, out4 = w.start()
    assert told(out4, "a1") == ["StatusChange:Invited"]


def test_skill_hint_falls_back_to_any_agent_once_all_skilled_were_invited() -> None:
    w = World()
    w.ready("a1", "a4")
    chat, out = w.start(RouteToSkill="billing")
    iid = w.interaction_id(chat)
    assert told(out, "a4") == ["StatusChange:Invited"]
    rejected = w.op("a4", iid, "Reject")
    assert told(rejected, "a1") == ["StatusChange:Invited"]
    assert told(w.op("a1", iid, "Reject"), "a4") == []  # never invited twice; waits in the queue
    assert told(w.ready("a2"), "a2") == ["StatusChange:Invited"]


def test_end_session_withdraws_and_reroutes_invitations() -> None:
    w = World()
    w.ready("a1", "a3")
    chat, _ = w.start(RouteToAgent="alice", RouteToSkill="support")
    iid = w.interaction_id(chat)
    out = w.engine.session_operation("a1", {"operationName": "EndContactCenterSession"})
    assert told(out, "a1") == ["StatusChange:Completed"]
    assert told(out, "a3") == ["StatusChange:Invited"]
    assert w.engine.list_interactions("a1", BASE, False).body == {"statusCode": 0, "uris": []}
    assert w.view("a3", iid)["state"] == "Invited"


def test_end_session_withdraws_consultation_as_a_reject() -> None:
    w = World()
    _chat, iid = w.consulting(join=False)
    out = w.engine.session_operation("a2", {"operationName": "EndContactCenterSession"})
    assert told(out, "a2") == ["StatusChange:Completed"]
    assert told(out, "a1") == ["StatusChange:Processing"]
    assert "Transfer" in w.view("a1", iid)["capabilities"]


def test_list_interactions() -> None:
    w = World()
    chat, iid = w.owned_chat("a1")
    body = w.engine.list_interactions("a1", BASE + "/", True).body
    assert body["uris"] == [f"{BASE}/api/v2/me/interactions/{iid}"]
    assert body["interactions"][0]["id"] == iid and body["interactions"][0]["mediaType"] == "chat"
    assert body["interactions"][0]["userData"]["Tag"] == chat.tag
    w.op("a1", iid, "StopProcessing")
    assert w.engine.list_interactions("a1", BASE, False).body["uris"] == []


def test_customer_side() -> None:
    w = World()
    chat, started = w.start()
    body = started.body
    assert body["nextPosition"] == 2 and body["messages"][0]["type"] == "ParticipantJoined"
    assert w.customer(chat, "send", message="hi").body == {"statusCode": 0}
    refreshed = w.customer(chat, "refresh", transcriptPosition="2").body
    assert [m["text"] for m in refreshed["messages"]] == ["hi"]
    assert refreshed["nextPosition"] == 3 and refreshed["chatEnded"] is False
    assert w.customer(chat, "send", message="").body["statusCode"] == 2
    assert w.customer(chat, "send").body["statusCode"] == 1
    assert w.customer(chat, "dance").body["statusCode"] == 6
    engine = w.engine
    assert (
        engine.customer_action("customer-support", chat.chat_id, "refresh", {"userId": chat.user_id}).body[
            "statusCode"
        ]
        == 1
    )
    answers = [
        engine.customer_action(
            "customer-support", chat.chat_id, "refresh", {"userId": chat.user_id, "secureKey": "x"}
        ),
        engine.customer_action(
            "customer-support", chat.chat_id, "refresh", {"userId": "x", "secureKey": chat.secure_key}
        ),
        engine.customer_action(
            "customer-support", "nochat", "refresh", {"userId": chat.user_id, "secureKey": chat.secure_key}
        ),
    ]
    assert answers[0].body["statusCode"] == 6 and answers[0] == answers[1] == answers[2]
    assert engine.customer_start("other", {"nickname": "x"}).body["statusCode"] == 6
    assert engine.customer_start("customer-support", {}).body["statusCode"] == 1
    assert w.customer(chat, "disconnect").body == {"statusCode": 0}
    assert w.customer(chat, "refresh").body["chatEnded"] is True
    assert w.customer(chat, "send", message="late").body["statusCode"] == 2
    assert w.customer(chat, "startTyping").body["statusCode"] == 2
    assert w.customer(chat, "disconnect").body == {"statusCode": 0}
    assert told(w.ready("a1"), "a1") == []  # an ended chat is never offered


def test_customer_typing_reaches_agents_taking_part_only() -> None:
    w = World()
    chat, iid = w.owned_chat("a1")
    w.ready("a2")
    w.op("a1", iid, "InitiateConsultation", agentId="a2")
    out = w.customer(chat, "stopTyping", transcriptPosition="1")
    assert told(out, "a1") == ["NewMessages:TypingStopped@3"] and told(out, "a2") == []
    assert out.body["nextPosition"] == 4
