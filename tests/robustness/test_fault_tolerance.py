"""A server that dies, hangs, drops long-polls or is slow: ERROR (never FAIL or PASS) or a recovery,
always within the deadlines."""

from __future__ import annotations

import re
import threading
from pathlib import Path

from tests.robustness.harness import NOTIFICATIONS_PATH, Proxy, ServerProcess, run_suite, write_target

SELECT = "AUTH or SESSION-01 or SESSION-03"  # about a dozen quick api tests, no flows, no fuzz
TIMEOUT_S = 2.0
CONNECT = b'"/meta/connect"'


def _notifications(request: bytes) -> bool:
    return request.split(b" ", 2)[1].startswith(NOTIFICATIONS_PATH.encode())


def _one_line_reasons(stdout: str) -> list[str]:
    """The verdict section's lines naming each harness-side ERROR and why."""
    return [line.strip() for line in stdout.splitlines() if line.startswith("  ERROR suites/")]


def test_server_killed_mid_run_gives_errors_and_exit_3(tmp_path: Path) -> None:
    with ServerProcess(tmp_path) as server:
        target = write_target(tmp_path / "t.toml", server.target_out, server.url, TIMEOUT_S)
        killed = threading.Event()

        def kill_after_two_passes(out: str) -> None:
            if not killed.is_set() and re.search(r"test_auth\.py \.\.", out):
                server.kill()
                killed.set()

        run = run_suite(tmp_path / "r", "--target", str(target), "--select", SELECT,
                        deadline_s=60, on_output=kill_after_two_passes)
    assert killed.is_set(), run.stdout[-2000:]
    outcomes = run.outcomes()
    assert "failed" not in outcomes.values() and "warning" not in outcomes.values(), outcomes
    assert list(outcomes.values()).count("passed") >= 2
    assert "error" in outcomes.values()
    assert run.summary["verdict"] == "error" and run.returncode == 3
    reasons = _one_line_reasons(run.stdout)
    assert len(reasons) == list(outcomes.values()).count("error"), reasons
    assert all(": TargetUnreachable: " in r or ": ChannelLost: " in r for r in reasons), reasons
    assert run.elapsed_s < 40, run.elapsed_s


def test_server_that_never_answers_is_an_error_within_the_preflight_deadline(tmp_path: Path) -> None:
    with Proxy(None, silent=True) as hung:
        run = run_suite(tmp_path / "r", "--base-url", hung.url, deadline_s=30)
    assert run.returncode == 3, run.stderr
    assert run.summary["verdict"] == "error"
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and "no answer within" in lines[0], run.stderr
    assert run.elapsed_s < 15, run.elapsed_s


def test_dropped_long_polls_are_recovered_without_false_failures(tmp_path: Path) -> None:
    # Every other /meta/connect of each Bayeux client is cut before the server sees it (never two in
    # a row, so the client's failure budget is not spent): the client reconnects, nothing is lost.
    per_client: dict[bytes, int] = {}

    def every_other_connect(request: bytes, n: int) -> bool:
        if not (_notifications(request) and CONNECT in request):
            return False
        found = re.search(rb'"clientId":\s*"([^"]+)"', request)
        client = found.group(1) if found else b""
        per_client[client] = per_client.get(client, 0) + 1
        return per_client[client] % 2 == 0

    with ServerProcess(tmp_path) as server, Proxy(server.port, cut=every_other_connect) as proxy:
        target = write_target(tmp_path / "t.toml", server.target_out, proxy.url, TIMEOUT_S)
        run = run_suite(tmp_path / "r", "--target", str(target), "--select", SELECT, deadline_s=60)
    assert proxy.cuts > 0
    assert run.summary["verdict"] == "conformant-on-selection", (run.outcomes(), run.stdout[-3000:])
    assert run.returncode == 0


def test_long_polls_cut_for_good_are_errors_not_failures(tmp_path: Path) -> None:
    # After setup, every /meta/connect is cut: the Bayeux loop gives up; waits end at once as ERROR.
    connects = 0

    def all_connects_after_setup(request: bytes, n: int) -> bool:
        nonlocal connects
        if _notifications(request) and CONNECT in request:
            connects += 1
            return connects > 8  # each agent's first connects pass: the agents open
        return False

    with ServerProcess(tmp_path) as server, Proxy(server.port, cut=all_connects_after_setup) as proxy:
        target = write_target(tmp_path / "t.toml", server.target_out, proxy.url, TIMEOUT_S)
        run = run_suite(tmp_path / "r", "--target", str(target), "--select", "SESSION-01 or SESSION-03",
                        deadline_s=60)
    outcomes = run.outcomes()
    assert proxy.cuts > 0
    assert "failed" not in outcomes.values() and "warning" not in outcomes.values(), run.stdout[-3000:]
    assert "error" in outcomes.values(), outcomes
    assert run.returncode == 3
    assert any("notification channel lost" in line for line in _one_line_reasons(run.stdout)), run.stdout
    assert run.elapsed_s < 30, run.elapsed_s


def test_slow_server_still_gets_correct_verdicts(tmp_path: Path) -> None:
    # 0.2 s added to every request (0.3 s works too, ~21 s); 2 s deadlines per event and request suffice.
    with ServerProcess(tmp_path) as server, Proxy(server.port, delay_s=0.2) as proxy:
        target = write_target(tmp_path / "t.toml", server.target_out, proxy.url, TIMEOUT_S)
        run = run_suite(tmp_path / "r", "--target", str(target), "--select", "SESSION-01",
                        deadline_s=60)
    assert run.summary["verdict"] == "conformant-on-selection", (run.outcomes(), run.stdout[-3000:])
    assert run.returncode == 0
    print(f"slow server (0.2 s per request): {len(run.outcomes())} tests in {run.elapsed_s:.1f} s")
