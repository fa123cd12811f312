"""Pure checks of one chat as every party saw it (ORDER-01..03, STATE-01/04/05).

Input: the raw notification `data` an agent received about one interaction, in arrival order, and a
complete history of the chat taken by an agent still taking part (the oracle: every agent taking
part may see every event, so its history holds indexes 1..n). Output: a list of `Violation`s, each
naming the requirement it breaks. Nothing here does I/O; the suites raise the first violation.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from conformance.protocol import Profile
from conformance.protocol.names import (
    ChatMessageType,
    MessageType,
    NotificationType,
    Position,
    State,
    Visibility,
)

_RANK = {State.INVITED: 0, State.PROCESSING: 1, State.COMPLETED: 2}


@dataclass(frozen=True)
class Violation:
    requirement: str
    expected: str
    actual: str
    # A fact the other checks presuppose (an Accept history, the complete history they are judged
    # against) is wrong: the checks that depend on it did not run, and it keeps its own requirement.
    premise: bool = False


def _not_one_to_n(indexes: list[Any]) -> str:
    """Who a history whose indexes are not 1..n fails: with an index repeated, HISTORY-01 ("its history's
    indexes are exactly 1..n": the live view repeated it too, so they may agree); with events missing or
    out of order, ORDER-03 (the history disagrees with what was seen live)."""
    return "HISTORY-01" if len(set(map(repr, indexes))) != len(indexes) else "ORDER-03"


def _messages_while_invited(items: list[Seen]) -> bool:
    return any(s.notice == NotificationType.NEW_MESSAGES for s in items)


@dataclass(frozen=True)
class Seen:
    """One notification about the interaction, decoded with the profile."""

    notice: NotificationType | None
    state: State | None
    capabilities: frozenset[str] | None
    messages: tuple[dict[str, Any], ...]
    raw: dict[str, Any]

    def label(self) -> str:
        name = self.notice.value if self.notice else "?"
        if self.state is not None:
            return f"{name}({self.state.value})"
        if self.messages and self.notice == NotificationType.NEW_MESSAGES:
            msg = self.messages[0]
            return f"{name}(#{msg.get('index')} {msg.get('type')})"
        return name


def decode(profile: Profile, data: dict[str, Any]) -> Seen:
    notice = profile.parse(NotificationType, data.get("notificationType"))
    interaction = data.get("interaction")
    state = caps = None
    if isinstance(interaction, dict):
        state = profile.parse(State, interaction.get("state"))
        raw_caps = interaction.get("capabilities")
        if isinstance(raw_caps, list):
            caps = frozenset(str(c) for c in raw_caps)
    messages = data.get("messages")
    msgs = tuple(m for m in messages if isinstance(m, dict)) if isinstance(messages, list) else ()
    if notice != NotificationType.STATUS_CHANGE:
        state = caps = None
    return Seen(notice, state, caps, msgs, data)


def is_about(profile: Profile, data: dict[str, Any], interaction_id: str) -> bool:
    kind = profile.parse(MessageType, data.get("messageType"))
    if kind == MessageType.INTERACTION_STATE_CHANGED:
        inter = data.get("interaction")
        return isinstance(inter, dict) and inter.get("id") == interaction_id
    return kind == MessageType.MESSAGE_LOG_UPDATED and data.get("interactionId") == interaction_id


def labels(seen: Iterable[Seen]) -> str:
    return " -> ".join(s.label() for s in seen) or "(nothing)"


def essence(profile: Profile, msg: dict[str, Any]) -> tuple[Any, ...]:
    """What must agree between a live message and the same event in a history."""
    raw = msg.get("from")
    sender: dict[str, Any] = raw if isinstance(raw, dict) else {}
    text = msg.get("text") if msg.get("type") == profile.wire(ChatMessageType.TEXT) else None
    return (msg.get("index"), msg.get("type"), text, sender.get("participantId"), msg.get("visibility"))


def _own_pid(profile: Profile, accept_history: Sequence[dict[str, Any]]) -> str | None:
    if not accept_history:
        return None
    last = accept_history[-1]
    if last.get("type") != profile.wire(ChatMessageType.PARTICIPANT_JOINED):
        return None
    sender = last.get("from")
    return sender.get("participantId") if isinstance(sender, dict) else None


def _is_own_join_or_leave(profile: Profile, msg: dict[str, Any], pid: str | None) -> bool:
    kinds = {profile.wire(ChatMessageType.PARTICIPANT_JOINED), profile.wire(ChatMessageType.PARTICIPANT_LEFT)}
    sender = msg.get("from")
    return msg.get("type") in kinds and isinstance(sender, dict) and sender.get("participantId") == pid


def check_agent(
    profile: Profile,
    log: Sequence[dict[str, Any]],
    history: Sequence[dict[str, Any]] | None = None,
    *,
    who: str = "agent",
) -> list[Violation]:
    """Every invariant of one agent's notifications about one interaction.

    `history` is the chat's complete history (indexes 1..n) taken after this agent's last
    notification was produced; without it only the order-only checks run.
    """
    seen = [decode(profile, d) for d in log]
    found: list[Violation] = []
    trace = labels(seen)

    def bad(rid: str, expected: str, actual: str, premise: bool = False) -> None:
        found.append(Violation(rid, f"{who}: {expected}", f"{actual}; {who} saw: {trace}", premise))

    if not seen:
        return found
    # ORDER-01: the invitation first; nothing after Completed.
    if seen[0].notice != NotificationType.STATUS_CHANGE or seen[0].state != State.INVITED:
        bad("ORDER-01", "the first notification is the invitation (StatusChange Invited)", seen[0].label())
    for pos, item in enumerate(seen):
        if item.state == State.COMPLETED and pos + 1 < len(seen):
            bad("STATE-05", "nothing after StatusChange Completed", labels(seen[pos + 1 :]))
            bad("ORDER-01", "nothing after StatusChange Completed", labels(seen[pos + 1 :]))
            break
    # STATE-04: states only move forward; Invited only once, first.
    states = [s.state for s in seen if s.state is not None]
    for before, after in itertools.pairwise(states):
        if _RANK[after] < _RANK[before] or (after == before == State.INVITED):
            bad(
                "STATE-04",
                "states move forward only (Invited -> Processing -> Completed)",
                f"{before.value} then {after.value}",
            )
            break
    # STATE-01: capabilities fit the state.
    processing_rows = {
        profile.capability_names(p) for p in Position if p not in (Position.INVITED, Position.COMPLETED)
    }
    for item in seen:
        if item.state is None:
            continue
        if item.state == State.INVITED:
            ok = item.capabilities == profile.capability_names(Position.INVITED)
        elif item.state == State.COMPLETED:
            ok = item.capabilities == profile.capability_names(Position.COMPLETED)
        else:
            ok = item.capabilities in processing_rows
        if not ok:
            bad(
                "STATE-01",
                f"capabilities of a row of the table for state {item.state.value}",
                str(sorted(item.capabilities or ())),
            )
    # ORDER-01: Accept gives StatusChange(Processing) -> ParticipantsUpdated -> ChatHistory; before
    # it an invited agent receives nothing but its invitation (or its withdrawal).
    accept_at = next((i for i, s in enumerate(seen) if s.state == State.PROCESSING), None)
    if accept_at is None:
        extra = [s for s in seen[1:] if s.state != State.COMPLETED]
        if extra:
            bad("ORDER-01", "an invited agent receives only its invitation and its withdrawal", labels(extra),
                premise=_messages_while_invited(extra))
        return found
    if accept_at != 1:
        # Messages reaching an agent still invited break rule 1 of section 3.1 (ORDER-01's own), whatever
        # the test's requirement; anything else out of place may be a delivery fault and is judged by it.
        bad("ORDER-01", "Accept's StatusChange right after the invitation", labels(seen[: accept_at + 1]),
            premise=_messages_while_invited(seen[1:accept_at]))
    triple = [s.notice for s in seen[accept_at : accept_at + 3]]
    accept_order = [
        NotificationType.STATUS_CHANGE, NotificationType.PARTICIPANTS_UPDATED, NotificationType.CHAT_HISTORY
    ]
    if triple != accept_order:
        bad(
            "ORDER-01",
            "StatusChange -> ParticipantsUpdated -> ChatHistory on Accept",
            labels(seen[accept_at : accept_at + 3]),
        )
        return found
    accept_history = list(seen[accept_at + 2].messages)
    pid = _own_pid(profile, accept_history)
    # ORDER-02: live NewMessages after the history carry strictly increasing indexes.
    live = [m for s in seen[accept_at + 3 :] if s.notice == NotificationType.NEW_MESSAGES for m in s.messages]
    last = accept_history[-1].get("index") if accept_history else 0
    for msg in live:
        index = msg.get("index")
        if not isinstance(index, int) or not isinstance(last, int) or index <= last:
            bad("ORDER-02", f"live indexes strictly increasing after #{last}", f"#{index} came next")
            break
        last = index
    if history is None:
        return found
    # The checks below judge the live view against the complete history, from the end of the Accept
    # history on: when either is wrong, that is the violation (ORDER-03, or HISTORY-01 for a repeated
    # index, see _not_one_to_n), and they do not run.
    full_idx = [m.get("index") for m in history]
    if full_idx != list(range(1, len(history) + 1)):
        bad(
            _not_one_to_n(full_idx),
            "the complete history holds indexes 1..n in order",
            str(full_idx),
            premise=True,
        )
        return found
    by_index = {m.get("index"): m for m in history}
    # ORDER-03: the accept history and every live message agree with the complete history.
    hist_idx = [m.get("index") for m in accept_history]
    if hist_idx != list(range(1, len(accept_history) + 1)):
        bad("ORDER-03", "the Accept history holds indexes 1..k in order", str(hist_idx), premise=True)
        return found
    if pid is None:
        bad(
            "ORDER-03",
            "the Accept history ends with the agent's own ParticipantJoined",
            str(accept_history[-1:] or "an empty history"),
            premise=True,
        )
        return found
    for msg in [*accept_history, *live]:
        ref = by_index.get(msg.get("index"))
        if ref is None or essence(profile, ref) != essence(profile, msg):
            bad(
                "ORDER-03",
                f"event #{msg.get('index')} as in the history: {ref and essence(profile, ref)}",
                str(essence(profile, msg)),
            )
            break
    for later in seen[accept_at + 3 :]:
        if later.notice == NotificationType.CHAT_HISTORY:
            for msg in later.messages:
                ref = by_index.get(msg.get("index"))
                if ref is None or essence(profile, ref) != essence(profile, msg):
                    bad(
                        "ORDER-03",
                        f"requested history agrees with the chat's history at #{msg.get('index')}",
                        str(essence(profile, msg)),
                    )
                    break
    # ORDER-02: every event after the Accept history that this agent may see arrived live, up to its
    # own departure (its own join/leave are withheld live, rule 2 of section 3.1).
    start = len(accept_history)
    window_end = max((m.get("index", 0) for m in history), default=0)
    departed = seen[-1].state == State.COMPLETED
    if departed:
        own_leave = [
            m.get("index", 0)
            for m in history
            if m.get("type") == profile.wire(ChatMessageType.PARTICIPANT_LEFT)
            and _is_own_join_or_leave(profile, m, pid)
        ]
        window_end = min(own_leave) if own_leave else start
        # CompleteTransfer: the consultant's public join comes in the initiator's departing step
        # (right before its leave), and a departing agent is told nothing of that step (rule 3).
        before_leave = by_index.get(window_end - 1)
        if (
            own_leave
            and before_leave is not None
            and before_leave.get("type") == profile.wire(ChatMessageType.PARTICIPANT_JOINED)
            and before_leave.get("visibility") == profile.wire(Visibility.ALL)
            and not _is_own_join_or_leave(profile, before_leave, pid)
        ):
            window_end -= 2  # the window ends before that join (its own leave is never live anyway)
    live_idx = [m.get("index") for m in live]
    expected_idx = [
        m.get("index")
        for m in history
        if start < m.get("index", 0) <= window_end and not _is_own_join_or_leave(profile, m, pid)
    ]
    if live_idx[: len(expected_idx)] != expected_idx or len(live_idx) > len(expected_idx):
        bad("ORDER-02", f"live events exactly {expected_idx} (the history after #{start})", str(live_idx))
    return found


def check_history_complete(profile: Profile, history: Sequence[dict[str, Any]], who: str) -> list[Violation]:
    """A taking-part agent's history holds exactly the indexes 1..n, in order (HISTORY-01/ORDER-03)."""
    idx = [m.get("index") for m in history]
    if idx != list(range(1, len(idx) + 1)):
        return [Violation(_not_one_to_n(idx), f"{who}: a history with indexes 1..n in order", str(idx))]
    return []


def check_customer(
    profile: Profile, transcript: Sequence[dict[str, Any]], history: Sequence[dict[str, Any]]
) -> list[Violation]:
    """The customer's transcript is the history's `All` events, same indexes, same content, same order."""
    full_idx = [m.get("index") for m in history]
    if full_idx != list(range(1, len(history) + 1)):  # the history it is judged against is wrong
        why = "a complete history with indexes 1..n in order"
        return [Violation(_not_one_to_n(full_idx), why, str(full_idx), True)]
    everyone, agents = profile.wire(Visibility.ALL), profile.wire(Visibility.AGENTS)
    private = {m.get("index") for m in history if m.get("visibility") == agents}
    leaked = [m for m in transcript if m.get("visibility") == agents or m.get("index") in private]
    if leaked:  # an event of the consultation: its privacy (CUSTOMER-02), not the order, is broken
        return [
            Violation(
                "CUSTOMER-02",
                "customer: no event of visibility Agents",
                f"customer saw {[essence(profile, m) for m in leaked[:6]]}",
            )
        ]
    want = [essence(profile, m) for m in history if m.get("visibility") == everyone]
    got = [essence(profile, m) for m in transcript]
    if got != want[: len(got)] or len(got) != len(want):
        return [
            Violation(
                "ORDER-02",
                f"customer: the chat's All events {[w[0] for w in want]}",
                f"customer saw {[g[0] for g in got]}: {got[:6]}",
            )
        ]
    return []


def raise_first(violations: Sequence[Violation]) -> None:
    """Fail with the first violation (a NonConformance naming its requirement)."""
    from conformance.nonconformance import NonConformance

    if violations:
        first = violations[0]
        more = f" (+{len(violations) - 1} more)" if len(violations) > 1 else ""
        raise NonConformance(first.requirement, first.expected, first.actual + more)
