"""The "must" layer: a deviation from the profile raises NonConformance naming the requirement."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, Protocol

from conformance import match
from conformance.deadlines import MISSED
from conformance.nonconformance import NonConformance
from conformance.notifications import (
    INTERACTION,
    EventTimeout,
    Notification,
    NotificationLog,
    Predicate,
    interaction_of,
    matched,
)
from conformance.protocol import Profile, State, Status
from conformance.reply import Reply


class AgentLike(Protocol):
    """What the judge needs of an agent (conformance.actors.Agent is one): its log, its deadline, and a
    barrier (everything the server queued for it before now has arrived; with ready=False the agent's
    NotReady is kept). The judge never imports the actors."""

    name: str
    profile: Profile
    timeout_s: float
    notifications: NotificationLog

    async def barrier(self, requirement: str = ..., ready: bool = ...) -> int: ...


def that(condition: bool, requirement: str, expected: str, actual: object) -> None:
    if not condition:
        raise NonConformance(requirement, expected, actual if isinstance(actual, str) else repr(actual))


def blamed(requirement: str, why: object) -> str:
    """The requirement a check's reason breaks: the step's own, unless the reason names its own (a
    StatusChange whose capabilities are no row of the table is STATE-01's, whichever step it follows)."""
    return getattr(why, "requirement", None) or requirement


def stray(agent: AgentLike, n: Notification) -> NonConformance | None:
    """A NewMessages the agent should never have had, judged by its own log up to it: about a chat it
    was never invited to (NOTIFY-05), while only invited (ORDER-01: rule 1 of section 3.1), or after its
    Completed (STATE-05). A check that meets one reports that, not the step it was waiting on."""
    profile = agent.profile
    if match.new_message(profile, None)(n) is not None:
        return None
    about = interaction_of(n.data)
    status = match.status_change(profile, about)
    last = next((x for x in reversed(agent.notifications.since(0, n.seq)) if status(x) is None), None)
    state = None if last is None else profile.parse(State, (last.data.get(INTERACTION) or {}).get("state"))
    requirement = {None: "NOTIFY-05", State.INVITED: "ORDER-01", State.COMPLETED: "STATE-05"}.get(state)
    if requirement is None:
        return None
    where = "never invited" if state is None else profile.wire(state)
    return NonConformance(
        requirement, f"no NewMessages about {about} for {agent.name} ({where})", n.brief()
    )


def no_stray(agent: AgentLike, notifications: Iterable[Notification]) -> None:
    for n in notifications:
        err = stray(agent, n)
        if err is not None:
            raise err


def _brief(reply: Reply) -> str:
    return f"HTTP {reply.http_status} {reply.text[:300]}"


def success(reply: Reply, requirement: str) -> Reply:
    why = match.success_shape(reply)
    if why:
        # A success that only carries a statusMessage did what the step asked: the shape is STATUS-01's.
        own = "STATUS-01" if why.startswith(match.SUCCESS_WITH_MESSAGE) else requirement
        raise NonConformance(own, "HTTP 200, statusCode 0, no statusMessage", f"{why}: {_brief(reply)}")
    return reply


def failure(reply: Reply, requirement: str, status: Status | Iterable[Status], profile: Profile) -> Reply:
    """The reply is an error with one of these statuses (their codes in the run's `profile`), shaped as
    STATUS-02 says."""
    wanted = {status} if isinstance(status, Status) else set(status)
    codes = sorted(profile.code(s) for s in wanted)
    if reply.status_code not in codes:
        raise NonConformance(
            requirement,
            f"statusCode {' or '.join(map(str, codes))}",
            f"statusCode {reply.status_code}: {_brief(reply)}",
        )
    why = match.error_shape(reply)
    if why:
        raise NonConformance(
            "STATUS-02", "an error body {statusCode, statusMessage}", f"{why}: {_brief(reply)}"
        )
    return reply


async def notification(
    agent: AgentLike,
    requirement: str,
    predicate: Predicate,
    description: str,
    since: int | None = None,
    timeout: float | None = None,  # noqa: ASYNC109
) -> Notification:
    """The first matching notification from `since` (default: the log's current mark)."""
    start = agent.notifications.mark() if since is None else since
    expected = f"a notification {description} for {agent.name}"
    _unless_missed_before(requirement, expected)
    try:
        return await agent.notifications.wait_for(
            predicate, timeout if timeout is not None else agent.timeout_s, start, description
        )
    except EventTimeout as err:
        for seen in agent.notifications.since(start):
            why = predicate(seen)
            if isinstance(why, match.OffTable):
                raise NonConformance(why.requirement, expected, f"{why}: {seen.brief()}") from None
        MISSED.record(requirement, f"{expected}: {err}"[:300])
        raise NonConformance(requirement, expected, str(err)) from None


def _unless_missed_before(requirement: str, expected: str) -> None:
    why = MISSED.already_missed(requirement)
    if why is not None:
        raise NonConformance(requirement, expected, why)


async def next_in_order(
    agent: AgentLike,
    interaction_id: str,
    requirement: str,
    predicates: Sequence[Callable[[Notification], Any]],
    since: int,
    description: str = "",
) -> list[Notification]:
    """The next notifications about the interaction (from `since`) are these, in this order: each is
    awaited in turn and must match its predicate. What comes after them is not judged (see
    `exactly_in_order` for "these and nothing else")."""
    got: list[Notification] = []
    cursor = since
    for i, predicate in enumerate(predicates):
        step = f"{description or 'sequence'} step {i + 1}/{len(predicates)}"
        _unless_missed_before(requirement, f"{step} for {agent.name}")
        try:
            n = await agent.notifications.wait_for(
                match.any_about(interaction_id), agent.timeout_s, cursor, step
            )
        except EventTimeout as err:
            MISSED.record(requirement, f"{step} for {agent.name}: {err}"[:300])
            raise NonConformance(requirement, f"{step} for {agent.name}", str(err)) from None
        result = predicate(n)
        if not matched(result):
            no_stray(agent, [n])
            seen = "\n  ".join(x.brief() for x in [*got, n])
            raise NonConformance(
                blamed(requirement, result),
                f"{step} for {agent.name}",
                f"{result if isinstance(result, str) else 'no match'}; in order:\n  {seen}",
            )
        got.append(n)
        cursor = n.seq + 1
    return got


async def nothing_about(agent: AgentLike, interaction_id: str, requirement: str, since: int) -> None:
    """No notification about the interaction from `since` up to a barrier (a Ready and its echo)."""
    barrier = await agent.barrier()
    stray_ones = agent.notifications.about(interaction_id, since, barrier)
    no_stray(agent, stray_ones)
    if stray_ones:
        raise NonConformance(
            requirement,
            f"no notification about {interaction_id} for {agent.name}",
            "\n  ".join(n.brief() for n in stray_ones),
        )


async def exactly_in_order(
    agent: AgentLike,
    interaction_id: str,
    requirement: str,
    since: int,
    predicates: Sequence[Callable[[Notification], Any]],
    description: str,
    ready: bool = True,
) -> list[Notification]:
    """After a barrier (keeping the agent NotReady when `ready` is False): the notifications about the
    interaction from `since` are exactly these, in this order, and no others."""
    until = await agent.barrier(ready=ready)
    got = agent.notifications.about(interaction_id, since, until)
    seen = "\n  ".join(n.brief() for n in got) or "(nothing)"
    no_stray(agent, got)
    that(
        len(got) == len(predicates),
        requirement,
        f"{agent.name}: {description}: exactly {len(predicates)} notification(s)",
        f"{len(got)}:\n  {seen}",
    )
    for i, (n, predicate) in enumerate(zip(got, predicates, strict=True)):
        why = predicate(n)
        that(
            why is None or why is True,
            blamed(requirement, why),
            f"{agent.name}: {description}: notification {i + 1} as the profile orders it",
            f"{why}; in order:\n  {seen}",
        )
    return got
