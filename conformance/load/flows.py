"""The flows one load user plays, on the gevent side: a customer and two agents (A and B), one chat at a
time, each step waiting for the notification that confirms it. A step waits with a deadline that grows
with the latency observed so far (a slow server gives latency figures, not timeouts); a timeout is an
ERROR, unless what arrived already shows a violation. Every finished chat is judged (judge.judge_chat).
"""

from __future__ import annotations

import itertools
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import gevent

from conformance import match
from conformance.actors import TAG_KEY
from conformance.chat_checks import decode as decode_seen
from conformance.load.judge import (
    Arrival,
    ChatRecord,
    Finding,
    OpRecord,
    delivery_latencies,
    evidence,
    judge_chat,
    judge_strays,
)
from conformance.load.settings import LoadTarget
from conformance.load.wire import Agent, AgentSession, Answer, Customer, StepTimeout, WireError
from conformance.notifications import Notification
from conformance.protocol import (
    ChatMessageType,
    NotificationType,
    Operation,
    Position,
    Profile,
    RoutingKey,
    State,
)
from conformance.transcript import Redactor

SETUP_ATTEMPTS = 5


class Reporter(Protocol):
    """Where a user's figures and findings go (the locustfile: Locust's stats and messages)."""

    def operation(self, name: str, ms: float, error: str | None) -> None: ...
    def delivery(self, kind: str, ms: float) -> None: ...
    def chat(self, flow: str, ms: float, error: str | None) -> None: ...
    def findings(self, found: list[Finding], evidence: str) -> None: ...
    def judged(self, ms: float, cpu_s: float) -> None: ...
    def error(self, message: str) -> None: ...


class StepFailed(Exception):
    """An operation got a statusCode other than 0."""


class StepViolation(Exception):
    """A step's confirming notification shows a violation (wrong capabilities after the step)."""

    def __init__(self, finding: Finding) -> None:
        super().__init__(f"{finding.requirement}: {finding.actual}")
        self.finding = finding


@dataclass
class Deadlines:
    """How long a step waits: the target's timeout_s, or 10 times the longest latency seen lately (delivery,
    operations, waits; it decays by 0.1% a sample), whichever is longer; each timeout doubles it, so a
    server that slows down gives latency figures and a few ERRORs, never a violation."""

    base_s: float
    peak_s: float = 0.0
    backoff_s: float = 0.0

    def observe(self, ms: float) -> None:
        self.peak_s = max(ms / 1000, self.peak_s * 0.999)
        self.backoff_s *= 0.99

    def timed_out(self) -> None:
        self.backoff_s = 2 * self.current()

    def current(self) -> float:
        return max(self.base_s, 10 * self.peak_s, self.backoff_s)


@dataclass
class Judging:
    on: bool = True
    cpu_s: float = 0.0  # thread CPU spent in judge_chat, judge_strays and evidence
    chats: int = 0
    notifications: int = 0


def _status(profile: Profile, a: Arrival) -> tuple[State | None, frozenset[str] | None]:
    seen = decode_seen(profile, a.data)
    return (seen.state, seen.capabilities) if seen.notice == NotificationType.STATUS_CHANGE else (None, None)


def _channel_since(agent: Agent, since: int) -> Callable[[], list[Arrival] | None]:
    return lambda: agent.channel_log[since:] or None


class Team:
    """One Locust user's parties: two agents (logged in, long-polling, Ready) and a customer per chat."""

    def __init__(
        self,
        target: LoadTarget,
        profile: Profile,
        logins: tuple[Any, Any],
        reporter: Reporter,
        deadlines: Deadlines,
        judging: Judging,
        redactor: Redactor,
        rounds: int = 3,
    ) -> None:
        self.target, self.profile, self.reporter = target, profile, reporter
        self.deadlines, self.judging, self.redactor, self.rounds = deadlines, judging, redactor, rounds
        self.errors: list[str] = []
        self.agents = tuple(
            Agent(
                login.username,
                login.id,
                AgentSession(target.base_url, login.username, login.password, profile, target.timeout_s),
                target.base_url,
                target.timeout_s,
                self.errors.append,
            )
            for login in logins
        )
        for agent in self.agents:
            agent.on_wait = deadlines.observe
        self.tags = itertools.count(1)
        self.prefix = f"{logins[0].username}-{random.randrange(16**6):06x}"
        self.done: set[str] = set()

    # -- setup ------------------------------------------------------------------------------------

    def start(self) -> None:
        for agent in self.agents:
            self._timed("login", agent.session.login)
            self.redactor_add(agent.session.secrets)
            self._timed("StartContactCenterSession", agent.session.start_session)
            agent.poller.start()
            for attempt in range(SETUP_ATTEMPTS):  # a slow server: the deadline grows, then Ready again
                since = len(agent.channel_log)
                self._timed("Ready", agent.session.set_ready)
                try:
                    agent.wait(_channel_since(agent, since), self.deadlines.current(), "Ready")
                    break
                except StepTimeout as err:
                    self.deadlines.timed_out()
                    self.reporter.error(f"agent setup: {err}")
                    if attempt + 1 == SETUP_ATTEMPTS:
                        raise

    def redactor_add(self, values: list[str]) -> None:
        for value in values:
            self.redactor.add(value)

    def close(self) -> None:
        for agent in self.agents:
            agent.close()

    def _timed(self, name: str, call: Callable[[], Answer]) -> Answer:
        try:
            answer = call()
        except WireError as err:
            self.reporter.operation(name, 0.0, str(err))
            raise
        ok = answer.status_code == 0
        self.reporter.operation(name, answer.elapsed_ms, None if ok else f"statusCode {answer.status_code}")
        self.deadlines.observe(answer.elapsed_ms)
        if not ok:
            raise StepFailed(f"{name}: HTTP {answer.http_status} statusCode {answer.status_code}")
        return answer

    # -- one chat ---------------------------------------------------------------------------------

    def play(self, flow: str) -> None:
        chat = ChatRun(self, flow, f"{self.prefix}-{next(self.tags)}")
        started = time.monotonic()
        try:
            getattr(chat, flow)()
        except StepViolation as err:  # judged as far as it went; the step's own finding with it
            chat.abandon(str(err), [err.finding])
            return
        except (StepTimeout, StepFailed, WireError) as err:
            if isinstance(err, StepTimeout):
                self.deadlines.timed_out()
            chat.abandon(str(err))
            self.reporter.chat(flow, (time.monotonic() - started) * 1000, f"{type(err).__name__}: {err}")
            return
        finally:
            chat.customer.close()
        self.reporter.chat(flow, (time.monotonic() - started) * 1000, None)


class ChatRun:
    def __init__(self, team: Team, flow: str, tag: str) -> None:
        self.team, self.profile = team, team.profile
        self.a, self.b = team.agents
        self.tag = tag
        self.rec = ChatRecord("", flow)
        self.customer = Customer(
            team.target.gms_url, team.target.service, team.profile, team.target.timeout_s
        )
        self.parties: list[Agent] = []
        self.n = itertools.count(1)

    # -- requests ---------------------------------------------------------------------------------

    def _op(self, actor: str, name: str, call: Callable[[], Answer], text: str | None = None) -> Answer:
        answer = self.team._timed(name, call)
        self.rec.ops.append(
            OpRecord(actor, name, answer.sent_at, answer.received_at, answer.status_code, text)
        )
        return answer

    def perform(self, agent: Agent, op: Operation, text: str | None = None, **fields: object) -> Answer:
        if text is not None:
            fields["text"] = text
        return self._op(
            agent.name,
            self.profile.wire(op),
            lambda: agent.session.perform(self.rec.interaction_id, op, **fields),
            text,
        )

    def customer_send(self, text: str) -> None:
        self._op("customer", "customer send", lambda: self.customer.send(text), text)

    # -- waits ------------------------------------------------------------------------------------

    def wait_status(
        self,
        agent: Agent,
        since: int,
        state: State,
        position: Position | None = None,
        requirement: str = "STATE-01",
    ) -> int:
        """The position in the agent's log (after `since`) of the step's StatusChange to this state. One
        step gives at most one StatusChange per agent: when it carries other capabilities than the row
        of `position`, the step broke `requirement` (or STATE-01, when they are no row at all: the
        harness's match.status_change says which) and StepViolation ends the chat."""
        iid = self.rec.interaction_id
        check = match.status_change(self.profile, iid, state, position)

        def found() -> int | None:
            log = agent.log(iid)
            for pos in range(since, len(log)):
                if _status(self.profile, log[pos])[0] != state:
                    continue
                a = log[pos]
                why = check(Notification(a.seq, a.channel, a.data, a.at))
                if why is None:
                    return pos + 1
                rid = why.requirement if isinstance(why, match.OffTable) else requirement
                what = position.value if position else state.value
                raise StepViolation(
                    Finding(
                        rid,
                        f"{agent.name}: the capabilities of {what} after the step",
                        str(why),
                        iid,
                        self.rec.flow,
                    )
                )
            return None

        what = f"StatusChange {state.value}" + (f" ({position.value})" if position else "")
        try:
            return agent.wait(found, self.team.deadlines.current(), what)
        except StepTimeout:
            if not self.barrier_passed(agent):
                raise  # no proof either way: an ERROR
            again = found()
            if again is not None:
                return again
            raise StepViolation(
                Finding(
                    requirement,
                    f"{agent.name}: {what} after the step",
                    "none arrived before a later barrier (Ready's ChannelStateChanged, "
                    "on the same client's FIFO queue)",
                    iid,
                    self.rec.flow,
                )
            ) from None

    def barrier_passed(self, agent: Agent) -> bool:
        """Ready, and its ChannelStateChanged arrived: everything queued for this client before it has
        (the harness's Agent.barrier, on the gevent side). False when that too is late."""
        since = len(agent.channel_log)
        try:
            agent.session.set_ready()
            agent.wait(_channel_since(agent, since), self.team.deadlines.current(), "the Ready barrier")
        except (StepTimeout, WireError):
            return False
        return True

    def wait_notice(self, agent: Agent, since: int, notice: NotificationType) -> int:
        iid, wire = self.rec.interaction_id, self.profile.wire(notice)

        def found() -> int | None:
            log = agent.log(iid)
            return next(
                (pos + 1 for pos in range(since, len(log)) if log[pos].data.get("notificationType") == wire),
                None,
            )

        return agent.wait(found, self.team.deadlines.current(), notice.value)

    def wait_invitation(self, agent: Agent) -> str:
        """The id of the interaction the agent is invited to whose user data carries this chat's tag."""
        invited = self.profile.wire(State.INVITED)

        def tagged(a: Arrival) -> bool:
            inter = a.data.get("interaction")
            return (
                isinstance(inter, dict)
                and inter.get("state") == invited
                and isinstance(inter.get("userData"), dict)
                and inter["userData"].get(TAG_KEY) == self.tag
            )

        def found() -> str | None:
            # anywhere in the log: notifications before the invitation are ORDER-01's, judged at the end
            return next((iid for iid, log in agent.by_interaction.items() if any(map(tagged, log))), None)

        iid = agent.wait(found, self.team.deadlines.current(), f"invitation tagged {self.tag}")
        if agent not in self.parties:
            self.parties.append(agent)
        return iid

    def mark(self, agent: Agent) -> int:
        return len(agent.log(self.rec.interaction_id))

    # -- steps ------------------------------------------------------------------------------------

    def start(self) -> None:
        user_data = {TAG_KEY: self.tag, self.profile.wire(RoutingKey.TO_AGENT): self.a.session.username}
        self._op("customer", "customer start", lambda: self.customer.start(f"cust-{self.tag}", user_data))
        self.team.redactor_add(self.customer.secrets)
        self.rec.interaction_id = self.wait_invitation(self.a)

    def accept(self, agent: Agent, position: Position = Position.OWNER) -> None:
        since = self.mark(agent)
        self.perform(agent, Operation.ACCEPT)
        self.wait_notice(agent, since, NotificationType.CHAT_HISTORY)
        self.wait_status(agent, since, State.PROCESSING, position, "ACCEPT-01")

    def exchange(self, agent: Agent, rounds: int) -> None:
        """The customer and the agent send at once (typing too); then a history request is the barrier:
        once its ChatHistory arrived, everything produced before it has (one FIFO queue per client)."""

        def customer() -> None:
            for _ in range(rounds):
                self.customer_send(f"{self.tag} customer {next(self.n)}")

        other = gevent.spawn(customer)
        typing = ChatMessageType.TYPING_STARTED
        self.perform(agent, Operation.SEND_NOTIFICATION, notification=self.profile.wire(typing))
        for _ in range(rounds):
            self.perform(agent, Operation.SEND_MESSAGE, text=f"{self.tag} {agent.name} {next(self.n)}")
        other.join()
        if other.exception is not None:
            raise other.exception
        self.barrier(agent)

    def barrier(self, agent: Agent) -> list[dict[str, Any]]:
        since = self.mark(agent)
        self.perform(agent, Operation.REQUEST_CHAT_HISTORY)
        at = self.wait_notice(agent, since, NotificationType.CHAT_HISTORY)
        messages = agent.log(self.rec.interaction_id)[at - 1].data.get("messages")
        return [m for m in messages if isinstance(m, dict)] if isinstance(messages, list) else []

    def consult(self, owner: Agent, consultant: Agent) -> None:
        since = self.mark(owner)
        self.perform(owner, Operation.INITIATE_CONSULTATION, agent_id=consultant.id)
        self.wait_status(owner, since, State.PROCESSING, Position.OWNER_CONSULTANT_INVITED, "CONSULT-01")
        self.wait_invitation(consultant)

    def consultant_joins(self, owner: Agent, consultant: Agent) -> None:
        since = self.mark(owner)
        self.accept(consultant, Position.CONSULTANT)
        self.wait_status(owner, since, State.PROCESSING, Position.OWNER_CONSULTANT_JOINED, "CONSULT-02")

    def end(self, final: Agent) -> None:
        """The customer leaves; the last agent takes the complete history, the customer its transcript;
        then the last agent stops. Judged."""
        since = self.mark(final)
        self._op("customer", "customer disconnect", lambda: self.customer.action("disconnect"))
        self.wait_status(final, since, State.PROCESSING, Position.CUSTOMER_LEFT)
        self.rec.history = self.barrier(final)
        self.rec.history_by = final.name
        self.rec.judged_upto[final.name] = self.mark(final)
        answer = self._op("customer", "customer refresh", self.customer.refresh)
        messages = answer.body.get("messages") if isinstance(answer.body, dict) else None
        self.rec.transcript = (
            [m for m in messages if isinstance(m, dict)] if isinstance(messages, list) else []
        )
        since = self.mark(final)
        self.perform(final, Operation.STOP_PROCESSING)
        self.wait_status(final, since, State.COMPLETED)
        self.finish()

    # -- the flows --------------------------------------------------------------------------------

    def simple(self) -> None:
        self.start()
        self.accept(self.a)
        self.exchange(self.a, self.team.rounds)
        self.end(self.a)

    def transfer(self) -> None:
        self.start()
        self.accept(self.a)
        self.exchange(self.a, 1)
        since = self.mark(self.a)
        self.perform(self.a, Operation.TRANSFER, agent_id=self.b.id)
        self.wait_status(self.a, since, State.COMPLETED)
        self.wait_invitation(self.b)
        self.accept(self.b)
        self.exchange(self.b, self.team.rounds)
        self.end(self.b)

    def consult_transfer(self) -> None:
        self.start()
        self.accept(self.a)
        self.exchange(self.a, 1)
        self.consult(self.a, self.b)
        self.consultant_joins(self.a, self.b)
        self.perform(self.b, Operation.SEND_MESSAGE, text=f"{self.tag} consultant {next(self.n)}")
        since_a, since_b = self.mark(self.a), self.mark(self.b)
        self.perform(self.a, Operation.COMPLETE_TRANSFER)
        self.wait_status(self.a, since_a, State.COMPLETED)
        self.wait_status(self.b, since_b, State.PROCESSING, Position.OWNER, "COMPLETE-TRANSFER-01")
        self.exchange(self.b, self.team.rounds)
        self.end(self.b)

    def conference(self) -> None:
        self.start()
        self.accept(self.a)
        self.consult(self.a, self.b)
        self.consultant_joins(self.a, self.b)
        since_a, since_b = self.mark(self.a), self.mark(self.b)
        self.perform(self.a, Operation.COMPLETE_CONFERENCE)
        self.wait_status(
            self.a, since_a, State.PROCESSING, Position.CONFERENCE_MEMBER, "COMPLETE-CONFERENCE-01"
        )
        self.wait_notice(self.b, since_b, NotificationType.PARTICIPANTS_UPDATED)
        self.perform(self.b, Operation.SEND_MESSAGE, text=f"{self.tag} member {next(self.n)}")
        self.exchange(self.a, self.team.rounds)
        since_a, since_b = self.mark(self.a), self.mark(self.b)
        self.perform(self.b, Operation.STOP_PROCESSING)
        self.wait_status(self.b, since_b, State.COMPLETED)
        self.wait_status(self.a, since_a, State.PROCESSING, Position.OWNER, "STOP-01")
        self.end(self.a)

    def consult_reject(self) -> None:
        self.start()
        self.accept(self.a)
        self.consult(self.a, self.b)
        since_a, since_b = self.mark(self.a), self.mark(self.b)
        self.perform(self.b, Operation.REJECT)
        self.wait_status(self.b, since_b, State.COMPLETED)
        self.wait_status(self.a, since_a, State.PROCESSING, Position.OWNER, "CONSULT-03")
        self.exchange(self.a, self.team.rounds)
        self.end(self.a)

    # -- judging ----------------------------------------------------------------------------------

    def _collect(self) -> None:
        iid = self.rec.interaction_id
        for agent in self.parties:
            log, dups = agent.forget(iid)
            self.rec.logs[agent.name] = log
            if dups:
                self.rec.duplicates[agent.name] = dups

    def finish(self) -> None:
        team, judging = self.team, self.team.judging
        self._collect()
        team.done.add(self.rec.interaction_id)
        for kind, ms in delivery_latencies(self.profile, self.rec):
            team.reporter.delivery(kind, ms)
            team.deadlines.observe(ms)
        judging.chats += 1
        judging.notifications += sum(len(log) for log in self.rec.logs.values())
        if not judging.on:
            return
        cpu, wall = time.thread_time(), time.monotonic()
        found = judge_chat(self.profile, self.rec)
        found += self._strays()
        text = evidence(self.rec, team.redactor) if found else ""
        judging.cpu_s += time.thread_time() - cpu
        team.reporter.judged((time.monotonic() - wall) * 1000, time.thread_time() - cpu)
        if found:
            team.reporter.findings(found, text)

    def _strays(self) -> list[Finding]:
        """Notifications about interactions this user's agents were never invited to (NOTIFY-05), or about
        a chat after it was Completed for them (STATE-05)."""
        found: list[Finding] = []
        for agent in self.team.agents:
            for iid in [i for i in agent.by_interaction if i != self.rec.interaction_id]:
                log = agent.by_interaction[iid]
                if iid in self.team.done:
                    agent.by_interaction.pop(iid)
                    found.append(
                        Finding(
                            "STATE-05",
                            f"{agent.name}: nothing after Completed",
                            f"{len(log)} notification(s) after the chat ended",
                            iid,
                            self.rec.flow,
                        )
                    )
                else:
                    strays = judge_strays(self.profile, agent.name, iid, log)
                    if strays:
                        agent.by_interaction.pop(iid)
                        found += strays
        return found

    def abandon(self, why: str, found: list[Finding] | None = None) -> None:
        """A step failed, timed out or showed a violation (`found`): judge what the order alone proves,
        then leave the chat best-effort."""
        team = self.team
        self.rec.note = why
        self._collect()
        found = list(found or [])
        if (team.judging.on or found) and self.rec.interaction_id:
            cpu = time.thread_time()
            found += judge_chat(self.profile, self.rec) if team.judging.on else []
            text = evidence(self.rec, team.redactor) if found else ""
            team.judging.cpu_s += time.thread_time() - cpu
            if found:
                team.reporter.findings(found, text)
        ignored = self.rec.interaction_id
        try:
            self.customer.action("disconnect")
            for agent in self.parties:
                for op in (Operation.STOP_PROCESSING, Operation.REJECT):
                    agent.session.perform(ignored, op)
        except WireError:
            pass
        for agent in team.agents:
            agent.ignore(ignored)
