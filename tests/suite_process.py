"""The environment for a suite run in a subprocess: none of this test run's own settings leak in."""

from __future__ import annotations

import os
import signal

# GWS_CONFORMANCE_* would configure the child run; PYTEST_* (xdist's worker id among them) would make
# the child believe it is a worker of this run.
LEAKING_PREFIXES = ("GWS_CONFORMANCE_", "PYTEST_XDIST_", "PYTEST_CURRENT_TEST")


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(LEAKING_PREFIXES)}
    env.update(extra)
    return env


def interruptible() -> None:
    """Popen's preexec_fn for a child the test will send SIGINT: a job started in the background by a
    shell without job control ignores SIGINT, and its children inherit that (Python then installs no
    KeyboardInterrupt handler), so the default disposition is put back."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
