"""`kfinstall up`: the steps of `install/steps.py` run in the command frame, with a live display or JSON lines.

`prepare` does everything that can refuse bad input before a log exists or anything changes: the password
(prompted on a terminal), the options, the release choice and plan, the lock timeout, the `--context` and
`--manifests-dir` checks, and the list of steps. `run` carries the steps out under the display; `show` says how to
reach the dashboard and names the log. Errors get `log: PATH` from the frame; an interrupt says that what was
applied stays in the cluster.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kfinstall.commands.frame import Command
from kfinstall.commands.options import plan_for
from kfinstall.install.context import UpContext
from kfinstall.install.events import Event
from kfinstall.install.steps import check_inputs, run_up, steps
from kfinstall.install.up import UpOptions, UpResult
from kfinstall.manifests.login import DEFAULT_LOGIN, DEFAULT_PASSWORD

if TYPE_CHECKING:
    from kfinstall.install.steps import Step
    from kfinstall.install.up import InstallPlan
    from kfinstall.manifests.checkout import Checkout
    from kfinstall.release.pins import Pins
    from kfinstall.ui.messages import Voice

DEFAULT_PASSWORD_WARNING = (
    f"Kubeflow still has its default password ({DEFAULT_PASSWORD}), the same on every install: anyone who reaches the "
    "dashboard can log in. Set yours with `kfinstall password`."
)
INTERRUPTED = "what was applied stays in the cluster: run the same `kfinstall up` again to resume"


@dataclass(frozen=True)
class UpRequest:
    install: InstallPlan
    options: UpOptions
    pins: Pins
    reason: str | None
    local: Checkout | None
    todo: list[Step]
    json_output: bool


@dataclass(frozen=True)
class Installed:
    result: UpResult
    json_output: bool


def prepare(
    *, password_file: Path | None, password_stdin: bool, email: str | None, prompt: bool, json: bool, **values: Any
) -> UpRequest:
    from kfinstall.commands.options import read_login, up_options
    from kfinstall.locks import wait_limit
    from kfinstall.minikube.units import check_seconds

    check_seconds(values["timeout"])
    login = read_login(password_file, password_stdin, email, prompt=prompt)
    options = up_options(login=login, **values)
    install, pins, reason = plan_for(options)  # a bad input stops here: no log, no cache, no cluster change
    wait_limit()  # a KFINSTALL_LOCK_TIMEOUT that is not seconds is bad input too
    local = check_inputs(install, options)
    return UpRequest(install, options, pins, reason, local, steps(install, options), json)


def up(request: UpRequest, say: Voice) -> Installed:
    """Run the steps under the live display (JSON lines; nothing with `--quiet`, whose `say` is silent); the
    display stops however they end."""
    from kfinstall.ui.progress import Display, JsonLines, Silent

    display = JsonLines() if request.json_output else Display() if say.console is not None else Silent()
    ctx = UpContext(
        request.install, request.options, display, request.pins, request.reason, request.json_output,
        display.start_components, checkout=request.local, quiet=say.console is None and not request.json_output,
    )  # fmt: skip
    try:
        result = run_up(ctx, request.todo)
    finally:
        display.stop()
    if request.json_output:
        if result.default_password:
            display(Event("note", DEFAULT_PASSWORD_WARNING))
        display(Event("done", f"Kubeflow {result.release} is ready"))
    return Installed(result, request.json_output)


def show(done: Installed, log_path: Path | None) -> None:
    """How to reach the dashboard, the login, the user's namespace, the log (JSON lines said it already)."""
    from kfinstall.ui import output

    if done.json_output:
        return
    result = done.result
    console = output.stderr(soft_wrap=False)
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


COMMAND = Command(
    log="up", prepare=prepare, run=up, show=show, interrupted_hint=INTERRUPTED, show_names_log=True, json_lines=True
)
