"""The cross-view checks (conformance.views) and how a teardown deviation is classified."""

from __future__ import annotations

from typing import Any

from conformance.expect import NonConformance
from conformance.protocol import DEFAULT_PROFILE as P
from conformance.protocol import Position
from conformance.reply import Reply
from conformance.reporting.summary import Outcome
from conformance.runner.outcomes import classify_failure
from conformance.views import (
    AgentViews,
    check_agent_ahead,
    check_agent_views,
    check_customer_listed,
    check_customer_view,
)

CID = "i1"
CUSTOMER = {"participantId": "c", "nickname": "Customer", "type": "Customer", "visibility": "All"}
ALICE = {"participantId": "p1", "nickname": "Alice", "type": "Agent", "visibility": "All"}
DATA = {"ConformanceTag": "t"}


def inter(state: str, position: Position, participants: list[dict[str, str]]) -> dict[str, Any]:
    caps = sorted(P.capability_names(position))
    return {"id": CID, "mediaType": "chat", "state": state, "capabilities": caps,
            "participants": participants, "userData": dict(DATA)}


def changed(kind: str, state: str, position: Position, participants: list[dict[str, str]]) -> dict[str, Any]:
    return {"messageType": "InteractionStateChanged", "notificationType": kind,
            "interaction": inter(state, position, participants)}


OWNER_LOG = [
    changed("StatusChange", "Invited", Position.INVITED, [CUSTOMER]),
    changed("StatusChange", "Processing", Position.OWNER, [CUSTOMER]),
    changed("ParticipantsUpdated", "Processing", Position.OWNER, [CUSTOMER, ALICE]),
]


def ok(**body: Any) -> Reply:
    return Reply(200, {"statusCode": 0, **body}, "")


def views(listed: list[str], objects: list[dict[str, Any]], one: Reply) -> AgentViews:
    uris = [f"http://x/api/v2/me/interactions/{i}" for i in listed]
    return AgentViews("alice", ok(uris=uris), ok(interactions=objects), {CID: one})


def test_views_that_agree_pass() -> None:
    now = inter("Processing", Position.OWNER, [ALICE, CUSTOMER])  # order aside
    assert check_agent_views(P, views([CID], [now], ok(interaction=now)), {CID: OWNER_LOG}) == []


def test_each_disagreement_fails_session_03() -> None:
    now = inter("Processing", Position.OWNER, [CUSTOMER, ALICE])
    stale = inter("Invited", Position.INVITED, [CUSTOMER])
    gone = {**now, "participants": [CUSTOMER, ALICE, {**ALICE, "participantId": "p2"}]}
    no_data = {**now, "userData": {}}
    for case in (
        views([CID], [now], ok(interaction=stale)),  # a stale state
        views([CID], [now], ok(interaction=gone)),  # a stale participant
        views([CID], [now], ok(interaction=no_data)),  # user data missing
        views([], [now], ok(interaction=now)),  # fields=* and the short list disagree
        views([CID], [], ok(interaction=now)),
    ):
        found = check_agent_views(P, case, {CID: OWNER_LOG})
        assert found and {v.requirement for v in found} == {"SESSION-03"}, found


def test_a_completed_interaction_is_not_listed_and_may_be_gone() -> None:
    done = [*OWNER_LOG, changed("StatusChange", "Completed", Position.COMPLETED, [CUSTOMER])]
    gone = Reply(404, {"statusCode": 6, "statusMessage": "x"}, "")
    assert check_agent_views(P, views([], [], gone), {CID: done}) == []
    still = views([CID], [], gone)
    assert {v.requirement for v in check_agent_views(P, still, {CID: done})} == {"SESSION-03"}
    ahead = views([], [], gone)  # gone while the notifications say Processing: a lost one, not judged here
    assert check_agent_views(P, ahead, {CID: OWNER_LOG}) == []


BOB = {"participantId": "p2", "nickname": "Bob", "type": "Agent", "visibility": "All"}


def ahead(case: AgentViews, mine: list[dict[str, Any]], **others: list[dict[str, Any]]) -> list[str]:
    """The requirements `check_agent_ahead` blames (alice's log `mine`, the other agents' by name)."""
    everyone = {"alice": {CID: mine}, **{name: {CID: log} for name, log in others.items()}}
    return [v.requirement for v in check_agent_ahead(P, case, everyone)]


def test_a_view_ahead_of_what_the_notifications_would_have_told_fails_session_03() -> None:
    now = inter("Processing", Position.OWNER, [CUSTOMER, ALICE])
    assert ahead(views([CID], [now], ok(interaction=now)), OWNER_LOG) == []
    phantom = {**now, "participants": [CUSTOMER, ALICE, {**ALICE, "participantId": "p9"}]}
    invited = inter("Invited", Position.INVITED, [CUSTOMER])
    done = {**now, "state": "Completed", "capabilities": []}
    gone = Reply(404, {"statusCode": 6, "statusMessage": "x"}, "")
    bob = [changed("StatusChange", "Processing", Position.CONSULTANT, [CUSTOMER, ALICE, BOB])]
    for case, mine, others in (
        (views([CID], [phantom], ok(interaction=now)), OWNER_LOG, {}),  # a participant no one was told of
        (views([CID], [invited], ok(interaction={**invited, "participants": [CUSTOMER, ALICE]})),
         OWNER_LOG[:1], {}),  # an invitation listing the invited agent itself
        (views([CID], [now], ok(interaction=done)), OWNER_LOG, {"bob": bob}),  # Completed, bob still lists it
        (views([CID], [now], gone), OWNER_LOG, {"bob": bob}),  # gone, likewise
        (views([CID], [now], ok(interaction=now)), [], {}),  # listed, never invited
    ):
        found = ahead(case, mine, **others)
        assert found and set(found) == {"SESSION-03"}, (case, mine)


def test_a_view_ahead_that_may_be_right_about_a_lost_notification_is_not_judged() -> None:
    now = inter("Processing", Position.OWNER, [CUSTOMER, ALICE])
    done = {**now, "state": "Completed", "capabilities": []}
    gone = Reply(404, {"statusCode": 6, "statusMessage": "x"}, "")
    invited = [changed("StatusChange", "Invited", Position.INVITED, [CUSTOMER])]
    assert ahead(views([], [], gone), invited) == []  # a Reject's or a withdrawal's StatusChange lost
    assert ahead(views([], [], gone), OWNER_LOG) == []  # its own Completed lost: only it would be told
    bob_left = [changed("StatusChange", "Processing", Position.OWNER, [CUSTOMER, BOB])]
    assert ahead(views([], [], ok(interaction=done)), OWNER_LOG, bob=bob_left) == []  # bob was told it left
    # a participant another agent was told of (its own StatusChange Processing) is no phantom
    three = inter("Processing", Position.OWNER, [CUSTOMER, ALICE, BOB])
    bob = [changed("StatusChange", "Processing", Position.CONSULTANT, [CUSTOMER, ALICE, BOB])]
    assert ahead(views([CID], [three], ok(interaction=three)), OWNER_LOG, bob=bob) == []


def test_the_customer_transcript_against_the_agents_messages() -> None:
    def msg(i: int, visibility: str = "All", text: str = "x") -> dict[str, Any]:
        return {"index": i, "type": "Text", "text": text, "from": CUSTOMER, "visibility": visibility}

    log = [{"messageType": "MessageLogUpdated", "notificationType": "ChatHistory", "interactionId": CID,
            "messages": [msg(1), msg(2, "Agents"), msg(3)]}]
    assert check_customer_view(P, [msg(1), msg(3)], [log]) == []
    assert [v.requirement for v in check_customer_view(P, [msg(1)], [log])] == ["ORDER-02"]
    assert [v.requirement for v in check_customer_view(P, [msg(1), msg(2), msg(3)], [log])] == ["CUSTOMER-02"]
    assert [v.requirement for v in check_customer_view(P, [msg(1), msg(3, text="y")], [log])] == ["ORDER-02"]


def test_the_customer_is_a_participant_exactly_until_it_leaves() -> None:
    left = {"messageType": "MessageLogUpdated", "notificationType": "NewMessages", "interactionId": CID,
            "messages": [{"index": 4, "type": "ParticipantLeft", "from": CUSTOMER, "visibility": "All"}]}
    gone = changed("ParticipantsUpdated", "Processing", Position.OWNER, [ALICE])
    kept = changed("ParticipantsUpdated", "Processing", Position.OWNER, [CUSTOMER, ALICE])

    def blamed(*log: dict[str, Any]) -> list[str]:
        return [v.requirement for v in check_customer_listed(P, "alice", {CID: [*OWNER_LOG, *log]})]

    assert blamed() == [] and blamed(gone, left) == []
    assert blamed(kept, left) == ["NOTIFY-04"]  # still listed after it left
    assert blamed(gone) == ["NOTIFY-04"]  # gone before any leave
    invited = {CID: [*OWNER_LOG[:1], gone]}  # last StatusChange Invited: not judged
    assert check_customer_listed(P, "alice", invited) == []


def test_a_teardown_deviation_fails_its_requirement_and_keeps_the_bodys() -> None:
    found = classify_failure("t::a", ("ACCEPT-01",), "teardown", NonConformance("SESSION-03", "e", "a"))
    assert (found.outcome, found.requirements) == (Outcome.FAILED, {"SESSION-03": Outcome.FAILED})
    error = classify_failure("t::a", ("ACCEPT-01",), "teardown", RuntimeError("gone"))
    assert (error.outcome, error.requirements) == (Outcome.ERROR, {})
