"""The HTML report: Allure Report 3 (npm `allure`, pinned in the repository's package.json)."""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent  # the repository (the package is installed editable)
ALLURE_BIN = ROOT / "node_modules" / ".bin" / "allure"
DEADLINE_S = 600


class HtmlReportError(Exception):
    """The HTML report cannot be made; one line for the user."""


def _run(command: list[str], what: str) -> None:
    try:
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=DEADLINE_S)
    except FileNotFoundError:
        raise HtmlReportError(f"{what}: {command[0]} is not installed (Node.js 20 and npm needed)") from None
    except subprocess.TimeoutExpired:
        raise HtmlReportError(f"{what}: no result within {DEADLINE_S} s") from None
    if done.returncode != 0:
        last = (done.stderr.strip() or done.stdout.strip()).splitlines()[-1:] or ["no output"]
        raise HtmlReportError(f"{what} failed (exit {done.returncode}): {last[0][:300]}")


def ensure_allure() -> Path:
    """The allure CLI, installed with `npm ci` into the repository's node_modules on first use."""
    if not ALLURE_BIN.exists():
        if not (ROOT / "package-lock.json").is_file():
            raise HtmlReportError(f"no package-lock.json in {ROOT}: the HTML report needs the repository")
        _run([shutil.which("npm") or "npm", "ci", "--no-audit", "--no-fund"], "npm ci")
    return ALLURE_BIN


def report_name(report_dir: Path) -> str:
    """The report's title, with the run's verdict when summary.json has one."""
    try:
        verdict = json.loads((report_dir / "summary.json").read_text(encoding="utf-8"))["verdict"]
    except (OSError, ValueError, KeyError, TypeError):
        return "GWS chat conformance"
    return f"GWS chat conformance — verdict: {str(verdict).upper()}"


def generate(report_dir: Path, single_file: bool = False) -> Path:
    """Generate report_dir/html from report_dir/allure-results; returns the index.html."""
    results = report_dir / "allure-results"
    if not results.is_dir() or not any(results.iterdir()):
        raise HtmlReportError(f"no results in {results}: run `gws-conformance run` first")
    output = (report_dir / "html").resolve()
    allure = ensure_allure()
    command = [str(allure), "generate", str(results.resolve()), "--output", str(output)]
    with tempfile.TemporaryDirectory() as folder:
        name = report_name(report_dir)
        options = {"singleFile": single_file, "reportName": name}
        config = Path(folder) / "allurerc.mjs"
        config.write_text(
            "export default " + json.dumps({
                "name": name,
                "output": str(output),
                "plugins": {"awesome": {"options": options}},
            }) + ";\n",
            encoding="utf-8",
        )
        _run([*command, "--config", str(config)], "allure generate")
    index = output / "index.html"
    if not index.is_file():
        raise HtmlReportError(f"allure generate wrote no {index}")
    return index
