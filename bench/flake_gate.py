"""Flake gate: run the whole suite N times against the embedded reference server and report every
test whose outcome changed between runs.

    python bench/flake_gate.py --runs 20 [--workers N] [-- extra run options]

Exits 1 when any test's outcome varied (or a run's verdict was not the same every time), else 0.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from collections import defaultdict
from pathlib import Path


def outcomes_from_junit(path: Path) -> dict[str, str]:
    found: dict[str, str] = {}
    for case in ET.parse(path).getroot().iter("testcase"):
        name = f"{case.get('classname')}::{case.get('name')}"
        kinds = [child.tag for child in case]
        outcome = next((k for k in ("failure", "error", "skipped") if k in kinds), "passed")
        found[name] = outcome
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--workers", type=int, default=0)
    parser.add_argument("extra", nargs="*", help="further options for gws-conformance run")
    args = parser.parse_args()

    per_test: dict[str, list[str]] = defaultdict(list)
    verdicts: list[str] = []
    durations: list[float] = []
    with tempfile.TemporaryDirectory() as scratch:
        for run in range(args.runs):
            report_dir = Path(scratch) / f"run{run}"
            command = [
                sys.executable,
                "-m",
                "conformance.cli",
                "run",
                "--report-dir",
                str(report_dir),
                *args.extra,
            ]
            if args.workers:
                command += ["--workers", str(args.workers)]
            started = time.perf_counter()
            subprocess.run(command, capture_output=True, text=True, check=False)
            durations.append(time.perf_counter() - started)
            summary = json.loads((report_dir / "summary.json").read_text(encoding="utf-8"))
            verdicts.append(summary["verdict"])
            for name, outcome in outcomes_from_junit(report_dir / "junit.xml").items():
                per_test[name].append(outcome)
            print(
                f"run {run + 1}/{args.runs}: {summary['verdict']} {summary['totals']} "
                f"in {durations[-1]:.1f} s",
                flush=True,
            )

    changed = {name: seen for name, seen in per_test.items() if len(set(seen)) > 1 or len(seen) != args.runs}
    print(
        f"\n{len(per_test)} tests, {args.runs} runs, wall time per run: min {min(durations):.1f} s, "
        f"max {max(durations):.1f} s"
    )
    print(f"verdicts: {sorted(set(verdicts))}")
    for name, seen in sorted(changed.items()):
        counts = {o: seen.count(o) for o in sorted(set(seen))}
        print(f"FLAKY {name}: {counts} (seen in {len(seen)} of {args.runs} runs)")
    print(f"flaky tests: {len(changed)}")
    return 1 if changed or len(set(verdicts)) > 1 else 0


if __name__ == "__main__":
    sys.exit(main())
