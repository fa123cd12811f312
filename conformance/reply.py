"""`Reply`: what a request got back, as plain data (no I/O, no HTTP library), so the judge layer
(`match`, `expect`) reads replies without importing the clients."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from conformance.transcript import RUN


@dataclass
class Reply:
    http_status: int
    body: dict[str, Any] | None  # the JSON object, or None when the body is not one
    text: str
    headers: dict[str, str] = field(default_factory=dict)  # lower-case names
    elapsed_s: float = 0.0

    def __repr__(self) -> str:
        """What a traceback's locals may show: the status and the body, every known secret redacted
        (the headers carry the session cookie and the CSRF token: left out)."""
        shown = RUN.redact(repr(self.body) if self.body is not None else repr(self.text[:2000]))
        return f"Reply(http_status={self.http_status}, body={shown})"

    @property
    def status_code(self) -> int | None:
        """The body's statusCode, or None when there is none (or it is not an integer)."""
        if self.body is None:
            return None
        code = self.body.get("statusCode")
        return code if isinstance(code, int) and not isinstance(code, bool) else None

    @staticmethod
    def parse(http_status: int, text: str, headers: Mapping[str, str], elapsed_s: float = 0.0) -> Reply:
        """A reply from the raw answer: the body is kept only when it is a JSON object."""
        try:
            parsed = json.loads(text)
        except ValueError:
            parsed = None
        return Reply(
            http_status=http_status,
            body=parsed if isinstance(parsed, dict) else None,
            text=text,
            headers={k.lower(): v for k, v in headers.items()},
            elapsed_s=elapsed_s,
        )
