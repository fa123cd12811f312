"""`gws-conformance run` against the embedded reference server."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from conformance.spec import CATALOGUE
from tests.suite_process import clean_env


def test_run_auth_01_against_the_embedded_server(tmp_path: Path) -> None:
    env = clean_env()
    done = subprocess.run(
        [sys.executable, "-m", "conformance.cli", "run", "--select", "AUTH-01", "--report-dir", str(tmp_path),
         "--bundle", str(tmp_path / "bundle.zip")],
        capture_output=True, text=True, timeout=120, env=env,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["verdict"] == "conformant" and set(summary["requirements"]) == set(CATALOGUE)
    assert summary["requirements"]["AUTH-01"]["outcome"] == "passed"
    assert (tmp_path / "junit.xml").is_file() and any((tmp_path / "allure-results").iterdir())
    assert (tmp_path / "bundle.zip").is_file()
