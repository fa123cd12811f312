"""Dependencies declared honestly: every third-party import is a declared dependency, 0.x ones have an
upper bound, and constraints.txt pins every declared one within its range."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from dataclasses import dataclass
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest

# Not the `packaging` library: tests/packaging/ shadows it here. The requirements of pyproject.toml are
# all `name>=X,<Y` lists, which this reads.
SPEC = re.compile(r"^([A-Za-z0-9._-]+)\s*(.*)$")
Version = tuple[int, ...]


def canonicalize_name(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def version(text: str) -> Version:
    return tuple(int(part) for part in re.findall(r"\d+", text.split("+")[0])[:3])


@dataclass(frozen=True)
class Requirement:
    name: str
    specifier: tuple[tuple[str, Version], ...]

    def __init__(self, text: str) -> None:
        match = SPEC.match(text.strip())
        assert match, text
        object.__setattr__(self, "name", match.group(1))
        clauses = [c.strip() for c in match.group(2).split(",") if c.strip()]
        parsed = []
        for clause in clauses:
            op = re.match(r"(<=|>=|==|~=|<|>)", clause)
            assert op, f"{text}: cannot read {clause!r}"
            parsed.append((op.group(1), version(clause[len(op.group(1)):])))
        object.__setattr__(self, "specifier", tuple(parsed))

    def contains(self, v: Version) -> bool:
        checks = {"<": v.__lt__, "<=": v.__le__, ">": v.__gt__, ">=": v.__ge__, "==": v.__eq__}
        return all(checks[op](bound) if op in checks else v >= bound for op, bound in self.specifier)

ROOT = Path(__file__).resolve().parent.parent
OURS = {"conformance", "suites", "tests", "bench"}
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
RUNTIME = [Requirement(r) for r in PROJECT["dependencies"]]
DEV = [Requirement(r) for r in PROJECT["optional-dependencies"]["dev"]]
LOAD = [Requirement(r) for r in PROJECT["optional-dependencies"]["load"]]  # conformance/load/ only
MUTATION = [Requirement(r) for r in PROJECT["optional-dependencies"]["mutation"]]  # bench/mutation.py
CONSTRAINTS = ROOT / "constraints.txt"


def top_level_imports(folder: Path, leave_out: Path | None = None) -> set[str]:
    found: set[str] = set()
    paths = [folder] if folder.is_file() else sorted(folder.rglob("*.py"))
    paths = [p for p in paths if leave_out is None or not p.is_relative_to(leave_out)]
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.add(node.module.split(".")[0])
    return {name for name in found if name not in sys.stdlib_module_names and name not in OURS}


def distributions(module: str) -> set[str]:
    """The installed distributions that provide a top-level module (`attr` -> attrs)."""
    return {canonicalize_name(d) for d in packages_distributions().get(module, [])}


def declared(requirements: list[Requirement]) -> set[str]:
    return {canonicalize_name(r.name) for r in requirements}


@pytest.mark.parametrize("folder", ["conformance", "suites", "conftest.py"])
def test_every_import_of_the_package_is_a_runtime_dependency(folder: str) -> None:
    undeclared = {m: distributions(m) for m in top_level_imports(ROOT / folder, ROOT / "conformance" / "load")
                  if not distributions(m) & declared(RUNTIME)}
    assert undeclared == {}


def test_every_import_of_the_load_mode_is_in_its_extra() -> None:
    undeclared = {m: distributions(m) for m in top_level_imports(ROOT / "conformance" / "load")
                  if not distributions(m) & declared(RUNTIME + LOAD)}
    assert undeclared == {}


@pytest.mark.parametrize("folder", ["tests", "bench"])
def test_every_import_of_the_project_tests_is_declared(folder: str) -> None:
    undeclared = {m: distributions(m) for m in top_level_imports(ROOT / folder)
                  if not (distributions(m) or {canonicalize_name(m)}) & declared(RUNTIME + DEV + MUTATION)}
    assert undeclared == {}


def test_zero_x_dependencies_have_an_upper_bound() -> None:
    pinned = dict(pins())
    for requirement in RUNTIME + DEV:
        tested = pinned.get(canonicalize_name(requirement.name))
        if tested is not None and tested[0] == 0:
            assert any(op in ("<", "<=", "==", "~=") for op, _ in requirement.specifier), requirement


def pins() -> list[tuple[str, Version]]:
    found = []
    for line in CONSTRAINTS.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, _, pinned = line.partition("==")
            assert pinned, f"constraints.txt: {line!r} is not name==version"
            found.append((canonicalize_name(name), version(pinned)))
    return found


def test_constraints_pin_every_declared_dependency_within_its_range() -> None:
    pinned = dict(pins())
    for requirement in RUNTIME + DEV:
        name = canonicalize_name(requirement.name)
        assert name in pinned, f"constraints.txt lacks {name}"
        assert requirement.contains(pinned[name]), (requirement, pinned[name])
