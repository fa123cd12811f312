"""`pip install .` (not editable) gives a working suite from any folder: the wheel is built from a copy
of the sources, installed into a fresh virtual environment (its dependencies come from the package
index), and run from an empty folder."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ("pyproject.toml", "README.md", "conformance", "suites")
DEADLINE_S = 300


def _env(venv: Path) -> dict[str, str]:
    """The environment of a user's shell: none of this run's pytest or suite settings."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PYTEST_", "GWS_CONFORMANCE_", "PYTHON", "VIRTUAL_ENV"))}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    return env


def _run(command: list[str | Path], cwd: Path, env: dict[str, str] | None = None,
         ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(c) for c in command], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=DEADLINE_S, check=False)


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel, built from a copy of the sources (the build writes build/ and *.egg-info next to them)."""
    source = tmp_path_factory.mktemp("source")
    for name in SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(ROOT / name, source / name)
    out = tmp_path_factory.mktemp("wheel")
    done = _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", out, source], cwd=source)
    assert done.returncode == 0, done.stderr[-2000:]
    (built,) = out.glob("gws_conformance-*.whl")
    return built


@pytest.fixture(scope="module")
def venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("venv")
    done = _run([sys.executable, "-m", "venv", folder], cwd=folder)
    assert done.returncode == 0, done.stderr[-2000:]
    python = folder / "bin" / "python"
    done = _run([python, "-m", "pip", "install", "-q", wheel], cwd=folder, env=_env(folder))
    assert done.returncode == 0, done.stderr[-2000:]
    return folder


def test_the_wheel_ships_the_suites_the_profile_and_the_report_tool(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {
        "suites/__init__.py", "suites/api/conftest.py", "suites/fuzz/conftest.py",
        "suites/operations/test_accept.py", "conformance/api.py",
        "conformance/protocol/gws-chat-8.5.toml", "conformance/protocol/requirements.toml",
        "conformance/reporting/npm/package.json", "conformance/reporting/npm/package-lock.json",
        "conformance/pytest-suites.ini",
    }
    assert expected <= names, sorted(expected - names)
    assert not {n for n in names if n.startswith(("tests/", "bench/")) or n == "conftest.py"}


@pytest.mark.slow
def test_an_installed_copy_runs_from_an_empty_folder(venv: Path, tmp_path: Path) -> None:
    here = tmp_path / "empty"
    here.mkdir()
    cli = venv / "bin" / "gws-conformance"
    listed = _run([cli, "run", "--list"], cwd=here, env=_env(venv))
    assert listed.returncode == 0, listed.stderr[-2000:]
    lines = [line for line in listed.stdout.splitlines() if "::" in line]
    assert lines and all(line.startswith("suites/") for line in lines), listed.stdout[-2000:]
    assert any("[ACCEPT-01" in line for line in lines)

    done = _run([cli, "run", "--select", "ACCEPT-01"], cwd=here, env=_env(venv))
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    assert done.stdout.rstrip().endswith("verdict: conformant-on-selection")
    assert "PytestAssertRewriteWarning" not in done.stdout + done.stderr + listed.stdout + listed.stderr
    summary = json.loads((here / "reports" / "summary.json").read_text(encoding="utf-8"))
    assert summary["verdict"] == "conformant-on-selection"
    accept = summary["requirements"]["ACCEPT-01"]
    assert accept["outcome"] == "passed"
    assert all(test.startswith("suites/operations/test_accept.py::") for test in accept["tests"])
    assert set(os.listdir(here)) <= {"reports", ".hypothesis"}  # nothing else lands in the user's folder


@pytest.mark.slow
def test_pytest_pyargs_suites_runs_the_installed_suites(venv: Path, tmp_path: Path) -> None:
    here = tmp_path / "empty"
    here.mkdir()
    done = _run([venv / "bin" / "python", "-m", "pytest", "--pyargs", "suites", "--select", "ACCEPT-01",
                 "-p", "no:cacheprovider", "--report-dir", tmp_path / "reports"], cwd=here, env=_env(venv))
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    assert "Warning" not in done.stdout + done.stderr, (done.stdout + done.stderr)[-3000:]
    summary = json.loads((tmp_path / "reports" / "summary.json").read_text(encoding="utf-8"))
    assert summary["requirements"]["ACCEPT-01"]["outcome"] == "passed"
    assert summary["totals"]["passed"] >= 1 and summary["totals"]["error"] == 0
