"""The dependency rules of ARCHITECTURE.md, held by reading every module's imports (top-level and
inside functions; `from conformance import expect` counts as importing `conformance.expect`).

Layers, lowest first; a module imports only modules of its own layer or of lower ones:

    protocol  <-  wire clients  <-  judge  <-  actors  <-  setup  <-  public surface  <-  runner

Beside them: `reporting/` reads results (its own modules, the protocol, the transcript's entries and
redactor) and never the runner or the harness above the transcript; the simulator imports only the
protocol and itself; only `conformance/target.py` imports the simulator. Suites import only the public
surface. Every module of the package has a place here, so a new one must be given one.
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "conformance"

# conformance.<name> -> layer; a package's modules take the package's layer.
LAYERS: dict[str, int] = {}
PROTOCOL, WIRE, JUDGE, ACTORS, SETUP, PUBLIC, RUNNER = range(7)
for _layer, _names in {
    PROTOCOL: ("protocol",),
    # The wire clients: talk to the server, record what passed, never assert.
    WIRE: (
        "nonconformance", "transport", "transcript", "reply", "client", "bayeux_rules", "bayeux", "customer"
    ),
    # The judge: pure predicates, the must layer, waits on notifications, whole-chat checks.
    JUDGE: ("match", "expect", "chat_checks", "views", "notifications", "messages", "deadlines"),
    ACTORS: ("actors",),
    # Setup: chats in named states, their fixtures, multi-step helpers, generated bodies.
    SETUP: ("chats", "fixtures", "steps", "strategies"),
    PUBLIC: ("api",),  # what suites import
    # The runner: configuration, the target, the pytest plugin, the command line.
    RUNNER: ("config", "target", "suite_settings", "runner", "cli", "load"),
}.items():
    LAYERS.update(dict.fromkeys(_names, _layer))
LAYER_NAMES = ("protocol", "wire clients", "judge", "actors", "setup", "public surface", "runner")
BESIDE = {"reporting", "simulator"}  # outside the layers, with rules of their own
REPORTING_MAY_IMPORT = ("conformance.protocol", "conformance.transcript", "conformance.reporting")
PURE = ("conformance.match", "conformance.reply")  # no HTTP library, directly or through our modules
HTTP_LIBRARIES = ("httpx", "aiohttp", "starlette", "uvicorn")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def all_modules(folder: Path) -> dict[str, Path]:
    return {module_name(p): p for p in sorted(folder.rglob("*.py"))}


MODULES = all_modules(PACKAGE)


def _resolve(path: Path, node: ast.ImportFrom) -> str:
    """The absolute module an import-from names (relative imports resolved)."""
    if node.level == 0:
        return node.module or ""
    package = module_name(path).split(".")
    if path.name != "__init__.py":
        package.pop()
    base = package[: len(package) - (node.level - 1)]
    return ".".join([*base, *([node.module] if node.module else [])])


@cache
def imports(path: Path) -> frozenset[str]:
    """Every module `path` imports; `from pkg import name` is `pkg.name` when that is one of our modules."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            module = _resolve(path, node)
            for alias in node.names:
                submodule = f"{module}.{alias.name}"
                found.add(submodule if submodule in MODULES else module)
    return frozenset(found)


def ours(path: Path) -> set[str]:
    return {m for m in imports(path) if m == "conformance" or m.startswith("conformance.")}


def place(module: str) -> str:
    """`conformance.runner.plugin` -> `runner`; `conformance` (the package itself) -> ``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def layer_of(module: str) -> int | None:
    return LAYERS.get(place(module))


def test_every_module_has_a_place() -> None:
    """A new module or package must be given a layer (or be the empty package `conformance`)."""
    unplaced = sorted(m for m in MODULES if place(m) and place(m) not in LAYERS and place(m) not in BESIDE)
    assert unplaced == [], f"give each a layer here (and in ARCHITECTURE.md): {unplaced}"


def test_the_package_itself_imports_nothing_of_ours() -> None:
    assert ours(PACKAGE / "__init__.py") == set()


LAYERED = sorted(m for m in MODULES if layer_of(m) is not None)


@pytest.mark.parametrize("module", LAYERED, ids=lambda m: m.removeprefix("conformance."))
def test_layers_point_one_way(module: str) -> None:
    own = layer_of(module)
    assert own is not None
    upward = sorted(
        f"{m} ({LAYER_NAMES[layer]})"
        for m in ours(MODULES[module])
        if (layer := layer_of(m)) is not None and layer > own
    )
    assert upward == [], f"{module} ({LAYER_NAMES[own]}) imports a higher layer"
    if own < RUNNER:
        beside = sorted(m for m in ours(MODULES[module]) if place(m) in BESIDE or m == "conformance")
        assert beside == [], f"{module}: the harness imports neither reporting, the simulator nor the package"


@pytest.mark.parametrize("module", sorted(m for m in MODULES if place(m) == "reporting"))
def test_reporting_reads_results_never_the_runner(module: str) -> None:
    """reporting/ imports its own modules, the protocol, and the transcript (entries for the sequence
    diagrams, the run's redactor); never the runner, the configuration, or the harness above."""
    others = sorted(m for m in ours(MODULES[module]) if not m.startswith(REPORTING_MAY_IMPORT))
    assert others == []


@pytest.mark.parametrize("module", sorted(m for m in MODULES if place(m) == "simulator"))
def test_simulator_imports_only_protocol_and_itself(module: str) -> None:
    allowed = ("conformance.protocol", "conformance.simulator")
    assert sorted(m for m in ours(MODULES[module]) if not m.startswith(allowed)) == []


def test_only_target_knows_the_simulator() -> None:
    knowing = {m for m, path in MODULES.items() if place(m) != "simulator"
               and any(place(i) == "simulator" for i in ours(path))}
    assert knowing <= {"conformance.target"}


def test_no_import_cycles() -> None:
    """The import graph of the package (functions' imports included) has no cycle."""
    graph = {m: {i for i in ours(p) if i in MODULES and i != m} for m, p in MODULES.items()}
    for module in graph:
        graph[module] -= {m for m in graph[module] if module.startswith(f"{m}.")}  # a package's __init__
    state: dict[str, int] = {}  # 1: on the path, 2: done
    cycles: list[list[str]] = []

    def visit(module: str, path: list[str]) -> None:
        state[module] = 1
        for target in sorted(graph[module]):
            if state.get(target) == 1:
                cycles.append([*path[path.index(target):], target])
            elif target not in state:
                visit(target, [*path, target])
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    assert cycles == []


def _closure(module: str) -> set[str]:
    seen, todo = set(), [module]
    while todo:
        current = todo.pop()
        if current in seen or current not in MODULES:
            continue
        seen.add(current)
        todo += ours(MODULES[current])
    return seen


@pytest.mark.parametrize("module", PURE)
def test_pure_modules_reach_no_http_library(module: str) -> None:
    """match (predicates) and reply (the data they read) do no I/O: nothing they import, directly or
    through our modules, imports an HTTP client or server."""
    reached = {
        f"{m} imports {lib}"
        for m in _closure(module)
        for lib in imports(MODULES[m])
        if lib.split(".")[0] in HTTP_LIBRARIES
    }
    assert reached == set()


def test_expect_and_actors_do_not_import_each_other() -> None:
    assert "conformance.actors" not in ours(MODULES["conformance.expect"])
    assert "conformance.expect" not in _closure("conformance.notifications")


SUITE_FILES = sorted((ROOT / "suites").rglob("*.py"))


@pytest.mark.parametrize("path", SUITE_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_suites_import_only_the_public_surface(path: Path) -> None:
    assert sorted(m for m in ours(path) if m != "conformance.api") == []
