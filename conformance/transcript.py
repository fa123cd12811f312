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
SECRET_FIELDS = ("securekey", "password", "clientid")

_HEADER_LINE = re.compile(r"(?im)^(\s*(?:" + "|".join(SECRET_HEADERS) + r")\s*:\s*)(.+)$")
_FORM_FIELD = re.compile(r"(?i)((?:^|[&?\s])(?:" + "|".join(SECRET_FIELDS) + r")=)(?!['\"])([^&\s]*)")
_JSON_FIELD = re.compile(r'(?i)("(?:' + "|".join(SECRET_FIELDS) + r')"\s*:\s*)("(?:[^"\\]|\\.)*"|[^,}\s]+)')
# The same keys as Python shows them (a dict's or a dataclass's repr, in a traceback's locals).
_REPR_KEY = re.compile(
    r"(?i)((?:'(?:" + "|".join(SECRET_HEADERS + SECRET_FIELDS) + r")'\s*:\s*"
    r"|\b(?:password|secure_key|client_id|csrf_token|_password)=)(?:b?))('(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\")"
)
_BASIC = re.compile(r"(?i)(basic\s+)[A-Za-z0-9+/=]+")
_COOKIE_PAIR = re.compile(r"(?i)(JSESSIONID=)[^;\s&\"'\\]+")
_WORD = re.compile(r"[A-Za-z]+")  # a secret that is a plain word ("password") is matched as a word only


class Secret:
    """A value that must never be shown: its repr and str are the redaction marker; `reveal()` gives
    the value, at the point of writing it on the wire. Every Secret made is known to the run's redactor."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value
        RUN.add(value)

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return REDACTED

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


class Redactor:
    """Known secret values (longest first, in one pass) and the shapes of secret headers and fields
    replaced by REDACTED. Thread-safe. A secret that is a plain word is replaced where it stands as a
    word and not as a key (`password=`, `"password":`), so the report keeps its keys."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._secrets: set[str] = set()
        self._ordered: list[str] | None = None
        self._words: re.Pattern[str] | None = None
        self._pattern: re.Pattern[str] | None = None

    def add(self, value: str | None) -> None:
        if value and len(value) >= 3:
            with self._lock:
                if value not in self._secrets:
                    self._secrets.add(value)
                    self._ordered = None

    def __contains__(self, value: str) -> bool:
        return value in self._secrets

    def secrets(self) -> frozenset[str]:
        with self._lock:
            return frozenset(self._secrets)

    def _compiled(self) -> tuple[re.Pattern[str] | None, list[str], re.Pattern[str] | None]:
        with self._lock:
            if self._ordered is None:
                # longest first, so a secret holding another is replaced whole. A short text goes
                # through one regex alternation; a long one (a traceback with -l) through `in` and
                # replace, in C, ~4x faster per character than the regex with thousands of secrets
                # (every customer adds a secureKey). A plain word is matched as a word, not as a key.
                ordered = sorted(self._secrets, key=len, reverse=True)
                self._ordered = [s for s in ordered if not _WORD.fullmatch(s)]
                words = [_as_word(s) for s in ordered if _WORD.fullmatch(s)]
                self._words = re.compile("|".join(words)) if words else None
                every = [_as_word(s) if _WORD.fullmatch(s) else re.escape(s) for s in ordered]
                self._pattern = re.compile("|".join(every)) if every else None
            return self._pattern, self._ordered, self._words

    def redact(self, text: str) -> str:
        pattern, ordered, words = self._compiled()
        if len(text) < LONG_TEXT:
            if pattern is not None:
                text = pattern.sub(REDACTED, text)
        else:
            for secret in ordered:
                if secret in text:
                    text = text.replace(secret, REDACTED)
            if words is not None:
                text = words.sub(REDACTED, text)
        return redact_shapes(text)


LONG_TEXT = 20_000


def _as_word(secret: str) -> str:
    return rf"(?<![\w]){re.escape(secret)}(?![\w]|['\"]?\s*[:=])"


def redact_shapes(text: str) -> str:
    """The values of secret headers, cookies and fields, whatever they are."""
    text = _HEADER_LINE.sub(lambda m: m.group(1) + REDACTED, text)
    text = _BASIC.sub(lambda m: m.group(1) + REDACTED, text)
    text = _COOKIE_PAIR.sub(lambda m: m.group(1) + REDACTED, text)
    text = _FORM_FIELD.sub(lambda m: m.group(1) + REDACTED, text)
    text = _REPR_KEY.sub(lambda m: m.group(1) + "'" + REDACTED + "'", text)
    return _JSON_FIELD.sub(lambda m: m.group(1) + '"' + REDACTED + '"', text)


# Every secret this process has seen (every transcript's, every Secret's): what reports are redacted with.
RUN = Redactor()


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
        self._redactor = Redactor()
        self._start = time.monotonic()

    def add_secret(self, value: str | Secret | None) -> None:
        """Register a value that must never appear in a rendered transcript, nor in any report of the run."""
        if isinstance(value, Secret):
            value = value.reveal()
        self._redactor.add(value)
        RUN.add(value)

    def redact(self, text: str) -> str:
        return self._redactor.redact(text)

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
