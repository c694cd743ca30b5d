"""The requests table of `plan`: each component's CPU, memory and storage, the total, what it is judged against."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kfinstall.checks import fit
from kfinstall.checks.fit import NOT_COUNTED
from kfinstall.minikube.units import format_mb
from kfinstall.ui.words import count

if TYPE_CHECKING:
    from rich.console import Console

    from kfinstall.install.sizing import Sizing
    from kfinstall.manifests.measure import Proxies


def _storage(amount: float) -> str:
    return fit.memory_text(amount) if amount else "-"


def proxies_text(proxies: Proxies) -> str:
    each = f"{fit.cpu_text(proxies.each.cpu)} CPU, {fit.memory_text(proxies.each.memory)}"
    return (
        f"counted: the proxy Istio injects into {count(proxies.pods, 'pod')} ({each} each, as the release's "
        "istio-sidecar-injector sets it; a pod may set its own)"
    )


def show(sizing: Sizing, console: Console) -> None:
    pinned = sizing.pinned
    size = f"{pinned.cpus} CPUs, {format_mb(pinned.memory_mb)}"
    source = pinned.source.split(". ")[0].rstrip(".")  # its first sentence (`--json` has it all)
    pinned_line = f"  minikube's default size: {size} (pinned: {source})"
    demand = sizing.demand
    if demand is None:
        console.print(f"\n[bold]Requests[/]: not measured ({sizing.why})")
        console.print(pinned_line)
        return
    console.print("\n[bold]Requests[/] (what the pods ask the scheduler for):")
    console.print(f"  {demand.source}")
    width = max(len("component"), *(len(c) for c in [*demand.by_component, *demand.not_measured]))
    console.print(f"  {'component':<{width}}  {'CPU':>7}  {'memory':>9}  {'storage':>9}")
    rows = [*demand.by_component.items(), ("total", demand.total)]
    for name, requests in rows:
        if name == "total":  # the components without a figure, which the total leaves out
            for unmeasured in demand.not_measured:
                console.print(f"  {unmeasured:<{width}}  {'?':>7}  {'?':>9}  {'?':>9}")
        cpu = fit.cpu_text(requests.cpu) if requests.cpu else "-"
        memory = fit.memory_text(requests.memory) if requests.memory else "-"
        line = f"  {name:<{width}}  {cpu:>7}  {memory:>9}  {_storage(requests.storage):>9}"
        console.print(f"[bold]{line}[/]" if name == "total" else line)
    if sizing.capacity is None:
        console.print("  judged against: nothing (the cluster's nodes and pods could not be read)")
    else:
        verdict = "[green]fits[/]" if sizing.fits else "[red]does not fit[/]"
        if sizing.fits and demand.not_measured:
            verdict += " (what was measured)"
        alternative = sizing.alternative
        more = f"; {alternative} fits" if alternative else ""
        console.print(f"  judged against: {sizing.capacity.what}: {verdict}{more}")
    console.print(pinned_line)
    unmeasured = fit.not_measured_text(demand)
    if unmeasured:
        console.print(f"  [yellow]{unmeasured}[/]")
    if sizing.proxies is not None and sizing.proxies.pods:
        console.print(f"  [dim]{proxies_text(sizing.proxies)}[/]")
    console.print(f"  [dim]{NOT_COUNTED}; storage is not judged (minikube's hostpath volumes share its disk)[/]")
