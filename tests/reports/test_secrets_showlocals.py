"""An attack on redaction: a failing run with `-l -vv --tb=long` (pytest prints every frame's locals),
through the CLI (with `--bundle`; the options reach pytest through PYTEST_ADDOPTS, as a CI config
would pass them) and through `python -m pytest suites` directly. Every secret the reference server
issued (recorded off the wire by a wrapper around its app: cookies, CSRF tokens, secureKeys, Bayeux
clientIds) and every password and Basic value is looked for in the terminal output, every report
file and every member of the bundle, also in their URL- and base64-decoded forms: zero hits."""

from __future__ import annotations

import base64
import binascii
import json
import re
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, unquote_plus

import pytest

from conformance.cli import PYTEST_SETTINGS, SUITES_DIR
from tests.reports.conftest import FLOW_TEST, PASSWORDS, RUN_DEADLINE_S, reference_server, write_target
from tests.robustness.harness import Proxy
from tests.suite_process import clean_env

SELECT = f"ACCEPT-01 or ACCEPT-02 or {FLOW_TEST.rsplit('::', 1)[1]}"
SHOW = ("-l", "-vv", "--tb=long")


@dataclass
class Issued:
    """What the server handed out, by kind, as it went over the wire."""

    kinds: dict[str, set[str]] = field(default_factory=lambda: {
        "cookie": set(), "csrf": set(), "secureKey": set(), "clientId": set()})

    def take(self, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
        for name, value in headers:
            low = name.decode("latin-1").lower()
            text = value.decode("latin-1")
            if low == "set-cookie" and "=" in text.split(";", 1)[0]:
                self.kinds["cookie"].add(text.split(";", 1)[0].split("=", 1)[1])
            elif "csrf" in low and "token" in low:
                self.kinds["csrf"].add(text)
        try:
            parsed = json.loads(body)
        except ValueError:
            return
        self._walk(parsed)

    def _walk(self, value: Any) -> None:
        if isinstance(value, list):
            for v in value:
                self._walk(v)
        elif isinstance(value, dict):
            for key, v in value.items():
                if key in ("secureKey", "clientId") and isinstance(v, str):
                    self.kinds[key].add(v)
                self._walk(v)


class Recording:
    """An ASGI wrapper: every response's headers and body go to `issued`."""

    def __init__(self, app: Any, issued: Issued) -> None:
        self.app = app
        self.issued = issued

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers: list[tuple[bytes, bytes]] = []
        body: list[bytes] = []

        async def recording_send(message: Any) -> None:
            if message["type"] == "http.response.start":
                headers.extend(message.get("headers", []))
            elif message["type"] == "http.response.body":
                body.append(message.get("body", b""))
                if not message.get("more_body"):
                    self.issued.take(headers, b"".join(body))
            await send(message)

        await self.app(scope, receive, recording_send)


@dataclass
class ShownRun:
    mode: str
    status: int
    output: str
    report_dir: Path
    bundle: Path | None
    issued: Issued

    def secrets(self) -> dict[str, set[str]]:
        found = {kind: set(values) for kind, values in self.issued.kinds.items()}
        found["password"] = set(PASSWORDS.values())
        found["basic"] = {base64.b64encode(f"{u}:{p}".encode()).decode() for u, p in PASSWORDS.items()}
        return found

    def artifacts(self) -> dict[str, str]:
        texts = {"terminal": self.output}
        for path in sorted(p for p in self.report_dir.rglob("*") if p.is_file()):
            texts[str(path.relative_to(self.report_dir))] = path.read_bytes().decode("utf-8", "replace")
        if self.bundle is not None:
            with zipfile.ZipFile(self.bundle) as archive:
                for name in archive.namelist():
                    texts[f"bundle:{name}"] = archive.read(name).decode("utf-8", "replace")
        return texts


_B64 = re.compile(r"[A-Za-z0-9+/]{12,}={0,2}")


def decoded_forms(text: str) -> list[str]:
    """The text, URL-decoded, and every base64 run in it decoded (where it decodes)."""
    forms = [text, unquote(text), unquote_plus(text)]
    for run in _B64.findall(text):
        padded = run + "=" * (-len(run) % 4)
        try:
            forms.append(base64.b64decode(padded, validate=True).decode("utf-8"))
        except (binascii.Error, UnicodeDecodeError, ValueError):
            continue
    return forms


def _accept(request: bytes, n: int) -> bool:
    """The Accept requests: cut unanswered, so the harness's own frames (and aiohttp's, holding the
    request's cookie and CSRF headers) are in the traceback of an ERROR."""
    return b'"operationName": "Accept"' in request or b'"operationName":"Accept"' in request


def _run(mode: str, folder: Path) -> ShownRun:
    issued = Issued()
    server = reference_server()
    server._server.config.app = Recording(server.app, issued)  # test-only: record what goes out
    with server, Proxy(server.port, cut=_accept if mode == "pytest-cut" else None) as proxy:
        target = write_target(folder, proxy.url)
        report_dir = folder / "reports"
        env = clean_env()
        if mode == "cli":
            bundle: Path | None = folder / "evidence.zip"
            env["PYTEST_ADDOPTS"] = " ".join(SHOW)
            args = [sys.executable, "-m", "conformance.cli", "run", "--target", str(target),
                    "--report-dir", str(report_dir), "--hypothesis-profile", "dev", "--select", SELECT,
                    "--bundle", str(bundle)]
        else:
            bundle = None
            junit = report_dir / "junit.xml"
            args = [sys.executable, "-m", "pytest", str(SUITES_DIR), *PYTEST_SETTINGS,
                    "--target", str(target), "--report-dir", str(report_dir),
                    "--alluredir", str(report_dir / "allure-results"), "--junitxml", str(junit),
                    "--gws-reports", "--hypothesis-profile", "dev", "--select", SELECT, *SHOW]
        done = subprocess.run(args, capture_output=True, text=True, timeout=RUN_DEADLINE_S, env=env,
                              cwd=folder)
    return ShownRun(mode, done.returncode, done.stdout + done.stderr, report_dir, bundle, issued)


@pytest.fixture(scope="module", params=["cli", "pytest", "pytest-cut"])
def shown_run(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ShownRun]:
    yield _run(request.param, tmp_path_factory.mktemp(f"showlocals-{request.param}"))


def test_the_run_failed_and_showed_locals(shown_run: ShownRun) -> None:
    summary = json.loads((shown_run.report_dir / "summary.json").read_text(encoding="utf-8"))
    if shown_run.mode == "pytest-cut":  # every Accept unanswered: errors, with aiohttp's frames shown
        assert shown_run.status == 3, shown_run.output[-3000:]
        assert summary["totals"]["error"] >= 1
        assert "aiohttp" in shown_run.output
    else:
        assert shown_run.status == 1, shown_run.output[-3000:]
        assert summary["requirements"]["ACCEPT-02"]["outcome"] == "failed"
    # -l reached pytest: frames' locals are printed (`name = value` lines under a frame)
    assert re.search(r"(?m)^\w+\s+= ", shown_run.output), shown_run.output[-3000:]
    assert "«redacted»" in shown_run.output


def test_no_artifact_holds_an_issued_secret_in_any_form(shown_run: ShownRun) -> None:
    secrets = shown_run.secrets()
    counts = {kind: len(values) for kind, values in secrets.items()}
    # the scanner has something to look for: every kind of secret was issued in this run
    assert all(counts[kind] >= 2 for kind in ("cookie", "csrf", "clientId", "password", "basic")), counts
    assert counts["secureKey"] >= 1, counts
    texts = shown_run.artifacts()
    if shown_run.bundle is not None:
        assert any(name.startswith("bundle:allure-results/") for name in texts)
    everything = {(kind, s) for kind, values in secrets.items() for s in values}
    hits = sorted({(name, kind, secret[:6] + "…") for name, text in texts.items()
                   for form in decoded_forms(text) for kind, secret in everything if secret in form})
    print(f"{shown_run.mode}: scanned {len(texts)} artifacts for {counts}: {len(hits)} hits")
    assert hits == [], f"{len(hits)} leaks of {len(everything)} secrets in {len(texts)} artifacts"


def test_the_bundle_keeps_its_keys(shown_run: ShownRun) -> None:
    if shown_run.bundle is None:
        pytest.skip("the bundle is the CLI's")
    with zipfile.ZipFile(shown_run.bundle) as archive:
        bundled = json.loads(archive.read("summary.json"))
        names = archive.namelist()
        texts = [archive.read(n).decode("utf-8", "replace") for n in names]
    original = json.loads((shown_run.report_dir / "summary.json").read_text(encoding="utf-8"))
    assert set(bundled) == set(original)
    assert not any(re.search(r"[\"'](?:«redacted»|<redacted>)[\"']\s*:", t) for t in texts)
