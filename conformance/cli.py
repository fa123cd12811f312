"""gws-conformance run | serve | faults | report."""

from __future__ import annotations

import argparse
import os
import secrets
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path

from conformance.chats import ROUTING_STOP
from conformance.config import ROUTING_MODES, Config, ConfigError, build_config, require_agents
from conformance.protocol import ProfileError, load_profile
from conformance.protocol.catalogue import PROFILE_DOCUMENT
from conformance.reporting.profile_doc import write as write_profile_document
from conformance.reporting.summary import (
    EXIT_CONFIG_ERROR,
    EXIT_STATUS,
    RunInfo,
    Verdict,
    build_summary,
    exit_status,
    write_reports,
)
from conformance.runner.expectations import load_expectations
from conformance.runner.select_names import check_selection
from conformance.runner.selection import Selector
from conformance.runner.version import package_version
from conformance.suite_settings import SETTINGS
from conformance.target import (
    TargetError,
    assumed_agents_line,
    check_fault_names,
    is_loopback,
    make_target,
    preflight,
    reported_target,
    seeded_faults,
    serve_password_env,
    serve_reference_server,
)

PROG = "gws-conformance"
REWRITE_WARNING = "pytest.PytestAssertRewriteWarning"
STALE_REPORTS = ("summary.json", "summary.md", "junit.xml")
PACKAGE_DIR = Path(__file__).resolve().parent
SUITES_DIR = PACKAGE_DIR.parent / "suites"  # the sibling package: in the checkout, or in site-packages
CHECKOUT = (PACKAGE_DIR.parent / "pyproject.toml").is_file()  # else an installed copy (pip install .)
# pytest settings the suites rely on, given explicitly so an installed copy behaves like the repository:
# node ids `suites/...` wherever the suites are; an installed copy reads its own (empty) ini file and no
# conftest.py above the suites, so the configuration of whatever folder the venv lives in stays out.
PYTEST_SETTINGS = (
    "--rootdir", str(SUITES_DIR.parent),
    *(() if CHECKOUT else ("-c", str(PACKAGE_DIR / "pytest-suites.ini"), "--confcutdir", str(SUITES_DIR))),
    *(item for key, value in SETTINGS.items() for item in ("-o", f"{key}={value}")),
    "-p", "no:cacheprovider",
    # anyio's pytest plugin is unused (the suites run on pytest-asyncio) and, imported before pytest
    # starts (httpx imports anyio), would print a PytestAssertRewriteWarning on every run.
    "-p", "no:anyio",
    # A remote target's preflight (httpx) imports anyio before pytest starts; pytest would still mark the
    # module for rewriting (it marks every pytest11 distribution's modules) and warn that it cannot.
    "-W", f"ignore:Module already imported so cannot be rewritten; anyio:{REWRITE_WARNING}",
)


def _fail(message: str, status: int) -> int:
    print(f"{PROG}: {message}", file=sys.stderr)
    return status


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description="GWS v2 chat conformance suite")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="run the suite against a server (default: the embedded one)")
    run.add_argument("--target", dest="target_file", metavar="FILE", help="the target file (TOML)")
    run.add_argument("--base-url", metavar="URL", help="overrides the target's base_url")
    run.add_argument("--profile", dest="profile_path", metavar="FILE", help="merged over the default profile")
    run.add_argument("--report-dir", metavar="DIR", help="where reports go (default: reports)")
    run.add_argument("--strict", action="store_true", default=None, help="SHOULD failures fail the run")
    run.add_argument("--expectations", metavar="FILE", help="known deviations (TOML), reported xfailed")
    run.add_argument("--select", metavar="EXPR", help="requirement IDs, areas or an expression")
    run.add_argument("--list", dest="list_only", action="store_true", default=None,
                     help="print the selected tests with their requirement IDs; run nothing")
    run.add_argument("--workers", metavar="N", help="parallel workers")
    run.add_argument("--hypothesis-profile", metavar="dev|ci|nightly", help="fuzzing depth (default: ci)")
    run.add_argument("--timeout-factor", metavar="X", help="multiply every deadline")
    run.add_argument("--rerun-failed", metavar="SUMMARY.json", help="only what failed or errored there")
    run.add_argument("--bundle", metavar="FILE.zip", help="write an evidence bundle")
    run.add_argument("--routing", choices=ROUTING_MODES, default=None,
                     help="overrides the target's routing (hints | one-ready-agent); without a target, "
                     "the embedded reference server routes that way too")
    serve = commands.add_parser("serve", help="run the reference server in the foreground")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8090)
    serve.add_argument("--fault", action="append", default=[], metavar="NAME")
    serve.add_argument("--target-out", type=Path, metavar="FILE")
    serve.add_argument("--routing", choices=ROUTING_MODES, default="hints",
                       help="hints: RouteToAgent/RouteToSkill honoured (default); one-ready-agent: any "
                       "Ready agent, the hints ignored (as a production routing strategy)")
    serve.add_argument("--agents", type=int, default=0, metavar="N",
                       help="N more agents load1..loadN, for `load` runs (default 0)")
    serve.add_argument(
        "--password", metavar="PW", help="the built-in agents' password (needed with a --host other than "
        "127.0.0.1, ::1 or localhost; default: env GWS_CONFORMANCE_SERVE_PASSWORD, else `password`)"
    )
    commands.add_parser("faults", help="list the reference server's seeded faults")
    document = commands.add_parser(
        "profile-doc", help="write the profile document (docs/profile.md) from the packaged profile data")
    document.add_argument("--out", type=Path, metavar="FILE", help="where to write it (default: stdout)")
    document.add_argument("--profile", dest="profile_path", type=Path, metavar="FILE",
                          help="a profile file merged over the default (its names in the tables)")
    document.add_argument("--check", action="store_true",
                          help="write nothing; exit 1 when --out FILE differs from what would be written")
    commands.add_parser("load", help="the flows under load on Locust, every notification judged "
                        "(gws-conformance load --help)", add_help=False)
    report = commands.add_parser("report", help="HTML report from allure-results (npm allure)")
    report.add_argument("--report-dir", type=Path, default=None, metavar="DIR")
    report.add_argument("--single-file", action="store_true")
    return parser


def _validate(config: Config) -> None:
    """Everything checkable before anything runs; ConfigError or ProfileError."""
    if not config.list_only:
        require_agents(config, narrowed=config.select is not None or config.rerun_failed is not None)
    if config.workers and config.workers > 1 and not config.embedded:
        raise ConfigError("--workers: parallel workers run only against the embedded reference server; "
                          "on a remote server they would share its agents and disturb each other's routing")
    load_profile(config.profile_path)
    if config.expectations is not None:
        load_expectations(config.expectations)
    if config.select is not None:
        Selector(config.select)
        check_selection(config.select, SUITES_DIR)  # a typo (ACCPT): exit 2 before any server is contacted


def _pytest_args(config: Config, seed: int) -> list[str]:
    report_dir = config.report_dir
    args = [str(SUITES_DIR), *PYTEST_SETTINGS, "--gws-reports", f"--hypothesis-seed={seed}",
            "--report-dir", str(report_dir), "--junitxml", str(report_dir / "junit.xml"),
            "--hypothesis-profile", config.hypothesis_profile, "--timeout-factor", str(config.timeout_factor)]
    if config.list_only:
        return [str(SUITES_DIR), *PYTEST_SETTINGS, "-q", "--list", *_selection(config)]
    args += ["--alluredir", str(report_dir / "allure-results")]
    if config.target_file is not None:
        args += ["--target", str(config.target_file)]
    if config.base_url is not None:
        args += ["--base-url", config.base_url]
    if config.profile_path is not None:
        args += ["--profile", str(config.profile_path)]
    if config.strict:
        args.append("--strict")
    args += ["--routing", config.routing]
    if config.workers:
        args += ["-n", str(config.workers)]
    return args + _selection(config)


def _selection(config: Config) -> list[str]:
    args: list[str] = []
    if config.select is not None:
        args += ["--select", config.select]
    if config.expectations is not None:
        args += ["--expectations", str(config.expectations)]
    if config.rerun_failed is not None:
        args += ["--rerun-failed", str(config.rerun_failed)]
    return args


def _remove_previous_reports(report_dir: Path, keep: Path | None) -> None:
    """A previous run's verdict must never be read as this run's (`keep`: the --rerun-failed input,
    read by the run, then replaced)."""
    shutil.rmtree(report_dir / "allure-results", ignore_errors=True)
    for name in STALE_REPORTS:
        stale = report_dir / name
        if keep is None or stale.resolve() != keep.resolve():
            stale.unlink(missing_ok=True)


def _write_error_summary(config: Config, note: str) -> None:
    info = RunInfo(version=package_version(), profile=load_profile(config.profile_path).name,
                   target=reported_target(config), reachable=False, notes=[note])
    summary = build_summary([], info)
    write_reports(summary, config.report_dir, info.notes)
    write_profile_document(config.report_dir / PROFILE_DOCUMENT, config.profile_path)
    from conformance.reporting.allure import write_verdict

    write_verdict(config.report_dir / "allure-results", summary, info.notes)  # the HTML report says why


def _say_assumed_agents(config: Config) -> None:
    """--base-url alone: which accounts the run logs in with (said once the run goes ahead)."""
    assumed = assumed_agents_line(config)
    if assumed is not None:
        print(f"{PROG}: {assumed}", file=sys.stderr)


def run(options: argparse.Namespace) -> int:
    import pytest

    keys = ("target_file", "base_url", "profile_path", "report_dir", "strict", "expectations", "select",
            "list_only", "workers", "hypothesis_profile", "timeout_factor", "rerun_failed", "bundle",
            "routing")
    try:
        config = build_config({key: getattr(options, key) for key in keys})
        _validate(config)
    except (ConfigError, ProfileError) as err:
        return _fail(str(err), EXIT_CONFIG_ERROR)
    if not SUITES_DIR.is_dir():
        return _fail(f"the suites are missing: no {SUITES_DIR} (reinstall: pip install gws-conformance, "
                     "or pip install . from the repository)", EXIT_CONFIG_ERROR)
    seed = secrets.randbelow(2**31)
    if config.list_only:
        _say_assumed_agents(config)
        status = pytest.main(_pytest_args(config, seed))
        return 0 if status in (0, 5) else int(status)
    _remove_previous_reports(config.report_dir, config.rerun_failed)
    if not config.embedded:
        try:
            preflight(make_target(config))
        except TargetError as err:  # one line; the summary's target records the agents assumed
            _write_error_summary(config, str(err))
            return _fail(str(err), EXIT_STATUS[Verdict.ERROR])
    _say_assumed_agents(config)
    # The embedded reference server is started by the plugin: one per process (xdist worker), so
    # parallel workers never share agents.
    status = pytest.main(_pytest_args(config, seed))
    if status == pytest.ExitCode.USAGE_ERROR:
        return EXIT_CONFIG_ERROR
    summary_path = config.report_dir / "summary.json"
    if not summary_path.is_file():
        return _fail(f"the run wrote no {summary_path} (pytest exit status {int(status)})",
                     EXIT_STATUS[Verdict.ERROR])
    import json

    summary = json.loads(summary_path.read_text(encoding="utf-8"))
    print(f"reports: {config.report_dir.resolve()} (summary.json, summary.md, junit.xml, allure-results)")
    if config.bundle is not None:
        from conformance.runner.bundle import write_evidence_bundle

        path = write_evidence_bundle(config, config.bundle, seed=seed)
        print(f"evidence bundle: {path.resolve()}")
    print(f"verdict: {summary['verdict']}")
    stopped = str(summary.get("interrupted") or "")
    if ROUTING_STOP in stopped:  # the one line saying which setting to change, last
        return _fail(stopped[stopped.index(ROUTING_STOP) + len(ROUTING_STOP):], EXIT_STATUS[Verdict.ERROR])
    vacuous = _vacuous(summary)
    if vacuous:
        return _fail(vacuous, exit_status(summary))
    return exit_status(summary)


def _vacuous(summary: dict[str, object]) -> str | None:
    """The one line saying why a run proved nothing: no test selected, or every one skipped."""
    counts = summary.get("totals")
    if not isinstance(counts, dict):
        return None
    total = sum(counts.values())
    if total == 0:
        return "no test ran: the selection matched no suite test (check --select / --rerun-failed)"
    if counts.get("skipped", 0) == total:
        return f"no test ran: all {total} selected tests were skipped (see summary.md for the reasons)"
    return None


def faults() -> int:
    listed = seeded_faults()
    width = max(len(fault.name) for fault in listed)
    for fault in listed:
        print(f"{fault.name.ljust(width)}  breaks {', '.join(fault.breaks):<28}  {fault.description}")
    return 0


def serve(options: argparse.Namespace) -> int:
    password_env = serve_password_env()
    try:
        check_fault_names(options.fault)
    except ValueError as err:
        return _fail(str(err), EXIT_CONFIG_ERROR)
    password = options.password
    if password is None:
        password = os.environ.get(password_env) or None  # an empty variable counts as unset
    if password == "":
        return _fail("--password: the password must not be empty", EXIT_CONFIG_ERROR)
    host = options.host
    if not is_loopback(host):
        if password is None:
            return _fail(f"serve --host {host} is reachable from other machines: add --password PW (or set "
                         f"{password_env}) to replace the built-in agents' password", EXIT_CONFIG_ERROR)
        print(f"{PROG}: warning: the reference server on {host} is reachable from other machines: its agents "
              "log in with the password given and its customer side needs no login; a test server only",
              file=sys.stderr, flush=True)
    try:
        serve_reference_server(host, options.port, options.fault, options.target_out, password,
                               options.agents, options.routing)
    except ValueError as err:  # --agents out of range
        return _fail(str(err), EXIT_CONFIG_ERROR)
    except OSError as err:
        return _fail(f"cannot listen on {options.host}:{options.port}: {err.strerror} (another --port?)",
                     EXIT_CONFIG_ERROR)
    return 0


def profile_doc(options: argparse.Namespace) -> int:
    from conformance.reporting.profile_doc import ProfileDocumentError, render

    try:
        text = render(options.profile_path)
    except (ProfileError, ProfileDocumentError) as err:
        return _fail(str(err), EXIT_CONFIG_ERROR)
    out: Path | None = options.out
    if options.check:
        if out is None:
            return _fail("profile-doc --check needs --out FILE (the document to compare)", EXIT_CONFIG_ERROR)
        current = out.read_text(encoding="utf-8") if out.is_file() else None
        if current != text:
            return _fail(f"{out} is stale: regenerate it with `{PROG} profile-doc --out {out}`", 1)
        print(f"{out} is up to date")
        return 0
    if out is None:
        sys.stdout.write(text)
        return 0
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    print(f"profile document: {out.resolve()}")
    return 0


def report(options: argparse.Namespace) -> int:
    from conformance.reporting.html import HtmlReportError, generate

    report_dir = options.report_dir or Path("reports")
    try:
        path = generate(report_dir, single_file=options.single_file)
    except HtmlReportError as err:
        return _fail(str(err), EXIT_STATUS[Verdict.ERROR])
    print(f"HTML report: {path.resolve()}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["load"]:  # its own options: conformance/load/command.py
        from conformance.load.command import main as load_main

        return load_main(args[1:])
    options = _parser().parse_args(args)
    try:
        return _dispatch(options)
    except BrokenPipeError:  # the output was piped into a command that stopped reading (e.g. head)
        sys.stderr.close()
        return 0


def _dispatch(options: argparse.Namespace) -> int:
    if options.command == "run":
        return run(options)
    if options.command == "serve":
        return serve(options)
    if options.command == "faults":
        return faults()
    if options.command == "profile-doc":
        return profile_doc(options)
    return report(options)


if __name__ == "__main__":
    sys.exit(main())
