"""The load mode's judging glue on chats the engine plays (pure: no server, no Locust)."""

from __future__ import annotations

from dataclasses import replace

from conformance.load.judge import Arrival, ChatRecord, OpRecord, delivery_latencies, judge_chat, judge_strays
from conformance.load.summary import Collector, StatRow, build_summary
from conformance.protocol import DEFAULT_PROFILE, Channel
from conformance.simulator.engine import Outcome
from tests.simulator_engine.world import World

P = DEFAULT_PROFILE


class Log:
    """a1's notifications about one chat, as its long-poll would have delivered them."""

    def __init__(self) -> None:
        self.items: list[Arrival] = []

    def take(self, outcome: Outcome, uid: str = "a1") -> Outcome:
        for n in outcome.notifications:
            if n.user_id == uid and n.channel is Channel.INTERACTIONS:
                self.items.append(
                    Arrival(
                        len(self.items) + 1,
                        "/v2/me/interactions",
                        n.data,
                        len(self.items),
                        str(len(self.items)),
                    )
                )
        return outcome


def played_chat() -> ChatRecord:
    """A whole chat ended as the load flows end it: the customer leaves, the owner takes the complete
    history, the customer its transcript, then the owner stops."""
    world, log = World(), Log()
    log.take(world.ready("a1"))
    chat, out = world.start(RouteToAgent="alice")
    log.take(out)
    iid = world.interaction_id(chat)
    log.take(world.op("a1", iid, "Accept"))
    log.take(world.customer(chat, "send", message="hello"))
    log.take(world.op("a1", iid, "SendNotification", notification="TypingStarted"))
    log.take(world.op("a1", iid, "SendMessage", text="hi there"))
    log.take(world.customer(chat, "disconnect"))
    log.take(world.op("a1", iid, "RequestChatHistory"))
    history = log.items[-1].data["messages"]
    upto = len(log.items)
    transcript = world.customer(chat, "refresh", transcriptPosition="1").body["messages"]
    log.take(world.op("a1", iid, "StopProcessing"))
    return ChatRecord(iid, "simple", {"alice": log.items}, {"alice": upto}, history, "alice", transcript)


def test_a_conforming_chat_has_no_finding() -> None:
    assert judge_chat(P, played_chat()) == []


def test_two_notifications_swapped_are_order_04_via_order_01() -> None:
    rec = played_chat()
    log = rec.logs["alice"]
    log[1], log[2] = log[2], log[1]  # Accept's StatusChange and ParticipantsUpdated
    found = judge_chat(P, rec)
    assert {(f.requirement, f.via) for f in found} == {("ORDER-04", "ORDER-01")}


def test_a_lost_new_messages_is_order_04_via_order_02() -> None:
    rec = played_chat()
    log = rec.logs["alice"]
    lost = next(i for i, a in enumerate(log) if a.data["notificationType"] == "NewMessages")
    del log[lost]
    rec.judged_upto["alice"] -= 1
    assert {(f.requirement, f.via) for f in judge_chat(P, rec)} == {("ORDER-04", "ORDER-02")}


def test_a_message_delivered_twice_to_one_client_is_notify_06() -> None:
    rec = played_chat()
    rec.duplicates["alice"] = [rec.logs["alice"][3]]
    assert [f.requirement for f in judge_chat(P, rec)] == ["NOTIFY-06"]


def test_without_a_history_only_the_order_is_judged() -> None:
    rec = played_chat()
    rec.history, rec.transcript, rec.judged_upto = None, None, {}
    assert judge_chat(P, rec) == []
    log = rec.logs["alice"]
    log.append(replace(log[3], seq=99))  # something after Completed
    assert {f.requirement for f in judge_chat(P, rec)} >= {"STATE-05"}


def test_notifications_about_a_foreign_interaction_are_notify_05() -> None:
    rec = played_chat()
    log = rec.logs["alice"]
    assert judge_strays(P, "alice", rec.interaction_id, log) == []  # begins with its invitation
    assert [f.requirement for f in judge_strays(P, "alice", rec.interaction_id, log[3:])] == ["NOTIFY-05"]


def test_delivery_latency_runs_from_the_causing_response_to_the_arrival() -> None:
    rec = played_chat()
    log = rec.logs["alice"]
    text = next(
        a
        for a in log
        if a.data["notificationType"] == "NewMessages"
        and a.data["messages"][0]["type"] == "Text"
        and a.data["messages"][0].get("text") == "hi there"
    )
    rec.ops = [
        OpRecord("customer", "customer start", -1.0, -0.5, 0),
        OpRecord("alice", "SendMessage", text.at - 0.2, text.at - 0.1, 0, "hi there"),
    ]
    latencies = delivery_latencies(P, rec)
    assert len(latencies) == len(log)
    assert ("NewMessages", 100.0) in [(k, round(ms, 6)) for k, ms in latencies]
    assert all(ms >= 0 for _, ms in latencies)


def test_the_summary_merges_findings_of_every_process() -> None:
    rec = played_chat()
    log = rec.logs["alice"]
    log[1], log[2] = log[2], log[1]
    payload = {"findings": [f.as_dict() for f in judge_chat(P, rec)], "evidence": "transcript"}
    collector = Collector()
    collector.add_findings(payload, "worker-1")
    collector.add_findings(payload, "worker-2")
    collector.add_node("worker-1", {"cpu_s": 10.0, "judge_cpu_s": 1.0})
    collector.add_node("worker-2", {"cpu_s": 10.0, "judge_cpu_s": 0.5})
    rows = [
        StatRow("DELIVERY", "StatusChange", 10, 0, 2, 5, 9, 12.0, 1.0),
        StatRow("JUDGE", "chat", 2, 0, 1, 1, 1, 1, 1),
    ]
    summary = build_summary(collector, rows, settings={}, target={}, duration_s=10.0, judging=True)
    entry = summary["requirements"]["ORDER-04"]
    per_chat = len(payload["findings"])
    assert (entry["chats"], entry["processes"], entry["count"]) == (2, 2, 2 * per_chat)
    assert entry["via"] == {"ORDER-01": 2 * per_chat}
    assert summary["verdict"] == "non-conformant"
    assert summary["judging"]["share_of_generator_cpu"] == 0.075
    assert summary["delivery_latency_ms"]["StatusChange"]["p99_ms"] == 9
