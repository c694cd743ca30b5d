"""How `kfinstall status` looks: one screen built from a StatusReport, printed once or refreshed in place.

`screen()` is pure (report in, Rich-markup lines out) so what the user reads is unit-tested without a cluster;
`watch()` only re-collects and re-renders until everything is ready.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from kfinstall.minikube.units import format_mb
from kfinstall.ui.messages import hint_line
from kfinstall.ui.words import plural, workloads

if TYPE_CHECKING:
    from rich.console import Console

    from kfinstall.commands.status import StatusQuery, StatusReport
    from kfinstall.kube.health import NodeUsage

_ICONS = {"ready": "[green]✓[/]", "progressing": "[yellow]…[/]", "failing": "[red]✗[/]", "not installed": "[dim]-[/]"}
_STATE_STYLE = {"ready": "green", "progressing": "yellow", "failing": "red", "not installed": "dim"}
#: At most this many failing pods per component on screen (`--json` has them all).
_MAX_PODS = 3


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)


def cluster_line(report: StatusReport) -> str:
    where = (
        f"minikube profile {report.minikube_profile!r}" if report.minikube_profile else f"context {report.context!r}"
    )
    state = report.cluster_state if report.cluster_state != "external" else "reachable"
    style = "green" if report.cluster_state in ("running", "external") else "red"
    parts = [f"{where}: [{style}]{state}[/]"]
    if report.kubernetes_version:
        parts.append(f"Kubernetes {report.kubernetes_version}")
    parts.extend(_node_text(node) for node in report.nodes)
    return "[bold]Cluster[/]    " + " · ".join(parts)


def _node_text(node: NodeUsage) -> str:
    memory = format_mb(int(node.memory_requested / 2**20)), format_mb(int(node.memory_capacity / 2**20))
    text = f"CPU {node.cpu_requested:.1f}/{node.cpu_capacity:g} requested · memory {memory[0]}/{memory[1]} requested"
    if node.gpus_allocatable or node.gpus_in_use:
        holders = f" ({', '.join(node.gpu_pods)})" if node.gpu_pods else ""
        text += f" · GPUs {node.gpus_in_use}/{node.gpus_allocatable} in use{holders}"
    return text


def install_lines(report: StatusReport) -> list[str]:
    from kfinstall.manifests.login import DEFAULT_LOGIN

    record = report.record
    if record is None:
        return []
    commit = f" (commit {record.commit[:12]})" if record.commit else ""
    when = (
        f"installed {record.finished_at}"
        if record.finished_at
        else f"[yellow]`kfinstall up` started {record.started_at} has not finished[/]"
    )
    lines = [
        f"[bold]Kubeflow[/]   {record.release}{commit} · profile {record.profile} · {when} · "
        f"kfinstall {record.kfinstall_version}"
    ]
    if report.newer is not None:
        lines.append(f"  ! Kubeflow {report.newer} is newer: `kfinstall plan -k {report.newer}` shows the upgrade, "
                     f"`kfinstall up -k {report.newer}` upgrades in place (README: Upgrading)")  # fmt: skip
    if record.default_password:
        email, password = DEFAULT_LOGIN
        lines.append(
            f"  [yellow]! the default login {email} / {password} is in use: change it before you share this "
            "machine or expose the port[/]"
        )
    return lines


def component_lines(report: StatusReport) -> list[str]:
    if not report.components:
        return []
    width = max(len(c.id) for c in report.components)
    lines = []
    for component in report.components:
        counts = workloads(component.ready, component.total)  # the same words as `up`'s rows: `3/3 workloads`
        style = _STATE_STYLE.get(component.state, "")
        lines.append(
            f"  {_ICONS.get(component.state, ' ')} {component.id:<{width}}  {counts:<13}  [{style}]{component.state}[/]"
        )
        shown: set[str] = set()
        for problem in component.problems[:_MAX_PODS]:  # each pod's problem, and its hint unless said above
            lines.append(f"      [red]{_escape(str(problem))}[/]")
            if problem.hint and problem.hint not in shown:
                shown.add(problem.hint)
                lines.append(f"        {hint_line(problem.hint)}")
        if len(component.problems) > _MAX_PODS:
            rest = [hint for hint in component.hints if hint not in shown]
            more = f"; their hints: {'; '.join(rest)}" if rest else ""
            lines.append(f"      … and {len(component.problems) - _MAX_PODS} more pods (see --json){_escape(more)}")
        if component.state != "ready" and component.hint and not component.problems:
            lines.append(f"      {hint_line(component.hint)}")
    return lines


def summary_line(report: StatusReport) -> str:
    if report.record_problem is not None:
        return f"[red]{_escape(report.message)}[/]\n" + hint_line(
            "`kfinstall up` re-applies every component and writes a new record; `kfinstall down --keep-cluster` "
            "removes what kfinstall labelled and keeps the cluster"
        )
    if report.record is None:
        return f"[red]{_escape(report.message)}[/]" if report.message else ""
    waiting = [c for c in report.components if c.state != "ready"]
    if not waiting and not report.incomplete:
        return f"[bold green]All {len(report.components)} components are ready.[/]"
    text = (
        f"[bold yellow]{len(waiting)} of {len(report.components)} components {plural(len(waiting), 'is')} not ready.[/]"
    )
    if report.incomplete:
        text += " Run the same `kfinstall up` again to finish the install."
    return text


def screen(report: StatusReport) -> list[str]:
    """The whole status screen as Rich-markup lines."""
    lines = [cluster_line(report), *install_lines(report)]
    components = component_lines(report)
    if components:
        lines += ["", *components]
    summary = summary_line(report)
    if summary:
        lines += ["", summary]
    return lines


def show(report: StatusReport, console: Console) -> None:
    for line in screen(report):
        console.print(line)


#: States of a cluster that answered earlier in the same watch and now does not: an API server restart (minikube
#: reports `APIServer: Stopped` while it restarts, kubectl `connection refused`), which the watch waits out.
_BLIP_STATES = ("stopped", "unreachable")
#: A cluster not answering for this long is no blip: the watch ends with the unreachable screen (exit 2).
GIVE_UP_AFTER = 300.0


class _Watcher:
    """Re-collects, and keeps the last good screen through a blip: a cluster that answered in this watch and now
    does not (`_BLIP_STATES`) is shown as that screen plus `cluster not answering since HH:MM:SS`, never as the
    raw error, until it answers again or `give_up_after` seconds have passed."""

    def __init__(self, collect: Callable[[StatusQuery], StatusReport], query: StatusQuery, give_up_after: float):
        self.collect = collect
        self.query = query
        self.give_up_after = give_up_after
        self.good: StatusReport | None = None
        self.down_since: float | None = None  # time.time() of the first failed collect of this blip
        self.down_why = ""

    def next(self) -> StatusReport:
        report = self.collect(self.query)
        if report.cluster_state in ("running", "external"):
            self.good, self.down_since = report, None
            return report
        if self.good is None or report.cluster_state not in _BLIP_STATES:
            return report  # never answered in this watch, or gone for good (the profile deleted): say so and end
        if self.down_since is None:
            self.down_since = time.time()
        self.down_why = _first_line(report.message) or report.cluster_state
        if time.time() - self.down_since > self.give_up_after:
            self.down_since = None  # no blip: the watch ends on this report
            return report
        return self.good

    def lines(self, report: StatusReport) -> list[str]:
        lines = screen(report)
        if self.down_since is not None and report is self.good:
            since = time.strftime("%H:%M:%S", time.localtime(self.down_since))
            lines += ["", f"[bold red]cluster not answering since {since}[/] [dim]({_escape(self.down_why)}); "
                          "still watching[/]"]  # fmt: skip
        return lines

    @property
    def blipping(self) -> bool:
        return self.down_since is not None


def _first_line(text: str, limit: int = 160) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line if len(line) <= limit else line[: limit - 1] + "…"


def watch(
    query: StatusQuery,
    console: Console,
    collect: Callable[[StatusQuery], StatusReport],
    interval: float = 2.0,
    give_up_after: float = GIVE_UP_AFTER,
    on_report: Callable[[StatusReport], None] | None = None,
) -> StatusReport:
    """Refresh the screen until every component is ready (or nothing is installed); Ctrl-C ends it.

    `on_report` is told each report as it is shown: after a Ctrl-C (a KeyboardInterrupt out of here) the caller
    knows the last state on screen, and exits with its code.

    On a terminal the screen is redrawn in place; elsewhere (a log, CI) a new screen is printed only when it
    changed, so the output stays readable. A cluster that stops answering for a while (an API server restart,
    a laptop resuming) keeps the last screen with the time it stopped answering, and the watch goes on.
    """
    from rich.live import Live
    from rich.text import Text

    watcher = _Watcher(collect, query, give_up_after)
    if on_report is not None:
        on_report_given = on_report

        def next_report() -> StatusReport:
            report = watcher.next()
            on_report_given(report)
            return report
    else:
        next_report = watcher.next

    def render(report: StatusReport) -> Text:
        stamp = time.strftime("%H:%M:%S")
        return Text.from_markup("\n".join([*watcher.lines(report), f"[dim]{stamp} · refreshing every {interval:g}s, "
                                                                    "Ctrl-C to stop[/]"]))  # fmt: skip

    def done(report: StatusReport) -> bool:
        return not report.not_ready and not watcher.blipping

    report = next_report()
    if not console.is_terminal:
        previous: list[str] = []
        while True:
            current = watcher.lines(report)
            if current != previous:
                if previous:
                    console.print()
                for line in current:
                    console.print(line)
                previous = current
            if done(report):
                return report
            time.sleep(interval)
            report = next_report()
    with Live(render(report), console=console, auto_refresh=False) as live:
        while not done(report):
            time.sleep(interval)
            report = next_report()
            live.update(render(report), refresh=True)
        live.update(Text.from_markup("\n".join(screen(report))), refresh=True)
    return report
