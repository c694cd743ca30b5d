"""How messages look: the error and its hint, and the lines a command says while it works (progress, warnings).

Everything here takes plain text and escapes it before Rich sees it: the text quotes the cluster, kubectl and
minikube verbatim, and an apiserver message such as `regex used for validation is '[a-z0-9]...'` would otherwise
be taken for markup and vanish. It is also redacted as the log is (`redact.redact`: the concealed password, bcrypt
hashes, tokens, Secret data): an error quoting kubectl or the API server may quote a value the terminal must not
show, and a terminal is scrolled back, screen-shared and pasted into issues.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kfinstall.ui import output

if TYPE_CHECKING:
    from rich.console import Console

    from kfinstall.errors import KfError


def _escape(text: str) -> str:
    from rich.markup import escape

    from kfinstall.redact import redact

    return escape(redact(text))


def hint_line(hint: str) -> str:
    """`hint: HINT`: what to do about what the line above says (as Rich markup)."""
    return f"[yellow]hint:[/] {_escape(hint)}"


def error_lines(message: str, hint: str | None) -> list[str]:
    """`error: MESSAGE` and, when there is one, `hint: HINT` (as Rich markup)."""
    return [f"[bold red]error:[/] {_escape(message)}", *([hint_line(hint)] if hint else [])]


def render_error(error: KfError) -> None:
    """One clear line for the message, one for the hint (its last line the log's path); never a traceback."""
    console = output.stderr()
    for line in error_lines(error.message, error.hint):
        console.print(line)


def aborted() -> None:
    """End of input at a prompt: click's word for it."""
    output.echo("Aborted.", err=True)


def warn(text: str) -> None:
    """` ! TEXT` on stderr: something the user should know that does not stop the command."""
    Voice(output.stderr()).warn(text)


class Voice:
    """What a command says while it works, one line each: a step, a warning, an image done or failed, a note.

    On stderr (stdout for `gpu-test`, whose whole output is its result); `quiet` under `--json`, where stdout
    carries the document alone and stderr stays for errors."""

    def __init__(self, console: Console | None) -> None:
        self.console = console

    @classmethod
    def quiet(cls) -> Voice:
        return cls(None)

    def _print(self, markup: str) -> None:
        if self.console is not None:
            self.console.print(markup)

    def step(self, text: str) -> None:
        self._print(f" [dim]·[/] {_escape(text)}")

    def warn(self, text: str) -> None:
        self._print(f" [yellow]![/] {_escape(text)}")

    def ok(self, text: str) -> None:
        self._print(f" [green]✓[/] {_escape(text)}")

    def failed(self, text: str) -> None:
        self._print(f" [red]✗[/] {_escape(text)}")

    def note(self, text: str) -> None:
        self._print(f"[dim]{_escape(text)}[/]")
