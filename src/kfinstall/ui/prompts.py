"""Questions to the user on the terminal; a command asks only through these, and only when a terminal is there."""

from __future__ import annotations

import sys
from collections.abc import Callable


def can_ask() -> bool:
    """Whether a person can answer: stdin is a terminal (not a pipe, a file or CI's /dev/null)."""
    return sys.stdin.isatty()


def confirm(question: str) -> bool:
    """`QUESTION [y/N]:`; no is the default. End of input raises click's Abort (the frame's `main` says so)."""
    import typer

    return typer.confirm(question, default=False)


def secret(question: str) -> Callable[[], str]:
    """A question whose answer is not echoed (a password), asked when called: only if it is needed."""

    def ask() -> str:
        import getpass

        return getpass.getpass(question)

    return ask
