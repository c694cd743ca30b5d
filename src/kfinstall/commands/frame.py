"""The frame every command runs in, so that no command decides alone how it starts, fails or ends.

`run(command, **options)` does, in this order:
1. `command.prepare(**options)`: the options become a request; bad input fails here (exit 2) before a log is
   opened or anything changes, and so do the questions to the user (a confirmation, a password prompt);
2. the command's log is opened (`logfile.start_log`), for a command that runs programs or changes a cluster;
3. `command.run(request, say)` does the work and returns a result; `say` (a `Voice`) is how it tells what it
   is doing (quiet under `--json`). A `KfError` from here on gets `log: PATH` as its hint's last line; an interrupt
   (SIGINT, SIGTERM, SIGHUP) becomes the one `Interrupted` error;
4. the result is rendered: `command.json(result)` under `--json`, else `command.show(result)`; a result's
   `error` (a failure with something to show first, as `images pull --json` has) is raised after it; its
   `exit_code` (default 0) ends the process.

`main(app)` runs the Typer app and turns what comes out of it into one message and an exit code: 2 for bad
input, 1 for a failure, 128 + N for signal N, 130 for end of input at a prompt. Modelled on pipx's thin
`main.py` (pypa/pipx src/pipx/main.py) over one module per command (src/pipx/commands/).
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, Literal, NoReturn, TypeVar

from kfinstall.errors import Declined, KfError

if TYPE_CHECKING:
    from pathlib import Path

    import typer

    from kfinstall.ui.messages import Voice

Request = TypeVar("Request")
Result = TypeVar("Result")

#: What an interrupted command suggests (`up` says more: it knows what stays in the cluster).
AGAIN = "run the same command again to finish what it was doing"


@dataclass(frozen=True)
class Command(Generic[Request, Result]):
    """One command as the frame runs it: its parts, each a plain function."""

    #: The command's log file is named after it; None: it opens none (it only reads local files or the cluster).
    log: str | None
    prepare: Callable[..., Request]
    run: Callable[[Request, Voice], Result]
    show: Callable[..., None]
    #: The `--json` document of a result; None: the command has no `--json`.
    json: Callable[[Result], object] | None = None
    #: Where the Voice's lines go: stderr, or stdout for a command whose whole output is its result.
    progress: Literal["stderr", "stdout"] = "stderr"
    #: What an interrupted run suggests (`up` knows that what it applied stays in the cluster).
    interrupted_hint: str = AGAIN
    #: `show(result, log_path)` instead of `show(result)`: a result that ends by naming its log (`up`).
    show_names_log: bool = False


def run(command: Command[Request, Result], *, json_output: bool = False, **options: Any) -> NoReturn:
    """Run `command` with the CLI's `options`; ends with `typer.Exit` carrying the result's exit code."""
    import typer

    from kfinstall.ui import output
    from kfinstall.ui.messages import Voice

    request = command.prepare(**options)
    log_path = None
    if command.log is not None:
        from kfinstall import logfile

        log_path = logfile.start_log(command.log)
    if json_output:
        say = Voice.quiet()
    else:
        say = Voice(output.stdout(soft_wrap=True) if command.progress == "stdout" else output.stderr())
    try:
        result = command.run(request, say)
        if json_output and command.json is not None:
            output.print_json(command.json(result))
        elif command.show_names_log:
            command.show(result, log_path)  # type: ignore[call-arg]
        else:
            command.show(result)
        error = getattr(result, "error", None)
        if error is not None:
            raise error
    except KeyboardInterrupt:  # runner has stopped the processes it was running
        from kfinstall import runner

        raise with_log(runner.interruption(command.interrupted_hint), log_path) from None
    except KfError as error:
        with_log(error, log_path)
        raise
    raise typer.Exit(getattr(result, "exit_code", 0))


def with_log(error: KfError, log_path: Path | None) -> KfError:
    """`error` with `log: PATH` as its hint's last line, once (no log opened yet: unchanged)."""
    if log_path is not None and f"log: {log_path}" not in (error.hint or ""):
        error.hint = f"{error.hint}\nlog: {log_path}" if error.hint else f"log: {log_path}"
    return error


def main(app: typer.Typer) -> NoReturn:
    """Console-script entry point: runs the Typer app and turns `KfError`s into a message and an exit code."""
    import typer

    from kfinstall import runner
    from kfinstall.ui import messages
    from kfinstall.ui.terminal import use_ascii_fallbacks

    use_ascii_fallbacks()
    try:
        with runner.interrupts():  # SIGINT, SIGTERM, SIGHUP: the children stopped, one message, exit 128 + N
            code = app(standalone_mode=False)  # without standalone mode, click returns a command's typer.Exit code
    except KfError as error:
        if not isinstance(error, Declined):  # a user who said no needs no message
            with contextlib.suppress(OSError):  # a closed terminal (SIGHUP): the exit code and the log still tell
                messages.render_error(error)
        sys.exit(error.exit_code)
    except typer.Exit as done:
        sys.exit(done.exit_code)
    except (typer.Abort, KeyboardInterrupt) as abort:  # click turns a KeyboardInterrupt into Abort
        if runner.interrupted_by() is None and not isinstance(abort.__cause__ or abort, KeyboardInterrupt):
            messages.aborted()  # end of input at a prompt
            sys.exit(130)
        error = runner.interruption(AGAIN)
        with contextlib.suppress(OSError):
            messages.render_error(error)
        sys.exit(error.exit_code)
    except Exception as usage:  # click's UsageError family: bad options, unknown command
        # typer >= 0.20 vendors click (typer._click), so match the ClickException shape rather than its import path
        if type(usage).__name__ != "KeyboardInterrupt" and callable(getattr(usage, "show", None)):
            usage.show()  # type: ignore[attr-defined]
            sys.exit(int(getattr(usage, "exit_code", 2)))
        raise
    sys.exit(code if isinstance(code, int) else 0)
