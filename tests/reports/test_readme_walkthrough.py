"""The README walkthrough, run as written: its shell block line by line (the reference server on a free
port instead of 8090), its expectations file as given, each step checked for what the README says."""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

from tests.robustness.harness import ServerProcess
from tests.suite_process import clean_env

README = Path(__file__).resolve().parents[2] / "README.md"
CLI = [sys.executable, "-m", "conformance.cli"]


def walkthrough() -> tuple[list[str], str]:
    """The shell lines and the expectations TOML of the README's walkthrough."""
    text = README.read_text(encoding="utf-8").split("### Walkthrough", 1)[1].split("\n## ", 1)[0]
    shell = re.search(r"```sh\n(.*?)```", text, re.S)
    toml = re.search(r"```toml\n(.*?)```", text, re.S)
    assert shell and toml, "the README walkthrough lost its shell or TOML block"
    lines = [line.split("  #", 1)[0].strip() for line in shell.group(1).splitlines() if line.strip()]
    return lines, "\n".join(line.strip() for line in toml.group(1).splitlines()) + "\n"


def run(line: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    words = shlex.split(line)
    assert words[0] == "gws-conformance"
    return subprocess.run([*CLI, *words[1:]], cwd=cwd, capture_output=True, text=True, timeout=300,
                          env=clean_env())


def summary(cwd: Path) -> dict:
    return json.loads((cwd / "reports" / "summary.json").read_text(encoding="utf-8"))


def test_the_readme_walkthrough_works_as_written(tmp_path: Path) -> None:
    lines, expectations = walkthrough()
    serve, first, report, rerun, accepted = lines
    assert serve.startswith("gws-conformance serve --port 8090 ") and serve.endswith(" &")
    (tmp_path / "expectations.toml").write_text(expectations, encoding="utf-8")
    words = shlex.split(serve[: -len(" &")])
    assert words[:2] == ["gws-conformance", "serve"]
    fault, target_out = words[words.index("--fault") + 1], words[words.index("--target-out") + 1]
    with ServerProcess(tmp_path, faults=(fault,), target_out=target_out):  # on a free port, not 8090
        done = run(first, tmp_path)
        one = summary(tmp_path)
        assert done.returncode == 1 and "VERDICT: NON-CONFORMANT" in done.stdout, done.stdout[-3000:]
        assert [r for r, e in one["requirements"].items() if e["outcome"] == "failed"] == ["ACCEPT-02"]
        blocked = {t for t, o in one["tests"].items() if o == "blocked"}
        assert blocked and all(one["reasons"][t].startswith("blocked by ACCEPT-02") for t in blocked)
        markdown = (tmp_path / "reports" / "summary.md").read_text()
        assert "| [ACCEPT-02](profile.md#accept-02) | MUST | failed |" in markdown  # linked to its anchor

        if shutil.which("npm") and shutil.which("node"):
            done = run(report, tmp_path)
            assert done.returncode == 0 and (tmp_path / "reports" / "html" / "index.html").is_file()

        again = {t for t, o in one["tests"].items() if o in ("failed", "blocked", "error")}
        done = run(rerun, tmp_path)
        assert set(summary(tmp_path)["tests"]) == again and done.returncode == 1

        done = run(accepted, tmp_path)
        last = summary(tmp_path)
        assert (done.returncode, last["verdict"]) == (0, "conformant-on-selection"), done.stdout[-3000:]
        assert last["requirements"]["ACCEPT-02"]["outcome"] == "xfailed"
        assert "blocked" not in last["tests"].values() and last["totals"]["xfailed"] >= len(blocked)
        assert (tmp_path / "evidence.zip").is_file()
