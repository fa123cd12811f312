"""The plugin on a fake suite, expectations, selection, the bundle, and the CLI's error exits."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from conformance.config import build_config
from conformance.reporting.bundle import MANIFEST
from conformance.runner.bundle import write_evidence_bundle
from conformance.runner.expectations import Expectation, matching
from conformance.runner.plugin import MODULES
from conformance.runner.selection import Selector
from tests.suite_process import clean_env

DATA = Path(__file__).parent / "data"
SECRET = "secret-password-xyz"


def run_fake(tmp_path: Path, *options: str) -> tuple[subprocess.CompletedProcess[str], dict]:
    env = clean_env()
    env["GWS_TEST_PASSWORD"] = SECRET
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "fake_suites", "-p", "no:cacheprovider", "--target", "target.toml",
         "--report-dir", str(tmp_path), *options],
        cwd=DATA, capture_output=True, text=True, timeout=60, env=env,
    )
    path = tmp_path / "summary.json"
    return done, json.loads(path.read_text()) if path.exists() else {}


def test_fake_suite_outcomes_and_exit_status(tmp_path: Path) -> None:
    done, summary = run_fake(tmp_path)
    assert summary["totals"] == {"passed": 1, "failed": 1, "warning": 1, "error": 2, "blocked": 2,
                                 "skipped": 1, "xfailed": 0, "xpassed": 0}
    outcomes = {rid: entry["outcome"] for rid, entry in summary["requirements"].items()
                if entry["outcome"] != "untested"}
    assert outcomes == {
        "AUTH-01": "passed", "AUTH-02": "skipped", "AUTH-03": "failed", "AUTH-04": "warning",
        "STATUS-01": "error", "STATUS-02": "skipped",
        "STATUS-03": "error",  # a bare assert in a test is the harness's error, never the server's FAIL
        "ACCEPT-01": "blocked", "ACCEPT-03": "blocked",  # blocked on the way to their state ...
        "SESSION-02": "failed", "ACCEPT-02": "failed",  # ... by these, which the blocked tests report failed
    }
    assert summary["requirements"]["ACCEPT-01"]["blocked_by"] == ["SESSION-02"]
    assert done.returncode == 1 and "VERDICT: NON-CONFORMANT" in done.stdout
    assert "2 blocked" in done.stdout and "1 test(s) blocked by SESSION-02" in done.stdout
    assert "«redacted»" in done.stdout
    for path in tmp_path.iterdir():
        assert SECRET not in path.read_text()


def test_select_expectations_and_strict_xpass(tmp_path: Path) -> None:
    expectations = tmp_path / "expect.toml"
    expectations.write_text('["AUTH-03"]\nreason = "known"\n["AUTH-01"]\nreason = "wrong"\n'
                            '["ORDER-04"]\nreason = "stale"\n')
    done, summary = run_fake(tmp_path, "--select", "AUTH-01 or AUTH-03", "--expectations", str(expectations))
    reqs = summary["requirements"]
    assert (reqs["AUTH-03"]["outcome"], reqs["AUTH-01"]["outcome"]) == ("xfailed", "xpassed")
    assert reqs["AUTH-04"]["outcome"] == "untested"
    assert summary["verdict"] == "non-conformant"
    assert "expectation 'ORDER-04' matched no selected test" in done.stdout


def test_list_runs_nothing(tmp_path: Path) -> None:
    done, summary = run_fake(tmp_path, "--list", "--select", "STATUS")
    assert "test_harness_error  [STATUS-01]" in done.stdout and "test_me_passes" not in done.stdout
    assert summary == {}


def test_rerun_failed(tmp_path: Path) -> None:
    run_fake(tmp_path)
    previous = tmp_path / "previous.json"
    previous.write_text((tmp_path / "summary.json").read_text())
    _, summary = run_fake(tmp_path, "--rerun-failed", str(previous))
    assert set(summary["tests"]) == {
        f"tests/runner/data/fake_suites/test_fake.py::{name}"
        for name in ("test_blames_one_id", "test_should_fails", "test_harness_error",
                     "test_harness_assert_is_an_error", "test_blocked_by_a_fixture",
                     "test_blocked_on_the_way")
    }


def test_expectation_matching_by_id_and_node_id() -> None:
    by_id, by_node = Expectation("ACCEPT-01", "r"), Expectation("s/t.py::test_x", "r")
    table = {e.key: e for e in (by_id, by_node)}
    assert matching(table, "s/t.py::test_x[1]", ["REJECT-01"]) is by_node
    assert matching(table, "s/t.py::test_y", ["ACCEPT-01"]) is by_id
    assert matching(table, "s/t.py::test_y", ["ACCEPT-02"]) is None


@pytest.mark.parametrize(
    ("expression", "ids", "selected"),
    [("ACCEPT-03", ["ACCEPT-03"], True), ("ACCEPT", ["ACCEPT-01"], True), ("ACCEPT", ["REJECT-01"], False),
     ("accept and not ACCEPT-02", ["ACCEPT-02"], False), ("COMPLETE-TRANSFER", ["TRANSFER-01"], False)],
)
def test_select(expression: str, ids: list[str], selected: bool) -> None:
    assert Selector(expression).selects("suites/operations/test_accept.py::test_x", ids) is selected


def test_bundle_manifest_and_no_secret(tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    (reports / "allure-results").mkdir(parents=True)
    (reports / "summary.json").write_text('{"verdict": "conformant", "note": "s3cret-value"}')
    (reports / "allure-results" / "x-result.json").write_text("{}")
    target = tmp_path / "t.toml"
    target.write_text('base_url = "http://h:1"\n[[agents]]\nusername = "a"\npassword = "${P}"\nid = "a1"\n')
    config = build_config({"target_file": str(target), "report_dir": str(reports)}, {"P": "s3cret-value"})
    path = write_evidence_bundle(config, tmp_path / "bundle.zip", seed=7)
    with zipfile.ZipFile(path) as archive:
        names = set(archive.namelist())
        assert {"summary.json", "allure-results/x-result.json", "target.json", "run.json", MANIFEST} <= names
        lines = archive.read(MANIFEST).decode().splitlines()
        assert len(lines) == len(names) - 1
        assert all(b"s3cret-value" not in archive.read(name) for name in names)
        run = json.loads(archive.read("run.json"))
        assert run["hypothesis_seed"] == 7
        assert run["versions"]["suite"] == run["version"] and run["versions"]["python"]
        assert {"aiohttp", "httpx", "pytest", "starlette"} <= set(run["versions"]["dependencies"])


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    base = clean_env()
    return subprocess.run([sys.executable, "-m", "conformance.cli", *args], capture_output=True, text=True,
                          timeout=60, env={**base, **(env or {})})


@pytest.mark.parametrize(
    ("text", "status", "key"),
    [
        ('base_url = 3\n[[agents]]\nusername = "a"\npassword = "p"\nid = "a1"\n', 2, "base_url"),
        (DATA.joinpath("target.toml").read_text(), 2, "GWS_TEST_PASSWORD"),
    ],
)
def test_cli_configuration_errors(tmp_path: Path, text: str, status: int, key: str) -> None:
    target = tmp_path / "t.toml"
    target.write_text(text)
    done = cli("run", "--target", str(target), "--report-dir", str(tmp_path / "r"))
    assert done.returncode == status and key in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr


def test_cli_unreachable_target_exits_3(tmp_path: Path) -> None:
    done = cli("run", "--target", str(DATA / "target.toml"), "--report-dir", str(tmp_path),
               env={"GWS_TEST_PASSWORD": "x"})
    assert done.returncode == 3 and "cannot reach http://127.0.0.1:9: connection refused" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr
    assert json.loads((tmp_path / "summary.json").read_text())["verdict"] == "error"


def test_a_fail_reads_as_requirement_expected_actual_and_where(tmp_path: Path) -> None:
    """By default the terminal shows a FAIL's requirement, expected, actual, the line of the check and
    where the transcript is, not a traceback; --tb=long gives pytest's traceback."""
    done, _ = run_fake(tmp_path, "--select", "AUTH-03")
    assert "AUTH-03 (MUST)" in done.stdout
    assert "  expected: HTTP 403\n  actual:   HTTP 200\n" in done.stdout
    assert "  checked at: tests/runner/data/fake_suites/test_fake.py:24\n" in done.stdout
    assert "  transcript: the 'transcript' section below" in done.stdout
    assert 'raise NonConformance("AUTH-03"' not in done.stdout
    full, _ = run_fake(tmp_path, "--select", "AUTH-03", "--tb=long")
    assert 'raise NonConformance("AUTH-03"' in full.stdout and "checked at:" not in full.stdout


@pytest.mark.parametrize("autoload", [True, False], ids=["entry-point", "root-conftest"])
def test_the_runner_modules_are_registered_once(autoload: bool) -> None:
    """Through the pytest11 entry point, or (entry points not loaded) the checkout's root conftest."""
    env = {**clean_env(), "GWS_TEST_PASSWORD": SECRET}
    if not autoload:
        env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "fake_suites", "-p", "no:cacheprovider", "--target", "target.toml",
         "--trace-config", "--co", "-q"],
        cwd=DATA, capture_output=True, text=True, timeout=60, env=env,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    for module in (*MODULES, "conformance.runner.plugin"):
        name = module if isinstance(module, str) else module.__name__
        assert done.stdout.count(f"PLUGIN registered: <module '{name}'") == 1, name


def test_one_ready_agent_runs_against_the_embedded_server_routing_so(tmp_path: Path) -> None:
    """`run --routing one-ready-agent`: the embedded reference server routes by its own rules (the hints
    ignored) and the routing cases pass; the chat machine, which needs chats routed to named agents, is
    skipped with the routing reason, and what only it tested in this selection is untested: incomplete."""
    done = cli("run", "--routing", "one-ready-agent", "--select", "REJECT or SESSION or random_operation",
               "--report-dir", str(tmp_path))
    assert done.returncode == 3, done.stdout[-3000:] + done.stderr
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["target"]["routing"] == "one-ready-agent"
    assert summary["verdict"] == "incomplete"
    why = summary["coverage"]["untested_because"]["ORDER-01"]
    assert why.startswith('skipped: routing = "one-ready-agent"')
    assert all(summary["requirements"][rid]["outcome"] == "passed"
               for rid in ("REJECT-01", "REJECT-02", "SESSION-01", "SESSION-02"))
    machine = [n for n in summary["tests"] if "random_operation_sequences" in n]
    assert len(machine) == 1 and summary["tests"][machine[0]] == "skipped"
    assert summary["reasons"][machine[0]].startswith('routing = "one-ready-agent": ')
