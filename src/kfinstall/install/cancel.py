"""Stopping the components' threads: after another component's failure, or an interrupt.

Every wait and backoff of the installer sleeps on one event, so a cancelled install stops within a poll
interval instead of sleeping out its backoff.
"""

from __future__ import annotations

import threading

from kfinstall.errors import KfError


class Cancelled(KfError):
    """A component's thread stopped because the install is cancelled (after another's failure, or an interrupt)."""

    exit_code = 130


class Cancel:
    """The install's cancel flag, shared by every component's thread."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def set(self) -> None:
        self._event.set()

    def sleep(self, seconds: float) -> None:
        """Sleep, or raise Cancelled as soon as the install is cancelled."""
        if self._event.wait(seconds):
            raise Cancelled("stopped", "run the same `kfinstall up` again to resume")

    def check(self) -> None:
        if self._event.is_set():
            raise Cancelled("stopped", "run the same `kfinstall up` again to resume")
