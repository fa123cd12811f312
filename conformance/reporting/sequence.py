"""A sequence diagram (agents, customer, server) of a test's transcript: HTML with inline SVG, no scripts."""

from __future__ import annotations

from collections.abc import Iterable
from html import escape

from conformance.transcript import Entry, EntryKind

SERVER = "server"
CUSTOMER = "customer"
# Long-poll bookkeeping that says nothing about the chat; left out of the diagram.
NOISE = ("/meta/connect",)

LANE_W = 230
ROW_H = 24
TIME_W = 70
TOP = 50
LABEL_CHARS = 44
COLOURS = {
    EntryKind.HTTP: "#1f5fa8",
    EntryKind.CUSTOMER: "#7a3ea8",
    EntryKind.BAYEUX_OUT: "#6b6b6b",
    EntryKind.BAYEUX_IN: "#1b7f3b",
    EntryKind.NOTE: "#9a6a00",
}


def _is_noise(entry: Entry) -> bool:
    return entry.kind in (EntryKind.BAYEUX_IN, EntryKind.BAYEUX_OUT) and entry.summary.startswith(NOISE)


def lanes(entries: Iterable[Entry]) -> list[str]:
    """Agents in order of appearance, then the customer, then the server."""
    agents: list[str] = []
    customer = False
    for e in entries:
        if e.kind is EntryKind.CUSTOMER or e.actor == CUSTOMER:
            customer = True
        elif e.actor not in agents and e.actor != SERVER:
            agents.append(e.actor)
    return [*agents, *([CUSTOMER] if customer else []), SERVER]


def _short(text: str) -> str:
    first = text.splitlines()[0] if text else ""
    return first if len(first) <= LABEL_CHARS else first[: LABEL_CHARS - 1] + "…"


def render_svg(entries: list[Entry]) -> str:
    shown = [e for e in entries if not _is_noise(e)]
    names = lanes(shown)
    x = {name: TIME_W + LANE_W // 2 + i * LANE_W for i, name in enumerate(names)}
    width = TIME_W + LANE_W * len(names)
    height = TOP + ROW_H * (len(shown) + 1)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'font-family="monospace" font-size="11">',
        f'<rect width="{width}" height="{height}" fill="#ffffff"/>',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" '
        'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="context-stroke"/></marker></defs>',
    ]
    for name, cx in x.items():
        out.append(f'<rect x="{cx - 70}" y="8" width="140" height="24" rx="4" fill="#eef2f7" stroke="#445"/>')
        out.append(f'<text x="{cx}" y="24" text-anchor="middle" font-weight="bold">{escape(name)}</text>')
        out.append(f'<line x1="{cx}" y1="32" x2="{cx}" y2="{height}" stroke="#bbb" stroke-dasharray="4 3"/>')
    for row, e in enumerate(shown):
        y = TOP + row * ROW_H
        colour = COLOURS[e.kind]
        label = escape(_short(e.summary))
        tip = escape(f"#{e.seq} {e.kind.value} {e.actor}: {e.summary}")
        out.append(f'<g><title>{tip}</title>')
        out.append(f'<text x="4" y="{y + 4}" fill="#777">{e.at:7.3f}s</text>')
        actor = CUSTOMER if e.kind is EntryKind.CUSTOMER else e.actor
        ax = x.get(actor, x[SERVER])
        if e.kind is EntryKind.NOTE or actor == SERVER:
            out.append(f'<rect x="{ax - 105}" y="{y - 9}" width="210" height="16" fill="#fff6d5" '
                       f'stroke="{colour}"/>')
            out.append(f'<text x="{ax}" y="{y + 3}" text-anchor="middle" fill="{colour}">{label}</text>')
        else:
            start, end = (x[SERVER], ax) if e.kind is EntryKind.BAYEUX_IN else (ax, x[SERVER])
            out.append(f'<line x1="{start}" y1="{y + 6}" x2="{end}" y2="{y + 6}" stroke="{colour}" '
                       'stroke-width="1.4" marker-end="url(#arrow)"/>')
            mid = (start + end) // 2
            out.append(f'<text x="{mid}" y="{y + 2}" text-anchor="middle" fill="{colour}">{label}</text>')
        out.append("</g>")
    out.append("</svg>")
    return "\n".join(out)


def render_html(entries: list[Entry], title: str) -> str:
    """A self-contained page: the diagram, then every entry in full (already redacted)."""
    rows = "\n".join(
        f"<tr><td>{e.at:.3f}s</td><td>#{e.seq}</td><td>{escape(e.kind.value)}</td><td>{escape(e.actor)}</td>"
        f"<td><details><summary>{escape(e.summary)}</summary><pre>{escape(e.detail)}</pre></details></td></tr>"
        for e in entries
    )
    return (
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>" + escape(title) + "</title>"
        "<style>body{font-family:sans-serif;font-size:13px}td{vertical-align:top;padding:1px 6px}"
        "pre{white-space:pre-wrap;margin:2px 0}</style></head><body>"
        f"<h3>{escape(title)}</h3>"
        "<p>Agents, customer and server as this run saw them; arrows to the server are requests "
        "(with the answer), arrows from it are notifications. Long-poll /meta/connect messages are "
        "left out of the diagram; hover an arrow for its full line.</p>"
        + render_svg(entries)
        + "<h4>Every entry</h4><table>" + rows + "</table></body></html>"
    )
