"""The judging glue of the load mode: one finished chat, as every party saw it, through the harness's pure
checks. No gevent, no asyncio, no I/O: the checks themselves are `conformance.chat_checks` (whole-chat
invariants) and `conformance.match` (notification shapes); this module only feeds them and labels what
they find for a run under load.

Labels: an ORDER-01..03 violation found under load is reported as ORDER-04 ("under concurrency the above
still hold"), naming the requirement it broke (`via`), as the suite's own ORDER-04 test does; a premise
(a wrong history) and the STATE, HISTORY, CUSTOMER and NOTIFY requirements keep their own ID.
"""

from __future__ import annotations

import bisect
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from conformance.chat_checks import Violation, check_agent, check_customer, check_history_complete, labels
from conformance.chat_checks import decode as decode_seen
from conformance.match import notification_shape
from conformance.notifications import MESSAGE_TYPE, NOTIFICATION_TYPE, Notification
from conformance.protocol import ChatMessageType, NotificationType, Profile, State
from conformance.transcript import Redactor

UNDER_LOAD = "ORDER-04"
EVIDENCE_LINE_CHARS = 700
EVIDENCE_CHARS = 24_000


@dataclass(frozen=True)
class Arrival:
    """One notification as an agent's long-poll delivered it."""

    seq: int  # its position in the agent's whole log
    channel: str
    data: dict[str, Any]
    at: float  # time.monotonic() when the connect reply holding it was read
    bayeux_id: str | None = None


@dataclass(frozen=True)
class OpRecord:
    """One request of the chat (an agent's operation or a customer's action)."""

    actor: str
    name: str
    sent_at: float
    received_at: float
    status_code: int | None
    text: str | None = None  # the text of a SendMessage or a customer send


@dataclass
class ChatRecord:
    """Everything one chat left: each agent's notifications about it, its requests, the complete history
    (taken by an agent still taking part after every other agent's last notification), the customer's
    transcript."""

    interaction_id: str
    flow: str
    logs: dict[str, list[Arrival]] = field(default_factory=dict)
    judged_upto: dict[str, int] = field(default_factory=dict)  # the log's prefix judged with the history
    history: list[dict[str, Any]] | None = None
    history_by: str = ""
    transcript: list[dict[str, Any]] | None = None
    duplicates: dict[str, list[Arrival]] = field(default_factory=dict)
    ops: list[OpRecord] = field(default_factory=list)
    note: str = ""  # why the chat was cut short (a timeout), when it was


@dataclass(frozen=True)
class Finding:
    """A violated requirement in one chat."""

    requirement: str
    expected: str
    actual: str
    interaction_id: str
    flow: str
    via: str | None = None  # the requirement of the check that found it, when relabelled

    def as_dict(self) -> dict[str, Any]:
        return {
            "requirement": self.requirement,
            "via": self.via,
            "expected": self.expected,
            "actual": self.actual,
            "interaction": self.interaction_id,
            "flow": self.flow,
        }


def _finding(v: Violation, rec: ChatRecord) -> Finding:
    if v.requirement.startswith("ORDER-") and not v.premise and v.requirement != UNDER_LOAD:
        return Finding(UNDER_LOAD, v.expected, v.actual, rec.interaction_id, rec.flow, via=v.requirement)
    return Finding(v.requirement, v.expected, v.actual, rec.interaction_id, rec.flow)


def judge_chat(profile: Profile, rec: ChatRecord) -> list[Finding]:
    """Every violation the harness's checks find in the chat. Without a history (a chat cut short by a
    timeout) only what the order alone proves is judged: a notification out of order or twice."""
    found: list[Violation] = []
    for name, log in rec.logs.items():
        for arrival in log:
            why = notification_shape(
                profile, Notification(arrival.seq, arrival.channel, arrival.data, arrival.at)
            )
            if why is not None:
                found.append(Violation("NOTIFY-04", f"{name}: a notification of section 3.1", why))
                break
        data = [a.data for a in log]
        upto = rec.judged_upto.get(name, len(data))
        judged = check_agent(profile, data[:upto], rec.history, who=name)
        if upto < len(data):  # the rest of the log (after the history was taken): order only
            known = {(v.requirement, v.expected) for v in judged}
            judged += [
                v
                for v in check_agent(profile, data, None, who=name)
                if (v.requirement, v.expected) not in known
            ]
        found += judged
        for dup in rec.duplicates.get(name, ()):
            found.append(
                Violation(
                    "NOTIFY-06",
                    f"{name}: every message once per client",
                    f"Bayeux message {dup.bayeux_id} delivered twice: {_brief(dup.data)}",
                )
            )
    if rec.history is not None:
        found += check_history_complete(profile, rec.history, rec.history_by)
        if rec.transcript is not None:
            found += check_customer(profile, rec.transcript, rec.history)
    return [_finding(v, rec) for v in found]


def judge_strays(profile: Profile, who: str, interaction_id: str, log: Sequence[Arrival]) -> list[Finding]:
    """Notifications about an interaction the agent was never invited to (NOTIFY-05): the first one is not
    its invitation."""
    if not log:
        return []
    first = decode_seen(profile, log[0].data)
    if first.notice == NotificationType.STATUS_CHANGE and first.state == State.INVITED:
        return []
    seen = labels(decode_seen(profile, a.data) for a in log)
    return [
        Finding(
            "NOTIFY-05",
            f"{who}: notifications only about its own interactions",
            f"{who} saw, about an interaction it was never invited to: {seen}",
            interaction_id,
            "stray",
        )
    ]


def kind_of(data: dict[str, Any]) -> str:
    """The notification's kind as Locust names it: its notificationType (messageType when it has none)."""
    return str(data.get(NOTIFICATION_TYPE) or data.get(MESSAGE_TYPE) or "?")


def delivery_latencies(profile: Profile, rec: ChatRecord) -> list[tuple[str, float]]:
    """(kind, ms) for every notification of the chat: from the HTTP response of the request that caused it
    (a Text: the request that sent that text; anything else: the chat's latest request sent before it
    arrived) to its arrival on the long-poll. A notification read before its request's response counts 0."""
    ops = sorted(rec.ops, key=lambda o: o.sent_at)
    starts = [o.sent_at for o in ops]
    by_text = {o.text: o for o in ops if o.text is not None}
    text_type = profile.wire(ChatMessageType.TEXT)
    out: list[tuple[str, float]] = []
    for log in rec.logs.values():
        for arrival in log:
            cause: OpRecord | None = None
            messages = arrival.data.get("messages")
            if isinstance(messages, list) and len(messages) == 1 and isinstance(messages[0], dict):
                msg = messages[0]
                if msg.get("type") == text_type and arrival.data.get(NOTIFICATION_TYPE) == profile.wire(
                    NotificationType.NEW_MESSAGES
                ):
                    cause = by_text.get(str(msg.get("text")))
            if cause is None:
                at = bisect.bisect_right(starts, arrival.at) - 1
                if at < 0:
                    continue
                cause = ops[at]
            out.append((kind_of(arrival.data), max(0.0, (arrival.at - cause.received_at) * 1000)))
    return out


def _brief(data: dict[str, Any]) -> str:
    text = json.dumps(data, ensure_ascii=False, sort_keys=True)
    return text if len(text) <= EVIDENCE_LINE_CHARS else text[:EVIDENCE_LINE_CHARS] + "…"


def evidence(rec: ChatRecord, redactor: Redactor) -> str:
    """The chat's transcript: its requests and every party's notifications in time order, the history
    and the customer's transcript; secrets (passwords, secureKeys, tokens) redacted."""
    t0 = min([o.sent_at for o in rec.ops] + [a.at for log in rec.logs.values() for a in log], default=0.0)
    lines: list[tuple[float, str]] = []
    for o in rec.ops:
        text = f" text={o.text!r}" if o.text is not None else ""
        lines.append(
            (
                o.sent_at,
                f"+{(o.sent_at - t0) * 1000:8.1f} ms  {o.actor} -> {o.name}{text} "
                f"(statusCode {o.status_code}, answered +{(o.received_at - t0) * 1000:.1f} ms)",
            )
        )
    for name, log in rec.logs.items():
        for a in log:
            lines.append(
                (a.at, f"+{(a.at - t0) * 1000:8.1f} ms  {name} <- #{a.seq} {a.channel} {_brief(a.data)}")
            )
    body = [line for _, line in sorted(lines, key=lambda item: item[0])]
    head = [f"chat {rec.interaction_id} (flow {rec.flow})" + (f": {rec.note}" if rec.note else "")]
    if rec.history is not None:
        body.append(f"complete history ({rec.history_by}): {_brief({'messages': rec.history})}")
    if rec.transcript is not None:
        body.append(f"customer transcript: {_brief({'messages': rec.transcript})}")
    text = "\n".join(head + body)
    if len(text) > EVIDENCE_CHARS:
        text = text[:EVIDENCE_CHARS] + "\n… (cut)"
    return redactor.redact(text)


def requirement_ids(findings: Iterable[Finding]) -> set[str]:
    return {f.requirement for f in findings}
