"""An interrupted run is never a verdict on the server: SIGINT and SIGTERM mid-run, -x after the first
failure, a collection error. Each gives verdict `error` (exit 3) with the summary saying why, and a
signal still runs the normal cleanup (no chat left open on the server)."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from tests.robustness.harness import clean_env, served
from tests.suite_process import clean_env as suite_env
from tests.suite_process import interruptible

INTERRUPT_AFTER = "test_session.py"  # auth and customer tests have run: chats were opened and closed


def run_and_signal(report_dir: Path, target: Path, signum: int) -> tuple[int, str]:
    """The whole suite, sent `signum` once it has reached INTERRUPT_AFTER."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "conformance.cli", "run", "--target", str(target), "--report-dir",
         str(report_dir), "--hypothesis-profile", "dev"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=clean_env(),
        preexec_fn=interruptible,  # the run is sent SIGINT
    )
    assert proc.stdout is not None
    out: list[str] = []
    sent = threading.Event()

    def pump() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            out.append(line)
            if INTERRUPT_AFTER in line and not sent.is_set():
                sent.set()
                proc.send_signal(signum)

    reader = threading.Thread(target=pump, daemon=True)
    reader.start()
    try:
        status = proc.wait(120)
    finally:
        proc.kill()
    reader.join(10)
    assert sent.is_set(), "the run ended before it could be interrupted:\n" + "".join(out)[-3000:]
    return status, "".join(out)


def open_interactions(base_url: str) -> dict[str, list[str]]:
    found = {}
    for user in ("alice", "bob", "carol", "dave"):
        reply = httpx.get(f"{base_url}/api/v2/me/interactions", auth=(user, "password"), timeout=5)
        found[user] = reply.json()["uris"]
    return found


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_mid_run_is_an_error_and_cleans_up(tmp_path: Path, signum: int) -> None:
    import json

    with served(tmp_path) as server:
        status, output = run_and_signal(tmp_path / "r", server.target_out, signum)
        summary = json.loads((tmp_path / "r" / "summary.json").read_text(encoding="utf-8"))
        assert (status, summary["verdict"]) == (3, "error"), output[-3000:]
        assert signal.Signals(signum).name in summary["interrupted"] or "Ctrl-C" in summary["interrupted"]
        assert summary["run"]["reported"] < summary["run"]["selected"]
        assert "VERDICT: ERROR" in output and "CONFORMANT" not in output.replace("NON-CONFORMANT", "")
        assert open_interactions(server.url) == {u: [] for u in ("alice", "bob", "carol", "dave")}


def test_stop_after_the_first_failure_is_an_error(tmp_path: Path) -> None:
    """-x (pytest's option, through `pytest suites`) stops early: no verdict on the server."""
    import json

    from conformance.simulator.server import ReferenceServer
    from tests.selftest.runs import write_target

    suites = Path(__file__).resolve().parents[2] / "suites"
    with ReferenceServer(faults=["reject-after-accept"]) as server:
        target = write_target(tmp_path, server.url)
        done = subprocess.run(
            [sys.executable, "-m", "pytest", str(suites / "operations"), "-x", "-p", "no:cacheprovider",
             "--target", str(target), "--report-dir", str(tmp_path / "r"), "--hypothesis-profile", "dev"],
            capture_output=True, text=True, timeout=120, env=suite_env(), cwd=tmp_path,
        )
    summary = json.loads((tmp_path / "r" / "summary.json").read_text(encoding="utf-8"))
    assert summary["verdict"] == "error" and summary["interrupted"].startswith("stopped early")
    assert done.returncode != 0


def test_a_collection_error_is_an_error(tmp_path: Path) -> None:
    broken = tmp_path / "suite"
    broken.mkdir()
    (broken / "test_broken.py").write_text("import pytest\nthis is not python\n", encoding="utf-8")
    fine = "import pytest\n\n@pytest.mark.requirement('AUTH-01')\ndef test_fine():\n    pass\n"
    (broken / "test_fine.py").write_text(fine, encoding="utf-8")
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "pytest", str(broken), "-p", "no:cacheprovider", "--report-dir",
         str(tmp_path / "r"), "--gws-reports", "--rootdir", str(tmp_path)],
        capture_output=True, text=True, timeout=60, env=suite_env(), cwd=tmp_path,
    )
    import json

    summary = json.loads((tmp_path / "r" / "summary.json").read_text(encoding="utf-8"))
    assert summary["verdict"] == "error" and "error during collection" in summary["interrupted"]
    assert done.returncode != 0 and time.monotonic() - started < 60


def test_a_crashed_worker_is_an_error(tmp_path: Path) -> None:
    import json

    suite = tmp_path / "suite"
    suite.mkdir()
    (suite / "test_crash.py").write_text(
        "import os\n\nimport pytest\n\n\n"
        "@pytest.mark.requirement('AUTH-01')\ndef test_fine():\n    pass\n\n\n"
        "@pytest.mark.requirement('AUTH-02')\ndef test_worker_dies():\n    os._exit(9)\n",
        encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "pytest", str(suite), "-n", "2", "-p", "no:cacheprovider", "--report-dir",
         str(tmp_path / "r"), "--gws-reports", "--rootdir", str(tmp_path)],
        capture_output=True, text=True, timeout=120, env=suite_env(), cwd=tmp_path,
    )
    summary = json.loads((tmp_path / "r" / "summary.json").read_text(encoding="utf-8"))
    assert summary["verdict"] == "error" and "crashed" in summary["interrupted"], done.stdout[-2000:]
    assert done.returncode != 0


def test_after_sigterm_no_chat_contact_center_session_or_bayeux_client_of_the_suite_is_left(
    tmp_path: Path,
) -> None:
    """The server's own state, read after the run: every agent NotReady with its contact-center session
    ended, no Bayeux client left, no chat an agent still works on. (HTTP sessions stay: the profile
    has no sign-out operation.)"""
    from conformance.simulator.server import ReferenceServer
    from tests.selftest.runs import write_target

    with ReferenceServer() as server:
        status, output = run_and_signal(tmp_path / "r", write_target(tmp_path, server.url), signal.SIGTERM)
        assert status == 3, output[-3000:]
        agents = {uid: (s.session, s.ready) for uid, s in server.engine.agents.items()}
        clients = len(server.app.state.bayeux._clients)
        still_open = open_interactions(server.url)
    assert agents == dict.fromkeys(agents, (False, False))
    assert clients == 0
    assert still_open == {u: [] for u in ("alice", "bob", "carol", "dave")}
