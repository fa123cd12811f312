"""The CI recipes (docs/ci/*.yml) and the commands of the docs: every `gws-conformance ...` they run exists
in the CLI with those options; the jobs install the package, keep the reports and the bundle, and gate on
the exit status; the recipes' target file is a valid one."""

from __future__ import annotations

import argparse
import contextlib
import io
import re
import shlex
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from conformance.cli import _parser
from conformance.config import build_config
from conformance.load.command import parser as load_parser
from conformance.runner.select_names import check_selection

ROOT = Path(__file__).resolve().parent.parent
CI = ROOT / "docs" / "ci"
GITHUB = CI / "github-actions.yml"
GITLAB = CI / "gitlab-ci.yml"
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
PROG = "gws-conformance"
_SEPARATORS = {"&&", "||", ";", "|", "&", ">", ">>", "2>", "<"}


def load(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def github_scripts() -> list[str]:
    workflow = load(GITHUB)
    return [step["run"] for job in workflow["jobs"].values() for step in job["steps"] if "run" in step]


def gitlab_scripts() -> list[str]:
    jobs = {name: job for name, job in load(GITLAB).items() if isinstance(job, dict) and "script" in job}
    assert jobs
    return [line for job in jobs.values() for key in ("before_script", "script", "after_script")
            for line in job.get(key, [])]


def commands(script: str) -> Iterator[list[str]]:
    """Each `gws-conformance ...` invocation of a shell script, as its arguments (up to an operator)."""
    script = script.replace("\\\n", " ")
    for line in script.splitlines():
        line = line.split(" #", 1)[0] if not line.lstrip().startswith("#") else ""
        try:
            words = shlex.split(line, posix=True)
        except ValueError:
            continue
        for n, word in enumerate(words):
            if word == PROG:
                args = []
                for arg in words[n + 1:]:
                    if arg in _SEPARATORS:
                        break
                    args.append(arg)
                yield args


def parses(args: list[str]) -> str | None:
    """None when the CLI's parser takes the arguments, else argparse's complaint."""
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            if args[:1] == ["load"]:  # `load` hands its arguments to the load mode's own parser
                load_parser().parse_args(args[1:])
            else:
                _parser().parse_args(args)
        except SystemExit as exit_:
            return None if exit_.code == 0 else err.getvalue().strip().splitlines()[-1]
    return None


def shell_blocks(text: str) -> Iterator[str]:
    """The fenced code blocks of a markdown text that are shell (```sh, ```bash, ```shell or no language)."""
    block: list[str] | None = None
    shell = False
    for line in text.splitlines():
        fence = re.match(r"^\s*```(\w*)\s*$", line)
        if fence and block is None:
            block, shell = [], fence.group(1) in ("", "sh", "bash", "shell")
        elif fence and block is not None:
            if shell:
                yield "\n".join(block)
            block = None
        elif block is not None:
            block.append(line)


def doc_commands() -> list[tuple[str, list[str]]]:
    found = []
    for doc in DOCS:
        text = doc.read_text(encoding="utf-8")
        for block in shell_blocks(text):
            found += [(doc.name, args) for args in commands(block)]
        for span in re.findall(r"`(gws-conformance [^`]+)`", text):
            if not re.search(r"\.\.\.|[\[|<]", span):  # not a synopsis such as `run [--select EXPR]`
                found += [(doc.name, args) for args in commands(" ".join(span.split()))]
    return found


@pytest.mark.parametrize("scripts", [github_scripts, gitlab_scripts], ids=["github", "gitlab"])
def test_every_command_of_the_ci_recipes_exists_in_the_cli(scripts: Any) -> None:
    invocations = [args for script in scripts() for args in commands(script)]
    assert any(args[:1] == ["run"] for args in invocations)
    assert {" ".join(args): parses(args) for args in invocations} == dict.fromkeys(
        (" ".join(args) for args in invocations), None)


@pytest.mark.parametrize("scripts", [github_scripts, gitlab_scripts], ids=["github", "gitlab"])
def test_the_jobs_install_the_package_run_a_target_and_bundle(scripts: Any) -> None:
    text = "\n".join(scripts())
    assert re.search(r"pip install -c constraints\.txt \.(\s|$)", text)  # the package, not editable
    run = next(args for script in scripts() for args in commands(script) if args[:1] == ["run"])
    options = vars(_parser().parse_args(run))
    assert options["target_file"] and options["bundle"] and options["report_dir"]
    assert Path(options["bundle"]).parts[0] == Path(options["report_dir"]).parts[0]  # kept with reports
    assert "|| true" not in " ".join(line for line in text.splitlines() if PROG + " run" in line)


def test_github_keeps_the_reports_whatever_the_outcome() -> None:
    steps = next(iter(load(GITHUB)["jobs"].values()))["steps"]
    upload = next(s for s in steps if str(s.get("uses", "")).startswith("actions/upload-artifact"))
    assert upload["if"] == "always()" and upload["with"]["path"].rstrip("/") == "reports"
    run = next(s for s in steps if PROG + " run" in s.get("run", ""))
    assert "continue-on-error" not in run and "if" not in run  # its exit status is the job's
    env = next(iter(load(GITHUB)["jobs"].values()))["env"]
    assert all(v.startswith("${{ secrets.") for k, v in env.items() if k.endswith("PASSWORD"))


def test_gitlab_keeps_the_reports_whatever_the_outcome() -> None:
    job = next(j for j in load(GITLAB).values() if isinstance(j, dict) and "script" in j)
    assert job["artifacts"]["when"] == "always" and "reports/" in job["artifacts"]["paths"]
    assert job["artifacts"]["reports"]["junit"] == "reports/junit.xml"
    assert "allow_failure" not in job


def test_the_recipes_target_file_is_valid_and_holds_no_password() -> None:
    target = CI / "gws-target.toml"
    names = re.findall(r"\$\{([A-Z0-9_]+)\}", target.read_text(encoding="utf-8"))
    config = build_config({"target_file": str(target)}, dict.fromkeys(names, "s3cret"))
    assert len(config.agents) >= 3 and all(a.password == "s3cret" for a in config.agents)
    secrets_read = set(re.findall(r"\b(GWS_AGENT\d_PASSWORD)\b", "\n".join(github_scripts())
                                  + GITHUB.read_text(encoding="utf-8")))
    assert set(names) <= secrets_read


def test_every_command_the_docs_show_exists_in_the_cli() -> None:
    shown = doc_commands()
    assert len(shown) > 10
    wrong = {f"{doc}: {PROG} {' '.join(args)}": complaint for doc, args in shown
             if (complaint := parses(args)) is not None}
    assert wrong == {}
    selections = [args[args.index("--select") + 1] for _, args in shown + recipe_commands()
                  if "--select" in args]
    for expression in selections:  # every word names a requirement, an area or a test
        check_selection(expression, ROOT / "suites")


def recipe_commands() -> list[tuple[str, list[str]]]:
    return [("yml", args) for script in github_scripts() + gitlab_scripts() for args in commands(script)]


def test_parses_refuses_what_the_cli_does_not_have() -> None:
    assert parses(["run", "--target", "t.toml"]) is None
    assert parses(["run", "--no-such-option"]) is not None
    assert parses(["deploy"]) is not None
    assert parses(["report", "--bundle", "x.zip"]) is not None
    assert isinstance(_parser(), argparse.ArgumentParser)
