"""docs/profile.md: generated from the packaged profile data, never stale; every requirement has its anchor,
and the requirement IDs of the reports link to it."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from conformance.protocol import CATALOGUE, DEFAULT_PROFILE, Position, load_profile
from conformance.protocol.catalogue import PROFILE_DOCUMENT
from conformance.reporting.profile_doc import render, write
from conformance.reporting.summary import Outcome, RunInfo, build_summary, classify, write_reports
from tests.suite_process import clean_env

ROOT = Path(__file__).resolve().parent.parent
DOCUMENT = ROOT / "docs" / "profile.md"
LINK = re.compile(r"\[([A-Z-]+-\d\d)\]\(([^)#]+)#([^)]+)\)")


def anchors(text: str) -> list[str]:
    return re.findall(r'<a id="([^"]+)"></a>', text)


def test_docs_profile_md_is_not_stale() -> None:
    assert DOCUMENT.read_text(encoding="utf-8") == render(), (
        "docs/profile.md is stale: regenerate it with `gws-conformance profile-doc --out docs/profile.md`")


def test_every_requirement_has_one_anchor_and_its_words() -> None:
    text = render()
    assert sorted(anchors(text)) == sorted(r.anchor for r in CATALOGUE.values())
    for requirement in CATALOGUE.values():
        row = next(line for line in text.splitlines() if f'<a id="{requirement.anchor}">' in line)
        assert f"| {requirement.level} | {requirement.summary} |" in row
    assert not re.search(r"^\{\{.*\}\}$", text, re.MULTILINE)  # every marker of the prose replaced


def test_the_tables_come_from_the_profile_data() -> None:
    text = render()
    row = next(line for line in text.splitlines() if line.startswith("| owner, no consultation | "))
    listed = set(row.strip("| ").split(" | ")[1].split(", "))
    assert listed == DEFAULT_PROFILE.capability_names(Position.OWNER)
    assert "| 6 | the requested resource was not found" in text and "| 404 |" in text


def test_a_profile_file_shows_its_names_in_the_tables(tmp_path: Path) -> None:
    profile = tmp_path / "chatting.toml"
    profile.write_text('[states]\nprocessing = "Chatting"\n[http_status]\n2 = 422\n')
    assert load_profile(profile).http_status(2) == 422
    text = render(profile)
    assert "| `processing` | `Chatting` |" in text and "merges the profile file `chatting.toml`" in text
    assert "out of range, or names an unknown agent or skill | 422 |" in text


def test_the_ids_of_summary_md_link_to_their_anchor_next_to_it(tmp_path: Path) -> None:
    results = [classify("suites/operations/test_accept.py::test_x", ["ACCEPT-01"], Outcome.PASSED)]
    summary = build_summary(results, RunInfo(version="0", profile="gws-chat-8.5", target={}))
    write_reports(summary, tmp_path)
    write(tmp_path / PROFILE_DOCUMENT)
    links = LINK.findall((tmp_path / "summary.md").read_text(encoding="utf-8"))
    assert {rid for rid, _, _ in links} == set(CATALOGUE)
    document = anchors((tmp_path / PROFILE_DOCUMENT).read_text(encoding="utf-8"))
    for rid, path, anchor in links:
        assert (tmp_path / path).is_file() and anchor in document and anchor == CATALOGUE[rid].anchor


def test_profile_doc_check_fails_on_a_stale_document(tmp_path: Path) -> None:
    stale = tmp_path / "profile.md"
    stale.write_text(render().replace("MUST", "MAY", 1), encoding="utf-8")

    def check() -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "conformance.cli", "profile-doc", "--out", str(stale),
                               "--check"], capture_output=True, text=True, timeout=60, env=clean_env())

    done = check()
    assert done.returncode == 1 and "is stale: regenerate it with" in done.stderr
    subprocess.run([sys.executable, "-m", "conformance.cli", "profile-doc", "--out", str(stale)], check=True,
                   capture_output=True, timeout=60, env=clean_env())
    assert check().returncode == 0


def test_profile_doc_refuses_a_profile_no_run_would_accept(tmp_path: Path) -> None:
    broken = tmp_path / "broken.toml"
    broken.write_text('[states]\nprocessing = "Chatting"\n[http_status]\n2 = "many"\n')
    done = subprocess.run([sys.executable, "-m", "conformance.cli", "profile-doc", "--profile", str(broken)],
                          capture_output=True, text=True, timeout=60, env=clean_env())
    assert done.returncode == 2 and done.stdout == "" and len(done.stderr.splitlines()) == 1
