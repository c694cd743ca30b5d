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
from kfinstall.install.context import UpContext
from kfinstall.install.events import Event
from kfinstall.install.steps import check_inputs, run_up, steps
from kfinstall.install.up import UpOptions, UpResult
from kfinstall.manifests.login import DEFAULT_LOGIN, DEFAULT_PASSWORD

if TYPE_CHECKING:
    from kfinstall.commands.options import Existing
    from kfinstall.install.steps import Step
    from kfinstall.install.up import InstallPlan
    from kfinstall.kube.record import Reading
    from kfinstall.manifests.checkout import Checkout
    from kfinstall.minikube.cluster import ProfileState
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
    #: The cluster's settings, kept with the copy of the record (`remember`): they tell this cluster from another.
    settings: dict[str, Any] | None = None
    #: The minikube profile as `prepare` found it (None: not looked at, or no such profile).
    profile_state: ProfileState | None = None
    #: The install record as `prepare` read it from the running cluster (None: not read there).
    record_reading: Reading | None = None


@dataclass(frozen=True)
class Installed:
    result: UpResult
    json_output: bool


def prepare(
    *,
    password_file: Path | None,
    password_stdin: bool,
    email: str | None,
    prompt: bool,
    json: bool,
    yes: bool = False,
    **values: Any,
) -> UpRequest:
    """Everything decided before anything runs. With no release, profile or GPU options, an existing minikube
    profile is continued as it is (`continue_install`); one that cannot hold the plan is explained now. The
    password is read from its file or stdin now, but asked for on a terminal only after the checks passed
    (`AskPassword`), and only when it will be used."""
    from kfinstall.commands.options import plan_continuing, read_login, refuse_incompatible
    from kfinstall.locks import wait_limit
    from kfinstall.minikube.units import check_seconds

    check_seconds(values["timeout"])
    wait_limit()  # a KFINSTALL_LOCK_TIMEOUT that is not seconds is bad input too
    login = read_login(password_file, password_stdin, email, prompt=False)
    # a bad input stops here: no log, no cache, no cluster change
    options, install, pins, reason, existing = plan_continuing(values, login, check_inputs)
    from kfinstall.commands import upgrade

    install = upgrade.detect(install, existing, pins)  # another release, or fewer components: an upgrade
    refuse_incompatible(install, existing)
    local = check_inputs(install, options)
    todo = steps(install, options)
    upgrade.confirm(install, yes=yes, prompt=prompt)  # it deletes things: asked before anything runs
    if prompt and login.hash is None and _uses_password(install, existing):
        todo = _ask_after_checks(todo, email)
    from kfinstall.commands.options import settings_of

    settings = settings_of(install.cluster, existing) if install.cluster is not None else None
    found = existing.state if existing is not None and install.cluster is not None else None
    reading = existing.reading if existing is not None and install.cluster is not None else None
    return UpRequest(install, options, pins, reason, local, todo, json, settings, found, reading)


def _uses_password(install: InstallPlan, existing: Existing | None) -> bool:
    """A password typed now is used when the plan installs Dex (the component `dex` in every pinned release),
    unless the install already has a password of the user's and stays on its release: then Dex's config is
    unchanged and skipped, and the password stays (while another release's Dex would bring the default back)."""
    record = existing.record if existing is not None else None
    keeps_own = record is not None and not record.default_password and record.release == install.release.tag
    return "dex" in install.selection.ids and not keeps_own


@dataclass(frozen=True)
class AskPassword:
    """The step before it (the checks, or the first step under --skip-checks), then the password prompt: its
    name and description are the step's own, so the steps `kfinstall plan` lists are the steps `up` runs."""

    step: Step
    email: str | None

    @property
    def name(self) -> str:
        return self.step.name

    @property
    def description(self) -> str:
        return self.step.description

    def run(self, ctx: UpContext) -> None:
        from dataclasses import replace

        from kfinstall.commands.options import read_login

        if self.step.name == "check-prerequisites":
            self.step.run(ctx)
        ctx.options = replace(ctx.options, login=read_login(None, False, self.email, prompt=True))
        if self.step.name != "check-prerequisites":
            self.step.run(ctx)


def _ask_after_checks(todo: list[Step], email: str | None) -> list[Step]:
    return [AskPassword(todo[0], email), *todo[1:]] if todo else todo


def up(request: UpRequest, say: Voice) -> Installed:
    """Run the steps under the live display (JSON lines; nothing with `--quiet`, whose `say` is silent); the
    display stops however they end."""
    from kfinstall.ui.progress import Display, JsonLines, Silent

    display = JsonLines() if request.json_output else Display() if say.console is not None else Silent()
    ctx = UpContext(
        request.install, request.options, display, request.pins, request.reason, request.json_output,
        display.start_components, checkout=request.local, quiet=say.console is None and not request.json_output,
        profile_state=request.profile_state, record_reading=request.record_reading,
    )  # fmt: skip
    try:
        result = run_up(ctx, request.todo)
    finally:
        display.stop()
        if ctx.writer is not None and request.install.cluster is not None and request.settings is not None:
            # a stopped cluster is continued as it is: from this copy
            from kfinstall.commands.options import remember

            remember(request.install.cluster.profile, ctx.writer.record, request.settings)
    if request.json_output:
        if result.default_password:
            display(Event("note", DEFAULT_PASSWORD_WARNING))
        display(Event("done", f"Kubeflow {result.release} is ready"))
    return Installed(result, request.json_output)


def show(done: Installed, log_path: Path | None) -> None:
    """How to reach the dashboard, the login, the user's namespace, the log (JSON lines said it already)."""
    from rich.markup import escape

    from kfinstall.kube.portforward import DEFAULT_PORT
    from kfinstall.ui import output, results

    if done.json_output:
        return
    result = done.result
    console = output.stderr(soft_wrap=False)
    took = time.strftime("%Mm%Ss", time.gmtime(result.seconds))
    changed = f"{len(result.installed)} installed, {len(result.skipped)} unchanged"
    console.print(f"\n[bold green]Kubeflow {result.release} is ready[/] ({changed}, {took}).")
    console.print(f"  Dashboard: run [bold]kfinstall port-forward[/], then open http://localhost:{DEFAULT_PORT}")
    for line in results.remote_access(DEFAULT_PORT):
        console.print(escape(line))
    if result.default_password:
        console.print(f"  Login:     {result.email} / {DEFAULT_LOGIN[1]}")
        console.print(f"\n[bold black on yellow] WARNING [/] [bold yellow]{DEFAULT_PASSWORD_WARNING}[/]\n")
    else:
        console.print(f"  Login:     {result.email} (with the password you set)")
    if result.namespace:
        console.print(f"  Namespace: {result.namespace} (yours: notebooks and pipelines run there)")
    console.print("  Next:      [bold]kfinstall verify[/] (log in and check what you will use)")
    if "pipelines" in (*result.installed, *result.skipped):
        console.print("             [bold]kfinstall client[/] (the Python lines of a kfp.Client for your namespace)")
    console.print("             README: After `up`: log in, open a notebook, run a pipeline")
    console.print(f"  Log:       {log_path}")


COMMAND = Command(
    log="up", prepare=prepare, run=up, show=show, interrupted_hint=INTERRUPTED, show_names_log=True, json_lines=True
)
