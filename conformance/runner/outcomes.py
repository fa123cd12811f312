"""What one phase of a suite test says about the server: passed, failed, blocked, error or skipped.

Only a NonConformance raised by the test's own check (the call phase, naming one of the test's
requirement IDs) fails. One met on the way to the state the test needs (in a fixture's setup, or in a
step that names another requirement) blocks the test, and is evidence against the requirement it names.
One raised in teardown (the `chats` fixture checks every view after a body that passed) fails the
requirement it names and only that one: the test's own requirements keep what its body showed.
Anything else (a harness `assert`, a bug in a helper, an unreachable server) is an ERROR.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from conformance.nonconformance import NonConformance
from conformance.protocol import CATALOGUE, Requirement
from conformance.reporting.summary import Outcome, TestResult, blocked, classify, failure_outcome


def nonconformance_of(error: BaseException | None) -> NonConformance | None:
    """The deviation an exception carries (hypothesis may group several; the first one counts)."""
    if isinstance(error, NonConformance):
        return error
    if isinstance(error, BaseExceptionGroup):
        for inner in error.exceptions:
            found = nonconformance_of(inner)
            if found is not None:
                return found
    return None


def one_line(error: BaseException) -> str:
    """An error's type and the first line of its message."""
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[0][:300] if text else ''}".rstrip(": ")


def deviation_line(error: NonConformance) -> str:
    """`expected ...; actual ...` on one line."""
    actual = " ".join(error.actual.split())
    return f"expected {error.expected}; actual {actual[:200]}{'...' if len(actual) > 200 else ''}"


def classify_failure(
    nodeid: str,
    ids: tuple[str, ...],
    phase: str,
    error: BaseException,
    strict: bool = False,
    expected: Iterable[str] = (),
    catalogue: Mapping[str, Requirement] = CATALOGUE,
) -> TestResult:
    """The result of a phase that raised `error` (`expected`: requirements with an expectations entry)."""
    deviation = nonconformance_of(error)
    if deviation is None and phase == "teardown":  # after the body: what it established stands
        return TestResult(nodeid, Outcome.ERROR, {}, reason=one_line(error))
    if deviation is None:
        return TestResult(nodeid, Outcome.ERROR, dict.fromkeys(ids, Outcome.ERROR), reason=one_line(error))
    rid, expected = deviation.requirement, set(expected)
    if phase == "teardown" and rid in catalogue:
        # After the body: what it established stands; the deviation found afterwards is its own.
        level = failure_outcome(catalogue[rid].level, strict)
        found = Outcome.XFAILED if rid in expected else level
        return TestResult(nodeid, found, {rid: found}, reason=deviation_line(deviation))
    if phase == "call" and rid in ids:
        if rid in expected:
            return classify(nodeid, ids, Outcome.XFAILED)
        return classify(nodeid, ids, Outcome.FAILED, blamed=rid, strict=strict, catalogue=catalogue)
    return blocked(nodeid, ids, rid, deviation_line(deviation), strict=strict, expected=rid in expected,
                   catalogue=catalogue)
