"""Benchmark of the load mode (a script, not a test): `python bench/load_benchmark.py --users 200`.

Runs `gws-conformance load` against the embedded reference server twice, judging on and judging off
(same users, same duration), and prints one table: concurrent chats, chats and notifications per
second, p99 delivery latency (worst notification kind and per kind), the load generator's CPU, the CPU
the judging took (measured around the judge calls, and as the on/off difference per chat), violations
and errors. Goals: >= 200 concurrent chats with judging on; judging <= 20% of the generator's CPU.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

GOAL_CHATS = 200
GOAL_SHARE = 0.20


def run(users: int, run_time: str, judge: bool, extra: list[str]) -> tuple[dict[str, Any], float]:
    with tempfile.TemporaryDirectory(prefix="gws-load-bench-") as folder:
        command = [
            sys.executable,
            "-m",
            "conformance.cli",
            "load",
            "--headless",
            "--users",
            str(users),
            "--run-time",
            run_time,
            "--report-dir",
            folder,
            *extra,
        ]
        if not judge:
            command.append("--no-judge")
        started = time.monotonic()
        subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        wall = time.monotonic() - started
        return json.loads((Path(folder) / "summary.json").read_text(encoding="utf-8")), wall


def worst_p99(summary: dict[str, Any]) -> tuple[str, float]:
    kinds = summary["delivery_latency_ms"]
    name = max(kinds, key=lambda k: kinds[k]["p99_ms"])
    return name, kinds[name]["p99_ms"]


def per_chat_cpu(summary: dict[str, Any]) -> float:
    chats = max(1, summary["chats"]["completed"])
    return summary["judging"]["generator_cpu_s"] / chats * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--users", type=int, default=GOAL_CHATS)
    parser.add_argument("--run-time", default="60s")
    parser.add_argument("--only-on", action="store_true", help="skip the judging-off run")
    parser.add_argument("extra", nargs="*", help="more `gws-conformance load` options (after --)")
    args = parser.parse_args()
    on, wall_on = run(args.users, args.run_time, True, args.extra)
    off, wall_off = (None, 0.0) if args.only_on else run(args.users, args.run_time, False, args.extra)
    rows: list[tuple[str, str, str]] = []

    def row(label: str, get: Any) -> None:
        rows.append((label, str(get(on)), "—" if off is None else str(get(off))))

    row("concurrent chats (users)", lambda s: s["settings"]["users"])
    row("chats completed (per s)", lambda s: f"{s['chats']['completed']} ({s['throughput']['chats_per_s']})")
    row("chats judged", lambda s: s["chats"]["judged"])
    row("notifications/s", lambda s: s["throughput"]["notifications_per_s"])
    row("requests/s", lambda s: s["throughput"]["requests_per_s"])
    row("p99 delivery, worst kind (ms)", lambda s: "{} {:.0f}".format(*worst_p99(s)))
    for kind in sorted(on["delivery_latency_ms"]):
        row(
            f"  {kind} p50/p95/p99 (ms)",
            lambda s, k=kind: "/".join(
                f"{s['delivery_latency_ms'].get(k, {}).get(q, 0):.0f}" for q in ("p50_ms", "p95_ms", "p99_ms")
            ),
        )
    row("generator CPU (s)", lambda s: s["judging"]["generator_cpu_s"])
    row("generator CPU per chat (ms)", lambda s: f"{per_chat_cpu(s):.1f}")
    row(
        "judging CPU (s, share of generator)",
        lambda s: f"{s['judging']['cpu_s']} ({(s['judging']['share_of_generator_cpu'] or 0) * 100:.1f}%)",
    )
    row("violations / errors", lambda s: f"{len(s['requirements'])} / {sum(s['errors'].values())}")
    row("verdict", lambda s: s["verdict"])
    print(f"| load mode, {args.users} users, {args.run_time} | judging on | judging off |")
    print("|---|---|---|")
    for label, a, b in rows:
        print(f"| {label} | {a} | {b} |")
    share = on["judging"]["share_of_generator_cpu"] or 0.0
    print(f"\nwall: on {wall_on:.0f} s, off {wall_off:.0f} s")
    if off is not None:
        delta = per_chat_cpu(on) - per_chat_cpu(off)
        print(
            f"judging cost by difference: {delta:.1f} ms CPU per chat "
            f"({delta / max(per_chat_cpu(on), 1e-9) * 100:.1f}% of the judged run's per-chat CPU)"
        )
    met = on["settings"]["users"] >= GOAL_CHATS and share <= GOAL_SHARE and not on["requirements"]
    print(
        f"goal (>= {GOAL_CHATS} chats judged, judging <= {GOAL_SHARE:.0%} of the generator's CPU, "
        f"no violation): {'met' if met else 'NOT met'}"
    )
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
