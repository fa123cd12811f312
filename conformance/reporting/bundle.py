"""The evidence bundle: reports, the redacted target, run facts, and a SHA-256 manifest of every file."""

from __future__ import annotations

import hashlib
import json
import zipfile
from pathlib import Path

from conformance.config import Config
from conformance.profile_doc import render
from conformance.protocol import load_profile
from conformance.protocol.catalogue import PROFILE_DOCUMENT
from conformance.reporting.versions import run_versions
from conformance.target import reported_target
from conformance.transcript import RUN, Redactor

MANIFEST = "MANIFEST.sha256"
REPORT_FILES = ("summary.json", "summary.md", "junit.xml")


def _redactor(config: Config) -> Redactor:
    """The run's redactor (every secret this process saw), and the configured ones."""
    redactor = Redactor()
    for secret in RUN.secrets() | set(config.secrets) | {a.password for a in config.agents}:
        redactor.add(secret)
    return redactor


def _redact(data: bytes, redactor: Redactor) -> bytes:
    text = data.decode("utf-8", "surrogateescape")
    return redactor.redact(text).encode("utf-8", "surrogateescape")


def bundle_members(config: Config, seed: int | None) -> dict[str, bytes]:
    """Archive name -> content, every report file through the run's redactor (which keeps keys)."""
    from conformance.pytest_plugin import package_version

    redactor = _redactor(config)
    report_dir = config.report_dir
    members: dict[str, bytes] = {}
    for name in REPORT_FILES:
        path = report_dir / name
        if path.is_file():
            members[name] = _redact(path.read_bytes(), redactor)
    allure_dir = report_dir / "allure-results"
    if allure_dir.is_dir():
        for path in sorted(p for p in allure_dir.rglob("*") if p.is_file()):
            members[path.relative_to(report_dir).as_posix()] = _redact(path.read_bytes(), redactor)
    members[PROFILE_DOCUMENT] = render(config.profile_path).encode("utf-8")  # what summary.md links to
    members["target.json"] = json.dumps(reported_target(config), indent=2).encode("utf-8")
    run = {"suite": "gws-conformance", "version": package_version(),
           "profile": load_profile(config.profile_path).name, "hypothesis_seed": seed,
           "versions": run_versions()}  # the suite's, Python's and every runtime dependency's
    members["run.json"] = json.dumps(run, indent=2).encode("utf-8")
    return members


def manifest(members: dict[str, bytes]) -> str:
    """`sha256  name` lines, as sha256sum writes them."""
    return "".join(f"{hashlib.sha256(data).hexdigest()}  {name}\n" for name, data in sorted(members.items()))


def write_bundle(config: Config, path: Path, seed: int | None = None) -> Path:
    members = bundle_members(config, seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in sorted(members.items()):
            archive.writestr(name, data)
        archive.writestr(MANIFEST, manifest(members))
    return path
