"""The evidence bundle: reports, the redacted target, run facts, and a SHA-256 manifest of every file.

It reads the report files and what the runner gives it (the redacted target, the run's facts, the
secrets no member may contain); it knows nothing of the configuration or the runner."""

from __future__ import annotations

import hashlib
import json
import zipfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from conformance.transcript import RUN, Redactor

MANIFEST = "MANIFEST.sha256"
REPORT_FILES = ("summary.json", "summary.md", "junit.xml")


def _redactor(secrets: Iterable[str]) -> Redactor:
    """The run's redactor (every secret this process saw), and the given ones."""
    redactor = Redactor()
    for secret in RUN.secrets() | set(secrets):
        redactor.add(secret)
    return redactor


def _redact(data: bytes, redactor: Redactor) -> bytes:
    text = data.decode("utf-8", "surrogateescape")
    return redactor.redact(text).encode("utf-8", "surrogateescape")


def bundle_members(
    report_dir: Path, target: Mapping[str, Any], run: Mapping[str, Any], secrets: Iterable[str] = ()
) -> dict[str, bytes]:
    """Archive name -> content: every report file through the run's redactor (which keeps keys), the
    redacted `target` as target.json and the run's facts (version, profile, seed) as run.json."""
    redactor = _redactor(secrets)
    members: dict[str, bytes] = {}
    for name in REPORT_FILES:
        path = report_dir / name
        if path.is_file():
            members[name] = _redact(path.read_bytes(), redactor)
    allure_dir = report_dir / "allure-results"
    if allure_dir.is_dir():
        for path in sorted(p for p in allure_dir.rglob("*") if p.is_file()):
            members[path.relative_to(report_dir).as_posix()] = _redact(path.read_bytes(), redactor)
    members["target.json"] = json.dumps(target, indent=2).encode("utf-8")
    members["run.json"] = json.dumps(run, indent=2).encode("utf-8")
    return members


def manifest(members: dict[str, bytes]) -> str:
    """`sha256  name` lines, as sha256sum writes them."""
    return "".join(f"{hashlib.sha256(data).hexdigest()}  {name}\n" for name, data in sorted(members.items()))


def write_bundle(
    report_dir: Path,
    path: Path,
    target: Mapping[str, Any],
    run: Mapping[str, Any],
    secrets: Iterable[str] = (),
) -> Path:
    members = bundle_members(report_dir, target, run, secrets)
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in sorted(members.items()):
            archive.writestr(name, data)
        archive.writestr(MANIFEST, manifest(members))
    return path
