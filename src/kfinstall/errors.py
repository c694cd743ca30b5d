"""The errors a user can see.

Every failure the user should understand is a `KfError`: one clear message, a hint that says what to do, and
the process exit code (2 for bad input, 1 for a failure). The CLI turns them into one line each, never a
traceback.
"""

from __future__ import annotations

EXIT_FAILURE = 1
EXIT_USAGE = 2


class KfError(Exception):
    """A failure explained to the user: `message`, optional `hint`, and the exit code to end with."""

    exit_code: int = EXIT_FAILURE

    def __init__(self, message: str, hint: str | None = None, *, exit_code: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        if exit_code is not None:
            self.exit_code = exit_code


class UsageError(KfError):
    """The user asked for something that cannot be (unknown release, bad `--memory`, ...): exit code 2."""

    exit_code = EXIT_USAGE


class ToolNotFoundError(KfError):
    """An external program (kubectl, minikube, ...) is not installed or not on PATH."""
