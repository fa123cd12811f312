"""No artifact of a failing run holds a password, Basic credential, CSRF token, cookie or secureKey."""

from __future__ import annotations

import base64
import re
import zipfile
from pathlib import Path

from conformance.protocol.catalogue import PROFILE_DOCUMENT
from conformance.reporting.profile_doc import render
from tests.reports.conftest import PASSWORDS, FaultRun

# A secret header or field whose value is not the redaction marker.
LEAKS = (
    re.compile(r"(?i)x-csrf-token\s*:\s*(?!«redacted»|<redacted>)\S"),
    re.compile(r"(?i)JSESSIONID=(?!«redacted»|<redacted>)[^;\s&\"']"),
    re.compile(r"(?i)secureKey=(?!«redacted»|<redacted>)[^&\s]"),
    re.compile(r'(?i)"secureKey"\s*:\s*"(?!«redacted»|<redacted>)'),
    re.compile(r"(?i)authorization\s*:\s*basic\s+(?!«redacted»|<redacted>)[A-Za-z0-9+/=]"),
)


def issued_secrets(fault_run: FaultRun) -> set[str]:
    """Every password, Basic value, session cookie, CSRF token and secureKey the server knows of."""
    found = set(PASSWORDS.values())
    found |= {base64.b64encode(f"{u}:{p}".encode()).decode() for u, p in PASSWORDS.items()}
    sessions = fault_run.server.app.state.sessions
    found |= set(sessions) | {s.csrf_token for s in sessions.values()}
    chats = fault_run.server.engine.chats.values()
    found |= {chat.secure_key for chat in chats if hasattr(chat, "secure_key")}
    return found


def artifacts(fault_run: FaultRun) -> dict[str, str]:
    run = fault_run.run
    texts = {"stdout": run.stdout, "stderr": run.stderr}
    for path in sorted(p for p in run.report_dir.rglob("*") if p.is_file()):
        texts[str(path.relative_to(run.report_dir))] = path.read_bytes().decode("utf-8", "replace")
    with zipfile.ZipFile(fault_run.bundle) as archive:
        for name in archive.namelist():
            texts[f"bundle:{name}"] = archive.read(name).decode("utf-8", "replace")
    # The profile document is the packaged one, nothing of the run (its text says "password", the reference
    # server's password): held equal to it, then left out of the search.
    for name in (PROFILE_DOCUMENT, f"bundle:{PROFILE_DOCUMENT}"):
        assert texts.pop(name) == render()
    return texts


def test_the_run_had_failures_with_transcripts(fault_run: FaultRun) -> None:
    summary = fault_run.run.summary
    assert summary["requirements"]["ACCEPT-02"]["outcome"] == "failed"
    transcripts = [p for p in (fault_run.run.report_dir / "allure-results").glob("*-attachment.txt")
                   if "bayeux-in" in p.read_text(encoding="utf-8")]
    assert transcripts, "no transcript attachment"


def test_no_artifact_holds_a_secret(fault_run: FaultRun) -> None:
    secrets = issued_secrets(fault_run)
    sessions = fault_run.server.app.state.sessions
    assert len(sessions) >= 2 and fault_run.server.engine.chats  # the run logged in and chatted
    texts = artifacts(fault_run)
    assert any(name.startswith("bundle:allure-results/") for name in texts)
    leaks = [(name, secret) for name, text in texts.items() for secret in secrets if secret in text]
    assert leaks == []
    patterns = [(name, m.group(0)) for name, text in texts.items() for p in LEAKS for m in p.finditer(text)]
    assert patterns == []


def test_the_transcript_shows_where_secrets_were(fault_run: FaultRun) -> None:
    """Redaction keeps the shape: the headers are there, their values replaced."""
    text = "\n".join(p.read_text(encoding="utf-8")
                     for p in Path(fault_run.run.report_dir / "allure-results").glob("*-attachment.txt"))
    assert re.search(r"(?i)x-csrf-token: «redacted»", text)
    assert '"secureKey":"«redacted»"' in text
