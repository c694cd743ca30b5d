"""The command line: parses options, calls plain functions, renders their results. No logic lives here."""

from __future__ import annotations

import sys

import typer

from kfinstall import __version__
from kfinstall.errors import KfError

app = typer.Typer(
    name="kfinstall",
    help="From a bare machine to a working Kubeflow on minikube in one command.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(f"kfinstall {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version_callback, is_eager=True, help="Print kfinstall's version."
    ),
) -> None:
    """From a bare machine to a working Kubeflow on minikube in one command."""


def render_error(error: KfError) -> None:
    """One clear line for the message, one for the hint; never a traceback."""
    from rich.console import Console

    console = Console(stderr=True, highlight=False, soft_wrap=True)
    console.print(f"[bold red]error:[/] {error.message}")
    if error.hint:
        console.print(f"[yellow]hint:[/] {error.hint}")


def main() -> None:
    """Console-script entry point: runs the Typer app and turns `KfError`s into a message and an exit code."""
    try:
        app(standalone_mode=False)
    except KfError as error:
        render_error(error)
        sys.exit(error.exit_code)
    except typer.Exit as done:
        sys.exit(done.exit_code)
    except typer.Abort:
        typer.echo("Aborted.", err=True)
        sys.exit(130)
    except KeyboardInterrupt:
        typer.echo("Interrupted.", err=True)
        sys.exit(130)
    except Exception as usage:  # click's UsageError family: bad options, unknown command
        import click

        if isinstance(usage, click.ClickException):
            usage.show()
            sys.exit(usage.exit_code)
        raise
