"""The suite proves its checks can fail, and that it blames the right requirement.

Every seeded fault of the reference server must be caught: a run selecting the fault's declared IDs
reports each of them failed (warning, for a SHOULD). For one fault of each area, the WHOLE suite runs
and must fail exactly the declared IDs, every other requirement passing or blocked (precision): the
README's fault in the CI gate, the others nightly (`.ci/nightly`, with `bench/precision.py` for every
fault).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from conformance.protocol import CATALOGUE, Level
from conformance.simulator.faults import FAULTS
from conformance.simulator.server import ReferenceServer
from tests.selftest.runs import expected_outcome, one_fault_per_area, run_suite, whole_run, write_target

README_FAULT = "accept-participants-first"  # the README walkthrough's example
# Open work, measured by bench/precision.py (bench/precision-results.txt): whole runs against these
# still fail a requirement the fault does not declare. The per-area CI check takes another fault of
# the area; each of these is still caught by its selected run below.
NOT_YET_PRECISE = frozenset({"deliver-to-dropped-connect", "reorder-concurrent-messages"})
# chats-never-offered gets its whole run in tests/robustness/test_verdict_coverage.py (blocked fast).
PRECISION_FAULTS = sorted({*one_fault_per_area(NOT_YET_PRECISE | {"chats-never-offered"}), README_FAULT})
# The CI gate runs the README fault's whole run; the other areas' whole runs are nightly (.ci/nightly),
# and the gate checks that each of those faults is caught by its selected run, like every other fault.
GATE_PRECISION = frozenset({README_FAULT})


def selection(requirement_ids: tuple[str, ...]) -> str:
    return " or ".join(requirement_ids)


def expected_exit(declared: tuple[str, ...]) -> tuple[int, str]:
    must_broken = any(CATALOGUE[rid].level is Level.MUST for rid in declared)
    return (1, "non-conformant") if must_broken else (0, "conformant-with-warnings")


@pytest.mark.slow
@pytest.mark.parametrize("fault", sorted(set(FAULTS) - GATE_PRECISION))
def test_seeded_fault_is_reported_failed(fault: str, tmp_path: Path) -> None:
    declared = FAULTS[fault].breaks
    with ReferenceServer(faults=[fault]) as server:
        exit_code, summary = run_suite(
            write_target(tmp_path, server.url), tmp_path / "reports", "--select", selection(declared)
        )
    outcomes = {rid: summary["requirements"][rid]["outcome"] for rid in declared}
    assert outcomes == {rid: expected_outcome(rid) for rid in declared}
    must_broken = any(CATALOGUE[rid].level is Level.MUST for rid in declared)
    narrowed = "non-conformant" if must_broken else "conformant-on-selection"
    assert (exit_code, summary["verdict"]) == (int(must_broken), narrowed)


@pytest.mark.slow
@pytest.mark.parametrize(
    "fault",
    [f if f in GATE_PRECISION else pytest.param(f, marks=pytest.mark.nightly) for f in PRECISION_FAULTS],
)
def test_whole_suite_blames_exactly_what_the_fault_breaks(fault: str, tmp_path: Path) -> None:
    result = whole_run(fault, tmp_path)
    assert (result.missed, result.wrongly) == ([], {})
    assert (result.exit_code, result.verdict) == expected_exit(result.declared)


def test_precision_faults_cover_every_area() -> None:
    areas = {CATALOGUE[rid].area for fault in PRECISION_FAULTS for rid in FAULTS[fault].breaks}
    assert areas == {req.area for req in CATALOGUE.values()}


@pytest.mark.slow
def test_should_fault_fails_the_run_in_strict_mode(tmp_path: Path) -> None:
    with ReferenceServer(faults=["auth-error-lists-users"]) as server:
        exit_code, summary = run_suite(
            write_target(tmp_path, server.url), tmp_path / "reports", "--select", "AUTH-04", "--strict"
        )
    assert (exit_code, summary["verdict"], summary["requirements"]["AUTH-04"]["outcome"]) == (
        1,
        "non-conformant",
        "failed",
    )
