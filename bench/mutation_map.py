"""Which suite tests execute each line of the reference server: the map bench/mutation.py selects by.

Run by bench/mutation.py in its copy of the checkout (`python bench/mutation_map.py OUT.json`): the
suite runs once, sequentially, against a reference server in a thread of the same process, under
coverage with one context per test (switched as each test's setup starts, for every thread). A line is
mapped to the test in whose context it ran and to the test before it (a notification sent at the end of
one test may be handled in the next one's context). Lines run outside any test (the server's start, the
agents' logins) are mapped to every test: any run reaches them.

OUT.json: {"order": [node ids in run order], "seconds": {node id: duration},
           "lines": {module file name: {line: [indexes into order]}}, "conformant": bool}
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import Any

import coverage
import pytest

ROOT = Path(__file__).resolve().parent.parent
SIMULATOR = ROOT / "conformance" / "simulator"
SEED = "0"


class TestContexts:
    """Switches coverage's context to each test's node id and records the run order and durations."""

    def __init__(self, cov: coverage.Coverage) -> None:
        self.cov = cov
        self.order: list[str] = []
        self.seconds: dict[str, float] = {}

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        self.order.append(item.nodeid)
        self.cov.switch_context(item.nodeid)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self.seconds[report.nodeid] = self.seconds.get(report.nodeid, 0.0) + report.duration


def suite_args(root: Path, reports: Path) -> list[str]:
    """The suite's pytest arguments for the map's run and every mutant's run (same seed, profile dev;
    --strict: a SHOULD requirement's failure counts too)."""
    from conformance.cli import SETTINGS

    return ["--rootdir", str(root), *(x for k, v in SETTINGS.items() for x in ("-o", f"{k}={v}")),
            "-p", "no:cacheprovider", "-p", "no:anyio", "-q", "--strict", "--report-dir", str(reports),
            "--hypothesis-profile", "dev", f"--hypothesis-seed={SEED}"]


def lines_by_test(data: coverage.CoverageData, order: list[str]) -> dict[str, dict[str, list[int]]]:
    index = {test: i for i, test in enumerate(order)}
    mapped: dict[str, dict[str, list[int]]] = {}
    for filename in data.measured_files():
        path = Path(filename)
        if path.parent != SIMULATOR:
            continue
        per_line: dict[str, list[int]] = {}
        for line, contexts in data.contexts_by_lineno(filename).items():
            tests: set[int] = set()
            for context in contexts:
                if context not in index:  # outside any test
                    tests.update(range(len(order)))
                    break
                tests.update((index[context], max(index[context] - 1, 0)))
            per_line[str(line)] = sorted(tests)
        mapped[path.name] = per_line
    return mapped


def main(out: Path) -> None:
    with tempfile.TemporaryDirectory(prefix="gws-mutation-map-") as tmp:
        cov = coverage.Coverage(data_file=str(Path(tmp) / "coverage"), source=[str(SIMULATOR)],
                                concurrency=["thread"], branch=False)
        cov.start()
        from conformance.simulator.server import ReferenceServer, target_toml

        contexts = TestContexts(cov)
        with ReferenceServer() as server:
            target = Path(tmp) / "target.toml"
            target.write_text(target_toml(server), encoding="utf-8")
            status = pytest.main([str(ROOT / "suites"), *suite_args(ROOT, Path(tmp) / "reports"),
                                  "--target", str(target)],
                                 plugins=[contexts])
        cov.stop()
        cov.save()
        result: dict[str, Any] = {
            "order": contexts.order,
            "seconds": {k: round(v, 2) for k, v in contexts.seconds.items()},
            "lines": lines_by_test(cov.get_data(), contexts.order),
            "conformant": status == 0,
        }
    out.write_text(json.dumps(result), encoding="utf-8")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
