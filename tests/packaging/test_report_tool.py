"""`gws-conformance report` finds the pinned allure: the checkout's node_modules, else a per-user cache
that `npm ci` fills on first use; without Node.js it says in one line what to install."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from conformance.reporting import html

FAKE_NPM = """#!/bin/sh
# npm ci, as far as the report needs it: the allure bin, and a trace of the call
echo "$PWD $*" >> "$NPM_CALLS"
mkdir -p node_modules/.bin && printf '#!/bin/sh\\n' > node_modules/.bin/allure
"""


@pytest.fixture
def no_checkout_tool(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(html, "CHECKOUT", tmp_path / "checkout")  # a checkout without node_modules
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path


def test_the_cache_is_per_user_and_per_allure_version(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert html.cache_dir() == tmp_path / "gws-conformance" / f"allure-{html.allure_version()}"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert html.cache_dir().parent == Path.home() / ".cache" / "gws-conformance"
    assert (html.NPM_DIR / "package-lock.json").is_file()


def test_without_node_it_says_what_to_install(no_checkout_tool: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(no_checkout_tool / "empty-bin"))
    with pytest.raises(html.HtmlReportError) as raised:
        html.ensure_allure()
    message = str(raised.value)
    assert "\n" not in message and "Node.js" in message and "apt-get install nodejs npm" in message


def test_npm_ci_fills_the_cache_once(no_checkout_tool: Path, monkeypatch: pytest.MonkeyPatch,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    tools = no_checkout_tool / "bin"
    tools.mkdir()
    for name, text in (("npm", FAKE_NPM), ("node", "#!/bin/sh\n")):
        (tools / name).write_text(text, encoding="utf-8")
        (tools / name).chmod(stat.S_IRWXU)
    calls = no_checkout_tool / "npm-calls"
    monkeypatch.setenv("NPM_CALLS", str(calls))
    monkeypatch.setenv("PATH", f"{tools}{os.pathsep}/usr/bin:/bin")
    first = html.ensure_allure()
    assert first == html.cache_dir() / "node_modules" / ".bin" / "allure"
    assert sorted(p.name for p in html.cache_dir().iterdir()) == ["node_modules", "package-lock.json",
                                                                   "package.json"]
    progress = capsys.readouterr().err.strip().splitlines()
    assert len(progress) == 1 and "npm ci" in progress[0] and str(html.cache_dir()) in progress[0]
    assert html.ensure_allure() == first
    assert len(calls.read_text(encoding="utf-8").splitlines()) == 1  # the second call found the cache
    assert " ci " in calls.read_text(encoding="utf-8")
    assert [p.name for p in html.cache_dir().parent.iterdir()] == [html.cache_dir().name]  # no staging left


def test_a_checkout_with_node_modules_keeps_using_them(no_checkout_tool: Path) -> None:
    allure = no_checkout_tool / "checkout" / "node_modules" / ".bin" / "allure"
    allure.parent.mkdir(parents=True)
    allure.write_text("", encoding="utf-8")
    assert html.ensure_allure() == allure
