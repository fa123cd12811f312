"""Fuzzing the ten operations' bodies: every answer has a statusCode, errors have the documented code
and change nothing (STATUS-03, STATUS-05, STATUS-06)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conformance.api import (
    Case,
    Operation,
    Position,
    Reply,
    RequestHung,
    Shape,
    errors_only,
    expect,
)

pytestmark = pytest.mark.generated

KEEPS_POSITION = (Operation.SEND_MESSAGE, Operation.SEND_NOTIFICATION, Operation.REQUEST_CHAT_HISTORY)


async def post(agent: Any, chat_id: str, case: Case) -> Reply:
    """STATUS-06: an answer within the target's timeout, no 5xx, a JSON body with a statusCode."""
    try:
        path = agent.client.interaction_path(chat_id)
        reply = await agent.client.request_or_hang("POST", path, case.encode())
    except RequestHung as err:
        raise expect.NonConformance(
            "STATUS-06",
            "an answer within the target's timeout",
            f"{err} for {case.note}: {case.encode()[:300]!r}",
        ) from None
    expect.that(reply.http_status < 500, "STATUS-06", "no 5xx", f"HTTP {reply.http_status} for {case.note}")
    expect.that(
        reply.status_code is not None,
        "STATUS-06",
        "a JSON body with a statusCode",
        f"{reply.text[:300]!r} for {case.note}",
    )
    return reply


# The requirement a misuse breaks when it SUCCEEDS (a wrong error code is STATUS-03's alone): an operation
# outside the capabilities breaks that operation's own misuse ID where the profile names one, else STATE-02;
# an invalid parameter breaks the operation's parameter ID.
OUTSIDE = {
    (Position.OWNER, Operation.ACCEPT): "ACCEPT-04",
    (Position.OWNER, Operation.REJECT): "REJECT-03",
    (Position.OWNER, Operation.COMPLETE_TRANSFER): "COMPLETE-TRANSFER-03",
    (Position.OWNER, Operation.COMPLETE_CONFERENCE): "COMPLETE-CONFERENCE-03",
    (Position.INVITED, Operation.STOP_PROCESSING): "STOP-03",
    (Position.INVITED, Operation.REQUEST_CHAT_HISTORY): "HISTORY-03",
}
PARAMETERS = {
    Operation.ACCEPT: "ACCEPT-05",
    Operation.SEND_MESSAGE: "MESSAGE-03",
    Operation.SEND_NOTIFICATION: "TYPING-02",
    Operation.TRANSFER: "TRANSFER-04",
    Operation.REQUEST_CHAT_HISTORY: "HISTORY-03",
    Operation.INITIATE_CONSULTATION: "CONSULT-04",
}


def refusal_requirement(case: Case, position: Position, capabilities: Any) -> str:
    if case.shape is not Shape.OPERATION or case.operation is None:
        return "STATUS-03"
    if case.operation not in capabilities:
        return OUTSIDE.get((position, case.operation), "STATE-02")
    return PARAMETERS.get(case.operation, "STATUS-03")


async def refused_and_unchanged(agent: Any, chat_id: str, case: Case, position: Position) -> None:
    before = await agent.client.get_interaction(chat_id)
    since = agent.notifications.mark()
    reply = await post(agent, chat_id, case)
    capabilities = agent.profile.capabilities(position)
    expected = case.expected(capabilities)
    assert expected is not None  # only error cases come here
    expect.that(
        reply.status_code != 0,
        refusal_requirement(case, position, capabilities),
        f"{case.note} refused",
        reply.text[:300],
    )
    expect.failure(reply, "STATUS-03", expected, agent.profile)
    after = await agent.client.get_interaction(chat_id)
    expect.that(
        after.body == before.body, "STATUS-05", f"the interaction unchanged after {case.note}", after.body
    )
    await expect.nothing_about(agent, chat_id, "STATUS-05", since=since)


@pytest.mark.requirement("STATUS-03", "STATUS-05", "STATUS-06")
@given(data=st.data())
async def test_invalid_body_on_an_owned_chat_is_refused_with_its_code(accepted_chat, body_strategies, data):
    caps = accepted_chat.owner.profile.capabilities(Position.OWNER)
    case = data.draw(errors_only(body_strategies.cases(), caps), label="case")
    await refused_and_unchanged(accepted_chat.owner, accepted_chat.id, case, Position.OWNER)


@pytest.mark.requirement("STATUS-03", "STATUS-05", "STATUS-06")
@given(data=st.data())
async def test_any_body_but_accept_or_reject_on_an_invitation_is_refused(invited_chat, body_strategies, data):
    caps = invited_chat.owner.profile.capabilities(Position.INVITED)
    case = data.draw(errors_only(body_strategies.cases(), caps), label="case")
    await refused_and_unchanged(invited_chat.owner, invited_chat.id, case, Position.INVITED)


@pytest.mark.requirement("STATUS-01", "STATUS-06")
@given(data=st.data())
async def test_valid_body_of_an_owner_capability_succeeds(accepted_chat, body_strategies, data):
    allowed = accepted_chat.owner.profile.capabilities(Position.OWNER)
    ops = tuple(op for op in KEEPS_POSITION if op in allowed)
    cases = body_strategies.operation_cases(ops).filter(lambda c: c.param_status is None)
    case = data.draw(cases, label="case")
    reply = await post(accepted_chat.owner, accepted_chat.id, case)
    expect.success(reply, "STATUS-01")
