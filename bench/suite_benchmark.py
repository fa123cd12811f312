"""Benchmark of the suite itself (a script, not a test): run `python bench/suite_benchmark.py`.

Measures, in one invocation:
1. the full default run (`gws-conformance run`, embedded reference server, hypothesis profile `ci`,
   optionally `--workers N`): its wall time;
2. the suite's requests: every HTTP exchange of agents and customers and every Bayeux request the
   harness sent, counted in each pytest process by this module loaded as a plugin
   (PYTEST_PLUGINS=suite_benchmark), and their rate over the run's wall time;
3. the time the harness spent blocked waiting for events (NotificationLog.wait_for,
   Customer.wait_for_message): the wall time during which at least one such wait was pending, per
   process, against the session's test time (working = test time - waiting);
   and what the cross-view checks cost (steps.views_agree, after every flow step, machine rule and
   `chats` teardown): the wall time while one was running, and the transcript entries meanwhile;
4. bare loops of the same kind of request (SendMessage POST /api/v2/me/interactions/{id} with the
   session cookie and the CSRF token) against a reference server started the same way as the
   embedded one (a thread of this process): stdlib http.client keep-alive, and the suite's own
   httpx client (conformance.client.make_http).

Goals: full run <= 30 s; suite requests/s >= 50% of the bare http.client loop.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import http.client
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

OUT_ENV = "GWS_BENCH_OUT"  # where each instrumented pytest process writes its counters
BENCH_DIR = Path(__file__).resolve().parent
GOAL_RUN_S = 30.0
GOAL_RATIO = 0.5


# ---- the plugin side: loaded into every pytest process of the measured run ---------------------


class Counters:
    """Requests by transcript kind, and the union of the intervals during which a wait was pending."""

    def __init__(self) -> None:
        self.kinds: dict[str, int] = {}
        self.waits = 0
        self.pending = 0
        self.blocked_s = 0.0
        self._since = 0.0
        self.tests_s = 0.0

    def enter(self) -> None:
        if self.pending == 0:
            self._since = time.monotonic()
        self.pending += 1
        self.waits += 1

    def leave(self) -> None:
        self.pending -= 1
        if self.pending == 0:
            self.blocked_s += time.monotonic() - self._since


COUNTERS = Counters()
VIEW_CHECKS = Counters()  # the cross-view checks: time while one runs, requests sent meanwhile


def _instrument() -> None:
    from conformance import api, fixtures, steps
    from conformance.actors import Customer
    from conformance.notifications import NotificationLog
    from conformance.transcript import Transcript

    original_add = Transcript.add

    def add(self: Transcript, kind: Any, actor: str, summary: str, detail: str = "") -> int:
        key = str(kind)
        COUNTERS.kinds[key] = COUNTERS.kinds.get(key, 0) + 1
        if VIEW_CHECKS.pending:
            VIEW_CHECKS.kinds[key] = VIEW_CHECKS.kinds.get(key, 0) + 1
        return original_add(self, kind, actor, summary, detail)

    def timed(original: Any, counters: Counters = COUNTERS) -> Any:
        async def wrapper(*args: Any, **kwargs: Any) -> Any:
            counters.enter()
            try:
                return await original(*args, **kwargs)
            finally:
                counters.leave()

        return wrapper

    Transcript.add = add  # type: ignore[method-assign]
    NotificationLog.wait_for = timed(NotificationLog.wait_for)  # type: ignore[method-assign]
    Customer.wait_for_message = timed(Customer.wait_for_message)  # type: ignore[method-assign]
    views_agree = timed(steps.views_agree, VIEW_CHECKS)
    for module in (steps, api, fixtures):  # every name the suites and the harness call it by
        module.views_agree = views_agree  # type: ignore[attr-defined]


if os.environ.get(OUT_ENV) and __name__ != "__main__":
    import pytest

    _instrument()

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_protocol(item: Any, nextitem: Any) -> Any:
        started = time.monotonic()
        try:
            return (yield)
        finally:
            COUNTERS.tests_s += time.monotonic() - started

    def pytest_unconfigure(config: Any) -> None:
        out = Path(os.environ[OUT_ENV]) / f"{os.getpid()}.json"
        worker = getattr(config, "workerinput", {}).get("workerid", "main")
        out.write_text(json.dumps({"worker": worker, "kinds": COUNTERS.kinds, "waits": COUNTERS.waits,
                                   "blocked_s": COUNTERS.blocked_s, "tests_s": COUNTERS.tests_s,
                                   "view_checks": VIEW_CHECKS.waits, "view_checks_s": VIEW_CHECKS.blocked_s,
                                   "view_check_requests": sum(VIEW_CHECKS.kinds.values())}))


# ---- the driver side ----------------------------------------------------------------------------


def run_suite(workers: int | None, extra: list[str]) -> dict[str, Any]:
    """One `gws-conformance run`, instrumented; its wall time, exit status and merged counters."""
    with tempfile.TemporaryDirectory(prefix="gws-bench-") as tmp:
        out = Path(tmp) / "counters"
        out.mkdir()
        env = dict(os.environ)
        env[OUT_ENV] = str(out)
        env["PYTEST_PLUGINS"] = "suite_benchmark"
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(BENCH_DIR), env.get("PYTHONPATH", "")) if p)
        cmd = [sys.executable, "-m", "conformance.cli", "run", "--report-dir", str(Path(tmp) / "reports"),
               *(["--workers", str(workers)] if workers else []), *extra]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.monotonic()
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
        wall = time.monotonic() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        summary_path = Path(tmp) / "reports" / "summary.json"
        summary = json.loads(summary_path.read_text()) if summary_path.exists() else {}
        processes = [json.loads(p.read_text()) for p in sorted(out.glob("*.json"))]
    kinds: dict[str, int] = {}
    for p in processes:
        for k, n in p["kinds"].items():
            kinds[k] = kinds.get(k, 0) + n
    return {"wall_s": wall, "cpu_s": cpu, "exit": done.returncode, "totals": summary.get("totals", {}),
            "verdict": summary.get("verdict"), "kinds": kinds, "processes": processes,
            "tail": done.stdout[-1500:] + done.stderr[-1500:]}


def _session(url: str, user: str = "alice") -> tuple[str, dict[str, str]]:
    """Log in with http.client: (the session cookie header, the CSRF header pair)."""
    from conformance.protocol import DEFAULT_PROFILE as P
    from conformance.protocol.names import Field, Operation

    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port)
    basic = "Basic " + base64.b64encode(f"{user}:password".encode()).decode()
    conn.request("GET", P.http.api_prefix + "/me", headers={"Authorization": basic})
    resp = conn.getresponse()
    resp.read()
    cookie = ""
    for name, value in resp.getheaders():
        if name.lower() == "set-cookie" and value.startswith(P.http.session_cookie + "="):
            cookie = value.split(";", 1)[0]
    header = resp.getheader(P.http.csrf_header_name_header) or P.http.csrf_token_header
    token = resp.getheader(header) or ""
    start = {P.wire(Field.OPERATION): P.wire(Operation.START_SESSION), "channels": ["chat"]}
    conn.request("POST", P.http.api_prefix + "/me", body=json.dumps(start),
                 headers={"Cookie": cookie, header: token, "Content-Type": "application/json"})
    conn.getresponse().read()
    conn.close()
    return cookie, {header: token}


def _chat_for(url: str, cookie: str, csrf: dict[str, str]) -> str:
    """A customer's chat routed to alice, accepted: its interaction id."""
    from conformance.protocol import DEFAULT_PROFILE as P
    from conformance.protocol.names import Field, Operation, RoutingKey
    from conformance.simulator.accounts import SERVICE

    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port)
    headers = {"Cookie": cookie, "Content-Type": "application/json", **csrf}
    conn.request("POST", P.http.api_prefix + "/me/channels/chat",
                 body=json.dumps({P.wire(Field.OPERATION): P.wire(Operation.READY)}), headers=headers)
    conn.getresponse().read()
    form = (f"nickname=bench&userData%5B{P.wire(RoutingKey.TO_AGENT)}%5D=alice")
    conn.request("POST", P.http.gms_prefix + f"/{SERVICE}", body=form,
                 headers={"Content-Type": "application/x-www-form-urlencoded"})
    conn.getresponse().read()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:  # the invitation: poll the agent's interaction list
        conn.request("GET", P.http.api_prefix + "/me/interactions", headers={"Cookie": cookie})
        body = json.loads(conn.getresponse().read() or b"{}")
        uris = body.get("uris") or []
        if uris:
            chat = str(uris[0]).rsplit("/", 1)[1]
            accept = json.dumps({P.wire(Field.OPERATION): P.wire(Operation.ACCEPT)})
            conn.request("POST", P.http.api_prefix + f"/me/interactions/{chat}", body=accept, headers=headers)
            reply = json.loads(conn.getresponse().read())
            assert reply.get("statusCode") == 0, reply
            return chat
    raise RuntimeError("no invitation for the bare loop's chat")


def bare_loops(seconds: float) -> dict[str, float]:
    """SendMessage requests/s: http.client keep-alive, and the suite's httpx client."""
    from conformance.client import make_http
    from conformance.protocol import DEFAULT_PROFILE as P
    from conformance.protocol.names import Field, Operation
    from conformance.simulator.server import ReferenceServer

    with ReferenceServer() as server:
        cookie, csrf = _session(server.url)
        chat = _chat_for(server.url, cookie, csrf)
        path = P.http.api_prefix + f"/me/interactions/{chat}"
        headers = {"Cookie": cookie, "Content-Type": "application/json", **csrf}

        def body(i: int) -> bytes:
            return json.dumps({P.wire(Field.OPERATION): P.wire(Operation.SEND_MESSAGE),
                               P.wire(Field.TEXT): f"bare {i}"}).encode()

        parts = urlsplit(server.url)
        conn = http.client.HTTPConnection(parts.hostname, parts.port)
        n, started = 0, time.monotonic()
        while time.monotonic() - started < seconds:
            conn.request("POST", path, body=body(n), headers=headers)
            resp = conn.getresponse()
            resp.read()
            assert resp.status == 200, resp.status
            n += 1
        stdlib = n / (time.monotonic() - started)
        conn.close()

        async def httpx_loop() -> float:
            http = make_http(10.0)
            try:
                count, begun = 0, time.monotonic()
                while time.monotonic() - begun < seconds:
                    r = await http.post(server.url + path, content=body(count), headers=headers)
                    assert r.status_code == 200, r.status_code
                    count += 1
                return count / (time.monotonic() - begun)
            finally:
                await http.aclose()

        return {"http.client": stdlib, "httpx (suite transport)": asyncio.run(httpx_loop())}


def _view_checks(processes: list[dict[str, Any]], tests_s: float, requests: int) -> str:
    spent = sum(p["view_checks_s"] for p in processes)
    sent = sum(p["view_check_requests"] for p in processes)
    checks = sum(p["view_checks"] for p in processes)
    share = spent / tests_s if tests_s else 0
    return (f"{checks:,} checks, {spent:.1f} s ({share:.0%} of test time), {sent:,} transcript entries "
            f"({sent / requests if requests else 0:.0%} of the run's)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--workers", type=int, action="append",
                        help="also measure a run with N xdist workers (repeatable)")
    parser.add_argument("--bare-seconds", type=float, default=3.0)
    parser.add_argument("--skip-suite", action="store_true", help="only the bare loops")
    parser.add_argument("run_args", nargs="*", help="extra `gws-conformance run` options (after --)")
    args = parser.parse_args(argv)

    rows: list[tuple[str, str]] = []
    bare = bare_loops(args.bare_seconds)
    for name, rate in bare.items():
        rows.append((f"bare SendMessage loop, {name}", f"{rate:,.0f} req/s"))
    ok = True
    if not args.skip_suite:
        for workers in [None, *(args.workers or [])]:
            label = f"--workers {workers}" if workers else "default"
            res = run_suite(workers, args.run_args)
            if res["exit"] not in (0, 1):
                print(res["tail"], file=sys.stderr)
            k = res["kinds"]
            api = k.get("http", 0) + k.get("customer", 0)
            bayeux = k.get("bayeux-out", 0)
            rate = (api + bayeux) / res["wall_s"]
            blocked = sum(p["blocked_s"] for p in res["processes"])
            tests = sum(p["tests_s"] for p in res["processes"])
            t = res["totals"]
            rows += [
                (f"[{label}] full run wall time", f"{res['wall_s']:.1f} s (goal <= {GOAL_RUN_S:g} s)"),
                (f"[{label}] CPU time (all processes)", f"{res['cpu_s']:.1f} s"),
                (f"[{label}] exit / verdict", f"{res['exit']} / {res['verdict']}"),
                (f"[{label}] tests", ", ".join(f"{n} {o}" for o, n in t.items() if n)),
                (f"[{label}] requests (api+customer / bayeux)", f"{api:,} / {bayeux:,}"),
                (f"[{label}] suite requests/s over the run", f"{rate:,.0f} "
                 f"({rate / bare['http.client']:.0%} of http.client; goal >= {GOAL_RATIO:.0%})"),
                (f"[{label}] test time (sum over processes)", f"{tests:.1f} s"),
                (f"[{label}] blocked waiting for events", f"{blocked:.1f} s "
                 f"({sum(p['waits'] for p in res['processes']):,} waits; "
                 f"{blocked / tests if tests else 0:.0%} of test time)"),
                (f"[{label}] working (test time - waiting)", f"{tests - blocked:.1f} s"),
                (f"[{label}] cross-view checks", _view_checks(res["processes"], tests, sum(k.values()))),
            ]
            ok = ok and res["wall_s"] <= GOAL_RUN_S and res["exit"] in (0, 1)
    width = max(len(r[0]) for r in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
