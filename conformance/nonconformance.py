"""NonConformance: the server did something the profile forbids. The one exception that is a FAIL of
the requirement it names; raised by the judge (`expect`) and by the wire clients' own protocol rules
(a Bayeux reply that breaks Bayeux 1.0)."""

from __future__ import annotations

from conformance.protocol import CATALOGUE, Level


class NonConformance(AssertionError):
    """The server did something the profile forbids (a FAIL, never an ERROR)."""

    def __init__(self, requirement: str, expected: str, actual: str, transcript: str | None = None) -> None:
        self.requirement = requirement
        req = CATALOGUE.get(requirement)
        self.level: Level | None = req.level if req else None
        self.summary = req.summary if req else ""
        self.expected = expected
        self.actual = actual
        self.transcript = transcript  # filled in by the pytest plugin
        super().__init__(self._text())

    def _text(self) -> str:
        level = self.level.value if self.level else "?"
        head = f"{self.requirement} ({level}) {self.summary}"
        return f"{head}\n  expected: {self.expected}\n  actual:   {self.actual}"

    def __str__(self) -> str:
        return self._text()
