"""The end-of-run verdict table, by area, as plain lines."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from conformance.protocol import CATALOGUE, Requirement
from conformance.reporting.summary import verdict_line

COLUMNS = ("passed", "failed", "warning", "error", "blocked", "skipped", "xfailed", "xpassed", "untested")


def verdict_table(
    summary: Mapping[str, Any], catalogue: Mapping[str, Requirement] = CATALOGUE, notes: Iterable[str] = ()
) -> list[str]:
    """Requirement counts per area and outcome, then the verdict line."""
    counts: dict[str, dict[str, int]] = {}
    for rid, entry in summary["requirements"].items():
        area = catalogue[rid].area if rid in catalogue else rid.rsplit("-", 1)[0]
        row = counts.setdefault(area, dict.fromkeys(COLUMNS, 0))
        row[entry["outcome"]] = row.get(entry["outcome"], 0) + 1
    width = max([len("area"), *(len(a) for a in counts)])
    header = "area".ljust(width) + "".join(f"{c:>9}" for c in COLUMNS)
    lines = ["requirements by area:", header]
    for area, row in counts.items():
        lines.append(area.ljust(width) + "".join(f"{row[c]:>9}" for c in COLUMNS))
    totals = summary["totals"]
    lines.append("tests: " + ", ".join(f"{n} {name}" for name, n in totals.items()))
    lines.extend(f"note: {note}" for note in notes)
    lines.append(verdict_line(summary))
    return lines
