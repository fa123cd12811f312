"""Deadlines the server already missed. Once a requirement's notifications have failed to arrive in
BLOCK_AFTER tests, a test that needs them only on its way to its own check is blocked at once, with that
evidence, instead of waiting out the same deadline again. A test's own check always waits."""

from __future__ import annotations

from dataclasses import dataclass, field

BLOCK_AFTER = 3


@dataclass
class MissedDeadlines:
    test: str = ""
    checks: frozenset[str] = frozenset()  # the requirement IDs the running test checks ...
    own_check: bool = False  # ... and whether its body (not a fixture) is running
    missed: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # requirement -> (test, what)

    def enter(self, test: str, checks: frozenset[str], own_check: bool) -> None:
        self.test, self.checks, self.own_check = test, checks, own_check

    def record(self, requirement: str, what: str) -> None:
        seen = self.missed.setdefault(requirement, [])
        if all(test != self.test for test, _ in seen):
            seen.append((self.test, what))

    def already_missed(self, requirement: str) -> str | None:
        """Why not to wait for this requirement's notification, or None to wait."""
        seen = self.missed.get(requirement, [])
        if len(seen) < BLOCK_AFTER or (self.own_check and requirement in self.checks):
            return None
        first_test, first_what = seen[0]
        return (f"not awaited: {requirement}'s notifications missed their deadline in {len(seen)} earlier "
                f"tests (first {first_test}: {first_what})")


MISSED = MissedDeadlines()  # one per process (each xdist worker learns on its own)
