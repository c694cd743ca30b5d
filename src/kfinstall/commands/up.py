"""What `up` and `plan` do around the steps: choose the release, open the log, pick the display, render the end.

The CLI parses options into `UpOptions` and calls these; the steps themselves live in `up`, `cluster`,
`manifests`, `build` and `installer`.
"""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING

from kfinstall import logfile, runner
from kfinstall.errors import KfError
from kfinstall.install.events import Event
from kfinstall.install.up import DEFAULT_LOGIN, UpOptions, UpResult, make_plan, run_up

DEFAULT_PASSWORD_WARNING = (
    "Kubeflow still has its default password (12341234), the same on every install: anyone who reaches the "
    "dashboard can log in. Set yours with `kfinstall password`."
)

if TYPE_CHECKING:
    from rich.console import Console

    from kfinstall.install.up import InstallPlan
    from kfinstall.release.pins import Pins


def build_plan(options: UpOptions) -> tuple[InstallPlan, Pins]:
    install, pins, _ = plan_with_reason(options)
    return install, pins


def plan_with_reason(options: UpOptions) -> tuple[InstallPlan, Pins, str | None]:
    """The plan, the pins, and why its release was chosen (None when `-k` named it)."""
    from kfinstall.checks.prerequisites import release_choice
    from kfinstall.release.pins import load_pins

    pins = load_pins(options.pins)
    choice = release_choice(pins, options.kubeflow_version, options.context)
    return make_plan(options, choice.release), pins, choice.reason


def plan(options: UpOptions, *, json_output: bool = False) -> None:
    """Print what `up` would do; change nothing."""
    install, _, reason = plan_with_reason(options)
    if json_output:
        print(json.dumps({**install.as_dict(), "release_reason": reason}, indent=2))
        return
    _render_plan(install, reason)


def _render_plan(install: InstallPlan, reason: str | None = None) -> None:
    from rich.console import Console

    from kfinstall.minikube import cluster

    console = Console(highlight=False, soft_wrap=True)
    release = install.release
    console.print(f"[bold]Kubeflow {release.tag}[/], profile {install.profile}")
    if reason:
        console.print(f"  release:   {reason}")
    console.print(f"  manifests: {install.repo_url} at {release.commit}")
    if install.cluster is not None:
        console.print("  cluster:   minikube " + " ".join(cluster.start_args(install.cluster)))
        if install.cluster.container_runtime:
            needs = " and ".join(install.cluster.container_runtime_for)
            console.print(f"  runtime:   {install.cluster.container_runtime}, needed by {needs}")
    else:
        console.print(f"  cluster:   existing context {install.context!r} (no minikube)")
    console.print(f"\n[bold]{len(install.selection.components)} components[/], in install order:")
    for index, component in enumerate(install.selection.components, 1):
        variant = f" [cyan]({component.variant})[/]" if component.variant else ""
        after = f" · after {', '.join(component.depends_on)}" if component.depends_on else ""
        console.print(f" {index:>2}. [bold]{component.id}[/]{variant}  [dim]{component.reason}{after}[/]")
        for path in component.paths:
            console.print(f"       {path}")
    for note in install.selection.notes:
        console.print(f"[yellow]![/] {note}")
    _render_images(install, console)


def _render_images(install: InstallPlan, console: Console) -> None:
    """The image substitutions of the selected components, and the images at risk (both from the pins)."""
    ids = install.selection.ids
    substitutions = install.release.substitutions_for(ids)
    if substitutions:
        console.print(f"\n[bold]{len(substitutions)} image substitution(s)[/] (images the registries deleted):")
        for sub in substitutions:
            where = ", ".join(c for c in sub.components if c in ids)
            console.print(f"  {sub.image} → {sub.replacement}  [dim]{where}[/]")
            console.print(f"       [dim]{sub.reason} ({sub.source})[/]")
    for risk in install.release.images_at_risk_for(ids):
        where = ", ".join(c for c in risk.components if c in ids)
        console.print(f"[yellow]![/] image at risk: {risk.image} ({where}): {risk.note} [dim]({risk.source})[/]")


def up(options: UpOptions, *, json_output: bool = False, verbose: bool = False) -> None:
    """Run `up` with a live display (or JSON lines), then say how to reach the dashboard."""
    from rich.console import Console

    from kfinstall.ui.progress import Display, JsonLines

    install, pins, reason = plan_with_reason(options)  # a bad input stops here: no log, no cache, no cluster change
    from kfinstall.locks import wait_limit

    wait_limit()  # a KFINSTALL_LOCK_TIMEOUT that is not seconds is bad input too
    if install.cluster is None:
        from kfinstall.minikube import cluster

        if not cluster.context_exists(install.context):
            from kfinstall.errors import UsageError

            raise UsageError(
                f"kubeconfig context {install.context!r} does not exist", "list them with `kubectl config get-contexts`"
            )
    if options.manifests_dir is not None:
        from kfinstall.manifests import checkout

        checkout.use_local_dir(options.manifests_dir, [p for c in install.selection.components for p in c.paths])
    log_path = logfile.start_log("up")
    console = Console(stderr=True, highlight=False)
    if verbose:
        runner.set_echo(lambda line: console.print(f"[dim]{line}[/]", soft_wrap=True))
    if not options.skip_checks:
        _check_prerequisites(install, options, pins, json_output=json_output, reason=reason)
    display = JsonLines() if json_output else Display()
    display(Event("step", f"Kubeflow {install.release.tag}, profile {install.profile}: "
                          f"{len(install.selection.components)} components"))  # fmt: skip
    if reason:
        display(Event("step", f"release: {reason}"))
    for note in install.selection.notes:
        display(Event("note", note))
    for sub in install.release.substitutions_for(install.selection.ids):
        served = f"image {sub.image} → {sub.replacement}: the registry no longer serves it"
        display(Event("note", f"{served} ({sub.source})"))
    for risk in install.release.images_at_risk_for(install.selection.ids):
        display(Event("note", f"image at risk: {risk.image} ({', '.join(risk.components)}): {risk.note}"))
    try:
        result = run_up(install, options, display, on_components=display.start_components)
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


def _check_prerequisites(
    install: InstallPlan, options: UpOptions, pins: Pins, *, json_output: bool, reason: str | None = None
) -> None:
    """Step 1 of `up`: the same checks as `kfinstall check`; stop before touching anything if one fails."""
    from rich.console import Console

    from kfinstall.checks import prerequisites
    from kfinstall.ui import tables

    request = prerequisites.CheckRequest(
        release=install.release,
        profile=install.profile,
        cpus=options.cpus,
        memory_mb=options.memory_mb,
        k8s_version=options.k8s_version,
        driver=options.driver,
        gpus=options.gpus,
        context=options.context,
        pins=pins,
        choice_reason=reason,
    )
    results = prerequisites.run_checks(request)
    failures = prerequisites.failed(results)
    console = Console(stderr=True, highlight=False, soft_wrap=True)
    if failures:
        if not json_output:
            tables.print_checks(install.release, install.profile, results, console, reason)
        raise KfError(
            f"{len(failures)} prerequisite check(s) failed: " + "; ".join(f.name for f in failures),
            "fix what the table above says (or see `kfinstall check`); --skip-checks goes ahead anyway",
        )
    warnings = [result for result in results if result.status == "warn"]
    if not json_output:
        console.print(f" [green]✓[/] prerequisites: {len(results) - len(warnings)} ok, {len(warnings)} warning(s)")
        for warning in warnings:
            console.print(f"   [yellow]![/] {warning.name}: {warning.message}")


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
