"""The pytest settings the suites rely on, and a pytest plugin that gives them to `pytest --pyargs suites`
run from an installed copy (pip install .), where no configuration file of the project is found.

In a checkout, pyproject.toml's [tool.pytest.ini_options] holds them; `gws-conformance run` passes them
on the command line (cli.PYTEST_SETTINGS). A run whose configuration file or -o options set one keeps
its own value.
"""

from __future__ import annotations

from pathlib import Path

import pytest

SETTINGS = {
    "asyncio_mode": "auto",
    "asyncio_default_fixture_loop_scope": "session",
    "asyncio_default_test_loop_scope": "session",
    "xfail_strict": "true",
}
SUITES_DIR = Path(__file__).resolve().parent.parent / "suites"


def runs_installed_suites(config: pytest.Config) -> bool:
    """pytest was asked for the installed suites (`--pyargs suites...` or a path in them) and read no
    configuration file."""
    if config.inipath is not None:
        return False
    namespace = config.known_args_namespace
    for arg in namespace.file_or_dir or ():
        name = str(arg).split("::")[0]
        if namespace.pyargs and (name == "suites" or name.startswith("suites.")):
            return True
        path = (config.invocation_params.dir / name).resolve()
        if path == SUITES_DIR or SUITES_DIR in path.parents:
            return True
    return False


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config: pytest.Config) -> None:
    if not runs_installed_suites(early_config):
        return
    try:  # pytest's own way of applying addopts' -o (config/__init__.py): there is no public one
        from _pytest.config.findpaths import parse_override_ini

        for key, value in parse_override_ini([f"{k}={v}" for k, v in SETTINGS.items()]).items():
            early_config._inicfg.setdefault(key, value)
        early_config._inicache.clear()
    except (ImportError, AttributeError):
        options = " ".join(f"-o {k}={v}" for k, v in SETTINGS.items())
        early_config.issue_config_time_warning(
            pytest.PytestConfigWarning(f"gws-conformance: run the installed suites with {options}"),
            stacklevel=2,
        )
