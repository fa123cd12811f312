"""The command-line options and the run's Config (built once, on first need, from the options, the
environment, the target file and the defaults), and the hypothesis profile the run uses."""

from __future__ import annotations

import importlib
import importlib.util

import pytest

from conformance.config import Config, ConfigError, build_config

if importlib.util.find_spec("conformance.strategies") is not None:
    # Registers the hypothesis profiles (dev, ci, nightly) before hypothesis's plugin loads one.
    importlib.import_module("conformance.strategies")

CONFIG_KEY = pytest.StashKey[Config]()
OPTIONS = {  # pytest option dest -> Config field
    "gws_target": "target_file",
    "gws_base_url": "base_url",
    "gws_profile": "profile_path",
    "gws_report_dir": "report_dir",
    "gws_expectations": "expectations",
    "gws_select": "select",
    "gws_timeout_factor": "timeout_factor",
    "gws_rerun_failed": "rerun_failed",
    "gws_list": "list_only",
    "gws_routing": "routing",
}


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("gws-conformance", "GWS chat conformance suite")
    group.addoption("--target", dest="gws_target", metavar="FILE", help="the target file (TOML)")
    group.addoption("--base-url", dest="gws_base_url", metavar="URL",
                    help="the server under test (alone: it has the reference server's built-in agents)")
    group.addoption("--profile", dest="gws_profile", metavar="FILE", help="a protocol profile file")
    group.addoption("--report-dir", dest="gws_report_dir", metavar="DIR", help="where reports go (reports)")
    group.addoption("--expectations", dest="gws_expectations", metavar="FILE",
                    help="known deviations (TOML), applied as strict xfail")
    group.addoption("--select", dest="gws_select", metavar="EXPR",
                    help="requirement IDs, areas, or a -k style expression over test names and IDs")
    group.addoption("--timeout-factor", dest="gws_timeout_factor", metavar="X", help="multiplies timeout_s")
    group.addoption("--rerun-failed", dest="gws_rerun_failed", metavar="SUMMARY",
                    help="only the tests that failed or errored in that summary.json")
    group.addoption("--routing", dest="gws_routing", metavar="MODE",
                    help="hints | one-ready-agent (overrides the target's; the embedded server routes so)")
    group.addoption("--list", dest="gws_list", action="store_true", default=None,
                    help="list the selected suite tests with their requirement IDs; run nothing")
    group.addoption("--gws-reports", dest="gws_reports", action="store_true", default=False,
                    help="write the reports even when no suite test ran (used by gws-conformance run)")
    # --strict (pytest's own strict mode) also makes SHOULD failures fail the run.
    # --hypothesis-profile is hypothesis's own option; it defaults here to the config's (ci).


@pytest.hookimpl(trylast=True)
def pytest_configure(config: pytest.Config) -> None:
    if config.getoption("--hypothesis-profile", None) is None:
        # Before the test modules are imported: @given takes the default settings when it decorates.
        from hypothesis import settings

        settings.load_profile(gws_config(config).hypothesis_profile)


def gws_config(config: pytest.Config) -> Config:
    """The run's Config (built once, on first need), or a usage error with the one-line message."""
    if CONFIG_KEY not in config.stash:
        options: dict[str, object] = {field: config.getoption(dest) for dest, field in OPTIONS.items()}
        options["strict"] = True if config.getini("strict") else None
        options["hypothesis_profile"] = config.getoption("--hypothesis-profile", None)
        try:
            config.stash[CONFIG_KEY] = build_config(options)
        except ConfigError as err:
            raise pytest.UsageError(str(err)) from None
    return config.stash[CONFIG_KEY]


def narrowed(config: pytest.Config) -> bool:
    """The user chose part of the suite (--select, --rerun-failed, -k, -m); a path is seen in coverage."""
    cfg = gws_config(config)
    return bool(cfg.select or cfg.rerun_failed or config.option.keyword or config.option.markexpr)


def is_worker(config: pytest.Config) -> bool:
    """This process is an xdist worker (the controller collects the results and writes the reports)."""
    return hasattr(config, "workerinput")


def listing(config: pytest.Config) -> bool:
    """--list: the run lists the selected suite tests and runs nothing."""
    return bool(config.getoption("gws_list"))


def writes_reports(config: pytest.Config) -> bool:
    """--gws-reports: the reports are written even when no suite test ran."""
    return bool(config.getoption("gws_reports"))


@pytest.fixture(scope="session", name="gws_config")
def gws_config_fixture(pytestconfig: pytest.Config) -> Config:
    return gws_config(pytestconfig)
