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


def new_password(*, keep_default: bool) -> str | None:
    """A new dashboard password typed twice, by the rules of manifests/login.py `ask_password` (the rule said
    first, asked again after a mistake); None: Enter kept the default, where `keep_default` offers it.

    getpass reads the terminal without echo and writes its prompt there (or, with no /dev/tty, to stderr); the
    rule and the retries go to stderr, where every question of kfinstall is asked."""
    import getpass

    from kfinstall.manifests.login import ask_password

    def tell(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    return ask_password(getpass.getpass, tell, keep_default=keep_default)
