"""--list, --select, --rerun-failed and --bundle, through the command line."""

from __future__ import annotations

import hashlib
import json
import re
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from conformance.protocol import CATALOGUE
from tests.reports.conftest import PASSWORDS, FaultRun, cli, run_suite

LISTED = re.compile(r"^(suites/\S+)  \[([A-Z0-9, -]+)\]$")


def listed(*select: str) -> dict[str, list[str]]:
    done = cli("run", "--list", *select)
    assert done.returncode == 0, done.stderr
    found = {}
    for line in done.stdout.splitlines():
        m = LISTED.match(line.strip())
        if m:
            found[m.group(1)] = m.group(2).split(", ")
    return found


SELECTIONS = {
    "ACCEPT-03": lambda node, ids: "ACCEPT-03" in ids,
    "REJECT": lambda node, ids: any(rid.startswith("REJECT-") for rid in ids),
    # `accept` is an area; a word that is neither an ID nor an area matches the test's name
    "accept and not nickname":
        lambda node, ids: any(r.startswith("ACCEPT-") for r in ids) and "nickname" not in node.lower(),
}


@pytest.fixture(scope="module")
def listings() -> dict[str, dict[str, list[str]]]:
    """Every listing at once (each collects the whole suite)."""
    with ThreadPoolExecutor(max_workers=4) as pool:
        every = pool.submit(listed)
        chosen = {e: pool.submit(listed, "--select", e) for e in SELECTIONS}
        return {"": every.result(), **{e: f.result() for e, f in chosen.items()}}


def test_list_prints_every_suite_test_with_its_ids_and_runs_nothing(listings) -> None:  # type: ignore[no-untyped-def]
    every = listings[""]
    assert len(every) > 100
    assert all(ids and all(rid in CATALOGUE for rid in ids) for ids in every.values())


@pytest.mark.parametrize("expression", list(SELECTIONS))
def test_select_by_id_area_and_expression(expression: str, listings) -> None:  # type: ignore[no-untyped-def]
    keeps = SELECTIONS[expression]
    chosen = listings[expression]
    assert chosen
    assert set(chosen) == {node for node, ids in listings[""].items() if keeps(node, ids)}


def test_a_bad_select_expression_is_a_usage_error() -> None:
    done = cli("run", "--list", "--select", "ACCEPT and (")
    assert done.returncode == 2 and "select" in done.stderr


def test_rerun_failed_runs_exactly_the_failed_errored_and_blocked_tests(
    fault_run: FaultRun, tmp_path: Path
) -> None:
    first = fault_run.run.summary
    bad = {node for node, outcome in first["tests"].items() if outcome in ("failed", "error", "blocked")}
    assert bad and len(bad) < len(first["tests"])
    rerun = run_suite(fault_run.target, tmp_path / "rerun", "--rerun-failed",
                      str(fault_run.run.report_dir / "summary.json"))
    assert set(rerun.summary["tests"]) == bad
    assert rerun.status == 1 and rerun.summary["verdict"] == "non-conformant"


def test_bundle_holds_the_reports_and_a_verified_manifest(fault_run: FaultRun) -> None:
    assert f"evidence bundle: {fault_run.bundle.resolve()}" in fault_run.run.stdout
    with zipfile.ZipFile(fault_run.bundle) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    manifest = members.pop("MANIFEST.sha256").decode("utf-8")
    listed_hashes = dict(reversed(line.split("  ", 1)) for line in manifest.splitlines())
    assert set(listed_hashes) == set(members)
    assert all(hashlib.sha256(data).hexdigest() == listed_hashes[name] for name, data in members.items())
    for name in ("summary.json", "summary.md", "junit.xml", "target.json", "run.json"):
        assert name in members
    results = fault_run.run.report_dir / "allure-results"
    assert {f"allure-results/{p.name}" for p in results.iterdir()} <= set(members)
    assert json.loads(members["summary.json"])["verdict"] == "non-conformant"
    target = json.loads(members["target.json"])
    assert target["base_url"] == fault_run.server.url
    assert not any(p in members["target.json"].decode() for p in PASSWORDS.values())
    assert json.loads(members["run.json"])["hypothesis_seed"] is not None
