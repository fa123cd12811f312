"""A server killed, a gateway answering for it, a proxy closing connections, a wrong base_url: the run
is an ERROR (exit 3), never a FAIL; only one request hanging while the server answers others is the
server's deviation (STATUS-06). Each runs `gws-conformance run` as a user does."""

from __future__ import annotations

import re
import threading
from pathlib import Path

from conformance.protocol import DEFAULT_PROFILE, Operation
from tests.robustness.harness import (
    GATEWAY_PAGE,
    Proxy,
    RunResult,
    ServerProcess,
    http_response,
    run_suite,
    write_target,
)

TIMEOUT_S = 2.0
DEV = ("--hypothesis-profile", "dev")
SEND_MESSAGE = f'"{DEFAULT_PROFILE.wire(Operation.SEND_MESSAGE)}"'.encode()
UNSUPPORTED = (b"PUT ", b"DELETE ", b"PATCH ", b"OPTIONS ")


def _no_failure(run: RunResult) -> None:
    failed = {rid for rid, r in run.summary["requirements"].items() if r["outcome"] == "failed"}
    assert not failed, (failed, run.stdout[-3000:])
    assert "failed" not in run.outcomes().values(), run.outcomes()


def _an_error(run: RunResult) -> None:
    _no_failure(run)
    assert run.summary["verdict"] == "error" and run.returncode == 3, (run.returncode, run.stdout[-3000:])
    assert "Traceback" not in run.stderr, run.stderr


def test_server_killed_during_the_status_06_tests_is_an_error(tmp_path: Path) -> None:
    with ServerProcess(tmp_path) as server:
        target = write_target(tmp_path / "t.toml", server.target_out, server.url, TIMEOUT_S)
        killed = threading.Event()

        def kill_after_the_first_status_06_test(out: str) -> None:
            if not killed.is_set() and re.search(r"test_status\.py \.", out):
                server.kill()
                killed.set()

        run = run_suite(
            tmp_path / "r",
            "--target",
            str(target),
            "--select",
            "STATUS-06",
            *DEV,
            deadline_s=60,
            on_output=kill_after_the_first_status_06_test,
        )
    assert killed.is_set(), run.stdout[-2000:]
    _an_error(run)
    assert run.summary["requirements"]["STATUS-06"]["outcome"] != "failed"
    assert "connection refused" in run.stdout or "closed or reset" in run.stdout, run.stdout[-3000:]
    assert run.elapsed_s < 40, run.elapsed_s


def test_a_gateway_page_for_one_send_message_is_an_error_not_a_failure(tmp_path: Path) -> None:
    def first_send_message(request: bytes, n: int) -> bytes | None:
        if proxy.answered == 0 and request.startswith(b"POST ") and SEND_MESSAGE in request:
            return GATEWAY_PAGE
        return None

    with ServerProcess(tmp_path) as server, Proxy(server.port, answer=first_send_message) as proxy:
        target = write_target(tmp_path / "t.toml", server.target_out, proxy.url, TIMEOUT_S)
        run = run_suite(tmp_path / "r", "--target", str(target), "--select", "MESSAGE", *DEV, deadline_s=60)
    assert proxy.answered == 1
    _an_error(run)
    assert run.summary["requirements"]["MESSAGE-01"]["outcome"] != "failed"
    outcomes = list(run.outcomes().values())
    assert outcomes.count("error") + outcomes.count("blocked") == 1 and outcomes.count("passed") >= 5, (
        outcomes
    )
    assert "HTTP 503 text/html" in run.stdout, run.stdout[-3000:]  # the one-line reason of the ERROR


def test_a_base_url_answering_html_stops_before_the_run_with_one_line(tmp_path: Path) -> None:
    portal = http_response(200, b"<html><body>Welcome to our portal</body></html>")
    with Proxy(None, answer=lambda request, n: portal) as web:
        run = run_suite(tmp_path / "r", "--base-url", web.url, deadline_s=30)
    assert run.returncode == 3 and run.summary["verdict"] == "error", run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1, run.stderr
    assert lines[0].endswith(
        f"{web.url}/api/v2/me answered HTTP 200 text/html, not the agent API's JSON: check base_url"
    ), lines
    assert "Traceback" not in run.stdout + run.stderr
    assert run.elapsed_s < 15, run.elapsed_s


def test_connections_closed_on_unsupported_methods_are_errors_not_failures(tmp_path: Path) -> None:
    def unsupported_method(request: bytes, n: int) -> bool:
        return request.startswith(UNSUPPORTED)

    with ServerProcess(tmp_path) as server, Proxy(server.port, cut=unsupported_method) as proxy:
        target = write_target(tmp_path / "t.toml", server.target_out, proxy.url, TIMEOUT_S)
        run = run_suite(tmp_path / "r", "--target", str(target), "--select", "STATUS-06", *DEV, deadline_s=60)
    assert proxy.cuts >= 4
    _an_error(run)
    assert run.summary["requirements"]["STATUS-06"]["outcome"] != "failed"
    assert list(run.outcomes().values()).count("passed") >= 10, run.outcomes()


def test_one_request_hanging_while_the_server_answers_others_fails_status_06(tmp_path: Path) -> None:
    # The counterpart: the server is up (a probe GET of /me answers) but never answers one PUT.
    def first_put(request: bytes, n: int) -> bool:
        return proxy.held == 0 and request.startswith(b"PUT ")

    with ServerProcess(tmp_path) as server, Proxy(server.port, hold=first_put) as proxy:
        target = write_target(tmp_path / "t.toml", server.target_out, proxy.url, TIMEOUT_S)
        run = run_suite(tmp_path / "r", "--target", str(target), "--select", "STATUS-06", *DEV, deadline_s=60)
    assert proxy.held == 1
    assert run.summary["requirements"]["STATUS-06"]["outcome"] == "failed", run.stdout[-3000:]
    assert run.summary["verdict"] == "non-conformant" and run.returncode == 1
    failed = [test for test, outcome in run.outcomes().items() if outcome == "failed"]
    assert len(failed) == 1 and "PUT" in failed[0], failed
