"""The HTML report: Allure Report 3 (npm `allure`, pinned by the package.json and package-lock.json
shipped in `conformance/reporting/npm/`).

The allure CLI comes from, in this order: a checkout's own `node_modules` (after `npm ci` in the
repository), else a per-user cache (`$XDG_CACHE_HOME/gws-conformance/allure-<version>`, by default
under `~/.cache`) that `npm ci` fills from the pinned lock file on first use.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

NPM_DIR = Path(__file__).resolve().parent / "npm"  # the pinned tool definition (package data)
CHECKOUT = Path(__file__).resolve().parent.parent.parent  # the repository, when installed editable
DEADLINE_S = 600
CACHE_ENV = "XDG_CACHE_HOME"


class HtmlReportError(Exception):
    """The HTML report cannot be made; one line for the user."""


def _run(command: list[str], what: str, cwd: Path) -> None:
    try:
        done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=DEADLINE_S)
    except FileNotFoundError:
        raise HtmlReportError(f"{what}: {command[0]} is not installed (Node.js 20 and npm needed)") from None
    except subprocess.TimeoutExpired:
        raise HtmlReportError(f"{what}: no result within {DEADLINE_S} s") from None
    if done.returncode != 0:
        last = (done.stderr.strip() or done.stdout.strip()).splitlines()[-1:] or ["no output"]
        raise HtmlReportError(f"{what} failed (exit {done.returncode}): {last[0][:300]}")


def allure_version() -> str:
    """The pinned allure version (package.json's devDependencies)."""
    package = json.loads((NPM_DIR / "package.json").read_text(encoding="utf-8"))
    return str(package["devDependencies"]["allure"])


def cache_dir() -> Path:
    """Where `npm ci` installs the pinned allure for this user."""
    base = os.environ.get(CACHE_ENV) or str(Path.home() / ".cache")
    return Path(base) / "gws-conformance" / f"allure-{allure_version()}"


def _bin(folder: Path) -> Path:
    return folder / "node_modules" / ".bin" / "allure"


def ensure_allure() -> Path:
    """The allure CLI: the checkout's node_modules if present, else the per-user cache, installed there
    with `npm ci` from the pinned lock file on first use."""
    for folder in (CHECKOUT, cache_dir()):
        if _bin(folder).exists():
            return _bin(folder)
    missing = [tool for tool in ("node", "npm") if shutil.which(tool) is None]
    if missing:
        raise HtmlReportError(f"the HTML report needs Node.js 20+ and npm ({' and '.join(missing)} not "
                              "found): install them (e.g. `apt-get install nodejs npm`) and run again")
    target = cache_dir()
    target.parent.mkdir(parents=True, exist_ok=True)
    print(f"gws-conformance: installing allure {allure_version()} into {target} (npm ci, once)...",
          file=sys.stderr, flush=True)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=f".{target.name}-") as temporary:
        staging = Path(temporary) / "tool"
        staging.mkdir()
        for name in ("package.json", "package-lock.json"):
            shutil.copyfile(NPM_DIR / name, staging / name)
        _run([shutil.which("npm") or "npm", "ci", "--no-audit", "--no-fund"], "npm ci", staging)
        try:
            staging.rename(target)  # all or nothing: an interrupted npm ci leaves no half tool behind
        except OSError:
            if not _bin(target).exists():  # another process installed it meanwhile: use theirs
                raise
    return _bin(target)


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
        _run([*command, "--config", str(config)], "allure generate", Path(folder))
    index = output / "index.html"
    if not index.is_file():
        raise HtmlReportError(f"allure generate wrote no {index}")
    return index
