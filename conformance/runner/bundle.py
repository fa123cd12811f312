"""A run's evidence bundle: the runner's side (the redacted target, the run's facts, the configured
secrets) handed to `conformance.reporting.bundle`, which reads only the report files and those."""

from __future__ import annotations

from pathlib import Path

from conformance.config import Config, redacted_target
from conformance.protocol import load_profile
from conformance.reporting.bundle import write_bundle
from conformance.runner.version import package_version


def write_evidence_bundle(config: Config, path: Path, seed: int | None = None) -> Path:
    run = {"suite": "gws-conformance", "version": package_version(),
           "profile": load_profile(config.profile_path).name, "hypothesis_seed": seed}
    secrets = (*config.secrets, *(agent.password for agent in config.agents))
    return write_bundle(config.report_dir, path, redacted_target(config), run, secrets)
