"""CI runs exactly the README's test command: .ci/run's steps are the README's, in order."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SETUP = ("set ", "cd ")  # the script's own lines: shell options, the checkout as working folder


def readme_steps() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    line = next(ln for ln in text.splitlines() if ln.startswith("pip install -e '.[dev]'"))
    return [step.strip() for step in line.split("#")[0].split("&&")]


def ci_steps() -> list[str]:
    lines = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    return [ln.strip() for ln in lines if ln.strip() and not ln.startswith(("#", *SETUP))]


def test_ci_runs_the_readme_command() -> None:
    assert ci_steps() == readme_steps()
    assert {"ruff check .", "mypy --strict conformance", "mypy suites"} <= set(ci_steps())
