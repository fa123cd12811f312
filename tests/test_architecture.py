"""The dependency rules of ARCHITECTURE.md, held by reading every module's imports."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "conformance"
HARNESS = (
    "transport",
    "deadlines",
    "transcript",
    "client",
    "bayeux",
    "bayeux_rules",
    "notifications",
    "customer",
    "match",
    "expect",
    "actors",
    "fixtures",
    "strategies",
)


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def ours(path: Path) -> set[str]:
    return {m for m in imported_modules(path) if m == "conformance" or m.startswith("conformance.")}


def modules(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*.py"))


@pytest.mark.parametrize("path", modules(PACKAGE / "protocol"), ids=lambda p: p.name)
def test_spec_imports_nothing_else_of_ours(path: Path) -> None:
    assert {m for m in ours(path) if not m.startswith("conformance.protocol")} == set()


@pytest.mark.parametrize("path", modules(PACKAGE / "simulator"), ids=lambda p: p.name)
def test_simulator_imports_only_spec_and_itself(path: Path) -> None:
    allowed = ("conformance.protocol", "conformance.simulator")
    assert {m for m in ours(path) if not m.startswith(allowed)} == set()


@pytest.mark.parametrize(
    "path",
    [PACKAGE / f"{name}.py" for name in HARNESS if (PACKAGE / f"{name}.py").exists()],
    ids=lambda p: p.name,
)
def test_harness_never_imports_the_simulator(path: Path) -> None:
    assert {m for m in ours(path) if m.startswith("conformance.simulator")} == set()


@pytest.mark.parametrize("path", modules(ROOT / "suites"), ids=lambda p: str(p.relative_to(ROOT)))
def test_suites_use_only_the_public_harness(path: Path) -> None:
    forbidden = {
        "conformance.simulator",
        "conformance.target",
        "conformance.cli",
        "conformance.pytest_plugin",
    }
    assert {m for m in ours(path) if m in forbidden or m.startswith("conformance.simulator.")} == set()


def test_only_target_and_runner_know_the_simulator() -> None:
    knowing = {
        p.relative_to(PACKAGE).as_posix()
        for p in PACKAGE.glob("*.py")
        if any(m.startswith("conformance.simulator") for m in ours(p))
    }
    assert knowing <= {"target.py", "cli.py"}
