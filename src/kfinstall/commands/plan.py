"""`kfinstall plan` (and `up --dry-run`): what `up` would do, changing nothing.

The release and why it was chosen, the manifests, the minikube command, the components in install order with
their reasons, the image substitutions and images at risk, and the steps `up` runs (`install/steps.py`
`steps`: the same list `up` carries out, so what is printed is what `up` does).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from kfinstall.commands.options import plan_for
from kfinstall.install.steps import steps
from kfinstall.install.up import UpOptions

if TYPE_CHECKING:
    from rich.console import Console

    from kfinstall.install.steps import Step
    from kfinstall.install.up import InstallPlan


def plan(options: UpOptions, *, json_output: bool = False) -> None:
    """Print what `up` would do; change nothing."""
    install, _, reason = plan_for(options)
    todo = steps(install, options)
    if json_output:
        document = {**install.as_dict(), "release_reason": reason}
        document["steps"] = [{"name": step.name, "description": step.description} for step in todo]
        print(json.dumps(document, indent=2))
        return
    _render_plan(install, todo, reason)


def _render_plan(install: InstallPlan, todo: list[Step], reason: str | None = None) -> None:
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
