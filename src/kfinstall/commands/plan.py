"""`kfinstall plan` (and `up --dry-run`): what `up` would do, changing nothing.

The release and why it was chosen, the manifests, the minikube command, the components in install order with
their reasons, the image substitutions and images at risk, and the steps `up` runs (`install/steps.py`
`steps`: the same list `up` carries out, so what is printed is what `up` does).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kfinstall.commands.frame import Command
from kfinstall.install.steps import steps

if TYPE_CHECKING:
    from rich.console import Console

    from kfinstall.install.sizing import Sizing
    from kfinstall.install.steps import Step
    from kfinstall.install.up import InstallPlan, UpOptions
    from kfinstall.install.upgrade import UpgradePlan
    from kfinstall.ui.messages import Voice


@dataclass(frozen=True)
class Plan:
    install: InstallPlan
    todo: list[Step]
    reason: str | None
    sizing: Sizing | None = None
    options: UpOptions | None = None
    #: For an upgrade: what it would prune and replace (commands/upgrade.py, install/upgrade_steps.preview).
    upgrade_plan: UpgradePlan | None = None


def prepare(
    *, password_file: Path | None = None, password_stdin: bool = False, email: str | None = None, **values: Any
) -> Plan:
    """The plan of `up` for these options, by `up`'s own rules (`up --dry-run` reads its password options too,
    never prompting: a plan changes nothing)."""
    from kfinstall.commands.options import plan_continuing, read_login, refuse_incompatible
    from kfinstall.install.sizing import plan_sizing, refuse_too_small

    login = None
    if password_file is not None or password_stdin or email is not None:
        login = read_login(password_file, password_stdin, email, prompt=False)
    options, install, pins, reason, existing = plan_continuing(values, login)  # `up` continues a profile: so does plan
    from kfinstall.commands import upgrade

    install = upgrade.detect(install, existing, pins)  # another release, or fewer components: an upgrade
    refuse_incompatible(install, existing)  # what `up` refuses before anything runs, plan refuses too
    sizing = plan_sizing(install, existing.state if existing is not None else None)
    refuse_too_small(sizing)
    return Plan(install, steps(install, options), reason, sizing, options)


def plan(request: Plan, say: Voice) -> Plan:
    """Everything is decided in `prepare`; an upgrade also builds the new release to list what it prunes."""
    if request.install.upgrade is None or request.options is None:
        return request
    from dataclasses import replace

    from kfinstall.install.upgrade_steps import preview

    return replace(request, upgrade_plan=preview(request.install, request.options, say.step))


def as_json(result: Plan) -> dict[str, Any]:
    document = {**result.install.as_dict(), "release_reason": result.reason}
    document["requests"] = result.sizing.as_dict() if result.sizing is not None else None
    document["steps"] = [{"name": step.name, "description": step.description} for step in result.todo]
    if result.upgrade_plan is not None:
        document["upgrade_plan"] = result.upgrade_plan.as_dict()
    return document


def show(result: Plan) -> None:
    _render_plan(result.install, result.todo, result.reason, result.sizing, result.upgrade_plan)


def _render_plan(
    install: InstallPlan,
    todo: list[Step],
    reason: str | None = None,
    sizing: Sizing | None = None,
    upgrade_plan: UpgradePlan | None = None,
) -> None:
    from kfinstall.minikube import cluster
    from kfinstall.ui import output

    console = output.stdout(soft_wrap=True)
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
        served = set(component.after_served)
        edges = [f"{dep} (served)" if dep in served else dep for dep in component.depends_on]
        after = f" · after {', '.join(edges)}" if edges else ""
        console.print(f" {index:>2}. [bold]{component.id}[/]{variant}  [dim]{component.reason}{after}[/]")
        for path in component.paths:
            console.print(f"       {path}")
    for note in install.selection.notes:
        console.print(f"[yellow]![/] {note}")
    _render_images(install, console)
    if sizing is not None:
        from kfinstall.ui import sizing as sizing_table

        sizing_table.show(sizing, console)
    if install.upgrade is not None:
        from kfinstall.ui.upgrade_plan import render_upgrade

        render_upgrade(install.upgrade, upgrade_plan, console)
    _render_steps(todo, console)


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


def _render_steps(todo: list[Step], console: Console) -> None:
    """The steps of `up`, numbered, as `steps` lists them."""
    console.print(f"\n[bold]Steps[/] of `kfinstall up` ({len(todo)}):")
    for index, step in enumerate(todo, 1):
        console.print(f" {index:>2}. [bold]{step.name}[/]  [dim]{step.description}[/]")


COMMAND = Command(log="plan", prepare=prepare, run=plan, show=show, json=as_json, progress="stdout")
