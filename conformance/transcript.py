"""The transcript of a test: every HTTP exchange, Bayeux message and note, with secrets redacted."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

REDACTED = "«redacted»"

# Headers whose values are always secret, whatever their value.
SECRET_HEADERS = ("authorization", "cookie", "set-cookie", "x-csrf-token")
# Form or JSON fields whose values are always secret.
SECRET_FIELDS = ("securekey", "password")

_HEADER_LINE = re.compile(r"(?im)^(\s*(?:" + "|".join(SECRET_HEADERS) + r")\s*:\s*)(.+)$")
_FORM_FIELD = re.compile(r"(?i)((?:^|[&?\s])(?:" + "|".join(SECRET_FIELDS) + r")=)([^&\s]*)")
_JSON_FIELD = re.compile(r'(?i)("(?:' + "|".join(SECRET_FIELDS) + r')"\s*:\s*)("(?:[^"\\]|\\.)*"|[^,}\s]+)')
_BASIC = re.compile(r"(?i)(basic\s+)[A-Za-z0-9+/=]+")
_COOKIE_PAIR = re.compile(r"(?i)(JSESSIONID=)[^;\s&\"']+")


class EntryKind(StrEnum):
    HTTP = "http"
    BAYEUX_OUT = "bayeux-out"
    BAYEUX_IN = "bayeux-in"
    CUSTOMER = "customer"
    NOTE = "note"


@dataclass(frozen=True)
class Entry:
    seq: int
    at: float  # seconds since the transcript began
    kind: EntryKind
    actor: str
    summary: str
    detail: str  # full request/response text, already redacted


class Transcript:
    """Append-only and thread-safe; everything stored has passed through `redact`."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: list[Entry] = []
        self._secrets: set[str] = set()
        self._secret_pattern: re.Pattern[str] | None = None
        self._start = time.monotonic()

    def add_secret(self, value: str | None) -> None:
        """Register a value that must never appear in a rendered transcript."""
        if value and len(value) >= 3:
            with self._lock:
                if value not in self._secrets:
                    self._secrets.add(value)
                    self._secret_pattern = None

    def redact(self, text: str) -> str:
        with self._lock:
            pattern = self._secret_pattern
            if pattern is None and self._secrets:
                # one pass over the text, longest secret first (every customer adds a secureKey:
                # replacing them one by one made each entry cost O(number of chats so far))
                ordered = sorted(self._secrets, key=len, reverse=True)
                pattern = self._secret_pattern = re.compile("|".join(map(re.escape, ordered)))
        if pattern is not None:
            text = pattern.sub(REDACTED, text)
        text = _HEADER_LINE.sub(lambda m: m.group(1) + REDACTED, text)
        text = _BASIC.sub(lambda m: m.group(1) + REDACTED, text)
        text = _COOKIE_PAIR.sub(lambda m: m.group(1) + REDACTED, text)
        text = _FORM_FIELD.sub(lambda m: m.group(1) + REDACTED, text)
        return _JSON_FIELD.sub(lambda m: m.group(1) + '"' + REDACTED + '"', text)

    def add(self, kind: EntryKind | str, actor: str, summary: str, detail: str = "") -> int:
        """Record one entry; returns its sequence number."""
        summary, detail = self.redact(summary), self.redact(detail)
        with self._lock:
            seq = len(self._entries)
            self._entries.append(
                Entry(seq, time.monotonic() - self._start, EntryKind(kind), actor, summary, detail)
            )
            return seq

    def note(self, actor: str, text: str) -> int:
        return self.add(EntryKind.NOTE, actor, text)

    def mark(self) -> int:
        """The sequence number the next entry will get."""
        with self._lock:
            return len(self._entries)

    def entries(self, since: int = 0, until: int | None = None) -> list[Entry]:
        with self._lock:
            return self._entries[since:until]

    def render(self, since: int = 0, until: int | None = None) -> str:
        return render_entries(self.entries(since, until))


def render_entries(entries: Iterable[Entry]) -> str:
    lines: list[str] = []
    for e in entries:
        lines.append(f"[{e.at:8.3f}s] #{e.seq} {e.kind.value:<10} {e.actor}: {e.summary}")
        if e.detail:
            lines.extend("        " + line for line in e.detail.splitlines())
    return "\n".join(lines)


def format_headers(headers: Iterable[tuple[str, str]]) -> str:
    return "\n".join(f"{name}: {value}" for name, value in headers)
