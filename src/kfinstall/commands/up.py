"""`kfinstall up`: the frame around the steps: choose the release, refuse bad input, open the log, pick the
display, run the steps (`install/steps.py`), render the end or the error with the log's path."""

from __future__ import annotations

import time

from kfinstall import logfile, runner
from kfinstall.commands.options import plan_for
from kfinstall.errors import KfError
from kfinstall.install.context import UpContext
from kfinstall.install.events import Event
from kfinstall.install.steps import check_inputs, run_up, steps
from kfinstall.install.up import UpOptions, UpResult
from kfinstall.manifests.login import DEFAULT_LOGIN, DEFAULT_PASSWORD

DEFAULT_PASSWORD_WARNING = (
    f"Kubeflow still has its default password ({DEFAULT_PASSWORD}), the same on every install: anyone who reaches the "
    "dashboard can log in. Set yours with `kfinstall password`."
)


def up(options: UpOptions, *, json_output: bool = False, verbose: bool = False) -> None:
    """Run `up` with a live display (or JSON lines), then say how to reach the dashboard."""
    from rich.console import Console

    from kfinstall.locks import wait_limit
    from kfinstall.ui.progress import Display, JsonLines

    install, pins, reason = plan_for(options)  # a bad input stops here: no log, no cache, no cluster change
    wait_limit()  # a KFINSTALL_LOCK_TIMEOUT that is not seconds is bad input too
    local = check_inputs(install, options)
    todo = steps(install, options)
    log_path = logfile.start_log("up")
    console = Console(stderr=True, highlight=False)
    if verbose:
        runner.set_echo(lambda line: console.print(f"[dim]{line}[/]", soft_wrap=True))
    display = JsonLines() if json_output else Display()
    ctx = UpContext(install, options, display, pins, reason, json_output, display.start_components, checkout=local)
    try:
        result = run_up(ctx, todo)
    except KfError as error:
        display.stop()
        error.hint = f"{error.hint}\nlog: {log_path}" if error.hint else f"log: {log_path}"
        raise
    except KeyboardInterrupt:  # SIGINT, SIGTERM or SIGHUP: runner has stopped the processes it was running
        display.stop()
        hint = f"what was applied stays in the cluster: run the same `kfinstall up` again to resume\nlog: {log_path}"
        error = runner.interruption(hint)
        raise error from None
    display.stop()
    if json_output:
        if result.default_password:
            display(Event("note", DEFAULT_PASSWORD_WARNING))
        display(Event("done", f"Kubeflow {result.release} is ready"))
    else:
        _render_done(result, log_path)


def _render_done(result: UpResult, log_path: object) -> None:
    from rich.console import Console

    console = Console(stderr=True, highlight=False)
    took = time.strftime("%Mm%Ss", time.gmtime(result.seconds))
    changed = f"{len(result.installed)} installed, {len(result.skipped)} unchanged"
    console.print(f"\n[bold green]Kubeflow {result.release} is ready[/] ({changed}, {took}).")
    console.print("  Dashboard: run [bold]kfinstall port-forward[/], then open http://localhost:8080")
    if result.default_password:
        console.print(f"  Login:     {result.email} / {DEFAULT_LOGIN[1]}")
        console.print(f"\n[bold black on yellow] WARNING [/] [bold yellow]{DEFAULT_PASSWORD_WARNING}[/]\n")
    else:
        console.print(f"  Login:     {result.email} (with the password you set)")
    if result.namespace:
        console.print(f"  Namespace: {result.namespace} (yours: notebooks and pipelines run there)")
    console.print(f"  Log:       {log_path}")
