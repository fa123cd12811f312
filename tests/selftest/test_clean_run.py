"""The whole suite against the embedded reference server with no fault: every requirement passes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from conformance.protocol import CATALOGUE
from tests.suite_process import clean_env


@pytest.mark.slow
def test_the_whole_suite_passes_against_the_clean_reference_server(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "conformance.cli", "run", "--report-dir", str(tmp_path)],
        capture_output=True, text=True, timeout=600, env=clean_env(),
    )
    summary = json.loads((tmp_path / "summary.json").read_text(encoding="utf-8"))
    not_passed = {rid: r["outcome"] for rid, r in summary["requirements"].items() if r["outcome"] != "passed"}
    assert not_passed == {}, done.stdout[-5000:]
    assert set(summary["requirements"]) == set(CATALOGUE)
    assert summary["totals"]["passed"] > 200
    assert {k: v for k, v in summary["totals"].items() if k != "passed"} == dict.fromkeys(
        ("failed", "warning", "error", "blocked", "skipped", "xfailed", "xpassed"), 0)
    assert (done.returncode, summary["verdict"]) == (0, "conformant")
