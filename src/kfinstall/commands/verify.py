"""`kfinstall verify`: proof that the user can log in and use Kubeflow, not only that its pods are ready.

It reaches the gateway (its own supervised port-forward on a free local port, or `--url`), logs in as the installed
user through that release's real flow (gateway/login.py; which flow, and which cookie proves it, are facts of the
pins: `gateway`), and asks, with the session, what a user's first minutes ask: does the dashboard know me and my
namespace, does the Pipelines API answer, do the notebooks and Katib web apps answer. One row each; a component the
install left out is "not installed", not a failure. The password never reaches the log, the output or argv.
`--pipeline` and `--gpu` then run a tiny pipeline (CPU; one step with one GPU) in the user's namespace and wait for
its end (gateway/pipelines.py); `--gpu` is refused up front when no node offers a GPU.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kfinstall.commands.frame import Command
from kfinstall.errors import KfError, NotInstalled, UsageError
from kfinstall.gateway import pipelines, verdicts
from kfinstall.gateway.http import Session, Unreachable
from kfinstall.gateway.login import log_in
from kfinstall.gateway.verdicts import Row
from kfinstall.kube import record as install_record
from kfinstall.kube.kubectl import Kubectl
from kfinstall.manifests import login as dex_login

if TYPE_CHECKING:
    from kfinstall.release.pins import Gateway
    from kfinstall.ui.messages import Voice

#: The web apps verify opens: (row, component id of the pins, path behind the gateway).
WEB_APPS = (("notebooks", "notebooks", "/jupyter/"), ("katib", "katib", "/katib/"))


@dataclass(frozen=True)
class VerifyOptions:
    context: str
    url: str | None = None
    #: The password given (file, stdin); None: the default one when the record says it is in use, else `ask`.
    password: str | None = None
    ask: Callable[[], str] | None = None
    email: str | None = None
    pins: Path | None = None
    #: Run the CPU pipeline, the GPU pipeline; seconds each run may take.
    pipeline: bool = False
    gpu: bool = False
    timeout: float = pipelines.DEFAULT_TIMEOUT
    #: The minikube profile the context belongs to (None with `--context`): its absence means nothing installed.
    minikube_profile: str | None = None

    @property
    def pipelines(self) -> tuple[pipelines.Pipeline, ...]:
        return ((pipelines.CPU,) if self.pipeline else ()) + ((pipelines.GPU,) if self.gpu else ())


@dataclass(frozen=True)
class VerifyResult:
    release: str
    url: str
    email: str
    rows: tuple[Row, ...] = field(default_factory=tuple)

    @property
    def exit_code(self) -> int:
        return 0 if all(row.ok for row in self.rows) else 1

    def as_dict(self) -> dict[str, Any]:
        return {
            "release": self.release,
            "url": self.url,
            "email": self.email,
            "checks": [row.as_dict() for row in self.rows],
            "ok": self.exit_code == 0,
            "exit_code": self.exit_code,
        }


def free_port(address: str = "127.0.0.1") -> int:
    """A port nothing listens on now (the kernel's choice): verify's forward must not take the user's 8080."""
    with socket.socket() as probe:
        probe.bind((address, 0))
        return int(probe.getsockname()[1])


def password_for(options: VerifyOptions, record: install_record.InstallRecord) -> str:
    """The password given, else the default one while the record says it is in use, else the prompt's."""
    if options.password is not None:
        return options.password
    if record.default_password:
        return dex_login.DEFAULT_PASSWORD
    if options.ask is not None:
        return options.ask()
    raise UsageError(
        "this install has the password set at `up` or by `kfinstall password`, and no password was given",
        "give it with --password-file FILE or --password-stdin (or run on a terminal to be asked)",
    )


def installed(command: str, options: VerifyOptions) -> tuple[Kubectl, install_record.InstallRecord]:
    """The cluster (one clear error when there is none) and kfinstall's record on it: `NotInstalled` (exit 3)
    when there is nothing to log in to. `verify` and `client` start here."""
    from kfinstall.commands.options import require_cluster

    profile, context = options.minikube_profile, options.context
    require_cluster(command, profile or context, None if profile else context)
    kubectl = Kubectl(context)
    record = install_record.read(kubectl)
    if record is None:
        raise NotInstalled(f"kfinstall installed nothing on context {context!r}", "run `kfinstall up` first")
    return kubectl, record


def verify(options: VerifyOptions, say: Callable[[str], None]) -> VerifyResult:
    """Log in and check; a KfError only when there is nothing to verify (no install, no gateway at all)."""
    from kfinstall.release.pins import load_pins

    kubectl, record = installed("verify", options)
    if options.gpu:
        _refuse_without_gpus(kubectl)
    release = load_pins(options.pins).get(record.release)
    if release.gateway is None:
        raise KfError(
            f"the pins say nothing of how to log in to Kubeflow {record.release}", "use `--pins` of a newer kfinstall"
        )
    email = dex_login.check_email(options.email) if options.email else record.email
    password = password_for(options, record)
    from kfinstall.redact import conceal

    conceal(password)
    if options.url:
        url = options.url.rstrip("/")
        return _checks(url, record, release.gateway, email, password, options, ui=url, say=say)
    from kfinstall.kube import portforward

    forward = portforward.ForwardOptions(options.context, free_port())
    with portforward.forwarding(forward, say) as url:
        # verify's own forward ends with it: the hints point at the one `kfinstall port-forward` keeps (8080)
        return _checks(url, record, release.gateway, email, password, options, ui="http://localhost:8080", say=say)


def _refuse_without_gpus(kubectl: Kubectl) -> None:
    from kfinstall.kube import gpu

    if not gpu.allocatable_gpus(kubectl.items("nodes")):
        why = gpu.plugin_problem(kubectl.items("pods", "-n", "kube-system"))
        raise UsageError(
            f"--gpu needs a node that offers a {gpu.GPU_RESOURCE}, and this cluster has none ({why})",
            "install on a GPU machine with `kfinstall up --gpus all`; verify without --gpu meanwhile",
        )


def _checks(
    url: str,
    record: install_record.InstallRecord,
    gateway: Gateway,
    email: str,
    password: str,
    options: VerifyOptions,
    ui: str,
    say: Callable[[str], None],
) -> VerifyResult:
    session = Session()
    installed = set(record.components)
    rows: list[Row] = []
    try:
        result = log_in(session, url, email, password, gateway.session_cookie)
    except Unreachable as error:
        result = None
        rows.append(verdicts.failed("login", error.message, error.hint))
    if result is not None:
        rows.append(
            verdicts.passed("login", result.reason)
            if result.ok
            else verdicts.failed("login", result.reason, result.hint)
        )
    if rows[0].state != "pass":
        later = ("dashboard", "user namespace", "pipelines API", *(app[0] for app in WEB_APPS))
        for check in (*later, *(p.check for p in options.pipelines)):
            rows.append(Row(check, "skip", "not checked: no login"))
        return VerifyResult(record.release, url, email, tuple(rows))
    namespace = dex_login.profile_name(email)
    try:
        if "central-dashboard" in installed:
            answer = session.get(f"{url}/api/workgroup/env-info")
            rows += verdicts.dashboard(answer.status, answer.text, email, namespace)
        else:
            rows += [
                verdicts.not_installed("dashboard", "central-dashboard"),
                Row("user namespace", "skip", "no dashboard to ask"),
            ]
        if "pipelines" in installed:
            answer = session.get(f"{url}/pipeline/apis/{gateway.kfp_api}/healthz")
            rows.append(verdicts.pipelines(answer.status, answer.text, gateway.kfp_api))
        else:
            rows.append(verdicts.not_installed("pipelines API", "pipelines"))
        for check, component, path in WEB_APPS:
            if component in installed:
                rows.append(verdicts.web_app(check, path, session.get(url + path).status))
            else:
                rows.append(verdicts.not_installed(check, component))
        rows += _pipeline_rows(session, url, record, gateway, namespace, rows, options, ui, say)
    except Unreachable as error:
        rows.append(verdicts.failed("gateway", error.message, error.hint))
    return VerifyResult(record.release, url, email, tuple(rows))


def _pipeline_rows(
    session: Session,
    url: str,
    record: install_record.InstallRecord,
    gateway: Gateway,
    namespace: str,
    rows: list[Row],
    options: VerifyOptions,
    ui: str,
    say: Callable[[str], None],
) -> list[Row]:
    """One row per pipeline asked for: run, skipped with the reason, or not installed."""
    states = {row.check: row.state for row in rows}
    done: list[Row] = []
    for pipeline in options.pipelines:
        if "pipelines" not in record.components:
            done.append(verdicts.not_installed(pipeline.check, "pipelines"))
        elif states.get("pipelines API") == "fail":
            done.append(Row(pipeline.check, "skip", "not run: the Pipelines API does not answer"))
        elif states.get("user namespace") == "fail":
            done.append(Row(pipeline.check, "skip", f"not run: no namespace {namespace} of the user's"))
        else:
            outcome = pipelines.submit_and_wait(session, url, namespace, pipeline, options.timeout,
                                                api_version=gateway.kfp_api, say=say)  # fmt: skip
            done.append(pipelines.row(outcome, pipeline, namespace, ui, options.timeout))
    return done


# the command ---------------------------------------------------------------------------------------------------


def prepare(
    *,
    minikube_profile: str,
    context: str | None,
    url: str | None,
    password_file: Path | None,
    password_stdin: bool,
    email: str | None,
    pins: Path | None,
    pipeline: bool = False,
    gpu: bool = False,
    timeout: float = pipelines.DEFAULT_TIMEOUT,
) -> VerifyOptions:
    """The password read now (file or stdin; the prompt comes later, only if the record says one was set)."""
    from kfinstall.redact import conceal
    from kfinstall.ui import prompts

    if timeout <= 0:
        raise UsageError(f"--timeout must be more than 0 seconds, not {timeout:g}", "e.g. --timeout 900")
    plaintext = dex_login.read_password(password_file, password_stdin)
    if plaintext is not None:
        conceal(plaintext)
    return VerifyOptions(
        context=context or minikube_profile,
        url=url,
        password=plaintext,
        ask=prompts.secret("Dashboard password: ") if prompts.can_ask() else None,
        email=email,
        pins=pins,
        pipeline=pipeline,
        gpu=gpu,
        timeout=timeout,
        minikube_profile=None if context else minikube_profile,
    )


def run(request: VerifyOptions, say: Voice) -> VerifyResult:
    return verify(request, say.warn)


def show(result: VerifyResult) -> None:
    from kfinstall.ui import output

    render(result, output.stderr())


def render(result: VerifyResult, console: Any) -> None:
    """The rows as `check` shows its checks: one line each, the hint under a failure."""
    from rich.markup import escape

    marks = {"pass": "[green]✓[/]", "fail": "[red]✗[/]", "skip": "[dim]–[/]"}
    for row in result.rows:
        console.print(f" {marks[row.state]} {row.check:<15} {escape(row.reason)}")
        if row.state == "fail" and row.hint:
            console.print(f"   [yellow]hint:[/] {escape(row.hint)}")
    failures = sum(row.state == "fail" for row in result.rows)
    if failures:
        console.print(
            f"[red]{failures} of {len(result.rows)} checks failed[/] for {result.email} on Kubeflow {result.release}"
        )
    else:
        console.print(f"[green]Kubeflow {result.release} works for {result.email}[/]")


COMMAND = Command(log="verify", prepare=prepare, run=run, show=show, json=VerifyResult.as_dict)
