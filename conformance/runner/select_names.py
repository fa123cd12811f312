"""--select words that name nothing: no requirement ID, no area, no test. Checked before the run (no server
is contacted), with the closest existing names (difflib)."""

from __future__ import annotations

import ast
import difflib
import re
from collections.abc import Iterable, Mapping
from enum import StrEnum
from pathlib import Path

from conformance.config import ConfigError
from conformance.protocol import CATALOGUE, Requirement, names

# pytest's -k / -m identifier (_pytest.mark.expression) and its keywords.
_IDENT = re.compile(r"(?:\w|:|\+|-|\.|\[|\]|\\|/)+")
_KEYWORDS = frozenset({"and", "or", "not"})


def expression_words(expression: str) -> list[str]:
    return [w for w in _IDENT.findall(expression) if w.lower() not in _KEYWORDS]


def _suite_names(suites_dir: Path) -> tuple[list[str], list[str]]:
    """(haystack: every test's `path::name` and every string constant, which holds the parameter ids;
    the test names, for suggestions)."""
    haystack: list[str] = []
    tests: list[str] = []
    root = suites_dir.parent
    for path in sorted(suites_dir.rglob("test_*.py")):
        relative = path.relative_to(root).as_posix()
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                if node.name.startswith(("test_", "Test")):
                    haystack.append(f"{relative}::{node.name}")
                    tests.append(node.name)
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                haystack.append(node.value)
    # parameter ids made from the protocol's vocabularies (ids=lambda k: k.value)
    for value in vars(names).values():
        if isinstance(value, type) and issubclass(value, StrEnum) and value is not StrEnum:
            haystack += [member.value for member in value]
    return [h.lower() for h in haystack], tests


def unknown_words(
    expression: str, suites_dir: Path, catalogue: Mapping[str, Requirement] = CATALOGUE
) -> dict[str, list[str]]:
    """Each word of the expression that is no requirement ID, no area and in no test's name, with the
    closest names that exist."""
    ids = list(catalogue)
    areas = list(dict.fromkeys(r.area for r in catalogue.values()))
    haystack, tests = _suite_names(suites_dir)
    unknown: dict[str, list[str]] = {}
    for word in expression_words(expression):
        if word.upper() in catalogue or word.upper() in areas or any(word.lower() in h for h in haystack):
            continue
        close = difflib.get_close_matches(word.upper(), areas + ids, n=3, cutoff=0.6)
        if len(close) < 3:
            words = sorted({part for name in tests for part in re.split(r"[_\W]+", name) if len(part) > 2})
            close += difflib.get_close_matches(word.lower(), words, n=3 - len(close), cutoff=0.6)
        unknown[word] = close
    return unknown


def check_selection(
    expression: str, suites_dir: Path, catalogue: Mapping[str, Requirement] = CATALOGUE
) -> None:
    """ConfigError (one line) when a word of --select names nothing that exists."""
    unknown = unknown_words(expression, suites_dir, catalogue)
    if unknown:
        raise ConfigError("select: " + "; ".join(_one(word, close) for word, close in unknown.items()))


def _one(word: str, close: Iterable[str]) -> str:
    close = list(close)
    hint = f"; the closest: {', '.join(close)}" if close else "; see gws-conformance run --list"
    return f"{word!r} names no requirement, area or test{hint}"
