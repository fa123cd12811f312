"""--select: requirement IDs, areas, or a pytest -k style expression over test names and IDs."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from _pytest.mark.expression import Expression

from conformance.config import ConfigError
from conformance.protocol import CATALOGUE, Requirement


class Selector:
    """`ACCEPT-03`, `ACCEPT`, `AUTH-01 or NOTIFY`, `accept and not REJECT-02`, ..."""

    def __init__(self, expression: str, catalogue: Mapping[str, Requirement] = CATALOGUE) -> None:
        try:
            self._expression = Expression.compile(expression)
        except SyntaxError as err:
            raise ConfigError(f"select: {expression!r} is not a valid expression ({err.msg})") from None
        self._ids = frozenset(catalogue)
        self._areas = frozenset(r.area for r in catalogue.values())
        self._catalogue = catalogue

    def selects(self, nodeid: str, ids: Iterable[str]) -> bool:
        ids = frozenset(ids)
        areas = frozenset(self._catalogue[rid].area for rid in ids if rid in self._catalogue)
        name = nodeid.lower()

        def matcher(word: str, /, **_: object) -> bool:
            upper = word.upper()
            if upper in self._ids:
                return upper in ids
            if upper in self._areas:
                return upper in areas
            return word.lower() in name

        return self._expression.evaluate(matcher)
