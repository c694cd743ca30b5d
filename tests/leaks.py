"""pytest plugin: the run fails when a process the tests started outlives the test session.

At start it puts `KFINSTALL_TEST_SESSION=<random>` into the environment, so every process a test starts inherits
it (the fakes, the cluster doubles, kfinstall and its kubectl), orphans reparented to pid 1 included. At the end of
the session, after every fixture's teardown (the doubles the fixtures stop are stopped by then) and a short grace
for a stopped process to exit, any process still carrying the marker, or still descending from pytest, is a leak:
the run's exit status becomes 1, the summary names each leaked command, and the leaked processes are killed.

Linux only (it reads /proc); elsewhere it does nothing. Registered in tests/conftest.py; a child pytest can load
it with `-p tests.leaks`.
"""

from __future__ import annotations

import contextlib
import os
import signal
import uuid

import pytest

from tests import processes

MARKER = "KFINSTALL_TEST_SESSION"
#: Seconds a process stopped at teardown may take to exit before it counts as leaked.
GRACE = 5.0

_leaked: list[processes.Proc] = []


def pytest_configure(config: pytest.Config) -> None:
    if processes.supported():
        os.environ[MARKER] = uuid.uuid4().hex  # a fresh one, also in a pytest that a test runs


def _find() -> list[processes.Proc]:
    by_pid = {proc.pid: proc for proc in processes.marked(MARKER, os.environ[MARKER])}
    by_pid.update({proc.pid: proc for proc in processes.descendants(os.getpid())})
    return sorted(by_pid.values(), key=lambda proc: proc.pid)


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if not processes.supported() or MARKER not in os.environ:
        return
    if session.config.pluginmanager.hasplugin("dsession"):
        return  # pytest-xdist's controller: its children are the workers, each of which checks its own session
    leaked = processes.still_running(_find, GRACE)
    if not leaked:
        return
    _leaked.extend(leaked)
    for proc in leaked:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(proc.pid, signal.SIGKILL)
    if session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter) -> None:  # type: ignore[no-untyped-def]
    if not _leaked:
        return
    terminalreporter.section("processes that outlived the test session", sep="=", red=True, bold=True)
    for proc in _leaked:
        terminalreporter.write_line(f"LEAKED {proc}")
    terminalreporter.write_line("(killed now; a test or a fixture started them and did not stop them)")
