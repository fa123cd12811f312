"""Bad input caught before any server is contacted: a --select that names nothing; --base-url alone says
which agents it assumes, and the summary records them."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conformance.config import ConfigError, build_config
from conformance.runner.select_names import check_selection, unknown_words
from conformance.target import assumed_agents_line, reported_target
from tests.suite_process import clean_env

SUITES = Path(__file__).resolve().parents[2] / "suites"


@pytest.mark.parametrize(
    "expression",
    ["ACCEPT", "ACCEPT-03", "accept-03", "NOTIFY or AUTH-01", "ACCEPT and not nickname", "4097-astral",
     "suites/operations", "test_accept.py::test_accept_invitation_makes_the_agent_owner",
     "COMPLETE-TRANSFER"],
)
def test_a_selection_naming_what_exists_passes(expression: str) -> None:
    check_selection(expression, SUITES)


@pytest.mark.parametrize(
    ("expression", "word", "closest"),
    [("ACCPT", "ACCPT", "ACCEPT"), ("ACCEPT-3", "ACCEPT-3", "ACCEPT-03"),
     ("accept and not nicknme", "nicknme", "nickname"), ("REJECT or TRANSFR", "TRANSFR", "TRANSFER")],
)
def test_a_word_naming_nothing_gets_the_closest_names(expression: str, word: str, closest: str) -> None:
    unknown = unknown_words(expression, SUITES)
    assert list(unknown) == [word] and closest in unknown[word]
    with pytest.raises(ConfigError, match=f"'{word}' names no requirement, area or test; the closest: "):
        check_selection(expression, SUITES)


def test_a_typo_in_select_exits_2_before_contacting_the_server() -> None:
    started = time.monotonic()
    # port 9 (discard): nothing answers there, so a run that contacted it would be an error (3), not 2
    done = subprocess.run([sys.executable, "-m", "conformance.cli", "run", "--base-url", "http://127.0.0.1:9",
                           "--select", "ACCPT"], capture_output=True, text=True, timeout=60, env=clean_env())
    assert done.returncode == 2, done.stderr
    assert done.stderr.splitlines() == [
        "gws-conformance: select: 'ACCPT' names no requirement, area or test; the closest: ACCEPT, "
        "ACCEPT-05, ACCEPT-04"
    ]
    assert time.monotonic() - started < 20


def test_base_url_alone_names_the_built_in_agents_it_assumes() -> None:
    config = build_config({"base_url": "http://127.0.0.1:8090"}, {})
    line = assumed_agents_line(config)
    assert line is not None and "\n" not in line
    assert all(name in line for name in ("alice (a1", "bob (a2", "carol (a3", "dave (a4"))
    assert "the reference server's built-in password" in line and "--target" in line
    target = reported_target(config)
    agents = target["agents"]
    assert isinstance(agents, list)
    assert [a["username"] for a in agents] == ["alice", "bob", "carol", "dave"]
    assert all("built-in password" in a["password"] for a in agents)
    assert "built-in" in str(target["agents_assumed"])


def test_a_target_file_or_the_embedded_server_assumes_nothing(tmp_path: Path) -> None:
    assert assumed_agents_line(build_config({}, {})) is None
    file = tmp_path / "t.toml"
    file.write_text('base_url = "http://h:1"\n[[agents]]\nusername = "u"\npassword = "p"\nid = "i"\n')
    config = build_config({"target_file": str(file)}, {})
    assert assumed_agents_line(config) is None
    assert "agents_assumed" not in reported_target(config)


def test_pytest_suites_with_a_typo_in_select_is_a_usage_error(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "pytest", str(SUITES), "--select", "ACCPT", "-q",
                           "--report-dir", str(tmp_path / "reports")], capture_output=True, text=True,
                          timeout=120, env=clean_env(), cwd=SUITES.parent)
    assert done.returncode == 4, done.stdout[-2000:]  # pytest's usage error
    assert "select: 'ACCPT' names no requirement, area or test; the closest: ACCEPT" in done.stderr


def test_a_target_whose_server_ignores_the_routing_hints_stops_at_once_with_one_line(tmp_path: Path) -> None:
    """routing = "hints" against a server that routes by its own rules: the first chat that reaches another
    agent than the one named stops the run, exit 3, with one line naming the setting; no timeout cascade."""
    from conformance.simulator.core import ONE_READY_AGENT
    from conformance.simulator.server import ReferenceServer, target_toml

    report_dir = tmp_path / "reports"
    with ReferenceServer(routing=ONE_READY_AGENT) as server:
        target = tmp_path / "t.toml"
        target.write_text(target_toml(server).replace('routing = "one-ready-agent"', 'routing = "hints"'))
        started = time.monotonic()
        done = subprocess.run([sys.executable, "-m", "conformance.cli", "run", "--target", str(target),
                               "--select", "SESSION", "--report-dir", str(report_dir)],
                              capture_output=True, text=True, timeout=120, env=clean_env())
    assert done.returncode == 3, done.stdout[-3000:]
    assert len(done.stderr.splitlines()) == 1, done.stderr
    assert done.stderr.startswith('gws-conformance: routing = "hints", but the server routed a chat with '
                                  "RouteToAgent="), done.stderr
    assert done.stderr.rstrip().endswith('set routing = "one-ready-agent" in the target file '
                                         "(or --routing one-ready-agent)")
    assert time.monotonic() - started < 30  # one timeout would be 10 s, a cascade minutes
    summary = json.loads((report_dir / "summary.json").read_text(encoding="utf-8"))
    assert summary["verdict"] == "error" and "one-ready-agent" in summary["interrupted"]


def test_pytest_workers_against_a_remote_one_ready_agent_target_are_refused(tmp_path: Path) -> None:
    target = tmp_path / "t.toml"
    target.write_text('base_url = "http://127.0.0.1:9"\nrouting = "one-ready-agent"\n'
                      '[[agents]]\nusername = "alice"\npassword = "p"\nid = "a1"\n')
    done = subprocess.run([sys.executable, "-m", "pytest", str(SUITES), "-q", "-n", "2", "-p",
                           "no:cacheprovider", "--target", str(target), "--report-dir", str(tmp_path / "r")],
                          capture_output=True, text=True, timeout=120, env=clean_env(), cwd=tmp_path)
    assert done.returncode == 4, done.stdout[-2000:] + done.stderr
    assert 'routing = "one-ready-agent": the tests run one at a time' in done.stderr
