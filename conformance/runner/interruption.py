"""A run that stopped before every selected test reported: a signal, pytest's own stop (-x, --maxfail,
collection errors), a crashed xdist worker, or reports gone missing. Such a run's verdict is `error`.

SIGTERM (a CI job's timeout) ends the run as Ctrl-C does: fixtures are torn down (chats stopped, agents
NotReady, sessions ended) and the summary says the run was interrupted.
"""

from __future__ import annotations

import signal
import threading
from typing import Any

import pytest

from conformance.runner.results import RunState, state_of


def pytest_configure(config: pytest.Config) -> None:
    state = state_of(config)
    if state is not None:
        config.pluginmanager.register(InterruptionWatch(state), "gws_conformance_interruption")
    terminate_like_interrupt()


class InterruptionWatch:
    """Records on the run's state what stopped it."""

    def __init__(self, state: RunState) -> None:
        self.state = state

    def pytest_keyboard_interrupt(self, excinfo: pytest.ExceptionInfo[BaseException]) -> None:
        if isinstance(excinfo.value, pytest.Session.Interrupted):  # pytest's own, e.g. collection errors
            self.state.interrupt = str(excinfo.value)
        else:
            self.state.interrupt = f"interrupted by {str(excinfo.value) or 'Ctrl-C (SIGINT)'}"

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: object) -> None:
        if error:
            self.state.crashed.append(f"worker {getattr(node.gateway, 'id', '?')} went down: {error}")

    @pytest.hookimpl(optionalhook=True)
    def pytest_handlecrashitem(self, crashitem: str, report: Any, sched: Any) -> None:
        self.state.crashed.append(f"a worker crashed while running {crashitem}")


def terminate_like_interrupt() -> None:
    """SIGTERM raises KeyboardInterrupt in the main thread (unless someone else handles SIGTERM)."""
    if threading.current_thread() is not threading.main_thread():
        return
    if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
        signal.signal(signal.SIGTERM, _raise_interrupt)


def _raise_interrupt(signum: int, frame: object) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # a second SIGTERM ends the process at once
    raise KeyboardInterrupt(signal.Signals(signum).name)


def interruption(session: pytest.Session, exitstatus: int, state: RunState) -> str | None:
    """Why the run did not report every selected test, or None."""
    if state.interrupt is not None:
        return state.interrupt
    if exitstatus == pytest.ExitCode.INTERRUPTED:
        return "errors during collection" if not state.nodeids else "interrupted"
    if session.shouldfail or session.shouldstop:
        return f"stopped early: {session.shouldfail or session.shouldstop}"
    if state.crashed:
        return "; ".join(state.crashed)
    if state.collected is not None and len(state.nodeids) < state.collected:
        return f"only {len(state.nodeids)} of {state.collected} selected tests reported"
    return None
