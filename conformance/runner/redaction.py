"""Every report goes through the run's one redactor (`conformance.transcript.RUN`): it knows every
secret issued in this process (passwords, Basic values, cookies, CSRF tokens, secureKeys, Bayeux
clientIds) and the shapes of secret headers and fields.

pytest's report of a failure is redacted where it is made (`redact_report`, in the process that ran
the test): the terminal, junit.xml, summary.json and Allure all read that report, so `-l`
(`--showlocals`), `-vv` and `--tb=long` show the frames' locals with every secret replaced.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from conformance.transcript import RUN, Redactor


def redact_tree(value: Any, redactor: Redactor = RUN, _seen: set[int] | None = None) -> Any:
    """Every string in value (a str, list, tuple, dict or dataclass, such as pytest's ReprEntry,
    ReprLocals and ReprFileLocation) redacted; lists, dicts and dataclasses in place."""
    seen = set() if _seen is None else _seen
    if isinstance(value, str):
        return redactor.redact(value)
    if id(value) in seen or isinstance(value, (int, float, bool, bytes, type(None))):
        return value
    seen.add(id(value))
    if isinstance(value, list):
        value[:] = [redact_tree(v, redactor, seen) for v in value]
    elif isinstance(value, tuple):
        return tuple(redact_tree(v, redactor, seen) for v in value)
    elif isinstance(value, dict):
        for key in list(value):
            value[key] = redact_tree(value[key], redactor, seen)
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for field in dataclasses.fields(value):
            current = getattr(value, field.name, None)
            redacted = redact_tree(current, redactor, seen)
            if redacted is not current:
                object.__setattr__(value, field.name, redacted)
    return value


def redact_report(report: Any) -> None:
    """A pytest report (TestReport or CollectReport) as every writer may show it: its longrepr (the
    traceback, the locals of each frame, the crash message), its captured sections, its xfail reason."""
    if report.longrepr is not None:
        report.longrepr = redact_tree(report.longrepr)
    if report.sections:
        report.sections[:] = [(title, RUN.redact(text)) for title, text in report.sections]
    reason = getattr(report, "wasxfail", None)
    if isinstance(reason, str) and reason:
        report.wasxfail = RUN.redact(reason)
