"""The frame every command runs in, so that no command decides alone how it starts, fails or ends.

`run(command, **options)` does, in this order:
1. `command.prepare(**options)`: the options become a request; bad input fails here (exit 2) before a log is
   opened or anything changes, and so do the questions to the user (a confirmation, a password prompt);
2. the command's log is opened (`logfile.start_log`): every command that runs programs or reads a cluster
   writes one once its input is accepted (all but `versions`, which reads the pins file alone), so a bug report
   can always attach `latest.log`; its first line names kfinstall's version and the command line;
3. `command.run(request, say)` does the work and returns a result; `say` (a `Voice`) is how it tells what it
   is doing (silent under `--json` and `--quiet`; `--verbose` adds each external command as it starts, the lines
   the log gets). A `KfError` from here on gets `log: PATH` as its hint's last line; an interrupt (SIGINT,
   SIGTERM, SIGHUP) becomes the one `Interrupted` error;
4. the result is rendered: `command.json(result)` under `--json`, else `command.show(result)`; a result's
   `error` (a failure with something to show first, as `images pull --json` has) is raised after it; its
   `exit_code` (default 0) ends the process.

Under `--json` a failure is a document too, so a script never reads an empty stdout: `{"ok": false, "error":
{...}}`, or for a command that streams JSON lines (`up`, `port-forward`) a last `{"phase": "error", ...}` line;
the message and hint still go to stderr for the person watching.

`main(app)` runs the Typer app and turns what comes out of it into one message and an exit code (errors.py
lists them): 2 for bad input, 1 for a failure, 3 for nothing installed, 128 + N for signal N, 130 for end of
input at a prompt. Modelled on pipx's thin `main.py` (pypa/pipx src/pipx/main.py) over one module per command
(src/pipx/commands/).
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

    #: The command's log file is named after it (`20260101-120000-NAME-PID.log`); None: no log (`versions` only).
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
    #: Its `--json` is a stream of JSON lines (`up`'s events, `port-forward`'s URL), so an error is one line more.
    json_lines: bool = False


def run(
    command: Command[Request, Result], *, json_output: bool = False, quiet: bool = False, verbose: bool = False,
    **options: Any,
) -> NoReturn:  # fmt: skip
    """Run `command` with the CLI's `options`; ends with `typer.Exit` carrying the result's exit code."""
    import typer

    from kfinstall.ui import output
    from kfinstall.ui.messages import Voice

    try:
        if command.log is not None:
            from kfinstall import logfile

            logfile.check_directory()
            logfile.hold_early_records()
        request = command.prepare(**options)
    except KfError as error:
        if json_output and not isinstance(error, Declined):
            json_error(command, error, None)
        raise
    log_path = None if command.log is None else _start_log(command.log)
    if verbose:
        _echo_commands()
    if json_output or quiet:
        say = Voice.quiet()
    else:
        say = Voice(output.stdout(soft_wrap=True) if command.progress == "stdout" else output.stderr())
    printed = False
    try:
        result = command.run(request, say)
        if json_output and command.json is not None:
            output.print_json(command.json(result))
            printed = True
        elif command.show_names_log:
            command.show(result, log_path)  # type: ignore[call-arg]
        else:
            command.show(result)
        error = getattr(result, "error", None)
        if error is not None:
            raise error
    except KeyboardInterrupt:  # runner has stopped the processes it was running
        from kfinstall import runner

        interrupted = with_log(runner.interruption(command.interrupted_hint), log_path)
        if json_output:
            json_error(command, interrupted, log_path)
        raise interrupted from None
    except KfError as error:
        with_log(error, log_path)
        if json_output and (command.json_lines or not printed):
            json_error(command, error, log_path)
        raise
    raise typer.Exit(getattr(result, "exit_code", 0))


def _start_log(name: str) -> Path:
    """The command's log, opened with the line that says which kfinstall ran which command line."""
    import logging
    import shlex

    from kfinstall import __version__, logfile

    path = logfile.start_log(name)
    logging.getLogger("kfinstall").info("kfinstall %s: %s", __version__, shlex.join(["kfinstall", *sys.argv[1:]]))
    logfile.flush_early_records()  # what prepare ran, after the line that names the run
    return path


def _echo_commands() -> None:
    """`--verbose`: each external command on stderr as it starts (redacted as the log is), dimmed."""
    from kfinstall import runner
    from kfinstall.ui import output
    from kfinstall.ui.messages import Voice

    runner.set_echo(Voice(output.stderr()).note)


def json_error(command: Command[Any, Any], error: KfError, log_path: Path | None) -> None:
    """A failure as `--json` says it on stdout: the message, the hint (without the log line), the log, the code."""
    from kfinstall.redact import redact
    from kfinstall.ui import output

    hint = error.hint
    if hint is not None and log_path is not None:
        hint = hint.replace(f"\nlog: {log_path}", "").replace(f"log: {log_path}", "") or None
    details = {
        "message": redact(error.message),
        "hint": None if hint is None else redact(hint),
        "log": None if log_path is None else str(log_path),
        "exit_code": error.exit_code,
    }
    if command.json_lines:
        import time

        output.json_line({"time": round(time.time(), 3), "phase": "error", **details})
    else:
        output.print_json({"ok": False, "exit_code": error.exit_code, "error": details})


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
            # without standalone mode, click returns a command's typer.Exit code; the program's name is the console
            # script's under `python -m kfinstall` too (the usage lines, the shell completion's _KFINSTALL_COMPLETE)
            code = app(standalone_mode=False, prog_name="kfinstall")
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
