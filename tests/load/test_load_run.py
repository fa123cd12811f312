"""`gws-conformance load` end to end, against the embedded reference server, on loopback only: the clean
server under load, the load-only seeded faults (caught under load, not by a single chat), a master with
two workers, and the bounds. Each run is a few seconds of a few users (the machine is small)."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from conformance.load.command import LOCUSTFILE
from conformance.simulator.faults import LOAD_FAULTS

KINDS = {"StatusChange", "ParticipantsUpdated", "ChatHistory", "NewMessages"}
CONTENDED_USERS = "18"  # 36 agents long-polling: above the faults' 24 held connects


def load(tmp_path: Path, *args: str, timeout: float = 55) -> tuple[int, dict[str, Any] | None, str]:
    report = tmp_path / "load"
    done = subprocess.run(
        [sys.executable, "-m", "conformance.cli", "load", "--headless", "--report-dir", str(report), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=tmp_path,
    )
    path = report / "summary.json"
    summary = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None
    return done.returncode, summary, done.stdout + done.stderr


@pytest.mark.slow
def test_the_clean_server_under_load_gives_no_violation_and_the_latency_table(tmp_path: Path) -> None:
    status, summary, output = load(tmp_path, "--users", "6", "--spawn-rate", "6", "--run-time", "6s")
    assert summary is not None, output
    assert (status, summary["verdict"], summary["requirements"], summary["errors"]) == (
        0,
        "conformant-under-load",
        {},
        {},
    ), output
    assert summary["chats"]["judged"] == summary["chats"]["completed"] > 0
    assert set(summary["delivery_latency_ms"]) >= KINDS
    for figures in summary["delivery_latency_ms"].values():
        assert 0 <= figures["p50_ms"] <= figures["p95_ms"] <= figures["p99_ms"]
    assert {"Accept", "SendMessage", "customer start"} <= set(summary["operation_latency_ms"])
    assert summary["throughput"]["notifications_per_s"] > 0
    assert "delivery (response -> long-poll)" in output and "VERDICT: CONFORMANT-UNDER-LOAD" in output


@pytest.mark.slow
@pytest.mark.parametrize("fault", sorted(name for name, fault in LOAD_FAULTS.items() if fault.breaks))
def test_a_concurrency_fault_is_reported_under_load(fault: str, tmp_path: Path) -> None:
    status, summary, output = load(
        tmp_path,
        "--users",
        CONTENDED_USERS,
        "--spawn-rate",
        CONTENDED_USERS,
        "--run-time",
        "8s",
        "--fault",
        fault,
    )
    assert summary is not None, output
    assert (status, summary["verdict"]) == (1, "non-conformant"), output
    assert set(LOAD_FAULTS[fault].breaks) <= set(summary["requirements"])
    evidence = summary["requirements"]["ORDER-04"]["evidence"][0]
    assert evidence["transcript"].startswith(f"chat {evidence['interaction']}")
    assert "password" not in json.dumps(summary)  # the agents' password never reaches the summary


@pytest.mark.slow
def test_the_concurrency_faults_do_not_show_in_a_single_chat(tmp_path: Path) -> None:
    faults = [arg for name in sorted(LOAD_FAULTS) if LOAD_FAULTS[name].breaks for arg in ("--fault", name)]
    status, summary, output = load(tmp_path, "--users", "1", "--run-time", "5s", *faults)
    assert summary is not None, output
    assert (status, summary["verdict"], summary["requirements"]) == (0, "conformant-under-load", {}), output
    assert summary["chats"]["judged"] > 0


@pytest.mark.slow
def test_a_missing_status_change_is_proved_by_a_barrier_and_blamed_on_the_step(tmp_path: Path) -> None:
    """owner-caps-kept-on-consult: InitiateConsultation sends the owner no StatusChange; once the wait
    timed out, a Ready barrier on the same client proves it never came: CONSULT-01, not an ERROR."""
    flows = "simple=0,transfer=0,consult_transfer=0,conference=0,consult_reject=1"
    status, summary, output = load(
        tmp_path,
        "--users",
        "2",
        "--spawn-rate",
        "2",
        "--run-time",
        "6s",
        "--timeout",
        "0.5",
        "--flows",
        flows,
        "--fault",
        "owner-caps-kept-on-consult",
    )
    assert summary is not None, output
    assert (status, summary["verdict"]) == (1, "non-conformant"), output
    assert "CONSULT-01" in summary["requirements"] and summary["errors"] == {}


@pytest.mark.slow
def test_a_slow_server_gives_latency_figures_not_violations(tmp_path: Path) -> None:
    status, summary, output = load(
        tmp_path, "--users", "4", "--spawn-rate", "4", "--run-time", "8s", "--fault", "slow-delivery"
    )
    assert summary is not None, output
    assert (status, summary["verdict"], summary["requirements"]) == (0, "conformant-under-load", {}), output
    assert summary["delivery_latency_ms"]["StatusChange"]["p50_ms"] >= 400  # SLOW_DELIVERY_S late


@pytest.mark.slow
def test_deadlines_below_the_latency_give_errors_then_grow_never_violations(tmp_path: Path) -> None:
    status, summary, output = load(
        tmp_path,
        "--users",
        "3",
        "--spawn-rate",
        "3",
        "--run-time",
        "9s",
        "--fault",
        "slow-delivery",
        "--timeout",
        "0.2",
    )
    assert summary is not None, output
    assert (status, summary["verdict"], summary["requirements"]) == (3, "error", {}), output
    assert summary["errors"] and summary["chats"]["judged"] > 0  # the deadline grew: later chats finished


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.slow
def test_a_master_and_two_workers_give_one_merged_summary(tmp_path: Path) -> None:
    port = str(free_port())
    worker = [
        sys.executable,
        "-m",
        "conformance.cli",
        "load",
        "--worker",
        "--master-host",
        "127.0.0.1",
        "--master-port",
        port,
    ]
    workers = [
        subprocess.Popen(worker, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, cwd=tmp_path)
        for _ in range(2)
    ]
    try:
        status, summary, output = load(
            tmp_path,
            "--master",
            "--expect-workers",
            "2",
            "--master-port",
            port,
            "--users",
            CONTENDED_USERS,
            "--spawn-rate",
            CONTENDED_USERS,
            "--run-time",
            "8s",
            "--fault",
            "reorder-under-contention",
        )
        for process in workers:
            process.wait(20)  # the master's quit ends them
    finally:
        for process in workers:
            if process.poll() is None:
                process.kill()
                process.wait()
    assert summary is not None, output
    assert (status, summary["verdict"], summary["settings"]["workers"]) == (1, "non-conformant", 2), output
    assert summary["judging"]["processes"] == 2  # both workers' CPU figures reached the master
    order = summary["requirements"]["ORDER-04"]
    assert order["processes"] == 2  # violations found on each worker, in one summary
    assert summary["chats"]["judged"] > 0 and set(summary["delivery_latency_ms"]) >= KINDS
    assert all(process.returncode == 0 for process in workers)


def test_the_bounds_are_enforced_before_anything_starts(tmp_path: Path) -> None:
    for args, message in (
        (("--users", "5000"), "--users"),
        (("--run-time", "2h"), "--run-time"),
        (("--spawn-rate", "1000"), "--spawn-rate"),
        (("--max-requests", "0"), "--max-requests"),
        (("--flows", "simple=0,transfer=0,consult_transfer=0,conference=0,consult_reject=0"), "--flows"),
    ):
        status, summary, output = load(tmp_path, *args, timeout=20)
        assert (status, summary) == (2, None), output
        assert message in output


def write_target(tmp_path: Path, gms_url: str) -> Path:
    agents = "".join(
        f'\n[[agents]]\nusername = "u{n}"\npassword = "pw-{n}-secret"\nid = "x{n}"\n' for n in (1, 2)
    )
    path = tmp_path / "t.toml"
    path.write_text(f'base_url = "http://127.0.0.1:9"\ngms_url = "{gms_url}"\n{agents}', encoding="utf-8")
    return path


def test_a_target_beyond_loopback_and_its_own_host_is_refused(tmp_path: Path) -> None:
    target = write_target(tmp_path, "http://192.0.2.7:8080")
    status, summary, output = load(tmp_path, "--target", str(target), "--users", "1", timeout=20)
    assert (status, summary) == (2, None)
    assert "refused" in output and "pw-1-secret" not in output


def test_locust_run_directly_refuses_too_many_users(tmp_path: Path) -> None:
    target = write_target(tmp_path, "http://127.0.0.1:9")
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "locust",
            "-f",
            str(LOCUSTFILE),
            "--headless",
            "-u",
            "5000",
            "-t",
            "2s",
            "--gws-target",
            str(target),
        ],
        capture_output=True,
        text=True,
        timeout=30,
        cwd=tmp_path,
    )
    assert done.returncode == 2 and "--users" in done.stderr


def test_a_one_ready_agent_target_is_refused_in_one_line(tmp_path: Path) -> None:
    from conformance.load.settings import LoadError, read_target

    target = write_target(tmp_path, "http://127.0.0.1:9")
    target.write_text(target.read_text(encoding="utf-8").replace(
        'gms_url', 'routing = "one-ready-agent"\ngms_url', 1), encoding="utf-8")
    with pytest.raises(LoadError, match='needs routing = "hints"'):
        read_target(target)
