"""The load mode's locustfile: `locust -f conformance/load/locustfile.py --gws-target t.toml ...` or
`gws-conformance load` (which starts the embedded reference server and passes the options).

Each user plays one customer and two agents (flows.Team), one chat after another, the flows picked by
weight; every finished chat is judged. Figures go to Locust's own stats (request types OP, DELIVERY,
FLOW, JUDGE); a violation is a Locust failure (JUDGE, named by requirement) and a message to the master
(or to this process, when local), which writes the one summary.json when Locust quits. Works unchanged
with --processes N and --master / --worker: custom options travel with Locust's spawn message, and each
worker takes its own share of the target's agents (by its worker index).
"""

from __future__ import annotations

import logging
import random
import resource
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import gevent
from locust import User, constant, events, task
from locust.env import Environment
from locust.exception import StopUser
from locust.runners import MasterRunner, WorkerRunner

from conformance.load import summary as summary_mod
from conformance.load.flows import Deadlines, Judging, StepFailed, Team
from conformance.load.judge import Finding
from conformance.load.settings import (
    AGENTS_PER_USER,
    DEFAULT_MAX_REQUESTS,
    FLOWS,
    LoadError,
    LoadTarget,
    check_bounds,
    check_hosts,
    parse_weights,
    read_target,
)
from conformance.load.summary import DELIVERY, FLOW, JUDGE, OPERATION, Collector, StatRow
from conformance.load.wire import StepTimeout, WireError
from conformance.protocol import DEFAULT_PROFILE, Profile, load_profile
from conformance.transcript import Redactor

log = logging.getLogger("gws-conformance.load")
MSG_FINDINGS, MSG_ERROR, MSG_NODE, MSG_LIMIT = "gws_findings", "gws_error", "gws_node", "gws_limit"
GRACE_S = 30.0  # past the run time, the run is ended whatever happens


F = TypeVar("F", bound=Callable[..., Any])


def _listen(hook: Any) -> Callable[[F], F]:
    """`@_listen(events.init)`: Locust's add_listener, typed."""

    def register(function: F) -> F:
        hook.add_listener(function)
        return function

    return register


class Violation(Exception):
    """A violated requirement, as a Locust failure."""


class FlowError(Exception):
    """A chat that could not be finished (timeout, refused step, network): an ERROR, not a violation."""


class _State:
    """This process's side of the run."""

    def __init__(self) -> None:
        self.target: LoadTarget | None = None
        self.profile: Profile = DEFAULT_PROFILE
        self.weights: dict[str, int] = {}
        self.judging = Judging()
        self.deadlines = Deadlines(10.0)
        self.redactor = Redactor()
        self.collector = Collector()
        self.free: list[int] = []
        self.next_slot = 0
        self.requests = 0
        self.max_requests = DEFAULT_MAX_REQUESTS
        self.started = 0.0
        self.stopped = 0.0
        self.cpu_at_start = 0.0
        self.limit_hit = False


STATE = _State()


@_listen(events.init_command_line_parser)
def _options(parser: Any) -> None:
    group = parser
    group.add_argument(
        "--gws-target", default="", help="the target file (TOML); gws-conformance load writes one"
    )
    group.add_argument("--gws-report-dir", default="reports/load", help="where summary.json goes")
    group.add_argument("--gws-flows", default="", help="flow weights, e.g. simple=3,transfer=1,conference=0")
    group.add_argument("--gws-judge", default="on", choices=["on", "off"], help="judge every chat (on)")
    group.add_argument("--gws-max-requests", type=int, default=DEFAULT_MAX_REQUESTS, help="stop after these")
    group.add_argument("--gws-rounds", type=int, default=3, help="messages each way per exchange")
    group.add_argument(
        "--gws-timeout", type=float, default=0.0, help="base step deadline, s (target's timeout_s)"
    )
    group.add_argument("--gws-profile", default="", help="a profile file merged over the default")
    group.add_argument(
        "--gws-workers", type=int, default=1, include_in_web_ui=False, help="(set by the master)"
    )


def _opts(environment: Environment) -> Any:
    """The parsed options (Locust sets them before any event of ours)."""
    assert environment.parsed_options is not None
    return environment.parsed_options


def _runner(environment: Environment) -> Any:
    assert environment.runner is not None
    return environment.runner


def _cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _configure(environment: Environment) -> None:
    """Read the options (on a worker: as the master sent them with the spawn message)."""
    opts = _opts(environment)
    if not opts.gws_target:
        raise LoadError("--gws-target: the target file is required (gws-conformance load writes one)")
    target = read_target(Path(opts.gws_target))
    check_hosts(target, [environment.host])
    STATE.target = target
    STATE.profile = load_profile(opts.gws_profile or None)
    STATE.weights = parse_weights(opts.gws_flows)
    STATE.judging.on = opts.gws_judge == "on"
    STATE.deadlines = Deadlines(opts.gws_timeout or target.timeout_s)
    STATE.max_requests = opts.gws_max_requests
    for secret in target.secrets:
        STATE.redactor.add(secret)


@_listen(events.init)
def _init(environment: Environment, **_: Any) -> None:
    runner = environment.runner
    opts = environment.parsed_options
    if opts is None or runner is None:
        return
    if not isinstance(runner, WorkerRunner):
        try:
            check_bounds(
                opts.num_users or 1, float(opts.spawn_rate or 1), opts.run_time, opts.gws_max_requests
            )
            _configure(environment)
        except LoadError as err:
            sys.stderr.write(f"gws-conformance load: {err}\n")
            sys.exit(2)
        runner.register_message(MSG_FINDINGS, _on_findings)
        runner.register_message(MSG_ERROR, _on_error)
        runner.register_message(MSG_NODE, _on_node)
        runner.register_message(MSG_LIMIT, _on_limit)


def _on_findings(environment: Environment, msg: Any, **_: Any) -> None:
    STATE.collector.add_findings(msg.data, str(msg.node_id))


def _on_error(environment: Environment, msg: Any, **_: Any) -> None:
    STATE.collector.add_error(str(msg.data.get("message")), int(msg.data.get("count", 1)))


def _on_node(environment: Environment, msg: Any, **_: Any) -> None:
    STATE.collector.add_node(str(msg.node_id), msg.data)


def _on_limit(environment: Environment, msg: Any, **_: Any) -> None:
    if not STATE.limit_hit:
        STATE.limit_hit = True
        log.warning("--gws-max-requests reached: stopping the run")
        gevent.spawn(_runner(environment).quit)


@_listen(events.test_start)
def _test_start(environment: Environment, **_: Any) -> None:
    runner = environment.runner
    STATE.started = time.monotonic()
    STATE.cpu_at_start = _cpu_s()
    if isinstance(runner, MasterRunner):
        _opts(environment).gws_workers = max(1, runner.worker_count)  # travels with the spawn message
    if isinstance(runner, WorkerRunner):
        _configure(environment)
    if not isinstance(runner, WorkerRunner):  # bounded whatever the options: the run ends by itself
        run_time = _opts(environment).run_time or check_bounds(1, 1.0, None, 1)
        gevent.spawn_later(run_time + GRACE_S, _runner(environment).quit)


@_listen(events.request)
def _count(request_type: str, **_: Any) -> None:
    if request_type != OPERATION:
        return
    STATE.requests += 1
    if STATE.requests == STATE.max_requests // max(1, _workers()):
        env = _ENV[0] if _ENV else None
        if env is not None and env.runner is not None:
            env.runner.send_message(MSG_LIMIT, {})


_ENV: list[Environment] = []


@_listen(events.init)
def _remember(environment: Environment, **_: Any) -> None:
    _ENV.append(environment)


def _workers() -> int:
    env = _ENV[0] if _ENV else None
    return int(getattr(env.parsed_options, "gws_workers", 1) or 1) if env and env.parsed_options else 1


def _node_figures() -> dict[str, float]:
    return {
        "cpu_s": _cpu_s() - STATE.cpu_at_start,
        "judge_cpu_s": STATE.judging.cpu_s,
        "chats": STATE.judging.chats,
        "notifications": STATE.judging.notifications,
    }


@_listen(events.report_to_master)
def _report(client_id: str, data: dict[str, Any], **_: Any) -> None:
    """A worker's figures ride on its every stats report (the last one is sent after it stopped)."""
    if STATE.started:
        data[MSG_NODE] = _node_figures()


@_listen(events.worker_report)
def _worker_report(client_id: str, data: dict[str, Any], **_: Any) -> None:
    if MSG_NODE in data:
        STATE.collector.add_node(str(client_id), data[MSG_NODE])


@_listen(events.test_stop)
def _test_stop(environment: Environment, **_: Any) -> None:
    STATE.stopped = time.monotonic()
    if not isinstance(environment.runner, (MasterRunner, WorkerRunner)) and environment.runner is not None:
        environment.runner.send_message(MSG_NODE, _node_figures())


def _rows(environment: Environment) -> list[StatRow]:
    rows = []
    for (name, method), entry in environment.stats.entries.items():
        if entry.num_requests == 0:
            continue
        rows.append(
            StatRow(
                method,
                name,
                entry.num_requests,
                entry.num_failures,
                entry.get_response_time_percentile(0.5),
                entry.get_response_time_percentile(0.95),
                entry.get_response_time_percentile(0.99),
                entry.max_response_time,
                entry.total_rps,
            )
        )
    return rows


@_listen(events.quitting)
def _quitting(environment: Environment, **_: Any) -> None:
    if isinstance(environment.runner, WorkerRunner) or STATE.target is None:
        return
    opts = _opts(environment)
    duration = (STATE.stopped or time.monotonic()) - (STATE.started or time.monotonic())
    target = {
        "base_url": STATE.target.base_url,
        "gms_url": STATE.target.gms_url,
        "agents": len(STATE.target.agents),
    }
    settings = {
        "users": opts.num_users,
        "spawn_rate": opts.spawn_rate,
        "run_time_s": opts.run_time,
        "flows": STATE.weights,
        "judging": STATE.judging.on,
        "workers": _workers() if isinstance(environment.runner, MasterRunner) else 0,
        "max_requests": STATE.max_requests,
        "profile": STATE.profile.name,
    }
    built = summary_mod.build_summary(
        STATE.collector,
        _rows(environment),
        settings=settings,
        target=target,
        duration_s=duration,
        judging=STATE.judging.on,
    )
    path = summary_mod.write(built, Path(opts.gws_report_dir))
    print(summary_mod.render(built), flush=True)
    print(f"load summary: {path}", flush=True)
    environment.process_exit_code = summary_mod.EXIT[built["verdict"]]


class _Reporter:
    def __init__(self, environment: Environment) -> None:
        self.env = environment
        self.fire: Callable[..., None] = environment.events.request.fire

    def _send(self, kind: str, data: dict[str, Any]) -> None:
        if self.env.runner is not None:
            self.env.runner.send_message(kind, data)

    def operation(self, name: str, ms: float, error: str | None) -> None:
        self.fire(
            request_type=OPERATION,
            name=name,
            response_time=ms,
            response_length=0,
            exception=FlowError(error) if error else None,
            context={},
        )

    def delivery(self, kind: str, ms: float) -> None:
        self.fire(
            request_type=DELIVERY, name=kind, response_time=ms, response_length=0, exception=None, context={}
        )

    def chat(self, flow: str, ms: float, error: str | None) -> None:
        self.fire(
            request_type=FLOW,
            name=flow,
            response_time=ms,
            response_length=0,
            exception=FlowError(error) if error else None,
            context={},
        )
        if error:
            self.error(error)

    def error(self, message: str) -> None:
        self._send(MSG_ERROR, {"message": _generic(message)})

    def findings(self, found: list[Finding], evidence: str) -> None:
        for f in found:
            self.fire(
                request_type=JUDGE,
                name=f.requirement,
                response_time=0,
                response_length=0,
                exception=Violation(f"{f.expected} / {f.actual}"[:300]),
                context={},
            )
        self._send(MSG_FINDINGS, {"findings": [f.as_dict() for f in found], "evidence": evidence})

    def judged(self, ms: float, cpu_s: float) -> None:
        self.fire(
            request_type=JUDGE, name="chat", response_time=ms, response_length=0, exception=None, context={}
        )


def _generic(message: str) -> str:
    """An error message without the parts that differ from chat to chat (tags, times), so that they count."""
    words = [w for w in message.split() if not any(ch.isdigit() for ch in w) or w.endswith(":")]
    return " ".join(words)[:200]


class ChatTeamUser(User):
    """One customer and two agents; one chat after another, no think time (the load is the chats)."""

    wait_time = constant(0)

    def on_start(self) -> None:
        if STATE.target is None:
            raise StopUser()
        self.slot = STATE.free.pop() if STATE.free else self._new_slot()
        first = self.slot * AGENTS_PER_USER
        agents = STATE.target.agents
        self.team: Team | None = None
        self.reporter = _Reporter(self.environment)
        if first + AGENTS_PER_USER > len(agents):
            self.reporter.error(f"the target has {len(agents)} agents: too few for this many users")
            return
        self.team = Team(
            STATE.target,
            STATE.profile,
            (agents[first], agents[first + 1]),
            self.reporter,
            STATE.deadlines,
            STATE.judging,
            STATE.redactor,
        )
        for agent in self.team.agents:
            agent.poller.on_error = self.reporter.error
        try:
            self.team.start()
        except (WireError, StepTimeout, StepFailed) as err:
            self.reporter.error(f"agent setup: {err}")
            self.team.close()
            self.team = None  # the task stops this user

    def _new_slot(self) -> int:
        env = self.environment
        index = env.runner.worker_index if isinstance(env.runner, WorkerRunner) else 0
        slot = STATE.next_slot * _workers() + max(0, index)
        STATE.next_slot += 1
        return slot

    @task
    def chat(self) -> None:
        if self.team is None:
            raise StopUser()
        names = [f for f in FLOWS if STATE.weights.get(f)]
        flow = random.choices(names, weights=[STATE.weights[f] for f in names])[0]
        started = time.monotonic()
        try:
            self.team.play(flow)
        except Exception as err:  # a harness bug or an unforeseen failure: counted as an ERROR, never lost
            log.exception("flow %s", flow)
            self.reporter.chat(flow, (time.monotonic() - started) * 1000, f"{type(err).__name__}: {err}")

    def on_stop(self) -> None:
        team = getattr(self, "team", None)
        if team is not None:
            team.close()
            STATE.free.append(self.slot)
