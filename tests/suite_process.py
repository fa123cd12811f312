"""The environment for a suite run in a subprocess: none of this test run's own settings leak in."""

from __future__ import annotations

import os

# GWS_CONFORMANCE_* would configure the child run; PYTEST_* (xdist's worker id among them) would make
# the child believe it is a worker of this run.
LEAKING_PREFIXES = ("GWS_CONFORMANCE_", "PYTEST_XDIST_", "PYTEST_CURRENT_TEST")


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(LEAKING_PREFIXES)}
    env.update(extra)
    return env
