"""A user's profile file (--profile FILE) merged over the default profile."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from conformance.protocol import DEFAULT_PROFILE, Operation, ProfileError, Status, load_profile
from tests.suite_process import clean_env


def test_a_file_changes_only_what_it_names(tmp_path: Path) -> None:
    path = tmp_path / "p.toml"
    path.write_text(
        "[status_codes]\ninvalid_parameter = 12\n[http_status]\n12 = 422\n"
        '[operations]\naccept = "AcceptChat"\n',
        encoding="utf-8",
    )
    profile = load_profile(path)
    assert (profile.code(Status.INVALID_PARAMETER), profile.http_status(12)) == (12, 422)
    assert profile.code(Status.MISSING_PARAMETER) == DEFAULT_PROFILE.code(Status.MISSING_PARAMETER)
    assert profile.wire(Operation.ACCEPT) == "AcceptChat"
    assert profile.wire(Operation.REJECT) == DEFAULT_PROFILE.wire(Operation.REJECT)


def test_a_status_code_without_an_http_status_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "p.toml"
    path.write_text("[status_codes]\ninvalid_parameter = 12\n", encoding="utf-8")
    with pytest.raises(ProfileError, match=r"\[http_status\] lacks 12"):
        load_profile(path)
    command = [sys.executable, "-m", "conformance.cli", "run", "--profile", str(path)]
    done = subprocess.run(
        [*command, "--report-dir", str(tmp_path)], capture_output=True, text=True, timeout=60, env=clean_env()
    )
    assert done.returncode == 2 and "[http_status] lacks 12" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
