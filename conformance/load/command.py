"""`gws-conformance load`: start the embedded reference server (with enough generated agents) unless a
target file is given, then Locust with the load mode's locustfile, each in its own process; print the
latency table and the verdict. Exit status: 0 no violation (every chat judged), 1 a violation, 2 usage or
configuration error, 3 error (chats that could not be finished, nothing judged, judging off)."""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import json
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

from conformance.load.settings import (
    AGENTS_PER_USER,
    DEFAULT_MAX_REQUESTS,
    MAX_SPAWN_RATE,
    LoadError,
    check_bounds,
    check_hosts,
    is_loopback,
    parse_duration,
    parse_weights,
    read_target,
    users_supported,
)

PROG = "gws-conformance load"
LOCUSTFILE = Path(__file__).resolve().parent / "locustfile.py"
SERVER_START_S = 30.0
EXIT_USAGE = 2


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog=PROG, description="the flows under load on Locust, every notification judged"
    )
    p.add_argument(
        "--target", type=Path, metavar="FILE", help="the server (default: the embedded reference server)"
    )
    p.add_argument("--users", "-u", type=int, default=10, help="concurrent chats (users), default 10")
    p.add_argument("--spawn-rate", "-r", type=float, default=None, help="users started per second")
    p.add_argument("--run-time", "-t", default="60s", help="duration (60s, 2m, 1h); the run stops by itself")
    p.add_argument("--headless", action="store_true", help="no web UI (the web UI starts the run at once)")
    p.add_argument(
        "--flows",
        default="",
        help="flow weights, e.g. simple=3,transfer=1,consult_transfer=1,"
        "conference=1,consult_reject=1 (0 turns one off)",
    )
    p.add_argument("--no-judge", action="store_true", help="measure only (the benchmark's judging-off run)")
    p.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="NAME",
        help="a seeded fault of the embedded server (gws-conformance faults)",
    )
    p.add_argument("--report-dir", type=Path, default=Path("reports/load"), help="where summary.json goes")
    p.add_argument(
        "--max-requests", type=int, default=DEFAULT_MAX_REQUESTS, help="stop after this many requests"
    )
    p.add_argument("--rounds", type=int, default=3, help="messages each way per exchange (default 3)")
    p.add_argument(
        "--timeout",
        type=float,
        default=0.0,
        metavar="S",
        help="a step's base deadline (default: the target's timeout_s, 10); it grows with latency",
    )
    p.add_argument("--processes", type=int, default=0, help="Locust worker processes on this machine")
    p.add_argument("--master", action="store_true", help="run as Locust master (workers: --worker)")
    p.add_argument("--worker", action="store_true", help="run as a Locust worker of --master-host")
    p.add_argument("--master-host", default="127.0.0.1")
    p.add_argument("--master-port", type=int, default=5557)
    p.add_argument("--master-bind-host", default="127.0.0.1")
    p.add_argument("--expect-workers", type=int, default=1)
    p.add_argument("--csv", metavar="PREFIX", help="Locust's CSV stats")
    return p


@contextlib.contextmanager
def embedded_server(agents: int, faults: Sequence[str], folder: Path) -> Iterator[Path]:
    """`gws-conformance serve --port 0 --agents N` in a child process; the target file it wrote."""
    target = folder / "target.toml"
    command = [
        sys.executable,
        "-m",
        "conformance.cli",
        "serve",
        "--port",
        "0",
        "--agents",
        str(agents),
        "--target-out",
        str(target),
    ]
    for fault in faults:
        command += ["--fault", fault]
    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None
        for line in child.stdout:  # the child prints two lines once it serves and wrote the target
            if line.startswith("target file written"):
                break
        else:
            error = child.stderr.read() if child.stderr else ""
            raise LoadError(f"the embedded reference server did not start: {error.strip()[-300:]}")
        yield target
    finally:
        child.terminate()
        try:
            child.wait(10)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def locust_command(options: argparse.Namespace, target: Path | None, run_time_s: float) -> list[str]:
    spawn_rate = (
        options.spawn_rate
        if options.spawn_rate is not None
        else min(MAX_SPAWN_RATE, max(1.0, options.users / 5))
    )
    command = [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--loglevel", "WARNING"]
    if options.worker:
        return [
            *command,
            "--worker",
            "--master-host",
            options.master_host,
            "--master-port",
            str(options.master_port),
        ]
    command += [
        "-u",
        str(options.users),
        "-r",
        f"{spawn_rate:g}",
        "-t",
        f"{run_time_s:g}s",
        "--stop-timeout",
        "2",
        "--gws-report-dir",
        str(options.report_dir),
        "--gws-max-requests",
        str(options.max_requests),
        "--gws-rounds",
        str(options.rounds),
        "--gws-judge",
        "off" if options.no_judge else "on",
    ]
    if target is not None:
        command += ["--gws-target", str(target)]
    if options.timeout:
        command += ["--gws-timeout", f"{options.timeout:g}"]
    if options.flows:
        command += ["--gws-flows", options.flows]
    if options.headless:
        command += ["--headless", "--only-summary"]
    else:
        command += ["--web-host", "127.0.0.1", "--autostart", "--autoquit", "5"]
    if options.processes:
        command += ["--processes", str(options.processes)]
    if options.master:
        command += [
            "--master",
            "--master-bind-host",
            options.master_bind_host,
            "--master-bind-port",
            str(options.master_port),
            "--expect-workers",
            str(options.expect_workers),
        ]
    if options.csv:
        command += ["--csv", options.csv]
    return command


def main(argv: Sequence[str]) -> int:
    options = parser().parse_args(list(argv))
    if importlib.util.find_spec("locust") is None:
        print(f"{PROG}: Locust is not installed: pip install 'gws-conformance[load]'", file=sys.stderr)
        return EXIT_USAGE
    try:
        run_time_s = parse_duration(options.run_time)
        check_bounds(options.users, options.spawn_rate or 1.0, run_time_s, options.max_requests)
        parse_weights(options.flows)
        if options.worker and options.master:
            raise LoadError("--worker and --master: one or the other")
        if options.fault and options.target:
            raise LoadError("--fault: seeded faults belong to the embedded reference server (no --target)")
        if options.master_bind_host and not is_loopback(options.master_bind_host) and options.master:
            print(f"{PROG}: warning: the master listens on {options.master_bind_host}", file=sys.stderr)
        if options.worker:
            return subprocess.call(locust_command(options, None, run_time_s))
        if options.target is not None:
            target = read_target(options.target)
            check_hosts(target)
            if users_supported(target) < options.users:
                raise LoadError(
                    f"--users {options.users}: the target has {len(target.agents)} agents, "
                    f"{AGENTS_PER_USER} per user"
                )
            return _run(options, options.target, run_time_s)
        workers = max(options.processes, options.expect_workers if options.master else 1, 1)
        agents = AGENTS_PER_USER * (options.users + workers) + AGENTS_PER_USER
        with (
            tempfile.TemporaryDirectory(prefix="gws-load-") as folder,
            embedded_server(agents, options.fault, Path(folder)) as target_file,
        ):
            return _run(options, target_file, run_time_s)
    except LoadError as err:
        print(f"{PROG}: {err}", file=sys.stderr)
        return EXIT_USAGE


def _run(options: argparse.Namespace, target: Path, run_time_s: float) -> int:
    summary = options.report_dir / "summary.json"
    summary.unlink(missing_ok=True)  # never read a previous run's verdict as this one's
    status = subprocess.call(locust_command(options, target, run_time_s))
    if not summary.is_file():
        print(f"{PROG}: the run wrote no {summary} (Locust exit status {status})", file=sys.stderr)
        return 3 if status in (0, 1) else status
    verdict = json.loads(summary.read_text(encoding="utf-8"))["verdict"]
    print(f"{PROG}: verdict {verdict}; {summary.resolve()}")
    return status
