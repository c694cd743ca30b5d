"""`kfinstall status`: is my Kubeflow OK, and if not, why? A few kubectl calls, whatever the size of the install.

The facts come from one list of the workloads, nodes and pods across all namespaces, the install record and the
server's version, read concurrently, so `status` answers in about the time of one call; the scheduling and pull
events only when a component is not ready (they explain a pod, and cost two more calls). On a running minikube
profile `minikube status` alone says so; its saved settings (`minikube profile list`) are read only to explain
a profile that is not running.
"""

from __future__ import annotations

from collections.abc import Collection
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from kfinstall.commands.frame import Command
from kfinstall.errors import EXIT_NOT_INSTALLED, KfError, ToolNotFoundError
from kfinstall.kube import health
from kfinstall.kube import record as install_record
from kfinstall.kube.kubectl import Kubectl
from kfinstall.manifests.objects import COMPONENT_LABEL
from kfinstall.minikube import cluster

if TYPE_CHECKING:
    from kfinstall.ui.messages import Voice

#: Exit codes: all ready; something not ready; nothing installed or no cluster (errors.py: not the usage code).
EXIT_READY, EXIT_NOT_READY, EXIT_NOTHING = 0, 1, EXIT_NOT_INSTALLED


@dataclass(frozen=True)
class StatusReport:
    cluster_state: str  # running | stopped | paused | missing | unreachable | external
    context: str
    kubernetes_version: str | None = None
    record: install_record.InstallRecord | None = None
    components: tuple[health.ComponentHealth, ...] = ()
    nodes: tuple[health.NodeUsage, ...] = ()
    message: str = ""
    minikube_profile: str | None = None
    #: Why the install record on the cluster cannot be read (then `components` come from the labels alone).
    record_problem: str | None = None
    #: The newest pinned release when it is newer than the one installed (`kfinstall up -k NEWER` upgrades).
    newer: str | None = None

    @property
    def incomplete(self) -> bool:
        """`up` has not finished (still running, or interrupted): components may be missing from the record."""
        return self.record is not None and self.record.finished_at is None

    @property
    def exit_code(self) -> int:
        if self.cluster_state not in ("running", "external"):
            return EXIT_NOTHING
        if self.record_problem is not None:
            return EXIT_NOT_READY  # something is installed, but what exactly only a re-run of `up` can re-establish
        if self.record is None:
            return EXIT_NOTHING
        ready = all(c.state == "ready" for c in self.components) and not self.incomplete
        return EXIT_READY if ready else EXIT_NOT_READY

    @property
    def not_ready(self) -> bool:
        """Installed but not (yet) all ready: what `status --watch` keeps watching."""
        return self.exit_code == EXIT_NOT_READY

    def as_dict(self) -> dict[str, Any]:
        return {
            "cluster": {
                "state": self.cluster_state,
                "context": self.context,
                "minikube_profile": self.minikube_profile,
                "kubernetes": self.kubernetes_version,
            },
            "install": None if self.record is None else {**asdict(self.record), "incomplete": self.incomplete},
            "record_problem": self.record_problem,
            "newer_release": self.newer,
            "components": [
                {
                    "id": c.id,
                    "state": c.state,
                    "ready": c.ready,
                    "total": c.total,
                    "problems": [asdict(problem) for problem in c.problems],
                    "hint": c.hint,
                }
                for c in self.components
            ],
            "nodes": [asdict(node) for node in self.nodes],
            "ok": self.exit_code == EXIT_READY,
            "exit_code": self.exit_code,
            "message": self.message,
        }


@dataclass(frozen=True)
class StatusQuery:
    context: str | None
    minikube_profile: str | None = field(default=None)


#: One list for the component workloads, the nodes and the pods: one kubectl process instead of two (the
#: workloads are told apart by their component label here, not by a `-l` selector).
_LISTED = "deployments.apps,statefulsets.apps,daemonsets.apps,nodes,pods"


def collect(query: StatusQuery) -> StatusReport:
    """Gather everything `status` shows: one minikube question, then three concurrent kubectl calls, and the
    cluster's events (two more) only when a component is not ready and they may say why."""
    context = query.context or query.minikube_profile or "kubeflow"
    profile_name = None if query.context else (query.minikube_profile or "kubeflow")
    if profile_name is not None:
        try:
            state = cluster.machine_state(profile_name)
        except ToolNotFoundError as error:
            return StatusReport("missing", context, message=f"{error.message}: no minikube cluster to look at")
        if state != "running":  # only now the profile's settings: its Kubernetes, for the message
            profile = cluster.with_config(profile_name, state) if state != "missing" else cluster.ProfileState(state)
            return StatusReport(
                profile.status,
                context,
                profile.kubernetes_version and cluster.kubernetes_version_text(profile.kubernetes_version),
                message=_cluster_message(profile, profile_name),
                minikube_profile=profile_name,
            )
        cluster_state = "running"
    else:
        cluster_state = "external"
    kubectl = Kubectl(context)
    with ThreadPoolExecutor(max_workers=3) as pool:
        listed_call = pool.submit(kubectl.items, _LISTED, "-A")
        record_call = pool.submit(install_record.read_lenient, kubectl)
        version_call = pool.submit(kubectl.run, "version", "-o", "json", timeout=30)
        try:
            listed = listed_call.result()
            reading = record_call.result()
        except KfError as error:
            return StatusReport("unreachable", context, message=error.message, minikube_profile=profile_name)
        version = version_call.result()
    workloads = [item for item in listed if (item.get("metadata", {}).get("labels") or {}).get(COMPONENT_LABEL)
                 and item.get("kind") not in ("Node", "Pod")]  # fmt: skip
    pods_and_nodes = [item for item in listed if item.get("kind") in ("Node", "Pod")]
    nodes = [item for item in pods_and_nodes if item.get("kind") == "Node"]
    pods = [item for item in pods_and_nodes if item.get("kind") == "Pod"]

    def health_of(ids: list[str], applied: Collection[str] = ()) -> list[health.ComponentHealth]:
        """Without events first; a component not ready is judged again with the events that may say why."""
        components = health.component_health(ids, workloads, pods, None, applied=applied)
        if all(c.state == "ready" for c in components):
            return components
        return health.component_health(ids, workloads, pods, _events(kubectl), applied=applied)

    server_version = _server_version(version.stdout) if version.ok else None
    usage = tuple(health.node_usage(nodes, pods))
    record = reading.record
    if reading.problem is not None:  # show what the labels tell: the components and their health, no record facts
        ids = sorted({(w.get("metadata", {}).get("labels") or {}).get(COMPONENT_LABEL, "") for w in workloads} - {""})
        components = health_of(ids)
        return StatusReport(
            cluster_state,
            context,
            server_version,
            None,
            tuple(components),
            usage,
            message=(
                f"the install record (ConfigMap {install_record.NAMESPACE}/{install_record.NAME}) is unreadable: "
                f"{reading.problem}"
            ),
            minikube_profile=profile_name,
            record_problem=reading.problem,
        )
    if record is None:
        return StatusReport(
            cluster_state,
            context,
            server_version,
            nodes=usage,
            message="Kubeflow is not installed on this cluster: run `kfinstall up`",
            minikube_profile=profile_name,
        )
    ids = list(record.components)
    components = health_of(ids, record.components)
    return StatusReport(
        cluster_state, context, server_version, record, tuple(components), usage, minikube_profile=profile_name,
        newer=newer_release(record.upgrading_from or record.release),
    )  # fmt: skip


def newer_release(installed: str) -> str | None:
    """The newest release of the shipped pins, when it is newer than `installed` (None: none, or `installed` is not
    a shipped release: one of another pins file, `up --pins`, is upgraded with that file)."""
    from kfinstall.release.pins import load_pins, release_order

    try:
        pins = load_pins()
        if installed not in pins.tags:
            return None
        newest = pins.newest
        return newest.tag if newest.order > release_order(installed) else None
    except (KfError, ValueError):
        return None


def _events(kubectl: Kubectl) -> list[dict[str, Any]]:
    """The events that explain a pod: the scheduler's (its message is on the pod's PodScheduled condition; the
    event is the fallback) and the kubelet's `Failed to pull image "X": ...` (before 1.32 not in the back-off
    message)."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        calls = [pool.submit(kubectl.run, "get", "events", "-A", "--field-selector", f"reason={reason}", "-o", "json",
                             timeout=30) for reason in ("FailedScheduling", "Failed")]  # fmt: skip
        return [item for call in calls for item in _items(call.result())]


def _items(result: Any) -> list[dict[str, Any]]:
    import json

    if not result.ok or not result.stdout.strip():
        return []
    try:
        return list(json.loads(result.stdout).get("items") or [])
    except ValueError:
        return []


def _server_version(text: str) -> str | None:
    import json

    try:
        return (json.loads(text).get("serverVersion") or {}).get("gitVersion")
    except ValueError:
        return None


def _cluster_message(state: cluster.ProfileState, profile: str) -> str:
    """What `up` will do with the profile: create it, or start it and continue what it holds."""
    from kfinstall.commands.options import Existing, remembered, start_hint

    if state.status == "missing":
        return f"there is no minikube profile {profile!r}: {start_hint(profile)}"
    if state.status == "paused":
        return f"minikube profile {profile!r} is paused: `minikube unpause -p {profile}` resumes it as it was"
    existing = Existing(state, remembered(profile, state))
    return f"minikube profile {profile!r} is {state.status}: {start_hint(profile, existing)}"


# the command ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StatusRequest:
    query: StatusQuery
    #: Refresh every `interval` seconds until all is ready (not with `--json`: one report).
    watch: bool = False
    interval: float = 2.0


@dataclass(frozen=True)
class Status:
    """The last report; `shown` when the watch already put it on the screen; `stopped` when Ctrl-C ended the watch.

    A stopped watch exits with the code of the last report it showed, as `status` would: 0 all ready, 1 not ready,
    2 nothing installed (no report yet: 2 as well, nothing was seen to be installed)."""

    report: StatusReport | None
    shown: bool = False
    stopped: bool = False

    @property
    def exit_code(self) -> int:
        return EXIT_NOTHING if self.report is None else self.report.exit_code


def prepare(*, minikube_profile: str, context: str | None, watch: bool, interval: float, json: bool) -> StatusRequest:
    if watch:
        from kfinstall.minikube.units import check_seconds

        check_seconds(interval, "--interval", at_least=0.1)
    return StatusRequest(StatusQuery(context=context, minikube_profile=minikube_profile), watch and not json, interval)


def status(request: StatusRequest, say: Voice) -> Status:
    """One report, or (`--watch`) the screen refreshed until everything is ready or Ctrl-C."""
    if not request.watch:
        return Status(collect(request.query))
    from kfinstall.ui import output, status_screen

    seen: list[StatusReport] = []
    try:
        return Status(
            status_screen.watch(
                request.query, output.stdout(soft_wrap=True), collect, request.interval, on_report=seen.append
            ),
            True,
        )
    except KeyboardInterrupt:
        stopped = Status(seen[-1] if seen else None, True, stopped=True)
        say.step(f"stopped watching: {_state_words(stopped.report)} (exit code {stopped.exit_code})")
        return stopped


def _state_words(report: StatusReport | None) -> str:
    """The last state the watch showed, in a few words, for the line a Ctrl-C leaves."""
    if report is None or report.exit_code == EXIT_NOTHING:
        return "nothing installed seen yet" if report is None else "nothing installed"
    if report.exit_code == EXIT_READY:
        return "every component is ready"
    from kfinstall.ui.words import count

    return f"{count(sum(c.state != 'ready' for c in report.components), 'component')} not ready"


def show(result: Status) -> None:
    if result.report is not None and not result.shown:
        from kfinstall.ui import output, status_screen

        status_screen.show(result.report, output.stdout(soft_wrap=True))


def as_json(result: Status) -> dict[str, Any]:
    assert result.report is not None  # --json never watches
    return result.report.as_dict()


COMMAND = Command(log="status", prepare=prepare, run=status, show=show, json=as_json)
