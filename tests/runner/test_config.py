"""Config: precedence (options > environment > target file > defaults) and one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from conformance.config import ConfigError, build_config, redacted_target

URL_LINE = 'base_url = "http://127.0.0.1:8191"'
PW = {"ALICE_PASSWORD": "x"}
TARGET = """base_url = "http://127.0.0.1:8191"
timeout_s = 4
routing = "one-ready-agent"

[[agents]]
username = "alice"
password = "${ALICE_PASSWORD}"
id = "a1"
skills = ["sales"]
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "target.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_mean_the_embedded_server() -> None:
    config = build_config({}, {})
    assert config.embedded and config.report_dir == Path("reports") and config.hypothesis_profile == "ci"
    assert (config.timeout_s, config.timeout_factor, config.strict, config.agents) == (10.0, 1.0, False, ())


def test_options_beat_environment_beat_file(tmp_path: Path) -> None:
    path = write(tmp_path, TARGET)
    env = {"ALICE_PASSWORD": "s3cret", "GWS_CONFORMANCE_TIMEOUT_S": "7", "GWS_CONFORMANCE_BASE_URL": "http://e:1"}
    config = build_config({"target_file": str(path), "base_url": "http://o:2/"}, env)
    assert config.base_url == "http://o:2"  # option, trailing slash removed
    assert config.timeout_s == 7.0  # environment over the file
    assert config.routing == "one-ready-agent"  # file over the default
    assert config.agents[0].password == "s3cret" and "s3cret" in config.secrets
    assert not config.embedded


def test_environment_names_the_target_file(tmp_path: Path) -> None:
    path = write(tmp_path, TARGET)
    config = build_config({}, {"GWS_CONFORMANCE_TARGET": str(path), "ALICE_PASSWORD": "x1y2z3"})
    assert config.base_url == "http://127.0.0.1:8191"


def test_redacted_target_holds_no_secret(tmp_path: Path) -> None:
    config = build_config({"target_file": str(write(tmp_path, TARGET))}, {"ALICE_PASSWORD": "s3cret"})
    assert "s3cret" not in repr(redacted_target(config))


@pytest.mark.parametrize(
    ("text", "env", "key"),
    [
        (TARGET, {}, "agents[0].password: ${ALICE_PASSWORD} is not set"),
        ("colour = 1\n" + TARGET, {"ALICE_PASSWORD": "x"}, "colour: unknown key"),
        (TARGET + "colour = 1\n", {"ALICE_PASSWORD": "x"}, "agents[0].colour: unknown key"),
        (TARGET.replace(URL_LINE, 'base_url = "localhost"'), PW, "base_url: 'localhost' is not an http"),
        (TARGET.replace(URL_LINE + "\n", ""), PW, "base_url: missing"),
        (TARGET.replace('id = "a1"\n', ""), {"ALICE_PASSWORD": "x"}, "agents[0].id: missing"),
        (TARGET.replace("timeout_s = 4", 'timeout_s = "soon"'), PW, "timeout_s: expected"),
        ('base_url = "http://h:1"\n', {}, "agents:"),
        ("base_url = [", {}, "target:"),
    ],
)
def test_target_file_errors_name_the_key(tmp_path: Path, text: str, env: dict, key: str) -> None:
    with pytest.raises(ConfigError) as raised:
        build_config({"target_file": str(write(tmp_path, text))}, env)
    message = str(raised.value)
    assert message.startswith(key.split(":")[0]) and key in message and "\n" not in message


@pytest.mark.parametrize(
    ("options", "env", "start"),
    [
        ({"target_file": "/nonexistent/t.toml"}, {}, "target:"),
        ({}, {"GWS_CONFORMANCE_COLOUR": "red"}, "GWS_CONFORMANCE_COLOUR: unknown"),
        ({"workers": "two"}, {}, "workers:"),
        ({"hypothesis_profile": "weekly"}, {}, "hypothesis_profile:"),
        ({"timeout_factor": "0"}, {}, "timeout_factor:"),
        ({}, {"GWS_CONFORMANCE_STRICT": "maybe"}, "strict:"),
    ],
)
def test_option_and_environment_errors(options: dict, env: dict, start: str) -> None:
    with pytest.raises(ConfigError) as raised:
        build_config(options, env)
    assert str(raised.value).startswith(start) and "\n" not in str(raised.value)


def test_run_refuses_parallel_workers_against_a_remote_server(tmp_path, capsys) -> None:
    from conformance.cli import main

    args = ["run", "--base-url", "http://127.0.0.1:9", "--workers", "2", "--report-dir", str(tmp_path)]
    assert main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--workers" in err[0]
