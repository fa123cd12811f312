"""The load run's summary.json: violated requirements (how often, with the evidence of a few chats),
errors, the latency and throughput figures from Locust's merged stats, and the judging's CPU cost.
Pure: the locustfile feeds it (on the master, or the one local process) and writes it."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from conformance.protocol import CATALOGUE

EVIDENCE_PER_REQUIREMENT = 3
SUMMARY_NAME = "summary.json"
# Locust request types of the load mode (its stats table and CSV show them).
OPERATION = "OP"  # an agent's or customer's request: name = the operation
DELIVERY = "DELIVERY"  # a notification's delivery latency: name = its kind (notificationType)
FLOW = "FLOW"  # one whole chat: name = the flow; a failure is an ERROR (timeout, refused step)
JUDGE = "JUDGE"  # a judged chat (name "chat") or a violation (name = the requirement, a failure)
EXIT = {"conformant-under-load": 0, "non-conformant": 1, "error": 3, "not-judged": 3}


@dataclass(frozen=True)
class StatRow:
    request_type: str
    name: str
    count: int
    failures: int
    p50: float
    p95: float
    p99: float
    max: float
    rps: float


@dataclass
class Collector:
    """Findings and CPU figures as they arrive from every process (Locust messages)."""

    requirements: dict[str, dict[str, Any]] = field(default_factory=dict)
    errors: Counter[str] = field(default_factory=Counter)
    nodes: dict[str, dict[str, float]] = field(default_factory=dict)

    def add_findings(self, payload: dict[str, Any], node: str = "local") -> None:
        """payload: {"findings": [Finding.as_dict()...], "evidence": str} for one chat, from `node`."""
        chat_counted: set[str] = set()
        for item in payload.get("findings", []):
            rid = str(item.get("requirement"))
            entry = self.requirements.setdefault(
                rid, {"count": 0, "chats": 0, "via": Counter(), "evidence": [], "nodes": set()}
            )
            entry["count"] += 1
            entry["nodes"].add(node)
            if item.get("via"):
                entry["via"][str(item["via"])] += 1
            if rid not in chat_counted:
                chat_counted.add(rid)
                entry["chats"] += 1
                if len(entry["evidence"]) < EVIDENCE_PER_REQUIREMENT:
                    entry["evidence"].append(
                        {
                            "interaction": item.get("interaction"),
                            "flow": item.get("flow"),
                            "expected": item.get("expected"),
                            "actual": item.get("actual"),
                            "transcript": payload.get("evidence", ""),
                        }
                    )

    def add_error(self, message: str, count: int = 1) -> None:
        self.errors[message[:200]] += count

    def add_node(self, node: str, figures: dict[str, float]) -> None:
        self.nodes[node] = dict(figures)


def _figures(row: StatRow) -> dict[str, Any]:
    return {
        "count": row.count,
        "failures": row.failures,
        "p50_ms": row.p50,
        "p95_ms": row.p95,
        "p99_ms": row.p99,
        "max_ms": round(row.max, 1),
        "per_s": round(row.rps, 2),
    }


def build_summary(
    collector: Collector,
    rows: Iterable[StatRow],
    *,
    settings: dict[str, Any],
    target: dict[str, Any],
    duration_s: float,
    judging: bool,
) -> dict[str, Any]:
    rows = list(rows)
    delivery = {r.name: _figures(r) for r in rows if r.request_type == DELIVERY}
    operations = {r.name: _figures(r) for r in rows if r.request_type == OPERATION}
    flows = {r.name: _figures(r) for r in rows if r.request_type == FLOW}
    judged = next((r for r in rows if r.request_type == JUDGE and r.name == "chat"), None)
    chats_judged = judged.count if judged else 0
    completed = sum(r.count - r.failures for r in rows if r.request_type == FLOW)
    errored = sum(r.failures for r in rows if r.request_type == FLOW)
    notifications = sum(r.count for r in rows if r.request_type == DELIVERY)
    requests = sum(r.count for r in rows if r.request_type == OPERATION)
    requirements = {}
    for rid in sorted(collector.requirements):
        entry = collector.requirements[rid]
        req = CATALOGUE.get(rid)
        requirements[rid] = {
            "outcome": "failed",
            "level": req.level.value if req else None,
            "summary": req.summary if req else None,
            "count": entry["count"],
            "chats": entry["chats"],
            "via": dict(entry["via"]),
            "processes": len(entry["nodes"]),  # how many Locust processes found it
            "evidence": entry["evidence"],
        }
    cpu = sum(n.get("cpu_s", 0.0) for n in collector.nodes.values())
    judge_cpu = sum(n.get("judge_cpu_s", 0.0) for n in collector.nodes.values())
    if requirements:
        verdict = "non-conformant"
    elif not judging:
        verdict = "not-judged"
    elif errored or collector.errors or chats_judged == 0:
        verdict = "error"
    else:
        verdict = "conformant-under-load"
    span = max(duration_s, 1e-9)
    return {
        "kind": "load",
        "verdict": verdict,
        "settings": settings,
        "target": target,
        "duration_s": round(duration_s, 2),
        "chats": {"completed": completed, "errored": errored, "judged": chats_judged},
        "requirements": requirements,
        "errors": dict(collector.errors.most_common(50)),
        "throughput": {
            "requests": requests,
            "requests_per_s": round(requests / span, 1),
            "notifications": notifications,
            "notifications_per_s": round(notifications / span, 1),
            "chats_per_s": round(completed / span, 2),
        },
        "delivery_latency_ms": delivery,
        "operation_latency_ms": operations,
        "flows_ms": flows,
        "judging": {
            "on": judging,
            "cpu_s": round(judge_cpu, 3),
            "generator_cpu_s": round(cpu, 3),
            "share_of_generator_cpu": round(judge_cpu / cpu, 4) if cpu else None,
            "processes": len(collector.nodes),
        },
    }


def _row(name: str, f: dict[str, Any]) -> str:
    figures = f"{f['p50_ms']:>8.0f}{f['p95_ms']:>8.0f}{f['p99_ms']:>8.0f}{f['max_ms']:>9.0f}"
    return f"  {name:<32}{f['count']:>9}{figures}"


def render(summary: dict[str, Any]) -> str:
    """The latency table and the verdict, for the terminal."""
    lines = [f"{'delivery (response -> long-poll)':<34}{'count':>9}{'p50':>8}{'p95':>8}{'p99':>8}{'max':>9}"]
    lines += [_row(name, f) for name, f in sorted(summary["delivery_latency_ms"].items())]
    lines.append(f"{'operation latency':<34}{'count':>9}{'p50':>8}{'p95':>8}{'p99':>8}{'max':>9}")
    lines += [_row(name, f) for name, f in sorted(summary["operation_latency_ms"].items())]
    t, c, j = summary["throughput"], summary["chats"], summary["judging"]
    lines.append(
        f"chats: {c['completed']} completed, {c['judged']} judged, {c['errored']} errored; "
        f"{t['requests_per_s']} requests/s, {t['notifications_per_s']} notifications/s"
    )
    if j["share_of_generator_cpu"] is not None:
        lines.append(
            f"judging: {j['cpu_s']} s CPU of the generator's {j['generator_cpu_s']} s "
            f"({j['share_of_generator_cpu'] * 100:.1f}%)"
        )
    for rid, entry in summary["requirements"].items():
        via = f" (via {', '.join(f'{k} x{v}' for k, v in entry['via'].items())})" if entry["via"] else ""
        lines.append(f"VIOLATED {rid}: {entry['count']} time(s) in {entry['chats']} chat(s){via}")
    for message, count in summary["errors"].items():
        lines.append(f"ERROR x{count}: {message}")
    lines.append(f"VERDICT: {summary['verdict'].upper()}")
    return "\n".join(lines)


def write(summary: dict[str, Any], report_dir: Path) -> Path:
    report_dir.mkdir(parents=True, exist_ok=True)
    path = report_dir / SUMMARY_NAME
    path.write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path
